/**
 * @file compile.h
 * @brief Compiling a network for a machine in memory: the mapping library (s2/mapper.h) run
 * whole and its image (docs/image.md) built straight into a load plan (s2/plan.h), with no
 * file in between (compile.c). `s2ctl compile` writes the same image to a file.
 */
#ifndef S2_COMPILE_H
#define S2_COMPILE_H

#include <stddef.h>

#include "s2/mapper.h"
#include "s2/network.h"
#include "s2/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Map n onto m (partition, place, keys, route, tables, verify) and build its image as a
 * plan, in memory.
 * @param n   the network (not kept)
 * @param m   the machine (not kept; s2_session_machine() for a session's)
 * @param cfg mapping options; NULL: defaults
 * @param out the plan, owned by the caller (s2_plan_free; or give it to
 *            s2_deployment_new); NULL on failure
 * @return 0; S2_E_RANGE / S2_E_NOSPACE / S2_E_FORMAT: the network cannot be mapped onto
 *         this machine or expressed in PE data (err says why); S2_E_IO: no anonymous
 *         memory file; S2_E_NOMEM.
 */
int s2_compile(const struct s2_net *n, const struct s2_machine *m, const struct s2_map_config *cfg,
               struct s2_plan **out, char *err, size_t errlen);

/**
 * s2_compile() of a network in its JSON form (docs/network.md), text of len bytes (not
 * kept). @return as s2_compile(), and S2_E_FORMAT for JSON that does not parse or describe
 * a network (err names the item).
 */
int s2_compile_json(const char *text, size_t len, const struct s2_machine *m,
                    const struct s2_map_config *cfg, struct s2_plan **out, char *err,
                    size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
