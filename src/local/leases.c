/* Lease clean-up on the embedded etcd: after the components stop, any lease still granted
 * belongs to a process that could not revoke its own (crashed, killed); revoke it so no
 * registration outlives the graph. Uses etcd's v3 JSON gateway. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/local.h"

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

static json_t *post(const char *base, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    json_t *out = NULL;
    if (curl_easy_perform(c) == CURLE_OK && b.data)
        out = json_loads(b.data, 0, NULL);
    curl_easy_cleanup(c);
    free(b.data);
    return out;
}

void dyn_local_revoke_leases(const char *etcd_url)
{
    json_t *list = post(etcd_url, "/v3/lease/leases", "{}");
    size_t i;
    json_t *lease;
    json_array_foreach(json_object_get(list, "leases"), i, lease) {
        const char *id = json_string_value(json_object_get(lease, "ID"));
        if (!id)
            continue;
        char body[96];
        snprintf(body, sizeof body, "{\"ID\":\"%s\"}", id);
        json_decref(post(etcd_url, "/v3/lease/revoke", body));
    }
    json_decref(list);
}
