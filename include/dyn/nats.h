/* libdyn NATS connection: auth priority, TLS, reconnect forever, JetStream checked at start.
 *
 *   dyn_nats *nc;
 *   if (dyn_nats_connect(&cfg, &nc, &err) != DYN_OK) { ... err.message names the cause ... }
 *   ...
 *   dyn_nats_close(nc);
 *
 * Connect fails fast (no retry loop) when the server is unreachable at start, and with
 * DYN_ERR_AUTH when it rejects the credential; the message names the credential source
 * (NATS_AUTH_TOKEN, ...). Once connected, the connection reconnects forever with a
 * jittered, capped exponential backoff; subscriptions survive reconnects.
 * JetStream must answer an account-info request at start, else DYN_ERR_UNAVAILABLE. */
#ifndef DYN_NATS_H
#define DYN_NATS_H

#include <stdint.h>
#include <nats/nats.h>

#include "dyn/config.h"
#include "dyn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dyn_nats dyn_nats;

/* Connects with cfg (copied; cfg stays the caller's). *out is owned by the caller. */
dyn_status dyn_nats_connect(const dyn_rt_config *cfg, dyn_nats **out, dyn_error *err);

/* Closes the connection and frees everything. NULL is a no-op. */
void dyn_nats_close(dyn_nats *nc);

/* Borrowed nats.c handles, valid until dyn_nats_close. */
natsConnection *dyn_nats_conn(dyn_nats *nc);
jsCtx *dyn_nats_js(dyn_nats *nc);

/* The server's max_payload (from INFO), in bytes. */
int64_t dyn_nats_max_payload(dyn_nats *nc);

/* Which credential this connection uses. */
dyn_nats_auth dyn_nats_auth_used(dyn_nats *nc);

/* 1 when currently connected. */
int dyn_nats_connected(dyn_nats *nc);

/* Fills err from a nats.c status with context ("publishing x: <nats text>") and returns a
 * matching dyn_status (NATS_TIMEOUT -> DYN_ERR_TIMEOUT, NATS_NO_RESPONDERS ->
 * DYN_ERR_UNAVAILABLE, NATS_MAX_PAYLOAD -> DYN_ERR_TOO_LARGE, ...). */
dyn_status dyn_nats_error(dyn_error *err, natsStatus s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Derives the NKey public key ("U...", 56 chars + NUL) from a user seed ("SU..."). */
dyn_status dyn_nkey_public_from_seed(const char *seed, char pub[57], dyn_error *err);

#ifdef __cplusplus
}
#endif
#endif
