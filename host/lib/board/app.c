/* Loading and running applications (app.h). */
#include "s2/app.h"

#include <stdlib.h>
#include <string.h>

#include "s2/error.h"
#include "s2/pedata.h"
#include "s2/wire.h"

#include "board_internal.h"

int s2_app_write_start(struct s2_conn *eth, struct s2_app_chip *chips, unsigned n,
                       struct s2_bulk_stats *st, struct s2_op *op)
{
	for (unsigned i = 0; i < n; i++) {
		struct s2_app_chip *c = &chips[i];
		uint64_t len = (uint64_t)c->n_rt * S2_RT_ENTRY_LEN;
		for (unsigned k = 0; k < c->n_pes; k++) {
			if (c->pes[k].len < S2_PEDATA_HDR_LEN || c->pes[k].len > S2_APP_BLOB_MAX)
				return S2_E_RANGE;
			len += (c->pes[k].len + 3u) & ~3u;
		}
		if (len > S2_APP_DATA_MAX)
			return S2_E_NOSPACE;
		c->region = calloc(1, len ? len : 1);
		c->blob_off = calloc(c->n_pes + 1, sizeof *c->blob_off);
		if (!c->region || !c->blob_off)
			return S2_E_NOMEM;
		c->region_len = (uint32_t)len;
		uint32_t off = c->n_rt * S2_RT_ENTRY_LEN;
		if (c->n_rt)
			memcpy(c->region, c->rt, off);
		for (unsigned k = 0; k < c->n_pes; k++) {
			struct s2_app_pe *p = &c->pes[k];
			/* The PE's rows go to its own DRAM area. */
			struct s2_app_area ar = s2_app_area(k, c->n_pes);
			s2_st32(p->pedata + 32, ar.rows);
			s2_st32(p->pedata + 36, ar.rows_size);
			memcpy(c->region + off, p->pedata, p->len);
			c->blob_off[k] = off;
			off += (p->len + 3u) & ~3u;
		}
		int rc;
		if (len && (rc = s2_bulk_write_start_ex(eth, c->chip, S2_PE_MONITOR, S2_MEM_DRAM,
		                                        S2_APP_DATA_ADDR, c->region, len, NULL, st,
		                                        op)) < 0)
			return rc;
	}
	return 0;
}

void s2_app_release(struct s2_app_chip *chips, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(chips[i].region);
		free(chips[i].blob_off);
		chips[i].region = NULL;
		chips[i].blob_off = NULL;
	}
}

int s2_app_activate_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          struct s2_op *op)
{
	for (unsigned i = 0; i < n; i++) {
		const struct s2_app_chip *c = &chips[i];
		uint8_t body[64];
		int len, rc;
		struct s2_msg_router_load rl = {S2_APP_DATA_ADDR, c->n_rt};
		len = s2_msg_router_load_encode(body, sizeof body, &rl);
		if (len < 0 ||
		    (rc = s2_simple_start(eth, S2_MSG_ROUTER_LOAD, c->chip, S2_PE_MONITOR, body,
		                          (size_t)len, NULL, 0, NULL, op)) < 0)
			return len < 0 ? len : rc;
		for (unsigned k = 0; k < c->n_pes; k++) {
			const struct s2_app_pe *p = &c->pes[k];
			if (!c->blob_off)
				return S2_E_STATE; /* s2_app_write_start first */
			struct s2_msg_app_load al = {.blob_addr = S2_APP_DATA_ADDR + c->blob_off[k],
			                             .blob_len = p->len,
			                             .rec_hdr = S2_REC_HDR_LEN};
			struct s2_app_area ar = s2_app_area(k, c->n_pes);
			for (int s = 0; s < 2; s++) {
				al.rec_addr[s] = ar.rec[s];
				al.rec_size[s] =
				        p->rec_size[s] > ar.rec_max ? ar.rec_max : p->rec_size[s];
			}
			len = s2_msg_app_load_encode(body, sizeof body, &al);
			if (len < 0 ||
			    (rc = s2_simple_start(eth, S2_MSG_APP_LOAD, c->chip, p->pe, body,
			                          (size_t)len, NULL, 0, NULL, op)) < 0)
				return len < 0 ? len : rc;
		}
	}
	return 0;
}

int s2_app_run_start(struct s2_conn *eth, uint32_t n_steps, uint32_t flags, struct s2_op *op)
{
	uint8_t body[16];
	struct s2_msg_app_run m = {n_steps, flags};
	int len = s2_msg_app_run_encode(body, sizeof body, &m);
	if (len < 0)
		return len;
	return s2_simple_start(eth, S2_MSG_APP_RUN, S2_ADDR_ANY, S2_PE_MONITOR, body, (size_t)len,
	                       NULL, 0, NULL, op);
}

static int status_decode(const uint8_t *p, size_t len, void *out, uint16_t chip)
{
	(void)chip;
	return s2_msg_app_status_decode(p, len, out);
}

int s2_app_status_start(struct s2_conn *eth, struct s2_msg_app_status *st, struct s2_op *op)
{
	struct s2_req_spec s = {.type = S2_MSG_APP_STATUS,
	                        .chip = S2_ADDR_ANY,
	                        .pe = S2_PE_MONITOR,
	                        .decode = status_decode,
	                        .out = st};
	return s2_req_start(eth, &s, op);
}

int s2_app_stop_start(struct s2_conn *eth, struct s2_op *op)
{
	return s2_simple_start(eth, S2_MSG_APP_STOP, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0, NULL, 0,
	                       NULL, op);
}

int s2_app_rec_head_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          unsigned s, struct s2_app_rec *out, struct s2_op *op)
{
	size_t k = 0;
	for (unsigned i = 0; i < n; i++)
		for (unsigned q = 0; q < chips[i].n_pes; q++, k++) {
			memset(&out[k], 0, sizeof out[k]);
			if (!chips[i].pes[q].rec_size[s])
				continue;
			struct s2_app_area ar = s2_app_area(q, chips[i].n_pes);
			int rc = s2_mem_read_start(eth, chips[i].chip, S2_PE_MONITOR, S2_MEM_DRAM,
			                           ar.rec[s], out[k].hdr, S2_REC_HDR_LEN, op);
			if (rc < 0)
				return rc;
		}
	return 0;
}

int s2_app_rec_data_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          unsigned s, struct s2_app_rec *out, struct s2_bulk_stats *st,
                          size_t *cursor, unsigned max, struct s2_op *op)
{
	size_t k = 0;
	int started = 0;
	for (unsigned i = 0; i < n; i++)
		for (unsigned q = 0; q < chips[i].n_pes; q++, k++) {
			if (k < *cursor)
				continue;
			if ((unsigned)started == max)
				return started;
			*cursor = k + 1;
			uint32_t len = out[k].hdr[0];
			if (!len)
				continue;
			struct s2_app_area ar = s2_app_area(q, chips[i].n_pes);
			if (len > ar.rec_max - S2_REC_HDR_LEN)
				return S2_E_RANGE;
			out[k].data = malloc(len);
			if (!out[k].data)
				return S2_E_NOMEM;
			int rc = s2_bulk_read_start_ex(eth, chips[i].chip, S2_PE_MONITOR,
			                               S2_MEM_DRAM, ar.rec[s] + S2_REC_HDR_LEN,
			                               out[k].data, len, NULL, st, op);
			if (rc < 0)
				return rc;
			started++;
		}
	return started;
}
