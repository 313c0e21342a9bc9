/* LeaderWorkerSets for a multinode component, one per replica (spec/operator.md §5.11, LWS
 * path). Volcano PodGroups are not rendered: LWS's LeaderCreated startup policy orders the
 * group and no gang scheduler is required. */
#include <stdio.h>

#include "render/render.h"

static json_t *role_template(const dyn_plan_component *c, const json_t *pod_spec, const char *role,
                             const char *instance)
{
    json_t *labels = json_deep_copy(c->pod_labels);
    json_object_del(labels, DYN_LABEL_SELECTOR); /* LWS selects its own pods */
    json_object_set_new(labels, "role", json_string(role));
    json_object_set_new(labels, "instance-id", json_string(instance));
    json_t *meta = json_pack("{s:o}", "labels", labels);
    if (json_object_size(c->pod_annotations))
        json_object_set_new(meta, "annotations", json_deep_copy(c->pod_annotations));
    return json_pack("{s:o, s:O}", "metadata", meta, "spec", pod_spec);
}

void dyn_render_leaderworkerset(json_t *out, const dyn_plan *plan, const dyn_plan_component *c)
{
    if (c->node_count < 2)
        return;
    for (int i = 0; i < c->replicas; i++) {
        char name[400], instance[16];
        snprintf(name, sizeof name, "%s-%d", c->name, i);
        snprintf(instance, sizeof instance, "%d", i);
        json_t *labels = json_deep_copy(c->labels);
        json_object_set_new(labels, "instance-id", json_string(instance));
        json_t *obj = json_pack(
            "{s:s, s:s, s:o, s:{s:i, s:s, s:{s:i, s:o, s:o}}}", "apiVersion", "leaderworkerset.x-k8s.io/v1", "kind",
            "LeaderWorkerSet", "metadata", dyn_render_meta(name, plan->namespace_, labels, c->annotations), "spec",
            "replicas", 1, "startupPolicy", "LeaderCreated", "leaderWorkerTemplate", "size", c->node_count,
            "leaderTemplate", role_template(c, c->leader_pod_spec, "leader", instance), "workerTemplate",
            role_template(c, c->worker_pod_spec, "worker", instance));
        json_decref(labels);
        if (plan->from_dcd)
            dyn_render_own_by_graph(obj, plan);
        json_array_append_new(out, obj);
    }
}
