/* etcd client against a real etcd: kv, create-if-absent, leases (including loss and
 * replacement), prefix watches (resume after restart, re-list after compaction). */
#include "testutil.h"
#include "servers.h"
#include "rtenv.h"
#include "dyn/etcd.h"
#include "dyn/discovery.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static test_server etcd_srv;

static dyn_etcd *connect_etcd(void)
{
    char ep[160];
    snprintf(ep, sizeof ep, "ETCD_ENDPOINTS=127.0.0.1:%d", etcd_srv.port);   /* no scheme on purpose */
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(rtenv_config(&cfg, &err, ep, (const char *)NULL), DYN_OK);
    dyn_etcd *e = NULL;
    dyn_status st = dyn_etcd_connect(&cfg, &e, &err);
    if (st != DYN_OK)
        fail_msg("etcd connect: %s", err.message);
    dyn_rt_config_free(&cfg);
    return e;
}

static int setup(void **state)
{
    (void)state;
    return ts_etcd_start(&etcd_srv);
}

static int teardown(void **state)
{
    (void)state;
    ts_destroy(&etcd_srv);
    return 0;
}

static void test_kv_and_create(void **state)
{
    (void)state;
    dyn_etcd *e = connect_etcd();
    dyn_error err = {0};
    assert_int_equal(dyn_etcd_put(e, "t/kv/a", "one\0two", 7, 0, &err), DYN_OK);
    dyn_etcd_kv kv;
    assert_int_equal(dyn_etcd_get(e, "t/kv/a", &kv, &err), DYN_OK);
    assert_int_equal(kv.value_len, 7);
    assert_memory_equal(kv.value, "one\0two", 7);
    dyn_etcd_kv_clear(&kv);
    assert_int_equal(dyn_etcd_get(e, "t/kv/missing", &kv, &err), DYN_ERR_NOT_FOUND);

    int created = -1;
    assert_int_equal(dyn_etcd_create(e, "t/kv/c", "first", 5, 0, &created, &err), DYN_OK);
    assert_int_equal(created, 1);
    assert_int_equal(dyn_etcd_create(e, "t/kv/c", "second", 6, 0, &created, &err), DYN_OK);
    assert_int_equal(created, 0);
    assert_int_equal(dyn_etcd_get(e, "t/kv/c", &kv, &err), DYN_OK);
    assert_string_equal(kv.value, "first");
    dyn_etcd_kv_clear(&kv);

    dyn_etcd_kv *kvs;
    size_t n;
    int64_t rev;
    assert_int_equal(dyn_etcd_range_prefix(e, "t/kv/", &kvs, &n, &rev, &err), DYN_OK);
    assert_int_equal(n, 2);
    assert_true(rev > 0);
    dyn_etcd_kvs_free(kvs, n);
    int64_t deleted = 0;
    assert_int_equal(dyn_etcd_delete(e, "t/kv/a", &deleted, &err), DYN_OK);
    assert_int_equal(deleted, 1);
    dyn_etcd_close(e);
}

typedef struct {
    char key[256];
} reg_ud;

static dyn_status register_key(dyn_etcd *e, uint64_t lease, void *ud, dyn_error *err)
{
    reg_ud *r = ud;
    dyn_instance_key(r->key, sizeof r->key, "ns", "comp", "ep", lease);
    int created;
    return dyn_etcd_create(e, r->key, "{}", 2, lease, &created, err);
}

static void test_lease_keepalive_and_replacement(void **state)
{
    (void)state;
    dyn_etcd *e = connect_etcd();
    dyn_error err = {0};
    dyn_lease *l = NULL;
    assert_int_equal(dyn_lease_start(e, 3, &l, &err), DYN_OK);
    uint64_t first = dyn_lease_id(l);
    reg_ud r;
    assert_int_equal(dyn_lease_add(l, register_key, &r, NULL, &err), DYN_OK);
    /* Kept alive well past the TTL. */
    sleep(5);
    dyn_etcd_kv kv;
    assert_int_equal(dyn_etcd_get(e, r.key, &kv, &err), DYN_OK);
    assert_int_equal(kv.lease, first);
    dyn_etcd_kv_clear(&kv);

    /* Revoked behind our back: a new lease is granted and the key re-registered. */
    assert_int_equal(dyn_etcd_lease_revoke(e, first, &err), DYN_OK);
    long long end = ts_now_ms() + 10000;
    while (dyn_lease_generation(l) < 1 && ts_now_ms() < end)
        usleep(50000);
    assert_int_equal(dyn_lease_generation(l), 1);
    uint64_t second = dyn_lease_id(l);
    assert_int_not_equal(second, first);
    assert_int_equal(dyn_etcd_get(e, r.key, &kv, &err), DYN_OK);
    assert_int_equal(kv.lease, second);
    dyn_etcd_kv_clear(&kv);

    /* etcd down for longer than the TTL, then back: replaced again, without restarting. */
    ts_stop(&etcd_srv);
    sleep(4);
    assert_int_equal(ts_restart(&etcd_srv), 0);
    end = ts_now_ms() + 15000;
    while (dyn_lease_generation(l) < 2 && ts_now_ms() < end)
        usleep(50000);
    assert_int_equal(dyn_lease_generation(l), 2);
    uint64_t third = dyn_lease_id(l);
    end = ts_now_ms() + 5000;
    dyn_status st;
    while ((st = dyn_etcd_get(e, r.key, &kv, &err)) != DYN_OK && ts_now_ms() < end)
        usleep(50000);
    assert_int_equal(st, DYN_OK);
    assert_int_equal(kv.lease, third);
    dyn_etcd_kv_clear(&kv);
    /* The old instance key is gone (its lease was revoked on replacement). */
    char oldkey[256];
    dyn_instance_key(oldkey, sizeof oldkey, "ns", "comp", "ep", second);
    assert_int_equal(dyn_etcd_get(e, oldkey, &kv, &err), DYN_ERR_NOT_FOUND);

    dyn_lease_stop(l);
    /* Stop revokes: the key disappears at once. */
    assert_int_equal(dyn_etcd_get(e, r.key, &kv, &err), DYN_ERR_NOT_FOUND);
    dyn_etcd_close(e);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char keys[32][128];
    int present[32];
    int nkeys;
    int events;
    int block_on_key;   /* block the watch thread when this key arrives */
    int blocked, release;
} watch_state;

static void on_watch(void *ud, dyn_watch_op op, const char *key, const char *value, size_t len)
{
    (void)value;
    (void)len;
    watch_state *w = ud;
    pthread_mutex_lock(&w->mu);
    int i;
    for (i = 0; i < w->nkeys && strcmp(w->keys[i], key) != 0; i++)
        ;
    if (i == w->nkeys && w->nkeys < 32)
        snprintf(w->keys[w->nkeys++], sizeof w->keys[0], "%s", key);
    if (i < 32)
        w->present[i] = op == DYN_WATCH_PUT;
    w->events++;
    pthread_cond_broadcast(&w->cv);
    if (w->block_on_key && op == DYN_WATCH_PUT && strstr(key, "block")) {
        w->blocked = 1;
        pthread_cond_broadcast(&w->cv);
        while (!w->release)
            pthread_cond_wait(&w->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
}

static int wait_key(watch_state *w, const char *key, int present, int timeout_ms)
{
    long long end = ts_now_ms() + timeout_ms;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        for (int i = 0; i < w->nkeys; i++)
            if (strcmp(w->keys[i], key) == 0 && w->present[i] == present) {
                pthread_mutex_unlock(&w->mu);
                return 1;
            }
        if (ts_now_ms() > end)
            break;
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 50000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &t);
    }
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static void test_watch_resume_after_restart(void **state)
{
    (void)state;
    dyn_etcd *e = connect_etcd();
    dyn_error err = {0};
    assert_int_equal(dyn_etcd_put(e, "t/w1/existing", "x", 1, 0, &err), DYN_OK);
    watch_state w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    dyn_etcd_watch *wt = NULL;
    assert_int_equal(dyn_etcd_watch_prefix(e, "t/w1/", on_watch, &w, &wt, &err), DYN_OK);
    assert_true(wait_key(&w, "t/w1/existing", 1, 100));      /* listed before return */
    assert_int_equal(dyn_etcd_put(e, "t/w1/a", "1", 1, 0, &err), DYN_OK);
    assert_true(wait_key(&w, "t/w1/a", 1, 5000));
    assert_int_equal(dyn_etcd_put(e, "t/other", "1", 1, 0, &err), DYN_OK);   /* outside the prefix */

    assert_int_equal(ts_restart(&etcd_srv), 0);
    /* Written after the restart: the watch resumes from its last revision. */
    long long end = ts_now_ms() + 10000;
    while (dyn_etcd_put(e, "t/w1/b", "2", 1, 0, &err) != DYN_OK && ts_now_ms() < end)
        usleep(100000);
    assert_true(wait_key(&w, "t/w1/b", 1, 10000));
    assert_int_equal(dyn_etcd_delete(e, "t/w1/a", NULL, &err), DYN_OK);
    assert_true(wait_key(&w, "t/w1/a", 0, 5000));
    assert_true(dyn_etcd_watch_reconnects(wt) >= 1);
    for (int i = 0; i < w.nkeys; i++)
        assert_null(strstr(w.keys[i], "t/other"));
    dyn_etcd_watch_stop(wt);
    dyn_etcd_close(e);
}

static void test_watch_relists_after_compaction(void **state)
{
    (void)state;
    dyn_etcd *e = connect_etcd();
    dyn_error err = {0};
    assert_int_equal(dyn_etcd_put(e, "t/w2/gone", "x", 1, 0, &err), DYN_OK);
    watch_state w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .block_on_key = 1};
    dyn_etcd_watch *wt = NULL;
    assert_int_equal(dyn_etcd_watch_prefix(e, "t/w2/", on_watch, &w, &wt, &err), DYN_OK);
    /* Hold the watch thread inside a callback while its stream breaks and history is compacted. */
    assert_int_equal(dyn_etcd_put(e, "t/w2/block", "x", 1, 0, &err), DYN_OK);
    pthread_mutex_lock(&w.mu);
    long long end = ts_now_ms() + 5000;
    while (!w.blocked && ts_now_ms() < end) {
        pthread_mutex_unlock(&w.mu);
        usleep(20000);
        pthread_mutex_lock(&w.mu);
    }
    assert_true(w.blocked);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(ts_restart(&etcd_srv), 0);
    /* The watch keeps using e (it must outlive the watch); write through a second client. */
    dyn_etcd *watched = e;
    e = connect_etcd();
    assert_int_equal(dyn_etcd_delete(e, "t/w2/gone", NULL, &err), DYN_OK);
    for (int i = 0; i < 5; i++) {
        char k[64];
        snprintf(k, sizeof k, "t/w2/new%d", i);
        assert_int_equal(dyn_etcd_put(e, k, "y", 1, 0, &err), DYN_OK);
    }
    dyn_etcd_kv *kvs;
    size_t n;
    int64_t rev;
    assert_int_equal(dyn_etcd_range_prefix(e, "t/w2/", &kvs, &n, &rev, &err), DYN_OK);
    dyn_etcd_kvs_free(kvs, n);
    assert_int_equal(dyn_etcd_compact(e, rev, &err), DYN_OK);
    pthread_mutex_lock(&w.mu);
    w.release = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    /* The re-list reports the delete it could not see as an event, and the new keys. */
    assert_true(wait_key(&w, "t/w2/gone", 0, 10000));
    assert_true(wait_key(&w, "t/w2/new4", 1, 10000));
    end = ts_now_ms() + 2000;
    while (dyn_etcd_watch_relists(wt) < 1 && ts_now_ms() < end)
        usleep(10000);
    assert_true(dyn_etcd_watch_relists(wt) >= 1);
    /* And keeps watching afterwards. */
    assert_int_equal(dyn_etcd_put(e, "t/w2/after", "z", 1, 0, &err), DYN_OK);
    assert_true(wait_key(&w, "t/w2/after", 1, 5000));
    dyn_etcd_watch_stop(wt);
    dyn_etcd_close(watched);
    dyn_etcd_close(e);
}

static void test_unreachable_is_clear(void **state)
{
    (void)state;
    char ep[160];
    snprintf(ep, sizeof ep, "ETCD_ENDPOINTS=http://127.0.0.1:%d", ts_free_port());
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(rtenv_config(&cfg, &err, ep, (const char *)NULL), DYN_OK);
    dyn_etcd *e = NULL;
    assert_int_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.message, "ETCD_ENDPOINTS"));
    dyn_rt_config_free(&cfg);
}

static void on_count(void *ud, dyn_watch_op op, const char *key, const char *value, size_t len)
{
    (void)op; (void)key; (void)value; (void)len;
    __atomic_fetch_add((int *)ud, 1, __ATOMIC_RELAXED);
}

/* ETCD_AUTH_USERNAME/PASSWORD against an etcd with auth enabled: kv, lease, watch; a wrong
 * password is a fast DYN_ERR_AUTH. */
static void test_user_auth(void **state)
{
    (void)state;
    test_server secured;
    assert_int_equal(ts_etcd_start(&secured), 0);
    assert_int_equal(ts_sh(30, "E='etcdctl --endpoints=%s'; $E user add root:rootpw >/dev/null && "
                               "$E user grant-role root root >/dev/null && $E auth enable >/dev/null", secured.url), 0);
    char ep[160];
    snprintf(ep, sizeof ep, "ETCD_ENDPOINTS=%s", secured.url);
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(rtenv_config(&cfg, &err, ep, "ETCD_AUTH_USERNAME=root", "ETCD_AUTH_PASSWORD=rootpw", (const char *)NULL), DYN_OK);
    dyn_etcd *e = NULL;
    dyn_status st = dyn_etcd_connect(&cfg, &e, &err);
    if (st != DYN_OK)
        fail_msg("auth connect: %s", err.message);
    dyn_rt_config_free(&cfg);
    int events = 0;
    dyn_etcd_watch *w = NULL;
    assert_int_equal(dyn_etcd_watch_prefix(e, "auth/", on_count, &events, &w, &err), DYN_OK);
    assert_int_equal(dyn_etcd_put(e, "auth/a", "1", 1, 0, &err), DYN_OK);
    dyn_lease *l = NULL;
    assert_int_equal(dyn_lease_start(e, 3, &l, &err), DYN_OK);
    int created = 0;
    assert_int_equal(dyn_etcd_create(e, "auth/leased", "x", 1, dyn_lease_id(l), &created, &err), DYN_OK);
    assert_int_equal(created, 1);
    long long end = ts_now_ms() + 5000;
    while (__atomic_load_n(&events, __ATOMIC_RELAXED) < 2 && ts_now_ms() < end)
        usleep(20000);
    assert_int_equal(__atomic_load_n(&events, __ATOMIC_RELAXED), 2);
    dyn_lease_stop(l);
    dyn_etcd_watch_stop(w);
    dyn_etcd_close(e);

    assert_int_equal(rtenv_config(&cfg, &err, ep, "ETCD_AUTH_USERNAME=root", "ETCD_AUTH_PASSWORD=wrong", (const char *)NULL), DYN_OK);
    long long t0 = ts_now_ms();
    assert_int_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_ERR_AUTH);
    assert_true(ts_now_ms() - t0 < 3000);
    assert_non_null(strstr(err.message, "ETCD_AUTH_USERNAME"));
    dyn_rt_config_free(&cfg);
    ts_destroy(&secured);
}

/* ETCD_AUTH_CA/CLIENT_CERT/CLIENT_KEY against an etcd that requires client certificates. */
static void test_mutual_tls(void **state)
{
    (void)state;
    test_server certs;
    assert_int_equal(ts_proc_start(&certs, (char *const[]){"/bin/true", NULL}, NULL), 0);
    const char *d = certs.dir;
    assert_int_equal(ts_sh(60,
        "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dyn-test-ca -keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out server.pem 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=dyn-client -keyout client.key -out client.csr 2>/dev/null && "
        "printf 'extendedKeyUsage=clientAuth\\n' > cext.cnf && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile cext.cnf -out client.pem 2>/dev/null", d), 0);
    char ca[400], scert[400], skey[400];
    snprintf(ca, sizeof ca, "%s/ca.pem", d);
    snprintf(scert, sizeof scert, "%s/server.pem", d);
    snprintf(skey, sizeof skey, "%s/server.key", d);
    test_server secured;
    assert_int_equal(ts_etcd_start_tls(&secured, ca, scert, skey), 0);
    char ep[160], eca[500], ecert[500], ekey[500];
    snprintf(ep, sizeof ep, "ETCD_ENDPOINTS=%s", secured.url);
    snprintf(eca, sizeof eca, "ETCD_AUTH_CA=%s", ca);
    snprintf(ecert, sizeof ecert, "ETCD_AUTH_CLIENT_CERT=%s/client.pem", d);
    snprintf(ekey, sizeof ekey, "ETCD_AUTH_CLIENT_KEY=%s/client.key", d);
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(rtenv_config(&cfg, &err, ep, eca, ecert, ekey, (const char *)NULL), DYN_OK);
    dyn_etcd *e = NULL;
    dyn_status st = dyn_etcd_connect(&cfg, &e, &err);
    if (st != DYN_OK)
        fail_msg("mTLS connect: %s", err.message);
    dyn_rt_config_free(&cfg);
    int events = 0;
    dyn_etcd_watch *w = NULL;
    assert_int_equal(dyn_etcd_watch_prefix(e, "tls/", on_count, &events, &w, &err), DYN_OK);
    assert_int_equal(dyn_etcd_put(e, "tls/a", "1", 1, 0, &err), DYN_OK);
    long long end = ts_now_ms() + 5000;
    while (__atomic_load_n(&events, __ATOMIC_RELAXED) < 1 && ts_now_ms() < end)
        usleep(20000);
    assert_int_equal(__atomic_load_n(&events, __ATOMIC_RELAXED), 1);
    dyn_etcd_watch_stop(w);
    dyn_etcd_close(e);
    /* Without the client certificate: refused. */
    assert_int_equal(rtenv_config(&cfg, &err, ep, eca, (const char *)NULL), DYN_OK);
    assert_int_not_equal(dyn_etcd_connect(&cfg, &e, &err), DYN_OK);
    dyn_rt_config_free(&cfg);
    ts_destroy(&secured);
    ts_destroy(&certs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable_is_clear),
        cmocka_unit_test(test_kv_and_create),
        cmocka_unit_test(test_watch_resume_after_restart),
        cmocka_unit_test(test_watch_relists_after_compaction),
        cmocka_unit_test(test_lease_keepalive_and_replacement),
        cmocka_unit_test(test_user_auth),
        cmocka_unit_test(test_mutual_tls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
