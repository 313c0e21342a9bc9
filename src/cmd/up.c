/* dyn up: run a graph on this machine (see src/local/local.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "cmd/commands.h"
#include "cmd/input.h"
#include "cmd/localcmd.h"
#include "local/local.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn up [-f] GRAPH [--state-dir DIR] [--http-port PORT] [--detach]\n"
            "              [--nats URL] [--etcd URL] [--quiet]\n"
            "\n"
            "Runs a graph on this machine: an embedded nats-server (JetStream) and etcd, every\n"
            "service's replicas as supervised processes (restarted with back-off), PVCs as\n"
            "directories under the state directory, the frontend on a local port. Nothing starts\n"
            "when the graph is invalid. Ctrl-C (or 'dyn down' after --detach) stops everything.\n"
            "\n"
            "  -f, --filename GRAPH  the graph file ('-' = stdin)\n"
            "  --state-dir DIR       state, logs and volumes (default .dyn/<graph name>)\n"
            "  --http-port PORT      the frontend's port (default 8000; 0 = any free port)\n"
            "  -d, --detach          run in the background once everything is ready\n"
            "  --nats URL            use this NATS instead of starting one\n"
            "  --etcd URL            use this etcd instead of starting one\n"
            "  -q, --quiet           keep component output in the log files only\n"
            "\n"
            "exit status: 0 stopped cleanly, 1 invalid graph or start failure, 2 usage or environment error\n");
}

/* The operator settings a local run stands for: discovery through etcd (there is no Kubernetes
 * API here) and no cluster addresses (the supervisor injects its own). */
static void local_config(dyn_config *cfg)
{
    dyn_config_defaults(cfg);
    free(cfg->discovery_backend);
    cfg->discovery_backend = strdup("etcd");
    free(cfg->nats_address);
    cfg->nats_address = strdup("");
    free(cfg->etcd_address);
    cfg->etcd_address = strdup("");
}

/* --detach: wait in the foreground until the detached supervisor reports every process ready. */
static int wait_detached(dyn_local *l, pid_t supervisor)
{
    double deadline = dyn_local_now() + 180;
    for (;;) {
        int status;
        if (waitpid(supervisor, &status, WNOHANG) == supervisor) {
            fprintf(stderr, "dyn up: the supervisor stopped; see %s/logs/up.log\n", l->state_dir);
            return 1;
        }
        json_t *st = dyn_local_state_read(l->state_dir);
        size_t i, ready = 0, total = 0;
        json_t *p;
        const char *failing = NULL;
        json_array_foreach(json_object_get(st, "processes"), i, p) {
            total++;
            const char *state = json_string_value(json_object_get(p, "state"));
            ready += state && strcmp(state, "ready") == 0;
            if (json_integer_value(json_object_get(p, "restarts")) >= 3 && !failing)
                failing = json_string_value(json_object_get(p, "name"));
        }
        if (failing) {
            fprintf(stderr, "dyn up: %s keeps failing (3 restarts); the graph stays up: see 'dyn logs %s --graph %s', "
                            "stop it with 'dyn down %s'\n",
                    failing, failing, l->graph_name, l->graph_name);
            json_decref(st);
            return 1;
        }
        json_decref(st);
        if (total && ready == total) {
            printf("graph %s is up in the background (supervisor pid %d)\n", l->graph_name, (int)supervisor);
            if (l->frontend_url)
                printf("frontend: %s\n", l->frontend_url);
            if (l->opts.state_dir)
                printf("dyn ps --state-dir %s | dyn logs --state-dir %s | dyn down --state-dir %s\n", l->state_dir,
                       l->state_dir, l->state_dir);
            else
                printf("dyn ps %s | dyn logs --graph %s | dyn down %s\n", l->graph_name, l->graph_name, l->graph_name);
            return 0;
        }
        if (dyn_local_now() > deadline) {
            fprintf(stderr, "dyn up: not ready after 180 s (%zu of %zu processes); it keeps running: see 'dyn ps %s'\n",
                    ready, total, l->graph_name);
            return 1;
        }
        usleep(200 * 1000);
    }
}

static int exit_code_for(dyn_status st)
{
    return st == DYN_ERR_INVALID || st == DYN_ERR_NOT_FOUND ? EXIT_INVALID : EXIT_USAGE;
}

int cmd_up(int argc, char **argv)
{
    enum { OPT_STATE = 256, OPT_HTTP, OPT_NATS, OPT_ETCD };
    static const struct option long_opts[] = {
        {"filename", required_argument, NULL, 'f'}, {"state-dir", required_argument, NULL, OPT_STATE},
        {"http-port", required_argument, NULL, OPT_HTTP}, {"detach", no_argument, NULL, 'd'},
        {"nats", required_argument, NULL, OPT_NATS},     {"etcd", required_argument, NULL, OPT_ETCD},
        {"quiet", no_argument, NULL, 'q'},              {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dyn_local l = {.lock_fd = -1};
    l.opts.self_exe = dyn_self_exe();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:dqh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': l.opts.graph_path = optarg; break;
        case OPT_STATE: l.opts.state_dir = optarg; break;
        case OPT_HTTP: {
            char *end;
            long port = strtol(optarg, &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "dyn up: --http-port must be 0..65535\n");
                return EXIT_USAGE;
            }
            l.opts.http_port = port == 0 ? -1 : (int)port;
            break;
        }
        case 'd': l.opts.detach = true; break;
        case OPT_NATS: l.opts.nats_url = optarg; break;
        case OPT_ETCD: l.opts.etcd_url = optarg; break;
        case 'q': l.opts.quiet = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!l.opts.graph_path && optind < argc)
        l.opts.graph_path = argv[optind++];
    if (!l.opts.graph_path || optind < argc) {
        usage(stderr);
        return EXIT_USAGE;
    }

    /* the same diagnostics as dyn validate; nothing starts when the graph is invalid */
    dyn_input_opts in = {0};
    dyn_input_add_file(&in, l.opts.graph_path);
    int rc = dyn_input_load(&in);
    dyn_diags_print(&in.diags, stderr);
    if (rc != EXIT_OK) {
        if (rc == EXIT_INVALID)
            fprintf(stderr, "dyn up: %zu error%s: nothing started\n", in.diags.errors, in.diags.errors == 1 ? "" : "s");
        dyn_input_free(&in);
        return rc;
    }
    if (in.bundles[0].n_graphs != 1) {
        fprintf(stderr, "dyn up: %s holds %zu graphs; dyn up runs one\n", l.opts.graph_path, in.bundles[0].n_graphs);
        dyn_input_free(&in);
        return EXIT_INVALID;
    }
    const dyn_graph *g = &in.bundles[0].graphs[0];
    dyn_config cfg;
    local_config(&cfg);
    dyn_load_opts lopts = {.config = &cfg};
    dyn_plan plan;
    dyn_plan_build(&plan, g, &lopts);

    l.graph_name = strdup(g->name);
    l.state_dir = l.opts.state_dir ? strdup(l.opts.state_dir) : dyn_local_state_default(g->name);
    l.out = stdout;
    l.use_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    dyn_error err = {0};
    bool fresh_state = access(l.state_dir, F_OK) != 0; /* removed again if nothing can start */
    dyn_status st = dyn_local_state_open(&l, &err);
    if (st == DYN_OK) {
        char *abs = realpath(l.state_dir, NULL); /* processes run in their own directories */
        if (abs) {
            free(l.state_dir);
            l.state_dir = abs;
        }
        int left = dyn_local_kill_leftovers(l.state_dir); /* from a supervisor that was killed */
        if (left)
            fprintf(stderr, "dyn up: killed %d process%s left by an earlier run of %s\n", left, left == 1 ? "" : "es",
                    l.graph_name);
        st = dyn_local_platform_plan(&l, &err);
    }
    if (st == DYN_OK)
        st = dyn_local_replicas_plan(&l, &plan, g, &err);
    dyn_plan_free(&plan);
    dyn_config_free(&cfg);
    dyn_input_free(&in);
    if (st != DYN_OK) {
        fprintf(stderr, "dyn up: %s\n", err.message);
        if (fresh_state && st != DYN_ERR_CONFLICT && dyn_remove_tree(l.state_dir) != 0)
            fprintf(stderr, "dyn up: could not remove %s: %s\n", l.state_dir, strerror(errno));
        dyn_local_free(&l);
        return exit_code_for(st);
    }

    if (l.opts.detach) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "dyn up: fork: %s\n", strerror(errno));
            dyn_local_free(&l);
            return EXIT_USAGE;
        }
        if (pid > 0) {
            rc = wait_detached(&l, pid);
            dyn_local_free(&l);
            return rc;
        }
        setsid();
        char log[4096];
        snprintf(log, sizeof log, "%s/logs/up.log", l.state_dir);
        FILE *f = fopen(log, "w");
        if (f) {
            dup2(fileno(f), STDOUT_FILENO);
            dup2(fileno(f), STDERR_FILENO);
            fclose(f);
        }
        l.use_color = false;
        l.opts.quiet = true;
    }
    rc = dyn_local_run(&l);
    dyn_local_free(&l);
    return rc;
}
