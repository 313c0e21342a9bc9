/* dyn down: stop a local graph (its supervisor stops everything in reverse order). */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "cmd/commands.h"
#include "cmd/localcmd.h"
#include "local/local.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: dyn down [NAME | GRAPH-FILE] [--state-dir DIR] [--delete-volumes]\n\n"
                 "Stops a graph started with 'dyn up' (with one graph under .dyn/, that one).\n"
                 "Volumes (PVC directories) are kept unless --delete-volumes is given.\n");
}

static int stop_one(const char *dir, bool delete_volumes)
{
    json_t *st = dyn_local_state_read(dir);
    json_int_t pid = st ? json_integer_value(json_object_get(st, "supervisor_pid")) : 0;
    const char *graph = st && json_string_value(json_object_get(st, "graph")) ? json_string_value(json_object_get(st, "graph")) : dir;
    int rc = EXIT_OK;
    /* the lock, not the recorded pid, says whether a supervisor runs: a pid may be stale */
    if (dyn_local_state_running(dir) && pid > 1 && kill((pid_t)pid, SIGTERM) == 0) {
        printf("dyn down: stopping %s (supervisor pid %lld)\n", graph, (long long)pid);
        double deadline = dyn_local_now() + 60;
        while (dyn_local_state_running(dir) && dyn_local_now() < deadline)
            usleep(100 * 1000);
        if (dyn_local_state_running(dir)) {
            fprintf(stderr, "dyn down: %s did not stop within 60 s\n", graph);
            rc = EXIT_USAGE;
        } else
            printf("dyn down: %s stopped\n", graph);
    } else {
        char abs[4096];
        int left = realpath(dir, abs) ? dyn_local_kill_leftovers(abs) : 0;
        if (left)
            printf("dyn down: %s was not running; killed %d process%s its supervisor left behind\n", graph, left,
                   left == 1 ? "" : "es");
        else
            printf("dyn down: %s is not running\n", graph);
    }
    if (rc == EXIT_OK && delete_volumes) {
        char volumes[4200];
        snprintf(volumes, sizeof volumes, "%s/volumes", dir);
        if (dyn_remove_tree(volumes) == 0)
            printf("dyn down: deleted %s\n", volumes);
        else {
            fprintf(stderr, "dyn down: cannot delete %s: %s\n", volumes, strerror(errno));
            rc = EXIT_USAGE;
        }
    }
    json_decref(st);
    return rc;
}

int cmd_down(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"state-dir", required_argument, NULL, 's'}, {"delete-volumes", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *state_dir = NULL;
    bool delete_volumes = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's': state_dir = optarg; break;
        case 'D': delete_volumes = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    char **targets = dyn_local_targets(state_dir, optind < argc ? argv[optind] : NULL, "down");
    if (!targets)
        return EXIT_USAGE;
    /* without a name, only graphs that are running count: stopped ones leave their state */
    if (!state_dir && optind >= argc) {
        char **running = dyn_strv_new();
        int left = 0;
        for (char **t = targets; *t; t++) {
            char abs[4096];
            if (dyn_local_state_running(*t))
                dyn_strv_push(&running, *t);
            else if (realpath(*t, abs))
                left += dyn_local_kill_leftovers(abs); /* from supervisors that were killed */
        }
        if (left)
            printf("dyn down: killed %d process%s that stopped graphs left behind\n", left, left == 1 ? "" : "es");
        dyn_strv_free(targets);
        targets = running;
    }
    size_t n = 0;
    while (targets[n])
        n++;
    int rc = EXIT_OK;
    if (n == 0)
        printf("dyn down: no running local graphs\n");
    else if (n > 1 && !state_dir) {
        fprintf(stderr, "dyn down: several local graphs; name one:");
        for (char **t = targets; *t; t++)
            fprintf(stderr, " %s", strrchr(*t, '/') ? strrchr(*t, '/') + 1 : *t);
        fprintf(stderr, "\n");
        rc = EXIT_USAGE;
    } else
        rc = stop_one(targets[0], delete_volumes);
    dyn_strv_free(targets);
    return rc;
}
