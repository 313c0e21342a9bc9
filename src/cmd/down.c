/* Placeholder: `dyn down` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_down(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn down: not built yet\n");
    return EXIT_USAGE;
}
