/* One request's trip to a worker: route, send, read items with a per-item deadline while
 * watching the HTTP connection for a hang-up, and account for it in the metrics. */
#include "frontend/internal.h"
#include "dyn/log.h"
#include "dyn/nats.h"

#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SLICE_MS 100       /* how often a waiting call checks for a hang-up */
#define MAX_ATTEMPTS 3

double fe_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connection_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    return ci ? ci->connect_fd : -1;
}

/* 1 when the client closed its side (or the socket failed). */
static int hung_up(int fd)
{
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

int fe_call_open(fe_call *call, dyn_frontend *fe, struct MHD_Connection *c, const dyn_oai_request *req,
                 const char *body, size_t len, dyn_oai_error *e, const char **error_type)
{
    memset(call, 0, sizeof *call);
    call->fe = fe;
    call->kind = req->kind;
    call->stream = req->stream;
    call->fd = connection_fd(c);
    call->t0 = call->tlast = fe_now();
    *error_type = NULL;

    dyn_error err = {0};
    uint64_t avoid = 0;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        dyn_client *client = NULL;
        uint64_t id = 0;
        fe_route_result r = fe_models_pick(fe->models, req->model, req->kind, avoid, &client, &id, &err);
        if (r == FE_ROUTE_UNKNOWN_MODEL || (r == FE_ROUTE_WRONG_KIND && attempt == 0)) {
            *error_type = "not_found";
            if (r == FE_ROUTE_UNKNOWN_MODEL)
                return dyn_oai_fail(e, 404, "not_found_error", "model", "model_not_found",
                                    "The model '%s' does not exist", req->model);
            snprintf(call->model, sizeof call->model, "%s", req->model);
            return dyn_oai_fail(e, 404, "not_found_error", "model", "model_not_found",
                                "The model '%s' does not serve %s", req->model, dyn_oai_kind_name(req->kind));
        }
        /* From here the model exists: it gets its own label in the metrics. */
        if (!call->model[0]) {
            snprintf(call->model, sizeof call->model, "%s", req->model);
            fe_metrics_gauges(fe->metrics, call->model, 1, 1);
            call->queued = call->counted = 1;
        }
        if (r != FE_ROUTE_OK) {
            *error_type = r == FE_ROUTE_ERROR ? "internal" : "overload";
            return dyn_oai_fail(e, r == FE_ROUTE_ERROR ? 500 : 503, r == FE_ROUTE_ERROR ? "internal_error" : "service_unavailable",
                                NULL, r == FE_ROUTE_ERROR ? "internal_error" : "no_workers",
                                r == FE_ROUTE_ERROR ? "routing failed: %s" : "No worker of model '%s' is available",
                                r == FE_ROUTE_ERROR ? err.message : req->model);
        }
        if (!dyn_nats_connected(dyn_runtime_nats(fe->rt))) {
            *error_type = "internal";
            return dyn_oai_fail(e, 503, "service_unavailable", NULL, "nats_unavailable",
                                "The request plane (NATS) is not connected; retry later");
        }
        dyn_status st = dyn_client_generate(client, body, len, DYN_ROUTE_DIRECT, id, &call->s, &err);
        if (st == DYN_OK)
            return 0;
        if (st == DYN_ERR_TOO_LARGE) {
            *error_type = "validation";
            return dyn_oai_fail(e, 413, "invalid_request_error", NULL, "request_too_large", "%s", err.message);
        }
        DYN_DEBUG("frontend", "model %s instance %llx: %s", req->model, (unsigned long long)id, err.message);
        if (st != DYN_ERR_UNAVAILABLE && st != DYN_ERR_NOT_FOUND)
            break;
        avoid = id;              /* nobody answered there: try another instance */
    }
    *error_type = "overload";
    return dyn_oai_fail(e, 503, "service_unavailable", NULL, "worker_unavailable", "No worker of model '%s' answered: %s",
                        req->model, err.message);
}

/* A worker's error before its first item: "overloaded: ..." and "invalid: ..." are part of the
 * worker contract (503 and 400); anything else is the worker's failure (500). */
static void map_worker_error(const char *msg, dyn_oai_error *e, const char **error_type)
{
    const char *w = strstr(msg, "instance ");
    w = w ? strstr(w, ": ") : NULL;
    w = w ? w + 2 : msg;
    if (strncmp(w, "overloaded", 10) == 0) {
        *error_type = "overload";
        dyn_oai_fail(e, 503, "service_unavailable", NULL, "overloaded", "%s", w);
    } else if (strncmp(w, "invalid", 7) == 0) {
        *error_type = "validation";
        dyn_oai_fail(e, 400, "invalid_request_error", NULL, NULL, "%s", w);
    } else {
        *error_type = "internal";
        dyn_oai_fail(e, 500, "internal_error", NULL, "worker_error", "%s", w);
    }
}

fe_next fe_call_next(fe_call *call, const char **item, size_t *len, dyn_oai_error *e, const char **error_type)
{
    dyn_frontend *fe = call->fe;
    double deadline = fe_now() + fe->cfg.request_timeout_ms / 1000.0;
    for (;;) {
        dyn_error err = {0};
        dyn_status st = dyn_stream_next(call->s, item, len, SLICE_MS, &err);
        if (st == DYN_OK) {
            if (!*item)
                return FE_NEXT_END;
            double now = fe_now();
            if (call->items == 0) {
                fe_metrics_observe(fe->metrics, FE_H_TTFT, call->model, now - call->t0);
                fe_metrics_gauges(fe->metrics, call->model, 0, -1);
                call->queued = 0;
            } else {
                fe_metrics_observe(fe->metrics, FE_H_ITL, call->model, now - call->tlast);
            }
            call->tlast = now;
            call->items++;
            return FE_NEXT_ITEM;
        }
        if (st != DYN_ERR_TIMEOUT) {
            if (st == DYN_ERR_INTERNAL) {
                map_worker_error(err.message, e, error_type);
            } else {
                *error_type = "internal";
                dyn_oai_fail(e, 502, "internal_error", NULL, "worker_failed", "%s", err.message);
            }
            return FE_NEXT_ERROR;
        }
        if (hung_up(call->fd)) {
            *error_type = "cancelled";
            return FE_NEXT_GONE;
        }
        if (__atomic_load_n(&fe->stopping, __ATOMIC_RELAXED)) {
            *error_type = "cancelled";
            dyn_oai_fail(e, 503, "service_unavailable", NULL, "shutting_down", "the frontend is shutting down");
            return FE_NEXT_ERROR;
        }
        if (fe_now() >= deadline) {
            *error_type = "internal";
            dyn_oai_fail(e, 504, "timeout_error", NULL, "worker_timeout", "no response from the worker within %d ms",
                         fe->cfg.request_timeout_ms);
            return FE_NEXT_ERROR;
        }
    }
}

void fe_call_close(fe_call *call, const char *error_type)
{
    dyn_frontend *fe = call->fe;
    if (!fe)
        return;
    if (call->s) {
        if (error_type)
            dyn_stream_kill(call->s);     /* stop the worker's generation at once */
        dyn_stream_free(call->s);
        call->s = NULL;
    }
    if (error_type && strcmp(error_type, "cancelled") == 0)
        fe_metrics_disconnect(fe->metrics);
    fe_metrics_request(fe->metrics, call->model, call->kind, call->stream, error_type);
    if (call->counted) {
        fe_metrics_gauges(fe->metrics, call->model, -1, call->queued ? -1 : 0);
        fe_metrics_observe(fe->metrics, FE_H_DURATION, call->model, fe_now() - call->t0);
        if (call->kind != DYN_OAI_EMBEDDING) {
            fe_metrics_observe(fe->metrics, FE_H_OUTPUT_TOKENS, call->model, (double)call->items);
            fe_metrics_tokens(fe->metrics, call->model, (double)call->items);
        }
    }
    call->fe = NULL;
}
