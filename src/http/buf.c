/* Growable buffer: see buf.h. */
#include "http/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dyn_buf_reserve(dyn_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = 1;
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void dyn_buf_append(dyn_buf *b, const void *p, size_t n)
{
    char *w = dyn_buf_reserve(b, n);
    if (!w)
        return;
    memcpy(w, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void dyn_buf_puts(dyn_buf *b, const char *s) { dyn_buf_append(b, s, strlen(s)); }

void dyn_buf_printf(dyn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        dyn_buf_append(b, tmp, (size_t)n);
        return;
    }
    char *w = dyn_buf_reserve(b, (size_t)n);
    if (!w)
        return;
    va_start(ap, fmt);
    vsnprintf(w, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (!n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    uint32_t cp = n == 2 ? (uint32_t)(c & 0x1f) << 6 | (s[1] & 0x3f)
                : n == 3 ? (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
                         : (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* JSON string literal; bytes that are not UTF-8 (e.g. echoed from a client's bad input, or a
 * message cut mid-character) become U+FFFD so the document stays valid JSON. */
void dyn_buf_json_str(dyn_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    dyn_buf_append(b, "\"", 1);
    const char *run = s;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s);
            if (n) {
                s += n;
                continue;
            }
            dyn_buf_append(b, run, (size_t)(s - run));
            dyn_buf_append(b, "\\ufffd", 6);
            run = ++s;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        dyn_buf_append(b, run, (size_t)(s - run));
        run = ++s;
        char esc[6] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; dyn_buf_append(b, esc, 2); break;
        case '\\': esc[1] = '\\'; dyn_buf_append(b, esc, 2); break;
        case '\n': esc[1] = 'n'; dyn_buf_append(b, esc, 2); break;
        case '\r': esc[1] = 'r'; dyn_buf_append(b, esc, 2); break;
        case '\t': esc[1] = 't'; dyn_buf_append(b, esc, 2); break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0'; esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            dyn_buf_append(b, esc, 6);
        }
    }
    dyn_buf_append(b, run, (size_t)(s - run));
    dyn_buf_append(b, "\"", 1);
}

int dyn_buf_ok(const dyn_buf *b) { return !b->oom; }

char *dyn_buf_take(dyn_buf *b, size_t *len)
{
    char *p = b->oom ? NULL : b->data;
    if (b->oom)
        free(b->data);
    else if (!p)
        p = calloc(1, 1);
    if (len)
        *len = p ? b->len : 0;
    memset(b, 0, sizeof *b);
    return p;
}

void dyn_buf_free(dyn_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
