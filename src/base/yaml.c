/* YAML reader: libfyaml events -> dyn_node trees with positions. See yaml.h. */
#include "base/yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 200 };

/* A container being built: its node and the children read so far. */
typedef struct frame {
    dyn_node *node;
    dyn_node **items;        /* seq items, or alternating key,value for maps */
    size_t len, cap;
} frame;

typedef struct anchor {
    const char *name;
    size_t len;
    dyn_node *node;
} anchor;

typedef struct builder {
    dyn_yaml_stream *s;
    dyn_diags *diags;
    frame stack[MAX_DEPTH];
    int depth;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    dyn_node *root;
    size_t expanded;         /* nodes including alias expansions, against alias bombs */
    bool failed;
} builder;

/* Aliases share nodes, but every consumer walks them as copies: cap the expanded size. */
enum { MAX_EXPANDED_NODES = 2000000 };

static bool utf8_valid(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        unsigned int cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        if (i + n >= len)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

static void fail_at(builder *b, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* YAML is text: reject NUL bytes and invalid UTF-8 up front, at their position, instead of
 * letting the parser stop early or produce strings jansson cannot hold. */
static bool check_text(builder *b, const char *buf, size_t len)
{
    int line = 1, col = 1;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)buf[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (c == 0) {
            fail_at(b, line, col, "input contains a NUL byte: binary data is not YAML");
            return false;
        }
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            fail_at(b, line, col, "control character 0x%02x is not allowed in YAML", c);
            return false;
        }
        if (n == 0 || i + n > len || !utf8_valid((const unsigned char *)buf + i, n)) {
            fail_at(b, line, col, "input is not valid UTF-8 (byte 0x%02x)", c);
            return false;
        }
        if (c == '\n') {
            line++;
            col = 1;
        } else
            col++;
        i += n;
    }
    return true;
}

static bool text_is(const char *t, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && memcmp(t, *words, len) == 0)
            return true;
    return false;
}

static bool parse_int(const char *t, long long *out)
{
    const char *p = t;
    int base = 10;
    if (*p == '+' || *p == '-')
        p++;
    if (p[0] == '0' && p[1] == 'x') {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && p[1] == 'o') {
        base = 8;
        p += 2;
    }
    if (!*p)
        return false;
    for (const char *q = p; *q; q++) {
        bool ok = base == 16 ? ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F'))
                             : (*q >= '0' && *q <= (base == 8 ? '7' : '9'));
        if (!ok)
            return false;
    }
    errno = 0;
    long long v = strtoll(p, NULL, base);
    if (errno == ERANGE)
        return false;
    *out = t[0] == '-' ? -v : v;
    return true;
}

static bool parse_float(const char *t, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nan_[] = {".nan", ".NaN", ".NAN", NULL};
    size_t len = strlen(t);
    if (text_is(t, len, inf)) {
        *out = INFINITY;
        return true;
    }
    if (text_is(t, len, ninf)) {
        *out = -INFINITY;
        return true;
    }
    if (text_is(t, len, nan_)) {
        *out = NAN;
        return true;
    }
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    const char *p = t;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    *out = strtod(t, NULL);
    return true;
}

/* YAML 1.2 core schema for plain scalars. */
static void resolve_plain(dyn_node *n)
{
    /* most plain scalars are words: only these first characters can start a non-string */
    char c = n->len ? n->text[0] : '\0';
    if (n->len && !strchr("~nNtTfF0123456789+-.", c))
        return;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (text_is(n->text, n->len, nulls))
        n->kind = DYN_NODE_NULL;
    else if (text_is(n->text, n->len, trues)) {
        n->kind = DYN_NODE_BOOL;
        n->boolean = true;
    } else if (text_is(n->text, n->len, falses)) {
        n->kind = DYN_NODE_BOOL;
        n->boolean = false;
    } else if (parse_int(n->text, &n->integer)) {
        n->kind = DYN_NODE_INT;
        n->number = (double)n->integer;
    } else if (parse_float(n->text, &n->number))
        n->kind = DYN_NODE_FLOAT;
}

static void fail_at(builder *b, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_diags_vadd(b->diags, DYN_SEV_ERROR, b->s->file, line, col, "", fmt, ap);
    va_end(ap);
    b->failed = true;
}

static dyn_node *new_node(builder *b, dyn_node_kind kind, struct fy_event *ev)
{
    dyn_node *n = dyn_arena_alloc(&b->s->arena, sizeof *n);
    const struct fy_mark *m = fy_event_start_mark(ev);
    n->kind = kind;
    n->weight = 1;
    b->expanded++;
    n->line = m ? m->line + 1 : 0;
    n->col = m ? m->column + 1 : 0;
    return n;
}

static void remember_anchor(builder *b, struct fy_token *tok, dyn_node *n)
{
    if (!tok)
        return;
    size_t len;
    const char *name = fy_token_get_text(tok, &len);
    if (!name)
        return;
    /* A later anchor of the same name shadows an earlier one: search from the end. */
    if (b->n_anchors == b->cap_anchors) {
        size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 8;
        anchor *a = realloc(b->anchors, cap * sizeof *a);
        if (!a)
            abort();
        b->anchors = a;
        b->cap_anchors = cap;
    }
    b->anchors[b->n_anchors++] = (anchor){dyn_arena_strndup(&b->s->arena, name, len), len, n};
}

static dyn_node *find_anchor(builder *b, const char *name, size_t len)
{
    for (size_t i = b->n_anchors; i-- > 0;)
        if (b->anchors[i].len == len && memcmp(b->anchors[i].name, name, len) == 0)
            return b->anchors[i].node;
    return NULL;
}

static void frame_push_item(frame *f, dyn_node *n)
{
    if (f->len == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        dyn_node **items = realloc(f->items, cap * sizeof *items);
        if (!items)
            abort();
        f->items = items;
        f->cap = cap;
    }
    f->items[f->len++] = n;
}

/* Hands a finished node to its parent (or makes it the document root). */
static void attach(builder *b, dyn_node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == DYN_NODE_MAP && f->len % 2 == 0) {
        /* n is a key */
        if (!dyn_node_is_scalar(n)) {
            fail_at(b, n->line, n->col, "mapping keys must be scalars");
            n = NULL;
        }
        /* duplicates are found when the map closes (sorted, so huge maps stay fast) */
    }
    frame_push_item(f, n);
}

static bool is_merge_key(const dyn_node *k)
{
    return k && k->kind == DYN_NODE_STRING && k->plain && k->len == 2 && memcmp(k->text, "<<", 2) == 0;
}

static bool pairs_have_key(const dyn_node_pair *pairs, size_t n, const dyn_node *key)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[i].key->len == key->len && memcmp(pairs[i].key->text, key->text, key->len) == 0)
            return true;
    return false;
}

static int key_order(const void *pa, const void *pb)
{
    const dyn_node *a = *(const dyn_node *const *)pa, *b = *(const dyn_node *const *)pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c || a->len != b->len)
        return c ? c : (a->len < b->len ? -1 : 1);
    /* equal keys: source order, so the first one is reported as the original */
    return a->line != b->line ? (a->line < b->line ? -1 : 1) : (a->col < b->col ? -1 : a->col > b->col);
}

/* Duplicate keys in O(n log n): sort the keys and compare neighbours. */
static void check_duplicate_keys(builder *b, frame *f)
{
    size_t n = f->len / 2;
    if (n < 2)
        return;
    const dyn_node **keys = malloc(n * sizeof *keys);
    if (!keys)
        abort();
    size_t k = 0;
    for (size_t i = 0; i + 1 < f->len; i += 2)
        if (f->items[i])
            keys[k++] = f->items[i];
    qsort(keys, k, sizeof *keys, key_order);
    for (size_t i = 1; i < k; i++)
        if (keys[i]->len == keys[i - 1]->len && memcmp(keys[i]->text, keys[i - 1]->text, keys[i]->len) == 0) {
            size_t first = i - 1;
            while (first > 0 && keys[first - 1]->len == keys[i]->len &&
                   memcmp(keys[first - 1]->text, keys[i]->text, keys[i]->len) == 0)
                first--;
            fail_at(b, keys[i]->line, keys[i]->col, "duplicate key '%.80s' (first at line %d, column %d)",
                    keys[i]->text, keys[first]->line, keys[first]->col);
        }
    free(keys);
}

/* Closes a map: copies its pairs into the arena, applying `<<` merges (explicit keys win). */
static void finish_map(builder *b, frame *f)
{
    check_duplicate_keys(b, f);
    dyn_node *map = f->node;
    size_t extra = 0;
    for (size_t i = 0; i + 1 < f->len; i += 2)
        if (is_merge_key(f->items[i])) {
            const dyn_node *v = f->items[i + 1];
            if (v && v->kind == DYN_NODE_MAP)
                extra += v->len;
            else if (v && v->kind == DYN_NODE_SEQ)
                for (size_t k = 0; k < v->len; k++)
                    extra += v->items[k]->kind == DYN_NODE_MAP ? v->items[k]->len : 0;
        }
    dyn_node_pair *pairs = dyn_arena_alloc(&b->s->arena, (f->len / 2 + extra + 1) * sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i + 1 < f->len; i += 2)
        if (f->items[i] && !is_merge_key(f->items[i]))
            pairs[n++] = (dyn_node_pair){f->items[i], f->items[i + 1]};
    for (size_t i = 0; i + 1 < f->len; i += 2) {
        if (!is_merge_key(f->items[i]))
            continue;
        const dyn_node *v = f->items[i + 1];
        size_t count = v->kind == DYN_NODE_SEQ ? v->len : 1;
        for (size_t m = 0; m < count; m++) {
            const dyn_node *src = v->kind == DYN_NODE_SEQ ? v->items[m] : v;
            if (src->kind != DYN_NODE_MAP) {
                fail_at(b, src->line, src->col, "a merge key '<<' needs a map or a list of maps");
                continue;
            }
            for (size_t k = 0; k < src->len; k++)
                if (!pairs_have_key(pairs, n, src->pairs[k].key))
                    pairs[n++] = src->pairs[k];
        }
    }
    map->pairs = pairs;
    map->len = n;
    map->weight = 1;
    for (size_t i = 0; i < n; i++)
        map->weight += pairs[i].value->weight + 1;
}

static void finish_seq(builder *b, frame *f)
{
    dyn_node *seq = f->node;
    seq->items = dyn_arena_alloc(&b->s->arena, (f->len + 1) * sizeof *seq->items);
    if (f->len)
        memcpy(seq->items, f->items, f->len * sizeof *seq->items);
    seq->len = f->len;
    seq->weight = 1;
    for (size_t i = 0; i < f->len; i++)
        seq->weight += f->items[i]->weight;
}

static void open_container(builder *b, struct fy_event *ev, dyn_node_kind kind, struct fy_token *anchor_tok)
{
    dyn_node *n = new_node(b, kind, ev);
    if (b->depth >= MAX_DEPTH) {
        fail_at(b, n->line, n->col, "nesting is deeper than the supported %d levels", MAX_DEPTH);
        return;
    }
    remember_anchor(b, anchor_tok, n);
    b->stack[b->depth++] = (frame){.node = n};
}

static void close_container(builder *b)
{
    if (b->depth == 0)
        return;
    frame *f = &b->stack[--b->depth];
    if (f->node->kind == DYN_NODE_MAP)
        finish_map(b, f);
    else
        finish_seq(b, f);
    free(f->items);
    dyn_node *n = f->node;
    memset(f, 0, sizeof *f);
    attach(b, n);
}

static void on_scalar(builder *b, struct fy_event *ev)
{
    size_t len = 0;
    const char *text = fy_token_get_text(ev->scalar.value, &len);
    if (!text)
        text = "";
    dyn_node *n = new_node(b, DYN_NODE_STRING, ev);
    enum fy_scalar_style style = fy_token_scalar_style(ev->scalar.value);
    /* libfyaml marks a quoted scalar at its first character; point at the opening quote */
    if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && n->col > 1)
        n->col--;
    if (memchr(text, '\0', len)) {
        /* "\0" escapes: every name and value here ends up as a C string, which would cut it */
        fail_at(b, n->line, n->col, "a NUL character (\\0) is not allowed in a value or key");
        len = strlen(text);
    }
    n->text = dyn_arena_strndup(&b->s->arena, text, len);
    n->len = len;
    bool plain = style == FYSS_PLAIN;
    const char *tag = NULL;
    size_t tag_len = 0;
    if (ev->scalar.tag)
        tag = fy_token_get_text(ev->scalar.tag, &tag_len);
    bool str_tag = tag && tag_len >= 3 && memcmp(tag + tag_len - 3, "str", 3) == 0;
    if (plain && !str_tag)
        resolve_plain(n);
    n->plain = plain;
    remember_anchor(b, ev->scalar.anchor, n);
    attach(b, n);
}

static void on_alias(builder *b, struct fy_event *ev)
{
    size_t len = 0;
    const char *name = fy_token_get_text(ev->alias.anchor, &len);
    /* libfyaml marks an alias after its '*'; point at the '*' */
    const struct fy_mark *m = fy_event_start_mark(ev);
    int line = m ? m->line + 1 : 0, col = m ? m->column : 0;
    dyn_node *target = name ? find_anchor(b, name, len) : NULL;
    for (int i = 0; target && i < b->depth; i++)
        if (b->stack[i].node == target) {
            fail_at(b, line, col, "alias '*%.*s' refers to a node that contains it",
                    (int)(len > 80 ? 80 : len), name);
            return;
        }
    if (target) {
        b->expanded += target->weight;
        if (b->expanded > MAX_EXPANDED_NODES) {
            fail_at(b, line, col,
                    "aliases expand the document to more than %d nodes", MAX_EXPANDED_NODES);
            return;
        }
    }
    if (!target) {
        char nm[96];
        snprintf(nm, sizeof nm, "%.*s", (int)(len > 80 ? 80 : len), name ? name : "");
        fail_at(b, line, col, "alias '*%s' refers to no anchor defined before it", nm);
        target = new_node(b, DYN_NODE_NULL, ev);
        target->text = "";
    }
    attach(b, target);
}

static void add_doc(dyn_yaml_stream *s, dyn_node *root)
{
    dyn_node **docs = dyn_arena_alloc(&s->arena, (s->n_docs + 1) * sizeof *docs);
    if (s->n_docs)
        memcpy(docs, s->docs, s->n_docs * sizeof *docs);
    docs[s->n_docs++] = root;
    s->docs = docs;
}

/* Copies libfyaml's collected parse errors into our diagnostics. */
static void report_parser_errors(builder *b, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *e;
    bool any = false;
    while ((e = fy_diag_errors_iterate(diag, &it))) {
        if (e->type < FYET_ERROR)
            continue;
        /* fy_diag_error positions are already 1-based */
        dyn_diags_add_at(b->diags, DYN_SEV_ERROR, b->s->file, e->line, e->column, "", "YAML syntax: %s",
                         e->msg ? e->msg : "invalid YAML");
        any = true;
    }
    if (!any)
        dyn_diags_add_at(b->diags, DYN_SEV_ERROR, b->s->file, 0, 0, "", "YAML syntax: input is not valid YAML");
    b->failed = true;
}

bool dyn_yaml_parse(dyn_yaml_stream *s, const char *file, const char *buf, size_t len, dyn_diags *diags)
{
    memset(s, 0, sizeof *s);
    dyn_arena_init(&s->arena);
    s->file = dyn_arena_strdup(&s->arena, file ? file : "-");

    /* libfyaml wants a stable buffer for the parser's lifetime; an arena copy also makes
     * inputs that are not NUL-terminated safe. */
    char *input = dyn_arena_strndup(&s->arena, buf, len);

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        abort();
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE, .diag = diag};
    struct fy_parser *fyp = fy_parser_create(&cfg);
    if (!fyp)
        abort();

    builder b = {.s = s, .diags = diags};
    if (!check_text(&b, buf, len)) {
        /* reported */
    } else if (fy_parser_set_string(fyp, input, len) != 0) {
        report_parser_errors(&b, diag);
    } else {
        struct fy_event *ev;
        while (!b.failed && (ev = fy_parser_parse(fyp))) {
            switch (ev->type) {
            case FYET_DOCUMENT_START:
                b.root = NULL;
                b.n_anchors = 0;
                break;
            case FYET_DOCUMENT_END:
                if (!b.root) {
                    b.root = new_node(&b, DYN_NODE_NULL, ev);
                    b.root->text = "";
                }
                add_doc(s, b.root);
                b.root = NULL;
                break;
            case FYET_MAPPING_START:
                open_container(&b, ev, DYN_NODE_MAP, ev->mapping_start.anchor);
                break;
            case FYET_SEQUENCE_START:
                open_container(&b, ev, DYN_NODE_SEQ, ev->sequence_start.anchor);
                break;
            case FYET_MAPPING_END:
            case FYET_SEQUENCE_END:
                close_container(&b);
                break;
            case FYET_SCALAR:
                on_scalar(&b, ev);
                break;
            case FYET_ALIAS:
                on_alias(&b, ev);
                break;
            default:
                break;
            }
            fy_parser_event_free(fyp, ev);
        }
        if (!b.failed && fy_parser_get_stream_error(fyp))
            report_parser_errors(&b, diag);
    }
    while (b.depth > 0)
        free(b.stack[--b.depth].items);
    free(b.anchors);
    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    return !b.failed;
}

void dyn_yaml_stream_free(dyn_yaml_stream *s)
{
    dyn_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}
