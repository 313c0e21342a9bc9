/* Frontend internals shared by its files (not public). */
#ifndef DYN_FRONTEND_INTERNAL_H
#define DYN_FRONTEND_INTERNAL_H

#include <stdint.h>

#include "dyn/discovery.h"

#include "frontend/frontend.h"
#include "frontend/openai.h"

/* ---- models.c: the model records of the namespace and routing to their instances ---- */
typedef struct fe_models fe_models;
dyn_status fe_models_start(dyn_runtime *rt, const char *ns, fe_models **out, dyn_error *err);
void fe_models_stop(fe_models *m);
/* The /v1/models body; caller frees. */
char *fe_models_list_json(fe_models *m, size_t *len);
/* Number of distinct models (a gauge). */
size_t fe_models_count(fe_models *m);

typedef enum { FE_ROUTE_OK = 0, FE_ROUTE_UNKNOWN_MODEL, FE_ROUTE_WRONG_KIND, FE_ROUTE_NO_WORKER, FE_ROUTE_ERROR } fe_route_result;
/* Picks a live instance of model that serves kind (round robin), skipping `avoid` (0 = none).
 * On FE_ROUTE_OK *client (owned by m) and *instance are set. */
fe_route_result fe_models_pick(fe_models *m, const char *model, dyn_oai_kind kind, uint64_t avoid,
                               dyn_client **client, uint64_t *instance, dyn_error *err);

/* ---- metrics.c: dynamo_frontend_* ---- */
typedef struct fe_metrics fe_metrics;
typedef enum { FE_H_TTFT = 0, FE_H_ITL, FE_H_DURATION, FE_H_OUTPUT_TOKENS, FE_H_COUNT } fe_hist;
fe_metrics *fe_metrics_new(void);
void fe_metrics_free(fe_metrics *m);
void fe_metrics_request(fe_metrics *m, const char *model, dyn_oai_kind kind, int stream, const char *error_type);
void fe_metrics_gauges(fe_metrics *m, const char *model, int inflight_delta, int queued_delta);
void fe_metrics_observe(fe_metrics *m, fe_hist h, const char *model, double v);
void fe_metrics_tokens(fe_metrics *m, const char *model, double n);
void fe_metrics_disconnect(fe_metrics *m);
/* Prometheus text (dynamo_frontend_* then the libdyn registry); caller frees. */
char *fe_metrics_render(fe_metrics *m, size_t *len);

/* ---- the frontend (frontend.c) ---- */
struct MHD_Daemon;
struct MHD_Connection;
struct dyn_frontend {
    dyn_runtime *rt;
    dyn_frontend_config cfg;
    char ns[DYN_NAME_MAX];
    fe_models *models;
    fe_metrics *metrics;
    struct MHD_Daemon *d;
    int port;
    int stopping;                /* atomic: running calls give up at once */
};

/* ---- server.c: libmicrohttpd plumbing ---- */
dyn_status fe_server_start(dyn_frontend *fe, dyn_error *err);
void fe_server_stop(dyn_frontend *fe);
/* Queue a response (body is taken over, freed by libmicrohttpd). */
int fe_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len);
int fe_reply_error(struct MHD_Connection *c, const dyn_oai_error *e);

/* ---- routes.c ---- */
int fe_route_get(dyn_frontend *fe, struct MHD_Connection *c, const char *url);
int fe_route_generate(dyn_frontend *fe, struct MHD_Connection *c, dyn_oai_kind kind, const char *body, size_t len);

/* ---- call.c: one request's response stream with timing, metrics and disconnect checks ---- */
typedef struct fe_call {
    dyn_frontend *fe;
    dyn_oai_kind kind;
    int stream;
    char model[256];
    dyn_stream *s;
    int fd;                      /* the HTTP connection, polled for a hang-up; -1 = unknown */
    double t0, tlast;
    size_t items;
    int counted;                 /* counted in inflight_requests */
    int queued;                  /* still counted in queued_requests */
} fe_call;

typedef enum { FE_NEXT_ITEM = 1, FE_NEXT_END = 0, FE_NEXT_ERROR = -1, FE_NEXT_GONE = -2 } fe_next;
/* Opens the call: metrics gauges up, routes and sends the request (retrying other instances
 * of the model when one does not respond). 0 ok; -1 with e filled (404/503/413/...). */
int fe_call_open(fe_call *call, dyn_frontend *fe, struct MHD_Connection *c, const dyn_oai_request *req,
                 const char *body, size_t len, dyn_oai_error *e, const char **error_type);
/* The next item (valid until the next call). */
fe_next fe_call_next(fe_call *call, const char **item, size_t *len, dyn_oai_error *e, const char **error_type);
/* Ends the call: metrics, and frees the stream (which stops the worker if it had not ended). */
void fe_call_close(fe_call *call, const char *error_type);
double fe_now(void);

/* ---- sse.c ---- */
/* Sends 200 text/event-stream: first item (already read), then the rest as they come, then
 * [DONE]. Takes over call (closes it when the response is done or the client goes away). */
int fe_sse_respond(struct MHD_Connection *c, fe_call *call, const char *first, size_t first_len);

#endif
