/* bench_rpc: libdyn request/streaming-response vs raw nats.c request/reply, same run, loopback.
 *
 *   (a) raw:     natsConnection_Request to a trivial responder (the baseline)
 *   (b) dyn-1:   dyn_client_generate + one streamed item (NATS request + ack, TCP call-home)
 *   (c) 10 MiB:  a 10 MiB payload round trip, raw (request + echo reply) and libdyn
 *                (request {"echo": <10 MiB string>} streamed back as one item)
 * each with 1 and 32 concurrent requesters; prints requests/s, p50/p99 latency and the ratio of
 * libdyn's rate to the raw rate. Starts its own nats-server (-js, max_payload 15 MiB) and etcd
 * on free loopback ports unless NATS_SERVER and ETCD_ENDPOINTS are set.
 *
 * Usage: bench_rpc [seconds per case, default 3] */
#include "base/fs.h"
#include "dyn/rpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG (10u << 20)

static double g_seconds = 3;
static pid_t g_pids[2];
static char g_dir[64];

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- servers ---- */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *f = freopen(log, "w", stdout);
        (void)f;
        dup2(1, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop_servers(void)
{
    for (int i = 0; i < 2; i++)
        if (g_pids[i] > 0) {
            kill(g_pids[i], SIGKILL);
            waitpid(g_pids[i], NULL, 0);
            g_pids[i] = 0;
        }
    if (g_dir[0]) {
        if (dyn_remove_tree(g_dir) != 0)
            fprintf(stderr, "could not remove %s\n", g_dir);
    }
}

static void start_servers(void)
{
    if (getenv("NATS_SERVER") && getenv("ETCD_ENDPOINTS"))
        return;
    snprintf(g_dir, sizeof g_dir, "/tmp/dyn-bench-rpc-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(stop_servers);
    int np = free_port(), ep = free_port(), pp = free_port();
    char conf[256], log[256], url[128];
    snprintf(conf, sizeof conf, "%s/nats.conf", g_dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "host: 127.0.0.1\nport: %d\nmax_payload: 15728640\nmax_pending: 1073741824\n"
               "jetstream { store_dir: \"%s/js\" }\n", np, g_dir);
    fclose(f);
    snprintf(log, sizeof log, "%s/nats.log", g_dir);
    g_pids[0] = spawn((char *const[]){"/usr/sbin/nats-server", "-c", conf, NULL}, log);
    char data[128], cl[64], pe[64], cluster[96];
    snprintf(data, sizeof data, "%s/etcd", g_dir);
    snprintf(cl, sizeof cl, "http://127.0.0.1:%d", ep);
    snprintf(pe, sizeof pe, "http://127.0.0.1:%d", pp);
    snprintf(cluster, sizeof cluster, "b=%s", pe);
    snprintf(log, sizeof log, "%s/etcd.log", g_dir);
    g_pids[1] = spawn((char *const[]){"/usr/bin/etcd", "--name", "b", "--data-dir", data, "--listen-client-urls", cl,
                                      "--advertise-client-urls", cl, "--listen-peer-urls", pe,
                                      "--initial-advertise-peer-urls", pe, "--initial-cluster", cluster,
                                      "--log-level", "error", "--logger", "zap", NULL}, log);
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", np);
    setenv("NATS_SERVER", url, 1);
    setenv("ETCD_ENDPOINTS", cl, 1);
    setenv("DYN_CALLHOME_HOST", "127.0.0.1", 0);
    sleep(2);
}

/* ---- handlers ---- */
static void raw_responder(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    if (natsMsg_GetDataLength(msg) > 64)
        natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    else
        natsConnection_Publish(nc, natsMsg_GetReply(msg), "\"ok\"", 4);
    natsMsg_Destroy(msg);
}

static dyn_status dyn_handler(dyn_request *req, const char *body, size_t len, void *ud)
{
    (void)ud;
    static const char pre[] = "{\"echo\":";
    if (len > sizeof pre && memcmp(body, pre, sizeof pre - 1) == 0)
        return dyn_request_send_last(req, body + sizeof pre - 1, len - sizeof pre);
    return dyn_request_send_last(req, "\"ok\"", 4);
}

/* ---- load ---- */
typedef struct {
    int mode;               /* 0 raw, 1 dyn */
    natsConnection *nc;
    dyn_client *client;
    const char *payload;
    size_t plen;
    double deadline;
    double *lat;
    size_t n, cap;
    int errors;
    char last_error[256];
} worker;

static void *load(void *arg)
{
    worker *w = arg;
    while (now_s() < w->deadline) {
        double t0 = now_s();
        int ok = 0;
        if (w->mode == 0) {
            natsMsg *reply = NULL;
            natsStatus s = natsConnection_Request(&reply, w->nc, "bench.raw", w->payload, (int)w->plen, 10000);
            ok = s == NATS_OK && natsMsg_GetDataLength(reply) == (w->plen > 64 ? (int)w->plen : 4);
            if (s != NATS_OK)
                snprintf(w->last_error, sizeof w->last_error, "%s", natsStatus_GetText(s));
            natsMsg_Destroy(reply);
        } else {
            dyn_stream *s = NULL;
            dyn_error err = {0};
            if (dyn_client_generate(w->client, w->payload, w->plen, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err) == DYN_OK) {
                const char *item;
                size_t len;
                int items = 0;
                while (dyn_stream_next(s, &item, &len, 10000, &err) == DYN_OK && item)
                    items++;
                ok = items == 1 && err.message[0] == '\0';
            }
            if (!ok)
                snprintf(w->last_error, sizeof w->last_error, "%s", err.message);
            dyn_stream_free(s);
        }
        if (!ok) {
            w->errors++;
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        }
        w->lat[w->n++] = now_s() - t0;
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double rps, p50, p99;
    int errors;
} result;

/* One timed run of conc requesters; appends latencies to *lat. Returns requests/s. */
static double run_once(int mode, natsConnection *nc, dyn_client *c, const char *payload, size_t plen, int conc,
                       double secs, double **lat, size_t *nlat, int *errors)
{
    worker *ws = calloc((size_t)conc, sizeof *ws);
    pthread_t *th = calloc((size_t)conc, sizeof *th);
    double start = now_s(), deadline = start + secs;
    for (int i = 0; i < conc; i++) {
        ws[i] = (worker){.mode = mode, .nc = nc, .client = c, .payload = payload, .plen = plen, .deadline = deadline};
        pthread_create(&th[i], NULL, load, &ws[i]);
    }
    size_t total = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].n;
        *errors += ws[i].errors;
        if (ws[i].errors)
            fprintf(stderr, "  (errors: %d, last: %s)\n", ws[i].errors, ws[i].last_error);
    }
    double elapsed = now_s() - start;
    *lat = realloc(*lat, (*nlat + total + 1) * sizeof **lat);
    for (int i = 0; i < conc; i++) {
        memcpy(*lat + *nlat, ws[i].lat, ws[i].n * sizeof **lat);
        *nlat += ws[i].n;
        free(ws[i].lat);
    }
    free(ws);
    free(th);
    return (double)total / elapsed;
}

#define ROUNDS 3

/* Raw and libdyn take turns (ROUNDS rounds each) so background load hits both alike; the
 * median round's rate and the pooled latency percentiles are reported. */
static void run_pair(natsConnection *rawc, dyn_client *c, const char *raw_payload, size_t raw_len,
                     const char *dyn_payload, size_t dyn_len, int conc, result *raw, result *dyn)
{
    double rr[ROUNDS], dr[ROUNDS];
    double *rl = NULL, *dlat = NULL;
    size_t nrl = 0, ndl = 0;
    memset(raw, 0, sizeof *raw);
    memset(dyn, 0, sizeof *dyn);
    for (int i = 0; i < ROUNDS; i++) {
        rr[i] = run_once(0, rawc, NULL, raw_payload, raw_len, conc, g_seconds / ROUNDS, &rl, &nrl, &raw->errors);
        dr[i] = run_once(1, NULL, c, dyn_payload, dyn_len, conc, g_seconds / ROUNDS, &dlat, &ndl, &dyn->errors);
    }
    qsort(rr, ROUNDS, sizeof rr[0], cmp_d);
    qsort(dr, ROUNDS, sizeof dr[0], cmp_d);
    qsort(rl, nrl, sizeof *rl, cmp_d);
    qsort(dlat, ndl, sizeof *dlat, cmp_d);
    raw->rps = rr[ROUNDS / 2];
    dyn->rps = dr[ROUNDS / 2];
    raw->p50 = nrl ? rl[nrl / 2] * 1e3 : 0;
    raw->p99 = nrl ? rl[(size_t)((double)nrl * 0.99)] * 1e3 : 0;
    dyn->p50 = ndl ? dlat[ndl / 2] * 1e3 : 0;
    dyn->p99 = ndl ? dlat[(size_t)((double)ndl * 0.99)] * 1e3 : 0;
    free(rl);
    free(dlat);
}

static void print_row(const char *name, int conc, result r, double base_rps)
{
    printf("%-22s %4d %10.0f %10.3f %10.3f %8.2fx%s\n", name, conc, r.rps, r.p50, r.p99,
           base_rps > 0 ? r.rps / base_rps : 1.0, r.errors ? "  (errors!)" : "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 3;
    setenv("DYN_LOG", "warn", 0);
    start_servers();
    dyn_error err = {0};
    dyn_runtime *worker_rt = NULL, *client_rt = NULL;
    if (dyn_runtime_from_env(&worker_rt, &err) != DYN_OK || dyn_runtime_from_env(&client_rt, &err) != DYN_OK) {
        fprintf(stderr, "bench_rpc: %s\n", err.message);
        return 1;
    }
    /* Raw baseline: its own responder and requester connections, like libdyn's two runtimes. */
    dyn_nats *raw_srv = NULL, *raw_cli = NULL;
    dyn_rt_config cfg;
    dyn_rt_config_from_env(&cfg, &err);
    if (dyn_nats_connect(&cfg, &raw_srv, &err) != DYN_OK || dyn_nats_connect(&cfg, &raw_cli, &err) != DYN_OK) {
        fprintf(stderr, "bench_rpc: %s\n", err.message);
        return 1;
    }
    dyn_rt_config_free(&cfg);
    natsSubscription *sub = NULL;
    natsConnection_QueueSubscribe(&sub, dyn_nats_conn(raw_srv), "bench.raw", "q", raw_responder, NULL);
    natsSubscription_SetPendingLimits(sub, 65536, 1 << 30);
    natsConnection_Flush(dyn_nats_conn(raw_srv));

    dyn_endpoint *ep = NULL;
    dyn_client *c = NULL;
    if (dyn_endpoint_serve(worker_rt, "bench", "generate", dyn_handler, NULL, &ep, &err) != DYN_OK ||
        dyn_client_create(client_rt, NULL, "bench", "generate", &c, &err) != DYN_OK ||
        dyn_client_wait_instances(c, 1, 5000, &err) != DYN_OK) {
        fprintf(stderr, "bench_rpc: %s\n", err.message);
        return 1;
    }
    /* 10 MiB payloads: raw is the bytes; libdyn is {"echo":"<bytes>"}. */
    char *big_raw = malloc(BIG);
    memset(big_raw, 'x', BIG);
    size_t dl = BIG + 12;
    char *big_dyn = malloc(dl + 1);
    memcpy(big_dyn, "{\"echo\":\"", 9);
    memset(big_dyn + 9, 'x', BIG);
    memcpy(big_dyn + 9 + BIG, "\"}", 3);
    dl = strlen(big_dyn);

    printf("bench_rpc: %.0f s per case (raw and libdyn alternate, %d rounds each, median rate), loopback, %s\n",
           g_seconds, ROUNDS, getenv("NATS_SERVER"));
    printf("%-22s %4s %10s %10s %10s %9s\n", "case", "conc", "req/s", "p50 ms", "p99 ms", "vs raw");
    natsConnection *rawc = dyn_nats_conn(raw_cli);
    int concs[] = {1, 32};
    double *wl = NULL;
    size_t nwl = 0;
    int werr = 0;
    run_once(0, rawc, NULL, "{}", 2, 4, 0.5, &wl, &nwl, &werr);      /* warm-up */
    run_once(1, NULL, c, "{}", 2, 4, 0.5, &wl, &nwl, &werr);
    free(wl);
    /* BENCH_PROFILE=<conc>: only libdyn single-item calls for the whole duration (for perf). */
    if (getenv("BENCH_PROFILE")) {
        double *pl = NULL;
        size_t npl = 0;
        int perr = 0;
        double rps = run_once(1, NULL, c, "{}", 2, atoi(getenv("BENCH_PROFILE")), g_seconds, &pl, &npl, &perr);
        printf("libdyn 1 item, %s requesters: %.0f req/s\n", getenv("BENCH_PROFILE"), rps);
        free(pl);
        concs[0] = concs[1] = 0;
    }
    for (int i = 0; i < 2 && concs[i]; i++) {
        result raw, dyn;
        run_pair(rawc, c, "{}", 2, "{}", 2, concs[i], &raw, &dyn);
        print_row("raw request/reply", concs[i], raw, raw.rps);
        print_row("libdyn 1 item", concs[i], dyn, raw.rps);
    }
    for (int i = 0; i < 2 && concs[i]; i++) {
        result raw, dyn;
        run_pair(rawc, c, big_raw, BIG, big_dyn, dl, concs[i], &raw, &dyn);
        print_row("raw 10 MiB", concs[i], raw, raw.rps);
        print_row("libdyn 10 MiB", concs[i], dyn, raw.rps);
    }
    free(big_raw);
    free(big_dyn);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    dyn_nats_close(raw_srv);
    dyn_nats_close(raw_cli);
    dyn_runtime_destroy(client_rt);
    dyn_runtime_destroy(worker_rt);
    return 0;
}
