/* Event plane against a real nats-server: pub/sub subjects, the JetStream work queue with its
 * garbage collection, and the key-value bucket wrapper. */
#include "testutil.h"
#include "servers.h"
#include "rtenv.h"
#include "dyn/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static test_server g_nats;
static dyn_nats *g_nc;

static int setup(void **state)
{
    (void)state;
    if (ts_nats_start(&g_nats, NULL) != 0)
        return -1;
    char n[160];
    snprintf(n, sizeof n, "NATS_SERVER=%s", g_nats.url);
    dyn_rt_config cfg;
    dyn_error err = {0};
    if (rtenv_config(&cfg, &err, n, (const char *)NULL) != DYN_OK)
        return -1;
    dyn_status st = dyn_nats_connect(&cfg, &g_nc, &err);
    dyn_rt_config_free(&cfg);
    return st == DYN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dyn_nats_close(g_nc);
    ts_destroy(&g_nats);
    return 0;
}

static void test_pubsub(void **state)
{
    (void)state;
    dyn_error err = {0};
    char subj[256];
    dyn_events_subject(subj, sizeof subj, "dynamo", "backend", "kv-events");
    assert_string_equal(subj, "namespace.dynamo.component.backend.kv-events");
    dyn_events_sub *one = NULL, *all = NULL;
    assert_int_equal(dyn_events_subscribe(g_nc, "dynamo", "backend", "kv-events", &one, &err), DYN_OK);
    assert_int_equal(dyn_events_subscribe(g_nc, "dynamo", "*", "kv-events", &all, &err), DYN_OK);
    assert_int_equal(dyn_events_publish(g_nc, "dynamo", "backend", "kv-events", "{\"a\":1}", 7, &err), DYN_OK);
    assert_int_equal(dyn_events_publish(g_nc, "dynamo", "prefill", "kv-events", "{\"b\":2}", 7, &err), DYN_OK);
    assert_int_equal(dyn_events_publish(g_nc, "dynamo", "backend", "other", "x", 1, &err), DYN_OK);
    char *d;
    size_t n;
    assert_int_equal(dyn_events_next(one, &d, &n, 2000, &err), DYN_OK);
    assert_string_equal(d, "{\"a\":1}");
    free(d);
    assert_int_equal(dyn_events_next(one, &d, &n, 200, &err), DYN_ERR_TIMEOUT);
    assert_int_equal(dyn_events_next(all, &d, &n, 2000, &err), DYN_OK);
    free(d);
    assert_int_equal(dyn_events_next(all, &d, &n, 2000, &err), DYN_OK);
    assert_string_equal(d, "{\"b\":2}");
    free(d);
    dyn_events_unsubscribe(one);
    dyn_events_unsubscribe(all);
}

static void test_work_queue_and_gc(void **state)
{
    (void)state;
    dyn_error err = {0};
    dyn_queue *r1 = NULL, *r2 = NULL;
    assert_int_equal(dyn_queue_open(g_nc, "dynamo", "backend", "kv_events", "router-1", 1, &r1, &err), DYN_OK);
    assert_string_equal(dyn_queue_stream(r1), "namespace-dynamo-component-backend-kv-events");
    assert_int_equal(dyn_queue_open(g_nc, "dynamo", "backend", "kv_events", "router-2", 0, &r2, &err), DYN_OK);
    for (int i = 0; i < 10; i++) {
        char msg[32];
        int l = snprintf(msg, sizeof msg, "{\"i\":%d}", i);
        assert_int_equal(dyn_queue_publish(r1, msg, (size_t)l, &err), DYN_OK);
    }
    /* Broadcast: each durable consumer sees every message. */
    char *d;
    size_t n;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(dyn_queue_dequeue(r1, &d, &n, 2000, &err), DYN_OK);
        char want[32];
        snprintf(want, sizeof want, "{\"i\":%d}", i);
        assert_string_equal(d, want);
        free(d);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dyn_queue_dequeue(r2, &d, &n, 2000, &err), DYN_OK);
        free(d);
    }
    assert_int_equal(dyn_queue_dequeue(r1, &d, &n, 300, &err), DYN_ERR_TIMEOUT);
    /* GC removes only what every consumer acknowledged (r2 is at 4). Ack floors are updated
     * asynchronously by the server; allow a moment. */
    uint64_t below = 0, stored = 0;
    long long end = ts_now_ms() + 3000;
    do {
        assert_int_equal(dyn_queue_gc(r1, &below, &err), DYN_OK);
        assert_int_equal(dyn_queue_stored(r1, &stored, &err), DYN_OK);
    } while (stored != 6 && ts_now_ms() < end);
    assert_int_equal(below, 5);
    assert_int_equal(stored, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(dyn_queue_dequeue(r2, &d, &n, 2000, &err), DYN_OK);
        free(d);
    }
    end = ts_now_ms() + 3000;
    do {
        assert_int_equal(dyn_queue_gc(r2, &below, &err), DYN_OK);
        assert_int_equal(dyn_queue_stored(r2, &stored, &err), DYN_OK);
    } while (stored != 0 && ts_now_ms() < end);
    assert_int_equal(stored, 0);
    dyn_queue_close(r1);
    dyn_queue_close(r2);
}

static void test_kv_bucket(void **state)
{
    (void)state;
    dyn_error err = {0};
    dyn_kv *kv = NULL;
    assert_int_equal(dyn_kv_open(g_nc, "radix-bucket", 0, &kv, &err), DYN_ERR_NOT_FOUND);
    assert_int_equal(dyn_kv_open(g_nc, "radix-bucket", 1, &kv, &err), DYN_OK);
    uint64_t rev = 0, rev2 = 0;
    assert_int_equal(dyn_kv_put(kv, "radix-state", "abc", 3, &rev, &err), DYN_OK);
    char *d;
    size_t n;
    assert_int_equal(dyn_kv_get(kv, "radix-state", &d, &n, &rev2, &err), DYN_OK);
    assert_int_equal(n, 3);
    assert_string_equal(d, "abc");
    assert_int_equal(rev, rev2);
    free(d);
    assert_int_equal(dyn_kv_delete(kv, "radix-state", &err), DYN_OK);
    assert_int_equal(dyn_kv_get(kv, "radix-state", &d, &n, NULL, &err), DYN_ERR_NOT_FOUND);
    dyn_kv_close(kv);
    assert_int_equal(dyn_kv_delete_bucket(g_nc, "radix-bucket", &err), DYN_OK);
    assert_int_equal(dyn_kv_delete_bucket(g_nc, "radix-bucket", &err), DYN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_work_queue_and_gc),
        cmocka_unit_test(test_kv_bucket),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
