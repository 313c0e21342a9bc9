/* Calling an endpoint (spec §2.3-§2.5, router side): the live instance set from an etcd
 * watch, routing (round-robin, random, direct), mark-down on no-responders or a stream that
 * ends early (restored on the next discovery change or after 5 s), the two-part request over
 * NATS, and the response stream from the call-home server. */
#include "internal.h"
#include "dyn/discovery.h"
#include "dyn/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RESTORE_MS 5000

typedef struct inst {
    uint64_t id;
    char subject[256];
    int64_t down_since;        /* 0 = available */
} inst;

struct dyn_client {
    dyn_runtime *rt;
    char ns[DYN_NAME_MAX], component[DYN_NAME_MAX], endpoint[DYN_NAME_MAX];
    dyn_etcd_watch *watch;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    inst *list;
    size_t n, cap;
    uint64_t rr;
    uint64_t rnd;
};

struct dyn_stream {
    dyn_client *c;
    ch_pending *p;
    uint64_t instance;
    char *cur;                 /* the frame buffer of the last item returned */
    char *owned;               /* re-serialised item, if any */
    int finished, stopped, killed, failed;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- instance set ---- */

static void on_watch(void *ud, dyn_watch_op op, const char *key, const char *value, size_t len)
{
    dyn_client *c = ud;
    pthread_mutex_lock(&c->mu);
    if (op == DYN_WATCH_PUT) {
        dyn_instance in;
        dyn_error err = {0};
        if (dyn_instance_parse(value, len, &in, &err) != DYN_OK) {
            DYN_WARN("rpc", "ignoring discovery record %s: %s", key, err.message);
        } else if (strcmp(in.transport, "nats_tcp") != 0) {
            DYN_WARN("rpc", "ignoring discovery record %s: transport %s is not supported", key, in.transport);
        } else {
            size_t i;
            for (i = 0; i < c->n && c->list[i].id != in.instance_id; i++)
                ;
            if (i == c->n && c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 8;
                inst *l = realloc(c->list, cap * sizeof *l);
                if (l) {
                    c->list = l;
                    c->cap = cap;
                }
            }
            if (i < c->cap) {
                if (i == c->n)
                    c->n++;
                c->list[i].id = in.instance_id;
                snprintf(c->list[i].subject, sizeof c->list[i].subject, "%s", in.address);
            }
        }
    } else {
        uint64_t id = dyn_instance_id_from_key(key);
        for (size_t i = 0; i < c->n; i++)
            if (c->list[i].id == id) {
                c->list[i] = c->list[--c->n];
                break;
            }
    }
    /* Any discovery change restores instances marked down. */
    for (size_t i = 0; i < c->n; i++)
        c->list[i].down_since = 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->mu);
}

static size_t available_locked(dyn_client *c, uint64_t *ids, size_t cap)
{
    int64_t now = now_ms();
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->list[i].down_since && now - c->list[i].down_since >= RESTORE_MS)
            c->list[i].down_since = 0;
        if (!c->list[i].down_since) {
            if (k < cap)
                ids[k] = c->list[i].id;
            k++;
        }
    }
    return k;
}

static void mark_down(dyn_client *c, uint64_t id, const char *why)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (c->list[i].id == id && !c->list[i].down_since) {
            c->list[i].down_since = now_ms();
            DYN_INFO("rpc", "instance %llx of %s/%s marked down: %s", (unsigned long long)id, c->component, c->endpoint, why);
        }
    pthread_mutex_unlock(&c->mu);
}

dyn_status dyn_client_create(dyn_runtime *rt, const char *ns, const char *component, const char *endpoint,
                             dyn_client **out, dyn_error *err)
{
    *out = NULL;
    if (!ns)
        ns = dyn_runtime_namespace(rt);
    if (!dyn_name_valid(ns, 1) || !dyn_name_valid(component, 0) || !dyn_name_valid(endpoint, 0))
        return dyn_error_set(err, DYN_ERR_INVALID, "client %s/%s/%s: names must match [a-z0-9-_]+", ns, component, endpoint);
    dyn_client *c = calloc(1, sizeof *c);
    if (!c)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    c->rt = rt;
    snprintf(c->ns, sizeof c->ns, "%s", ns);
    snprintf(c->component, sizeof c->component, "%s", component);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    if (getrandom(&c->rnd, sizeof c->rnd, 0) != (ssize_t)sizeof c->rnd || !c->rnd)
        c->rnd = 0x9e3779b97f4a7c15ull;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->changed, NULL);
    char prefix[512];
    dyn_instance_prefix(prefix, sizeof prefix, ns, component, endpoint);
    dyn_status st = dyn_etcd_watch_prefix(dyn_runtime_etcd(rt), prefix, on_watch, c, &c->watch, err);
    if (st != DYN_OK) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->changed);
        free(c);
        return st;
    }
    *out = c;
    return DYN_OK;
}

void dyn_client_destroy(dyn_client *c)
{
    if (!c)
        return;
    dyn_etcd_watch_stop(c->watch);
    free(c->list);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->changed);
    free(c);
}

size_t dyn_client_instances(dyn_client *c, uint64_t *ids, size_t cap)
{
    pthread_mutex_lock(&c->mu);
    size_t n = available_locked(c, ids, cap);
    pthread_mutex_unlock(&c->mu);
    return n;
}

dyn_status dyn_client_wait_instances(dyn_client *c, size_t want, int timeout_ms, dyn_error *err)
{
    int64_t end = now_ms() + timeout_ms;
    pthread_mutex_lock(&c->mu);
    size_t n;
    while ((n = available_locked(c, NULL, 0)) < want) {
        int64_t left = end - now_ms();
        if (left <= 0)
            break;
        if (left > 100)
            left = 100;    /* also re-check the 5 s restore */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += (long)left * 1000000L;
        t.tv_sec += t.tv_nsec / 1000000000L;
        t.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&c->changed, &c->mu, &t);
    }
    pthread_mutex_unlock(&c->mu);
    if (n < want)
        return dyn_error_set(err, DYN_ERR_TIMEOUT, "%s/%s/%s: %zu of %zu instances after %d ms", c->ns, c->component,
                             c->endpoint, n, want, timeout_ms);
    return DYN_OK;
}

/* Picks an instance; excluded ids (already tried) are skipped. */
static int pick(dyn_client *c, dyn_route route, uint64_t direct, const uint64_t *tried, size_t ntried,
                uint64_t *id, char *subject, size_t scap)
{
    pthread_mutex_lock(&c->mu);
    uint64_t ids[256];
    size_t n = available_locked(c, ids, 256);
    if (n > 256)
        n = 256;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int skip = 0;
        for (size_t t = 0; t < ntried; t++)
            skip |= ids[i] == tried[t];
        if (!skip)
            ids[k++] = ids[i];
    }
    int found = 0;
    uint64_t chosen = 0;
    if (route == DYN_ROUTE_DIRECT) {
        for (size_t i = 0; i < c->n; i++)      /* direct ignores the down marks: the caller insists */
            if (c->list[i].id == direct)
                found = 1, chosen = direct;
        if (ntried)
            found = 0;
    } else if (k > 0) {
        if (route == DYN_ROUTE_RANDOM) {
            c->rnd ^= c->rnd << 13;
            c->rnd ^= c->rnd >> 7;
            c->rnd ^= c->rnd << 17;
            chosen = ids[c->rnd % k];
        } else {
            chosen = ids[c->rr++ % k];
        }
        found = 1;
    }
    if (found) {
        for (size_t i = 0; i < c->n; i++)
            if (c->list[i].id == chosen)
                snprintf(subject, scap, "%s", c->list[i].subject);
        *id = chosen;
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* Builds the two-part request message. Returns the buffer (caller frees) and its length. */
static char *build_request(const char *reqid, const char *address, const char *subject, const char *body, size_t blen,
                           size_t *out_len)
{
    char info[512], hdr[1024];
    snprintf(info, sizeof info,
             "{\\\"address\\\":\\\"%s\\\",\\\"subject\\\":\\\"%s\\\",\\\"context\\\":\\\"%s\\\",\\\"stream_type\\\":\\\"response\\\"}",
             address, subject, reqid);
    int hl = snprintf(hdr, sizeof hdr,
                      "{\"id\":\"%s\",\"request_type\":\"single_in\",\"response_type\":\"many_out\","
                      "\"connection_info\":{\"transport\":\"tcp_server\",\"info\":\"%s\"}}",
                      reqid, info);
    size_t total = DYN_FRAME_PREFIX + (size_t)hl + blen;
    char *msg = malloc(total);
    if (!msg)
        return NULL;
    dyn_frame_prefix((unsigned char *)msg, (uint64_t)hl, blen);
    memcpy(msg + DYN_FRAME_PREFIX, hdr, (size_t)hl);
    memcpy(msg + DYN_FRAME_PREFIX + hl, body, blen);
    *out_len = total;
    return msg;
}

dyn_status dyn_client_generate(dyn_client *c, const char *request_json, size_t len, dyn_route route,
                               uint64_t instance_id, dyn_stream **out, dyn_error *err)
{
    *out = NULL;
    dyn_callhome *ch = runtime_callhome(c->rt);
    natsConnection *nc = dyn_nats_conn(dyn_runtime_nats(c->rt));
    char reqid[37];
    dyn_uuid4(reqid);
    ch_pending *p = callhome_register(ch);
    if (!p)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    size_t mlen = 0;
    char *msg = build_request(reqid, callhome_address(ch), p->subject, request_json, len, &mlen);
    if (!msg) {
        callhome_release(ch, p);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory for a %zu-byte request", len);
    }
    int64_t maxp = natsConnection_GetMaxPayload(nc);
    if (maxp > 0 && (int64_t)mlen > maxp) {
        free(msg);
        callhome_release(ch, p);
        return dyn_error_set(err, DYN_ERR_TOO_LARGE,
                             "request to %s/%s/%s is %zu bytes (two-part message) but the NATS server's max_payload is %lld bytes",
                             c->ns, c->component, c->endpoint, mlen, (long long)maxp);
    }
    uint64_t tried[16];
    size_t ntried = 0;
    dyn_status st = DYN_ERR_UNAVAILABLE;
    uint64_t id = 0;
    for (;;) {
        char subject[256];
        if (ntried == 16 || !pick(c, route, instance_id, tried, ntried, &id, subject, sizeof subject)) {
            if (ntried == 0 && route == DYN_ROUTE_DIRECT)
                st = dyn_error_set(err, DYN_ERR_NOT_FOUND, "%s/%s/%s: instance %llx is not registered", c->ns,
                                   c->component, c->endpoint, (unsigned long long)instance_id);
            else if (ntried == 0)
                st = dyn_error_set(err, DYN_ERR_UNAVAILABLE, "%s/%s/%s: no instance available", c->ns, c->component,
                                   c->endpoint);
            break;
        }
        tried[ntried++] = id;
        natsMsg *m = NULL, *reply = NULL;
        natsStatus s = natsMsg_Create(&m, subject, NULL, msg, (int)mlen);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "request-id", reqid);
        if (s == NATS_OK)
            s = natsConnection_RequestMsg(&reply, nc, m, runtime_request_timeout_ms(c->rt));
        natsMsg_Destroy(m);
        natsMsg_Destroy(reply);
        if (s == NATS_OK) {
            st = DYN_OK;
            break;
        }
        st = dyn_nats_error(err, s, "request to %s (instance %llx)", subject, (unsigned long long)id);
        if (s == NATS_NO_RESPONDERS) {
            mark_down(c, id, "no responders");
            continue;          /* nothing was processed: try another instance */
        }
        break;
    }
    free(msg);
    if (st != DYN_OK) {
        callhome_release(ch, p);
        return st;
    }
    dyn_stream *sm = calloc(1, sizeof *sm);
    if (!sm) {
        callhome_release(ch, p);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    sm->c = c;
    sm->p = p;
    sm->instance = id;
    *out = sm;
    return DYN_OK;
}

dyn_status dyn_stream_next(dyn_stream *s, const char **item, size_t *len, int timeout_ms, dyn_error *err)
{
    *item = NULL;
    *len = 0;
    free(s->cur);
    free(s->owned);
    s->cur = s->owned = NULL;
    if (s->finished)
        return DYN_OK;
    if (s->failed)
        return dyn_error_set(err, DYN_ERR_IO, "stream already failed");
    dyn_callhome *ch = runtime_callhome(s->c->rt);
    pthread_mutex_t *mu = callhome_lock(ch);
    ch_pending *p = s->p;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(mu);
    while (!p->head && !p->ended && !(p->prologue && p->prologue_error)) {
        if (pthread_cond_timedwait(&p->cv, mu, &until) == ETIMEDOUT)
            break;
    }
    if (p->prologue && p->prologue_error) {
        dyn_error_set(err, DYN_ERR_INTERNAL, "%s/%s instance %llx: %s", s->c->component, s->c->endpoint,
                      (unsigned long long)s->instance, p->prologue_error);
        pthread_mutex_unlock(mu);
        s->failed = 1;
        return DYN_ERR_INTERNAL;
    }
    if (!p->head && !p->ended) {
        int connected = p->connected;
        pthread_mutex_unlock(mu);
        return dyn_error_set(err, DYN_ERR_TIMEOUT, "%s/%s instance %llx: no response within %d ms%s", s->c->component,
                             s->c->endpoint, (unsigned long long)s->instance, timeout_ms,
                             connected ? "" : " (the worker never connected back)");
    }
    if (!p->head) {            /* ended without complete_final */
        int stopped = s->stopped || s->killed;
        pthread_mutex_unlock(mu);
        if (stopped) {
            s->finished = 1;
            return DYN_OK;
        }
        s->failed = 1;
        mark_down(s->c, s->instance, "stream ended early");
        return dyn_error_set(err, DYN_ERR_IO, "%s/%s instance %llx: Stream ended before generation completed",
                             s->c->component, s->c->endpoint, (unsigned long long)s->instance);
    }
    ch_item *it = p->head;
    p->head = it->next;
    if (!p->head)
        p->tail = NULL;
    p->qlen--;
    callhome_popped(ch, p);
    pthread_mutex_unlock(mu);
    dyn_frame f = it->f;
    free(it);
    const char *body = f.buf + f.hlen;
    const char *data;
    size_t dlen;
    int final;
    char *owned = NULL;
    dyn_status st = dyn_response_parse(body, f.blen, &data, &dlen, &final, &owned, err);
    if (st != DYN_OK) {
        free(f.buf);
        s->failed = 1;
        return st;
    }
    if (final && s->finished == 0 && data == NULL) {
        free(f.buf);
        s->finished = 1;
        return DYN_OK;
    }
    s->cur = f.buf;
    s->owned = owned;
    *item = data;
    *len = dlen;
    if (final)
        s->finished = 1;       /* data and final in one frame: this is the last item */
    return DYN_OK;
}

void dyn_stream_stop(dyn_stream *s)
{
    if (s->stopped || s->finished)
        return;
    s->stopped = 1;
    callhome_control(runtime_callhome(s->c->rt), s->p, "stop");
}

void dyn_stream_kill(dyn_stream *s)
{
    if (s->killed)
        return;
    s->killed = 1;
    callhome_control(runtime_callhome(s->c->rt), s->p, "kill");
}

void dyn_stream_free(dyn_stream *s)
{
    if (!s)
        return;
    if (!s->finished && !s->failed)
        dyn_stream_kill(s);
    callhome_release(runtime_callhome(s->c->rt), s->p);
    free(s->cur);
    free(s->owned);
    free(s);
}

uint64_t dyn_stream_instance(dyn_stream *s) { return s->instance; }
