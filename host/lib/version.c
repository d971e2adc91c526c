/* Version strings of libs2 (version.h); S2_VERSION_STRING comes from CMake's project(). */
#include "s2/version.h"

#include "s2/packet.h"

const char *s2_version(void)
{
	return S2_VERSION_STRING;
}

unsigned s2_protocol_version(void)
{
	return S2_PROTOCOL_VERSION;
}
