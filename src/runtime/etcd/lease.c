/* The primary lease: granted at start, kept alive by its own thread at half the remaining
 * TTL, replaced (with every registration re-run) when lost. */
#include "internal.h"
#include "dyn/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct reg {
    int handle;
    dyn_lease_register_fn fn;
    void *ud;
    int done;        /* registered under the current lease */
    struct reg *next;
} reg;

struct dyn_lease {
    dyn_etcd *e;
    CURL *curl;                /* the keep-alive thread's own connection */
    int ttl_s;
    pthread_t thread;
    pthread_mutex_t mu;        /* guards id, stop, generation */
    pthread_cond_t cv;
    pthread_mutex_t reg_mu;    /* serialises registration callbacks */
    reg *regs;
    int next_handle;
    uint64_t id;
    int generation;
    int stop;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits up to ms or until stop; returns 1 when stopping. */
static int wait_or_stop(dyn_lease *l, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&l->mu);
    while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
        ;
    int stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

static dyn_status keepalive(dyn_lease *l, uint64_t id, int64_t *ttl, dyn_error *err)
{
    char sid[32];
    snprintf(sid, sizeof sid, "%llu", (unsigned long long)id);
    json_t *resp = NULL;
    dyn_status st = etcd_call(l->e, l->curl, "/v3/lease/keepalive", json_pack("{s:s}", "ID", sid), &resp, 3000, err);
    if (st == DYN_OK) {
        json_t *res = json_object_get(resp, "result");
        *ttl = etcd_json_i64(res ? res : resp, "TTL", 0);
    }
    json_decref(resp);
    return st;
}

static void run_registrations(dyn_lease *l, uint64_t id, int only_pending)
{
    pthread_mutex_lock(&l->reg_mu);
    for (reg *r = l->regs; r; r = r->next) {
        if (only_pending && r->done)
            continue;
        dyn_error err = {0};
        r->done = r->fn(l->e, id, r->ud, &err) == DYN_OK;
        if (!r->done)
            DYN_WARN("etcd", "registration under lease %llx failed (will retry): %s", (unsigned long long)id, err.message);
    }
    pthread_mutex_unlock(&l->reg_mu);
}

static void *lease_main(void *arg)
{
    dyn_lease *l = arg;
    pthread_setname_np(pthread_self(), "dyn-lease");
    int64_t deadline = now_ms() + (int64_t)l->ttl_s * 1000;
    int64_t backoff = 500;
    int failing = 0;
    for (;;) {
        int64_t remaining = deadline - now_ms();
        int64_t wait = remaining / 2;
        if (failing)
            wait = backoff < wait ? backoff : wait;
        if (wait < 100)
            wait = 100;
        if (wait_or_stop(l, wait))
            break;
        pthread_mutex_lock(&l->mu);
        uint64_t id = l->id;
        pthread_mutex_unlock(&l->mu);
        dyn_error err = {0};
        int64_t ttl = 0;
        dyn_status st = keepalive(l, id, &ttl, &err);
        int lost = 0;
        if (st == DYN_OK && ttl > 0) {
            deadline = now_ms() + ttl * 1000;
            failing = 0;
            backoff = 500;
            run_registrations(l, id, 1);
            continue;
        }
        if (st == DYN_OK) {
            DYN_WARN("etcd", "lease %llx no longer exists; granting a new one", (unsigned long long)id);
            lost = 1;
        } else if (now_ms() >= deadline) {
            DYN_WARN("etcd", "lease %llx expired while etcd was unreachable: %s", (unsigned long long)id, err.message);
            lost = 1;
        } else {
            DYN_DEBUG("etcd", "keep-alive failed (retrying): %s", err.message);
            failing = 1;
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        if (!lost)
            continue;
        /* Replace the lease: grant until it works (or we are stopped), then re-register. */
        int64_t gb = 500;
        uint64_t nid = 0;
        for (;;) {
            if (dyn_etcd_lease_grant(l->e, l->ttl_s, &nid, &err) == DYN_OK)
                break;
            DYN_DEBUG("etcd", "lease grant failed (retrying): %s", err.message);
            if (wait_or_stop(l, gb))
                return NULL;
            gb = gb * 2 > 5000 ? 5000 : gb * 2;
        }
        /* The old lease may have survived an etcd restart; drop it so its keys go away. */
        dyn_etcd_lease_revoke(l->e, id, NULL);
        pthread_mutex_lock(&l->mu);
        l->id = nid;
        l->generation++;
        pthread_mutex_unlock(&l->mu);
        DYN_INFO("etcd", "new primary lease %llx replaces %llx; re-registering", (unsigned long long)nid,
                 (unsigned long long)id);
        deadline = now_ms() + (int64_t)l->ttl_s * 1000;
        failing = 0;
        backoff = 500;
        run_registrations(l, nid, 0);
    }
    return NULL;
}

dyn_status dyn_lease_start(dyn_etcd *e, int ttl_s, dyn_lease **out, dyn_error *err)
{
    *out = NULL;
    dyn_lease *l = calloc(1, sizeof *l);
    if (!l)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    l->e = e;
    l->ttl_s = ttl_s;
    l->curl = curl_easy_init();
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_mutex_init(&l->reg_mu, NULL);
    dyn_status st = l->curl ? dyn_etcd_lease_grant(e, ttl_s, &l->id, err)
                            : dyn_error_set(err, DYN_ERR_NOMEM, "curl_easy_init failed");
    if (st == DYN_OK && pthread_create(&l->thread, NULL, lease_main, l) != 0)
        st = dyn_error_set(err, DYN_ERR_INTERNAL, "cannot start the lease keep-alive thread");
    if (st != DYN_OK) {
        if (l->id)
            dyn_etcd_lease_revoke(e, l->id, NULL);
        if (l->curl)
            curl_easy_cleanup(l->curl);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->reg_mu);
        free(l);
        return st;
    }
    DYN_INFO("etcd", "primary lease %llx granted (TTL %d s)", (unsigned long long)l->id, ttl_s);
    *out = l;
    return DYN_OK;
}

void dyn_lease_stop(dyn_lease *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    dyn_etcd_lease_revoke(l->e, l->id, NULL);
    for (reg *r = l->regs, *n; r; r = n) {
        n = r->next;
        free(r);
    }
    curl_easy_cleanup(l->curl);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->reg_mu);
    free(l);
}

uint64_t dyn_lease_id(dyn_lease *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t id = l->id;
    pthread_mutex_unlock(&l->mu);
    return id;
}

int dyn_lease_generation(dyn_lease *l)
{
    pthread_mutex_lock(&l->mu);
    int g = l->generation;
    pthread_mutex_unlock(&l->mu);
    return g;
}

dyn_status dyn_lease_add(dyn_lease *l, dyn_lease_register_fn fn, void *ud, int *handle, dyn_error *err)
{
    reg *r = calloc(1, sizeof *r);
    if (!r)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    r->fn = fn;
    r->ud = ud;
    pthread_mutex_lock(&l->reg_mu);
    r->handle = ++l->next_handle;
    dyn_status st = fn(l->e, dyn_lease_id(l), ud, err);
    r->done = st == DYN_OK;
    if (st == DYN_OK) {
        r->next = l->regs;
        l->regs = r;
    }
    pthread_mutex_unlock(&l->reg_mu);
    if (st != DYN_OK) {
        free(r);
        return st;
    }
    if (handle)
        *handle = r->handle;
    return DYN_OK;
}

void dyn_lease_remove(dyn_lease *l, int handle)
{
    pthread_mutex_lock(&l->reg_mu);
    for (reg **p = &l->regs; *p; p = &(*p)->next) {
        if ((*p)->handle == handle) {
            reg *r = *p;
            *p = r->next;
            free(r);
            break;
        }
    }
    pthread_mutex_unlock(&l->reg_mu);
}
