/* Kubernetes-discovery RBAC: ServiceAccount, Role, RoleBinding (spec/operator.md §5.10). */
#include <stdio.h>

#include "render/render.h"

static json_t *rbac_labels(const char *sa)
{
    return json_pack("{s:s, s:s, s:s}", "app.kubernetes.io/managed-by", "dynamo-operator",
                     "app.kubernetes.io/component", "rbac", "app.kubernetes.io/name", sa);
}

static void append_owned(json_t *out, json_t *obj, const dyn_plan *plan)
{
    dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}

void dyn_render_rbac(json_t *out, const dyn_plan *plan)
{
    if (!plan->discovery_rbac)
        return;
    const char *sa = plan->discovery_sa;
    char role[300], binding[300];
    snprintf(role, sizeof role, "%s-role", sa);
    snprintf(binding, sizeof binding, "%s-binding", sa);
    json_t *labels = rbac_labels(sa);

    append_owned(out, json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
                                dyn_render_meta(sa, plan->namespace_, labels, NULL)),
                 plan);
    json_t *rules = json_pack("[{s:[s], s:[s, s], s:[s, s, s]}, {s:[s], s:[s], s:[s, s, s]},"
                              " {s:[s], s:[s], s:[s, s, s, s, s, s, s]}]",
                              "apiGroups", "", "resources", "endpoints", "pods", "verbs", "get", "list", "watch",
                              "apiGroups", "discovery.k8s.io", "resources", "endpointslices", "verbs", "get", "list",
                              "watch", "apiGroups", "nvidia.com", "resources", "dynamoworkermetadatas", "verbs",
                              "create", "get", "list", "watch", "update", "patch", "delete");
    append_owned(out, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "rbac.authorization.k8s.io/v1", "kind", "Role",
                                "metadata", dyn_render_meta(role, plan->namespace_, labels, NULL), "rules", rules),
                 plan);
    append_owned(out, json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:s}], s:{s:s, s:s, s:s}}", "apiVersion",
                                "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata",
                                dyn_render_meta(binding, plan->namespace_, labels, NULL), "subjects", "kind",
                                "ServiceAccount", "name", sa, "namespace", plan->namespace_, "roleRef", "apiGroup",
                                "rbac.authorization.k8s.io", "kind", "Role", "name", role),
                 plan);
    json_decref(labels);
}
