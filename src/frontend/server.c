/* libmicrohttpd plumbing: one thread per connection (a generation may take minutes, and each
 * waits on its own thread, never on a shared event loop), request bodies gathered up to the
 * configured limit (413 above it), then handed to the routes. */
#include "frontend/internal.h"
#include "http/system.h"
#include "dyn/log.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

typedef enum { R_NONE = 0, R_GET, R_CHAT, R_COMPLETION, R_EMBEDDING } route;

typedef struct conn_ctx {
    route route;
    dyn_buf body;
    int too_large;
} conn_ctx;

int fe_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    int ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

int fe_reply_error(struct MHD_Connection *c, const dyn_oai_error *e)
{
    size_t len = 0;
    char *b = dyn_oai_error_json(e, &len);
    return fe_reply(c, (unsigned)e->status, "application/json", b, len);
}

static route find_route(const char *url, const char *method, int *wrong_method)
{
    static const struct {
        const char *url;
        int post;
        route r;
    } T[] = {
        {"/health", 0, R_GET}, {"/live", 0, R_GET}, {"/metrics", 0, R_GET}, {"/v1/models", 0, R_GET},
        {"/v1/chat/completions", 1, R_CHAT}, {"/v1/completions", 1, R_COMPLETION}, {"/v1/embeddings", 1, R_EMBEDDING},
    };
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    *wrong_method = 0;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(url, T[i].url) == 0) {
            if ((T[i].post && post) || (!T[i].post && get))
                return T[i].r;
            *wrong_method = 1;
            return R_NONE;
        }
    return R_NONE;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    dyn_frontend *fe = cls;
    conn_ctx *x = *con_cls;
    if (!x) {
        int wrong = 0;
        route r = find_route(url, method, &wrong);
        if (r == R_NONE) {
            dyn_oai_error e;
            if (wrong)
                dyn_oai_fail(&e, 405, "invalid_request_error", NULL, "method_not_allowed", "%s is not allowed on %s",
                             method, url);
            else
                dyn_oai_fail(&e, 404, "not_found_error", NULL, "not_found", "no route for %s %s", method, url);
            return (enum MHD_Result)fe_reply_error(c, &e);
        }
        if (!(x = calloc(1, sizeof *x)))
            return MHD_NO;
        x->route = r;
        *con_cls = x;
        /* A declared length over the limit is refused before reading the body. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > fe->cfg.max_body)
            x->too_large = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!x->too_large && x->body.len + *upload_size > fe->cfg.max_body)
            x->too_large = 1;
        if (!x->too_large)
            dyn_buf_append(&x->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (x->too_large) {
        dyn_oai_error e;
        dyn_oai_fail(&e, 413, "invalid_request_error", NULL, "request_too_large",
                     "the request body is larger than the limit of %zu bytes (--max-body-bytes)", fe->cfg.max_body);
        return (enum MHD_Result)fe_reply_error(c, &e);
    }
    if (!dyn_buf_ok(&x->body))
        return MHD_NO;
    switch (x->route) {
    case R_GET: return (enum MHD_Result)fe_route_get(fe, c, url);
    case R_CHAT: return (enum MHD_Result)fe_route_generate(fe, c, DYN_OAI_CHAT, x->body.data ? x->body.data : "", x->body.len);
    case R_COMPLETION: return (enum MHD_Result)fe_route_generate(fe, c, DYN_OAI_COMPLETION, x->body.data ? x->body.data : "", x->body.len);
    case R_EMBEDDING: return (enum MHD_Result)fe_route_generate(fe, c, DYN_OAI_EMBEDDING, x->body.data ? x->body.data : "", x->body.len);
    default: return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *x = *con_cls;
    if (x) {
        dyn_buf_free(&x->body);
        free(x);
        *con_cls = NULL;
    }
}

dyn_status fe_server_start(dyn_frontend *fe, dyn_error *err)
{
    struct sockaddr_in sa;
    if (dyn_http_sockaddr(fe->cfg.host, fe->cfg.port, &sa) != 0)
        return dyn_error_set(err, DYN_ERR_INVALID, "--host %s: not an IPv4 address", fe->cfg.host);
    fe->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_TURBO,
                             (uint16_t)fe->cfg.port, NULL, NULL, on_request, fe,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, fe,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)fe->cfg.max_connections,
                             MHD_OPTION_CONNECTION_TIMEOUT, 300u,
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                             MHD_OPTION_EXTERNAL_LOGGER, dyn_http_mhd_log, NULL, MHD_OPTION_END);
    if (!fe->d)
        return dyn_error_set(err, DYN_ERR_IO, "HTTP port %d: cannot listen (in use?)", fe->cfg.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(fe->d, MHD_DAEMON_INFO_BIND_PORT);
    fe->port = di ? di->port : fe->cfg.port;
    return DYN_OK;
}

void fe_server_stop(dyn_frontend *fe)
{
    if (!fe->d)
        return;
    MHD_quiesce_daemon(fe->d);
    __atomic_store_n(&fe->stopping, 1, __ATOMIC_RELAXED);
    MHD_stop_daemon(fe->d);
    fe->d = NULL;
}
