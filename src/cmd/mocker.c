/* Placeholder: `dyn mocker` is being built (issue 4). */
#include <stdio.h>

#include "cmd/commands.h"

int cmd_mocker(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dyn mocker: not built yet\n");
    return EXIT_USAGE;
}
