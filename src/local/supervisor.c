/* The supervisor: one poll loop that starts the platform, then the replicas; forwards their
 * output with a coloured prefix per replica; restarts crashed processes with back-off; probes
 * readiness; and on SIGINT/SIGTERM stops everything in reverse order, leaving no process and no
 * lease behind. Signals arrive through a signalfd, so nothing happens in a signal handler. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local/local.h"

enum {
    STOP_GRACE_S = 10,         /* SIGTERM, then SIGKILL after this */
    PLATFORM_START_S = 30,     /* nats-server and etcd must answer within this */
    BACKOFF_MAX_S = 30,        /* restart delays double from 1 s up to this */
    BACKOFF_RESET_S = 60,      /* a process that ran this long restarts after 1 s again */
};

double dyn_local_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const int palette[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};

static void say(dyn_local *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(dyn_local *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (l->use_color)
        fputs("\033[1m", l->out);
    fputs("dyn up: ", l->out);
    vfprintf(l->out, fmt, ap);
    if (l->use_color)
        fputs("\033[0m", l->out);
    fputc('\n', l->out);
    fflush(l->out);
    va_end(ap);
}

static void set_state(dyn_local *l, dyn_local_proc *p, dyn_proc_state s)
{
    if (p->state == s)
        return;
    p->state = s;
    dyn_local_state_publish(l);
}

/* One line of a process's output: to its log file as is, to the terminal with its prefix. */
static void emit_line(dyn_local *l, dyn_local_proc *p, const char *line, size_t len)
{
    if (p->log) {
        fwrite(line, 1, len, p->log);
        fputc('\n', p->log);
        fflush(p->log);
    }
    if (l->opts.quiet)
        return;
    if (l->use_color)
        fprintf(l->out, "\033[%dm%-14s|\033[0m ", p->color, p->name);
    else
        fprintf(l->out, "%-14s| ", p->name);
    /* a component's escape sequences or binary must not drive the terminal: show them as \xNN */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            fprintf(l->out, "\\x%02x", c);
        else
            fputc(c, l->out);
    }
    fputc('\n', l->out);
    fflush(l->out);
}

static void drain_output(dyn_local *l, dyn_local_proc *p, bool final)
{
    if (p->out_fd <= 0)
        return;
    for (;;) {
        ssize_t n = read(p->out_fd, p->line + p->line_len, sizeof p->line - 1 - p->line_len);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR) || final) {
                if (n == 0 || final) {
                    if (p->line_len)
                        emit_line(l, p, p->line, p->line_len);
                    p->line_len = 0;
                    close(p->out_fd);
                    p->out_fd = -1;
                }
            }
            return;
        }
        p->line_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < p->line_len; i++)
            if (p->line[i] == '\n') {
                emit_line(l, p, p->line + start, i - start);
                start = i + 1;
            }
        if (start == 0 && p->line_len == sizeof p->line - 1) {
            emit_line(l, p, p->line, p->line_len); /* a very long line: pass it on in pieces */
            start = p->line_len;
        }
        memmove(p->line, p->line + start, p->line_len - start);
        p->line_len -= start;
    }
}

static bool start_proc(dyn_local *l, dyn_local_proc *p)
{
    dyn_error err;
    if (!p->log)
        p->log = fopen(p->log_path, "w"); /* each dyn up starts its logs afresh; restarts append */
    if (dyn_local_spawn(p, &err) != DYN_OK) {
        say(l, "%s: %s", p->name, err.message);
        return false;
    }
    p->next_probe = 0; /* a new process is probed at once, not at the old one's period */
    dyn_local_state_publish(l);
    return true;
}

static double backoff_seconds(int restarts)
{
    double d = 1;
    for (int i = 1; i < restarts && d < BACKOFF_MAX_S; i++)
        d *= 2;
    return d > BACKOFF_MAX_S ? BACKOFF_MAX_S : d;
}

static dyn_local_proc *proc_by_pid(dyn_local *l, pid_t pid)
{
    for (size_t i = 0; i < l->n_procs; i++)
        if (l->procs[i].pid == pid)
            return &l->procs[i];
    return NULL;
}

static void reap(dyn_local *l, bool stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        dyn_local_proc *p = proc_by_pid(l, pid);
        if (!p)
            continue;
        drain_output(l, p, true);
        dyn_local_signal(p, SIGKILL); /* anything the process left in its group goes too */
        p->pid = 0;
        char how[64];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
        else
            snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
        if (stopping || p->state == DYN_PROC_STOPPING) {
            set_state(l, p, DYN_PROC_STOPPED);
            continue;
        }
        double ran = dyn_local_now() - p->started_at;
        if (ran >= BACKOFF_RESET_S)
            p->restarts = 0;
        p->restarts++;
        double delay = backoff_seconds(p->restarts);
        p->next_start = dyn_local_now() + delay;
        say(l, "%s %s; restarting in %.0f s (restart %d)", p->name, how, delay, p->restarts);
        set_state(l, p, DYN_PROC_BACKOFF);
    }
}

static int make_signalfd(void)
{
    /* a shell starts background jobs with SIGINT ignored; an ignored signal never reaches a
     * signalfd, and Ctrl-C must always stop the graph */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Returns a termination signal when one arrived (SIGCHLD is handled by the caller's reap). */
static int read_signals(int sfd, bool *child)
{
    struct signalfd_siginfo si;
    int term = 0;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            *child = true;
        else
            term = (int)si.ssi_signo;
    }
    return term;
}

/* One turn of the loop: wait for output, signals or the next timer, up to timeout_ms. */
static int pump(dyn_local *l, int sfd, int timeout_ms, bool stopping)
{
    struct pollfd fds[1 + 512];
    dyn_local_proc *owners[1 + 512];
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    for (size_t i = 0; i < l->n_procs && n < 512; i++)
        if (l->procs[i].out_fd > 0) {
            owners[n] = &l->procs[i];
            fds[n++] = (struct pollfd){.fd = l->procs[i].out_fd, .events = POLLIN};
        }
    if (poll(fds, n, timeout_ms) < 0 && errno != EINTR)
        return 0;
    for (nfds_t i = 1; i < n; i++)
        if (fds[i].revents)
            drain_output(l, owners[i], false);
    bool child = false;
    int term = 0;
    if (fds[0].revents)
        term = read_signals(sfd, &child);
    if (child)
        reap(l, stopping);
    return term;
}

/* Starts NATS and etcd in turn and waits for each. Returns 1 when both answer, 0 when one did
 * not come up, and a termination signal's number when one arrived meanwhile. */
static int start_platform(dyn_local *l, int sfd)
{
    for (size_t i = 0; i < l->n_platform; i++) {
        dyn_local_proc *p = &l->procs[i];
        say(l, "%-8s starting", p->name);
        if (!start_proc(l, p))
            return 0;
        double deadline = dyn_local_now() + PLATFORM_START_S;
        while (dyn_local_probe(p) != 1) {
            int term = pump(l, sfd, 100, false);
            if (term)
                return term;
            if (p->state == DYN_PROC_BACKOFF || dyn_local_now() > deadline) {
                say(l, "%s did not come up (see %s)", p->name, p->log_path);
                return 0;
            }
        }
        set_state(l, p, DYN_PROC_READY);
        say(l, "%-8s ready    %s", p->name, strcmp(p->name, "nats") == 0 ? l->nats_url : l->etcd_url);
    }
    return 1;
}

static void stop_all(dyn_local *l, int sfd)
{
    /* components in reverse order first, the platform last (etcd before nats) */
    for (size_t pass = 0; pass < 2; pass++) {
        size_t from = pass == 0 ? l->n_platform : 0, to = pass == 0 ? l->n_procs : l->n_platform;
        /* a component that crashed or was killed leaves its lease; our own etcd must not keep
         * it (an external etcd is other people's: components revoke their own there) */
        if (pass == 1 && l->etcd_url && !l->opts.etcd_url)
            dyn_local_revoke_leases(l->etcd_url);
        for (size_t i = to; i-- > from;) {
            dyn_local_proc *p = &l->procs[i];
            if (p->pid > 0) {
                set_state(l, p, DYN_PROC_STOPPING);
                dyn_local_signal(p, SIGTERM);
            } else
                set_state(l, p, DYN_PROC_STOPPED);
        }
        double deadline = dyn_local_now() + STOP_GRACE_S;
        for (;;) {
            bool alive = false;
            for (size_t i = from; i < to; i++)
                alive = alive || l->procs[i].pid > 0;
            if (!alive)
                break;
            if (dyn_local_now() > deadline)
                for (size_t i = from; i < to; i++)
                    if (l->procs[i].pid > 0) {
                        say(l, "%s did not stop within %d s: killing it", l->procs[i].name, STOP_GRACE_S);
                        dyn_local_signal(&l->procs[i], SIGKILL);
                    }
            pump(l, sfd, 100, true);
        }
    }
}

int dyn_local_run(dyn_local *l)
{
    int sfd = make_signalfd();
    if (sfd < 0) {
        say(l, "signalfd: %s", strerror(errno));
        return 2;
    }
    for (size_t i = 0; i < l->n_procs; i++)
        l->procs[i].color = palette[i % (sizeof palette / sizeof palette[0])];
    dyn_local_state_publish(l);
    int rc = 0, term = 0;
    int started = start_platform(l, sfd);
    if (started != 1) {
        /* interrupted while starting: a clean stop; a part that did not come up: a failure */
        if (started > 1)
            say(l, "stopping (%s)", strsignal(started));
        stop_all(l, sfd);
        close(sfd);
        return started > 1 ? 0 : 1;
    }
    for (size_t i = l->n_platform; i < l->n_procs; i++) {
        say(l, "%-8s pending  %s", l->procs[i].name, l->procs[i].argv[0]);
        if (!start_proc(l, &l->procs[i])) {
            l->procs[i].restarts++;
            l->procs[i].next_start = dyn_local_now() + backoff_seconds(l->procs[i].restarts);
            set_state(l, &l->procs[i], DYN_PROC_BACKOFF);
        }
    }
    bool announced = false;
    while (!term) {
        term = pump(l, sfd, 200, false);
        double now = dyn_local_now();
        for (size_t i = 0; i < l->n_procs; i++) {
            dyn_local_proc *p = &l->procs[i];
            if (p->state == DYN_PROC_BACKOFF && now >= p->next_start && start_proc(l, p))
                say(l, "%-8s restarted", p->name);
        }
        /* starting processes are probed twice a second; ready ones at their probe period */
        bool all_ready = true;
        for (size_t i = 0; i < l->n_procs; i++) {
            dyn_local_proc *p = &l->procs[i];
            if (p->state != DYN_PROC_STARTING && p->state != DYN_PROC_READY) {
                all_ready = false;
                continue;
            }
            if (now < p->next_probe) {
                all_ready = all_ready && p->state == DYN_PROC_READY;
                continue;
            }
            int ok = dyn_local_probe(p);
            p->next_probe = now + (ok && p->probe_period > 0 ? p->probe_period : 0.5);
            if (ok && p->state == DYN_PROC_STARTING) {
                set_state(l, p, DYN_PROC_READY);
                if (p->port)
                    say(l, "%-8s ready    pid %d, port %d", p->name, (int)p->pid, p->port);
                else
                    say(l, "%-8s ready    pid %d", p->name, (int)p->pid);
            } else if (!ok && p->state == DYN_PROC_READY) {
                set_state(l, p, DYN_PROC_STARTING);
                say(l, "%-8s not ready (readiness probe failing)", p->name);
            }
            all_ready = all_ready && ok;
        }
        if (all_ready && !announced) {
            announced = true;
            if (l->frontend_url)
                say(l, "graph %s is ready: %s   (Ctrl-C stops it)", l->graph_name, l->frontend_url);
            else
                say(l, "graph %s is ready   (Ctrl-C stops it)", l->graph_name);
        }
    }
    say(l, "stopping (%s)", strsignal(term));
    stop_all(l, sfd);
    int left = dyn_local_kill_leftovers(l->state_dir); /* e.g. a component's setsid'd children */
    if (left)
        say(l, "killed %d process%s the components left behind", left, left == 1 ? "" : "es");
    say(l, "stopped; volumes kept in %s/volumes", l->state_dir);
    close(sfd);
    return rc;
}

void dyn_local_free(dyn_local *l)
{
    for (size_t i = 0; i < l->n_procs; i++)
        dyn_local_proc_free(&l->procs[i]);
    free(l->procs);
    free(l->state_dir);
    free(l->graph_name);
    free(l->nats_url);
    free(l->etcd_url);
    free(l->frontend_url);
    if (l->lock_fd > 0)
        close(l->lock_fd);
    memset(l, 0, sizeof *l);
}
