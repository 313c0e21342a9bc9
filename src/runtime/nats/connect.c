/* NATS connection: options from the config, auth by priority, TLS, reconnect policy,
 * JetStream check. See include/dyn/nats.h. */
#include "dyn/nats.h"
#include "dyn/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dyn_nats {
    natsConnection *nc;
    jsCtx *js;
    natsOptions *opts;
    dyn_nats_auth auth;
    char *seed;   /* NKey seed, kept for the signature callback */
};

dyn_status dyn_nats_error(dyn_error *err, natsStatus s, const char *fmt, ...)
{
    char ctx[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    dyn_status code;
    switch (s) {
    case NATS_TIMEOUT: code = DYN_ERR_TIMEOUT; break;
    case NATS_NO_RESPONDERS: code = DYN_ERR_UNAVAILABLE; break;
    case NATS_NO_SERVER: case NATS_CONNECTION_CLOSED: case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION: case NATS_IO_ERROR: code = DYN_ERR_UNAVAILABLE; break;
    case NATS_MAX_PAYLOAD: code = DYN_ERR_TOO_LARGE; break;
    case NATS_CONNECTION_AUTH_FAILED: case NATS_NOT_PERMITTED: code = DYN_ERR_AUTH; break;
    case NATS_NO_MEMORY: code = DYN_ERR_NOMEM; break;
    case NATS_NOT_FOUND: code = DYN_ERR_NOT_FOUND; break;
    case NATS_INVALID_ARG: case NATS_INVALID_SUBJECT: code = DYN_ERR_INVALID; break;
    default: code = DYN_ERR_IO; break;
    }
    const char *last = nats_GetLastError(NULL);
    return dyn_error_set(err, code, "%s: %s%s%s", ctx, natsStatus_GetText(s),
                         last && *last ? " (" : "", last && *last ? last : "");
}

/* Exponential backoff from 100 ms to 2 s with up to 50% random jitter, so a fleet of
 * components does not reconnect in lockstep after a server restart. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
    (void)nc;
    (void)closure;
    int64_t base = 100;
    for (int i = 1; i < attempts && base < 2000; i++)
        base *= 2;
    if (base > 2000)
        base = 2000;
    return base + (int64_t)(random() % (base / 2 + 1));
}

static natsStatus sign_nonce(char **custom_err, unsigned char **sig, int *siglen, const char *nonce, void *closure)
{
    (void)custom_err;
    return nats_Sign((const char *)closure, nonce, sig, siglen);
}

/* Runs on nats.c's callback thread, possibly after dyn_nats_close freed our struct (the
 * close itself posts this callback), so it looks only at nc, which nats.c keeps alive for it. */
static void on_disconnected(natsConnection *nc, void *c)
{
    (void)c;
    if (!natsConnection_IsClosed(nc))
        DYN_WARN("nats", "disconnected; reconnecting");
}

static void on_reconnected(natsConnection *nc, void *c) { (void)nc; (void)c; DYN_INFO("nats", "reconnected"); }
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *c)
{
    (void)nc; (void)sub; (void)c;
    DYN_WARN("nats", "asynchronous error: %s", natsStatus_GetText(s));
}

static dyn_status set_auth(dyn_nats *n, const dyn_rt_config *cfg, dyn_error *err)
{
    natsStatus s = NATS_OK;
    n->auth = dyn_rt_config_nats_auth(cfg);
    switch (n->auth) {
    case DYN_NATS_AUTH_USER_PASSWORD:
        s = natsOptions_SetUserInfo(n->opts, cfg->nats_user, cfg->nats_password);
        break;
    case DYN_NATS_AUTH_TOKEN:
        s = natsOptions_SetToken(n->opts, cfg->nats_token);
        break;
    case DYN_NATS_AUTH_NKEY: {
        char pub[57];
        if (dyn_nkey_public_from_seed(cfg->nats_nkey_seed, pub, err) != DYN_OK)
            return err ? err->code : DYN_ERR_INVALID;
        n->seed = strdup(cfg->nats_nkey_seed);
        if (!n->seed)
            return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
        s = natsOptions_SetNKey(n->opts, pub, sign_nonce, n->seed);
        break;
    }
    case DYN_NATS_AUTH_CREDS_FILE:
        if (access(cfg->nats_creds_file, R_OK) != 0)
            return dyn_error_set(err, DYN_ERR_AUTH, "NATS_AUTH_CREDENTIALS_FILE=%s: cannot read the credentials file", cfg->nats_creds_file);
        s = natsOptions_SetUserCredentialsFromFiles(n->opts, cfg->nats_creds_file, NULL);
        break;
    case DYN_NATS_AUTH_NONE:
        break;
    }
    if (s != NATS_OK)
        return dyn_nats_error(err, s, "setting NATS credentials from %s", dyn_nats_auth_source(n->auth));
    return DYN_OK;
}

static dyn_status set_tls(dyn_nats *n, const dyn_rt_config *cfg, char **urls, dyn_error *err)
{
    int secure = cfg->nats_tls_ca || cfg->nats_tls_cert;
    for (char **u = urls; *u; u++) {
        if (strncmp(*u, "tls://", 6) == 0) {
            secure = 1;
            /* nats.c understands nats:// only; TLS is switched on below. */
            size_t len = strlen(*u) + 2;
            char *v = malloc(len);
            if (!v)
                return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
            snprintf(v, len, "nats%s", *u + 3);
            free(*u);
            *u = v;
        }
    }
    if (!secure)
        return DYN_OK;
    natsStatus s = natsOptions_SetSecure(n->opts, true);
    if (s == NATS_OK && cfg->nats_tls_ca)
        s = natsOptions_LoadCATrustedCertificates(n->opts, cfg->nats_tls_ca);
    if (s != NATS_OK)
        return dyn_nats_error(err, s, "NATS_TLS_CA=%s", cfg->nats_tls_ca ? cfg->nats_tls_ca : "(system roots)");
    if (cfg->nats_tls_cert || cfg->nats_tls_key) {
        if (!cfg->nats_tls_cert || !cfg->nats_tls_key)
            return dyn_error_set(err, DYN_ERR_INVALID, "NATS_TLS_CERT and NATS_TLS_KEY must be set together");
        s = natsOptions_LoadCertificatesChain(n->opts, cfg->nats_tls_cert, cfg->nats_tls_key);
        if (s != NATS_OK)
            return dyn_nats_error(err, s, "NATS_TLS_CERT=%s / NATS_TLS_KEY=%s", cfg->nats_tls_cert, cfg->nats_tls_key);
    }
    return DYN_OK;
}

dyn_status dyn_nats_connect(const dyn_rt_config *cfg, dyn_nats **out, dyn_error *err)
{
    *out = NULL;
    static const char *const schemes[] = {"nats", "tls", NULL};
    char **urls = NULL;
    int nurls = 0;
    dyn_status st = dyn_url_list_parse(cfg->nats_server, "nats", schemes, &urls, &nurls, "NATS_SERVER", err);
    if (st != DYN_OK)
        return st;
    dyn_nats *n = calloc(1, sizeof *n);
    if (!n) {
        dyn_strv_free(urls);
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    }
    natsStatus s = natsOptions_Create(&n->opts);
    if (s != NATS_OK) {
        st = dyn_nats_error(err, s, "creating NATS options");
        goto fail;
    }
    if ((st = set_tls(n, cfg, urls, err)) != DYN_OK || (st = set_auth(n, cfg, err)) != DYN_OK)
        goto fail;
    s = natsOptions_SetServers(n->opts, (const char **)urls, nurls);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n->opts, -1);
    if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(n->opts, reconnect_delay, NULL);
    if (s == NATS_OK) s = natsOptions_SetTimeout(n->opts, 5000);
    if (s == NATS_OK) s = natsOptions_SetPingInterval(n->opts, 60000);
    if (s == NATS_OK) s = natsOptions_SetMaxPendingMsgs(n->opts, 65536);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(n->opts, 64 * 1024 * 1024);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(n->opts, false, NULL, NULL);
    /* Request/reply latency: write each message at once instead of waiting for the flusher. */
    if (s == NATS_OK) s = natsOptions_SetSendAsap(n->opts, true);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(n->opts, on_disconnected, NULL);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(n->opts, on_reconnected, NULL);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(n->opts, on_async_error, NULL);
    if (s != NATS_OK) {
        st = dyn_nats_error(err, s, "setting NATS options");
        goto fail;
    }
    nats_Open(-1);   /* no-op when natsOptions_Create already opened the library */
    s = natsConnection_Connect(&n->nc, n->opts);
    if (s != NATS_OK) {
        const char *last = nats_GetLastError(NULL);
        int auth_fail = s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED ||
                        (last && (strstr(last, "Authorization") || strstr(last, "authorization") ||
                                  strstr(last, "Authentication")));
        if (auth_fail) {
            st = dyn_error_set(err, DYN_ERR_AUTH, "NATS server %s rejected the connection using %s: %s",
                               cfg->nats_server, dyn_nats_auth_source(n->auth),
                               last && *last ? last : natsStatus_GetText(s));
        } else if (s == NATS_SSL_ERROR) {
            st = dyn_error_set(err, DYN_ERR_IO, "TLS handshake with NATS server %s failed: %s (check NATS_TLS_CA/NATS_TLS_CERT/NATS_TLS_KEY)",
                               cfg->nats_server, last && *last ? last : natsStatus_GetText(s));
        } else {
            st = dyn_nats_error(err, s, "connecting to NATS at %s (is nats-server running?)", cfg->nats_server);
            if (st == DYN_ERR_IO) {
                st = DYN_ERR_UNAVAILABLE;
                if (err)
                    err->code = st;
            }
        }
        goto fail;
    }
    s = natsConnection_JetStream(&n->js, n->nc, NULL);
    if (s == NATS_OK) {
        jsAccountInfo *ai = NULL;
        jsErrCode jerr = 0;
        s = js_GetAccountInfo(&ai, n->js, NULL, &jerr);
        jsAccountInfo_Destroy(ai);
    }
    if (s != NATS_OK) {
        st = dyn_nats_error(err, s, "JetStream not available on %s (start nats-server with -js)", cfg->nats_server);
        if (err)
            err->code = DYN_ERR_UNAVAILABLE;
        st = DYN_ERR_UNAVAILABLE;
        goto fail;
    }
    dyn_strv_free(urls);
    DYN_INFO("nats", "connected to %s (%s), max_payload %lld", cfg->nats_server,
             dyn_nats_auth_source(n->auth), (long long)natsConnection_GetMaxPayload(n->nc));
    *out = n;
    return DYN_OK;
fail:
    dyn_strv_free(urls);
    dyn_nats_close(n);
    return st;
}

void dyn_nats_close(dyn_nats *n)
{
    if (!n)
        return;
    if (n->js)
        jsCtx_Destroy(n->js);
    if (n->nc) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    natsOptions_Destroy(n->opts);
    if (n->seed) {
        memset(n->seed, 0, strlen(n->seed));
        free(n->seed);
    }
    free(n);
}

natsConnection *dyn_nats_conn(dyn_nats *n) { return n->nc; }
jsCtx *dyn_nats_js(dyn_nats *n) { return n->js; }
int64_t dyn_nats_max_payload(dyn_nats *n) { return natsConnection_GetMaxPayload(n->nc); }
dyn_nats_auth dyn_nats_auth_used(dyn_nats *n) { return n->auth; }
int dyn_nats_connected(dyn_nats *n) { return natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED; }
