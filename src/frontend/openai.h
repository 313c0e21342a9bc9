/* OpenAI request checks, error bodies, SSE framing and the aggregation of streamed chunks
 * into one response. Pure functions (no I/O), shared by the frontend routes, the unit tests
 * and the request fuzzer. */
#ifndef DYN_FRONTEND_OPENAI_H
#define DYN_FRONTEND_OPENAI_H

#include <stddef.h>

#include "http/buf.h"

typedef enum dyn_oai_kind { DYN_OAI_CHAT = 0, DYN_OAI_COMPLETION, DYN_OAI_EMBEDDING } dyn_oai_kind;

/* What the frontend needs from a request; the body itself is forwarded unchanged. */
typedef struct dyn_oai_request {
    dyn_oai_kind kind;
    char model[256];
    int stream;
} dyn_oai_request;

/* An error as the client sees it: HTTP status plus the OpenAI error object. */
typedef struct dyn_oai_error {
    int status;
    char type[48];       /* invalid_request_error, not_found_error, service_unavailable, ... */
    char param[48];      /* "" = null */
    char code[48];       /* "" = null */
    char message[512];
} dyn_oai_error;

/* Fills e and returns -1 (for `return dyn_oai_fail(...)`). */
int dyn_oai_fail(dyn_oai_error *e, int status, const char *type, const char *param, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Parses and checks a request body for kind. 0 ok; -1 with e filled (400; malformed JSON
 * names line, column and byte position). */
int dyn_oai_request_parse(dyn_oai_kind kind, const char *body, size_t len, dyn_oai_request *out, dyn_oai_error *e);

/* {"error":{"message","type","param","code"}}; caller frees. */
char *dyn_oai_error_json(const dyn_oai_error *e, size_t *len);

/* Appends one server-sent event `data: <json>\n\n`. */
void dyn_sse_data(dyn_buf *b, const char *json, size_t len);
/* Appends the closing `data: [DONE]\n\n`. */
void dyn_sse_done(dyn_buf *b);

/* Folds chat.completion.chunk / text_completion chunks into one response. */
typedef struct dyn_oai_agg dyn_oai_agg;
dyn_oai_agg *dyn_oai_agg_new(dyn_oai_kind kind, const char *model);
/* 0 ok; -1 (e filled, 502) when the item is not a chunk of the expected kind. */
int dyn_oai_agg_add(dyn_oai_agg *a, const char *item, size_t len, dyn_oai_error *e);
/* Number of chunks that carried text. */
size_t dyn_oai_agg_tokens(const dyn_oai_agg *a);
/* The aggregated chat.completion / text_completion JSON; caller frees. NULL on OOM. */
char *dyn_oai_agg_finish(dyn_oai_agg *a, size_t *len);
void dyn_oai_agg_free(dyn_oai_agg *a);

/* "chat_completions", "completions", "embeddings" (the metrics' endpoint label). */
const char *dyn_oai_kind_name(dyn_oai_kind kind);

#endif
