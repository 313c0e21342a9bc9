/* Integration-test server helpers: see servers.h. */
#include "servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
static pid_t g_pids[MAX_PROCS];
static int g_hooked;

static void kill_all(void)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (g_pids[i] > 0) {
            kill(-g_pids[i], SIGKILL);
            waitpid(g_pids[i], NULL, 0);
            g_pids[i] = 0;
        }
    }
}

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (g_pids[i] > 0)
            kill(-g_pids[i], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void remember(pid_t pid)
{
    if (!g_hooked) {
        g_hooked = 1;
        atexit(kill_all);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGABRT, on_signal);
        signal(SIGPIPE, SIG_IGN);
    }
    for (int i = 0; i < MAX_PROCS; i++)
        if (g_pids[i] == 0) {
            g_pids[i] = pid;
            return;
        }
}

static void forget(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (g_pids[i] == pid)
            g_pids[i] = 0;
}

long long ts_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int ts_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

const char *ts_file(test_server *s, const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", s->dir, name);
    return buf;
}

static pid_t spawn(char *const argv[], char *const env_add[], const char *log)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        for (char *const *e = env_add; e && *e; e++)
            putenv(*e);
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    remember(pid);
    return pid;
}

static int wait_ready(test_server *s, int timeout_ms)
{
    long long end = ts_now_ms() + timeout_ms;
    while (ts_now_ms() < end) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            forget(s->pid);
            s->pid = 0;
            fprintf(stderr, "server exited early; log in %s\n", s->dir);
            return -1;
        }
        if (port_open(s->port)) {
            if (s->kind != TS_ETCD)
                return 0;
            if (s->tls[0][0] && ts_sh(5, "curl -sf -m 2 --cacert %s --cert %s --key %s -X POST -d '{}' %s/v3/maintenance/status >/dev/null",
                                      s->tls[0], s->tls[1], s->tls[2], s->url) == 0)
                return 0;
            if (!s->tls[0][0] && ts_sh(5, "curl -sf -m 2 -X POST -d '{}' %s/v3/maintenance/status >/dev/null", s->url) == 0)
                return 0;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "server on port %d not ready after %d ms; log in %s\n", s->port, timeout_ms, s->dir);
    return -1;
}

static int make_dir(test_server *s, const char *tag)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/dyn-rt-%s-XXXXXX", tag);
    return mkdtemp(s->dir) ? 0 : -1;
}

static int nats_launch(test_server *s)
{
    char conf_path[512];
    snprintf(conf_path, sizeof conf_path, "%s/nats.conf", s->dir);
    FILE *f = fopen(conf_path, "w");
    if (!f)
        return -1;
    fprintf(f, "host: 127.0.0.1\nport: %d\njetstream { store_dir: \"%s/js\" }\n%s\n", s->port, s->dir, s->conf);
    fclose(f);
    char *argv[] = {"/usr/sbin/nats-server", "-c", conf_path, NULL};
    char log[512];
    snprintf(log, sizeof log, "%s/nats.log", s->dir);
    s->pid = spawn(argv, NULL, log);
    return s->pid > 0 ? wait_ready(s, 10000) : -1;
}

int ts_nats_start(test_server *s, const char *extra_conf)
{
    memset(s, 0, sizeof *s);
    s->kind = TS_NATS;
    if (make_dir(s, "nats") != 0)
        return -1;
    snprintf(s->conf, sizeof s->conf, "%s", extra_conf ? extra_conf : "");
    s->port = ts_free_port();
    snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
    return nats_launch(s);
}

static int etcd_launch(test_server *s)
{
    char data[300], client[64], peer[64], cluster[96], log[512];
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(client, sizeof client, "http://127.0.0.1:%d", s->port);
    snprintf(peer, sizeof peer, "http://127.0.0.1:%d", s->peer_port);
    snprintf(cluster, sizeof cluster, "t=%s", peer);
    snprintf(log, sizeof log, "%s/etcd.log", s->dir);
    if (s->tls[0][0])
        snprintf(client, sizeof client, "https://127.0.0.1:%d", s->port);
    char *argv[] = {"/usr/bin/etcd", "--name", "t", "--data-dir", data,
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", cluster, "--logger", "zap", "--log-level", "warn",
                    s->tls[0][0] ? "--trusted-ca-file" : NULL, s->tls[0], "--cert-file", s->tls[1],
                    "--key-file", s->tls[2], "--client-cert-auth", NULL};
    s->pid = spawn(argv, NULL, log);
    return s->pid > 0 ? wait_ready(s, 15000) : -1;
}

int ts_etcd_start(test_server *s)
{
    memset(s, 0, sizeof *s);
    s->kind = TS_ETCD;
    if (make_dir(s, "etcd") != 0)
        return -1;
    s->port = ts_free_port();
    do
        s->peer_port = ts_free_port();
    while (s->peer_port == s->port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    return etcd_launch(s);
}

int ts_etcd_start_tls(test_server *s, const char *ca, const char *cert, const char *key)
{
    memset(s, 0, sizeof *s);
    s->kind = TS_ETCD;
    if (make_dir(s, "etcd") != 0)
        return -1;
    snprintf(s->tls[0], sizeof s->tls[0], "%s", ca);
    snprintf(s->tls[1], sizeof s->tls[1], "%s", cert);
    snprintf(s->tls[2], sizeof s->tls[2], "%s", key);
    s->port = ts_free_port();
    do
        s->peer_port = ts_free_port();
    while (s->peer_port == s->port);
    snprintf(s->url, sizeof s->url, "https://127.0.0.1:%d", s->port);
    return etcd_launch(s);
}

int ts_proc_start(test_server *s, char *const argv[], char *const env_add[])
{
    memset(s, 0, sizeof *s);
    s->kind = TS_PROC;
    if (make_dir(s, "proc") != 0)
        return -1;
    char log[512];
    snprintf(log, sizeof log, "%s/out.log", s->dir);
    s->pid = spawn(argv, env_add, log);
    return s->pid > 0 ? 0 : -1;
}

static void reap(test_server *s, int first_sig, int grace_ms)
{
    if (s->pid <= 0)
        return;
    kill(-s->pid, first_sig);
    long long end = ts_now_ms() + grace_ms;
    int st;
    while (waitpid(s->pid, &st, WNOHANG) == 0) {
        if (ts_now_ms() > end) {
            kill(-s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        sleep_ms(10);
    }
    forget(s->pid);
    s->pid = 0;
}

void ts_stop(test_server *s) { reap(s, SIGTERM, 5000); }
void ts_kill(test_server *s) { reap(s, SIGKILL, 5000); }

int ts_restart(test_server *s)
{
    ts_stop(s);
    return s->kind == TS_NATS ? nats_launch(s) : s->kind == TS_ETCD ? etcd_launch(s) : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void ts_destroy(test_server *s)
{
    ts_stop(s);
    if (s->dir[0] && !getenv("DYN_TEST_KEEP"))
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}

int ts_sh(int timeout_s, const char *fmt, ...)
{
    char cmd[4096], secs[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(secs, sizeof secs, "%d", timeout_s);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("timeout", "timeout", "-k", "2", secs, "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
