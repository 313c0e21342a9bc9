/* Event plane pub/sub over core NATS (spec §2.8): see include/dyn/events.h. */
#include "dyn/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dyn_events_sub {
    natsSubscription *sub;
};

size_t dyn_events_subject(char *buf, size_t cap, const char *ns, const char *component, const char *topic)
{
    return (size_t)snprintf(buf, cap, "namespace.%s.component.%s.%s", ns, component, topic);
}

dyn_status dyn_events_publish(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                              const void *data, size_t len, dyn_error *err)
{
    char subj[512];
    if (dyn_events_subject(subj, sizeof subj, ns, component, topic) >= sizeof subj)
        return dyn_error_set(err, DYN_ERR_INVALID, "event subject too long");
    natsStatus s = natsConnection_Publish(dyn_nats_conn(nc), subj, data, (int)len);
    return s == NATS_OK ? DYN_OK : dyn_nats_error(err, s, "publishing %s", subj);
}

dyn_status dyn_events_subscribe(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                                dyn_events_sub **out, dyn_error *err)
{
    *out = NULL;
    char subj[512];
    if (dyn_events_subject(subj, sizeof subj, ns, component, topic) >= sizeof subj)
        return dyn_error_set(err, DYN_ERR_INVALID, "event subject too long");
    dyn_events_sub *e = calloc(1, sizeof *e);
    if (!e)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    natsStatus s = natsConnection_SubscribeSync(&e->sub, dyn_nats_conn(nc), subj);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(e->sub, 65536, 256 << 20);
    if (s == NATS_OK)
        s = natsConnection_FlushTimeout(dyn_nats_conn(nc), 5000);   /* interest registered on return */
    if (s != NATS_OK) {
        natsSubscription_Destroy(e->sub);
        free(e);
        return dyn_nats_error(err, s, "subscribing %s", subj);
    }
    *out = e;
    return DYN_OK;
}

dyn_status dyn_events_next(dyn_events_sub *e, char **data, size_t *len, int timeout_ms, dyn_error *err)
{
    *data = NULL;
    *len = 0;
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, e->sub, timeout_ms);
    if (s != NATS_OK)
        return dyn_nats_error(err, s, "waiting for an event");
    int n = natsMsg_GetDataLength(m);
    char *d = malloc((size_t)n + 1);
    if (!d) {
        natsMsg_Destroy(m);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    memcpy(d, natsMsg_GetData(m), (size_t)n);
    d[n] = '\0';
    natsMsg_Destroy(m);
    *data = d;
    *len = (size_t)n;
    return DYN_OK;
}

void dyn_events_unsubscribe(dyn_events_sub *e)
{
    if (!e)
        return;
    natsSubscription_Unsubscribe(e->sub);
    natsSubscription_Destroy(e->sub);
    free(e);
}
