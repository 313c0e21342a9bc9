/* Istio VirtualService (networking.istio.io/v1beta1) for a component's route (§5.8): a
 * user-given gateway works without an operator-level one (DESIGN.md Decisions). */
#include "render/render.h"

void dyn_render_virtualservice(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (c->route.kind != DYN_ROUTE_VIRTUAL_SERVICE)
        return;
    json_t *labels = json_deep_copy(c->labels);
    json_object_update(labels, c->route.labels);
    json_t *obj = json_pack(
        "{s:s, s:s, s:o, s:{s:[s], s:[s], s:[{s:[{s:{s:s}}], s:[{s:{s:s, s:{s:i}}}]}]}}", "apiVersion",
        "networking.istio.io/v1beta1", "kind", "VirtualService", "metadata",
        dyn_render_meta(c->name, plan->namespace_, labels, c->route.annotations), "spec", "hosts", c->route.host,
        "gateways", c->route.gateway, "http", "match", "uri", "prefix", "/", "route", "destination", "host", c->name,
        "port", "number", c->service_port);
    json_decref(labels);
    if (plan->from_dcd)
        dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}
