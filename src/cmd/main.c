/* dyn: one binary, one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"

typedef int (*command_fn)(int argc, char **argv);

static const struct command {
    const char *name;
    command_fn run;
    const char *summary;
} commands[] = {
    {"validate", cmd_validate, "check graph files; every problem with file:line:col and field path"},
    {"render", cmd_render, "turn a graph into the Kubernetes objects an operator applies"},
    {"topo", cmd_topo, "show NUMA nodes, GPUs and their CPU slices"},
    {"up", cmd_up, "run a graph on this machine: embedded NATS and etcd, supervised components"},
    {"down", cmd_down, "stop a graph started with 'dyn up --detach'"},
    {"ps", cmd_ps, "list the processes of a running graph"},
    {"logs", cmd_logs, "print the logs of a running graph's processes"},
    {"frontend", cmd_frontend, "OpenAI-compatible HTTP frontend that routes to workers"},
    {"mocker", cmd_mocker, "a simulated inference engine that serves the worker contract"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dyn <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'dyn <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dyn: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
