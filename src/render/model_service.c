/* Headless "model" Service per distinct modelRef.name (spec/operator.md §5.9). */
#include <stdio.h>
#include <string.h>

#include "render/render.h"

void dyn_render_model_services(json_t *out, const dyn_plan *plan)
{
    for (size_t i = 0; i < plan->n_components; i++) {
        const dyn_plan_component *c = &plan->components[i];
        if (!c->model_name)
            continue;
        bool seen = false; /* the first service naming a model wins */
        for (size_t j = 0; j < i && !seen; j++)
            seen = plan->components[j].model_name && strcmp(plan->components[j].model_name, c->model_name) == 0;
        if (seen)
            continue;
        char name[64];
        snprintf(name, sizeof name, "dynamo-model-%s", c->model_hash);
        json_t *labels = json_pack("{s:s, s:s}", DYN_LABEL_MODEL_HASH, c->model_hash, "nvidia.com/managed-by",
                                   "dynamo-operator");
        json_t *annotations = json_pack("{s:s}", DYN_ANNOTATION_BASE_MODEL, c->model_name);
        json_t *obj = json_pack("{s:s, s:s, s:o, s:{s:s, s:b, s:{s:s}, s:[{s:s, s:i, s:i, s:s}]}}", "apiVersion", "v1",
                                "kind", "Service", "metadata",
                                dyn_render_meta(name, plan->namespace_, labels, annotations), "spec", "clusterIP",
                                "None", "publishNotReadyAddresses", 0, "selector", DYN_LABEL_MODEL_HASH, c->model_hash,
                                "ports", "name", "system", "port", DYN_PORT_SYSTEM, "targetPort", DYN_PORT_SYSTEM,
                                "protocol", "TCP");
        json_decref(labels);
        json_decref(annotations);
        dyn_render_own_by_graph(obj, plan);
        json_array_append_new(out, obj);
    }
}
