/* Runtime configuration from the environment: see include/dyn/config.h. */
#include "dyn/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *env_dup(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? strdup(v) : NULL;
}

static int env_int(const char *name, int def, int lo, int hi, int *out, dyn_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        dyn_error_set(err, DYN_ERR_INVALID, "%s=%s: expected an integer in %d..%d", name, v, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

void dyn_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

dyn_status dyn_url_list_parse(const char *list, const char *default_scheme,
                              const char *const *allowed, char ***out, int *count,
                              const char *what, dyn_error *err)
{
    *out = NULL;
    *count = 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += (*p == ',');
    char **v = calloc(cap + 1, sizeof *v);
    if (!v)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    int n = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t')) { s++; len--; }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
        if (len) {
            const char *sep = memmem(s, len, "://", 3);
            char *url;
            if (!sep) {
                size_t ul = strlen(default_scheme) + 3 + len + 1;
                url = malloc(ul);
                if (url)
                    snprintf(url, ul, "%s://%.*s", default_scheme, (int)len, s);
            } else {
                size_t sl = (size_t)(sep - s);
                int ok = 0;
                for (const char *const *a = allowed; *a; a++)
                    ok |= (strlen(*a) == sl && strncmp(*a, s, sl) == 0);
                if (!ok) {
                    dyn_strv_free(v);
                    return dyn_error_set(err, DYN_ERR_INVALID, "%s: \"%.*s\" has scheme \"%.*s\"; expected %s://%s%s",
                                         what, (int)len, s, (int)sl, s, allowed[0],
                                         allowed[1] ? " or " : "", allowed[1] ? allowed[1] : "");
                }
                url = strndup(s, len);
            }
            if (!url) {
                dyn_strv_free(v);
                return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
            }
            v[n++] = url;
        }
        if (!e)
            break;
        s = e + 1;
    }
    if (n == 0) {
        dyn_strv_free(v);
        return dyn_error_set(err, DYN_ERR_INVALID, "%s: empty server list", what);
    }
    *out = v;
    *count = n;
    return DYN_OK;
}

dyn_status dyn_rt_config_from_env(dyn_rt_config *cfg, dyn_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nats_server = env_dup("NATS_SERVER");
    if (!cfg->nats_server)
        cfg->nats_server = strdup("nats://localhost:4222");
    cfg->nats_user = env_dup("NATS_AUTH_USERNAME");
    cfg->nats_password = env_dup("NATS_AUTH_PASSWORD");
    cfg->nats_token = env_dup("NATS_AUTH_TOKEN");
    cfg->nats_nkey_seed = env_dup("NATS_AUTH_NKEY");
    cfg->nats_creds_file = env_dup("NATS_AUTH_CREDENTIALS_FILE");
    cfg->nats_tls_ca = env_dup("NATS_TLS_CA");
    cfg->nats_tls_cert = env_dup("NATS_TLS_CERT");
    cfg->nats_tls_key = env_dup("NATS_TLS_KEY");
    cfg->etcd_endpoints = env_dup("ETCD_ENDPOINTS");
    if (!cfg->etcd_endpoints)
        cfg->etcd_endpoints = strdup("http://localhost:2379");
    cfg->etcd_user = env_dup("ETCD_AUTH_USERNAME");
    cfg->etcd_password = env_dup("ETCD_AUTH_PASSWORD");
    cfg->etcd_ca = env_dup("ETCD_AUTH_CA");
    cfg->etcd_cert = env_dup("ETCD_AUTH_CLIENT_CERT");
    cfg->etcd_key = env_dup("ETCD_AUTH_CLIENT_KEY");
    cfg->ns = env_dup("DYN_NAMESPACE");
    if (!cfg->ns)
        cfg->ns = strdup("dynamo");
    cfg->callhome_host = env_dup("DYN_CALLHOME_HOST");
    if (!cfg->nats_server || !cfg->etcd_endpoints || !cfg->ns) {
        dyn_rt_config_free(cfg);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    if (env_int("DYN_LEASE_TTL", 10, 2, 3600, &cfg->lease_ttl_s, err) ||
        env_int("DYN_REQUEST_TIMEOUT_MS", 10000, 1, 3600000, &cfg->request_timeout_ms, err)) {
        dyn_rt_config_free(cfg);
        return err ? err->code : DYN_ERR_INVALID;
    }
    /* Validate the lists now so a typo is reported at start, naming the variable. */
    static const char *const nats_schemes[] = {"nats", "tls", NULL};
    static const char *const http_schemes[] = {"http", "https", NULL};
    char **v;
    int n;
    if (dyn_url_list_parse(cfg->nats_server, "nats", nats_schemes, &v, &n, "NATS_SERVER", err) != DYN_OK) {
        dyn_rt_config_free(cfg);
        return err ? err->code : DYN_ERR_INVALID;
    }
    dyn_strv_free(v);
    if (dyn_url_list_parse(cfg->etcd_endpoints, "http", http_schemes, &v, &n, "ETCD_ENDPOINTS", err) != DYN_OK) {
        dyn_rt_config_free(cfg);
        return err ? err->code : DYN_ERR_INVALID;
    }
    dyn_strv_free(v);
    return DYN_OK;
}

void dyn_rt_config_free(dyn_rt_config *cfg)
{
    char **fields[] = {&cfg->nats_server, &cfg->nats_user, &cfg->nats_password, &cfg->nats_token,
                       &cfg->nats_nkey_seed, &cfg->nats_creds_file, &cfg->nats_tls_ca, &cfg->nats_tls_cert,
                       &cfg->nats_tls_key, &cfg->etcd_endpoints, &cfg->etcd_user, &cfg->etcd_password,
                       &cfg->etcd_ca, &cfg->etcd_cert, &cfg->etcd_key, &cfg->ns, &cfg->callhome_host};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

dyn_status dyn_rt_config_copy(dyn_rt_config *dst, const dyn_rt_config *src, dyn_error *err)
{
    *dst = *src;
    char **fields[] = {&dst->nats_server, &dst->nats_user, &dst->nats_password, &dst->nats_token,
                       &dst->nats_nkey_seed, &dst->nats_creds_file, &dst->nats_tls_ca, &dst->nats_tls_cert,
                       &dst->nats_tls_key, &dst->etcd_endpoints, &dst->etcd_user, &dst->etcd_password,
                       &dst->etcd_ca, &dst->etcd_cert, &dst->etcd_key, &dst->ns, &dst->callhome_host};
    int failed = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (*fields[i]) {
            *fields[i] = strdup(*fields[i]);
            failed |= !*fields[i];
        }
    }
    if (failed) {
        dyn_rt_config_free(dst);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    return DYN_OK;
}

dyn_nats_auth dyn_rt_config_nats_auth(const dyn_rt_config *cfg)
{
    if (cfg->nats_user && cfg->nats_password)
        return DYN_NATS_AUTH_USER_PASSWORD;
    if (cfg->nats_token)
        return DYN_NATS_AUTH_TOKEN;
    if (cfg->nats_nkey_seed)
        return DYN_NATS_AUTH_NKEY;
    if (cfg->nats_creds_file)
        return DYN_NATS_AUTH_CREDS_FILE;
    return DYN_NATS_AUTH_NONE;
}

const char *dyn_nats_auth_source(dyn_nats_auth auth)
{
    switch (auth) {
    case DYN_NATS_AUTH_USER_PASSWORD: return "NATS_AUTH_USERNAME/NATS_AUTH_PASSWORD";
    case DYN_NATS_AUTH_TOKEN: return "NATS_AUTH_TOKEN";
    case DYN_NATS_AUTH_NKEY: return "NATS_AUTH_NKEY";
    case DYN_NATS_AUTH_CREDS_FILE: return "NATS_AUTH_CREDENTIALS_FILE";
    case DYN_NATS_AUTH_NONE: break;
    }
    return "no credentials (no NATS_AUTH_* variable set)";
}
