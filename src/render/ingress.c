/* Ingress (networking.k8s.io/v1) for a component's route (spec/operator.md §5.7 with our
 * Decisions: the route's labels and annotations are applied, the backend port is the
 * component's real Service port). */
#include "render/render.h"

void dyn_render_ingress(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (c->route.kind != DYN_ROUTE_INGRESS)
        return;
    json_t *labels = json_deep_copy(c->labels);
    json_object_update(labels, c->route.labels);
    json_t *spec = json_object();
    if (c->route.class_name)
        json_object_set_new(spec, "ingressClassName", json_string(c->route.class_name));
    json_object_set_new(spec, "rules",
                        json_pack("[{s:s, s:{s:[{s:s, s:s, s:{s:{s:s, s:{s:i}}}}]}}]", "host", c->route.host, "http",
                                  "paths", "path", "/", "pathType", "Prefix", "backend", "service", "name", c->name,
                                  "port", "number", c->service_port));
    if (c->route.tls_secret)
        json_object_set_new(spec, "tls", json_pack("[{s:[s], s:s}]", "hosts", c->route.host, "secretName",
                                                   c->route.tls_secret));
    json_t *obj = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "networking.k8s.io/v1", "kind", "Ingress",
                            "metadata", dyn_render_meta(c->name, plan->namespace_, labels, c->route.annotations),
                            "spec", spec);
    json_decref(labels);
    if (plan->from_dcd)
        dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}
