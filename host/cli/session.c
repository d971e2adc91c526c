/* Opening the boards of a machine description for a verb (session.h). */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"
#include "s2/machine.h"

int session_open(struct session *s, struct cli *c, bool eth, bool bmp)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->m = cli_load_machine(c);
	if (!s->m)
		return c->machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
	s->n = s2_machine_boards(s->m);
	s->sel = calloc(s->n, sizeof *s->sel);
	s->eth = calloc(s->n, sizeof *s->eth);
	s->bmp = calloc(s->n, sizeof *s->bmp);
	s->client = s2_client_new(NULL);
	if (!s->sel || !s->eth || !s->bmp || !s->client)
		return cli_error(c, EXIT_FAIL, "out of memory");
	if (cli_select_boards(c, s->n, s->sel) < 0)
		return EXIT_USAGE;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(s->m, b, &ep);
		if (eth &&
		    !(s->eth[b] = s2_conn_open(s->client, ep.host, ep.eth_port, (uint16_t)b)))
			return cli_error(c, EXIT_INPUT, "board %u: cannot open %s:%u: %s", b,
			                 ep.host, ep.eth_port, strerror(errno));
		if (bmp &&
		    !(s->bmp[b] = s2_conn_open(s->client, ep.host, ep.bmp_port, (uint16_t)b)))
			return cli_error(c, EXIT_INPUT, "board %u: cannot open %s:%u: %s", b,
			                 ep.host, ep.bmp_port, strerror(errno));
	}
	return 0;
}

void session_close(struct session *s)
{
	s2_client_free(s->client);
	free(s->sel);
	free(s->eth);
	free(s->bmp);
	s2_machine_free(s->m);
}

int session_board(struct session *s, const char *arg, unsigned *board)
{
	unsigned long v;
	if (cli_uint(s->c, "--board", arg, s->n ? s->n - 1 : 0, &v) < 0)
		return -1;
	*board = (unsigned)v;
	return 0;
}
