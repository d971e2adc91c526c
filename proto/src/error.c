/* Error strings for the s2_err codes of error.h. Shared by all three builds. */
#include "s2/error.h"

struct err_text {
	const char *name;
	const char *text;
};

/* Indexed by -code. */
static const struct err_text err_table[] = {
        {"S2_OK", "success"},
        {"S2_E_SHORT", "input too short"},
        {"S2_E_MAGIC", "bad magic number"},
        {"S2_E_VERSION", "unsupported protocol version"},
        {"S2_E_LENGTH", "length field disagrees with data"},
        {"S2_E_CRC", "CRC mismatch"},
        {"S2_E_RESERVED", "reserved field or flag not zero"},
        {"S2_E_TYPE", "unknown message type"},
        {"S2_E_RANGE", "value out of range"},
        {"S2_E_NOSPACE", "output buffer too small"},
        {"S2_E_INVAL", "invalid argument"},
        {"S2_E_NOMEM", "out of memory"},
        {"S2_E_IO", "I/O error"},
        {"S2_E_TIMEOUT", "timed out"},
        {"S2_E_FORMAT", "malformed data"},
        {"S2_E_NOTFOUND", "not found"},
        {"S2_E_STATE", "wrong state for this operation"},
        {"S2_E_DEAD", "target is dead"},
        {"S2_E_AUTH", "authentication failed"},
        {"S2_E_BUSY", "busy: the board is held by another session"},
        {"S2_E_STALE", "authenticated session forgotten by the board"},
};

_Static_assert(sizeof err_table / sizeof err_table[0] == -S2_E__LAST,
               "every s2_err code needs a table entry");

static const struct err_text *err_lookup(int err)
{
	if (err > 0 || err <= S2_E__LAST)
		return 0;
	return &err_table[-err];
}

const char *s2_strerror(int err)
{
	const struct err_text *t = err_lookup(err);
	return t ? t->text : "unknown error";
}

const char *s2_errname(int err)
{
	const struct err_text *t = err_lookup(err);
	return t ? t->name : "S2_E_UNKNOWN";
}
