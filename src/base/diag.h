/* Diagnostics: every problem found in an input, each with where (file:line:col and field path)
 * and why. Validation collects them all instead of stopping at the first. */
#ifndef DYN_BASE_DIAG_H
#define DYN_BASE_DIAG_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/node.h"

typedef enum dyn_severity { DYN_SEV_ERROR, DYN_SEV_WARNING } dyn_severity;

typedef struct dyn_diag {
    dyn_severity severity;
    char *file;       /* owned */
    int line, col;    /* 0 when unknown */
    char *path;       /* owned; field path like spec.pvcs[0].size, may be empty */
    char *message;    /* owned */
} dyn_diag;

typedef struct dyn_diags {
    dyn_diag *items;
    size_t len, cap;
    size_t errors, warnings;
} dyn_diags;

void dyn_diags_init(dyn_diags *d);
void dyn_diags_free(dyn_diags *d);

/* Adds a diagnostic located at node `at` (may be NULL: then line/col are 0). */
void dyn_diags_add(dyn_diags *d, dyn_severity sev, const char *file, const dyn_node *at,
                   const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void dyn_diags_vadd(dyn_diags *d, dyn_severity sev, const char *file, int line, int col,
                    const char *path, const char *fmt, va_list ap);
void dyn_diags_add_at(dyn_diags *d, dyn_severity sev, const char *file, int line, int col,
                      const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Orders by file, line, column (stable), so output reads top to bottom. */
void dyn_diags_sort(dyn_diags *d);

/* gcc style: FILE:LINE:COL: error: PATH: MESSAGE, one per line. */
void dyn_diags_print(const dyn_diags *d, FILE *out);
/* A JSON list of {file,line,column,severity,path,message} (new reference). */
json_t *dyn_diags_to_json(const dyn_diags *d);

#endif
