/* Structural validation against embedded CRD schemas: see schema.h. */
#include "api/schema.h"

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/quantity.h"

struct dyn_embedded_schema {
    const char *name;
    const char *json;
};
extern const struct dyn_embedded_schema dyn_embedded_schemas[];

enum { MAX_SCHEMAS = 8 };
static json_t *loaded[MAX_SCHEMAS];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_all(void)
{
    for (int i = 0; dyn_embedded_schemas[i].name && i < MAX_SCHEMAS; i++)
        loaded[i] = json_loads(dyn_embedded_schemas[i].json, 0, NULL);
}

const json_t *dyn_schema_get(const char *name)
{
    pthread_once(&load_once, load_all);
    for (int i = 0; dyn_embedded_schemas[i].name && i < MAX_SCHEMAS; i++)
        if (strcmp(dyn_embedded_schemas[i].name, name) == 0)
            return loaded[i];
    return NULL;
}

const json_t *dyn_schema_at(const json_t *schema, const char *dotted)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", dotted);
    const json_t *s = schema;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && s; part = strtok_r(NULL, ".", &save)) {
        if (strcmp(part, "*") == 0) {
            const json_t *items = json_object_get(s, "items");
            s = items ? items : json_object_get(s, "additionalProperties");
        } else
            s = json_object_get(json_object_get(s, "properties"), part);
    }
    return s;
}

/* ---- compiled patterns, cached by the schema string they come from (schemas are immutable) */

typedef struct pattern_entry {
    const char *source;
    regex_t re;
    int ok;
} pattern_entry;

enum { MAX_PATTERNS = 64 };
static pattern_entry patterns[MAX_PATTERNS];
static int n_patterns;
static pthread_mutex_t pattern_lock = PTHREAD_MUTEX_INITIALIZER;

/* 1 match, 0 no match, -1 pattern unusable (then the check is skipped, never a false error). */
static int pattern_match(const char *pattern, const char *s)
{
    pthread_mutex_lock(&pattern_lock);
    pattern_entry *e = NULL;
    for (int i = 0; i < n_patterns; i++)
        if (patterns[i].source == pattern)
            e = &patterns[i];
    if (!e && n_patterns < MAX_PATTERNS) {
        e = &patterns[n_patterns++];
        e->source = pattern;
        e->ok = regcomp(&e->re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
    }
    int r = e && e->ok ? regexec(&e->re, s, 0, NULL, 0) == 0 : -1;
    pthread_mutex_unlock(&pattern_lock);
    return r;
}

static int is_quantity_pattern(const char *pattern)
{
    return strncmp(pattern, "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)", 44) == 0;
}

/* ---- the walk */

typedef struct walker {
    const char *file;
    dyn_diags *diags;
    char path[2048];
    size_t plen;
} walker;

static size_t path_push_key(walker *w, const char *key, int as_index)
{
    size_t old = w->plen;
    int n;
    if (as_index)
        n = snprintf(w->path + old, sizeof w->path - old, "[%s]", key);
    else
        n = snprintf(w->path + old, sizeof w->path - old, "%s%s", old ? "." : "", key);
    if (n > 0)
        w->plen = old + (size_t)n < sizeof w->path ? old + (size_t)n : sizeof w->path - 1;
    return old;
}

static size_t path_push_index(walker *w, size_t i)
{
    size_t old = w->plen;
    int n = snprintf(w->path + old, sizeof w->path - old, "[%zu]", i);
    if (n > 0)
        w->plen = old + (size_t)n < sizeof w->path ? old + (size_t)n : sizeof w->path - 1;
    return old;
}

static void path_pop(walker *w, size_t old)
{
    w->plen = old;
    w->path[old] = '\0';
}

static void report(walker *w, const dyn_node *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(walker *w, const dyn_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_diags_vadd(w->diags, DYN_SEV_ERROR, w->file, at ? at->line : 0, at ? at->col : 0, w->path, fmt, ap);
    va_end(ap);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t prev[41], cur[41];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

/* The closest defined property name, for "did you mean" hints. */
static const char *closest_property(const json_t *props, const char *key)
{
    const char *best = NULL, *name;
    size_t best_d = 3;
    json_t *v;
    json_object_foreach((json_t *)props, name, v) {
        size_t d = edit_distance(key, name);
        if (d < best_d) {
            best_d = d;
            best = name;
        }
    }
    return best;
}

static const char *schema_type(const json_t *schema)
{
    return json_string_value(json_object_get(schema, "type"));
}

/* An integer, or a float with an integral value that fits in 64 bits ("1.0"); a literal too big
 * for int64 reads as a float and is not an integer any API server would take. */
static int is_integral(const dyn_node *n)
{
    return n->kind == DYN_NODE_INT || (n->kind == DYN_NODE_FLOAT && isfinite(n->number) &&
                                       n->number == floor(n->number) && fabs(n->number) < 9.2e18);
}

static void check_node(walker *w, const json_t *schema, const dyn_node *n);

static void check_enum(walker *w, const json_t *schema, const dyn_node *n)
{
    const json_t *en = json_object_get(schema, "enum");
    if (!json_is_array(en) || !dyn_node_is_scalar(n))
        return;
    size_t i;
    json_t *v;
    char allowed[512] = "";
    size_t used = 0;
    json_array_foreach(en, i, v) {
        const char *s = json_string_value(v);
        if (s && n->kind == DYN_NODE_STRING && strcmp(s, n->text) == 0)
            return;
        if (json_is_integer(v) && n->kind == DYN_NODE_INT && json_integer_value(v) == n->integer)
            return;
        if (s && used < sizeof allowed)
            used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", s);
    }
    report(w, n, "must be one of: %s (got \"%.100s\")", allowed, n->text);
}

static void check_string(walker *w, const json_t *schema, const dyn_node *n)
{
    const json_t *minl = json_object_get(schema, "minLength");
    const json_t *maxl = json_object_get(schema, "maxLength");
    if (minl && (json_int_t)n->len < json_integer_value(minl))
        report(w, n, "must be at least %lld characters long", (long long)json_integer_value(minl));
    if (maxl && (json_int_t)n->len > json_integer_value(maxl))
        report(w, n, "must be at most %lld characters long (is %zu)", (long long)json_integer_value(maxl), n->len);
    const char *pattern = json_string_value(json_object_get(schema, "pattern"));
    if (pattern) {
        if (is_quantity_pattern(pattern)) {
            const char *why;
            if (!dyn_quantity_parse(n->text, NULL, &why))
                report(w, n, "\"%.100s\" is not a valid quantity: %s; write e.g. 10Gi, 10G, 500m or 2", n->text, why);
        } else if (pattern_match(pattern, n->text) == 0)
            report(w, n, "\"%.100s\" does not match the pattern %s", n->text, pattern);
    }
    check_enum(w, schema, n);
}

static void check_number(walker *w, const json_t *schema, const dyn_node *n)
{
    double v = n->kind == DYN_NODE_INT ? (double)n->integer : n->number;
    const json_t *min = json_object_get(schema, "minimum");
    const json_t *max = json_object_get(schema, "maximum");
    if (min && v < json_number_value(min))
        report(w, n, "must be greater than or equal to %g (got %s)", json_number_value(min), n->text);
    if (max && v > json_number_value(max))
        report(w, n, "must be less than or equal to %g (got %s)", json_number_value(max), n->text);
    const char *fmt = json_string_value(json_object_get(schema, "format"));
    if (fmt && strcmp(fmt, "int32") == 0 && n->kind == DYN_NODE_INT && (n->integer > 2147483647LL || n->integer < -2147483648LL))
        report(w, n, "does not fit in a 32-bit integer (got %s)", n->text);
    check_enum(w, schema, n);
}

static void check_required(walker *w, const json_t *schema, const dyn_node *map)
{
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    json_t *r;
    json_array_foreach(req, i, r) {
        const char *name = json_string_value(r);
        if (name && !dyn_node_get(map, name)) {
            size_t old = path_push_key(w, name, 0);
            report(w, map, "required field is missing");
            path_pop(w, old);
        }
    }
}

static void check_map(walker *w, const json_t *schema, const dyn_node *n)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *additional = json_object_get(schema, "additionalProperties");
    int preserve = json_is_true(json_object_get(schema, "x-kubernetes-preserve-unknown-fields"));
    const json_t *maxp = json_object_get(schema, "maxProperties");
    if (maxp && (json_int_t)n->len > json_integer_value(maxp))
        report(w, n, "must have at most %lld entries (has %zu)", (long long)json_integer_value(maxp), n->len);
    for (size_t i = 0; i < n->len; i++) {
        const dyn_node *key = n->pairs[i].key;
        const dyn_node *value = n->pairs[i].value;
        const json_t *sub = props ? json_object_get(props, key->text) : NULL;
        int as_index = !sub && json_is_object(additional);
        size_t old = path_push_key(w, key->text, as_index);
        if (key->kind != DYN_NODE_STRING)
            report(w, key, "keys must be strings (write \"%.60s\" with quotes)", key->text);
        if (sub)
            check_node(w, sub, value);
        else if (json_is_object(additional))
            check_node(w, additional, value);
        else if (!preserve && !json_is_true(additional) && (props || json_is_false(additional))) {
            const char *hint = props ? closest_property(props, key->text) : NULL;
            if (hint)
                report(w, key, "unknown field \"%.100s\" (did you mean \"%s\"?)", key->text, hint);
            else
                report(w, key, "unknown field \"%.100s\"", key->text);
        }
        path_pop(w, old);
    }
    check_required(w, schema, n);
}

static void check_seq(walker *w, const json_t *schema, const dyn_node *n)
{
    const json_t *maxi = json_object_get(schema, "maxItems");
    const json_t *mini = json_object_get(schema, "minItems");
    if (maxi && (json_int_t)n->len > json_integer_value(maxi))
        report(w, n, "must have at most %lld items (has %zu)", (long long)json_integer_value(maxi), n->len);
    if (mini && (json_int_t)n->len < json_integer_value(mini))
        report(w, n, "must have at least %lld items (has %zu)", (long long)json_integer_value(mini), n->len);
    const json_t *items = json_object_get(schema, "items");
    if (!items)
        return;
    for (size_t i = 0; i < n->len; i++) {
        size_t old = path_push_index(w, i);
        if (n->items[i]->kind == DYN_NODE_NULL)
            report(w, n->items[i], "a list item must not be null"); /* unlike a field, it cannot be "not set" */
        else
            check_node(w, items, n->items[i]);
        path_pop(w, old);
    }
}

static void type_mismatch(walker *w, const dyn_node *n, const char *want)
{
    if (n->kind == DYN_NODE_STRING || !dyn_node_is_scalar(n) || strcmp(want, "a string") != 0)
        report(w, n, "must be %s, not %s", want, dyn_node_kind_name(n->kind));
    else
        report(w, n, "must be a string, not %s (write \"%.60s\" with quotes)", dyn_node_kind_name(n->kind), n->text);
}

static void check_node(walker *w, const json_t *schema, const dyn_node *n)
{
    if (!schema || !n || n->kind == DYN_NODE_NULL)
        return; /* null = not set */
    if (json_is_true(json_object_get(schema, "x-kubernetes-int-or-string"))) {
        if (n->kind == DYN_NODE_STRING)
            check_string(w, schema, n);
        else if (!is_integral(n))
            report(w, n, "must be an integer or a string, not %s", dyn_node_kind_name(n->kind));
        return;
    }
    const char *type = schema_type(schema);
    if (!type) {
        if (n->kind == DYN_NODE_MAP && (json_object_get(schema, "properties") || json_object_get(schema, "additionalProperties")))
            check_map(w, schema, n);
        return;
    }
    if (strcmp(type, "object") == 0) {
        if (n->kind != DYN_NODE_MAP)
            type_mismatch(w, n, "a map");
        else
            check_map(w, schema, n);
    } else if (strcmp(type, "array") == 0) {
        if (n->kind != DYN_NODE_SEQ)
            type_mismatch(w, n, "a list");
        else
            check_seq(w, schema, n);
    } else if (strcmp(type, "string") == 0) {
        if (n->kind != DYN_NODE_STRING)
            type_mismatch(w, n, "a string");
        else
            check_string(w, schema, n);
    } else if (strcmp(type, "integer") == 0) {
        if (n->kind == DYN_NODE_FLOAT && isfinite(n->number) && n->number == floor(n->number) && !is_integral(n))
            report(w, n, "%.40s is out of the 64-bit integer range", n->text);
        else if (!is_integral(n))
            type_mismatch(w, n, "an integer");
        else
            check_number(w, schema, n);
    } else if (strcmp(type, "number") == 0) {
        if (n->kind != DYN_NODE_INT && n->kind != DYN_NODE_FLOAT)
            type_mismatch(w, n, "a number");
        else
            check_number(w, schema, n);
    } else if (strcmp(type, "boolean") == 0) {
        if (n->kind != DYN_NODE_BOOL)
            type_mismatch(w, n, "a boolean (true or false)");
    }
}

void dyn_schema_check(const json_t *schema, const dyn_node *node, const char *file, const char *path,
                      dyn_diags *diags)
{
    walker *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->file = file;
    w->diags = diags;
    snprintf(w->path, sizeof w->path, "%s", path ? path : "");
    w->plen = strlen(w->path);
    check_node(w, schema, node);
    free(w);
}
