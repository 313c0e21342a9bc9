/* The durable JetStream work queue of spec §2.9 (NatsQueue) and its garbage collection. */
#include "dyn/discovery.h"
#include "dyn/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dyn_queue {
    dyn_nats *nc;
    char stream[512];
    char subject[600];
    char consumer[128];
    natsSubscription *sub;
};

static int64_t env_i64(const char *name, int64_t def)
{
    const char *v = getenv(name);
    long long n = v ? atoll(v) : 0;
    return n > 0 ? n : def;
}

static dyn_status js_error(dyn_error *err, natsStatus s, jsErrCode code, const char *what, const char *stream)
{
    dyn_status st = dyn_nats_error(err, s, "%s %s", what, stream);
    if (code)
        dyn_error_prefix(err, "JetStream error %d", (int)code);
    return st;
}

dyn_status dyn_queue_open(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                          const char *consumer, int reset, dyn_queue **out, dyn_error *err)
{
    *out = NULL;
    dyn_queue *q = calloc(1, sizeof *q);
    if (!q)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    q->nc = nc;
    char raw[512];
    dyn_events_subject(raw, sizeof raw, ns, component, topic);
    dyn_slugify(raw, q->stream, sizeof q->stream);
    for (char *p = q->stream; *p; p++)
        if (*p == '_')
            *p = '-';
    snprintf(q->subject, sizeof q->subject, "%s.queue", q->stream);
    snprintf(q->consumer, sizeof q->consumer, "%s", consumer ? consumer : "worker-group");
    jsCtx *js = dyn_nats_js(nc);
    jsErrCode code = 0;
    jsStreamInfo *si = NULL;
    natsStatus s = js_GetStreamInfo(&si, js, q->stream, NULL, &code);
    if (s == NATS_NOT_FOUND) {
        char wildcard[600];
        snprintf(wildcard, sizeof wildcard, "%s.*", q->stream);
        const char *subjects[] = {wildcard};
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = q->stream;
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.MaxAge = env_i64("DYN_NATS_STREAM_MAX_AGE", 3600) * 1000000000LL;
        cfg.Replicas = env_i64("NATS_JETSTREAM_REPLICAS", 1);
        cfg.Storage = js_FileStorage;
        s = js_AddStream(&si, js, &cfg, NULL, &code);
        if (s != NATS_OK && code == JSStreamNameExistErr)   /* raced with another creator */
            s = js_GetStreamInfo(&si, js, q->stream, NULL, &code);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        free(q);
        return js_error(err, s, code, "creating stream", raw);
    }
    if (reset && (s = js_PurgeStream(js, q->stream, NULL, &code)) != NATS_OK) {
        free(q);
        return js_error(err, s, code, "purging stream", q->stream);
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = q->stream;
    so.ManualAck = true;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.InactiveThreshold = 3600LL * 1000000000LL;
    s = js_PullSubscribe(&q->sub, js, q->subject, q->consumer, NULL, &so, &code);
    if (s != NATS_OK) {
        free(q);
        return js_error(err, s, code, "creating the durable consumer on", raw);
    }
    *out = q;
    return DYN_OK;
}

dyn_status dyn_queue_publish(dyn_queue *q, const void *data, size_t len, dyn_error *err)
{
    jsPubAck *ack = NULL;
    jsErrCode code = 0;
    natsStatus s = js_Publish(&ack, dyn_nats_js(q->nc), q->subject, data, (int)len, NULL, &code);
    jsPubAck_Destroy(ack);
    return s == NATS_OK ? DYN_OK : js_error(err, s, code, "publishing to", q->subject);
}

dyn_status dyn_queue_dequeue(dyn_queue *q, char **data, size_t *len, int timeout_ms, dyn_error *err)
{
    *data = NULL;
    *len = 0;
    natsMsgList list = {0};
    jsErrCode code = 0;
    natsStatus s = natsSubscription_Fetch(&list, q->sub, 1, timeout_ms, &code);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        return dyn_error_set(err, DYN_ERR_TIMEOUT, "queue %s: nothing within %d ms", q->stream, timeout_ms);
    }
    if (s != NATS_OK)
        return js_error(err, s, code, "dequeuing from", q->stream);
    natsMsg *m = list.Msgs[0];
    int n = natsMsg_GetDataLength(m);
    char *d = malloc((size_t)n + 1);
    if (d) {
        memcpy(d, natsMsg_GetData(m), (size_t)n);
        d[n] = '\0';
    }
    s = natsMsg_Ack(m, NULL);
    natsMsgList_Destroy(&list);
    if (!d)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    if (s != NATS_OK) {
        free(d);
        return dyn_nats_error(err, s, "acknowledging a message of %s", q->stream);
    }
    *data = d;
    *len = (size_t)n;
    return DYN_OK;
}

dyn_status dyn_queue_gc(dyn_queue *q, uint64_t *purged_below, dyn_error *err)
{
    *purged_below = 0;
    jsCtx *js = dyn_nats_js(q->nc);
    jsConsumerInfoList *list = NULL;
    jsErrCode code = 0;
    natsStatus s = js_Consumers(&list, js, q->stream, NULL, &code);
    if (s == NATS_NOT_FOUND)
        return DYN_OK;
    if (s != NATS_OK)
        return js_error(err, s, code, "listing consumers of", q->stream);
    uint64_t min = 0;
    for (int i = 0; i < list->Count; i++) {
        uint64_t floor = list->List[i]->AckFloor.Stream;
        if (floor && (!min || floor < min))
            min = floor;
    }
    jsConsumerInfoList_Destroy(list);
    if (!min)
        return DYN_OK;
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Sequence = min + 1;          /* removes everything up to and including min */
    s = js_PurgeStream(js, q->stream, &o, &code);
    if (s != NATS_OK)
        return js_error(err, s, code, "purging", q->stream);
    *purged_below = min + 1;
    return DYN_OK;
}

dyn_status dyn_queue_stored(dyn_queue *q, uint64_t *msgs, dyn_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode code = 0;
    natsStatus s = js_GetStreamInfo(&si, dyn_nats_js(q->nc), q->stream, NULL, &code);
    if (s != NATS_OK)
        return js_error(err, s, code, "reading stream info of", q->stream);
    *msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return DYN_OK;
}

const char *dyn_queue_stream(dyn_queue *q) { return q->stream; }

void dyn_queue_close(dyn_queue *q)
{
    if (!q)
        return;
    /* Unsubscribe only: the durable consumer stays (it expires after 1 h of inactivity). */
    natsSubscription_Destroy(q->sub);
    free(q);
}
