/* etcd unary calls: put, create-if-absent (txn), get, prefix range, delete, compact, and the
 * raw lease calls. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CALL_TIMEOUT_MS 5000

static json_t *b64_json(const void *data, size_t len)
{
    char *s = etcd_b64(data, len);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

static json_t *put_request(const char *key, const void *value, size_t len, uint64_t lease)
{
    json_t *r = json_object();
    json_object_set_new(r, "key", b64_json(key, strlen(key)));
    json_object_set_new(r, "value", b64_json(value, len));
    if (lease) {
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)lease);
        json_object_set_new(r, "lease", json_string(id));
    }
    return r;
}

dyn_status dyn_etcd_put(dyn_etcd *e, const char *key, const void *value, size_t len, uint64_t lease, dyn_error *err)
{
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/put", put_request(key, value, len, lease), &resp, CALL_TIMEOUT_MS, err);
    json_decref(resp);
    return st;
}

dyn_status dyn_etcd_create(dyn_etcd *e, const char *key, const void *value, size_t len, uint64_t lease,
                           int *created, dyn_error *err)
{
    json_t *cmp = json_pack("{s:o,s:s,s:s,s:s}", "key", b64_json(key, strlen(key)), "target", "VERSION",
                            "result", "EQUAL", "version", "0");
    json_t *body = json_pack("{s:[o],s:[{s:o}],s:[{s:{s:o}}]}", "compare", cmp,
                             "success", "request_put", put_request(key, value, len, lease),
                             "failure", "request_range", "key", b64_json(key, strlen(key)));
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/txn", body, &resp, CALL_TIMEOUT_MS, err);
    if (st == DYN_OK) {
        json_t *ok = json_object_get(resp, "succeeded");
        *created = json_is_true(ok);
    }
    json_decref(resp);
    return st;
}

dyn_status dyn_etcd_get(dyn_etcd *e, const char *key, dyn_etcd_kv *out, dyn_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/range", json_pack("{s:o}", "key", b64_json(key, strlen(key))),
                              &resp, CALL_TIMEOUT_MS, err);
    if (st != DYN_OK)
        return st;
    json_t *kvs = json_object_get(resp, "kvs");
    if (!json_is_array(kvs) || json_array_size(kvs) == 0) {
        json_decref(resp);
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "etcd: key %s not found", key);
    }
    if (etcd_kv_from_json(json_array_get(kvs, 0), out) != 0)
        st = dyn_error_set(err, DYN_ERR_IO, "etcd: malformed key-value in reply for %s", key);
    json_decref(resp);
    return st;
}

dyn_status dyn_etcd_range_prefix(dyn_etcd *e, const char *prefix, dyn_etcd_kv **out, size_t *n,
                                 int64_t *revision, dyn_error *err)
{
    *out = NULL;
    *n = 0;
    char *end = etcd_prefix_end_b64(prefix);
    json_t *body = json_pack("{s:o,s:s}", "key", b64_json(prefix, strlen(prefix)), "range_end", end ? end : "");
    free(end);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/range", body, &resp, CALL_TIMEOUT_MS, err);
    if (st != DYN_OK)
        return st;
    if (revision)
        *revision = etcd_json_i64(json_object_get(resp, "header"), "revision", 0);
    json_t *kvs = json_object_get(resp, "kvs");
    size_t cnt = json_is_array(kvs) ? json_array_size(kvs) : 0;
    dyn_etcd_kv *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        json_decref(resp);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    size_t got = 0;
    for (size_t i = 0; i < cnt; i++)
        if (etcd_kv_from_json(json_array_get(kvs, i), &arr[got]) == 0)
            got++;
    json_decref(resp);
    if (got != cnt) {
        dyn_etcd_kvs_free(arr, got);
        return dyn_error_set(err, DYN_ERR_IO, "etcd: malformed key-value in range reply for %s", prefix);
    }
    *out = arr;
    *n = got;
    return DYN_OK;
}

dyn_status dyn_etcd_delete(dyn_etcd *e, const char *key, int64_t *deleted, dyn_error *err)
{
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/deleterange", json_pack("{s:o}", "key", b64_json(key, strlen(key))),
                              &resp, CALL_TIMEOUT_MS, err);
    if (st == DYN_OK && deleted)
        *deleted = etcd_json_i64(resp, "deleted", 0);
    json_decref(resp);
    return st;
}

dyn_status dyn_etcd_compact(dyn_etcd *e, int64_t revision, dyn_error *err)
{
    char rev[32];
    snprintf(rev, sizeof rev, "%lld", (long long)revision);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/kv/compaction", json_pack("{s:s,s:b}", "revision", rev, "physical", 1),
                              &resp, CALL_TIMEOUT_MS, err);
    json_decref(resp);
    return st;
}

dyn_status dyn_etcd_lease_grant(dyn_etcd *e, int ttl_s, uint64_t *id, dyn_error *err)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_s);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/lease/grant", json_pack("{s:s}", "TTL", ttl), &resp, CALL_TIMEOUT_MS, err);
    if (st != DYN_OK)
        return st;
    *id = etcd_json_u64(resp, "ID", 0);
    json_t *msg = json_object_get(resp, "error");
    json_decref(resp);
    if (*id == 0 || json_is_string(msg))
        return dyn_error_set(err, DYN_ERR_IO, "etcd lease grant: no lease id in reply");
    return DYN_OK;
}

dyn_status dyn_etcd_lease_keepalive(dyn_etcd *e, uint64_t id, int64_t *ttl_left, dyn_error *err)
{
    char sid[32];
    snprintf(sid, sizeof sid, "%llu", (unsigned long long)id);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/lease/keepalive", json_pack("{s:s}", "ID", sid), &resp, CALL_TIMEOUT_MS, err);
    if (st != DYN_OK)
        return st;
    /* A streaming RPC through the gateway: {"result":{"ID":..,"TTL":..}}; TTL absent = gone. */
    json_t *res = json_object_get(resp, "result");
    *ttl_left = etcd_json_i64(res ? res : resp, "TTL", 0);
    json_decref(resp);
    return DYN_OK;
}

dyn_status dyn_etcd_lease_revoke(dyn_etcd *e, uint64_t id, dyn_error *err)
{
    char sid[32];
    snprintf(sid, sizeof sid, "%llu", (unsigned long long)id);
    json_t *resp = NULL;
    dyn_status st = etcd_call(e, NULL, "/v3/lease/revoke", json_pack("{s:s}", "ID", sid), &resp, CALL_TIMEOUT_MS, err);
    json_decref(resp);
    return st;
}
