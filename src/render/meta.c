/* Object metadata and owner references shared by every kind. */
#include "render/render.h"

json_t *dyn_render_meta(const char *name, const char *namespace_, const json_t *labels, const json_t *annotations)
{
    json_t *meta = json_pack("{s:s}", "name", name);
    if (namespace_)
        json_object_set_new(meta, "namespace", json_string(namespace_));
    /* shared, not copied: rendered objects are read-only once built */
    if (labels && json_object_size(labels))
        json_object_set(meta, "labels", (json_t *)labels);
    if (annotations && json_object_size(annotations))
        json_object_set(meta, "annotations", (json_t *)annotations);
    return meta;
}

void dyn_render_own_by_graph(json_t *obj, const dyn_plan *plan)
{
    if (!plan->owner_uid)
        return;
    json_t *meta = json_object_get(obj, "metadata");
    json_object_set_new(meta, "ownerReferences",
                        json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", DYN_API_VERSION, "kind",
                                  plan->from_dcd ? DYN_KIND_DCD : DYN_KIND_DGD, "name", plan->graph_name, "uid",
                                  plan->owner_uid, "controller", 1, "blockOwnerDeletion", 1));
}
