/*
 * s2ctl compile: map a network onto a machine and write a deployable image
 * (docs/cli/compile.md).
 */
#include "cli.h"

int verb_compile(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "s2ctl compile: not built yet\n");
	return EXIT_FAIL;
}
