/* Placeholder: `dyn logs` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_logs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn logs: not built yet\n");
    return EXIT_USAGE;
}
