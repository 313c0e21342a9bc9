/* Endpoints and clients end to end against real nats-server and etcd: payload sizes, the
 * max_payload check, routing, cancellation, $SRV, metrics, and faults (a killed worker, etcd
 * down past the lease TTL, a nats-server restart). */
#include "testutil.h"
#include "servers.h"
#include "rtenv.h"
#include "dyn/metrics.h"
#include "dyn/rpc.h"
#include "runtime/rpc/internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG_PAYLOAD_CONF "max_payload: 15728640"

static test_server g_nats, g_etcd;

static dyn_runtime *runtime_for(test_server *nats, test_server *etcd)
{
    char n[160], e[160];
    snprintf(n, sizeof n, "NATS_SERVER=%s", nats->url);
    snprintf(e, sizeof e, "ETCD_ENDPOINTS=%s", etcd->url);
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(rtenv_config(&cfg, &err, n, e, "DYN_LEASE_TTL=3", "DYN_NAMESPACE=test-ns",
                                  "DYN_REQUEST_TIMEOUT_MS=3000", (const char *)NULL), DYN_OK);
    dyn_runtime *rt = NULL;
    dyn_status st = dyn_runtime_create(&cfg, &rt, &err);
    dyn_rt_config_free(&cfg);
    if (st != DYN_OK)
        fail_msg("runtime: %s", err.message);
    return rt;
}

/* ---- in-process handlers ---- */

typedef struct {
    int started, stopped_seen, items_sent, finished;
    pthread_mutex_t mu;
} gen_state;

static dyn_status echo_handler(dyn_request *req, const char *body, size_t len, void *ud)
{
    (void)ud;
    /* Request {"echo": X} -> one item X, without re-parsing big payloads: slice the text. */
    static const char pre[] = "{\"echo\":";
    if (len < sizeof pre || memcmp(body, pre, sizeof pre - 1) != 0 || body[len - 1] != '}') {
        dyn_request_set_error(req, "expected {\"echo\": value}");
        return DYN_ERR_INVALID;
    }
    return dyn_request_send(req, body + sizeof pre - 1, len - sizeof pre);
}

static dyn_status slow_handler(dyn_request *req, const char *body, size_t len, void *ud)
{
    (void)body;
    (void)len;
    gen_state *g = ud;
    pthread_mutex_lock(&g->mu);
    g->started++;
    pthread_mutex_unlock(&g->mu);
    int i;
    for (i = 0; i < 2000; i++) {
        if (dyn_request_stopped(req))
            break;
        char item[32];
        int l = snprintf(item, sizeof item, "%d", i);
        if (dyn_request_send(req, item, (size_t)l) != DYN_OK)
            break;
        usleep(5000);
    }
    pthread_mutex_lock(&g->mu);
    g->items_sent += i;
    g->stopped_seen += i < 2000;
    g->finished++;
    pthread_mutex_unlock(&g->mu);
    return DYN_OK;
}

static dyn_status id_handler(dyn_request *req, const char *body, size_t len, void *ud)
{
    (void)body;
    (void)len;
    dyn_runtime *rt = ud;
    char item[64];
    int l = snprintf(item, sizeof item, "\"%llx\"", (unsigned long long)dyn_runtime_instance_id(rt));
    dyn_status st = dyn_request_send_last(req, item, (size_t)l);
    /* Nothing may follow the last item. */
    if (st == DYN_OK && dyn_request_send(req, "1", 1) != DYN_ERR_CANCELLED)
        return DYN_ERR_INTERNAL;
    return st;
}

/* Collects every item of a stream; returns the status, count in *n, last item in last. */
static dyn_status drain(dyn_stream *s, int *n, char *last, size_t cap, dyn_error *err)
{
    *n = 0;
    for (;;) {
        const char *item;
        size_t len;
        dyn_status st = dyn_stream_next(s, &item, &len, 10000, err);
        if (st != DYN_OK)
            return st;
        if (!item)
            return DYN_OK;
        (*n)++;
        if (last)
            snprintf(last, cap, "%.*s", (int)len, item);
    }
}

static int setup(void **state)
{
    (void)state;
    if (ts_nats_start(&g_nats, BIG_PAYLOAD_CONF) != 0 || ts_etcd_start(&g_etcd) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_destroy(&g_nats);
    ts_destroy(&g_etcd);
    return 0;
}

static void roundtrip_size(dyn_client *c, size_t size)
{
    char *payload = malloc(size + 3);
    payload[0] = '"';
    for (size_t i = 0; i < size; i++)
        payload[1 + i] = (char)('a' + i % 26);
    payload[size + 1] = '"';
    payload[size + 2] = '\0';
    size_t rlen = size + 2 + 10;
    char *req = malloc(rlen + 1);
    snprintf(req, rlen + 1, "{\"echo\":%s}", payload);
    dyn_stream *s = NULL;
    dyn_error err = {0};
    dyn_status st = dyn_client_generate(c, req, strlen(req), DYN_ROUTE_ROUND_ROBIN, 0, &s, &err);
    if (st != DYN_OK)
        fail_msg("generate %zu bytes: %s", size, err.message);
    const char *item;
    size_t len;
    st = dyn_stream_next(s, &item, &len, 20000, &err);
    if (st != DYN_OK)
        fail_msg("next %zu bytes: %s", size, err.message);
    assert_non_null(item);
    assert_int_equal(len, size + 2);
    assert_memory_equal(item, payload, size + 2);
    assert_int_equal(dyn_stream_next(s, &item, &len, 5000, &err), DYN_OK);
    assert_null(item);                            /* complete_final */
    dyn_stream_free(s);
    free(payload);
    free(req);
}

static void test_payload_sizes(void **state)
{
    (void)state;
    dyn_runtime *rt = runtime_for(&g_nats, &g_etcd);
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(rt, "backend", "echo", echo_handler, NULL, &ep, &err), DYN_OK);
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "backend", "echo", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);
    roundtrip_size(c, 1);
    roundtrip_size(c, 1 << 20);
    roundtrip_size(c, 10 << 20);
    /* Slugified subject, advertised as such. */
    char subject[320];
    dyn_endpoint_subject(ep, subject, sizeof subject);
    char expect[128];
    snprintf(expect, sizeof expect, "test-ns_backend.echo-%llx", (unsigned long long)dyn_runtime_instance_id(rt));
    assert_string_equal(subject, expect);

    /* A handler error before the first item reaches the caller as the prologue error. */
    dyn_stream *s;
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    const char *item;
    size_t len;
    assert_int_equal(dyn_stream_next(s, &item, &len, 5000, &err), DYN_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "expected {\"echo\": value}"));
    dyn_stream_free(s);

    /* Metrics were counted for the endpoint. */
    char *text = dyn_metrics_render(dyn_metrics_default(), NULL);
    assert_non_null(strstr(text, "dynamo_component_requests_total{dynamo_namespace=\"test-ns\",dynamo_component=\"backend\",dynamo_endpoint=\"echo\"} 4"));
    assert_non_null(strstr(text, "dynamo_component_request_duration_seconds_bucket{"));
    assert_non_null(strstr(text, "dynamo_component_inflight_requests{"));
    if (access("/usr/bin/promtool", X_OK) == 0) {
        char path[300];
        snprintf(path, sizeof path, "%s/metrics.txt", g_nats.dir);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        assert_int_equal(ts_sh(20, "promtool check metrics < %s", path), 0);
    }
    free(text);

    /* $SRV: standard tooling can see the service. */
    natsConnection *nc = dyn_nats_conn(dyn_runtime_nats(rt));
    natsMsg *reply = NULL;
    assert_int_equal(natsConnection_RequestString(&reply, nc, "$SRV.INFO.test-ns_backend", "", 2000), NATS_OK);
    json_t *j = json_loads(natsMsg_GetData(reply), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "io.nats.micro.v1.info_response");
    json_t *eps = json_object_get(j, "endpoints");
    assert_int_equal(json_array_size(eps), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(eps, 0), "subject")), expect);
    json_decref(j);
    natsMsg_Destroy(reply);
    assert_int_equal(natsConnection_RequestString(&reply, nc, "$SRV.STATS.test-ns_backend", "", 2000), NATS_OK);
    j = json_loads(natsMsg_GetData(reply), 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "endpoints"), 0), "num_requests")), 4);
    json_decref(j);
    natsMsg_Destroy(reply);
    assert_int_equal(natsConnection_RequestString(&reply, nc, "$SRV.PING", "", 2000), NATS_OK);
    natsMsg_Destroy(reply);

    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
}

/* Bad input from every side: a malformed discovery record, a garbage NATS request, garbage on
 * the call-home port. Each is reported or dropped; nothing crashes or hangs. */
static void test_bad_input(void **state)
{
    (void)state;
    dyn_runtime *rt = runtime_for(&g_nats, &g_etcd);
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(rt, "robust", "who", id_handler, rt, &ep, &err), DYN_OK);
    /* A record that is not JSON, and one with a bad instance_id, next to the real one. */
    assert_int_equal(dyn_etcd_put(dyn_runtime_etcd(rt), "v1/instances/test-ns/robust/who/1", "{not json", 9, 0, &err), DYN_OK);
    const char *bad = "{\"type\":\"Endpoint\",\"component\":\"robust\",\"endpoint\":\"who\",\"namespace\":\"test-ns\","
                      "\"instance_id\":1e5,\"transport\":{\"nats_tcp\":\"x\"}}";
    assert_int_equal(dyn_etcd_put(dyn_runtime_etcd(rt), "v1/instances/test-ns/robust/who/2", bad, strlen(bad), 0, &err), DYN_OK);
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "robust", "who", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);
    usleep(200000);
    assert_int_equal(dyn_client_instances(c, NULL, 0), 1);
    dyn_stream *s;
    int n;
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    assert_int_equal(drain(s, &n, NULL, 0, &err), DYN_OK);
    assert_int_equal(n, 1);
    dyn_stream_free(s);

    /* Garbage on the endpoint subject: acknowledged, dropped, counted as a deserialization error. */
    char subject[320];
    dyn_endpoint_subject(ep, subject, sizeof subject);
    natsMsg *reply = NULL;
    natsConnection *nc = dyn_nats_conn(dyn_runtime_nats(rt));
    assert_int_equal(natsConnection_RequestString(&reply, nc, subject, "garbage", 2000), NATS_OK);
    natsMsg_Destroy(reply);
    unsigned char frame[24 + 4];
    dyn_frame_prefix(frame, 4, 0);
    memcpy(frame + 24, "{x}}", 4);
    assert_int_equal(natsConnection_Request(&reply, nc, subject, frame, sizeof frame, 2000), NATS_OK);
    natsMsg_Destroy(reply);
    dyn_endpoint_metrics *em = dyn_metrics_endpoint(dyn_metrics_default(), "test-ns", "robust", "who");
    long long end = ts_now_ms() + 2000;
    while (dyn_endpoint_metrics_errors(em) < 2 && ts_now_ms() < end)
        usleep(10000);
    assert_int_equal(dyn_endpoint_metrics_errors(em), 2);

    /* Garbage on the call-home port: a frame claiming exabytes, then an unknown handshake. */
    const char *addr = callhome_address(runtime_callhome(rt));
    int port = atoi(strrchr(addr, ':') + 1);
    for (int round = 0; round < 2; round++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
        unsigned char g[128];
        size_t gl;
        if (round == 0) {
            dyn_frame_prefix(g, 1ull << 60, 1ull << 60);
            gl = 24;
        } else {
            const char *hs = "{\"subject\":\"nobody\",\"stream_type\":\"response\"}";
            dyn_frame_prefix(g, strlen(hs), 0);
            memcpy(g + 24, hs, strlen(hs));
            gl = 24 + strlen(hs);
        }
        assert_int_equal(send(fd, g, gl, MSG_NOSIGNAL), (ssize_t)gl);
        struct timeval tv = {3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char b;
        assert_true(recv(fd, &b, 1, 0) <= 0);      /* the server hung up */
        close(fd);
    }
    /* Still serving afterwards. */
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    assert_int_equal(drain(s, &n, NULL, 0, &err), DYN_OK);
    dyn_stream_free(s);
    dyn_etcd_delete(dyn_runtime_etcd(rt), "v1/instances/test-ns/robust/who/1", NULL, NULL);
    dyn_etcd_delete(dyn_runtime_etcd(rt), "v1/instances/test-ns/robust/who/2", NULL, NULL);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
}

static void test_oversize_fails_at_once(void **state)
{
    (void)state;
    test_server small;
    assert_int_equal(ts_nats_start(&small, NULL), 0);     /* default max_payload: 1 MiB */
    dyn_runtime *rt = runtime_for(&small, &g_etcd);
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(rt, "small", "echo", echo_handler, NULL, &ep, &err), DYN_OK);
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "small", "echo", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);
    size_t size = 1200000;
    char *req = malloc(size + 16);
    memset(req, 'x', size + 16);
    memcpy(req, "{\"echo\":\"", 9);
    memcpy(req + 9 + size, "\"}", 3);
    long long t0 = ts_now_ms();
    dyn_stream *s = NULL;
    assert_int_equal(dyn_client_generate(c, req, strlen(req), DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_ERR_TOO_LARGE);
    assert_true(ts_now_ms() - t0 < 500);
    assert_non_null(strstr(err.message, "1048576"));
    char total[32];
    snprintf(total, sizeof total, "%zu", strlen(req) + 24);
    assert_non_null(strstr(err.message, " bytes"));
    assert_non_null(strstr(err.message, "max_payload"));
    /* The request size (two-part message) is named too. */
    char *p = err.message;
    int has_size = 0;
    for (size_t extra = 0; extra < 400 && !has_size; extra++) {
        snprintf(total, sizeof total, "%zu bytes", strlen(req) + 24 + extra);
        has_size = strstr(p, total) != NULL;
    }
    assert_true(has_size);
    free(req);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
    ts_destroy(&small);
}

static void test_routing_and_no_instance(void **state)
{
    (void)state;
    dyn_runtime *a = runtime_for(&g_nats, &g_etcd), *b = runtime_for(&g_nats, &g_etcd);
    dyn_error err = {0};
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(a, NULL, "router", "who", &c, &err), DYN_OK);
    dyn_stream *s = NULL;
    long long t0 = ts_now_ms();
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_ERR_UNAVAILABLE);
    assert_true(ts_now_ms() - t0 < 200);
    dyn_endpoint *ea = NULL, *eb = NULL;
    assert_int_equal(dyn_endpoint_serve(a, "router", "who", id_handler, a, &ea, &err), DYN_OK);
    assert_int_equal(dyn_endpoint_serve(b, "router", "who", id_handler, b, &eb, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 2, 5000, &err), DYN_OK);
    int hits_a = 0, hits_b = 0;
    char ida[32], idb[32], last[64];
    snprintf(ida, sizeof ida, "\"%llx\"", (unsigned long long)dyn_runtime_instance_id(a));
    snprintf(idb, sizeof idb, "\"%llx\"", (unsigned long long)dyn_runtime_instance_id(b));
    for (int i = 0; i < 10; i++) {
        assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
        int n;
        assert_int_equal(drain(s, &n, last, sizeof last, &err), DYN_OK);
        assert_int_equal(n, 1);
        hits_a += strcmp(last, ida) == 0;
        hits_b += strcmp(last, idb) == 0;
        dyn_stream_free(s);
    }
    assert_int_equal(hits_a, 5);
    assert_int_equal(hits_b, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_DIRECT, dyn_runtime_instance_id(b), &s, &err), DYN_OK);
        int n;
        assert_int_equal(drain(s, &n, last, sizeof last, &err), DYN_OK);
        assert_string_equal(last, idb);
        assert_int_equal(dyn_stream_instance(s), dyn_runtime_instance_id(b));
        dyn_stream_free(s);
        assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_RANDOM, 0, &s, &err), DYN_OK);
        assert_int_equal(drain(s, &n, last, sizeof last, &err), DYN_OK);
        dyn_stream_free(s);
    }
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_DIRECT, 0x1234, &s, &err), DYN_ERR_NOT_FOUND);
    /* Endpoint stopped: deregistered at once, so the client drops it. */
    dyn_endpoint_stop(eb);
    long long end = ts_now_ms() + 5000;
    while (dyn_client_instances(c, NULL, 0) != 1 && ts_now_ms() < end)
        usleep(20000);
    assert_int_equal(dyn_client_instances(c, NULL, 0), 1);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ea);
    dyn_runtime_destroy(a);
    dyn_runtime_destroy(b);
}

static void test_cancellation_stops_worker(void **state)
{
    (void)state;
    dyn_runtime *rt = runtime_for(&g_nats, &g_etcd);
    gen_state g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(rt, "gen", "slow", slow_handler, &g, &ep, &err), DYN_OK);
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "gen", "slow", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);

    /* stop: graceful; the stream ends without error. */
    dyn_stream *s = NULL;
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    const char *item;
    size_t len;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dyn_stream_next(s, &item, &len, 5000, &err), DYN_OK);
        assert_non_null(item);
    }
    dyn_stream_stop(s);
    int n = 0;
    assert_int_equal(drain(s, &n, NULL, 0, &err), DYN_OK);
    dyn_stream_free(s);
    long long end = ts_now_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        int done = g.finished;
        pthread_mutex_unlock(&g.mu);
        if (done == 1 || ts_now_ms() > end)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&g.mu);
    assert_int_equal(g.finished, 1);
    assert_int_equal(g.stopped_seen, 1);
    assert_true(g.items_sent < 200);          /* 2000 items would take 10 s */
    pthread_mutex_unlock(&g.mu);

    /* Dropping the stream mid-way (kill) stops it too. */
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    assert_int_equal(dyn_stream_next(s, &item, &len, 5000, &err), DYN_OK);
    dyn_stream_free(s);
    end = ts_now_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        int done = g.finished;
        pthread_mutex_unlock(&g.mu);
        if (done == 2 || ts_now_ms() > end)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&g.mu);
    assert_int_equal(g.finished, 2);
    assert_int_equal(g.stopped_seen, 2);
    pthread_mutex_unlock(&g.mu);
    end = ts_now_ms() + 12000;
    while (dyn_endpoint_inflight(ep) > 0 && ts_now_ms() < end)
        usleep(10000);
    assert_int_equal(dyn_endpoint_inflight(ep), 0);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
}

static int start_worker(test_server *w, test_server *nats, test_server *etcd, const char *comp)
{
    static char n[160], e[160];
    snprintf(n, sizeof n, "NATS_SERVER=%s", nats->url);
    snprintf(e, sizeof e, "ETCD_ENDPOINTS=%s", etcd->url);
    char path[512];
    snprintf(path, sizeof path, "%s/rt_worker", getenv("DYN_BUILD_DIR") ? getenv("DYN_BUILD_DIR") : ".");
    char *argv[] = {path, (char *)comp, "generate", NULL};
    char *env[] = {n, e, "DYN_LEASE_TTL=3", "DYN_NAMESPACE=test-ns", "DYN_CALLHOME_HOST=127.0.0.1", NULL};
    if (ts_proc_start(w, argv, env) != 0)
        return -1;
    long long end = ts_now_ms() + 10000;
    while (ts_now_ms() < end) {
        FILE *f = fopen(ts_file(w, "out.log"), "r");
        char line[256] = "";
        int ready = 0;
        while (f && fgets(line, sizeof line, f))
            ready |= strncmp(line, "READY", 5) == 0;
        if (f)
            fclose(f);
        if (ready)
            return 0;
        usleep(50000);
    }
    return -1;
}

static void test_killed_worker(void **state)
{
    (void)state;
    test_server w1, w2;
    assert_int_equal(start_worker(&w1, &g_nats, &g_etcd, "killme"), 0);
    assert_int_equal(start_worker(&w2, &g_nats, &g_etcd, "killme"), 0);
    dyn_runtime *rt = runtime_for(&g_nats, &g_etcd);
    dyn_error err = {0};
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "killme", "generate", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 2, 5000, &err), DYN_OK);
    /* A long stream is running on w1 when it dies. */
    dyn_stream *s = NULL, *victim = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(dyn_client_generate(c, "{\"n\":1000,\"delay_ms\":5}", 23, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
        const char *item;
        size_t len;
        assert_int_equal(dyn_stream_next(s, &item, &len, 5000, &err), DYN_OK);
        if (strstr(item, "worker") && victim == NULL) {
            victim = s;
            break;
        }
        dyn_stream_free(s);
    }
    assert_non_null(victim);
    /* Kill the worker that serves the victim stream. */
    char victim_hex[32];
    snprintf(victim_hex, sizeof victim_hex, "%llx", (unsigned long long)dyn_stream_instance(victim));
    FILE *f = fopen(ts_file(&w1, "out.log"), "r");
    char line[256] = "";
    int w1_is_victim = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "READY ", 6) == 0 && strncmp(line + 6, victim_hex, strlen(victim_hex)) == 0)
            w1_is_victim = 1;
    if (f)
        fclose(f);
    test_server *dead = w1_is_victim ? &w1 : &w2;
    long long t_kill = ts_now_ms();
    ts_kill(dead);
    /* The running stream fails (no hang) with the early-end error. */
    int n = 0;
    dyn_status st = drain(victim, &n, NULL, 0, &err);
    assert_int_equal(st, DYN_ERR_IO);
    assert_non_null(strstr(err.message, "Stream ended before generation completed"));
    assert_true(ts_now_ms() - t_kill < 3000);
    dyn_stream_free(victim);
    /* Requests keep succeeding (the dead one is marked down / has no responders), and within
     * the lease TTL the dead instance leaves the set. */
    int ok = 0, failed = 0;
    long long end = t_kill + 3000 + 4000;
    while (ts_now_ms() < end) {
        long long t0 = ts_now_ms();
        dyn_status gst = dyn_client_generate(c, "{\"n\":2}", 7, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err);
        if (gst == DYN_OK) {
            gst = drain(s, &n, NULL, 0, &err);
            dyn_stream_free(s);
        }
        assert_true(ts_now_ms() - t0 < 3500);      /* nothing hangs: at worst the 3 s ack timeout */
        if (gst == DYN_OK)
            ok++;
        else
            failed++;
        if (dyn_client_instances(c, NULL, 0) == 1 && ok > 20)
            break;
        usleep(20000);
    }
    assert_true(ok > 20);
    /* Normally 0: "no responders" moves the request to the live worker. One ack timeout is
     * tolerated for the instant before nats-server has noticed the dead connection. */
    assert_true(failed <= 1);
    /* Gone from discovery within the lease TTL (3 s) plus slack. */
    end = t_kill + 3000 + 5000;
    uint64_t ids[4];
    size_t cnt;
    do {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        (void)m;
        cnt = dyn_client_instances(c, ids, 4);
        usleep(50000);
    } while (ts_now_ms() < end && (cnt != 1 || ts_now_ms() - t_kill < 5100));
    /* After the 5 s restore window, a marked-down instance would be back: it is not. */
    assert_int_equal(dyn_client_instances(c, NULL, 0), 1);
    dyn_client_destroy(c);
    dyn_runtime_destroy(rt);
    ts_destroy(&w1);
    ts_destroy(&w2);
}

static void test_etcd_down_past_ttl(void **state)
{
    (void)state;
    test_server etcd;
    assert_int_equal(ts_etcd_start(&etcd), 0);
    dyn_runtime *wrt = runtime_for(&g_nats, &etcd), *crt = runtime_for(&g_nats, &etcd);
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(wrt, "survivor", "who", id_handler, wrt, &ep, &err), DYN_OK);
    uint64_t first = dyn_runtime_instance_id(wrt);
    ts_stop(&etcd);
    sleep(5);                                   /* TTL is 3 s */
    assert_int_equal(ts_restart(&etcd), 0);
    long long end = ts_now_ms() + 15000;
    while (dyn_runtime_instance_id(wrt) == first && ts_now_ms() < end)
        usleep(50000);
    uint64_t second = dyn_runtime_instance_id(wrt);
    assert_int_not_equal(second, first);
    /* A fresh client finds the worker under its new lease and calls it. */
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(crt, NULL, "survivor", "who", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);
    uint64_t ids[4];
    end = ts_now_ms() + 5000;
    while ((dyn_client_instances(c, ids, 4) != 1 || ids[0] != second) && ts_now_ms() < end)
        usleep(50000);
    assert_int_equal(dyn_client_instances(c, ids, 4), 1);
    assert_int_equal(ids[0], second);
    dyn_stream *s;
    char last[64], expect[64];
    int n;
    assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
    assert_int_equal(drain(s, &n, last, sizeof last, &err), DYN_OK);
    snprintf(expect, sizeof expect, "\"%llx\"", (unsigned long long)second);
    assert_string_equal(last, expect);
    dyn_stream_free(s);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(wrt);
    dyn_runtime_destroy(crt);
    ts_destroy(&etcd);
}

static void test_nats_restart_mid_traffic(void **state)
{
    (void)state;
    test_server nats;
    assert_int_equal(ts_nats_start(&nats, NULL), 0);
    dyn_runtime *rt = runtime_for(&nats, &g_etcd);
    dyn_error err = {0};
    dyn_endpoint *ep = NULL;
    assert_int_equal(dyn_endpoint_serve(rt, "bouncy", "who", id_handler, rt, &ep, &err), DYN_OK);
    dyn_client *c = NULL;
    assert_int_equal(dyn_client_create(rt, NULL, "bouncy", "who", &c, &err), DYN_OK);
    assert_int_equal(dyn_client_wait_instances(c, 1, 5000, &err), DYN_OK);
    dyn_stream *s;
    int n;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err), DYN_OK);
        assert_int_equal(drain(s, &n, NULL, 0, &err), DYN_OK);
        dyn_stream_free(s);
    }
    assert_int_equal(ts_restart(&nats), 0);
    /* After the reconnect, requests succeed again (allow the reconnect backoff). */
    long long end = ts_now_ms() + 15000;
    int ok = 0;
    while (ts_now_ms() < end && ok < 20) {
        long long t0 = ts_now_ms();
        dyn_status st = dyn_client_generate(c, "{}", 2, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err);
        if (st == DYN_OK) {
            st = drain(s, &n, NULL, 0, &err);
            dyn_stream_free(s);
        }
        assert_true(ts_now_ms() - t0 < 5000);
        if (st == DYN_OK)
            ok++;
        else
            usleep(100000);
    }
    assert_int_equal(ok, 20);
    dyn_client_destroy(c);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
    ts_destroy(&nats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_sizes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_oversize_fails_at_once),
        cmocka_unit_test(test_routing_and_no_instance),
        cmocka_unit_test(test_cancellation_stops_worker),
        cmocka_unit_test(test_killed_worker),
        cmocka_unit_test(test_etcd_down_past_ttl),
        cmocka_unit_test(test_nats_restart_mid_traffic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
