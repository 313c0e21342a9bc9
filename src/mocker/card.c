/* The model record (spec §3.3): v1/mdc/{ns}/{component}/{endpoint}/{instance_hex} ->
 * {"type":"Model","namespace","component","endpoint","instance_id","card_json":{...}}, written
 * create-if-absent under the primary lease through a lease registration, so that a replaced
 * lease gets a fresh record with the new instance id, exactly like the endpoint record. */
#include "mocker/internal.h"
#include "dyn/log.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mk_card_record(const mk_card *c, uint64_t instance, size_t *len)
{
    char slug[256];
    dyn_slugify(c->model, slug, sizeof slug);
    json_t *card = json_pack("{s:s, s:s, s:[s,s,s], s:s, s:i, s:i, s:{s:s}}",
                             "display_name", c->model,
                             "slug", slug,
                             "model_type", "chat", "completions", "embeddings",
                             "model_input", "Text",
                             "context_length", c->context_length,
                             "kv_cache_block_size", 16,
                             "runtime_config", "engine", "dyn-mocker");
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}",
                            "type", "Model",
                            "namespace", dyn_runtime_namespace(c->rt),
                            "component", c->component,
                            "endpoint", c->endpoint,
                            "instance_id", (json_int_t)instance,   /* lease ids are positive int64 */
                            "card_json", card);
    char *s = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (s && len)
        *len = strlen(s);
    return s;
}

static dyn_status on_lease(dyn_etcd *e, uint64_t lease, void *ud, dyn_error *err)
{
    mk_card *c = ud;
    char key[640];
    snprintf(key, sizeof key, "v1/mdc/%s/%s/%s/%" PRIx64, dyn_runtime_namespace(c->rt), c->component, c->endpoint, lease);
    size_t len = 0;
    char *value = mk_card_record(c, lease, &len);
    if (!value)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    int created = 0;
    dyn_status st = dyn_etcd_create(e, key, value, len, lease, &created, err);
    free(value);
    if (st != DYN_OK)
        return st;
    pthread_mutex_lock(&c->mu);
    snprintf(c->key, sizeof c->key, "%s", key);
    pthread_mutex_unlock(&c->mu);
    DYN_INFO("mocker", "model %s registered at %s", c->model, key);
    return DYN_OK;
}

dyn_status mk_card_register(mk_card *c, dyn_error *err)
{
    pthread_mutex_init(&c->mu, NULL);
    c->key[0] = '\0';
    return dyn_lease_add(dyn_runtime_lease(c->rt), on_lease, c, &c->handle, err);
}

int mk_card_registered(mk_card *c)
{
    pthread_mutex_lock(&c->mu);
    int ok = c->key[0] != '\0';
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void mk_card_deregister(mk_card *c)
{
    dyn_lease_remove(dyn_runtime_lease(c->rt), c->handle);
    pthread_mutex_lock(&c->mu);
    char key[640];
    snprintf(key, sizeof key, "%s", c->key);
    c->key[0] = '\0';
    pthread_mutex_unlock(&c->mu);
    if (key[0])
        dyn_etcd_delete(dyn_runtime_etcd(c->rt), key, NULL, NULL);
    pthread_mutex_destroy(&c->mu);
}
