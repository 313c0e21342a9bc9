/* Diagnostics list: see diag.h. */
#include "base/diag.h"

#include <stdlib.h>
#include <string.h>

void dyn_diags_init(dyn_diags *d)
{
    memset(d, 0, sizeof *d);
}

void dyn_diags_free(dyn_diags *d)
{
    for (size_t i = 0; i < d->len; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

void dyn_diags_vadd(dyn_diags *d, dyn_severity sev, const char *file, int line, int col,
                    const char *path, const char *fmt, va_list ap)
{
    if (d->len == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        dyn_diag *items = realloc(d->items, cap * sizeof *items);
        if (!items)
            abort();
        d->items = items;
        d->cap = cap;
    }
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    dyn_diag *g = &d->items[d->len++];
    g->severity = sev;
    g->file = strdup(file ? file : "-");
    g->line = line;
    g->col = col;
    g->path = strdup(path ? path : "");
    g->message = msg;
    if (sev == DYN_SEV_ERROR)
        d->errors++;
    else
        d->warnings++;
}

void dyn_diags_add_at(dyn_diags *d, dyn_severity sev, const char *file, int line, int col,
                      const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_diags_vadd(d, sev, file, line, col, path, fmt, ap);
    va_end(ap);
}

void dyn_diags_add(dyn_diags *d, dyn_severity sev, const char *file, const dyn_node *at,
                   const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_diags_vadd(d, sev, file, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
    va_end(ap);
}

static int diag_cmp(const void *pa, const void *pb)
{
    const dyn_diag *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return 0;
}

typedef struct indexed {
    dyn_diag diag;
    size_t index;
} indexed;

static int indexed_cmp(const void *pa, const void *pb)
{
    const indexed *a = pa, *b = pb;
    int c = diag_cmp(&a->diag, &b->diag);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index); /* stable */
}

void dyn_diags_sort(dyn_diags *d)
{
    size_t n = d->len;
    if (n < 2)
        return;
    indexed *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        abort();
    for (size_t i = 0; i < n; i++)
        tmp[i] = (indexed){d->items[i], i};
    qsort(tmp, n, sizeof *tmp, indexed_cmp);
    for (size_t i = 0; i < n; i++)
        d->items[i] = tmp[i].diag;
    free(tmp);
}

void dyn_diags_print(const dyn_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->len; i++) {
        const dyn_diag *g = &d->items[i];
        const char *sev = g->severity == DYN_SEV_ERROR ? "error" : "warning";
        if (g->line > 0)
            fprintf(out, "%s:%d:%d: %s: ", g->file, g->line, g->col, sev);
        else
            fprintf(out, "%s: %s: ", g->file, sev);
        if (g->path[0])
            fprintf(out, "%s: ", g->path);
        fprintf(out, "%s\n", g->message);
    }
}

json_t *dyn_diags_to_json(const dyn_diags *d)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < d->len; i++) {
        const dyn_diag *g = &d->items[i];
        json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", g->file, "line",
                                             g->line, "column", g->col, "severity",
                                             g->severity == DYN_SEV_ERROR ? "error" : "warning",
                                             "path", g->path, "message", g->message));
    }
    return arr;
}
