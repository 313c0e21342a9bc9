/* dyn up: a graph on one machine. The same plan the cluster gets becomes processes, ports and
 * directories:
 *
 *   plan component replica ──► dyn_local_proc (argv, env, port, readiness probe, mounts)
 *   spec.pvcs entry        ──► <state>/volumes/<name>/ (survives dyn down / dyn up)
 *   frontend ingress       ──► http://127.0.0.1:<port>
 *   NATS, etcd             ──► nats-server and etcd started here, data under <state>/
 *
 * One supervisor process owns everything: it starts the platform, then the replicas, restarts
 * crashed ones with back-off (restartPolicy: Always), probes readiness, and on SIGINT/SIGTERM
 * stops everything in reverse order. It publishes what runs in <state>/status.json, which
 * `dyn ps`, `dyn logs` and `dyn down` read. */
#ifndef DYN_LOCAL_LOCAL_H
#define DYN_LOCAL_LOCAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "api/validate.h"
#include "dyn/config.h"
#include "dyn/error.h"
#include "plan/plan.h"

/* Annotation on a service: the command line (run with /bin/sh -c) to use on this host instead
 * of the container's command. */
#define DYN_LOCAL_COMMAND_ANNOTATION "dynamo-c.dev/local-command"

typedef enum dyn_proc_state {
    DYN_PROC_PENDING,   /* not started yet, or waiting to be restarted */
    DYN_PROC_STARTING,  /* running, readiness not confirmed */
    DYN_PROC_READY,
    DYN_PROC_BACKOFF,   /* exited; restart scheduled */
    DYN_PROC_STOPPING,
    DYN_PROC_STOPPED
} dyn_proc_state;

const char *dyn_proc_state_name(dyn_proc_state s);

/* A directory bound at a path inside the process's private mount namespace. */
typedef struct dyn_local_mount {
    char *host_dir;
    char *path;
    bool read_only;
} dyn_local_mount;

typedef struct dyn_local_proc {
    char *service;        /* "nats", "etcd" or the service key */
    int replica;          /* -1 for platform parts */
    char *name;           /* unique, for logs: "nats", "frontend-0" */
    char **argv;          /* NULL-terminated, owned */
    char **env;           /* "K=V", NULL-terminated, owned (the complete environment) */
    char *workdir;
    int port;             /* the main port (http / system / client), 0 = none */
    char *probe_path;     /* readiness: HTTP GET http://127.0.0.1:<probe_port><probe_path> */
    int probe_port;
    bool probe_tcp;       /* readiness by TCP connect only */
    double probe_period;  /* seconds between probes once ready (readinessProbe.periodSeconds) */
    double next_probe;
    dyn_local_mount *mounts;
    size_t n_mounts;
    char *log_path;
    /* run time */
    pid_t pid;
    dyn_proc_state state;
    int restarts;
    double started_at, next_start, stop_deadline;
    int out_fd;           /* merged stdout+stderr of the child */
    char line[4096];      /* partial output line */
    size_t line_len;
    FILE *log;
    int color;
} dyn_local_proc;

typedef struct dyn_local_opts {
    const char *graph_path;
    const char *state_dir;     /* NULL: .dyn/<graph name> */
    int http_port;             /* frontend port; 0 = 8000, -1 = any free port */
    const char *nats_url;      /* external NATS instead of the embedded one */
    const char *etcd_url;      /* external etcd */
    bool detach;
    bool quiet;                /* no component log lines on the terminal (still in log files) */
    const char *self_exe;      /* this dyn binary, for `dyn frontend` / `dyn mocker` */
} dyn_local_opts;

typedef struct dyn_local {
    dyn_local_opts opts;
    char *state_dir;
    char *graph_name;
    char *nats_url, *etcd_url;
    char *frontend_url;
    dyn_local_proc *procs;     /* platform parts first, then replicas in start order */
    size_t n_procs;
    size_t n_platform;
    int lock_fd;
    FILE *out;                 /* progress and log lines (stdout, or the detached log) */
    bool use_color;
} dyn_local;

/* ---- state directory (state.c) ---- */
/* Creates <state>/{logs,volumes,run} and takes the graph's lock. DYN_ERR_CONFLICT when another
 * `dyn up` holds it. */
dyn_status dyn_local_state_open(dyn_local *l, dyn_error *err);
/* Writes <state>/status.json atomically. */
void dyn_local_state_publish(dyn_local *l);
/* The state directories of running or stopped graphs under base (".dyn"), NULL-terminated,
 * malloc'd. */
char **dyn_local_state_list(const char *base);
/* Reads <state_dir>/status.json (new reference) or NULL. */
json_t *dyn_local_state_read(const char *state_dir);
/* True when a supervisor holds the graph's lock (the pid in status.json may be stale). */
bool dyn_local_state_running(const char *state_dir);
/* Environment variable every process of a local graph carries: the (absolute) state directory.
 * It marks processes that outlived their supervisor, even ones that left its process groups. */
#define DYN_LOCAL_MARKER_ENV "DYN_UP_STATE_DIR"
/* SIGKILLs every process (but this one) whose environment carries the graph's marker. Returns
 * how many it found. */
int dyn_local_kill_leftovers(const char *state_dir);
/* The default state directory for a graph name (malloc'd). */
char *dyn_local_state_default(const char *graph_name);

/* ---- ports (ports.c) ---- */
/* A free TCP port on 127.0.0.1 that is not in `avoid` (n entries). */
int dyn_local_free_port(const int *avoid, size_t n);
/* True when something accepts connections on 127.0.0.1:port. */
bool dyn_local_port_in_use(int port);

/* ---- processes (process.c) ---- */
/* Forks and execs p (own process group, output to a pipe, mounts applied). */
dyn_status dyn_local_spawn(dyn_local_proc *p, dyn_error *err);
/* SIGTERM to the process group; *deadline for the SIGKILL. */
void dyn_local_signal(dyn_local_proc *p, int sig);
void dyn_local_proc_free(dyn_local_proc *p);
/* argv/env builders */
char **dyn_strv_new(void);
void dyn_strv_push(char ***v, const char *s);
void dyn_strv_pushf(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dyn_strv_setenv(char ***env, const char *name, const char *value);
/* dyn_strv_free is libdyn's (dyn/config.h) */

/* ---- readiness (probe.c) ---- */
/* 1 ready, 0 not yet (connection refused, non-2xx, timeout). */
int dyn_local_probe(const dyn_local_proc *p);

/* ---- platform (platform.c) ---- */
/* Adds nats-server and etcd processes (unless external URLs are given) and sets l->nats_url and
 * l->etcd_url. */
dyn_status dyn_local_platform_plan(dyn_local *l, dyn_error *err);

/* ---- the graph's replicas (replicas.c) ---- */
/* Adds one process per replica of every component of the plan. */
dyn_status dyn_local_replicas_plan(dyn_local *l, const dyn_plan *plan, const dyn_graph *g, dyn_error *err);

/* ---- running (supervisor.c) ---- */
/* Starts everything, supervises until SIGINT/SIGTERM, stops everything. Returns the exit code. */
int dyn_local_run(dyn_local *l);
/* Revokes every lease left in etcd (crashed components), before etcd stops. */
void dyn_local_revoke_leases(const char *etcd_url);

void dyn_local_free(dyn_local *l);
double dyn_local_now(void);

#endif
