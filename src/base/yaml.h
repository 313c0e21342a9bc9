/* YAML text -> positioned dyn_node trees, one per document (libfyaml's event parser).
 *
 * Scalars are typed with the YAML 1.2 core schema (plain `true`, `42`, `1.5`, `null`, `~`, empty;
 * quoted scalars are always strings). Anchors and aliases are resolved and `<<` merge keys
 * applied. Duplicate keys, tabs in indentation, aliases to unknown anchors, complex keys,
 * invalid UTF-8 and non-YAML input are errors with their position. */
#ifndef DYN_BASE_YAML_H
#define DYN_BASE_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/node.h"

typedef struct dyn_yaml_stream {
    dyn_arena arena;    /* owns every node and string below */
    const char *file;   /* name used in diagnostics ("-" for stdin) */
    dyn_node **docs;    /* documents in order; an empty document is a DYN_NODE_NULL root */
    size_t n_docs;
} dyn_yaml_stream;

/* Parses buf (len bytes, need not be NUL-terminated). On a syntax error the documents read
 * before it are kept, the error is added to diags and false is returned. The stream must be
 * released with dyn_yaml_stream_free either way. */
bool dyn_yaml_parse(dyn_yaml_stream *s, const char *file, const char *buf, size_t len, dyn_diags *diags);
void dyn_yaml_stream_free(dyn_yaml_stream *s);

/* Reads a whole file ("-" = stdin) into a malloc'd buffer. Returns NULL and sets errno on failure. */
char *dyn_read_file(const char *path, size_t *len);

#endif
