/* Streaming responses as server-sent events. libmicrohttpd runs each connection on its own
 * thread here, so the content-reader callback may wait for the worker's next item; it checks
 * for a hang-up while waiting, and a client that goes away kills the worker's generation. */
#include "frontend/internal.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

typedef struct sse {
    fe_call call;
    dyn_buf out;
    size_t off;
    int done;
    const char *error_type;
} sse;

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse *x = cls;
    while (x->off == x->out.len) {
        if (x->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        x->out.len = 0;
        x->off = 0;
        const char *item;
        size_t n;
        dyn_oai_error e;
        fe_next r = fe_call_next(&x->call, &item, &n, &e, &x->error_type);
        if (r == FE_NEXT_ITEM) {
            dyn_sse_data(&x->out, item, n);
        } else if (r == FE_NEXT_END) {
            dyn_sse_done(&x->out);
            x->done = 1;
        } else if (r == FE_NEXT_GONE) {
            return MHD_CONTENT_READER_END_WITH_ERROR;
        } else {
            /* Headers are gone already: the error travels as an event, as OpenAI does. */
            size_t el;
            char *ej = dyn_oai_error_json(&e, &el);
            if (ej)
                dyn_sse_data(&x->out, ej, el - 1);    /* without its newline */
            free(ej);
            x->done = 1;
        }
        if (!dyn_buf_ok(&x->out)) {
            x->error_type = "internal";
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = x->out.len - x->off;
    if (n > max)
        n = max;
    memcpy(buf, x->out.data + x->off, n);
    x->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse *x = cls;
    /* Not done means the client went away or the write failed: that is a cancellation. */
    fe_call_close(&x->call, x->done ? x->error_type : x->error_type ? x->error_type : "cancelled");
    dyn_buf_free(&x->out);
    free(x);
}

int fe_sse_respond(struct MHD_Connection *c, fe_call *call, const char *first, size_t first_len)
{
    sse *x = calloc(1, sizeof *x);
    if (!x) {
        fe_call_close(call, "internal");
        return MHD_NO;
    }
    x->call = *call;
    dyn_sse_data(&x->out, first, first_len);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, sse_read, x, sse_free);
    if (!r) {
        sse_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    int ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
