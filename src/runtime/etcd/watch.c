/* Prefix watch: list, then a streaming POST /v3/watch from the next revision on a dedicated
 * thread; resume from the last seen revision after a broken stream; re-list after compaction.
 *
 * The thread drives its own curl multi handle so that stop() can wake it at once
 * (curl_multi_wakeup) instead of waiting for a timeout. */
#include "internal.h"
#include "dyn/log.h"

#include <stdlib.h>
#include <string.h>

struct dyn_etcd_watch {
    dyn_etcd *e;
    char *prefix;
    dyn_watch_fn fn;
    void *ud;
    pthread_t thread;
    CURLM *multi;
    pthread_mutex_t mu;
    int stop;
    int reconnects, relists;
    int64_t next_rev;          /* watch from here */
    int need_relist;
    /* Keys currently present (to emit deletes after a re-list). */
    char **keys;
    size_t nkeys, capkeys;
    /* Partial line of the streamed reply. */
    char *buf;
    size_t len, cap;
    int stream_failed;
};

static int stopping(dyn_etcd_watch *w)
{
    pthread_mutex_lock(&w->mu);
    int s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static ssize_t key_index(dyn_etcd_watch *w, const char *key)
{
    for (size_t i = 0; i < w->nkeys; i++)
        if (strcmp(w->keys[i], key) == 0)
            return (ssize_t)i;
    return -1;
}

static void key_add(dyn_etcd_watch *w, const char *key)
{
    if (key_index(w, key) >= 0)
        return;
    if (w->nkeys == w->capkeys) {
        size_t cap = w->capkeys ? w->capkeys * 2 : 16;
        char **k = realloc(w->keys, cap * sizeof *k);
        if (!k)
            return;
        w->keys = k;
        w->capkeys = cap;
    }
    char *d = strdup(key);
    if (d)
        w->keys[w->nkeys++] = d;
}

static void key_del(dyn_etcd_watch *w, const char *key)
{
    ssize_t i = key_index(w, key);
    if (i < 0)
        return;
    free(w->keys[i]);
    w->keys[i] = w->keys[--w->nkeys];
}

/* Lists the prefix: emits PUT for every key, DELETE for keys known before but now gone. */
static dyn_status relist(dyn_etcd_watch *w, dyn_error *err)
{
    dyn_etcd_kv *kvs = NULL;
    size_t n = 0;
    int64_t rev = 0;
    dyn_status st = dyn_etcd_range_prefix(w->e, w->prefix, &kvs, &n, &rev, err);
    if (st != DYN_OK)
        return st;
    for (size_t i = 0; i < w->nkeys;) {
        int present = 0;
        for (size_t j = 0; j < n && !present; j++)
            present = strcmp(kvs[j].key, w->keys[i]) == 0;
        if (!present) {
            char *k = w->keys[i];
            w->keys[i] = w->keys[--w->nkeys];
            w->fn(w->ud, DYN_WATCH_DELETE, k, "", 0);
            free(k);
        } else {
            i++;
        }
    }
    for (size_t j = 0; j < n; j++) {
        key_add(w, kvs[j].key);
        w->fn(w->ud, DYN_WATCH_PUT, kvs[j].key, kvs[j].value, kvs[j].value_len);
    }
    dyn_etcd_kvs_free(kvs, n);
    w->next_rev = rev + 1;
    w->need_relist = 0;
    return DYN_OK;
}

/* Handles one streamed JSON message. Malformed input is logged and skipped, never fatal. */
static void on_message(dyn_etcd_watch *w, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb(line, len, 0, &jerr);
    if (!j) {
        DYN_WARN("etcd", "watch %s: malformed message skipped: %s", w->prefix, jerr.text);
        return;
    }
    json_t *res = json_object_get(j, "result");
    if (!json_is_object(res)) {
        json_t *e = json_object_get(j, "error");
        DYN_WARN("etcd", "watch %s: stream error: %s", w->prefix,
                 json_is_object(e) && json_is_string(json_object_get(e, "message"))
                     ? json_string_value(json_object_get(e, "message")) : "(no result)");
        w->stream_failed = 1;
        json_decref(j);
        return;
    }
    if (etcd_json_i64(res, "compact_revision", 0) > 0) {
        DYN_INFO("etcd", "watch %s: revision %lld compacted; re-listing", w->prefix, (long long)w->next_rev);
        w->need_relist = 1;
        w->stream_failed = 1;
        json_decref(j);
        return;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        w->stream_failed = 1;
        json_decref(j);
        return;
    }
    json_t *events = json_object_get(res, "events");
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *kvj = json_object_get(ev, "kv");
        dyn_etcd_kv kv;
        if (!json_is_object(kvj) || etcd_kv_from_json(kvj, &kv) != 0) {
            DYN_WARN("etcd", "watch %s: malformed event skipped", w->prefix);
            continue;
        }
        json_t *type = json_object_get(ev, "type");
        int del = json_is_string(type) && strcmp(json_string_value(type), "DELETE") == 0;
        if (del) {
            key_del(w, kv.key);
            w->fn(w->ud, DYN_WATCH_DELETE, kv.key, "", 0);
        } else {
            key_add(w, kv.key);
            w->fn(w->ud, DYN_WATCH_PUT, kv.key, kv.value, kv.value_len);
        }
        if (kv.mod_revision >= w->next_rev)
            w->next_rev = kv.mod_revision + 1;
        dyn_etcd_kv_clear(&kv);
    }
    int64_t hrev = etcd_json_i64(json_object_get(res, "header"), "revision", 0);
    if (json_array_size(events) > 0 && hrev >= w->next_rev)
        w->next_rev = hrev + 1;
    json_decref(j);
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    dyn_etcd_watch *w = ud;
    size_t add = sz * n;
    if (w->len + add + 1 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8192;
        while (cap < w->len + add + 1)
            cap *= 2;
        if (cap > (64u << 20))
            return 0;              /* a runaway message: abort the stream */
        char *b = realloc(w->buf, cap);
        if (!b)
            return 0;
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, add);
    w->len += add;
    /* The gateway writes one JSON object per line. */
    size_t start = 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->buf[i] == '\n') {
            if (i > start)
                on_message(w, w->buf + start, i - start);
            start = i + 1;
        }
    }
    memmove(w->buf, w->buf + start, w->len - start);
    w->len -= start;
    return add;
}

/* One watch stream, until it breaks or we stop. */
static void stream_once(dyn_etcd_watch *w)
{
    CURL *h = curl_easy_init();
    if (!h)
        return;
    const char *base;
    struct curl_slist *hdrs = etcd_prepare(w->e, h, &base);
    char url[1024], rev[32];
    snprintf(url, sizeof url, "%s/v3/watch", base);
    snprintf(rev, sizeof rev, "%lld", (long long)w->next_rev);
    char *key = etcd_b64(w->prefix, strlen(w->prefix));
    char *end = etcd_prefix_end_b64(w->prefix);
    json_t *body = json_pack("{s:{s:s,s:s,s:s}}", "create_request", "key", key ? key : "", "range_end",
                             end ? end : "", "start_revision", rev);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    free(key);
    free(end);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
    w->len = 0;
    w->stream_failed = 0;
    curl_multi_add_handle(w->multi, h);
    int running = 1;
    while (running && !w->stream_failed && !stopping(w)) {
        curl_multi_perform(w->multi, &running);
        if (running && !w->stream_failed)
            curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
    }
    curl_multi_remove_handle(w->multi, h);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(s);
}

static void *watch_main(void *arg)
{
    dyn_etcd_watch *w = arg;
    pthread_setname_np(pthread_self(), "dyn-watch");
    int64_t backoff = 200;
    while (!stopping(w)) {
        if (w->need_relist) {
            dyn_error err = {0};
            if (relist(w, &err) != DYN_OK) {
                DYN_DEBUG("etcd", "watch %s: re-list failed (retrying): %s", w->prefix, err.message);
                goto pause;
            }
            __atomic_fetch_add(&w->relists, 1, __ATOMIC_RELAXED);
        }
        int64_t before = w->next_rev;
        stream_once(w);
        if (stopping(w))
            break;
        __atomic_fetch_add(&w->reconnects, 1, __ATOMIC_RELAXED);
        if (w->next_rev > before)
            backoff = 200;     /* it was working: reconnect quickly */
        if (w->need_relist)
            continue;
pause:
        pthread_mutex_lock(&w->mu);
        int stop = w->stop;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        curl_multi_poll(w->multi, NULL, 0, (int)backoff, NULL);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    return NULL;
}

dyn_status dyn_etcd_watch_prefix(dyn_etcd *e, const char *prefix, dyn_watch_fn fn, void *ud,
                                 dyn_etcd_watch **out, dyn_error *err)
{
    *out = NULL;
    dyn_etcd_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->prefix = strdup(prefix))) {
        free(w);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    w->e = e;
    w->fn = fn;
    w->ud = ud;
    pthread_mutex_init(&w->mu, NULL);
    w->multi = curl_multi_init();
    dyn_status st = relist(w, err);
    if (st == DYN_OK && pthread_create(&w->thread, NULL, watch_main, w) != 0)
        st = dyn_error_set(err, DYN_ERR_INTERNAL, "cannot start the watch thread");
    if (st != DYN_OK) {
        for (size_t i = 0; i < w->nkeys; i++)
            free(w->keys[i]);
        free(w->keys);
        curl_multi_cleanup(w->multi);
        pthread_mutex_destroy(&w->mu);
        free(w->prefix);
        free(w);
        return st;
    }
    *out = w;
    return DYN_OK;
}

void dyn_etcd_watch_stop(dyn_etcd_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_mutex_unlock(&w->mu);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);
    curl_multi_cleanup(w->multi);
    for (size_t i = 0; i < w->nkeys; i++)
        free(w->keys[i]);
    free(w->keys);
    free(w->buf);
    free(w->prefix);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int dyn_etcd_watch_reconnects(dyn_etcd_watch *w) { return __atomic_load_n(&w->reconnects, __ATOMIC_RELAXED); }
int dyn_etcd_watch_relists(dyn_etcd_watch *w) { return __atomic_load_n(&w->relists, __ATOMIC_RELAXED); }
