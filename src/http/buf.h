/* A growable byte buffer for building HTTP bodies and JSON text (frontend and mocker).
 * Appends never fail silently: on out-of-memory the buffer is marked and later appends are
 * no-ops, so callers check dyn_buf_ok once at the end. */
#ifndef DYN_HTTP_BUF_H
#define DYN_HTTP_BUF_H

#include <stddef.h>

typedef struct dyn_buf {
    char *data;      /* NUL-terminated when len > 0 */
    size_t len, cap;
    int oom;
} dyn_buf;

void dyn_buf_append(dyn_buf *b, const void *p, size_t n);
void dyn_buf_puts(dyn_buf *b, const char *s);
void dyn_buf_printf(dyn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included). */
void dyn_buf_json_str(dyn_buf *b, const char *s);
/* Makes room for n more bytes; returns where to write them (NULL on OOM). Commit with len += n. */
char *dyn_buf_reserve(dyn_buf *b, size_t n);
int dyn_buf_ok(const dyn_buf *b);
/* Hands the data to the caller (who frees it) and resets b. */
char *dyn_buf_take(dyn_buf *b, size_t *len);
void dyn_buf_free(dyn_buf *b);

#endif
