/* Deployment for a single-node component (spec/operator.md §5.5). */
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

/* RollingUpdate 25%/25% unless the component's annotations ask otherwise. Integer-looking values
 * become integers, as Kubernetes reads "1" and 1 differently for maxSurge. */
static json_t *int_or_percent(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    return *v && !*end ? json_integer(n) : json_string(v);
}

static json_t *strategy(const json_t *annotations)
{
    const char *type = json_string_value(json_object_get(annotations, "nvidia.com/deployment-strategy"));
    if (type && strcmp(type, "Recreate") == 0)
        return json_pack("{s:s}", "type", "Recreate");
    const char *surge = json_string_value(json_object_get(annotations, "nvidia.com/deployment-rolling-update-max-surge"));
    const char *unavail =
        json_string_value(json_object_get(annotations, "nvidia.com/deployment-rolling-update-max-unavailable"));
    return json_pack("{s:s, s:{s:o, s:o}}", "type", "RollingUpdate", "rollingUpdate", "maxSurge",
                     int_or_percent(surge ? surge : "25%"), "maxUnavailable", int_or_percent(unavail ? unavail : "25%"));
}

void dyn_render_deployment(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (c->node_count >= 2)
        return;
    json_t *template = json_pack("{s:o, s:O}", "metadata", dyn_render_meta(c->name, NULL, c->pod_labels, c->pod_annotations),
                                 "spec", c->pod_spec);
    json_object_del(json_object_get(template, "metadata"), "name");
    json_t *spec = json_object();
    if (c->replicas_set)
        json_object_set_new(spec, "replicas", json_integer(c->replicas));
    json_object_set_new(spec, "selector", json_pack("{s:{s:s}}", "matchLabels", DYN_LABEL_SELECTOR, c->name));
    json_object_set_new(spec, "strategy", strategy(c->annotations));
    json_object_set_new(spec, "template", template);
    json_t *obj = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
                            dyn_render_meta(c->name, plan->namespace_, c->labels, c->annotations), "spec", spec);
    if (plan->from_dcd)
        dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}
