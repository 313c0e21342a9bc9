/* libdyn event plane (spec §2.8-§2.10) over NATS:
 *  - pub/sub on `namespace.{ns}.component.{component}.{topic}` (core NATS, no queue group);
 *  - a durable JetStream work queue (stream slug(namespace.{ns}.component.{c}.{topic}) with
 *    '_' -> '-', subjects `{stream}.*`, messages on `{stream}.queue`, one durable pull
 *    consumer per reader, explicit acks) with the garbage collection of §2.9;
 *  - a JetStream key-value bucket wrapper.
 * Env: DYN_NATS_STREAM_MAX_AGE (seconds, default 3600), NATS_JETSTREAM_REPLICAS (default 1). */
#ifndef DYN_EVENTS_H
#define DYN_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "dyn/error.h"
#include "dyn/nats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes `namespace.{ns}.component.{component}.{topic}` into buf. */
size_t dyn_events_subject(char *buf, size_t cap, const char *ns, const char *component, const char *topic);

dyn_status dyn_events_publish(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                              const void *data, size_t len, dyn_error *err);

typedef struct dyn_events_sub dyn_events_sub;
/* component may be "*" to receive the topic from every component of the namespace. */
dyn_status dyn_events_subscribe(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                                dyn_events_sub **out, dyn_error *err);
/* Next event: *data is heap-allocated (caller frees), NUL-terminated. DYN_ERR_TIMEOUT if none. */
dyn_status dyn_events_next(dyn_events_sub *s, char **data, size_t *len, int timeout_ms, dyn_error *err);
void dyn_events_unsubscribe(dyn_events_sub *s);

/* ---- JetStream work queue ---- */
typedef struct dyn_queue dyn_queue;
/* Gets or creates the stream and the durable consumer `consumer` (NULL = "worker-group").
 * reset: purge the stream first. */
dyn_status dyn_queue_open(dyn_nats *nc, const char *ns, const char *component, const char *topic,
                          const char *consumer, int reset, dyn_queue **out, dyn_error *err);
/* Publishes and waits for the JetStream acknowledgement. */
dyn_status dyn_queue_publish(dyn_queue *q, const void *data, size_t len, dyn_error *err);
/* Takes the next message for this consumer and acknowledges it; *data heap (caller frees).
 * DYN_ERR_TIMEOUT when nothing arrives within timeout_ms. */
dyn_status dyn_queue_dequeue(dyn_queue *q, char **data, size_t *len, int timeout_ms, dyn_error *err);
/* Purges every message all consumers have acknowledged (min ack floor over consumers,
 * ignoring consumers at 0). *purged_below = first sequence kept (0 if nothing to do). */
dyn_status dyn_queue_gc(dyn_queue *q, uint64_t *purged_below, dyn_error *err);
/* Messages currently stored in the stream. */
dyn_status dyn_queue_stored(dyn_queue *q, uint64_t *msgs, dyn_error *err);
const char *dyn_queue_stream(dyn_queue *q);
void dyn_queue_close(dyn_queue *q);

/* ---- key-value bucket ---- */
typedef struct dyn_kv dyn_kv;
/* Opens bucket (created with defaults when create is set and it is missing). */
dyn_status dyn_kv_open(dyn_nats *nc, const char *bucket, int create, dyn_kv **out, dyn_error *err);
dyn_status dyn_kv_put(dyn_kv *kv, const char *key, const void *data, size_t len, uint64_t *revision, dyn_error *err);
/* *data heap (caller frees); DYN_ERR_NOT_FOUND when absent or deleted. */
dyn_status dyn_kv_get(dyn_kv *kv, const char *key, char **data, size_t *len, uint64_t *revision, dyn_error *err);
dyn_status dyn_kv_delete(dyn_kv *kv, const char *key, dyn_error *err);
void dyn_kv_close(dyn_kv *kv);
/* Deletes a bucket; a missing bucket is success. */
dyn_status dyn_kv_delete_bucket(dyn_nats *nc, const char *bucket, dyn_error *err);

#ifdef __cplusplus
}
#endif
#endif
