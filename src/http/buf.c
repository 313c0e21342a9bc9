/* Growable buffer: see buf.h. */
#include "http/buf.h"

#include <stdarg.h>
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

void dyn_buf_json_str(dyn_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    dyn_buf_append(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        dyn_buf_append(b, run, (size_t)(s - run));
        run = s + 1;
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
