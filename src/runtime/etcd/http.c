/* etcd v3 JSON gateway transport: libcurl POSTs with endpoint failover, user-auth token and
 * mTLS, plus the base64/int64 conventions of the gateway. */
#include "internal.h"
#include "dyn/log.h"

#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = B64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

char *etcd_unb64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *out = malloc(n / 4 * 3 + 4);
    if (!out)
        return NULL;
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            for (size_t j = i; j < n; j++)
                if (s[j] != '=') {
                    free(out);
                    return NULL;
                }
            break;
        }
        int v = b64val(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        buf = (buf << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((buf >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}

char *etcd_prefix_end_b64(const char *prefix)
{
    size_t n = strlen(prefix);
    unsigned char *end = malloc(n + 1);
    if (!end)
        return NULL;
    memcpy(end, prefix, n);
    /* Increment the last byte that is not 0xff; drop the 0xff tail. Empty -> "\0" (all keys). */
    while (n > 0 && end[n - 1] == 0xff)
        n--;
    char *r;
    if (n == 0) {
        r = etcd_b64("\0", 1);
    } else {
        end[n - 1]++;
        r = etcd_b64(end, n);
    }
    free(end);
    return r;
}

int64_t etcd_json_i64(json_t *obj, const char *field, int64_t def)
{
    json_t *v = obj ? json_object_get(obj, field) : NULL;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v)) {
        char *end;
        long long n = strtoll(json_string_value(v), &end, 10);
        return *end ? def : (int64_t)n;
    }
    return def;
}

uint64_t etcd_json_u64(json_t *obj, const char *field, uint64_t def)
{
    json_t *v = obj ? json_object_get(obj, field) : NULL;
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (*s == '-')
            return def;
        unsigned long long n = strtoull(s, &end, 10);
        return *end ? def : (uint64_t)n;
    }
    return def;
}

int etcd_kv_from_json(json_t *o, dyn_etcd_kv *kv)
{
    memset(kv, 0, sizeof *kv);
    json_t *k = json_object_get(o, "key"), *v = json_object_get(o, "value");
    if (!json_is_string(k) || (v && !json_is_string(v)))
        return -1;
    kv->key = etcd_unb64(json_string_value(k), NULL);
    kv->value = v ? etcd_unb64(json_string_value(v), &kv->value_len) : strdup("");
    if (!kv->key || !kv->value) {
        dyn_etcd_kv_clear(kv);
        return -1;
    }
    kv->create_revision = etcd_json_i64(o, "create_revision", 0);
    kv->mod_revision = etcd_json_i64(o, "mod_revision", 0);
    kv->version = etcd_json_i64(o, "version", 0);
    kv->lease = etcd_json_u64(o, "lease", 0);
    return 0;
}

void dyn_etcd_kv_clear(dyn_etcd_kv *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof *kv);
}

void dyn_etcd_kvs_free(dyn_etcd_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dyn_etcd_kv_clear(&kvs[i]);
    free(kvs);
}

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    buf_t *b = ud;
    size_t add = sz * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

struct curl_slist *etcd_prepare(dyn_etcd *e, CURL *h, const char **base)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    pthread_mutex_lock(&e->state);
    if (e->token) {
        char a[1024];
        snprintf(a, sizeof a, "Authorization: %s", e->token);
        hdrs = curl_slist_append(hdrs, a);
    }
    *base = e->endpoints[e->current];
    pthread_mutex_unlock(&e->state);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (e->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, e->ca);
    if (e->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
    if (e->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
    return hdrs;
}

/* One POST on one endpoint. Returns DYN_ERR_UNAVAILABLE for transport failures (so the caller
 * tries the next endpoint), DYN_ERR_IO with the server's message for gateway errors. */
static dyn_status post_once(dyn_etcd *e, CURL *h, const char *base, const char *path, const char *body,
                            json_t **resp, long timeout_ms, dyn_error *err)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    buf_t b = {0};
    const char *ignored;
    curl_easy_reset(h);
    struct curl_slist *hdrs = etcd_prepare(e, h, &ignored);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        free(b.data);
        return dyn_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? DYN_ERR_TIMEOUT : DYN_ERR_UNAVAILABLE,
                             "etcd %s%s: %s (is etcd running? check ETCD_ENDPOINTS)", base, path, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    json_error_t jerr;
    json_t *j = b.data ? json_loadb(b.data, b.len, 0, &jerr) : NULL;
    if (status != 200) {
        const char *msg = NULL;
        if (j) {
            json_t *m = json_object_get(j, "message");
            if (!json_is_string(m))
                m = json_object_get(j, "error");
            msg = json_is_string(m) ? json_string_value(m) : NULL;
        }
        dyn_status code = status == 401 || (msg && strstr(msg, "auth")) ? DYN_ERR_AUTH : DYN_ERR_IO;
        if (status == 404)
            code = DYN_ERR_NOT_FOUND;
        dyn_error_set(err, code, "etcd %s%s: HTTP %ld: %s", base, path, status,
                      msg ? msg : (b.data ? b.data : "(empty reply)"));
        json_decref(j);
        free(b.data);
        return code;
    }
    if (!j || !json_is_object(j)) {
        dyn_error_set(err, DYN_ERR_IO, "etcd %s%s: reply is not a JSON object (%s)", base, path,
                      j ? "wrong type" : jerr.text);
        json_decref(j);
        free(b.data);
        return DYN_ERR_IO;
    }
    free(b.data);
    *resp = j;
    return DYN_OK;
}

static int have_token(dyn_etcd *e)
{
    pthread_mutex_lock(&e->state);
    int have = e->token != NULL;
    pthread_mutex_unlock(&e->state);
    return have;
}

static dyn_status authenticate(dyn_etcd *e, CURL *h, const char *base, dyn_error *err)
{
    pthread_mutex_lock(&e->state);
    free(e->token);
    e->token = NULL;
    pthread_mutex_unlock(&e->state);
    json_t *body = json_pack("{s:s,s:s}", "name", e->user, "password", e->password);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *resp = NULL;
    dyn_status st = post_once(e, h, base, "/v3/auth/authenticate", s, &resp, 5000, err);
    free(s);
    if (st != DYN_OK) {
        dyn_error_prefix(err, "etcd authentication as ETCD_AUTH_USERNAME=%s", e->user);
        return st == DYN_ERR_IO ? DYN_ERR_AUTH : st;
    }
    json_t *t = json_object_get(resp, "token");
    char *tok = json_is_string(t) ? strdup(json_string_value(t)) : NULL;
    json_decref(resp);
    pthread_mutex_lock(&e->state);
    e->token = tok;
    pthread_mutex_unlock(&e->state);
    return tok ? DYN_OK : dyn_error_set(err, DYN_ERR_AUTH, "etcd authentication: no token in reply");
}

dyn_status etcd_call(dyn_etcd *e, CURL *h, const char *path, json_t *body, json_t **resp,
                     long timeout_ms, dyn_error *err)
{
    *resp = NULL;
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    int shared = h == NULL;
    if (shared)
        pthread_mutex_lock(&e->lock);
    if (shared)
        h = e->curl;
    dyn_status st = DYN_ERR_UNAVAILABLE;
    pthread_mutex_lock(&e->state);
    int first = e->current;
    pthread_mutex_unlock(&e->state);
    for (int attempt = 0; attempt < e->nendpoints; attempt++) {
        int idx = (first + attempt) % e->nendpoints;
        const char *base = e->endpoints[idx];
        if (e->user && !have_token(e) && (st = authenticate(e, h, base, err)) != DYN_OK) {
            if (st == DYN_ERR_UNAVAILABLE)
                continue;
            break;
        }
        st = post_once(e, h, base, path, s, resp, timeout_ms, err);
        if (st == DYN_ERR_AUTH && e->user && (st = authenticate(e, h, base, err)) == DYN_OK)
            st = post_once(e, h, base, path, s, resp, timeout_ms, err);
        if (st != DYN_ERR_UNAVAILABLE) {
            pthread_mutex_lock(&e->state);
            e->current = idx;
            pthread_mutex_unlock(&e->state);
            break;
        }
    }
    if (shared)
        pthread_mutex_unlock(&e->lock);
    free(s);
    return st;
}

dyn_status dyn_etcd_connect(const dyn_rt_config *cfg, dyn_etcd **out, dyn_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    dyn_etcd *e = calloc(1, sizeof *e);
    if (!e)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->state, NULL);
    static const char *const schemes[] = {"http", "https", NULL};
    dyn_status st = dyn_url_list_parse(cfg->etcd_endpoints, "http", schemes, &e->endpoints, &e->nendpoints,
                                       "ETCD_ENDPOINTS", err);
    if (st != DYN_OK) {
        dyn_etcd_close(e);
        return st;
    }
    for (int i = 0; i < e->nendpoints; i++) {      /* no trailing slash: paths start with / */
        size_t l = strlen(e->endpoints[i]);
        while (l && e->endpoints[i][l - 1] == '/')
            e->endpoints[i][--l] = '\0';
    }
    if (cfg->etcd_user && cfg->etcd_password) {
        e->user = strdup(cfg->etcd_user);
        e->password = strdup(cfg->etcd_password);
    } else {
        /* mTLS needs all three; a CA alone still verifies an https server (more useful than
         * silently falling back to the system roots). */
        if (cfg->etcd_ca)
            e->ca = strdup(cfg->etcd_ca);
        if (cfg->etcd_cert && cfg->etcd_key) {
            e->cert = strdup(cfg->etcd_cert);
            e->key = strdup(cfg->etcd_key);
        }
    }
    e->curl = curl_easy_init();
    if (!e->curl) {
        dyn_etcd_close(e);
        return dyn_error_set(err, DYN_ERR_NOMEM, "curl_easy_init failed");
    }
    json_t *resp = NULL;
    st = etcd_call(e, NULL, "/v3/maintenance/status", json_object(), &resp, 3000, err);
    json_decref(resp);
    if (st != DYN_OK) {
        dyn_etcd_close(e);
        return st;
    }
    *out = e;
    return DYN_OK;
}

void dyn_etcd_close(dyn_etcd *e)
{
    if (!e)
        return;
    if (e->curl)
        curl_easy_cleanup(e->curl);
    dyn_strv_free(e->endpoints);
    free(e->user);
    free(e->password);
    free(e->ca);
    free(e->cert);
    free(e->key);
    free(e->token);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->state);
    free(e);
}
