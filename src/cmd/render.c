#include <stdio.h>
#include "cmd/commands.h"
int cmd_render(int argc, char **argv) { fprintf(stderr, "dyn render: not built yet\n"); return EXIT_USAGE; }
