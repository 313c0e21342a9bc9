/* JSON -> YAML emitter: see yaml_emit.h. */
#include "base/yaml_emit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void indent(FILE *out, int n)
{
    static const char spaces[] = "                                                                ";
    while (n > 0) {
        int k = n < (int)sizeof spaces - 1 ? n : (int)sizeof spaces - 1;
        fwrite_unlocked(spaces, 1, (size_t)k, out);
        n -= k;
    }
}

/* Plain scalars a YAML 1.1 or 1.2 reader would take for null, a boolean or a special float. */
static bool is_reserved_word(const char *s, size_t len)
{
    static const char *const words[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
                                        "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On",
                                        "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".inf", ".Inf", ".INF",
                                        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
                                        ".NAN", NULL};
    /* every reserved word starts with one of these: most strings leave here */
    if (len > 6 || (len && !strchr("~nNtTfFyYoO.+-", s[0])))
        return len == 0;
    for (const char *const *w = words; *w; w++)
        if ((*w)[0] == s[0] && strlen(*w) == len && memcmp(*w, s, len) == 0)
            return true;
    return len == 0;
}

/* Character classes, built once: what may appear in a number, what may not start a plain scalar. */
static bool numeric_char[256], indicator_char[256];

static void init_classes(void)
{
    for (const char *c = "0123456789+-._:eExXoObBaAcCdDfF"; *c; c++)
        numeric_char[(unsigned char)*c] = true;
    for (const char *c = "-?:,[]{}#&*!|>'\"%@` \t"; *c; c++)
        indicator_char[(unsigned char)*c] = true;
}

/* Would a reader take this plain scalar for a non-string, or misparse it? */
static bool needs_quotes(const char *s, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_classes);
    if (len == 0 || is_reserved_word(s, len))
        return true;
    if (len >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
        return true;
    if (indicator_char[(unsigned char)s[0]])
        return !(s[0] == '-' && len > 1 && s[1] != ' ' && !(s[1] >= '0' && s[1] <= '9') && s[1] != '.');
    if (s[len - 1] == ' ' || s[len - 1] == ':' || s[len - 1] == '\t')
        return true;
    /* anything that starts like a number (ints, floats, hex, octal, YAML 1.1 base 60) and
     * continues like one: be conservative and quote it */
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if ((*p >= '0' && *p <= '9') || *p == '.') {
        bool numeric = true;
        for (const char *q = p; q < s + len && numeric; q++)
            numeric = numeric_char[(unsigned char)*q];
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
    fputc_unlocked('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs_unlocked("\\\"", out); break;
        case '\\': fputs_unlocked("\\\\", out); break;
        case '\n': fputs_unlocked("\\n", out); break;
        case '\t': fputs_unlocked("\\t", out); break;
        case '\r': fputs_unlocked("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\x%02x", c);
            else
                fputc_unlocked(c, out);
        }
    }
    fputc_unlocked('"', out);
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
    fputs_unlocked(trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+", out);
    size_t body = trailing > 1 ? len : len - trailing;
    size_t start = 0;
    fputc_unlocked('\n', out);
    for (size_t i = 0; i <= body; i++) {
        if (i == body || s[i] == '\n') {
            if (i > start) {
                indent(out, ind);
                fwrite_unlocked(s + start, 1, i - start, out);
            }
            if (i < body || trailing <= 1)
                fputc_unlocked('\n', out);
            start = i + 1;
        }
    }
}

static void emit_scalar(FILE *out, const json_t *v, int ind)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (literal_ok(s, len)) {
            emit_literal(out, s, len, ind);
            return;
        }
        if (needs_quotes(s, len) || memchr(s, '\n', len))
            emit_double_quoted(out, s, len);
        else
            fwrite_unlocked(s, 1, len, out);
        fputc_unlocked('\n', out);
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    fputs_unlocked(text ? text : "null", out);
    fputc_unlocked('\n', out);
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
        fputs_unlocked(key, out);
    fputc_unlocked(':', out);
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
            fputc_unlocked('\n', out);
            emit_value(out, v, json_is_array(v) ? ind + 2 : ind + 2);
        } else {
            fputc_unlocked(' ', out);
            if (json_is_object(v))
                fputs_unlocked("{}\n", out);
            else if (json_is_array(v))
                fputs_unlocked("[]\n", out);
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
        fputs_unlocked("- ", out);
        if (json_is_object(v) && json_object_size(v) > 0)
            emit_object(out, v, ind + 2, true);
        else if (json_is_array(v) && json_array_size(v) > 0) {
            fputc_unlocked('\n', out);
            emit_array(out, v, ind + 2);
        } else if (json_is_object(v))
            fputs_unlocked("{}\n", out);
        else if (json_is_array(v))
            fputs_unlocked("[]\n", out);
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
        fputs_unlocked("{}\n", out);
    else if (json_is_array(v))
        fputs_unlocked("[]\n", out);
    else
        emit_scalar(out, v, ind);
}

void dyn_yaml_emit(FILE *out, const json_t *value)
{
    emit_value(out, value, 0);
}
