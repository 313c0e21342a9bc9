/* Discovery records: key layout and the JSON value of spec §3.3.
 *
 * The parser is a small strict JSON reader written for this one shape, so instance_id is read
 * as an exact uint64 (general-purpose JSON libraries here go through double or int64). It is
 * fuzzed (tests/fuzz/fuzz_record.c): any input gives a record or an error, never a crash. */
#include "dyn/discovery.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    const char *why;
    int depth;
} rd;

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fail(rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

/* Reads a string into out (cap bytes incl. NUL; out may be NULL to skip). */
static int str(rd *r, char *out, size_t cap)
{
    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return fail(r, "expected a string");
    r->p++;
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20)
            return fail(r, "control character in string");
        if (c == '\\') {
            if (r->p >= r->end)
                return fail(r, "unterminated escape");
            char e = *r->p++;
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                if (r->end - r->p < 4)
                    return fail(r, "short \\u escape");
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *r->p++;
                    if (!isxdigit((unsigned char)h))
                        return fail(r, "bad \\u escape");
                    v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                c = v < 0x80 ? (unsigned char)v : '?';   /* names are ASCII; others are not ours */
                break;
            }
            default:
                return fail(r, "bad escape");
            }
        }
        if (out) {
            if (n + 1 >= cap)
                return fail(r, "string too long");
            out[n++] = (char)c;
        }
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    r->p++;
    if (out)
        out[n] = '\0';
    return 0;
}

static int lit(rd *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "unexpected token");
    r->p += n;
    return 0;
}

static int skip_value(rd *r);

static int number(rd *r, uint64_t *u, int *is_u64)
{
    ws(r);
    const char *s = r->p;
    int neg = 0;
    if (r->p < r->end && *r->p == '-') {
        neg = 1;
        r->p++;
    }
    if (r->p >= r->end || !isdigit((unsigned char)*r->p))
        return fail(r, "bad number");
    uint64_t v = 0;
    int overflow = 0;
    while (r->p < r->end && isdigit((unsigned char)*r->p)) {
        unsigned d = (unsigned)(*r->p++ - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = 1;
        v = v * 10 + d;
    }
    int frac = 0;
    if (r->p < r->end && *r->p == '.') {
        frac = 1;
        r->p++;
        if (r->p >= r->end || !isdigit((unsigned char)*r->p))
            return fail(r, "bad number");
        while (r->p < r->end && isdigit((unsigned char)*r->p))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        frac = 1;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || !isdigit((unsigned char)*r->p))
            return fail(r, "bad number");
        while (r->p < r->end && isdigit((unsigned char)*r->p))
            r->p++;
    }
    (void)s;
    if (u)
        *u = v;
    if (is_u64)
        *is_u64 = !neg && !frac && !overflow;
    return 0;
}

static int skip_container(rd *r, char close)
{
    if (++r->depth > 64)
        return fail(r, "nesting too deep");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (str(r, NULL, 0) != 0)
                return -1;
            ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return fail(r, "expected ':'");
        }
        if (skip_value(r) != 0)
            return -1;
        ws(r);
        if (r->p >= r->end)
            return fail(r, "unterminated object or array");
        char c = *r->p++;
        if (c == close)
            break;
        if (c != ',')
            return fail(r, "expected ',' or end");
    }
    r->depth--;
    return 0;
}

static int skip_value(rd *r)
{
    ws(r);
    if (r->p >= r->end)
        return fail(r, "unexpected end");
    switch (*r->p) {
    case '"': return str(r, NULL, 0);
    case '{': return skip_container(r, '}');
    case '[': return skip_container(r, ']');
    case 't': return lit(r, "true");
    case 'f': return lit(r, "false");
    case 'n': return lit(r, "null");
    default: return number(r, NULL, NULL);
    }
}

/* Iterates the members of an object: calls fn(key) positioned on each value. */
typedef int (*member_fn)(rd *r, const char *key, void *ud);

static int object(rd *r, member_fn fn, void *ud)
{
    ws(r);
    if (r->p >= r->end || *r->p != '{')
        return fail(r, "expected an object");
    if (++r->depth > 64)
        return fail(r, "nesting too deep");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        char key[64];
        if (str(r, key, sizeof key) != 0)
            return -1;
        ws(r);
        if (r->p >= r->end || *r->p++ != ':')
            return fail(r, "expected ':'");
        if (fn(r, key, ud) != 0)
            return -1;
        ws(r);
        if (r->p >= r->end)
            return fail(r, "unterminated object");
        char c = *r->p++;
        if (c == '}')
            break;
        if (c != ',')
            return fail(r, "expected ',' or '}'");
    }
    r->depth--;
    return 0;
}

typedef struct {
    dyn_instance *in;
    char type[32];
    int have_id, have_transport;
} rec_state;

static int transport_member(rd *r, const char *key, void *ud)
{
    rec_state *s = ud;
    if (strcmp(key, "nats_tcp") == 0 || strcmp(key, "tcp") == 0 || strcmp(key, "http") == 0) {
        snprintf(s->in->transport, sizeof s->in->transport, "%s", key);
        s->have_transport = 1;
        return str(r, s->in->address, sizeof s->in->address);
    }
    return skip_value(r);
}

static int record_member(rd *r, const char *key, void *ud)
{
    rec_state *s = ud;
    if (strcmp(key, "type") == 0)
        return str(r, s->type, sizeof s->type);
    if (strcmp(key, "namespace") == 0)
        return str(r, s->in->ns, sizeof s->in->ns);
    if (strcmp(key, "component") == 0)
        return str(r, s->in->component, sizeof s->in->component);
    if (strcmp(key, "endpoint") == 0)
        return str(r, s->in->endpoint, sizeof s->in->endpoint);
    if (strcmp(key, "instance_id") == 0) {
        int ok = 0;
        if (number(r, &s->in->instance_id, &ok) != 0)
            return -1;
        if (!ok)
            return fail(r, "instance_id is not an unsigned 64-bit integer");
        s->have_id = 1;
        return 0;
    }
    if (strcmp(key, "transport") == 0)
        return object(r, transport_member, s);
    return skip_value(r);
}

dyn_status dyn_instance_parse(const char *json, size_t len, dyn_instance *out, dyn_error *err)
{
    memset(out, 0, sizeof *out);
    rd r = {json, json + len, NULL, 0};
    rec_state s = {.in = out};
    if (object(&r, record_member, &s) != 0)
        return dyn_error_set(err, DYN_ERR_INVALID, "instance record: %s at byte %zu", r.why,
                             (size_t)(r.p - json));
    ws(&r);
    if (r.p != r.end)
        return dyn_error_set(err, DYN_ERR_INVALID, "instance record: trailing data at byte %zu", (size_t)(r.p - json));
    if (strcmp(s.type, "Endpoint") != 0)
        return dyn_error_set(err, DYN_ERR_INVALID, "instance record: type is \"%s\", expected \"Endpoint\"", s.type);
    if (!s.have_id || !s.have_transport || !out->ns[0] || !out->component[0] || !out->endpoint[0])
        return dyn_error_set(err, DYN_ERR_INVALID, "instance record: missing %s",
                             !s.have_id ? "instance_id" : !s.have_transport ? "transport" :
                             !out->ns[0] ? "namespace" : !out->component[0] ? "component" : "endpoint");
    return DYN_OK;
}

static size_t put_str(char *buf, size_t cap, size_t n, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        const char *add = tmp;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tmp[2] = 0;
        } else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
        } else {
            tmp[0] = (char)c;
            tmp[1] = 0;
        }
        for (; *add; add++, n++)
            if (n + 1 < cap)
                buf[n] = *add;
    }
    return n;
}

size_t dyn_instance_format(const dyn_instance *in, char *buf, size_t cap)
{
    size_t n = 0;
    const char *parts[] = {"{\"type\":\"Endpoint\",\"component\":\"", in->component, "\",\"endpoint\":\"", in->endpoint,
                           "\",\"namespace\":\"", in->ns, "\",\"instance_id\":", NULL};
    for (int i = 0; parts[i]; i++)
        n = (i % 2 == 0) ? n + (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%s", parts[i])
                         : put_str(buf, cap, n, parts[i]);
    n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%" PRIu64 ",\"transport\":{\"%s\":\"",
                          in->instance_id, in->transport);
    n = put_str(buf, cap, n, in->address);
    n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "\"}}");
    if (cap)
        buf[n < cap ? n : cap - 1] = '\0';
    return n;
}

size_t dyn_instance_key(char *buf, size_t cap, const char *ns, const char *component, const char *endpoint, uint64_t id)
{
    return (size_t)snprintf(buf, cap, "v1/instances/%s/%s/%s/%" PRIx64, ns, component, endpoint, id);
}

size_t dyn_instance_prefix(char *buf, size_t cap, const char *ns, const char *component, const char *endpoint)
{
    return (size_t)snprintf(buf, cap, "v1/instances/%s/%s/%s/", ns, component, endpoint);
}

uint64_t dyn_instance_id_from_key(const char *key)
{
    const char *slash = strrchr(key, '/');
    const char *hex = slash ? slash + 1 : key;
    if (!*hex || strlen(hex) > 16)
        return 0;
    uint64_t v = 0;
    for (const char *p = hex; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            return 0;
        v = v * 16 + (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
    }
    return v;
}

int dyn_name_valid(const char *name, int allow_dots)
{
    if (!name || !*name || strlen(name) >= DYN_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || (allow_dots && c == '.')))
            return 0;
    }
    return 1;
}

void dyn_slugify(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int leading = 1;
    for (const char *p = in; *p && n + 1 < cap; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            c = '_';
        if (leading && c == '_')
            continue;
        leading = 0;
        out[n++] = c;
    }
    if (cap)
        out[n] = '\0';
}
