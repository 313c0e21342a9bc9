/* Validation: the one function the CLI, the webhook and the operator call.
 *
 * dyn_bundle_load parses a file (YAML or JSON, several documents), checks every document
 * structurally against the CRD schemas, decodes graphs and runs the semantic rules of the
 * original operator (spec/operator.md §3) plus ours (DESIGN.md Decisions). Every problem is
 * reported, each with file:line:col and field path. */
#ifndef DYN_API_VALIDATE_H
#define DYN_API_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "api/config.h"
#include "api/graph.h"
#include "base/diag.h"

typedef struct dyn_load_opts {
    const dyn_config *config;        /* operator settings; NULL = defaults */
    const char *namespace_;          /* --namespace: used when an object has none; NULL = "default" */
} dyn_load_opts;

/* Returns true when no error was found (warnings allowed). The bundle is filled either way and
 * must be freed with dyn_bundle_free. */
bool dyn_bundle_load(dyn_bundle *b, const char *file, const char *text, size_t len, const dyn_load_opts *opts,
                     dyn_diags *diags);
void dyn_bundle_free(dyn_bundle *b);

/* The semantic rules for one decoded graph. */
void dyn_graph_validate(const dyn_graph *g, const dyn_load_opts *opts, dyn_diags *diags);

/* Rules for an update (webhook/operator): backendFramework is immutable. */
void dyn_graph_validate_update(const dyn_graph *old_graph, const dyn_graph *new_graph, dyn_diags *diags);

/* The Kubernetes namespace a graph lands in: metadata.namespace, else opts, else "default". */
const char *dyn_graph_namespace(const dyn_graph *g, const dyn_load_opts *opts);

/* Effective discovery backend: the graph's nvidia.com/dynamo-discovery-backend annotation, else
 * the operator setting. */
const char *dyn_graph_discovery(const dyn_graph *g, const dyn_config *cfg);

/* The backend framework a worker runs: detected from `python -m dynamo.<fw>` in its command and
 * args, else the graph's backendFramework, else NULL. *conflict is set when the command names
 * more than one framework. */
const char *dyn_service_framework(const dyn_graph *g, const dyn_service *s, bool *conflict);

/* componentType is frontend / worker, prefill or decode / planner. */
bool dyn_service_is_frontend(const dyn_service *s);
bool dyn_service_is_worker(const dyn_service *s);
bool dyn_service_is_planner(const dyn_service *s);

#endif
