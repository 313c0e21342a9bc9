/* JetStream key-value bucket wrapper (spec §2.10). */
#include "dyn/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dyn_kv {
    kvStore *kv;
    char bucket[256];
};

dyn_status dyn_kv_open(dyn_nats *nc, const char *bucket, int create, dyn_kv **out, dyn_error *err)
{
    *out = NULL;
    dyn_kv *k = calloc(1, sizeof *k);
    if (!k)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    snprintf(k->bucket, sizeof k->bucket, "%s", bucket);
    natsStatus s = js_KeyValue(&k->kv, dyn_nats_js(nc), bucket);
    if (s == NATS_NOT_FOUND && create) {
        kvConfig cfg;
        kvConfig_Init(&cfg);
        cfg.Bucket = bucket;
        s = js_CreateKeyValue(&k->kv, dyn_nats_js(nc), &cfg);
    }
    if (s != NATS_OK) {
        free(k);
        return dyn_nats_error(err, s, "opening key-value bucket %s", bucket);
    }
    *out = k;
    return DYN_OK;
}

dyn_status dyn_kv_put(dyn_kv *k, const char *key, const void *data, size_t len, uint64_t *revision, dyn_error *err)
{
    uint64_t rev = 0;
    natsStatus s = kvStore_Put(&rev, k->kv, key, data, (int)len);
    if (s != NATS_OK)
        return dyn_nats_error(err, s, "kv %s: put %s", k->bucket, key);
    if (revision)
        *revision = rev;
    return DYN_OK;
}

dyn_status dyn_kv_get(dyn_kv *k, const char *key, char **data, size_t *len, uint64_t *revision, dyn_error *err)
{
    *data = NULL;
    *len = 0;
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, k->kv, key);
    if (s == NATS_NOT_FOUND)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "kv %s: key %s not found", k->bucket, key);
    if (s != NATS_OK)
        return dyn_nats_error(err, s, "kv %s: get %s", k->bucket, key);
    int n = kvEntry_ValueLen(e);
    char *d = malloc((size_t)n + 1);
    if (!d) {
        kvEntry_Destroy(e);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    memcpy(d, kvEntry_Value(e), (size_t)n);
    d[n] = '\0';
    if (revision)
        *revision = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    *data = d;
    *len = (size_t)n;
    return DYN_OK;
}

dyn_status dyn_kv_delete(dyn_kv *k, const char *key, dyn_error *err)
{
    natsStatus s = kvStore_Delete(k->kv, key);
    return s == NATS_OK ? DYN_OK : dyn_nats_error(err, s, "kv %s: delete %s", k->bucket, key);
}

void dyn_kv_close(dyn_kv *k)
{
    if (!k)
        return;
    kvStore_Destroy(k->kv);
    free(k);
}

dyn_status dyn_kv_delete_bucket(dyn_nats *nc, const char *bucket, dyn_error *err)
{
    natsStatus s = js_DeleteKeyValue(dyn_nats_js(nc), bucket);
    if (s == NATS_OK || s == NATS_NOT_FOUND)
        return DYN_OK;
    return dyn_nats_error(err, s, "deleting key-value bucket %s", bucket);
}
