/* The models the frontend serves: a prefix watch on v1/mdc/{ns}/ keeps the workers' model
 * records (spec §3.3); a request for a model goes to one of the instances that registered it,
 * round robin, through a libdyn client per component/endpoint (created on first use). */
#include "frontend/internal.h"
#include "dyn/discovery.h"
#include "dyn/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KIND_BIT(k) (1u << (k))

typedef struct record {
    char *key;
    char name[256];
    char ns[DYN_NAME_MAX], component[DYN_NAME_MAX], endpoint[DYN_NAME_MAX];
    uint64_t instance;
    unsigned kinds;
    long long created;
} record;

typedef struct client_entry {
    char ns[DYN_NAME_MAX], component[DYN_NAME_MAX], endpoint[DYN_NAME_MAX];
    dyn_client *client;
} client_entry;

struct fe_models {
    dyn_runtime *rt;
    char prefix[DYN_NAME_MAX + 16];
    dyn_etcd_watch *watch;
    pthread_mutex_t mu;          /* records */
    record *recs;
    size_t n, cap;
    pthread_mutex_t cmu;         /* clients */
    client_entry *clients;
    size_t nclients;
    uint64_t rr;
};

/* v1/mdc/{ns}/{component}/{endpoint}/{hex}[/{suffix}] */
static int parse_key(const char *key, record *r)
{
    if (strncmp(key, "v1/mdc/", 7) != 0)
        return -1;
    char parts[4][DYN_NAME_MAX];
    const char *p = key + 7;
    for (int i = 0; i < 4; i++) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= DYN_NAME_MAX || (i < 3 && !slash))
            return -1;
        memcpy(parts[i], p, n);
        parts[i][n] = '\0';
        p = slash ? slash + 1 : p + n;
    }
    char *end;
    unsigned long long id = strtoull(parts[3], &end, 16);
    if (*end || id == 0)
        return -1;
    snprintf(r->ns, sizeof r->ns, "%s", parts[0]);
    snprintf(r->component, sizeof r->component, "%s", parts[1]);
    snprintf(r->endpoint, sizeof r->endpoint, "%s", parts[2]);
    r->instance = id;
    return 0;
}

static unsigned kind_from_word(const char *w, size_t n)
{
    if ((n == 4 && strncasecmp(w, "chat", 4) == 0))
        return KIND_BIT(DYN_OAI_CHAT);
    if ((n == 11 && strncasecmp(w, "completions", 11) == 0) || (n == 10 && strncasecmp(w, "completion", 10) == 0))
        return KIND_BIT(DYN_OAI_COMPLETION);
    if ((n == 10 && strncasecmp(w, "embeddings", 10) == 0) || (n == 9 && strncasecmp(w, "embedding", 9) == 0))
        return KIND_BIT(DYN_OAI_EMBEDDING);
    return 0;
}

/* model_type: ["chat","completions"] or "Chat|Completions"; absent = chat and completions. */
static unsigned parse_kinds(json_t *t)
{
    unsigned k = 0;
    if (json_is_array(t)) {
        size_t i;
        json_t *v;
        json_array_foreach(t, i, v) if (json_is_string(v)) k |= kind_from_word(json_string_value(v), json_string_length(v));
        return k;
    }
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        while (*s) {
            size_t n = strcspn(s, "|, ");
            k |= kind_from_word(s, n);
            s += n;
            s += *s ? 1 : 0;
        }
        return k;
    }
    return KIND_BIT(DYN_OAI_CHAT) | KIND_BIT(DYN_OAI_COMPLETION);
}

static int parse_record(const char *key, const char *value, size_t len, record *r)
{
    memset(r, 0, sizeof *r);
    if (parse_key(key, r) != 0) {
        DYN_WARN("frontend", "ignoring model record %s: key is not v1/mdc/{ns}/{component}/{endpoint}/{hex}", key);
        return -1;
    }
    json_error_t jerr;
    json_t *j = json_loadb(value, len, 0, &jerr);
    json_t *card = json_object_get(j, "card_json");
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *name = json_string_value(json_object_get(card, "display_name"));
    const char *input = json_string_value(json_object_get(card, "model_input"));
    int rc = -1;
    if (!j || !json_is_object(card) || (type && strcmp(type, "Model") != 0))
        DYN_WARN("frontend", "ignoring model record %s: not a {\"type\":\"Model\",\"card_json\":{...}} object", key);
    else if (!name || !*name || strlen(name) >= sizeof r->name)
        DYN_WARN("frontend", "ignoring model record %s: card_json.display_name missing", key);
    else if (input && strcasecmp(input, "Text") != 0)
        DYN_WARN("frontend", "ignoring model %s (%s): model_input \"%s\" needs a tokenizer; only \"Text\" is served",
                 name, key, input);
    else {
        json_t *mt = json_object_get(card, "model_type");
        r->kinds = parse_kinds(mt ? mt : json_object_get(j, "model_type"));
        snprintf(r->name, sizeof r->name, "%s", name);
        r->created = (long long)time(NULL);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static void remove_key_locked(fe_models *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->recs[i].key, key) == 0) {
            free(m->recs[i].key);
            m->recs[i] = m->recs[--m->n];
            return;
        }
}

static void on_watch(void *ud, dyn_watch_op op, const char *key, const char *value, size_t len)
{
    fe_models *m = ud;
    record r;
    int ok = op == DYN_WATCH_PUT && parse_record(key, value, len, &r) == 0;
    pthread_mutex_lock(&m->mu);
    remove_key_locked(m, key);
    if (ok && m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        record *p = realloc(m->recs, cap * sizeof *p);
        if (p) {
            m->recs = p;
            m->cap = cap;
        }
    }
    if (ok && m->n < m->cap && (r.key = strdup(key)) != NULL) {
        m->recs[m->n++] = r;
        DYN_INFO("frontend", "model %s served by %s/%s/%s instance %llx", r.name, r.ns, r.component, r.endpoint,
                 (unsigned long long)r.instance);
    } else if (op == DYN_WATCH_DELETE) {
        DYN_INFO("frontend", "model record %s removed", key);
    }
    pthread_mutex_unlock(&m->mu);
}

dyn_status fe_models_start(dyn_runtime *rt, const char *ns, fe_models **out, dyn_error *err)
{
    *out = NULL;
    if (!dyn_name_valid(ns, 1))
        return dyn_error_set(err, DYN_ERR_INVALID, "namespace \"%s\": must match [a-z0-9-_.]+", ns);
    fe_models *m = calloc(1, sizeof *m);
    if (!m)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    m->rt = rt;
    snprintf(m->prefix, sizeof m->prefix, "v1/mdc/%s/", ns);
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->cmu, NULL);
    dyn_status st = dyn_etcd_watch_prefix(dyn_runtime_etcd(rt), m->prefix, on_watch, m, &m->watch, err);
    if (st != DYN_OK) {
        fe_models_stop(m);
        return st;
    }
    *out = m;
    return DYN_OK;
}

void fe_models_stop(fe_models *m)
{
    if (!m)
        return;
    dyn_etcd_watch_stop(m->watch);
    for (size_t i = 0; i < m->nclients; i++)
        dyn_client_destroy(m->clients[i].client);
    free(m->clients);
    for (size_t i = 0; i < m->n; i++)
        free(m->recs[i].key);
    free(m->recs);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->cmu);
    free(m);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Distinct model names, sorted; *names are pointers into a copy the caller frees. */
static size_t names_locked(fe_models *m, char (**copy)[256])
{
    *copy = m->n ? malloc(m->n * sizeof **copy) : NULL;
    if (!*copy)
        return 0;
    char **ptrs = malloc(m->n * sizeof *ptrs);
    if (!ptrs)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        ptrs[k++] = m->recs[i].name;
    qsort(ptrs, k, sizeof *ptrs, by_name);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp((*copy)[u - 1], ptrs[i]) != 0)
            snprintf((*copy)[u++], 256, "%s", ptrs[i]);
    free(ptrs);
    return u;
}

size_t fe_models_count(fe_models *m)
{
    char(*names)[256] = NULL;
    pthread_mutex_lock(&m->mu);
    size_t n = names_locked(m, &names);
    pthread_mutex_unlock(&m->mu);
    free(names);
    return n;
}

char *fe_models_list_json(fe_models *m, size_t *len)
{
    char(*names)[256] = NULL;
    pthread_mutex_lock(&m->mu);
    size_t n = names_locked(m, &names);
    long long created = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!created || m->recs[i].created < created)
            created = m->recs[i].created;
    pthread_mutex_unlock(&m->mu);
    dyn_buf b = {0};
    dyn_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        dyn_buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
        dyn_buf_json_str(&b, names[i]);
        dyn_buf_printf(&b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"dynamo\"}", created);
    }
    dyn_buf_puts(&b, "]}\n");
    free(names);
    return dyn_buf_take(&b, len);
}

/* The client of ns/component/endpoint, created on first use. */
static dyn_client *client_for(fe_models *m, const record *r, dyn_error *err)
{
    pthread_mutex_lock(&m->cmu);
    dyn_client *c = NULL;
    for (size_t i = 0; i < m->nclients && !c; i++)
        if (!strcmp(m->clients[i].ns, r->ns) && !strcmp(m->clients[i].component, r->component) &&
            !strcmp(m->clients[i].endpoint, r->endpoint))
            c = m->clients[i].client;
    if (!c) {
        client_entry *l = realloc(m->clients, (m->nclients + 1) * sizeof *l);
        if (l) {
            m->clients = l;
            if (dyn_client_create(m->rt, r->ns, r->component, r->endpoint, &c, err) == DYN_OK) {
                client_entry *e = &m->clients[m->nclients++];
                snprintf(e->ns, sizeof e->ns, "%s", r->ns);
                snprintf(e->component, sizeof e->component, "%s", r->component);
                snprintf(e->endpoint, sizeof e->endpoint, "%s", r->endpoint);
                e->client = c;
            }
        } else {
            dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
        }
    }
    pthread_mutex_unlock(&m->cmu);
    return c;
}

#define MAX_CANDIDATES 64

fe_route_result fe_models_pick(fe_models *m, const char *model, dyn_oai_kind kind, uint64_t avoid,
                               dyn_client **client, uint64_t *instance, dyn_error *err)
{
    record cand[MAX_CANDIDATES];
    size_t nc = 0, named = 0;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->recs[i].name, model) != 0)
            continue;
        named++;
        if ((m->recs[i].kinds & KIND_BIT(kind)) && nc < MAX_CANDIDATES && m->recs[i].instance != avoid) {
            cand[nc] = m->recs[i];
            cand[nc++].key = NULL;
        }
    }
    uint64_t turn = m->rr++;
    pthread_mutex_unlock(&m->mu);
    if (!named)
        return FE_ROUTE_UNKNOWN_MODEL;
    if (!nc && !avoid)
        return FE_ROUTE_WRONG_KIND;
    /* Keep only instances the endpoint's discovery sees as available (registered, not marked
     * down after a failure). */
    size_t live = 0;
    dyn_client *clients[MAX_CANDIDATES];
    for (size_t i = 0; i < nc; i++) {
        dyn_client *c = client_for(m, &cand[i], err);
        if (!c)
            return FE_ROUTE_ERROR;
        uint64_t ids[MAX_CANDIDATES];
        size_t n = dyn_client_instances(c, ids, MAX_CANDIDATES);
        for (size_t k = 0; k < n && k < MAX_CANDIDATES; k++)
            if (ids[k] == cand[i].instance) {
                cand[live] = cand[i];
                clients[live++] = c;
                break;
            }
    }
    if (!live)
        return FE_ROUTE_NO_WORKER;
    size_t k = (size_t)(turn % live);
    *client = clients[k];
    *instance = cand[k].instance;
    return FE_ROUTE_OK;
}
