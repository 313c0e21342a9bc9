/* $SRV responders (spec §2.7): nats.c 3.4.1 has no micro-service API, so each service
 * (one per component: name = slug(ns_component)) answers PING, INFO and STATS itself on
 * $SRV.<verb>, $SRV.<verb>.<name> and $SRV.<verb>.<name>.<id> with the standard
 * io.nats.micro.v1 JSON, listing the endpoints this process serves. */
#include "internal.h"
#include "dyn/discovery.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRV_VERSION "0.1.0"

typedef struct ep_link {
    dyn_endpoint *ep;
    struct ep_link *next;
} ep_link;

typedef struct service {
    srv_registry *reg;
    char name[2 * DYN_NAME_MAX + 2];
    char component[DYN_NAME_MAX];
    char id[40];
    char started[40];
    natsSubscription *subs[9];
    ep_link *eps;
    struct service *next;
} service;

struct srv_registry {
    dyn_runtime *rt;
    pthread_mutex_t mu;
    service *services;
};

srv_registry *srv_create(dyn_runtime *rt)
{
    srv_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rt = rt;
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static json_t *base_reply(service *s, const char *type)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:{}}", "type", type, "name", s->name, "id", s->id, "version", SRV_VERSION,
                     "metadata");
}

static void on_srv(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    service *s = closure;
    const char *subj = natsMsg_GetSubject(msg);
    const char *reply = natsMsg_GetReply(msg);
    if (!reply) {
        natsMsg_Destroy(msg);
        return;
    }
    json_t *j;
    pthread_mutex_lock(&s->reg->mu);
    if (strncmp(subj, "$SRV.PING", 9) == 0) {
        j = base_reply(s, "io.nats.micro.v1.ping_response");
    } else if (strncmp(subj, "$SRV.INFO", 9) == 0) {
        j = base_reply(s, "io.nats.micro.v1.info_response");
        char desc[300];
        snprintf(desc, sizeof desc, "Dynamo component %s in namespace %s", s->component, dyn_runtime_namespace(s->reg->rt));
        json_object_set_new(j, "description", json_string(desc));
        json_t *eps = json_array();
        for (ep_link *l = s->eps; l; l = l->next) {
            char subject[320], name[300];
            dyn_endpoint_subject(l->ep, subject, sizeof subject);
            const char *dot = strchr(subject, '.');
            snprintf(name, sizeof name, "%s", dot ? dot + 1 : subject);
            json_array_append_new(eps, json_pack("{s:s,s:s,s:s,s:n}", "name", name, "subject", subject,
                                                 "queue_group", "q", "metadata"));
        }
        json_object_set_new(j, "endpoints", eps);
    } else {
        j = base_reply(s, "io.nats.micro.v1.stats_response");
        json_object_set_new(j, "started", json_string(s->started));
        json_t *eps = json_array();
        for (ep_link *l = s->eps; l; l = l->next) {
            char subject[320], name[300];
            dyn_endpoint_subject(l->ep, subject, sizeof subject);
            const char *dot = strchr(subject, '.');
            snprintf(name, sizeof name, "%s", dot ? dot + 1 : subject);
            dyn_endpoint_metrics *em = endpoint_metrics(l->ep);
            uint64_t n = dyn_endpoint_metrics_requests(em);
            double secs = dyn_endpoint_metrics_seconds(em);
            json_int_t ns = (json_int_t)(secs * 1e9);
            json_array_append_new(eps, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:{s:i}}", "name", name, "subject", subject,
                                                 "queue_group", "q", "num_requests", (json_int_t)n, "num_errors",
                                                 (json_int_t)dyn_endpoint_metrics_errors(em), "last_error", "",
                                                 "processing_time", ns, "average_processing_time",
                                                 n ? ns / (json_int_t)n : 0, "data", "inflight",
                                                 (int)dyn_endpoint_metrics_inflight(em)));
        }
        json_object_set_new(j, "endpoints", eps);
    }
    pthread_mutex_unlock(&s->reg->mu);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (txt)
        natsConnection_PublishString(nc, reply, txt);
    free(txt);
    natsMsg_Destroy(msg);
}

void srv_add(srv_registry *r, dyn_endpoint *ep)
{
    if (!r)
        return;
    char base[2 * DYN_NAME_MAX + 2], name[2 * DYN_NAME_MAX + 2];
    snprintf(base, sizeof base, "%s_%s", dyn_runtime_namespace(r->rt), endpoint_component(ep));
    dyn_slugify(base, name, sizeof name);
    pthread_mutex_lock(&r->mu);
    service *s;
    for (s = r->services; s && strcmp(s->name, name) != 0; s = s->next)
        ;
    if (!s && (s = calloc(1, sizeof *s)) != NULL) {
        s->reg = r;
        snprintf(s->name, sizeof s->name, "%s", name);
        snprintf(s->component, sizeof s->component, "%s", endpoint_component(ep));
        char uuid[37];
        dyn_uuid4(uuid);
        for (size_t i = 0, o = 0; uuid[i] && o + 1 < sizeof s->id; i++)   /* nuid-like: no dashes */
            if (uuid[i] != '-')
                s->id[o++] = uuid[i];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->started, sizeof s->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
        natsConnection *nc = dyn_nats_conn(dyn_runtime_nats(r->rt));
        static const char *const verbs[] = {"PING", "INFO", "STATS"};
        for (int v = 0; v < 3; v++) {
            char subj[400];
            snprintf(subj, sizeof subj, "$SRV.%s", verbs[v]);
            natsConnection_Subscribe(&s->subs[v * 3], nc, subj, on_srv, s);
            snprintf(subj, sizeof subj, "$SRV.%s.%s", verbs[v], s->name);
            natsConnection_Subscribe(&s->subs[v * 3 + 1], nc, subj, on_srv, s);
            snprintf(subj, sizeof subj, "$SRV.%s.%s.%s", verbs[v], s->name, s->id);
            natsConnection_Subscribe(&s->subs[v * 3 + 2], nc, subj, on_srv, s);
        }
        s->next = r->services;
        r->services = s;
    }
    ep_link *l = s ? calloc(1, sizeof *l) : NULL;
    if (l) {
        l->ep = ep;
        l->next = s->eps;
        s->eps = l;
    }
    pthread_mutex_unlock(&r->mu);
}

static void service_free(service *s)
{
    for (int i = 0; i < 9; i++) {
        if (!s->subs[i])
            continue;
        if (natsSubscription_Drain(s->subs[i]) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(s->subs[i], 2000);
        natsSubscription_Destroy(s->subs[i]);
    }
    for (ep_link *l = s->eps, *n; l; l = n) {
        n = l->next;
        free(l);
    }
    free(s);
}

void srv_remove(srv_registry *r, dyn_endpoint *ep)
{
    if (!r)
        return;
    service *dead = NULL;
    pthread_mutex_lock(&r->mu);
    for (service **sp = &r->services; *sp; sp = &(*sp)->next) {
        service *s = *sp;
        for (ep_link **lp = &s->eps; *lp; lp = &(*lp)->next) {
            if ((*lp)->ep == ep) {
                ep_link *l = *lp;
                *lp = l->next;
                free(l);
                break;
            }
        }
        if (!s->eps) {
            *sp = s->next;
            dead = s;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (dead)
        service_free(dead);    /* outside the lock: draining waits for on_srv, which takes it */
}

void srv_destroy(srv_registry *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    service *s = r->services;
    r->services = NULL;
    pthread_mutex_unlock(&r->mu);
    while (s) {
        service *n = s->next;
        service_free(s);
        s = n;
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}
