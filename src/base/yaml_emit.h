/* JSON values -> block-style YAML, deterministic (key order as inserted) and safe to read back:
 * any string that a YAML reader would take for something else is quoted. */
#ifndef DYN_BASE_YAML_EMIT_H
#define DYN_BASE_YAML_EMIT_H

#include <jansson.h>
#include <stdio.h>

/* Writes one document (no leading ---) for value, ending with a newline. */
void dyn_yaml_emit(FILE *out, const json_t *value);

#endif
