/* PLACEHOLDER (being written): the fan-out server of s2ctl stream --serve. */
#include "serve.h"

#include <stdio.h>

struct serve *serve_open(struct event_base *base, const char *spec, const struct plan *plan,
                         size_t queue_bytes, char *err, size_t errlen)
{
	(void)base;
	(void)spec;
	(void)plan;
	(void)queue_bytes;
	snprintf(err, errlen, "not available yet");
	return NULL;
}
void serve_spikes(struct serve *sv, const struct s2_spike *s, size_t n)
{
	(void)sv;
	(void)s;
	(void)n;
}
void serve_energy(struct serve *sv, const struct s2_energy_sample *e)
{
	(void)sv;
	(void)e;
}
void serve_event(struct serve *sv, const struct s2_run_event *ev)
{
	(void)sv;
	(void)ev;
}
void serve_finish(struct serve *sv, const struct s2_stream_stats *st)
{
	(void)sv;
	(void)st;
}
void serve_close(struct serve *sv)
{
	(void)sv;
}
