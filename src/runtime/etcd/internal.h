/* Shared internals of the etcd client (not public). */
#ifndef DYN_ETCD_INTERNAL_H
#define DYN_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include "dyn/etcd.h"

struct dyn_etcd {
    char **endpoints;
    int nendpoints;
    int current;               /* endpoint that answered last */
    char *user, *password;     /* etcd user auth */
    char *ca, *cert, *key;     /* mTLS */
    char *token;               /* auth token (user auth) */
    pthread_mutex_t lock;      /* guards curl (the unary handle) */
    pthread_mutex_t state;     /* guards current and token (read by watch/lease threads) */
    CURL *curl;
};

/* POST path with body (stolen reference) on handle h (NULL = the shared unary handle) and
 * parse the JSON reply into *resp (caller decrefs). timeout_ms bounds the whole call. */
dyn_status etcd_call(dyn_etcd *e, CURL *h, const char *path, json_t *body, json_t **resp,
                     long timeout_ms, dyn_error *err);

/* Applies TLS options and the auth header to a handle (for watch streams); returns the
 * header list to free after the transfer, and the base URL to use in *base. */
struct curl_slist *etcd_prepare(dyn_etcd *e, CURL *h, const char **base);

/* Base64 (standard alphabet, padded). Returned strings are heap-allocated. */
char *etcd_b64(const void *data, size_t len);
/* Decodes into a NUL-terminated heap buffer; NULL on malformed input. */
char *etcd_unb64(const char *s, size_t *len);
/* Prefix range end: prefix with its last byte incremented (base64). */
char *etcd_prefix_end_b64(const char *prefix);
/* An int64 that the gateway writes as a JSON string (or number); def if absent/bad. */
int64_t etcd_json_i64(json_t *obj, const char *field, int64_t def);
uint64_t etcd_json_u64(json_t *obj, const char *field, uint64_t def);
/* Fills kv from a gateway KeyValue object; -1 on malformed content. */
int etcd_kv_from_json(json_t *o, dyn_etcd_kv *kv);

#endif
