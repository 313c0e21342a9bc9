/* One Service per component, selecting on three labels so that components of the same type
 * (prefill and decode workers) never select each other's pods (DESIGN.md Decisions). */
#include <string.h>

#include "render/render.h"

void dyn_render_service(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (!c->has_service)
        return;
    json_t *labels = json_deep_copy(c->labels);
    if (strcmp(plan->discovery, "kubernetes") == 0) {
        json_object_set_new(labels, DYN_LABEL_DISCOVERY_BACKEND, json_string("kubernetes"));
        json_object_set_new(labels, DYN_LABEL_DISCOVERY_ENABLED, json_string("true"));
    }
    json_t *selector = json_deep_copy(c->selector);
    if (c->node_count >= 2)
        json_object_set_new(selector, "role", json_string("leader"));
    json_t *obj = json_pack("{s:s, s:s, s:o, s:{s:s, s:o, s:[{s:s, s:i, s:s, s:s}]}}", "apiVersion", "v1", "kind",
                            "Service", "metadata", dyn_render_meta(c->name, plan->namespace_, labels, c->annotations),
                            "spec", "type", "ClusterIP", "selector", selector, "ports", "name", c->service_port_name,
                            "port", c->service_port, "targetPort", c->service_port_name, "protocol", "TCP");
    json_decref(labels);
    if (plan->from_dcd)
        dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}
