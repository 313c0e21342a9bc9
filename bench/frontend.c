/* bench_frontend: the HTTP frontend's cost. The same mocker (zero delays, one token per
 * answer) is called two ways in the same run, alternating rounds:
 *
 *   (a) raw:  dyn_client_generate + read the stream (libdyn: NATS request, TCP call-home)
 *   (b) http: POST /v1/chat/completions (non-streaming) to `dyn frontend` over keep-alive
 *             HTTP/1.1, which does (a) itself and shapes the answer
 *
 * with 1 and 16 concurrent callers (the HTTP callers use a minimal keep-alive client, one
 * connection each); prints requests/s, p50/p99 latency and the ratio http/raw.
 * Everything runs in this process (three runtimes: worker, frontend, raw caller), against its
 * own nats-server and etcd on free loopback ports.
 *
 * Usage: bench_frontend [seconds per round, default 2] */
#include "dyn/rpc.h"
#include "frontend/frontend.h"
#include "mocker/mocker.h"
#include "servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char BODY[] = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":1}";

static double g_seconds = 2;
static dyn_client *g_client;
static int g_port;

typedef struct worker {
    int http;
    double *lat;
    size_t n, cap;
    int errors;
} worker;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void record(worker *w, double secs)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
    }
    w->lat[w->n++] = secs;
}

/* A minimal keep-alive HTTP/1.1 client (one connection per caller), so the figures measure
 * the frontend rather than a client library. Returns the status, or -1. */
static int http_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int http_post(int fd, const char *req, size_t reqlen, char *buf, size_t cap)
{
    if (write(fd, req, reqlen) != (ssize_t)reqlen)
        return -1;
    size_t have = 0;
    char *hend = NULL;
    while (!hend) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        hend = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "content-length:");
    if (!cl || cl > hend)
        return -1;
    size_t want = (size_t)(hend + 4 - buf) + strtoul(cl + 15, NULL, 10);
    while (have < want) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return atoi(buf + 9);
}

static void *run(void *arg)
{
    worker *w = arg;
    int fd = -1;
    char req[512], buf[16384];
    int reqlen = snprintf(req, sizeof req,
                          "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s", sizeof BODY - 1, BODY);
    if (w->http)
        fd = http_connect();
    double end = now_s() + g_seconds;
    while (now_s() < end) {
        double t0 = now_s();
        int ok = 0;
        if (w->http) {
            ok = fd >= 0 && http_post(fd, req, (size_t)reqlen, buf, sizeof buf) == 200;
            if (!ok) {
                if (fd >= 0)
                    close(fd);
                fd = http_connect();
            }
        } else {
            dyn_stream *s = NULL;
            dyn_error err = {0};
            if (dyn_client_generate(g_client, BODY, sizeof BODY - 1, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err) == DYN_OK) {
                const char *item;
                size_t n;
                int items = 0;
                dyn_status st;
                while ((st = dyn_stream_next(s, &item, &n, 10000, &err)) == DYN_OK && item)
                    items++;
                ok = st == DYN_OK && items == 1;
            }
            dyn_stream_free(s);
        }
        if (ok)
            record(w, now_s() - t0);
        else
            w->errors++;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double rps, p50, p99;
    int errors;
} result;

static result round_of(int http, int conc)
{
    worker *w = calloc((size_t)conc, sizeof *w);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    for (int i = 0; i < conc; i++) {
        w[i].http = http;
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    size_t total = 0;
    result r = {0};
    for (int i = 0; i < conc; i++) {
        pthread_join(t[i], NULL);
        total += w[i].n;
        r.errors += w[i].errors;
    }
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < conc; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, total, sizeof *all, cmp);
    r.rps = (double)total / g_seconds;
    r.p50 = total ? all[total / 2] * 1e3 : 0;
    r.p99 = total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0;
    free(all);
    free(w);
    free(t);
    return r;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 2;
    if (!getenv("DYN_LOG"))
        setenv("DYN_LOG", "warn", 1);
    test_server nats, etcd;
    if (ts_nats_start(&nats, "max_payload: 15728640") != 0 || ts_etcd_start(&etcd) != 0) {
        fprintf(stderr, "bench_frontend: cannot start nats-server/etcd\n");
        return 1;
    }
    setenv("NATS_SERVER", nats.url, 1);
    setenv("ETCD_ENDPOINTS", etcd.url, 1);
    setenv("DYN_CALLHOME_HOST", "127.0.0.1", 1);
    dyn_error err = {0};
    dyn_runtime *rt_worker = NULL, *rt_fe = NULL, *rt_raw = NULL;
    dyn_mocker *mock = NULL;
    dyn_frontend *fe = NULL;
    dyn_mocker_config mc;
    dyn_mocker_config_default(&mc);
    mc.model_name = "bench";
    mc.ttft_ms = mc.itl_ms = 0;
    mc.max_concurrency = 1024;
    dyn_frontend_config fc;
    dyn_frontend_config_default(&fc);
    fc.host = "127.0.0.1";
    fc.port = 0;
    int rc = 1;
    if (dyn_runtime_from_env(&rt_worker, &err) || dyn_runtime_from_env(&rt_fe, &err) ||
        dyn_runtime_from_env(&rt_raw, &err) || dyn_mocker_start(rt_worker, &mc, &mock, &err) ||
        dyn_frontend_start(rt_fe, &fc, &fe, &err) ||
        dyn_client_create(rt_raw, NULL, "backend", "generate", &g_client, &err) ||
        dyn_client_wait_instances(g_client, 1, 5000, &err)) {
        fprintf(stderr, "bench_frontend: %s\n", err.message);
        goto out;
    }
    g_port = dyn_frontend_port(fe);
    /* Wait until the frontend's model watch has the model. */
    for (int i = 0; i < 100; i++) {
        worker w = {.http = 1};
        double saved = g_seconds;
        g_seconds = 0.001;
        run(&w);
        g_seconds = saved;
        free(w.lat);
        if (w.n)
            break;
        ts_sh(2, "sleep 0.05");
    }
    printf("bench_frontend: %.1f s per round, chat completion of 1 token, mocker at zero delay\n", g_seconds);
    printf("%-6s %-5s %12s %10s %10s %7s\n", "callers", "path", "requests/s", "p50 ms", "p99 ms", "errors");
    static const int CONC[] = {1, 16};
    for (size_t ci = 0; ci < 2; ci++) {
        int conc = CONC[ci];
        result best[2] = {{0}};
        for (int rnd = 0; rnd < 2; rnd++)
            for (int http = 0; http < 2; http++) {
                result r = round_of(http, conc);
                printf("%-7d %-5s %12.0f %10.3f %10.3f %7d\n", conc, http ? "http" : "raw", r.rps, r.p50, r.p99, r.errors);
                if (r.rps > best[http].rps)
                    best[http] = r;
            }
        printf("  %d caller%s: http/raw throughput %.2f (HTTP costs %.0f%%), p99 %.3f vs %.3f ms\n", conc,
               conc > 1 ? "s" : "", best[1].rps / best[0].rps, (1 - best[1].rps / best[0].rps) * 100, best[1].p99,
               best[0].p99);
    }
    rc = 0;
out:
    dyn_client_destroy(g_client);
    dyn_frontend_stop(fe);
    dyn_mocker_stop(mock);
    dyn_runtime_destroy(rt_raw);
    dyn_runtime_destroy(rt_fe);
    dyn_runtime_destroy(rt_worker);
    ts_destroy(&etcd);
    ts_destroy(&nats);
    return rc;
}
