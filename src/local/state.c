/* The state directory of a local graph: lock, layout and the published status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local/local.h"

char *dyn_local_state_default(const char *graph_name)
{
    char *s = NULL;
    if (asprintf(&s, ".dyn/%s", graph_name) < 0)
        abort();
    return s;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

dyn_status dyn_local_state_open(dyn_local *l, dyn_error *err)
{
    static const char *const subdirs[] = {"", "/logs", "/volumes", "/run", "/platform"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", l->state_dir, subdirs[i]);
        if (mkdir_p(path) != 0)
            return dyn_error_set(err, DYN_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/lock", l->state_dir);
    l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0)
        return dyn_error_set(err, DYN_ERR_IO, "cannot open %s: %s", lock, strerror(errno));
    if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        json_t *st = dyn_local_state_read(l->state_dir);
        long pid = st ? (long)json_integer_value(json_object_get(st, "supervisor_pid")) : 0;
        json_decref(st);
        close(l->lock_fd);
        l->lock_fd = -1;
        char how[4200];
        if (l->opts.state_dir)
            snprintf(how, sizeof how, "dyn down --state-dir %s", l->state_dir);
        else
            snprintf(how, sizeof how, "dyn down %s", l->graph_name);
        return dyn_error_set(err, DYN_ERR_CONFLICT,
                             "graph \"%s\" is already up (state %s%s%.0ld); stop it with '%s' or use another "
                             "--state-dir",
                             l->graph_name, l->state_dir, pid > 0 ? ", supervisor pid " : "", pid > 0 ? pid : 0L, how);
    }
    return DYN_OK;
}

void dyn_local_state_publish(dyn_local *l)
{
    json_t *procs = json_array();
    for (size_t i = 0; i < l->n_procs; i++) {
        const dyn_local_proc *p = &l->procs[i];
        json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:s, s:i, s:s}", "service", p->service, "name", p->name,
                              "pid", (json_int_t)(p->state == DYN_PROC_STOPPED ? 0 : p->pid), "port", p->port,
                              "state", dyn_proc_state_name(p->state), "restarts", p->restarts, "log", p->log_path);
        if (p->replica >= 0)
            json_object_set_new(o, "replica", json_integer(p->replica));
        else
            json_object_set_new(o, "replica", json_null());
        json_array_append_new(procs, o);
    }
    json_t *st = json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:s?, s:o}", "graph", l->graph_name, "state_dir",
                           l->state_dir, "supervisor_pid", (json_int_t)getpid(), "nats", l->nats_url, "etcd",
                           l->etcd_url, "frontend", l->frontend_url, "processes", procs);
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/status.json.tmp", l->state_dir);
    snprintf(path, sizeof path, "%s/status.json", l->state_dir);
    if (json_dump_file(st, tmp, JSON_INDENT(2)) == 0)
        rename(tmp, path);
    json_decref(st);
}

json_t *dyn_local_state_read(const char *state_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/status.json", state_dir);
    return json_load_file(path, 0, NULL);
}

char **dyn_local_state_list(const char *base)
{
    char **out = dyn_strv_new();
    DIR *d = opendir(base);
    if (!d)
        return out;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096], status[4200];
        snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        snprintf(status, sizeof status, "%s/status.json", path);
        if (access(status, R_OK) == 0)
            dyn_strv_push(&out, path);
    }
    closedir(d);
    return out;
}

bool dyn_local_state_running(const char *state_dir)
{
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/lock", state_dir);
    int fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* also drops the shared lock if we got it */
    return held;
}

int dyn_local_kill_leftovers(const char *state_dir)
{
    char marker[4200];
    int mlen = snprintf(marker, sizeof marker, "%s=%s", DYN_LOCAL_MARKER_ENV, state_dir);
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid())
            continue;
        char path[64], env[65536];
        snprintf(path, sizeof path, "/proc/%ld/environ", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, env, sizeof env - 1);
        close(fd);
        for (ssize_t i = 0; n > 0 && i < n;) {
            const char *var = env + i;
            size_t len = strnlen(var, (size_t)(n - i));
            if ((int)len == mlen && memcmp(var, marker, len) == 0) {
                kill((pid_t)pid, SIGKILL);
                found++;
                break;
            }
            i += (ssize_t)len + 1;
        }
    }
    closedir(d);
    return found;
}

const char *dyn_proc_state_name(dyn_proc_state s)
{
    switch (s) {
    case DYN_PROC_PENDING: return "pending";
    case DYN_PROC_STARTING: return "starting";
    case DYN_PROC_READY: return "ready";
    case DYN_PROC_BACKOFF: return "backoff";
    case DYN_PROC_STOPPING: return "stopping";
    case DYN_PROC_STOPPED: return "stopped";
    }
    return "unknown";
}
