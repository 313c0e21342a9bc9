/* Placeholder: `dyn up` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_up(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn up: not built yet\n");
    return EXIT_USAGE;
}
