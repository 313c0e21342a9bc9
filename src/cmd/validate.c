#include <stdio.h>
#include "cmd/commands.h"
int cmd_validate(int argc, char **argv) { fprintf(stderr, "dyn validate: not built yet\n"); return EXIT_USAGE; }
