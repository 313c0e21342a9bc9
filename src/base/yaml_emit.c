/* JSON -> YAML emitter: see yaml_emit.h. */
#include "base/yaml_emit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void indent(FILE *out, int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', out);
}

/* Would a YAML 1.1 or 1.2 reader take this plain scalar for a non-string, or misparse it? */
static bool needs_quotes(const char *s, size_t len)
{
    static const char *const reserved[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
                                           "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On",
                                           "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".inf", ".Inf", ".INF", "+.inf",
                                           "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};
    for (const char *const *r = reserved; *r; r++)
        if (strlen(*r) == len && memcmp(*r, s, len) == 0)
            return true;
    if ((len >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0)))
        return true;
    if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
        return !(s[0] == '-' && len > 1 && s[1] != ' ' && !(s[1] >= '0' && s[1] <= '9') && s[1] != '.');
    if (s[len - 1] == ' ' || s[len - 1] == ':' || s[len - 1] == '\t')
        return true;
    /* anything a reader could take for a number (ints, floats, hex, octal, YAML 1.1 base 60):
     * be conservative and quote whatever starts like one */
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if ((*p >= '0' && *p <= '9') || *p == '.') {
        bool numeric = true;
        for (const char *q = p; *q && numeric; q++)
            numeric = strchr("0123456789+-._:eExXoObBaAcCdDfF", *q) != NULL;
        if (numeric)
            return true;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return true;
        if ((c == ':' && (i + 1 == len || s[i + 1] == ' ')) || (c == '#' && i > 0 && s[i - 1] == ' '))
            return true;
    }
    return false;
}

static void emit_double_quoted(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\x%02x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Multi-line text reads best as a literal block, when it round-trips exactly. */
static bool literal_ok(const char *s, size_t len)
{
    if (!memchr(s, '\n', len) || s[0] == ' ' || s[0] == '\n')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return false;
        if (c == ' ' && (i + 1 == len || s[i + 1] == '\n'))
            return false; /* trailing spaces would be lost in some editors; quote instead */
    }
    return true;
}

static void emit_literal(FILE *out, const char *s, size_t len, int ind)
{
    size_t trailing = 0;
    while (trailing < len && s[len - 1 - trailing] == '\n')
        trailing++;
    fputs(trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+", out);
    size_t body = trailing > 1 ? len : len - trailing;
    size_t start = 0;
    fputc('\n', out);
    for (size_t i = 0; i <= body; i++) {
        if (i == body || s[i] == '\n') {
            if (i > start) {
                indent(out, ind);
                fwrite(s + start, 1, i - start, out);
            }
            if (i < body || trailing <= 1)
                fputc('\n', out);
            start = i + 1;
        }
    }
}

static void emit_scalar(FILE *out, const json_t *v, int ind)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (literal_ok(s, len))
            emit_literal(out, s, len, ind);
        else if (needs_quotes(s, len) || memchr(s, '\n', len))
            emit_double_quoted(out, s, len);
        else
            fwrite(s, 1, len, out);
        if (!literal_ok(s, len))
            fputc('\n', out);
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    fputs(text ? text : "null", out);
    fputc('\n', out);
    free(text);
}

static bool is_collection(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

static void emit_value(FILE *out, const json_t *v, int ind);

static void emit_key(FILE *out, const char *key)
{
    size_t len = strlen(key);
    if (needs_quotes(key, len))
        emit_double_quoted(out, key, len);
    else
        fputs(key, out);
    fputc(':', out);
}

/* Writes the entries of a non-empty object; the first line's indentation is already written
 * when first_inline is true (a map inside a list item). */
static void emit_object(FILE *out, const json_t *obj, int ind, bool first_inline)
{
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach((json_t *)obj, key, v) {
        if (!(first && first_inline))
            indent(out, ind);
        first = false;
        emit_key(out, key);
        if (is_collection(v)) {
            fputc('\n', out);
            emit_value(out, v, json_is_array(v) ? ind + 2 : ind + 2);
        } else {
            fputc(' ', out);
            if (json_is_object(v))
                fputs("{}\n", out);
            else if (json_is_array(v))
                fputs("[]\n", out);
            else
                emit_scalar(out, v, ind + 2);
        }
    }
}

static void emit_array(FILE *out, const json_t *arr, int ind)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        indent(out, ind);
        fputs("- ", out);
        if (json_is_object(v) && json_object_size(v) > 0)
            emit_object(out, v, ind + 2, true);
        else if (json_is_array(v) && json_array_size(v) > 0) {
            fputc('\n', out);
            emit_array(out, v, ind + 2);
        } else if (json_is_object(v))
            fputs("{}\n", out);
        else if (json_is_array(v))
            fputs("[]\n", out);
        else
            emit_scalar(out, v, ind + 2);
    }
}

static void emit_value(FILE *out, const json_t *v, int ind)
{
    if (json_is_object(v) && json_object_size(v) > 0)
        emit_object(out, v, ind, false);
    else if (json_is_array(v) && json_array_size(v) > 0)
        emit_array(out, v, ind);
    else if (json_is_object(v))
        fputs("{}\n", out);
    else if (json_is_array(v))
        fputs("[]\n", out);
    else
        emit_scalar(out, v, ind);
}

void dyn_yaml_emit(FILE *out, const json_t *value)
{
    emit_value(out, value, 0);
}
