/* libdyn etcd client over the v3 JSON gateway (etcd 3.4: /v3/kv/..., /v3/lease/..., /v3/watch).
 *
 * Three layers:
 *  - dyn_etcd: unary calls (put, get, range, delete, create-if-absent txn, leases). Thread-safe.
 *  - dyn_lease: the process's primary lease with a keep-alive thread renewing at half the
 *    remaining TTL. If the lease is lost (revoked, or etcd unreachable past the TTL), a new one
 *    is granted and every registration callback runs again with the new id - no restart.
 *  - dyn_etcd_watch: a prefix watch = list, then watch from the next revision; resumes after
 *    disconnects from the last seen revision; re-lists after compaction (emitting deletes for
 *    keys that vanished meanwhile). Callbacks run on the watch's own thread.
 *
 * Keys and values are bytes (values may contain NULs); keys are NUL-terminated strings here. */
#ifndef DYN_ETCD_H
#define DYN_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include "dyn/config.h"
#include "dyn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dyn_etcd dyn_etcd;

/* One key-value pair; the owning array/struct frees key and value. */
typedef struct dyn_etcd_kv {
    char *key;
    char *value;          /* NUL-terminated for convenience; value_len excludes it */
    size_t value_len;
    int64_t create_revision, mod_revision, version;
    uint64_t lease;
} dyn_etcd_kv;

/* Creates a client for cfg->etcd_endpoints with cfg's etcd auth (user, or mTLS), and checks
 * that etcd answers. *out is owned by the caller (dyn_etcd_close). */
dyn_status dyn_etcd_connect(const dyn_rt_config *cfg, dyn_etcd **out, dyn_error *err);
void dyn_etcd_close(dyn_etcd *e);

/* Put with an optional lease (0 = none). */
dyn_status dyn_etcd_put(dyn_etcd *e, const char *key, const void *value, size_t len, uint64_t lease, dyn_error *err);
/* Create-if-absent by transaction (compare version == 0). *created = 1 if written, 0 if the key
 * already existed (it is not overwritten). */
dyn_status dyn_etcd_create(dyn_etcd *e, const char *key, const void *value, size_t len, uint64_t lease,
                           int *created, dyn_error *err);
/* Single key; DYN_ERR_NOT_FOUND if absent. out is the caller's; free with dyn_etcd_kv_clear. */
dyn_status dyn_etcd_get(dyn_etcd *e, const char *key, dyn_etcd_kv *out, dyn_error *err);
/* Every key under prefix; *kvs owned by the caller (dyn_etcd_kvs_free). revision may be NULL. */
dyn_status dyn_etcd_range_prefix(dyn_etcd *e, const char *prefix, dyn_etcd_kv **kvs, size_t *n,
                                 int64_t *revision, dyn_error *err);
dyn_status dyn_etcd_delete(dyn_etcd *e, const char *key, int64_t *deleted, dyn_error *err);
/* Compacts history up to revision (tests and maintenance). */
dyn_status dyn_etcd_compact(dyn_etcd *e, int64_t revision, dyn_error *err);
void dyn_etcd_kv_clear(dyn_etcd_kv *kv);
void dyn_etcd_kvs_free(dyn_etcd_kv *kvs, size_t n);

/* Raw lease calls. keepalive: *ttl_left <= 0 means the lease no longer exists. */
dyn_status dyn_etcd_lease_grant(dyn_etcd *e, int ttl_s, uint64_t *id, dyn_error *err);
dyn_status dyn_etcd_lease_keepalive(dyn_etcd *e, uint64_t id, int64_t *ttl_left, dyn_error *err);
dyn_status dyn_etcd_lease_revoke(dyn_etcd *e, uint64_t id, dyn_error *err);

/* ---- primary lease ---- */
typedef struct dyn_lease dyn_lease;

/* Called (with the lease's registration lock held, never concurrently) once when added and
 * again after every replacement of the lease. Return DYN_OK when everything is registered;
 * on failure it is retried on the next keep-alive tick. */
typedef dyn_status (*dyn_lease_register_fn)(dyn_etcd *e, uint64_t lease_id, void *ud, dyn_error *err);

/* Grants a lease of ttl_s seconds and starts the keep-alive thread. e must outlive the lease. */
dyn_status dyn_lease_start(dyn_etcd *e, int ttl_s, dyn_lease **out, dyn_error *err);
/* Stops the keep-alive thread and revokes the lease (all its keys vanish). NULL is a no-op. */
void dyn_lease_stop(dyn_lease *l);
/* Current lease id (it changes when a lost lease is replaced). */
uint64_t dyn_lease_id(dyn_lease *l);
/* How many times the lease was replaced since start. */
int dyn_lease_generation(dyn_lease *l);
/* Adds a registration; runs fn now (its status is returned) and after every replacement.
 * *handle identifies it for dyn_lease_remove (may be NULL). */
dyn_status dyn_lease_add(dyn_lease *l, dyn_lease_register_fn fn, void *ud, int *handle, dyn_error *err);
void dyn_lease_remove(dyn_lease *l, int handle);

/* ---- prefix watch ---- */
typedef enum dyn_watch_op { DYN_WATCH_PUT = 0, DYN_WATCH_DELETE } dyn_watch_op;
typedef void (*dyn_watch_fn)(void *ud, dyn_watch_op op, const char *key, const char *value, size_t len);
typedef struct dyn_etcd_watch dyn_etcd_watch;

/* Lists prefix (each existing key delivered as PUT before this returns), then watches from the
 * next revision on a dedicated thread. e must outlive the watch. */
dyn_status dyn_etcd_watch_prefix(dyn_etcd *e, const char *prefix, dyn_watch_fn fn, void *ud,
                                 dyn_etcd_watch **out, dyn_error *err);
/* Stops and joins the watch thread; no callback runs after it returns. NULL is a no-op. */
void dyn_etcd_watch_stop(dyn_etcd_watch *w);
/* Counters for tests: reconnects after a broken stream, and re-lists after compaction. */
int dyn_etcd_watch_reconnects(dyn_etcd_watch *w);
int dyn_etcd_watch_relists(dyn_etcd_watch *w);

#ifdef __cplusplus
}
#endif
#endif
