/* Metrics registry and Prometheus text rendering: see include/dyn/metrics.h. */
#include "dyn/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])
static const char *const ERROR_TYPES[] = {"deserialization", "invalid_message", "response_stream",
                                          "generate", "publish_response", "publish_final"};
#define NERR (sizeof ERROR_TYPES / sizeof ERROR_TYPES[0])

struct dyn_endpoint_metrics {
    char labels[512];
    pthread_mutex_t mu;
    uint64_t requests, req_bytes, resp_bytes, errors[NERR];
    int64_t inflight;
    uint64_t buckets[NBUCKETS];
    uint64_t count;
    double sum;
    dyn_endpoint_metrics *next;
};

typedef struct series {
    char name[128], help[256], labels[512];
    int gauge;
    double value;
    struct series *next;
} series;

struct dyn_metrics {
    pthread_mutex_t mu;
    dyn_endpoint_metrics *eps;
    series *series;
};

static dyn_metrics g_default = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL};

dyn_metrics *dyn_metrics_default(void) { return &g_default; }

dyn_metrics *dyn_metrics_new(void)
{
    dyn_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void dyn_metrics_free(dyn_metrics *m)
{
    if (!m || m == &g_default)
        return;
    for (dyn_endpoint_metrics *e = m->eps, *n; e; e = n) {
        n = e->next;
        pthread_mutex_destroy(&e->mu);
        free(e);
    }
    for (series *s = m->series, *n; s; s = n) {
        n = s->next;
        free(s);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Label values: escape backslash, quote and newline. */
static void label_value(char *out, size_t cap, const char *v)
{
    size_t n = 0;
    for (; *v && n + 2 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[n++] = '\\';
            out[n++] = *v;
        } else if (*v == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *v;
        }
    }
    out[n] = '\0';
}

dyn_endpoint_metrics *dyn_metrics_endpoint(dyn_metrics *m, const char *ns, const char *component, const char *endpoint)
{
    char a[160], b[160], c[160], labels[512];
    label_value(a, sizeof a, ns);
    label_value(b, sizeof b, component);
    label_value(c, sizeof c, endpoint);
    snprintf(labels, sizeof labels, "dynamo_namespace=\"%s\",dynamo_component=\"%s\",dynamo_endpoint=\"%s\"", a, b, c);
    pthread_mutex_lock(&m->mu);
    dyn_endpoint_metrics *e;
    for (e = m->eps; e; e = e->next)
        if (strcmp(e->labels, labels) == 0)
            break;
    if (!e && (e = calloc(1, sizeof *e)) != NULL) {
        snprintf(e->labels, sizeof e->labels, "%s", labels);
        pthread_mutex_init(&e->mu, NULL);
        dyn_endpoint_metrics **tail = &m->eps;
        while (*tail)
            tail = &(*tail)->next;
        *tail = e;
    }
    pthread_mutex_unlock(&m->mu);
    return e;
}

void dyn_endpoint_metrics_begin(dyn_endpoint_metrics *em, size_t request_bytes)
{
    if (!em)
        return;
    pthread_mutex_lock(&em->mu);
    em->requests++;
    em->inflight++;
    em->req_bytes += request_bytes;
    pthread_mutex_unlock(&em->mu);
}

void dyn_endpoint_metrics_end(dyn_endpoint_metrics *em, double seconds, size_t response_bytes, const char *error_type)
{
    if (!em)
        return;
    pthread_mutex_lock(&em->mu);
    em->inflight--;
    em->resp_bytes += response_bytes;
    for (size_t i = 0; i < NBUCKETS; i++)
        if (seconds <= BUCKETS[i])
            em->buckets[i]++;
    em->count++;
    em->sum += seconds;
    if (error_type) {
        size_t i;
        for (i = 0; i < NERR && strcmp(ERROR_TYPES[i], error_type) != 0; i++)
            ;
        em->errors[i < NERR ? i : 3]++;    /* unknown kinds count as generate errors */
    }
    pthread_mutex_unlock(&em->mu);
}

#define READ_FIELD(em, expr, type) \
    type v; pthread_mutex_lock(&(em)->mu); v = (expr); pthread_mutex_unlock(&(em)->mu); return v

uint64_t dyn_endpoint_metrics_requests(dyn_endpoint_metrics *em) { READ_FIELD(em, em->requests, uint64_t); }
int64_t dyn_endpoint_metrics_inflight(dyn_endpoint_metrics *em) { READ_FIELD(em, em->inflight, int64_t); }
double dyn_endpoint_metrics_seconds(dyn_endpoint_metrics *em) { READ_FIELD(em, em->sum, double); }
uint64_t dyn_endpoint_metrics_errors(dyn_endpoint_metrics *em)
{
    uint64_t t = 0;
    pthread_mutex_lock(&em->mu);
    for (size_t i = 0; i < NERR; i++)
        t += em->errors[i];
    pthread_mutex_unlock(&em->mu);
    return t;
}

static void sanitize(char *out, size_t cap, const char *name)
{
    size_t n = 0;
    if ((name[0] >= '0' && name[0] <= '9') && n + 1 < cap)
        out[n++] = '_';
    for (; *name && n + 1 < cap; name++) {
        char c = *name;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
}

static void set_series(dyn_metrics *m, const char *name, const char *help, const char *labels, double v, int gauge)
{
    char sname[128];
    sanitize(sname, sizeof sname, name);
    pthread_mutex_lock(&m->mu);
    series *s;
    for (s = m->series; s; s = s->next)
        if (strcmp(s->name, sname) == 0 && strcmp(s->labels, labels ? labels : "") == 0)
            break;
    if (!s && (s = calloc(1, sizeof *s)) != NULL) {
        snprintf(s->name, sizeof s->name, "%s", sname);
        snprintf(s->help, sizeof s->help, "%s", help ? help : sname);
        snprintf(s->labels, sizeof s->labels, "%s", labels ? labels : "");
        s->gauge = gauge;
        series **tail = &m->series;
        while (*tail)
            tail = &(*tail)->next;
        *tail = s;
    }
    if (s)
        s->value = gauge ? v : s->value + v;
    pthread_mutex_unlock(&m->mu);
}

void dyn_metrics_counter_add(dyn_metrics *m, const char *name, const char *help, const char *labels, double v)
{
    set_series(m, name, help, labels, v, 0);
}

void dyn_metrics_gauge_set(dyn_metrics *m, const char *name, const char *help, const char *labels, double v)
{
    set_series(m, name, help, labels, v, 1);
}

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sb;

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void family(sb *b, const char *name, const char *type, const char *help)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *dyn_metrics_render(dyn_metrics *m, size_t *len)
{
    sb b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    pthread_mutex_lock(&m->mu);
    if (m->eps) {
        static const struct { const char *name, *type, *help; int which; } F[] = {
            {"dynamo_component_requests_total", "counter", "Requests received by the endpoint", 0},
            {"dynamo_component_request_bytes_total", "counter", "Request payload bytes received", 1},
            {"dynamo_component_response_bytes_total", "counter", "Response payload bytes sent", 2},
            {"dynamo_component_inflight_requests", "gauge", "Requests being processed", 3},
        };
        for (size_t f = 0; f < sizeof F / sizeof F[0]; f++) {
            family(&b, F[f].name, F[f].type, F[f].help);
            for (dyn_endpoint_metrics *e = m->eps; e; e = e->next) {
                pthread_mutex_lock(&e->mu);
                long long v = F[f].which == 0 ? (long long)e->requests : F[f].which == 1 ? (long long)e->req_bytes
                            : F[f].which == 2 ? (long long)e->resp_bytes : (long long)e->inflight;
                pthread_mutex_unlock(&e->mu);
                sb_printf(&b, "%s{%s} %lld\n", F[f].name, e->labels, v);
            }
        }
        family(&b, "dynamo_component_errors_total", "counter", "Requests that failed, by error type");
        for (dyn_endpoint_metrics *e = m->eps; e; e = e->next) {
            pthread_mutex_lock(&e->mu);
            for (size_t i = 0; i < NERR; i++)
                sb_printf(&b, "dynamo_component_errors_total{%s,error_type=\"%s\"} %llu\n", e->labels, ERROR_TYPES[i],
                          (unsigned long long)e->errors[i]);
            pthread_mutex_unlock(&e->mu);
        }
        family(&b, "dynamo_component_request_duration_seconds", "histogram", "Time from request to end of response stream");
        for (dyn_endpoint_metrics *e = m->eps; e; e = e->next) {
            pthread_mutex_lock(&e->mu);
            for (size_t i = 0; i < NBUCKETS; i++)
                sb_printf(&b, "dynamo_component_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", e->labels, BUCKETS[i],
                          (unsigned long long)e->buckets[i]);
            sb_printf(&b, "dynamo_component_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", e->labels,
                      (unsigned long long)e->count);
            sb_printf(&b, "dynamo_component_request_duration_seconds_sum{%s} %.9g\n", e->labels, e->sum);
            sb_printf(&b, "dynamo_component_request_duration_seconds_count{%s} %llu\n", e->labels, (unsigned long long)e->count);
            pthread_mutex_unlock(&e->mu);
        }
    }
    for (series *s = m->series; s; s = s->next) {
        int first = 1;
        for (series *q = m->series; q != s; q = q->next)
            first &= strcmp(q->name, s->name) != 0;
        if (first)
            family(&b, s->name, s->gauge ? "gauge" : "counter", s->help);
        if (s->labels[0])
            sb_printf(&b, "%s{%s} %.17g\n", s->name, s->labels, s->value);
        else
            sb_printf(&b, "%s %.17g\n", s->name, s->value);
    }
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
