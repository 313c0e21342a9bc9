/* dyn logs: the logs of a local graph's processes, prefixed by process name. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/localcmd.h"
#include "local/local.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: dyn logs [SERVICE] [--graph NAME] [--state-dir DIR] [-f]\n\n"
                 "Prints the logs of every process of a local graph, or of one service (by service\n"
                 "key, e.g. Frontend, or process name, e.g. frontend-0, nats, etcd). -f follows them.\n");
}

typedef struct source {
    char *name, *path;
    FILE *f;
} source;

static bool matches(const json_t *p, const char *want)
{
    if (!want)
        return true;
    const char *service = json_string_value(json_object_get(p, "service"));
    const char *name = json_string_value(json_object_get(p, "name"));
    return (service && strcasecmp(service, want) == 0) || (name && strcmp(name, want) == 0);
}

static bool pump(source *s, size_t n)
{
    bool any = false;
    char line[8192];
    for (size_t i = 0; i < n; i++) {
        if (!s[i].f)
            s[i].f = fopen(s[i].path, "r");
        while (s[i].f && fgets(line, sizeof line, s[i].f)) {
            printf("%-14s| %s%s", s[i].name, line, strchr(line, '\n') ? "" : "\n");
            any = true;
        }
        if (s[i].f)
            clearerr(s[i].f);
    }
    fflush(stdout);
    return any;
}

int cmd_logs(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"state-dir", required_argument, NULL, 's'}, {"graph", required_argument, NULL, 'g'},
        {"follow", no_argument, NULL, 'f'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *state_dir = NULL, *graph = NULL;
    bool follow = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", long_opts, NULL)) != -1) {
        switch (c) {
        case 's': state_dir = optarg; break;
        case 'g': graph = optarg; break;
        case 'f': follow = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    const char *service = optind < argc ? argv[optind] : NULL;
    char **targets = dyn_local_targets(state_dir, graph, "logs");
    if (!targets)
        return EXIT_USAGE;
    source *sources = NULL;
    size_t n = 0;
    for (char **t = targets; *t; t++) {
        json_t *st = dyn_local_state_read(*t);
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(st, "processes"), i, p) {
            const char *name = json_string_value(json_object_get(p, "name"));
            const char *log = json_string_value(json_object_get(p, "log"));
            if (!name || !log || !matches(p, service))
                continue; /* a status file someone edited: skip what is not there */
            sources = realloc(sources, (n + 1) * sizeof *sources);
            char label[256];
            /* with several graphs, say whose process a line comes from */
            if (targets[0] && targets[1])
                snprintf(label, sizeof label, "%s/%s", json_string_value(json_object_get(st, "graph")) ? json_string_value(json_object_get(st, "graph")) : "?", name);
            else
                snprintf(label, sizeof label, "%s", name);
            sources[n++] = (source){strdup(label), strdup(log), NULL};
        }
        json_decref(st);
    }
    dyn_strv_free(targets);
    int rc = EXIT_OK;
    if (n == 0) {
        fprintf(stderr, "dyn logs: no process%s%s in the local graphs\n", service ? " named " : "", service ? service : "");
        rc = EXIT_USAGE;
    }
    pump(sources, n);
    while (follow && n) {
        if (!pump(sources, n))
            usleep(200 * 1000);
    }
    for (size_t i = 0; i < n; i++) {
        free(sources[i].name);
        free(sources[i].path);
        if (sources[i].f)
            fclose(sources[i].f);
    }
    free(sources);
    return rc;
}
