/*
 * Built outside the source tree against an installed libs2 (docs/install.md): prints the
 * library's version and protocol, decodes a live-stream packet made with the library's own
 * encoder, and computes a joule with the energy model. Exit 0 if all of that works.
 */
#include <stdio.h>

#include <s2/s2.h>

static unsigned got;

static void on_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		printf("spike: population %u neuron %u step %u\n", s[i].pop, s[i].neuron,
		       s[i].step);
	got += (unsigned)n;
}

int main(void)
{
	printf("libs2 %s, protocol %u\n", s2_version(), s2_protocol_version());
	/* A STREAM_DATA packet of board 0 with one spike of chip 1, PE 2, neuron 3 at step 7. */
	uint8_t body[64], dgram[S2_MAX_DATAGRAM];
	struct s2_live_wr w;
	s2_live_begin(&w, body, sizeof body, 42, 0);
	s2_live_spike(&w, 7, 1, 2, 3);
	struct s2_header h = {.type = S2_MSG_STREAM_DATA, .board = 0, .chip = 0xFFFF, .pe = 0xFF};
	int len = s2_packet_encode(dgram, sizeof dgram, &h, body, w.pos);
	struct s2_stream_callbacks cb = {on_spikes, NULL, NULL, NULL};
	struct s2_stream *st = s2_stream_new(42, &cb);
	if (len < 0 || !st || s2_stream_add_source(st, 0, 1, 2, 5, 100) < 0 ||
	    s2_stream_feed(st, dgram, (size_t)len) != 1 || got != 1) {
		fprintf(stderr, "s2_hello: the stream did not decode\n");
		return 1;
	}
	s2_stream_free(st);
	struct s2_energy_model m;
	s2_energy_model_default(&m);
	printf("energy model %s: %.3g J per PE cycle at the high level\n", m.version,
	       s2_energy_j_per_cycle(&m, S2_PL_HIGH));
	return 0;
}
