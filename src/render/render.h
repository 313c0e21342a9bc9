/* Rendering: plans -> the Kubernetes objects an operator applies, one file per kind.
 *
 * Each dyn_render_<kind> appends new objects to a JSON list. dyn_render_bundle renders every
 * graph of a bundle, adds the other objects of the file unchanged, and sorts the whole list into
 * apply order (namespaces, service accounts, config, PVCs and RBAC first; Services; workloads;
 * routes last). Output is deterministic: same input, byte-identical output. */
#ifndef DYN_RENDER_RENDER_H
#define DYN_RENDER_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "api/graph.h"
#include "api/validate.h"
#include "plan/plan.h"

/* Object metadata: name, namespace, labels and annotations (shared by reference: rendered objects
 * are never modified; empty maps omitted). */
json_t *dyn_render_meta(const char *name, const char *namespace_, const json_t *labels, const json_t *annotations);
/* Adds the controller ownerReference to the graph (DGD) when its uid is known. Objects owned
 * by a DynamoComponentDeployment get theirs from the operator, which knows the DCD's uid. */
void dyn_render_own_by_graph(json_t *obj, const dyn_plan *plan);

void dyn_render_pvcs(json_t *out, const dyn_plan *plan);
void dyn_render_rbac(json_t *out, const dyn_plan *plan);
void dyn_render_dcd(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_deployment(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_leaderworkerset(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_service(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_ingress(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_virtualservice(json_t *out, const dyn_plan *plan, const dyn_plan_component *c);
void dyn_render_model_services(json_t *out, const dyn_plan *plan);

/* All objects of one plan, unsorted (new list). */
json_t *dyn_render_plan(const dyn_plan *plan);
/* All objects of every graph and pass-through object of the bundles, in apply order (new list).
 * When diags is not NULL, two documents that produce the same object (kind, namespace, name) are
 * reported there, at the later document. */
json_t *dyn_render_bundles(const dyn_bundle *bundles, size_t n, const dyn_load_opts *opts, dyn_diags *diags);
/* Stable sort into apply order. */
void dyn_render_sort(json_t *objects);

/* Multi-document YAML ("---" between documents), or one v1 List as JSON. */
void dyn_render_write_yaml(FILE *out, const json_t *objects);
void dyn_render_write_json(FILE *out, const json_t *objects);

#endif
