/* Ring-buffer logs of emulated PEs and monitors (emu_log.h). */
#include "emu_log.h"

#include <stdlib.h>

#include "s2/error.h"

int emu_log_write(struct emu_log *l, uint32_t cap, const char *text, size_t len)
{
	if (!l->data) {
		l->data = malloc(cap);
		if (!l->data)
			return S2_E_NOMEM;
		l->cap = cap;
	}
	for (size_t i = 0; i < len; i++)
		l->data[(l->total + i) % l->cap] = text[i];
	l->total += (uint32_t)len;
	return 0;
}

void emu_log_read(const struct emu_log *l, uint32_t offset, uint8_t *dst, uint16_t max,
                  uint32_t *total, uint32_t *start, uint16_t *n)
{
	*total = l->total;
	uint32_t oldest = l->total > l->cap ? l->total - l->cap : 0;
	if (offset < oldest)
		offset = oldest;
	if (offset > l->total)
		offset = l->total;
	uint32_t avail = l->total - offset;
	uint16_t k = avail < max ? (uint16_t)avail : max;
	for (uint16_t i = 0; i < k; i++)
		dst[i] = (uint8_t)l->data[(offset + i) % l->cap];
	*start = offset;
	*n = k;
}

void emu_log_free(struct emu_log *l)
{
	free(l->data);
	l->data = NULL;
	l->cap = 0;
	l->total = 0;
}
