/* System-port server: /health, /live, /metrics. */
#include "http/system.h"
#include "dyn/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dyn_http_system {
    struct MHD_Daemon *d;
    dyn_http_health_fn health;
    dyn_http_metrics_fn metrics;
    void *ud;
    int port;
};

void dyn_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    DYN_DEBUG("http", "%s", msg);
}

int dyn_http_sockaddr(const char *host, int port, struct sockaddr_in *out)
{
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (!host || !*host) {
        out->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

int dyn_http_system_port_from_env(int fallback)
{
    const char *v = getenv("DYN_SYSTEM_PORT");
    if (!v || !*v)
        return fallback;
    char *end;
    long p = strtol(v, &end, 10);
    return *end || p < 0 || p > 65535 ? -1 : (int)p;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    dyn_http_system *s = cls;
    if (!*con_cls) {          /* first call: headers only */
        *con_cls = s;
        return MHD_YES;
    }
    if (*upload_size) {       /* nothing here takes a body: discard it */
        *upload_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strcmp(url, "/health") == 0) {
        int ok = s->health ? s->health(s->ud) : 1;
        char *b = strdup(ok ? "{\"status\":\"ready\"}\n" : "{\"status\":\"notready\"}\n");
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", b, b ? strlen(b) : 0);
    }
    if (get && strcmp(url, "/live") == 0) {
        char *b = strdup("{\"status\":\"live\"}\n");
        return reply(c, MHD_HTTP_OK, "application/json", b, b ? strlen(b) : 0);
    }
    if (get && strcmp(url, "/metrics") == 0 && s->metrics) {
        size_t len = 0;
        char *b = s->metrics(s->ud, &len);
        if (!b)
            return MHD_NO;
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b, len);
    }
    char *b = strdup("not found\n");
    return reply(c, get ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", b, b ? strlen(b) : 0);
}

dyn_status dyn_http_system_start(const char *host, int port, dyn_http_health_fn health, dyn_http_metrics_fn metrics,
                                 void *ud, dyn_http_system **out, dyn_error *err)
{
    *out = NULL;
    struct sockaddr_in sa;
    if (dyn_http_sockaddr(host, port, &sa) != 0)
        return dyn_error_set(err, DYN_ERR_INVALID, "system port: \"%s\" is not an IPv4 address", host);
    dyn_http_system *s = calloc(1, sizeof *s);
    if (!s)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    s->health = health;
    s->metrics = metrics;
    s->ud = ud;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, (uint16_t)port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_EXTERNAL_LOGGER, dyn_http_mhd_log, NULL, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return dyn_error_set(err, DYN_ERR_IO, "system port %d: cannot listen (in use?)", port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    *out = s;
    return DYN_OK;
}

int dyn_http_system_port(dyn_http_system *s) { return s->port; }

void dyn_http_system_stop(dyn_http_system *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
