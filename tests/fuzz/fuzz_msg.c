/*
 * Fuzz target for every message-body decoder of msg.h. The first input byte picks the
 * decoder; the rest is the payload. An accepted body must re-encode to exactly the input
 * bytes (the codecs are canonical: reserved bytes zero, strings NUL-padded).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/auth.h"
#include "s2/flashimg.h"
#include "s2/msg.h"
#include "s2/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[S2_MAX_PAYLOAD + 64];

static void same(int n, const uint8_t *p, size_t len)
{
	if (n < 0 || (size_t)n != len || memcmp(out, p, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	switch (data[0] % 37) {
	case 0: {
		struct s2_msg_board_id m;
		if (!s2_msg_board_id_decode(p, len, &m))
			same(s2_msg_board_id_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 1: {
		struct s2_msg_boot_start m;
		if (!s2_msg_boot_start_decode(p, len, &m))
			same(s2_msg_boot_start_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 2: {
		struct s2_msg_boot_data m;
		if (!s2_msg_boot_data_decode(p, len, &m))
			same(s2_msg_boot_data_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 3: {
		struct s2_msg_board_status m;
		if (!s2_msg_board_status_decode(p, len, &m))
			same(s2_msg_board_status_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 4: {
		struct s2_msg_chip_info m;
		if (!s2_msg_chip_info_decode(p, len, &m))
			same(s2_msg_chip_info_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 5: {
		struct s2_msg_mem_read m;
		if (!s2_msg_mem_read_decode(p, len, &m))
			same(s2_msg_mem_read_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 6: {
		struct s2_msg_mem_write m;
		if (!s2_msg_mem_write_decode(p, len, &m))
			same(s2_msg_mem_write_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 7: {
		struct s2_msg_core_states m;
		if (!s2_msg_core_states_decode(p, len, &m))
			same(s2_msg_core_states_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 8: {
		struct s2_msg_iobuf_req m;
		if (!s2_msg_iobuf_req_decode(p, len, &m))
			same(s2_msg_iobuf_req_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 9: {
		struct s2_msg_iobuf_rep m;
		if (!s2_msg_iobuf_rep_decode(p, len, &m))
			same(s2_msg_iobuf_rep_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 10: {
		struct s2_msg_signal m;
		if (!s2_msg_signal_decode(p, len, &m))
			same(s2_msg_signal_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 11: {
		struct s2_msg_bmp_info m;
		if (!s2_msg_bmp_info_decode(p, len, &m))
			same(s2_msg_bmp_info_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 12: {
		int st;
		if (!s2_msg_status_decode(p, len, &st))
			same(s2_msg_status_encode(out, sizeof out, st), p, len);
		break;
	}
	case 13: {
		struct s2_msg_flash_status m;
		if (!s2_msg_flash_status_decode(p, len, &m))
			same(s2_msg_flash_status_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 14: {
		struct s2_msg_flash_begin m;
		if (!s2_msg_flash_begin_decode(p, len, &m))
			same(s2_msg_flash_begin_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 15: {
		struct s2_msg_flash_data m;
		if (!s2_msg_flash_data_decode(p, len, &m))
			same(s2_msg_flash_data_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 16: {
		struct s2_msg_flash_read m;
		if (!s2_msg_flash_read_decode(p, len, &m))
			same(s2_msg_flash_read_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 17: {
		struct s2_msg_flash_commit m;
		if (!s2_msg_flash_commit_decode(p, len, &m))
			same(s2_msg_flash_commit_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 18: {
		/* A flash image: an accepted one must describe itself consistently. */
		struct s2_flashimg fi;
		if (!s2_flashimg_decode(p, len, &fi) &&
		    (fi.total_len != len || fi.monitor_off + fi.monitor_len > len))
			abort();
		break;
	}
	case 19: {
		struct s2_msg_bulk_begin m;
		if (!s2_msg_bulk_begin_decode(p, len, &m))
			same(s2_msg_bulk_begin_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 20: {
		struct s2_msg_bulk_read m;
		if (!s2_msg_bulk_read_decode(p, len, &m))
			same(s2_msg_bulk_read_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 21: {
		struct s2_msg_bulk_read_rep m;
		if (!s2_msg_bulk_read_rep_decode(p, len, &m))
			same(s2_msg_bulk_read_rep_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 22: {
		struct s2_msg_bulk_data m;
		if (!s2_msg_bulk_data_decode(p, len, &m))
			same(s2_msg_bulk_data_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 23: {
		struct s2_msg_bulk_sack m;
		if (!s2_msg_bulk_sack_decode(p, len, &m))
			same(s2_msg_bulk_sack_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 24: {
		uint32_t region;
		if (!s2_msg_bulk_region_decode(p, len, &region))
			same(s2_msg_bulk_region_encode(out, sizeof out, region), p, len);
		break;
	}
	case 25: {
		struct s2_msg_router_load m;
		if (!s2_msg_router_load_decode(p, len, &m))
			same(s2_msg_router_load_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 26: {
		struct s2_msg_app_load m;
		if (!s2_msg_app_load_decode(p, len, &m))
			same(s2_msg_app_load_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 27: {
		struct s2_msg_app_run m;
		if (!s2_msg_app_run_decode(p, len, &m))
			same(s2_msg_app_run_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 28: {
		struct s2_msg_app_status m;
		if (!s2_msg_app_status_decode(p, len, &m))
			same(s2_msg_app_status_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 29: {
		struct s2_msg_lease_req m;
		if (!s2_msg_lease_req_decode(p, len, &m))
			same(s2_msg_lease_req_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 30: {
		struct s2_msg_lease_rep m;
		if (!s2_msg_lease_rep_decode(p, len, &m))
			same(s2_msg_lease_rep_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 31: {
		struct s2_msg_key_req m;
		if (!s2_msg_key_req_decode(p, len, &m))
			same(s2_msg_key_req_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 32: {
		struct s2_msg_key_rep m;
		if (!s2_msg_key_rep_decode(p, len, &m))
			same(s2_msg_key_rep_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 34: {
		struct s2_msg_scrub_req m;
		if (!s2_msg_scrub_req_decode(p, len, &m))
			same(s2_msg_scrub_req_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 35: {
		struct s2_msg_scrub_rep m;
		if (!s2_msg_scrub_rep_decode(p, len, &m))
			same(s2_msg_scrub_rep_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 36: {
		struct s2_msg_app_update m;
		if (!s2_msg_app_update_decode(p, len, &m))
			same(s2_msg_app_update_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 33: {
		/* BULK_END with or without the region hash, and the authenticated trailer. */
		uint32_t region;
		const uint8_t *hash;
		if (!s2_auth_bulk_end_decode(p, len, &region, &hash) &&
		    (region != (len ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                                (uint32_t)p[3] << 24
		                    : 0) ||
		     (len == 4) != (hash == NULL) || (hash && hash != p + 4)))
			abort();
		struct s2_auth_trailer t;
		if (!s2_auth_trailer_get(p, len, &t)) {
			s2_auth_trailer_put(out, &t);
			if (len < S2_AUTH_TRAILER_LEN ||
			    memcmp(out, p + len - S2_AUTH_TRAILER_LEN, S2_AUTH_TRAILER_LEN) != 0)
				abort();
		}
		break;
	}
	}
	return 0;
}
