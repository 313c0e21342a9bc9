/* dyn ps: every process of the local graphs: NATS, etcd and each replica. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/localcmd.h"
#include "local/local.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: dyn ps [NAME | GRAPH-FILE] [--state-dir DIR] [--json]\n\n"
                 "Lists the processes of local graphs (all under .dyn/ by default) with service,\n"
                 "replica, pid, port and state. --json prints a list of objects.\n");
}

static const char *text(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "?";
}

int cmd_ps(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"state-dir", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *state_dir = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's': state_dir = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    char **targets = dyn_local_targets(state_dir, optind < argc ? argv[optind] : NULL, "ps");
    if (!targets)
        return EXIT_USAGE;
    json_t *all = json_array();
    for (char **t = targets; *t; t++) {
        json_t *st = dyn_local_state_read(*t);
        if (!st)
            continue;
        bool alive = dyn_local_state_running(*t); /* else a stale status file */
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(st, "processes"), i, p) {
            json_t *row = json_deep_copy(p);
            json_object_set(row, "graph", json_object_get(st, "graph"));
            if (!alive) {
                json_object_set_new(row, "state", json_string("stopped"));
                json_object_set_new(row, "pid", json_integer(0));
            }
            json_array_append_new(all, row);
        }
        json_decref(st);
    }
    dyn_strv_free(targets);
    if (json) {
        char *text = json_dumps(all, JSON_INDENT(2));
        puts(text);
        free(text);
    } else {
        printf("%-12s %-14s %-8s %-16s %-8s %-6s %-9s %s\n", "GRAPH", "SERVICE", "REPLICA", "NAME", "PID", "PORT",
               "STATE", "RESTARTS");
        size_t i;
        json_t *p;
        json_array_foreach(all, i, p) {
            char replica[16] = "-";
            if (json_is_integer(json_object_get(p, "replica")))
                snprintf(replica, sizeof replica, "%lld", (long long)json_integer_value(json_object_get(p, "replica")));
            printf("%-12s %-14s %-8s %-16s %-8lld %-6lld %-9s %lld\n", text(p, "graph"), text(p, "service"), replica,
                   text(p, "name"), (long long)json_integer_value(json_object_get(p, "pid")),
                   (long long)json_integer_value(json_object_get(p, "port")), text(p, "state"),
                   (long long)json_integer_value(json_object_get(p, "restarts")));
        }
        if (json_array_size(all) == 0)
            printf("(no local graphs)\n");
    }
    json_decref(all);
    return EXIT_OK;
}
