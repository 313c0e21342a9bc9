/* Placeholder: `dyn ps` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_ps(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn ps: not built yet\n");
    return EXIT_USAGE;
}
