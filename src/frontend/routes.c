/* What each URL does: health, metrics and the model list; the three generation routes
 * (validate, route to a worker, answer as one JSON body or as server-sent events). */
#include "frontend/internal.h"
#include "dyn/nats.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON "application/json"

static int reply_text(struct MHD_Connection *c, unsigned status, const char *type, const char *text)
{
    char *b = strdup(text);
    return fe_reply(c, status, type, b, b ? strlen(b) : 0);
}

int fe_route_get(dyn_frontend *fe, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/live") == 0)
        return reply_text(c, MHD_HTTP_OK, JSON, "{\"status\":\"live\"}\n");
    if (strcmp(url, "/health") == 0) {
        int up = dyn_nats_connected(dyn_runtime_nats(fe->rt));
        char b[160];
        snprintf(b, sizeof b, "{\"status\":\"%s\",\"nats\":\"%s\",\"models\":%zu}\n", up ? "healthy" : "unhealthy",
                 up ? "connected" : "disconnected", fe_models_count(fe->models));
        return reply_text(c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, JSON, b);
    }
    if (strcmp(url, "/metrics") == 0) {
        size_t len = 0;
        char *b = fe_metrics_render(fe->metrics, &len);
        return fe_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b, len);
    }
    /* /v1/models */
    size_t len = 0;
    char *b = fe_models_list_json(fe->models, &len);
    return fe_reply(c, MHD_HTTP_OK, JSON, b, len);
}

static int fail(dyn_frontend *fe, struct MHD_Connection *c, fe_call *call, const dyn_oai_error *e, const char *etype)
{
    fe_call_close(call, etype);
    (void)fe;
    return fe_reply_error(c, e);
}

int fe_route_generate(dyn_frontend *fe, struct MHD_Connection *c, dyn_oai_kind kind, const char *body, size_t len)
{
    dyn_oai_request req;
    dyn_oai_error e;
    if (dyn_oai_request_parse(kind, body, len, &req, &e) != 0) {
        fe_metrics_request(fe->metrics, "", kind, 0, "validation");
        return fe_reply_error(c, &e);
    }
    fe_call call;
    const char *etype = NULL;
    if (fe_call_open(&call, fe, c, &req, body, len, &e, &etype) != 0)
        return fail(fe, c, &call, &e, etype);

    /* Wait for the first item before answering, so that a worker's refusal (overloaded,
     * invalid) becomes a proper status code even for streams. */
    const char *item;
    size_t n;
    fe_next r = fe_call_next(&call, &item, &n, &e, &etype);
    if (r == FE_NEXT_GONE) {
        fe_call_close(&call, etype);
        return MHD_NO;
    }
    if (r == FE_NEXT_ERROR)
        return fail(fe, c, &call, &e, etype);
    if (r == FE_NEXT_END) {
        dyn_oai_fail(&e, 502, "internal_error", NULL, "empty_response", "the worker ended the response without any item");
        return fail(fe, c, &call, &e, "internal");
    }
    if (req.stream)
        return fe_sse_respond(c, &call, item, n);

    if (kind == DYN_OAI_EMBEDDING) {
        /* The worker sends the whole embeddings response as its one item. */
        char *out = malloc(n + 1);
        if (!out)
            return fail(fe, c, &call, &e, "internal");
        memcpy(out, item, n);
        out[n] = '\n';
        size_t olen = n + 1;
        while ((r = fe_call_next(&call, &item, &n, &e, &etype)) == FE_NEXT_ITEM)
            ;
        if (r != FE_NEXT_END) {
            free(out);
            if (r == FE_NEXT_GONE) {
                fe_call_close(&call, etype);
                return MHD_NO;
            }
            return fail(fe, c, &call, &e, etype);
        }
        fe_call_close(&call, NULL);
        return fe_reply(c, MHD_HTTP_OK, JSON, out, olen);
    }

    dyn_oai_agg *agg = dyn_oai_agg_new(kind, req.model);
    if (!agg)
        return fail(fe, c, &call, &e, "internal");
    do {
        if (dyn_oai_agg_add(agg, item, n, &e) != 0) {
            dyn_oai_agg_free(agg);
            return fail(fe, c, &call, &e, "internal");
        }
    } while ((r = fe_call_next(&call, &item, &n, &e, &etype)) == FE_NEXT_ITEM);
    if (r != FE_NEXT_END) {
        dyn_oai_agg_free(agg);
        if (r == FE_NEXT_GONE) {
            fe_call_close(&call, etype);
            return MHD_NO;
        }
        return fail(fe, c, &call, &e, etype);
    }
    size_t olen = 0;
    char *out = dyn_oai_agg_finish(agg, &olen);
    dyn_oai_agg_free(agg);
    fe_call_close(&call, out ? NULL : "internal");
    if (!out)
        return MHD_NO;
    return fe_reply(c, MHD_HTTP_OK, JSON, out, olen);
}
