/* bench/up: the main job, measured.
 *
 * 1. Start-up: runs `dyn up` on a frontend + one mocker graph and times, from the fork, each
 *    part becoming ready (NATS, etcd, each replica) and the first successful chat completion.
 * 2. Throughput with the mocker at zero delay: non-streaming chat completions (max_tokens 1)
 *    through HTTP frontend -> NATS -> worker, against the raw libdyn call of the same request to
 *    the same worker (the baseline), both in this run, 1 and 16 concurrent callers. Prints
 *    requests/s, p50/p99 and the ratio (aim: HTTP costs at most 30% of the throughput).
 *
 * usage: bench_up [DYN_BINARY] [SECONDS_PER_ROUND]   (default build/dyn, 3 s) */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "dyn/rpc.h"

static const char graph_yaml[] =
    "apiVersion: nvidia.com/v1alpha1\n"
    "kind: DynamoGraphDeployment\n"
    "metadata:\n  name: benchup\n"
    "spec:\n  services:\n"
    "    Frontend:\n      componentType: frontend\n"
    "      extraPodSpec: {mainContainer: {command: [python3, -m, dynamo.frontend]}}\n"
    "    Mocker:\n      componentType: worker\n"
    "      extraPodSpec:\n        mainContainer:\n          command: [python3, -m, dynamo.mocker]\n"
    "          args: [--model-name, bench-model, --ttft-ms, \"0\", --itl-ms, \"0\", --max-concurrency, \"1024\"]\n";

static const char request[] = "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static int http_chat(CURL *c, const char *url)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code == 200;
}

/* ---- load rounds ---- */

typedef struct round {
    const char *url;          /* HTTP when set, else libdyn through client */
    dyn_client *client;
    double seconds;
    pthread_mutex_t lock;
    double *lat;
    size_t n, cap, errors;
} round_t;

static void record(round_t *r, double latency, bool ok)
{
    pthread_mutex_lock(&r->lock);
    if (!ok)
        r->errors++;
    else {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 4096;
            r->lat = realloc(r->lat, r->cap * sizeof *r->lat);
        }
        r->lat[r->n++] = latency;
    }
    pthread_mutex_unlock(&r->lock);
}

static bool libdyn_chat(dyn_client *client)
{
    dyn_stream *s;
    dyn_error err;
    if (dyn_client_generate(client, request, sizeof request - 1, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err) != DYN_OK)
        return false;
    const char *item;
    size_t len;
    bool ok = true;
    for (;;) {
        if (dyn_stream_next(s, &item, &len, 10000, &err) != DYN_OK) {
            ok = false;
            break;
        }
        if (!item)
            break;
    }
    dyn_stream_free(s);
    return ok;
}

static void *caller(void *arg)
{
    round_t *r = arg;
    CURL *c = r->url ? curl_easy_init() : NULL;
    double end = now() + r->seconds;
    while (now() < end) {
        double t0 = now();
        bool ok = r->url ? http_chat(c, r->url) : libdyn_chat(r->client);
        record(r, now() - t0, ok);
    }
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs one round; returns requests per second and fills p50/p99 (ms). */
static double run_round(const char *url, dyn_client *client, int callers, double seconds, double *p50, double *p99,
                        size_t *errors)
{
    round_t r = {.url = url, .client = client, .seconds = seconds};
    pthread_mutex_init(&r.lock, NULL);
    pthread_t th[64];
    double t0 = now();
    for (int i = 0; i < callers; i++)
        pthread_create(&th[i], NULL, caller, &r);
    for (int i = 0; i < callers; i++)
        pthread_join(th[i], NULL);
    double elapsed = now() - t0;
    qsort(r.lat, r.n, sizeof *r.lat, cmp_double);
    *p50 = r.n ? r.lat[r.n / 2] * 1e3 : 0;
    *p99 = r.n ? r.lat[(size_t)((double)r.n * 0.99)] * 1e3 : 0;
    *errors = r.errors;
    double rps = (double)r.n / elapsed;
    free(r.lat);
    pthread_mutex_destroy(&r.lock);
    return rps;
}

/* ---- start-up ---- */

typedef struct milestone {
    const char *needle;
    double at;
} milestone;

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dyn = argc > 1 ? argv[1] : "build/dyn";
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    char dir[] = "/tmp/dyn-bench-up-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char graph[512], state[512];
    snprintf(graph, sizeof graph, "%s/graph.yaml", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    FILE *g = fopen(graph, "w");
    fputs(graph_yaml, g);
    fclose(g);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int out[2];
    if (pipe(out) != 0)
        return 2;
    double t0 = now();
    pid_t up = fork();
    if (up == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        execl(dyn, dyn, "up", graph, "--http-port", "0", "--quiet", "--state-dir", state, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *upout = fdopen(out[0], "r");
    milestone ms[] = {{"nats     ready", 0}, {"etcd     ready", 0}, {"mocker-0 ready", 0},
                      {"frontend-0 ready", 0}, {"is ready:", 0}};
    size_t n_ms = sizeof ms / sizeof ms[0];
    char line[1024], url[256] = "";
    while (fgets(line, sizeof line, upout)) {
        for (size_t i = 0; i < n_ms; i++)
            if (!ms[i].at && strstr(line, ms[i].needle))
                ms[i].at = now() - t0;
        char *u = strstr(line, "http://127.0.0.1:");
        if (u && strstr(line, "is ready")) {
            snprintf(url, sizeof url, "%.*s/v1/chat/completions", (int)strcspn(u, " \n"), u);
            break;
        }
    }
    if (!url[0]) {
        fprintf(stderr, "bench/up: dyn up did not become ready\n");
        kill(up, SIGINT);
        waitpid(up, NULL, 0);
        return 1;
    }
    CURL *c = curl_easy_init();
    while (!http_chat(c, url) && now() - t0 < 60)
        usleep(10 * 1000);
    double first = now() - t0;
    curl_easy_cleanup(c);
    printf("bench/up: start-up of a frontend + 1 mocker graph (seconds since the fork of dyn up)\n");
    printf("  nats ready %.3f | etcd ready %.3f | mocker ready %.3f | frontend ready %.3f | all ready %.3f | first "
           "chat completion %.3f\n",
           ms[0].at, ms[1].at, ms[2].at, ms[3].at, ms[4].at, first);

    /* the baseline client connects to the graph's own NATS and etcd */
    char status_path[600];
    snprintf(status_path, sizeof status_path, "%s/status.json", state);
    json_t *st = json_load_file(status_path, 0, NULL);
    setenv("NATS_SERVER", json_string_value(json_object_get(st, "nats")), 1);
    setenv("ETCD_ENDPOINTS", json_string_value(json_object_get(st, "etcd")), 1);
    setenv("DYN_NAMESPACE", "default-benchup", 1);
    setenv("DYN_CALLHOME_HOST", "127.0.0.1", 1);
    json_decref(st);
    dyn_runtime *rt = NULL;
    dyn_client *client = NULL;
    dyn_error err;
    if (dyn_runtime_from_env(&rt, &err) != DYN_OK || dyn_client_create(rt, NULL, "backend", "generate", &client, &err) != DYN_OK ||
        dyn_client_wait_instances(client, 1, 10000, &err) != DYN_OK) {
        fprintf(stderr, "bench/up: libdyn baseline: %s\n", err.message);
        kill(up, SIGINT);
        waitpid(up, NULL, 0);
        return 1;
    }
    printf("\nbench/up: chat completions (max_tokens 1, mocker at zero delay), %.0f s per round\n", seconds);
    printf("  %-10s %-28s %10s %9s %9s %7s\n", "callers", "path", "req/s", "p50 ms", "p99 ms", "errors");
    int concurrency[] = {1, 16};
    for (size_t k = 0; k < 2; k++) {
        double p50a, p99a, p50b, p99b;
        size_t ea, eb;
        double raw = run_round(NULL, client, concurrency[k], seconds, &p50a, &p99a, &ea);
        double http = run_round(url, NULL, concurrency[k], seconds, &p50b, &p99b, &eb);
        printf("  %-10d %-28s %10.0f %9.2f %9.2f %7zu\n", concurrency[k], "libdyn call (baseline)", raw, p50a, p99a, ea);
        printf("  %-10d %-28s %10.0f %9.2f %9.2f %7zu\n", concurrency[k], "HTTP frontend -> worker", http, p50b, p99b, eb);
        printf("  %-10d %-28s %10.2f  (aim >= 0.77: HTTP adds at most 30%%)\n", concurrency[k], "ratio HTTP / baseline",
               raw > 0 ? http / raw : 0);
    }
    dyn_client_destroy(client);
    dyn_runtime_destroy(rt);
    kill(up, SIGINT);
    waitpid(up, NULL, 0);
    fclose(upout);
    if (dyn_remove_tree(dir) != 0)
        fprintf(stderr, "bench/up: could not remove %s\n", dir);
    curl_global_cleanup();
    return 0;
}
