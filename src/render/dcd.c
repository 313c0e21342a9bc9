/* DynamoComponentDeployment per service of a graph (spec/operator.md §5.4). */
#include "render/render.h"

void dyn_render_dcd(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (!c->dcd_spec)
        return;
    json_t *labels = json_object_get(c->dcd_spec, "labels");
    json_t *obj = json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", DYN_API_VERSION, "kind", DYN_KIND_DCD, "metadata",
                            dyn_render_meta(c->name, plan->namespace_, labels, NULL), "spec", c->dcd_spec);
    dyn_render_own_by_graph(obj, plan);
    json_array_append_new(out, obj);
}
