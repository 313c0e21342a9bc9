/* libdyn request/streaming-response endpoints and clients (spec §2.1-§2.5).
 *
 * A worker serves an endpoint; a client calls it and streams the responses back:
 *
 *   static dyn_status generate(dyn_request *req, const char *body, size_t len, void *ud) {
 *       for (int i = 0; i < 3 && !dyn_request_stopped(req); i++)
 *           if (dyn_request_send(req, "\"token\"", 7) != DYN_OK) break;
 *       return DYN_OK;
 *   }
 *   dyn_runtime *rt;  dyn_runtime_from_env(&rt, &err);
 *   dyn_endpoint *ep; dyn_endpoint_serve(rt, "backend", "generate", generate, NULL, &ep, &err);
 *
 *   dyn_client *c;    dyn_client_create(rt, NULL, "backend", "generate", &c, &err);
 *   dyn_client_wait_instances(c, 1, 5000, &err);
 *   dyn_stream *s;    dyn_client_generate(c, "{\"prompt\":\"hi\"}", 15, DYN_ROUTE_ROUND_ROBIN, 0, &s, &err);
 *   const char *item; size_t n;
 *   while (dyn_stream_next(s, &item, &n, 10000, &err) == DYN_OK && item) { ...use item... }
 *   dyn_stream_free(s);
 *
 * Wire: the request goes to NATS subject `{slug(ns_component)}.{endpoint}-{instance_hex}`
 * (queue group "q") as a two-part message; the worker acknowledges with an empty reply at
 * once, connects back to the caller's TCP call-home server and streams two-part frames:
 * handshake, prologue, one `{"data":<item>,"complete_final":false}` per item, then
 * `{"complete_final":true}` and the "sentinel" control frame. The caller may send "stop"
 * (graceful) or "kill" (abort) back on the same socket. Items are JSON values. */
#ifndef DYN_RPC_H
#define DYN_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "dyn/config.h"
#include "dyn/error.h"
#include "dyn/etcd.h"
#include "dyn/nats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime: the process's bus connections ---- */
typedef struct dyn_runtime dyn_runtime;

/* Connects NATS (JetStream checked) and etcd, grants the primary lease (its id is this
 * process's instance id) and starts the call-home response server. cfg is copied. */
dyn_status dyn_runtime_create(const dyn_rt_config *cfg, dyn_runtime **out, dyn_error *err);
/* Same, with dyn_rt_config_from_env. */
dyn_status dyn_runtime_from_env(dyn_runtime **out, dyn_error *err);
/* Stops endpoints' registrations (revokes the lease), closes everything. Endpoints, clients and
 * streams made from rt must be freed first. NULL is a no-op. */
void dyn_runtime_destroy(dyn_runtime *rt);

uint64_t dyn_runtime_instance_id(dyn_runtime *rt);     /* current primary lease id */
const char *dyn_runtime_namespace(dyn_runtime *rt);
dyn_nats *dyn_runtime_nats(dyn_runtime *rt);
dyn_etcd *dyn_runtime_etcd(dyn_runtime *rt);
dyn_lease *dyn_runtime_lease(dyn_runtime *rt);

/* ---- serving ---- */
typedef struct dyn_request dyn_request;

/* Runs on a worker thread, one call per request. body is the request JSON (NUL-terminated).
 * Send items with dyn_request_send; return DYN_OK when done. An error returned before the first
 * item is reported to the caller as the stream's prologue error. */
typedef dyn_status (*dyn_handler_fn)(dyn_request *req, const char *body, size_t len, void *ud);

/* Sends one item (a JSON value). DYN_ERR_CANCELLED once the caller stopped or killed the
 * request or went away: stop generating then. */
dyn_status dyn_request_send(dyn_request *req, const char *item_json, size_t len);
/* Sends the last item together with the end of the stream in one write (the caller wakes once);
 * use it for single-item responses. Later sends return DYN_ERR_CANCELLED. */
dyn_status dyn_request_send_last(dyn_request *req, const char *item_json, size_t len);
/* 1 once the caller sent "stop"/"kill" or disconnected. Cheap; call it in generation loops. */
int dyn_request_stopped(dyn_request *req);
const char *dyn_request_id(dyn_request *req);
/* Sets the error text the caller sees when the handler fails before its first item. */
void dyn_request_set_error(dyn_request *req, const char *message);

typedef struct dyn_endpoint dyn_endpoint;

/* Serves ns(rt)/component/endpoint: subscribes the subject, registers the instance in etcd
 * under the primary lease (re-registered on a new lease), answers $SRV PING/INFO/STATS. */
dyn_status dyn_endpoint_serve(dyn_runtime *rt, const char *component, const char *endpoint,
                              dyn_handler_fn fn, void *ud, dyn_endpoint **out, dyn_error *err);
/* Deregisters, unsubscribes, waits (up to 10 s) for in-flight requests, frees. */
void dyn_endpoint_stop(dyn_endpoint *ep);
/* The subject currently served (changes if the lease is replaced); copied into buf. */
void dyn_endpoint_subject(dyn_endpoint *ep, char *buf, size_t cap);
/* Requests currently running in handlers. */
int dyn_endpoint_inflight(dyn_endpoint *ep);

/* ---- calling ---- */
typedef enum dyn_route { DYN_ROUTE_ROUND_ROBIN = 0, DYN_ROUTE_RANDOM, DYN_ROUTE_DIRECT } dyn_route;
typedef struct dyn_client dyn_client;
typedef struct dyn_stream dyn_stream;

/* Watches the instances of ns/component/endpoint (ns NULL = the runtime's namespace). */
dyn_status dyn_client_create(dyn_runtime *rt, const char *ns, const char *component, const char *endpoint,
                             dyn_client **out, dyn_error *err);
/* Streams must be freed first. NULL is a no-op. */
void dyn_client_destroy(dyn_client *c);
/* Waits until at least n instances are available. DYN_ERR_TIMEOUT otherwise. */
dyn_status dyn_client_wait_instances(dyn_client *c, size_t n, int timeout_ms, dyn_error *err);
/* Available instance ids (discovered minus marked down); returns how many there are. */
size_t dyn_client_instances(dyn_client *c, uint64_t *ids, size_t cap);

/* Sends a request (JSON) and returns its response stream. instance_id is used with
 * DYN_ROUTE_DIRECT. Fails at once with DYN_ERR_UNAVAILABLE when no instance is available or
 * none responds, DYN_ERR_TOO_LARGE (naming both sizes) above the server's max_payload. */
dyn_status dyn_client_generate(dyn_client *c, const char *request_json, size_t len, dyn_route route,
                               uint64_t instance_id, dyn_stream **out, dyn_error *err);

/* Next item. DYN_OK with *item set (valid until the next call), or DYN_OK with *item NULL at
 * the end of the stream; an error otherwise (the worker's prologue error, "Stream ended before
 * generation completed", DYN_ERR_TIMEOUT after timeout_ms without a frame). */
dyn_status dyn_stream_next(dyn_stream *s, const char **item, size_t *len, int timeout_ms, dyn_error *err);
/* Asks the worker to stop generating (graceful); the stream then ends. */
void dyn_stream_stop(dyn_stream *s);
/* Aborts the worker's generation. */
void dyn_stream_kill(dyn_stream *s);
/* Frees the stream (sends "kill" if it had not ended). NULL is a no-op. */
void dyn_stream_free(dyn_stream *s);
/* The instance that serves this stream. */
uint64_t dyn_stream_instance(dyn_stream *s);

#ifdef __cplusplus
}
#endif
#endif
