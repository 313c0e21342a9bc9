/* Starting and signalling one supervised process, and the argv/env vectors it runs with. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local/local.h"

char **dyn_strv_new(void)
{
    char **v = calloc(1, sizeof *v);
    if (!v)
        abort();
    return v;
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void dyn_strv_push(char ***v, const char *s)
{
    size_t n = strv_len(*v);
    char **grown = realloc(*v, (n + 2) * sizeof *grown);
    if (!grown)
        abort();
    grown[n] = strdup(s);
    grown[n + 1] = NULL;
    *v = grown;
}

void dyn_strv_pushf(char ***v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    dyn_strv_push(v, s);
    free(s);
}

void dyn_strv_setenv(char ***env, const char *name, const char *value)
{
    size_t nl = strlen(name);
    for (char **e = *env; *e; e++)
        if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=') {
            free(*e);
            if (asprintf(e, "%s=%s", name, value) < 0)
                abort();
            return;
        }
    dyn_strv_pushf(env, "%s=%s", name, value);
}

static void mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* In the child: give it its PVC directories at their mount paths in a private mount namespace.
 * Needs CAP_SYS_ADMIN (root); otherwise the paths are handed over in DYN_LOCAL_MOUNTS. */
static void apply_mounts(dyn_local_proc *p, char ***env)
{
    if (p->n_mounts == 0)
        return;
    bool bound = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    for (size_t i = 0; bound && i < p->n_mounts; i++) {
        dyn_local_mount *m = &p->mounts[i];
        mkdir_p(m->path);
        if (mount(m->host_dir, m->path, NULL, MS_BIND | MS_REC, NULL) != 0) {
            bound = false;
            break;
        }
        if (m->read_only)
            mount(NULL, m->path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    }
    if (bound)
        return;
    /* unprivileged fallback: tell the component where its volumes are */
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    for (size_t i = 0; i < p->n_mounts; i++)
        fprintf(f, "%s%s=%s", i ? ":" : "", p->mounts[i].path, p->mounts[i].host_dir);
    fclose(f);
    dyn_strv_setenv(env, "DYN_LOCAL_MOUNTS", list);
    fprintf(stderr, "dyn up: cannot bind-mount volumes here (%s; bind mounts need root); their directories are "
                    "in DYN_LOCAL_MOUNTS=%s\n",
            strerror(errno), list);
    free(list);
}

dyn_status dyn_local_spawn(dyn_local_proc *p, dyn_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return dyn_error_set(err, DYN_ERR_IO, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return dyn_error_set(err, DYN_ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* child: own process group (so a stop reaches its children), dies with the supervisor */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, STDIN_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char **env = p->env;
        apply_mounts(p, &env);
        if (p->workdir && chdir(p->workdir) != 0)
            fprintf(stderr, "dyn up: cannot enter %s: %s\n", p->workdir, strerror(errno));
        execvpe(p->argv[0], p->argv, env);
        fprintf(stderr, "dyn up: cannot run %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no race with the first signal */
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    p->pid = pid;
    p->out_fd = fds[0];
    p->line_len = 0;
    p->started_at = dyn_local_now();
    p->state = DYN_PROC_STARTING;
    return DYN_OK;
}

void dyn_local_signal(dyn_local_proc *p, int sig)
{
    if (p->pid > 0)
        kill(-p->pid, sig); /* the whole process group */
}

void dyn_local_proc_free(dyn_local_proc *p)
{
    free(p->service);
    free(p->name);
    dyn_strv_free(p->argv);
    dyn_strv_free(p->env);
    free(p->workdir);
    free(p->probe_path);
    for (size_t i = 0; i < p->n_mounts; i++) {
        free(p->mounts[i].host_dir);
        free(p->mounts[i].path);
    }
    free(p->mounts);
    free(p->log_path);
    if (p->out_fd > 0)
        close(p->out_fd);
    if (p->log)
        fclose(p->log);
    memset(p, 0, sizeof *p);
}
