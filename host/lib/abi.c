/*
 * The sizes of the public structures, by name (s2_abi_sizeof, version.h): bindings that lay
 * the structures out themselves (the Python binding, python/libs2.py, with ctypes) check
 * their layout against the library they loaded.
 */
#include <string.h>

#include "s2/energy_record.h"
#include "s2/energy_report.h"
#include "s2/health.h"
#include "s2/mapper.h"
#include "s2/replay.h"
#include "s2/netbuild.h"
#include "s2/results.h"
#include "s2/run.h"
#include "s2/session.h"
#include "s2/version.h"

size_t s2_abi_sizeof(const char *name)
{
	static const struct {
		const char *name;
		size_t size;
	} t[] = {
	        {"s2_session_opts", sizeof(struct s2_session_opts)},
	        {"s2_run_callbacks", sizeof(struct s2_run_callbacks)},
	        {"s2_deploy_opts", sizeof(struct s2_deploy_opts)},
	        {"s2_run_opts", sizeof(struct s2_run_opts)},
	        {"s2_run_stats", sizeof(struct s2_run_stats)},
	        {"s2_bulk_stats", sizeof(struct s2_bulk_stats)},
	        {"s2_stream_stats", sizeof(struct s2_stream_stats)},
	        {"s2_spike", sizeof(struct s2_spike)},
	        {"s2_energy_sample", sizeof(struct s2_energy_sample)},
	        {"s2_run_event", sizeof(struct s2_run_event)},
	        {"s2_results", sizeof(struct s2_results)},
	        {"s2_results_pop", sizeof(struct s2_results_pop)},
	        {"s2_results_board", sizeof(struct s2_results_board)},
	        {"s2_results_spike", sizeof(struct s2_results_spike)},
	        {"s2_plan", sizeof(struct s2_plan)},
	        {"s2_plan_pop", sizeof(struct s2_plan_pop)},
	        {"s2_energy_report_opts", sizeof(struct s2_energy_report_opts)},
	        {"s2_energy_metric", sizeof(struct s2_energy_metric)},
	        {"s2_energy_figures", sizeof(struct s2_energy_figures)},
	        {"s2_energy_power", sizeof(struct s2_energy_power)},
	        {"s2_energy_chip", sizeof(struct s2_energy_chip)},
	        {"s2_energy_host", sizeof(struct s2_energy_host)},
	        {"s2_energy_record_info", sizeof(struct s2_energy_record_info)},
	        {"s2_board_health", sizeof(struct s2_board_health)},
	        {"s2_board_check", sizeof(struct s2_board_check)},
	        {"s2_replay_counts", sizeof(struct s2_replay_counts)},
	        {"s2_netb_dist", sizeof(struct s2_netb_dist)},
	        {"s2_map_config", sizeof(struct s2_map_config)},
	};
	for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(t[i].name, name))
			return t[i].size;
	return 0;
}
