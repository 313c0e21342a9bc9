/* dynamo_frontend_* metrics (spec faults.md §4b), rendered as Prometheus text.
 *
 * Per model: inflight_requests and queued_requests (start -> end, start -> first token),
 * time_to_first_token_seconds, inter_token_latency_seconds, request_duration_seconds and
 * output_sequence_tokens histograms, output_tokens_total. requests_total carries model,
 * endpoint, request_type (stream/unary), status (success/error) and error_type. Requests for
 * models that do not exist are counted with model="" so clients cannot grow the label set. */
#include "frontend/internal.h"
#include "dyn/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double TIME_BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
static const double TOKEN_BUCKETS[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
#define NTB (sizeof TIME_BUCKETS / sizeof TIME_BUCKETS[0])
#define NKB (sizeof TOKEN_BUCKETS / sizeof TOKEN_BUCKETS[0])
#define MAXB NTB

static const struct {
    const char *name, *help;
    const double *bounds;
    size_t n;
} HIST[FE_H_COUNT] = {
    {"time_to_first_token_seconds", "Time from request arrival to the first streamed item", TIME_BUCKETS, NTB},
    {"inter_token_latency_seconds", "Time between consecutive streamed items", TIME_BUCKETS, NTB},
    {"request_duration_seconds", "Time from request arrival to the end of the response", TIME_BUCKETS, NTB},
    {"output_sequence_tokens", "Streamed items (tokens) per response", TOKEN_BUCKETS, NKB},
};

typedef struct hist {
    uint64_t b[MAXB], count;
    double sum;
} hist;

typedef struct model_m {
    char label[600];             /* escaped model name */
    int64_t inflight, queued;
    double tokens;
    hist h[FE_H_COUNT];
    struct model_m *next;
} model_m;

typedef struct counter {
    char labels[900];
    uint64_t n;
    struct counter *next;
} counter;

struct fe_metrics {
    pthread_mutex_t mu;
    model_m *models;
    counter *requests;
    uint64_t disconnected;
};

fe_metrics *fe_metrics_new(void)
{
    fe_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void fe_metrics_free(fe_metrics *m)
{
    if (!m)
        return;
    for (model_m *x = m->models, *n; x; x = n) {
        n = x->next;
        free(x);
    }
    for (counter *c = m->requests, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static void escape(char *out, size_t cap, const char *v)
{
    size_t n = 0;
    for (; v && *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"')
            out[n++] = '\\', out[n++] = *v;
        else if (*v == '\n')
            out[n++] = '\\', out[n++] = 'n';
        else
            out[n++] = *v;
    }
    out[n] = '\0';
}

static model_m *model_locked(fe_metrics *m, const char *model)
{
    char label[600];
    escape(label, sizeof label, model);
    for (model_m *x = m->models; x; x = x->next)
        if (strcmp(x->label, label) == 0)
            return x;
    model_m *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    memcpy(x->label, label, sizeof label);
    x->next = m->models;
    m->models = x;
    return x;
}

void fe_metrics_request(fe_metrics *m, const char *model, dyn_oai_kind kind, int stream, const char *error_type)
{
    char label[600], labels[900];
    escape(label, sizeof label, model);
    snprintf(labels, sizeof labels, "model=\"%s\",endpoint=\"%s\",request_type=\"%s\",status=\"%s\",error_type=\"%s\"",
             label, dyn_oai_kind_name(kind), stream ? "stream" : "unary", error_type ? "error" : "success",
             error_type ? error_type : "");
    pthread_mutex_lock(&m->mu);
    counter *c = m->requests;
    while (c && strcmp(c->labels, labels) != 0)
        c = c->next;
    if (!c && (c = calloc(1, sizeof *c)) != NULL) {
        memcpy(c->labels, labels, sizeof labels);
        c->next = m->requests;
        m->requests = c;
    }
    if (c)
        c->n++;
    pthread_mutex_unlock(&m->mu);
}

void fe_metrics_gauges(fe_metrics *m, const char *model, int inflight_delta, int queued_delta)
{
    pthread_mutex_lock(&m->mu);
    model_m *x = model_locked(m, model);
    if (x) {
        x->inflight += inflight_delta;
        x->queued += queued_delta;
    }
    pthread_mutex_unlock(&m->mu);
}

void fe_metrics_observe(fe_metrics *m, fe_hist h, const char *model, double v)
{
    pthread_mutex_lock(&m->mu);
    model_m *x = model_locked(m, model);
    if (x) {
        hist *s = &x->h[h];
        for (size_t i = 0; i < HIST[h].n; i++)
            if (v <= HIST[h].bounds[i])
                s->b[i]++;
        s->count++;
        s->sum += v;
    }
    pthread_mutex_unlock(&m->mu);
}

void fe_metrics_tokens(fe_metrics *m, const char *model, double n)
{
    pthread_mutex_lock(&m->mu);
    model_m *x = model_locked(m, model);
    if (x)
        x->tokens += n;
    pthread_mutex_unlock(&m->mu);
}

void fe_metrics_disconnect(fe_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->disconnected++;
    pthread_mutex_unlock(&m->mu);
}

#define P "dynamo_frontend_"

static void family(dyn_buf *b, const char *name, const char *type, const char *help)
{
    dyn_buf_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

char *fe_metrics_render(fe_metrics *m, size_t *len)
{
    dyn_buf b = {0};
    pthread_mutex_lock(&m->mu);
    family(&b, "requests_total", "counter", "HTTP requests by model, endpoint, type, status and error type");
    for (counter *c = m->requests; c; c = c->next)
        dyn_buf_printf(&b, P "requests_total{%s} %llu\n", c->labels, (unsigned long long)c->n);
    family(&b, "inflight_requests", "gauge", "Requests between arrival and the end of their response");
    for (model_m *x = m->models; x; x = x->next)
        dyn_buf_printf(&b, P "inflight_requests{model=\"%s\"} %lld\n", x->label, (long long)x->inflight);
    family(&b, "queued_requests", "gauge", "Requests waiting for their first token");
    for (model_m *x = m->models; x; x = x->next)
        dyn_buf_printf(&b, P "queued_requests{model=\"%s\"} %lld\n", x->label, (long long)x->queued);
    family(&b, "disconnected_clients", "gauge", "Clients that went away before their response ended");
    dyn_buf_printf(&b, P "disconnected_clients %llu\n", (unsigned long long)m->disconnected);
    family(&b, "output_tokens_total", "counter", "Streamed items (tokens) sent to clients");
    for (model_m *x = m->models; x; x = x->next)
        dyn_buf_printf(&b, P "output_tokens_total{model=\"%s\"} %.17g\n", x->label, x->tokens);
    for (int h = 0; h < FE_H_COUNT; h++) {
        family(&b, HIST[h].name, "histogram", HIST[h].help);
        for (model_m *x = m->models; x; x = x->next) {
            const hist *s = &x->h[h];
            for (size_t i = 0; i < HIST[h].n; i++)
                dyn_buf_printf(&b, P "%s_bucket{model=\"%s\",le=\"%g\"} %llu\n", HIST[h].name, x->label,
                               HIST[h].bounds[i], (unsigned long long)s->b[i]);
            dyn_buf_printf(&b, P "%s_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", HIST[h].name, x->label,
                           (unsigned long long)s->count);
            dyn_buf_printf(&b, P "%s_sum{model=\"%s\"} %.17g\n", HIST[h].name, x->label, s->sum);
            dyn_buf_printf(&b, P "%s_count{model=\"%s\"} %llu\n", HIST[h].name, x->label, (unsigned long long)s->count);
        }
    }
    pthread_mutex_unlock(&m->mu);
    size_t rl = 0;
    char *rest = dyn_metrics_render(dyn_metrics_default(), &rl);
    if (rest)
        dyn_buf_append(&b, rest, rl);
    free(rest);
    return dyn_buf_take(&b, len);
}
