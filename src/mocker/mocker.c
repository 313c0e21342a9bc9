/* The mocker's request handler and life cycle: admission, time to first token, tokens at the
 * configured pace (stopping as soon as the caller stops or goes away), embeddings, and its
 * gauges in the libdyn metrics registry. */
#include "mocker/internal.h"
#include "http/buf.h"
#include "dyn/log.h"
#include "dyn/metrics.h"
#include "dyn/nats.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dyn_mocker {
    dyn_runtime *rt;
    dyn_mocker_config cfg;
    char model[256], component[128], endpoint[128];
    char model_json[600];         /* the model name as a JSON string */
    char labels[600];             /* model="..." */
    mk_admission adm;
    mk_card card;
    dyn_endpoint *ep;
    int card_ok;
    int stopping;                 /* atomic: running requests end at once */
};

typedef enum { K_CHAT, K_COMPLETION, K_EMBEDDING } kind;

void dyn_mocker_config_default(dyn_mocker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->component = "backend";
    cfg->endpoint = "generate";
    cfg->ttft_ms = 50;
    cfg->itl_ms = 10;
    cfg->speedup = 1;
    cfg->max_concurrency = 256;
    cfg->max_queue = 512;
    cfg->max_tokens_default = 32;
    cfg->embedding_dim_default = 1536;
    cfg->context_length = 8192;
    cfg->max_response = (size_t)30 << 20;
}

/* ---- metrics ---- */

static void gauges(dyn_mocker *m)
{
    pthread_mutex_lock(&m->adm.mu);
    double active = m->adm.active, queued = m->adm.queued;
    pthread_mutex_unlock(&m->adm.mu);
    dyn_metrics *r = dyn_metrics_default();
    dyn_metrics_gauge_set(r, "dynamo_mocker_active_requests", "Requests generating now", m->labels, active);
    dyn_metrics_gauge_set(r, "dynamo_mocker_queued_requests", "Requests waiting for a slot", m->labels, queued);
}

static void count(dyn_mocker *m, const char *name, const char *help, double v)
{
    dyn_metrics_counter_add(dyn_metrics_default(), name, help, m->labels, v);
}

/* ---- timing ---- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Sleeps until the monotonic time `at` (ms), waking every 10 ms to see whether the caller
 * stopped. Returns 1 if it did. */
static int wait_until(dyn_mocker *m, dyn_request *req, double at)
{
    for (;;) {
        if (dyn_request_stopped(req) || __atomic_load_n(&m->stopping, __ATOMIC_RELAXED))
            return 1;
        double left = at - now_ms();
        if (left <= 0)
            return 0;
        if (left > 10)
            left = 10;
        struct timespec t = {0, (long)(left * 1e6)};
        while (nanosleep(&t, &t) != 0 && errno == EINTR)
            ;
    }
}

/* ---- requests ---- */

static long get_count(json_t *j, const char *key, long dflt)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : dflt;
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == '\n' || *s == '\t';
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

/* The prompt's hash and an estimate of its tokens (words). */
static unsigned long long prompt_seed(kind k, json_t *j, size_t *prompt_tokens)
{
    json_t *p = json_object_get(j, k == K_CHAT ? "messages" : "prompt");
    char *s = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    unsigned long long h = dyn_mocker_hash(s ? s : "", s ? strlen(s) : 0, 0);
    *prompt_tokens = s ? count_words(s) : 0;
    free(s);
    return h;
}

static void chunk(dyn_buf *b, dyn_mocker *m, kind k, const char *id, long long created, const char *text, int first,
                  const char *finish, size_t prompt_tokens, long completion_tokens)
{
    b->len = 0;
    int chat = k == K_CHAT;
    dyn_buf_printf(b, "{\"id\":\"%s-%s\",\"object\":\"%s\",\"created\":%lld,\"model\":%s,\"choices\":[{\"index\":0,",
                   chat ? "chatcmpl" : "cmpl", id, chat ? "chat.completion.chunk" : "text_completion", created,
                   m->model_json);
    if (chat)
        dyn_buf_printf(b, "\"delta\":{%s\"content\":\"%s\"},", first ? "\"role\":\"assistant\"," : "", text);
    else
        dyn_buf_printf(b, "\"text\":\"%s\",", text);
    dyn_buf_printf(b, "\"logprobs\":null,\"finish_reason\":%s%s%s}]", finish ? "\"" : "", finish ? finish : "null",
                   finish ? "\"" : "");
    if (finish)
        dyn_buf_printf(b, ",\"usage\":{\"prompt_tokens\":%zu,\"completion_tokens\":%ld,\"total_tokens\":%zu}",
                       prompt_tokens, completion_tokens, prompt_tokens + (size_t)completion_tokens);
    dyn_buf_puts(b, "}");
}

static dyn_status generate_text(dyn_mocker *m, dyn_request *req, kind k, json_t *j, double t0)
{
    long maxt = get_count(j, "max_completion_tokens", get_count(j, "max_tokens", -1));
    const char *finish = maxt >= 0 ? "length" : "stop";
    long n = maxt >= 0 ? maxt : m->cfg.max_tokens_default;
    size_t ptoks = 0;
    unsigned long long seed = prompt_seed(k, j, &ptoks);
    double ttft = m->cfg.ttft_ms / m->cfg.speedup, itl = m->cfg.itl_ms / m->cfg.speedup;
    char id[24];
    snprintf(id, sizeof id, "%016llx", dyn_mocker_hash(dyn_request_id(req), strlen(dyn_request_id(req)), seed));
    long long created = (long long)time(NULL);
    dyn_buf b = {0};
    dyn_status st = DYN_OK;
    long i = 0;
    if (wait_until(m, req, t0 + ttft))
        st = DYN_ERR_CANCELLED;
    for (; st == DYN_OK && (i < n || (n == 0 && i == 0)); i++) {
        if (i > 0 && wait_until(m, req, t0 + ttft + itl * (double)i)) {
            st = DYN_ERR_CANCELLED;
            break;
        }
        char text[64] = "";
        if (n > 0) {
            int sp;
            const char *w = dyn_mocker_token(seed, (int)i, &sp);
            snprintf(text, sizeof text, "%s%s", sp ? " " : "", w);
        }
        int last = i + 1 >= n;
        chunk(&b, m, k, id, created, text, i == 0, last ? finish : NULL, ptoks, n);
        if (!dyn_buf_ok(&b) || dyn_request_send(req, b.data, b.len) != DYN_OK) {
            st = DYN_ERR_CANCELLED;
            break;
        }
    }
    dyn_buf_free(&b);
    count(m, "dynamo_mocker_output_tokens_total", "Tokens generated", (double)(n == 0 ? 0 : i));
    return st;
}

/* The inputs of an embeddings request: each string or token list is one input. */
static size_t embed_inputs(json_t *input, json_t **items, size_t cap)
{
    if (json_is_string(input) || (json_is_array(input) && json_array_size(input) && json_is_integer(json_array_get(input, 0)))) {
        items[0] = input;
        return 1;
    }
    size_t n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(input, i, v) if (n < cap) items[n++] = v;
    return n;
}

static dyn_status generate_embedding(dyn_mocker *m, dyn_request *req, json_t *j, double t0)
{
    long dims = get_count(j, "dimensions", m->cfg.embedding_dim_default);
    const char *fmt = json_string_value(json_object_get(j, "encoding_format"));
    int b64 = fmt && strcmp(fmt, "base64") == 0;
    json_t *items[2048];
    size_t n = embed_inputs(json_object_get(j, "input"), items, 2048);
    if (n == 0 || dims <= 0) {
        dyn_request_set_error(req, "invalid: 'input' must be a string or a non-empty array and 'dimensions' positive");
        return DYN_ERR_INVALID;
    }
    /* Base64 is 16/3 bytes per float; text is at most ~14. */
    double est = (double)n * (double)dims * (b64 ? 16.0 / 3 : 14.0);
    if (est > (double)m->cfg.max_response) {
        char msg[200];
        snprintf(msg, sizeof msg, "invalid: %zu embeddings of %ld dimensions would exceed the %zu-byte response limit",
                 n, dims, m->cfg.max_response);
        dyn_request_set_error(req, msg);
        return DYN_ERR_INVALID;
    }
    if (wait_until(m, req, t0 + m->cfg.ttft_ms / m->cfg.speedup))
        return DYN_ERR_CANCELLED;
    float *v = malloc((size_t)dims * sizeof *v);
    if (!v)
        return DYN_ERR_NOMEM;
    dyn_buf b = {0};
    size_t ptoks = 0;
    dyn_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n && dyn_buf_ok(&b); i++) {
        char *s = json_dumps(items[i], JSON_COMPACT | JSON_ENCODE_ANY);
        ptoks += json_is_string(items[i]) ? count_words(json_string_value(items[i])) : json_array_size(items[i]);
        dyn_mocker_embedding(dyn_mocker_hash(s ? s : "", s ? strlen(s) : 0, 0), v, (size_t)dims);
        free(s);
        dyn_buf_printf(&b, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i ? "," : "", i);
        if (b64) {
            dyn_buf_puts(&b, "\"");
            dyn_mocker_base64_floats(&b, v, (size_t)dims);
            dyn_buf_puts(&b, "\"}");
        } else {
            dyn_buf_puts(&b, "[");
            for (long d = 0; d < dims; d++) {
                char num[24];
                int l = snprintf(num, sizeof num, d ? ",%.7g" : "%.7g", (double)v[d]);
                dyn_buf_append(&b, num, (size_t)l);
            }
            dyn_buf_puts(&b, "]}");
        }
    }
    free(v);
    dyn_buf_printf(&b, "],\"model\":%s,\"usage\":{\"prompt_tokens\":%zu,\"total_tokens\":%zu}}", m->model_json, ptoks, ptoks);
    dyn_status st = !dyn_buf_ok(&b) ? DYN_ERR_NOMEM : dyn_request_send(req, b.data, b.len);
    dyn_buf_free(&b);
    return st;
}

/* Nesting depth outside strings: handlers run on small pool-thread stacks, and jansson's
 * parser recurses once per level. */
static int too_deep(const char *s, size_t n, int limit)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

static dyn_status handle(dyn_request *req, const char *body, size_t len, void *ud)
{
    dyn_mocker *m = ud;
    double t0 = now_ms();
    if (too_deep(body, len, 64)) {
        dyn_request_set_error(req, "invalid: the request nests deeper than 64 levels");
        return DYN_ERR_INVALID;
    }
    json_error_t jerr;
    json_t *j = json_loadb(body, len, 0, &jerr);
    kind k = K_CHAT;
    if (!json_is_object(j)) {
        json_decref(j);
        dyn_request_set_error(req, "invalid: the request is not a JSON object");
        return DYN_ERR_INVALID;
    }
    if (json_object_get(j, "messages"))
        k = K_CHAT;
    else if (json_object_get(j, "input"))
        k = K_EMBEDDING;
    else if (json_object_get(j, "prompt"))
        k = K_COMPLETION;
    else {
        json_decref(j);
        dyn_request_set_error(req, "invalid: the request has none of \"messages\", \"prompt\" or \"input\"");
        return DYN_ERR_INVALID;
    }
    mk_admit_result a = mk_admit(&m->adm, req);
    if (a != MK_ADMITTED) {
        json_decref(j);
        if (a == MK_CANCELLED) {
            count(m, "dynamo_mocker_cancelled_requests_total", "Requests stopped by their caller", 1);
            gauges(m);
            return DYN_ERR_CANCELLED;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "overloaded: %d requests running and %d queued (--max-concurrency %d, --max-queue %d)",
                 m->cfg.max_concurrency, m->cfg.max_queue, m->cfg.max_concurrency, m->cfg.max_queue);
        dyn_request_set_error(req, msg);
        count(m, "dynamo_mocker_rejected_requests_total", "Requests refused because the queue was full", 1);
        return DYN_ERR_UNAVAILABLE;
    }
    gauges(m);
    dyn_status st = k == K_EMBEDDING ? generate_embedding(m, req, j, t0) : generate_text(m, req, k, j, t0);
    json_decref(j);
    mk_release(&m->adm);
    if (st == DYN_ERR_CANCELLED)
        count(m, "dynamo_mocker_cancelled_requests_total", "Requests stopped by their caller", 1);
    gauges(m);
    return st;
}

/* ---- life cycle ---- */

dyn_status dyn_mocker_start(dyn_runtime *rt, const dyn_mocker_config *cfg, dyn_mocker **out, dyn_error *err)
{
    *out = NULL;
    if (!cfg->model_name || !*cfg->model_name)
        return dyn_error_set(err, DYN_ERR_INVALID, "a model name is required (--model-name or --model-path)");
    if (strlen(cfg->model_name) >= 256)
        return dyn_error_set(err, DYN_ERR_INVALID, "model name longer than 255 bytes");
    dyn_mocker *m = calloc(1, sizeof *m);
    if (!m)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    m->rt = rt;
    m->cfg = *cfg;
    snprintf(m->model, sizeof m->model, "%s", cfg->model_name);
    snprintf(m->component, sizeof m->component, "%s", cfg->component ? cfg->component : "backend");
    snprintf(m->endpoint, sizeof m->endpoint, "%s", cfg->endpoint ? cfg->endpoint : "generate");
    m->cfg.model_name = m->model;
    m->cfg.component = m->component;
    m->cfg.endpoint = m->endpoint;
    if (m->cfg.speedup <= 0)
        m->cfg.speedup = 1;
    if (m->cfg.max_concurrency <= 0)
        m->cfg.max_concurrency = 1;
    if (m->cfg.max_queue < 0)
        m->cfg.max_queue = 0;
    if (!m->cfg.max_response)
        m->cfg.max_response = (size_t)30 << 20;
    dyn_buf b = {0};
    dyn_buf_json_str(&b, m->model);
    snprintf(m->model_json, sizeof m->model_json, "%s", b.data ? b.data : "\"\"");
    b.len = 0;
    dyn_buf_puts(&b, "model=");
    dyn_buf_json_str(&b, m->model);          /* JSON escaping is a superset of what labels need */
    snprintf(m->labels, sizeof m->labels, "%s", b.data ? b.data : "");
    dyn_buf_free(&b);
    mk_admission_init(&m->adm, m->cfg.max_concurrency, m->cfg.max_queue);
    gauges(m);
    count(m, "dynamo_mocker_rejected_requests_total", "Requests refused because the queue was full", 0);
    count(m, "dynamo_mocker_cancelled_requests_total", "Requests stopped by their caller", 0);
    count(m, "dynamo_mocker_output_tokens_total", "Tokens generated", 0);

    dyn_status st = dyn_endpoint_serve(rt, m->component, m->endpoint, handle, m, &m->ep, err);
    if (st == DYN_OK) {
        m->card.rt = rt;
        snprintf(m->card.model, sizeof m->card.model, "%s", m->model);
        snprintf(m->card.component, sizeof m->card.component, "%s", m->component);
        snprintf(m->card.endpoint, sizeof m->card.endpoint, "%s", m->endpoint);
        m->card.context_length = m->cfg.context_length;
        st = mk_card_register(&m->card, err);
        m->card_ok = st == DYN_OK;
    }
    if (st != DYN_OK) {
        dyn_mocker_stop(m);
        return st;
    }
    DYN_INFO("mocker", "model %s served at %s/%s/%s (ttft %.0f ms, itl %.1f ms, speedup %g, concurrency %d, queue %d)",
             m->model, dyn_runtime_namespace(rt), m->component, m->endpoint, m->cfg.ttft_ms, m->cfg.itl_ms,
             m->cfg.speedup, m->cfg.max_concurrency, m->cfg.max_queue);
    *out = m;
    return DYN_OK;
}

void dyn_mocker_stop(dyn_mocker *m)
{
    if (!m)
        return;
    if (m->card_ok)
        mk_card_deregister(&m->card);
    __atomic_store_n(&m->stopping, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&m->adm.mu);
    m->adm.closing = 1;             /* queued requests give up */
    pthread_cond_broadcast(&m->adm.cv);
    pthread_mutex_unlock(&m->adm.mu);
    dyn_endpoint_stop(m->ep);
    mk_admission_destroy(&m->adm);
    free(m);
}

int dyn_mocker_healthy(dyn_mocker *m)
{
    return m && m->card_ok && mk_card_registered(&m->card) && dyn_nats_connected(dyn_runtime_nats(m->rt));
}

int dyn_mocker_active(dyn_mocker *m)
{
    pthread_mutex_lock(&m->adm.mu);
    int n = m->adm.active;
    pthread_mutex_unlock(&m->adm.mu);
    return n;
}

int dyn_mocker_queued(dyn_mocker *m)
{
    pthread_mutex_lock(&m->adm.mu);
    int n = m->adm.queued;
    pthread_mutex_unlock(&m->adm.mu);
    return n;
}
