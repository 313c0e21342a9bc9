/* PersistentVolumeClaims for spec.pvcs entries with create: true (spec/operator.md §5.2). */
#include "render/render.h"

void dyn_render_pvcs(json_t *out, const dyn_plan *plan)
{
    for (size_t i = 0; i < plan->n_pvcs; i++) {
        const dyn_plan_pvc *p = &plan->pvcs[i];
        if (!p->create)
            continue; /* must already exist; the operator verifies, never creates or changes it */
        json_t *obj = json_pack("{s:s, s:s, s:o, s:{s:[s], s:{s:{s:s}}, s:s}}", "apiVersion", "v1", "kind",
                                "PersistentVolumeClaim", "metadata", dyn_render_meta(p->name, plan->namespace_, NULL, NULL),
                                "spec", "accessModes", p->access_mode, "resources", "requests", "storage", p->size,
                                "storageClassName", p->storage_class);
        dyn_render_own_by_graph(obj, plan);
        json_array_append_new(out, obj);
    }
}
