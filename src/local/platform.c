/* The embedded platform: a nats-server with JetStream and a single-member etcd, on free
 * loopback ports, their data under <state>/platform/. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "local/local.h"

/* The largest request a component may send: 15 MiB, as the original platform configures. */
enum { NATS_MAX_PAYLOAD = 15728640 };

static const char *find_program(const char *name, const char *fallback)
{
    static char found[PATH_MAX];
    const char *path = getenv("PATH");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof found, "%s/%s", dir, name);
        if (access(found, X_OK) == 0)
            return found;
    }
    return access(fallback, X_OK) == 0 ? fallback : NULL;
}

static dyn_local_proc *add_proc(dyn_local *l, const char *name)
{
    dyn_local_proc *procs = realloc(l->procs, (l->n_procs + 1) * sizeof *procs);
    if (!procs)
        abort();
    l->procs = procs;
    dyn_local_proc *p = &l->procs[l->n_procs++];
    memset(p, 0, sizeof *p);
    p->service = strdup(name);
    p->name = strdup(name);
    p->replica = -1;
    p->argv = dyn_strv_new();
    p->env = dyn_strv_new();
    for (char **e = environ; e && *e; e++)
        dyn_strv_push(&p->env, *e);
    dyn_strv_setenv(&p->env, DYN_LOCAL_MARKER_ENV, l->state_dir);
    if (asprintf(&p->log_path, "%s/logs/%s.log", l->state_dir, name) < 0)
        abort();
    if (asprintf(&p->workdir, "%s/platform", l->state_dir) < 0)
        abort();
    return p;
}

static dyn_status plan_nats(dyn_local *l, int *used, size_t *n_used, dyn_error *err)
{
    const char *bin = find_program("nats-server", "/usr/sbin/nats-server");
    if (!bin)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "nats-server is not installed (scripts/bootstrap installs it), "
                                                     "or give an external one with --nats URL");
    int port = dyn_local_free_port(used, *n_used);
    used[(*n_used)++] = port;
    int monitor = dyn_local_free_port(used, *n_used);
    used[(*n_used)++] = monitor;
    char conf[4096];
    snprintf(conf, sizeof conf, "%s/platform/nats.conf", l->state_dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return dyn_error_set(err, DYN_ERR_IO, "cannot write %s: %s", conf, strerror(errno));
    fprintf(f,
            "# written by dyn up for graph %s\n"
            "host: 127.0.0.1\nport: %d\nhttp: 127.0.0.1:%d\n"
            "max_payload: %d\nmax_pending: 67108864\n"
            "trace: false\ndebug: false\n"
            "jetstream {\n  store_dir: \"%s/platform/jetstream\"\n}\n",
            l->graph_name, port, monitor, NATS_MAX_PAYLOAD, l->state_dir);
    fclose(f);
    dyn_local_proc *p = add_proc(l, "nats");
    dyn_strv_push(&p->argv, bin);
    dyn_strv_push(&p->argv, "-c");
    dyn_strv_push(&p->argv, conf);
    p->port = port;
    p->probe_port = monitor;
    p->probe_path = strdup("/healthz");
    p->probe_period = 5;
    if (asprintf(&l->nats_url, "nats://127.0.0.1:%d", port) < 0)
        abort();
    return DYN_OK;
}

static dyn_status plan_etcd(dyn_local *l, int *used, size_t *n_used, dyn_error *err)
{
    const char *bin = find_program("etcd", "/usr/bin/etcd");
    if (!bin)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "etcd is not installed (scripts/bootstrap installs "
                                                     "etcd-server), or give an external one with --etcd URL");
    int client = dyn_local_free_port(used, *n_used);
    used[(*n_used)++] = client;
    int peer = dyn_local_free_port(used, *n_used);
    used[(*n_used)++] = peer;
    /* etcd holds only leases and registrations, which components rebuild: start it empty, so a
     * member from an earlier run with other ports never gets in the way */
    char data[4096];
    snprintf(data, sizeof data, "%s/platform/etcd", l->state_dir);
    if (dyn_remove_tree(data) != 0)
        return dyn_error_set(err, DYN_ERR_IO, "cannot clear %s: %s", data, strerror(errno));
    dyn_local_proc *p = add_proc(l, "etcd");
    dyn_strv_push(&p->argv, bin);
    dyn_strv_pushf(&p->argv, "--name=dyn-%s", l->graph_name);
    dyn_strv_pushf(&p->argv, "--data-dir=%s", data);
    dyn_strv_pushf(&p->argv, "--listen-client-urls=http://127.0.0.1:%d", client);
    dyn_strv_pushf(&p->argv, "--advertise-client-urls=http://127.0.0.1:%d", client);
    dyn_strv_pushf(&p->argv, "--listen-peer-urls=http://127.0.0.1:%d", peer);
    dyn_strv_pushf(&p->argv, "--initial-advertise-peer-urls=http://127.0.0.1:%d", peer);
    dyn_strv_pushf(&p->argv, "--initial-cluster=dyn-%s=http://127.0.0.1:%d", l->graph_name, peer);
    dyn_strv_push(&p->argv, "--logger=zap");
    dyn_strv_push(&p->argv, "--log-level=warn");
    p->port = client;
    p->probe_port = client;
    p->probe_path = strdup("/health");
    p->probe_period = 5;
    if (asprintf(&l->etcd_url, "http://127.0.0.1:%d", client) < 0)
        abort();
    return DYN_OK;
}

dyn_status dyn_local_platform_plan(dyn_local *l, dyn_error *err)
{
    int used[8];
    size_t n_used = 0;
    dyn_status st = DYN_OK;
    if (l->opts.nats_url)
        l->nats_url = strdup(l->opts.nats_url);
    else
        st = plan_nats(l, used, &n_used, err);
    if (st == DYN_OK && l->opts.etcd_url)
        l->etcd_url = strdup(l->opts.etcd_url);
    else if (st == DYN_OK)
        st = plan_etcd(l, used, &n_used, err);
    l->n_platform = l->n_procs;
    return st;
}
