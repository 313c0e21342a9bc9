/* Placeholder until the NUMA work lands (issue 5). */
#include <stdio.h>
#include "cmd/commands.h"
int cmd_topo(int argc, char **argv) { fprintf(stderr, "dyn topo: not built yet\n"); return EXIT_USAGE; }
