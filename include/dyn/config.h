/* libdyn runtime configuration, read from the environment.
 *
 * Every component of a graph gets its bus settings from these variables (the operator and
 * `dyn up` set them). Unset variables take the default shown.
 *
 * NATS
 *   NATS_SERVER                 comma-separated URLs, `nats://host:port` or `tls://host:port`
 *                               (default nats://localhost:4222). A bare host:port gets nats://.
 *   NATS_AUTH_USERNAME          \ user + password; both must be set (priority 1)
 *   NATS_AUTH_PASSWORD          /
 *   NATS_AUTH_TOKEN             token (priority 2)
 *   NATS_AUTH_NKEY              an NKey user *seed* (`SU...`); the public key is derived and the
 *                               server nonce signed with it (priority 3)
 *   NATS_AUTH_CREDENTIALS_FILE  path of a `.creds` file, JWT + seed (priority 4)
 *                               With none of the above set, no credentials are sent.
 *   NATS_TLS_CA                 PEM CA bundle to verify the server (turns TLS on)
 *   NATS_TLS_CERT, NATS_TLS_KEY PEM client certificate and key (mutual TLS)
 *
 * etcd
 *   ETCD_ENDPOINTS              comma-separated, with or without scheme (default
 *                               http://localhost:2379; a bare host:port gets http://)
 *   ETCD_AUTH_USERNAME, ETCD_AUTH_PASSWORD     etcd user auth (priority 1)
 *   ETCD_AUTH_CA, ETCD_AUTH_CLIENT_CERT, ETCD_AUTH_CLIENT_KEY   mutual TLS (priority 2; the
 *                               certificate needs its key; the CA alone verifies an https etcd)
 *
 * Runtime
 *   DYN_NAMESPACE               Dynamo namespace of this component (default `dynamo`)
 *   DYN_LEASE_TTL               primary etcd lease TTL in seconds (default 10, 2..3600)
 *   DYN_REQUEST_TIMEOUT_MS      NATS request (acknowledgement) timeout (default 10000)
 *   DYN_CALLHOME_HOST           address the call-home response server advertises (default:
 *                               first non-loopback IPv4 of the host, else 127.0.0.1)
 *   DYN_TCP_MAX_MESSAGE_SIZE    largest response frame accepted (default 32 MiB)
 *   DYN_NATS_STREAM_MAX_AGE     JetStream work-queue max age in seconds (default 3600)
 *   NATS_JETSTREAM_REPLICAS     JetStream work-queue replicas (default 1)
 */
#ifndef DYN_CONFIG_H
#define DYN_CONFIG_H

#include "dyn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which credential the NATS connection uses, in priority order. */
typedef enum dyn_nats_auth {
    DYN_NATS_AUTH_NONE = 0,
    DYN_NATS_AUTH_USER_PASSWORD,
    DYN_NATS_AUTH_TOKEN,
    DYN_NATS_AUTH_NKEY,
    DYN_NATS_AUTH_CREDS_FILE
} dyn_nats_auth;

/* All strings are owned by the config (heap copies); NULL means unset. */
typedef struct dyn_rt_config {
    char *nats_server;          /* raw comma-separated list */
    char *nats_user, *nats_password, *nats_token, *nats_nkey_seed, *nats_creds_file;
    char *nats_tls_ca, *nats_tls_cert, *nats_tls_key;
    char *etcd_endpoints;       /* raw comma-separated list */
    char *etcd_user, *etcd_password;
    char *etcd_ca, *etcd_cert, *etcd_key;
    char *ns;                   /* DYN_NAMESPACE */
    char *callhome_host;        /* DYN_CALLHOME_HOST, NULL = detect */
    int lease_ttl_s;
    int request_timeout_ms;
} dyn_rt_config;

/* Reads the variables above into cfg (which the caller then owns; free with
 * dyn_rt_config_free). Invalid values (a NATS URL with another scheme, a TTL out of range)
 * are DYN_ERR_INVALID naming the variable. */
dyn_status dyn_rt_config_from_env(dyn_rt_config *cfg, dyn_error *err);

/* Frees the strings; cfg itself stays the caller's. Safe on a zeroed config. */
void dyn_rt_config_free(dyn_rt_config *cfg);

/* Copies src into dst (deep). */
dyn_status dyn_rt_config_copy(dyn_rt_config *dst, const dyn_rt_config *src, dyn_error *err);

/* The credential the config selects, by the priority above. */
dyn_nats_auth dyn_rt_config_nats_auth(const dyn_rt_config *cfg);

/* Human-readable name of the credential source, e.g. "NATS_AUTH_TOKEN". */
const char *dyn_nats_auth_source(dyn_nats_auth auth);

/* Splits a comma-separated URL list and normalises each entry (a missing scheme gets
 * default_scheme, "nats" or "http"); allowed: NULL-terminated list of accepted schemes.
 * *out is a NULL-terminated heap array (free with dyn_strv_free); *count its length. */
dyn_status dyn_url_list_parse(const char *list, const char *default_scheme,
                              const char *const *allowed, char ***out, int *count,
                              const char *what, dyn_error *err);
void dyn_strv_free(char **v);

#ifdef __cplusplus
}
#endif
#endif
