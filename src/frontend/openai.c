/* OpenAI request checks, errors, SSE framing and chunk aggregation: see openai.h. */
#include "frontend/openai.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHOICES 16

int dyn_oai_fail(dyn_oai_error *e, int status, const char *type, const char *param, const char *code,
                 const char *fmt, ...)
{
    e->status = status;
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

const char *dyn_oai_kind_name(dyn_oai_kind kind)
{
    return kind == DYN_OAI_CHAT ? "chat_completions" : kind == DYN_OAI_COMPLETION ? "completions" : "embeddings";
}

#define BAD(e, param, ...) dyn_oai_fail(e, 400, "invalid_request_error", param, NULL, __VA_ARGS__)

/* An int that is present must be a non-negative integer. */
static int check_count(json_t *j, const char *key, int positive, dyn_oai_error *e)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (positive ? 1 : 0))
        return BAD(e, key, "'%s' must be %s integer", key, positive ? "a positive" : "a non-negative");
    return 0;
}

/* A token list: every element an integer. */
static int all_ints(json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_is_integer(v)) return 0;
    return 1;
}

/* prompt / input: a string, a non-empty list of strings, of token ids, or of token-id lists. */
static int check_text_input(json_t *j, const char *key, dyn_oai_error *e)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return BAD(e, key, "'%s' is required", key);
    if (json_is_string(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return BAD(e, key, "'%s' must be a string or a non-empty array", key);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (json_is_string(x) || json_is_integer(x))
            continue;
        if (json_is_array(x) && json_array_size(x) > 0 && all_ints(x))
            continue;
        return BAD(e, key, "'%s[%zu]' must be a string, a token id or a non-empty list of token ids", key, i);
    }
    return 0;
}

static int check_messages(json_t *j, dyn_oai_error *e)
{
    json_t *m = json_object_get(j, "messages");
    if (!m || json_is_null(m))
        return BAD(e, "messages", "'messages' is required");
    if (!json_is_array(m) || json_array_size(m) == 0)
        return BAD(e, "messages", "'messages' must be a non-empty array");
    size_t i;
    json_t *x;
    json_array_foreach(m, i, x) {
        if (!json_is_object(x))
            return BAD(e, "messages", "'messages[%zu]' must be an object", i);
        if (!json_is_string(json_object_get(x, "role")))
            return BAD(e, "messages", "'messages[%zu].role' is required and must be a string", i);
        json_t *c = json_object_get(x, "content");
        if (c && !json_is_null(c) && !json_is_string(c) && !json_is_array(c))
            return BAD(e, "messages", "'messages[%zu].content' must be a string, an array or null", i);
    }
    return 0;
}

int dyn_oai_request_parse(dyn_oai_kind kind, const char *body, size_t len, dyn_oai_request *out, dyn_oai_error *e)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    json_error_t jerr;
    json_t *j = json_loadb(body, len, 0, &jerr);
    if (!j)
        return BAD(e, NULL, "invalid JSON at line %d, column %d (position %d): %s", jerr.line, jerr.column,
                   jerr.position, jerr.text);
    int rc = -1;
    json_t *model = json_object_get(j, "model");
    json_t *stream = json_object_get(j, "stream");
    if (!json_is_object(j))
        BAD(e, NULL, "the request body must be a JSON object");
    else if (!json_is_string(model) || json_string_length(model) == 0)
        BAD(e, "model", "'model' is required and must be a non-empty string");
    else if (json_string_length(model) >= sizeof out->model)
        BAD(e, "model", "'model' is longer than %zu bytes", sizeof out->model - 1);
    else if (stream && !json_is_null(stream) && !json_is_boolean(stream))
        BAD(e, "stream", "'stream' must be a boolean");
    else if (check_count(j, "max_tokens", 0, e) || check_count(j, "max_completion_tokens", 0, e) ||
             check_count(j, "n", 1, e))
        ;
    else if (kind == DYN_OAI_CHAT && check_messages(j, e))
        ;
    else if (kind == DYN_OAI_COMPLETION && check_text_input(j, "prompt", e))
        ;
    else if (kind == DYN_OAI_EMBEDDING && check_text_input(j, "input", e))
        ;
    else if (kind == DYN_OAI_EMBEDDING && check_count(j, "dimensions", 1, e))
        ;
    else {
        json_t *fmt = json_object_get(j, "encoding_format");
        const char *f = json_string_value(fmt);
        if (kind == DYN_OAI_EMBEDDING && fmt && !json_is_null(fmt) &&
            (!f || (strcmp(f, "float") != 0 && strcmp(f, "base64") != 0))) {
            BAD(e, "encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
        } else {
            snprintf(out->model, sizeof out->model, "%s", json_string_value(model));
            out->stream = kind != DYN_OAI_EMBEDDING && json_is_true(stream);
            rc = 0;
        }
    }
    json_decref(j);
    return rc;
}

char *dyn_oai_error_json(const dyn_oai_error *e, size_t *len)
{
    dyn_buf b = {0};
    dyn_buf_puts(&b, "{\"error\":{\"message\":");
    dyn_buf_json_str(&b, e->message);
    dyn_buf_puts(&b, ",\"type\":");
    dyn_buf_json_str(&b, e->type);
    dyn_buf_puts(&b, ",\"param\":");
    if (e->param[0])
        dyn_buf_json_str(&b, e->param);
    else
        dyn_buf_puts(&b, "null");
    dyn_buf_puts(&b, ",\"code\":");
    if (e->code[0])
        dyn_buf_json_str(&b, e->code);
    else
        dyn_buf_puts(&b, "null");
    dyn_buf_puts(&b, "}}\n");
    return dyn_buf_take(&b, len);
}

void dyn_sse_data(dyn_buf *b, const char *json, size_t len)
{
    dyn_buf_append(b, "data: ", 6);
    dyn_buf_append(b, json, len);
    dyn_buf_append(b, "\n\n", 2);
}

void dyn_sse_done(dyn_buf *b) { dyn_buf_puts(b, "data: [DONE]\n\n"); }

/* ---- aggregation ---- */

struct dyn_oai_agg {
    dyn_oai_kind kind;
    json_t *first;             /* id, created, model, system_fingerprint come from here */
    json_t *usage;
    dyn_buf text[MAX_CHOICES];
    json_t *finish[MAX_CHOICES];
    int seen[MAX_CHOICES];
    size_t tokens;
    char model[256];
};

dyn_oai_agg *dyn_oai_agg_new(dyn_oai_kind kind, const char *model)
{
    dyn_oai_agg *a = calloc(1, sizeof *a);
    if (a) {
        a->kind = kind;
        snprintf(a->model, sizeof a->model, "%s", model ? model : "");
    }
    return a;
}

int dyn_oai_agg_add(dyn_oai_agg *a, const char *item, size_t len, dyn_oai_error *e)
{
    json_error_t jerr;
    json_t *j = json_loadb(item, len, 0, &jerr);
    const char *want = a->kind == DYN_OAI_CHAT ? "chat.completion.chunk" : "text_completion";
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return dyn_oai_fail(e, 502, "internal_error", NULL, "bad_worker_response",
                            "the worker sent an item that is not a JSON object");
    }
    json_t *werr = json_object_get(j, "error");
    if (werr) {
        const char *m = json_string_value(json_object_get(werr, "message"));
        dyn_oai_fail(e, 502, "internal_error", NULL, "worker_error", "worker error: %s",
                     m ? m : json_is_string(werr) ? json_string_value(werr) : "unknown");
        json_decref(j);
        return -1;
    }
    const char *obj = json_string_value(json_object_get(j, "object"));
    json_t *choices = json_object_get(j, "choices");
    if (!obj || strcmp(obj, want) != 0 || !json_is_array(choices)) {
        json_decref(j);
        return dyn_oai_fail(e, 502, "internal_error", NULL, "bad_worker_response",
                            "the worker sent an item that is not a %s", want);
    }
    if (!a->first)
        a->first = json_incref(j);
    json_t *usage = json_object_get(j, "usage");
    if (json_is_object(usage)) {
        json_decref(a->usage);
        a->usage = json_incref(usage);
    }
    size_t i;
    json_t *c;
    json_array_foreach(choices, i, c) {
        json_t *ix = json_object_get(c, "index");
        json_int_t k = json_is_integer(ix) ? json_integer_value(ix) : (json_int_t)i;
        if (k < 0 || k >= MAX_CHOICES)
            continue;
        a->seen[k] = 1;
        json_t *src = a->kind == DYN_OAI_CHAT ? json_object_get(json_object_get(c, "delta"), "content")
                                              : json_object_get(c, "text");
        if (json_is_string(src) && json_string_length(src) > 0) {
            dyn_buf_append(&a->text[k], json_string_value(src), json_string_length(src));
            a->tokens++;
        }
        json_t *fr = json_object_get(c, "finish_reason");
        if (fr && !json_is_null(fr)) {
            json_decref(a->finish[k]);
            a->finish[k] = json_incref(fr);
        }
    }
    json_decref(j);
    return 0;
}

size_t dyn_oai_agg_tokens(const dyn_oai_agg *a) { return a->tokens; }

char *dyn_oai_agg_finish(dyn_oai_agg *a, size_t *len)
{
    int chat = a->kind == DYN_OAI_CHAT;
    json_t *out = json_object();
    json_t *f = a->first;
    json_t *id = f ? json_object_get(f, "id") : NULL;
    json_t *created = f ? json_object_get(f, "created") : NULL;
    json_t *model = f ? json_object_get(f, "model") : NULL;
    json_t *fp = f ? json_object_get(f, "system_fingerprint") : NULL;
    json_object_set_new(out, "id", id ? json_incref(id) : json_string(chat ? "chatcmpl-0" : "cmpl-0"));
    json_object_set_new(out, "object", json_string(chat ? "chat.completion" : "text_completion"));
    json_object_set_new(out, "created", created ? json_incref(created) : json_integer(0));
    json_object_set_new(out, "model", model ? json_incref(model) : json_string(a->model));
    if (fp)
        json_object_set(out, "system_fingerprint", fp);
    json_t *choices = json_array();
    for (int k = 0; k < MAX_CHOICES; k++) {
        if (!a->seen[k] && !(k == 0 && !f))
            continue;
        json_t *c = json_object();
        json_object_set_new(c, "index", json_integer(k));
        json_t *text = json_stringn(a->text[k].data ? a->text[k].data : "", a->text[k].len);
        if (!text)             /* not UTF-8: pass it on lossily rather than fail the request */
            text = json_string("");
        if (chat) {
            json_t *msg = json_object();
            json_object_set_new(msg, "role", json_string("assistant"));
            json_object_set_new(msg, "content", text);
            json_object_set_new(c, "message", msg);
        } else {
            json_object_set_new(c, "text", text);
        }
        json_object_set_new(c, "finish_reason", a->finish[k] ? json_incref(a->finish[k]) : json_null());
        json_array_append_new(choices, c);
    }
    json_object_set_new(out, "choices", choices);
    if (a->usage)
        json_object_set(out, "usage", a->usage);
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (s && len)
        *len = strlen(s);
    return s;
}

void dyn_oai_agg_free(dyn_oai_agg *a)
{
    if (!a)
        return;
    json_decref(a->first);
    json_decref(a->usage);
    for (int k = 0; k < MAX_CHOICES; k++) {
        dyn_buf_free(&a->text[k]);
        json_decref(a->finish[k]);
    }
    free(a);
}
