/* dyn frontend + dyn mocker end to end over real nats-server and etcd: the OpenAI routes
 * (streaming and not), embeddings up to 10 MiB, error statuses, client disconnect stopping the
 * worker, the mocker's back-pressure, metrics, and NATS going away and coming back.
 *
 * Processes: nats-server, etcd, three `dyn mocker` (fast "mock-a", "mock-bp" with concurrency 1
 * and queue 1, both in namespace dynamo) and one `dyn frontend` with a 1 MiB body limit. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dyn/etcd.h"
#include "servers.h"
#include "rtenv.h"

static test_server g_nats, g_etcd, g_fe, g_mock_a, g_mock_bp;
static int g_fe_port, g_a_port, g_bp_port;

/* ---- HTTP client (libcurl) ---- */

typedef struct http_resp {
    long status;
    char *body;
    size_t len;
    double secs;
    size_t abort_after;          /* close the connection after this many bytes (0 = never) */
} http_resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    http_resp *r = ud;
    size_t k = sz * n;
    char *b = realloc(r->body, r->len + k + 1);
    if (!b)
        return 0;
    r->body = b;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    if (r->abort_after && r->len >= r->abort_after)
        return 0;                /* makes curl drop the connection: a client that goes away */
    return k;
}

static int http(int port, const char *method, const char *path, const char *body, size_t blen, http_resp *r)
{
    size_t abort_after = r->abort_after;
    memset(r, 0, sizeof *r);
    r->abort_after = abort_after;
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    long long t0 = ts_now_ms();
    CURLcode rc = curl_easy_perform(c);
    r->secs = (double)(ts_now_ms() - t0) / 1000.0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r->body)
        r->body = calloc(1, 1);
    return rc == CURLE_OK ? 0 : (int)rc;
}

static long post(const char *path, const char *body, http_resp *r)
{
    r->abort_after = 0;
    http(g_fe_port, "POST", path, body, strlen(body), r);
    return r->status;
}

static json_t *body_json(const http_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->len, 0, &e);
    if (!j)
        fail_msg("response is not JSON (%s): %.300s", e.text, r->body);
    return j;
}

static void expect_error(const http_resp *r, long status, const char *type, const char *code)
{
    assert_int_equal(r->status, status);
    json_t *j = body_json(r);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_string_equal(json_string_value(json_object_get(e, "type")), type);
    assert_non_null(json_object_get(e, "param"));
    if (code)
        assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    else
        assert_true(json_is_null(json_object_get(e, "code")));
    json_decref(j);
}

/* The value of one sample line (exact name and labels) in a /metrics body; -1 if absent. */
static double metric(int port, const char *sample)
{
    http_resp r = {0};
    http(port, "GET", "/metrics", NULL, 0, &r);
    double v = -1;
    size_t n = strlen(sample);
    for (char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, sample, n) == 0 && p[n] == ' ')
            v = atof(p + n + 1);
    free(r.body);
    return v;
}

static int wait_status(int port, const char *path, long want, int timeout_ms)
{
    long long end = ts_now_ms() + timeout_ms;
    while (ts_now_ms() < end) {
        http_resp r = {0};
        http(port, "GET", path, NULL, 0, &r);
        int ok = r.status == want;
        free(r.body);
        if (ok)
            return 0;
        usleep(50000);
    }
    return -1;
}

static int wait_models(const char *want, int timeout_ms)
{
    long long end = ts_now_ms() + timeout_ms;
    while (ts_now_ms() < end) {
        http_resp r = {0};
        http(g_fe_port, "GET", "/v1/models", NULL, 0, &r);
        char needle[160];
        snprintf(needle, sizeof needle, "\"id\":\"%s\"", want);
        int ok = r.status == 200 && strstr(r.body, needle);
        free(r.body);
        if (ok)
            return 0;
        usleep(50000);
    }
    return -1;
}

/* ---- processes ---- */

static int start_dyn(test_server *s, char **args)
{
    static char env[5][256];
    snprintf(env[0], sizeof env[0], "NATS_SERVER=%s", g_nats.url);
    snprintf(env[1], sizeof env[1], "ETCD_ENDPOINTS=%s", g_etcd.url);
    snprintf(env[2], sizeof env[2], "DYN_CALLHOME_HOST=127.0.0.1");
    snprintf(env[3], sizeof env[3], "DYN_LOG=info");
    snprintf(env[4], sizeof env[4], "DYN_LEASE_TTL=3");      /* a revoked lease is noticed fast */
    char *envp[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    return ts_proc_start(s, args, envp);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ts_nats_start(&g_nats, "max_payload: 15728640") != 0 || ts_etcd_start(&g_etcd) != 0)
        return -1;
    const char *bin = getenv("DYN_BIN");
    if (!bin)
        return -1;
    char bp[16], ap[16], fp[16];
    g_a_port = ts_free_port();
    g_bp_port = ts_free_port();
    g_fe_port = ts_free_port();
    snprintf(ap, sizeof ap, "%d", g_a_port);
    snprintf(bp, sizeof bp, "%d", g_bp_port);
    snprintf(fp, sizeof fp, "%d", g_fe_port);
    char *a[] = {(char *)bin, "mocker", "--model-name", "mock-a", "--ttft-ms", "0", "--itl-ms", "2",
                 "--system-port", ap, "--model-path", "ignored/path", "--speedup-ratio", "1.0",
                 "--planner-profile-data", "/nonexistent", NULL};
    char *b[] = {(char *)bin, "mocker", "--model-name", "mock-bp", "--component", "bp", "--ttft-ms", "600",
                 "--max-concurrency", "1", "--max-queue", "1", "--system-port", bp, NULL};
    char *f[] = {(char *)bin, "frontend", "--http-port", fp, "--max-body-bytes", "1048576", NULL};
    if (start_dyn(&g_mock_a, a) || start_dyn(&g_mock_bp, b) || start_dyn(&g_fe, f))
        return -1;
    if (wait_status(g_a_port, "/health", 200, 10000) || wait_status(g_bp_port, "/health", 200, 10000) ||
        wait_status(g_fe_port, "/health", 200, 10000) || wait_models("mock-a", 10000) || wait_models("mock-bp", 10000)) {
        fprintf(stderr, "processes not ready; logs in %s %s %s\n", g_fe.dir, g_mock_a.dir, g_mock_bp.dir);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ts_destroy(&g_fe);
    ts_destroy(&g_mock_a);
    ts_destroy(&g_mock_bp);
    ts_destroy(&g_etcd);
    ts_destroy(&g_nats);
    curl_global_cleanup();
    return 0;
}

/* ---- tests ---- */

static void test_models_and_probes(void **state)
{
    (void)state;
    http_resp r = {0};
    http(g_fe_port, "GET", "/v1/models", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "list");
    json_t *d = json_object_get(j, "data");
    assert_true(json_array_size(d) >= 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "object")), "model");
    json_decref(j);
    free(r.body);
    assert_int_equal(wait_status(g_fe_port, "/live", 200, 1000), 0);
    assert_int_equal(wait_status(g_a_port, "/live", 200, 1000), 0);
    /* The model record as the contract says. */
    dyn_rt_config cfg;
    dyn_error err = {0};
    char ev[160];
    snprintf(ev, sizeof ev, "ETCD_ENDPOINTS=%s", g_etcd.url);
    assert_int_equal(rtenv_config(&cfg, &err, ev, NULL), DYN_OK);
    dyn_etcd *e = NULL;
    assert_int_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_OK);
    dyn_etcd_kv *kvs = NULL;
    size_t n = 0;
    assert_int_equal(dyn_etcd_range_prefix(e, "v1/mdc/dynamo/backend/generate/", &kvs, &n, NULL, &err), DYN_OK);
    assert_int_equal(n, 1);
    json_t *rec = json_loads(kvs[0].value, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(rec, "type")), "Model");
    json_t *card = json_object_get(rec, "card_json");
    assert_string_equal(json_string_value(json_object_get(card, "display_name")), "mock-a");
    assert_string_equal(json_string_value(json_object_get(card, "model_input")), "Text");
    assert_int_equal(json_array_size(json_object_get(card, "model_type")), 3);
    char hex[32];
    snprintf(hex, sizeof hex, "%llx", (unsigned long long)json_integer_value(json_object_get(rec, "instance_id")));
    assert_non_null(strstr(kvs[0].key, hex));
    assert_int_not_equal(kvs[0].lease, 0);
    json_decref(rec);
    dyn_etcd_kvs_free(kvs, n);
    dyn_etcd_close(e);
    dyn_rt_config_free(&cfg);
}

static void test_chat_unary(void **state)
{
    (void)state;
    const char *req = "{\"model\":\"mock-a\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"max_tokens\":7}";
    http_resp r, r2;
    assert_int_equal(post("/v1/chat/completions", req, &r), 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "chat.completion");
    json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
    const char *content = json_string_value(json_object_get(json_object_get(c0, "message"), "content"));
    assert_non_null(content);
    int words = 1;
    for (const char *p = content; *p; p++)
        words += *p == ' ';
    assert_int_equal(words, 7);
    assert_string_equal(json_string_value(json_object_get(c0, "finish_reason")), "length");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "usage"), "completion_tokens")), 7);
    /* Deterministic: the same prompt gets the same words. */
    assert_int_equal(post("/v1/chat/completions", req, &r2), 200);
    json_t *j2 = body_json(&r2);
    json_t *c2 = json_array_get(json_object_get(j2, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c2, "message"), "content")), content);
    json_decref(j);
    json_decref(j2);
    free(r.body);
    free(r2.body);
}

/* Splits an SSE body into its data payloads; checks framing; returns how many JSON chunks. */
static int sse_chunks(const char *body, const char *object, int *done)
{
    int n = 0;
    *done = 0;
    const char *p = body;
    while (*p) {
        assert_true(strncmp(p, "data: ", 6) == 0);
        const char *end = strstr(p, "\n\n");
        assert_non_null(end);
        assert_false(*done);                 /* nothing after [DONE] */
        if (strncmp(p + 6, "[DONE]", 6) == 0) {
            *done = 1;
        } else {
            json_t *j = json_loadb(p + 6, (size_t)(end - p - 6), 0, NULL);
            assert_non_null(j);
            assert_string_equal(json_string_value(json_object_get(j, "object")), object);
            json_decref(j);
            n++;
        }
        p = end + 2;
    }
    return n;
}

static void test_chat_and_completion_stream(void **state)
{
    (void)state;
    http_resp r;
    assert_int_equal(post("/v1/chat/completions",
                          "{\"model\":\"mock-a\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5}", &r),
                     200);
    int done;
    assert_int_equal(sse_chunks(r.body, "chat.completion.chunk", &done), 5);
    assert_true(done);
    free(r.body);
    assert_int_equal(post("/v1/completions", "{\"model\":\"mock-a\",\"stream\":true,\"prompt\":\"once\",\"max_tokens\":4}", &r), 200);
    assert_int_equal(sse_chunks(r.body, "text_completion", &done), 4);
    assert_true(done);
    free(r.body);
    assert_int_equal(post("/v1/completions", "{\"model\":\"mock-a\",\"prompt\":[\"once\"],\"max_tokens\":3}", &r), 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "text_completion");
    assert_true(json_is_string(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "text")));
    json_decref(j);
    free(r.body);
}

static int b64v(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 into floats; returns the number of bytes. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i + 3 < n; i += 4) {
        int a = b64v(s[i]), b = b64v(s[i + 1]), c = s[i + 2] == '=' ? 0 : b64v(s[i + 2]), d = s[i + 3] == '=' ? 0 : b64v(s[i + 3]);
        assert_true(a >= 0 && b >= 0 && c >= 0 && d >= 0);
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        if (s[i + 2] != '=')
            out[o++] = (unsigned char)(v >> 8);
        if (s[i + 3] != '=')
            out[o++] = (unsigned char)v;
    }
    return o;
}

static void test_embeddings(void **state)
{
    (void)state;
    http_resp r;
    assert_int_equal(post("/v1/embeddings", "{\"model\":\"mock-a\",\"input\":[\"a\",\"b\"],\"dimensions\":8}", &r), 200);
    json_t *j = body_json(&r);
    json_t *d = json_object_get(j, "data");
    assert_int_equal(json_array_size(d), 2);
    json_t *e0 = json_object_get(json_array_get(d, 0), "embedding");
    assert_int_equal(json_array_size(e0), 8);
    double norm = 0;
    for (size_t i = 0; i < 8; i++)
        norm += json_real_value(json_array_get(e0, i)) * json_real_value(json_array_get(e0, i));
    assert_true(fabs(norm - 1) < 1e-3);
    double first = json_real_value(json_array_get(e0, 0));
    json_decref(j);
    free(r.body);

    /* base64 of the same input decodes to the same floats. */
    assert_int_equal(post("/v1/embeddings", "{\"model\":\"mock-a\",\"input\":[\"a\",\"b\"],\"dimensions\":8,\"encoding_format\":\"base64\"}", &r), 200);
    j = body_json(&r);
    const char *s = json_string_value(json_object_get(json_array_get(json_object_get(j, "data"), 0), "embedding"));
    assert_non_null(s);
    unsigned char raw[64];
    assert_int_equal(b64_decode(s, strlen(s), raw), 32);
    float f0;
    memcpy(&f0, raw, 4);
    assert_true(fabs(f0 - first) < 1e-6);
    json_decref(j);
    free(r.body);

    /* A 10 MiB embedding (2621440 float32), base64: 13981016 characters. */
    assert_int_equal(post("/v1/embeddings", "{\"model\":\"mock-a\",\"input\":\"big\",\"dimensions\":2621440,\"encoding_format\":\"base64\"}", &r), 200);
    j = body_json(&r);
    s = json_string_value(json_object_get(json_array_get(json_object_get(j, "data"), 0), "embedding"));
    assert_non_null(s);
    assert_int_equal(strlen(s), 13981016);
    unsigned char *big = malloc(10u << 20);
    assert_int_equal(b64_decode(s, strlen(s), big), 10u << 20);
    double sq = 0;
    for (size_t i = 0; i < (10u << 20) / 4; i++) {
        float v;
        memcpy(&v, big + 4 * i, 4);
        sq += (double)v * v;
    }
    assert_true(fabs(sq - 1) < 1e-2);
    free(big);
    json_decref(j);
    free(r.body);

    expect_error((post("/v1/embeddings", "{\"model\":\"mock-a\",\"input\":\"x\",\"encoding_format\":\"hex\"}", &r), &r), 400,
                 "invalid_request_error", NULL);
    free(r.body);
}

static void test_errors(void **state)
{
    (void)state;
    http_resp r;
    post("/v1/chat/completions", "{\"model\":\"no-such\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r);
    expect_error(&r, 404, "not_found_error", "model_not_found");
    free(r.body);

    post("/v1/chat/completions", "{\"model\":\"mock-a\",\n  \"messages\": [}", &r);
    expect_error(&r, 400, "invalid_request_error", NULL);
    assert_non_null(strstr(r.body, "line 2, column"));
    assert_non_null(strstr(r.body, "position"));
    free(r.body);

    post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r);
    expect_error(&r, 400, "invalid_request_error", NULL);
    assert_non_null(strstr(r.body, "\"param\":\"model\""));
    free(r.body);
    post("/v1/chat/completions", "{\"model\":\"mock-a\",\"messages\":\"hi\"}", &r);
    expect_error(&r, 400, "invalid_request_error", NULL);
    free(r.body);
    post("/v1/completions", "{\"model\":\"mock-a\",\"prompt\":\"x\",\"max_tokens\":-1}", &r);
    expect_error(&r, 400, "invalid_request_error", NULL);
    free(r.body);

    /* Over the 1 MiB limit this frontend runs with. */
    size_t big = 2u << 20;
    char *b = malloc(big + 1);
    memset(b, ' ', big);
    b[big] = '\0';
    memcpy(b, "{\"model\":\"mock-a\",\"prompt\":\"", 28);
    r.abort_after = 0;
    http(g_fe_port, "POST", "/v1/completions", b, big, &r);
    free(b);
    assert_int_equal(r.status, 413);
    free(r.body);

    http(g_fe_port, "GET", "/v1/nothing", NULL, 0, &r);
    assert_int_equal(r.status, 404);
    free(r.body);
    http(g_fe_port, "GET", "/v1/chat/completions", NULL, 0, &r);
    assert_int_equal(r.status, 405);
    free(r.body);
}

static void test_no_worker_503(void **state)
{
    (void)state;
    /* A model record whose endpoint has no live instance (e.g. a worker that crashed before
     * its lease expired, or a record left by a tool). */
    dyn_rt_config cfg;
    dyn_error err = {0};
    char ev[160];
    snprintf(ev, sizeof ev, "ETCD_ENDPOINTS=%s", g_etcd.url);
    assert_int_equal(rtenv_config(&cfg, &err, ev, NULL), DYN_OK);
    dyn_etcd *e = NULL;
    assert_int_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_OK);
    const char *key = "v1/mdc/dynamo/ghost/generate/1234abcd";
    const char *val = "{\"type\":\"Model\",\"namespace\":\"dynamo\",\"component\":\"ghost\",\"endpoint\":\"generate\","
                      "\"instance_id\":305441741,\"card_json\":{\"display_name\":\"ghost-model\",\"model_input\":\"Text\","
                      "\"model_type\":[\"chat\"]}}";
    assert_int_equal(dyn_etcd_put(e, key, val, strlen(val), 0, &err), DYN_OK);
    assert_int_equal(wait_models("ghost-model", 5000), 0);
    http_resp r;
    post("/v1/chat/completions", "{\"model\":\"ghost-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r);
    expect_error(&r, 503, "service_unavailable", "no_workers");
    assert_true(r.secs < 1.0);
    free(r.body);
    /* It serves chat only. */
    post("/v1/embeddings", "{\"model\":\"ghost-model\",\"input\":\"x\"}", &r);
    expect_error(&r, 404, "not_found_error", "model_not_found");
    free(r.body);
    dyn_etcd_delete(e, key, NULL, &err);
    dyn_etcd_close(e);
    dyn_rt_config_free(&cfg);
}

static void test_disconnect_stops_generation(void **state)
{
    (void)state;
    char sample[] = "dynamo_mocker_active_requests{model=\"mock-a\"}";
    double cancelled0 = metric(g_a_port, "dynamo_mocker_cancelled_requests_total{model=\"mock-a\"}");
    http_resp r = {.abort_after = 2000};
    const char *req = "{\"model\":\"mock-a\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"long\"}],\"max_tokens\":100000}";
    http(g_fe_port, "POST", "/v1/chat/completions", req, strlen(req), &r);
    assert_int_equal(r.status, 200);
    assert_true(r.len >= 2000);
    free(r.body);
    /* 100000 tokens at 2 ms would take minutes: the generation must stop within a second. */
    long long end = ts_now_ms() + 3000;
    double active = -1;
    while (ts_now_ms() < end && (active = metric(g_a_port, sample)) != 0)
        usleep(50000);
    assert_true(active == 0);
    assert_true(metric(g_a_port, "dynamo_mocker_cancelled_requests_total{model=\"mock-a\"}") >= cancelled0 + 1);
    assert_true(metric(g_fe_port, "dynamo_frontend_disconnected_clients") >= 1);
    assert_true(metric(g_fe_port, "dynamo_frontend_inflight_requests{model=\"mock-a\"}") == 0);
}

typedef struct bp_call {
    http_resp r;
} bp_call;

static void *bp_thread(void *arg)
{
    bp_call *c = arg;
    const char *req = "{\"model\":\"mock-bp\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1}";
    c->r.abort_after = 0;
    http(g_fe_port, "POST", "/v1/chat/completions", req, strlen(req), &c->r);
    return NULL;
}

static void test_backpressure(void **state)
{
    (void)state;
    /* Concurrency 1, queue 1, 600 ms to first token: of three requests at once one runs, one
     * waits, one is refused at once. */
    bp_call c[3];
    pthread_t t[3];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        pthread_create(&t[i], NULL, bp_thread, &c[i]);
        usleep(30000);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    int ok = 0, refused = 0;
    for (int i = 0; i < 3; i++) {
        if (c[i].r.status == 200)
            ok++;
        if (c[i].r.status == 503) {
            refused++;
            assert_true(c[i].r.secs < 0.4);
            expect_error(&c[i].r, 503, "service_unavailable", "overloaded");
        }
        free(c[i].r.body);
    }
    assert_int_equal(ok, 2);
    assert_int_equal(refused, 1);
    assert_true(metric(g_bp_port, "dynamo_mocker_rejected_requests_total{model=\"mock-bp\"}") >= 1);
}

static void test_metrics(void **state)
{
    (void)state;
    const char *s = "dynamo_frontend_requests_total{model=\"mock-a\",endpoint=\"completions\",request_type=\"unary\",status=\"success\",error_type=\"\"}";
    double before = metric(g_fe_port, s);
    http_resp r;
    assert_int_equal(post("/v1/completions", "{\"model\":\"mock-a\",\"prompt\":\"m\",\"max_tokens\":2}", &r), 200);
    free(r.body);
    assert_true(metric(g_fe_port, s) == (before < 0 ? 0 : before) + 1);
    /* Every line is a comment or `name{labels} value` with a number. */
    r.abort_after = 0;
    http(g_fe_port, "GET", "/metrics", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    int samples = 0;
    for (char *line = strtok(r.body, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
            continue;
        }
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        char *end;
        strtod(sp + 1, &end);
        assert_true(*end == '\0');
        assert_true((line[0] >= 'a' && line[0] <= 'z') || line[0] == '_');
        samples++;
    }
    free(r.body);
    assert_true(samples > 10);
    assert_true(metric(g_fe_port, "dynamo_frontend_time_to_first_token_seconds_count{model=\"mock-a\"}") >= 1);
    assert_true(metric(g_fe_port, "dynamo_frontend_inter_token_latency_seconds_count{model=\"mock-a\"}") >= 1);
    assert_true(metric(g_fe_port, "dynamo_frontend_request_duration_seconds_count{model=\"mock-a\"}") >= 1);
    assert_true(metric(g_a_port, "dynamo_component_requests_total{dynamo_namespace=\"dynamo\",dynamo_component=\"backend\",dynamo_endpoint=\"generate\"}") >= 1);
}

static void test_nats_down_and_back(void **state)
{
    (void)state;
    ts_stop(&g_nats);
    assert_int_equal(wait_status(g_fe_port, "/health", 503, 5000), 0);
    http_resp r;
    post("/v1/chat/completions", "{\"model\":\"mock-a\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2}", &r);
    expect_error(&r, 503, "service_unavailable", "nats_unavailable");
    assert_true(r.secs < 1.0);
    free(r.body);
    assert_int_equal(wait_status(g_a_port, "/health", 503, 5000), 0);
    assert_int_equal(ts_restart(&g_nats), 0);
    assert_int_equal(wait_status(g_fe_port, "/health", 200, 10000), 0);
    long long end = ts_now_ms() + 10000;
    long status = 0;
    while (ts_now_ms() < end) {
        status = post("/v1/chat/completions", "{\"model\":\"mock-a\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2}", &r);
        free(r.body);
        if (status == 200)
            break;
        usleep(100000);
    }
    assert_int_equal(status, 200);
    assert_int_equal(wait_status(g_a_port, "/health", 200, 5000), 0);
}

static void test_model_record_follows_new_lease(void **state)
{
    (void)state;
    /* Revoke mock-a's lease behind its back: libdyn grants a new one and re-registers the
     * endpoint; the mocker's model record must follow with the new instance id. */
    dyn_rt_config cfg;
    dyn_error err = {0};
    char ev[160];
    snprintf(ev, sizeof ev, "ETCD_ENDPOINTS=%s", g_etcd.url);
    assert_int_equal(rtenv_config(&cfg, &err, ev, NULL), DYN_OK);
    dyn_etcd *e = NULL;
    assert_int_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_OK);
    dyn_etcd_kv *kvs = NULL;
    size_t n = 0;
    assert_int_equal(dyn_etcd_range_prefix(e, "v1/mdc/dynamo/backend/generate/", &kvs, &n, NULL, &err), DYN_OK);
    assert_int_equal(n, 1);
    uint64_t old = kvs[0].lease;
    dyn_etcd_kvs_free(kvs, n);
    assert_int_equal(dyn_etcd_lease_revoke(e, old, &err), DYN_OK);
    long long end = ts_now_ms() + 10000;
    uint64_t now = old;
    while (ts_now_ms() < end && (now == old || now == 0)) {
        usleep(100000);
        now = 0;
        if (dyn_etcd_range_prefix(e, "v1/mdc/dynamo/backend/generate/", &kvs, &n, NULL, &err) == DYN_OK) {
            if (n == 1)
                now = kvs[0].lease;
            dyn_etcd_kvs_free(kvs, n);
        }
    }
    assert_true(now != old && now != 0);
    char key[128];
    snprintf(key, sizeof key, "v1/instances/dynamo/backend/generate/%llx", (unsigned long long)now);
    dyn_etcd_kv kv;
    assert_int_equal(dyn_etcd_get(e, key, &kv, &err), DYN_OK);
    dyn_etcd_kv_clear(&kv);
    dyn_etcd_close(e);
    dyn_rt_config_free(&cfg);
    /* And the frontend routes to the new instance. */
    end = ts_now_ms() + 5000;
    long status = 0;
    http_resp r;
    while (ts_now_ms() < end && status != 200) {
        status = post("/v1/completions", "{\"model\":\"mock-a\",\"prompt\":\"again\",\"max_tokens\":2}", &r);
        free(r.body);
        if (status != 200)
            usleep(100000);
    }
    assert_int_equal(status, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_and_probes),
        cmocka_unit_test(test_chat_unary),
        cmocka_unit_test(test_chat_and_completion_stream),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_worker_503),
        cmocka_unit_test(test_disconnect_stops_generation),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_model_record_follows_new_lease),
        cmocka_unit_test(test_nats_down_and_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
