/* Structural validation of a positioned tree against the original CRDs' OpenAPI v3 schemas.
 *
 * The schemas are compiled into the library (tools/embed_schema.c) and are the oracle for which
 * fields exist: an unknown field is an error at its line and column, as `kubectl
 * --validate=strict` does. Types, enums, minimum/maximum, min/max items and properties, lengths,
 * patterns and required fields are checked the way an API server would; a null value means the
 * field is not set. CEL rules (x-kubernetes-validations) are not interpreted here: the semantic
 * validator implements the ones the original defines. */
#ifndef DYN_API_SCHEMA_H
#define DYN_API_SCHEMA_H

#include <jansson.h>

#include "base/diag.h"
#include "base/node.h"

/* The openAPIV3Schema of an embedded CRD ("dgd_v1alpha1", "dcd_v1alpha1"), or NULL. Borrowed:
 * loaded once per process, never freed, safe to share between threads. */
const json_t *dyn_schema_get(const char *name);

/* Checks node against schema; problems are added to diags with file and positions. path is the
 * field path of node ("" for a document root). */
void dyn_schema_check(const json_t *schema, const dyn_node *node, const char *file, const char *path,
                      dyn_diags *diags);

/* The sub-schema for a property path like "spec.services.*.ingress" ('*' = map value or list
 * item), or NULL. Used to ask whether a field exists. */
const json_t *dyn_schema_at(const json_t *schema, const char *dotted);

#endif
