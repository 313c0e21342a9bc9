/* Placeholder: `dyn frontend` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_frontend(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn frontend: not built yet\n");
    return EXIT_USAGE;
}
