/* Internals shared by the rpc files (not public). */
#ifndef DYN_RPC_INTERNAL_H
#define DYN_RPC_INTERNAL_H

#include <pthread.h>

#include "dyn/metrics.h"
#include "dyn/rpc.h"
#include "frame.h"

/* ---- worker pool: grows on demand up to a cap, idle threads wait ---- */
typedef void (*pool_fn)(void *arg);
typedef struct dyn_pool dyn_pool;
dyn_pool *pool_create(int max_threads);
int pool_submit(dyn_pool *p, pool_fn fn, void *arg);   /* 0 ok, -1 when stopping/no memory */
void pool_destroy(dyn_pool *p);                         /* runs queued jobs, joins threads */

/* ---- call-home response server (requester side) ---- */
typedef struct ch_item {
    dyn_frame f;
    struct ch_item *next;
} ch_item;

typedef struct ch_pending {
    char subject[40];          /* uuid the worker presents in its handshake */
    pthread_cond_t cv;         /* waits use the server mutex */
    ch_item *head, *tail;
    int qlen;
    int connected, prologue, ended, sentinel;
    char *prologue_error;
    int fd;                    /* -1 until connected and after close */
    int refs;                  /* server side + stream side */
    int waiting;               /* still in the server's waiting list */
    char pending_ctrl[16];     /* control asked for before the worker's handshake arrived */
    struct ch_pending *next;   /* waiting list link */
} ch_pending;

typedef struct dyn_callhome dyn_callhome;
dyn_status callhome_start(const char *host, dyn_callhome **out, dyn_error *err);
void callhome_stop(dyn_callhome *ch);
const char *callhome_address(dyn_callhome *ch);
pthread_mutex_t *callhome_lock(dyn_callhome *ch);
ch_pending *callhome_register(dyn_callhome *ch);
/* The stream is done with p: closes its connection (if any) and drops the stream's ref. */
void callhome_release(dyn_callhome *ch, ch_pending *p);
/* Sends a control message ("stop"/"kill") to the worker; call with the lock NOT held. */
void callhome_control(dyn_callhome *ch, ch_pending *p, const char *msg);
/* Called with the lock held after popping an item: wakes the reader if it was throttled. */
void callhome_popped(dyn_callhome *ch, ch_pending *p);

/* ---- $SRV micro-service responders ---- */
typedef struct srv_registry srv_registry;
srv_registry *srv_create(dyn_runtime *rt);
void srv_destroy(srv_registry *r);
void srv_add(srv_registry *r, dyn_endpoint *ep);
void srv_remove(srv_registry *r, dyn_endpoint *ep);
/* Endpoint facts for INFO/STATS. */
const char *endpoint_component(dyn_endpoint *ep);
const char *endpoint_name(dyn_endpoint *ep);
dyn_endpoint_metrics *endpoint_metrics(dyn_endpoint *ep);

/* ---- runtime internals ---- */
dyn_pool *runtime_pool(dyn_runtime *rt);
dyn_callhome *runtime_callhome(dyn_runtime *rt);
srv_registry *runtime_srv(dyn_runtime *rt);
int runtime_request_timeout_ms(dyn_runtime *rt);
size_t runtime_max_frame(void);

/* A random UUID v4 string (37 bytes with NUL). */
void dyn_uuid4(char out[37]);

/* Writes all of iov to fd (blocking, handles partial writes). 0 ok, -1 error. */
struct iovec;
int write_all(int fd, struct iovec *iov, int iovcnt);

#endif
