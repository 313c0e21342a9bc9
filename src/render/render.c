/* Rendering orchestration: every kind for every component, pass-through objects, apply order,
 * and output as YAML documents or a v1 List. */
#include "render/render.h"

#include <stdlib.h>
#include <string.h>

#include "base/yaml_emit.h"

json_t *dyn_render_plan(const dyn_plan *plan)
{
    json_t *out = json_array();
    dyn_render_pvcs(out, plan);
    dyn_render_rbac(out, plan);
    for (size_t i = 0; i < plan->n_components; i++) {
        const dyn_plan_component *c = &plan->components[i];
        dyn_render_dcd(out, plan, c);
        dyn_render_deployment(out, plan, c);
        dyn_render_leaderworkerset(out, plan, c);
        dyn_render_service(out, plan, c);
        dyn_render_ingress(out, plan, c);
        dyn_render_virtualservice(out, plan, c);
    }
    dyn_render_model_services(out, plan);
    return out;
}

/* Where an object came from, for duplicate reports. */
typedef struct origin {
    const char *file;
    const dyn_node *node;
} origin;

static const char *meta_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* Two documents that render the same object would overwrite each other at apply time. */
static void check_unique(const json_t *out, const origin *origins, const dyn_load_opts *opts, dyn_diags *diags)
{
    const char *dflt = opts && opts->namespace_ ? opts->namespace_ : "default";
    json_t *seen = json_object(); /* "kind/namespace/name" -> first index: linear in the object count */
    size_t i;
    json_t *o;
    json_array_foreach(out, i, o) {
        const char *kind = json_string_value(json_object_get(o, "kind")), *name = meta_str(o, "name");
        const char *ns = meta_str(o, "namespace") ? meta_str(o, "namespace") : dflt;
        if (!kind || !name)
            continue;
        char key[1024];
        snprintf(key, sizeof key, "%s/%s/%s", kind, ns, name);
        json_t *first = json_object_get(seen, key);
        if (first) {
            size_t j = (size_t)json_integer_value(first);
            dyn_diags_add(diags, DYN_SEV_ERROR, origins[i].file, origins[i].node, "",
                          "%s %s/%s is also produced by %s:%d; object names must be unique per kind and namespace",
                          kind, ns, name, origins[j].file, origins[j].node ? origins[j].node->line : 0);
        } else
            json_object_set_new(seen, key, json_integer((json_int_t)i));
    }
    json_decref(seen);
}

json_t *dyn_render_bundles(const dyn_bundle *bundles, size_t n, const dyn_load_opts *opts, dyn_diags *diags)
{
    json_t *out = json_array();
    origin *origins = NULL;
    size_t n_origins = 0;
    for (size_t b = 0; b < n; b++) {
        const dyn_bundle *bundle = &bundles[b];
        /* graphs and other objects interleave in document order before sorting */
        size_t gi = 0, oi = 0;
        while (gi < bundle->n_graphs || oi < bundle->n_objects) {
            bool take_graph = oi >= bundle->n_objects ||
                              (gi < bundle->n_graphs && bundle->graphs[gi].node->line < bundle->objects[oi].node->line);
            const dyn_node *src = take_graph ? bundle->graphs[gi].node : bundle->objects[oi].node;
            if (take_graph) {
                dyn_plan plan;
                if (dyn_plan_build(&plan, &bundle->graphs[gi], opts) == 0) {
                    json_t *objs = dyn_render_plan(&plan);
                    json_array_extend(out, objs);
                    json_decref(objs);
                }
                dyn_plan_free(&plan);
                gi++;
            } else
                json_array_append(out, bundle->objects[oi++].json);
            if (diags) {
                origins = realloc(origins, json_array_size(out) * sizeof *origins + sizeof *origins);
                if (!origins)
                    abort();
                while (n_origins < json_array_size(out))
                    origins[n_origins++] = (origin){bundle->stream.file, src};
            }
        }
    }
    if (diags)
        check_unique(out, origins, opts, diags);
    free(origins);
    dyn_render_sort(out);
    return out;
}

/* Apply order, as Helm and kubectl users expect: what others refer to comes first. */
static int kind_rank(const json_t *obj)
{
    static const char *const order[] = {
        "Namespace", "CustomResourceDefinition", "PriorityClass", "ServiceAccount", "Secret", "ConfigMap",
        "ResourceClaimTemplate", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DynamoComponentDeployment", "PodGroup",
        "DaemonSet", "Pod", "ReplicaSet", "Deployment", "StatefulSet", "LeaderWorkerSet", "Job", "CronJob",
        NULL,
    };
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    if (!kind)
        return 98;
    if (strcmp(kind, "Ingress") == 0 || strcmp(kind, "VirtualService") == 0 || strcmp(kind, "Gateway") == 0 ||
        strcmp(kind, "HTTPRoute") == 0)
        return 99; /* routes last: they point at Services that must exist */
    for (int i = 0; order[i]; i++)
        if (strcmp(order[i], kind) == 0)
            return i;
    return 97; /* unknown kinds after the known ones, before routes */
}

void dyn_render_sort(json_t *objects)
{
    size_t n = json_array_size(objects);
    if (n < 2)
        return;
    json_t **items = malloc(n * sizeof *items);
    int *ranks = malloc(n * sizeof *ranks);
    if (!items || !ranks)
        abort();
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(objects, i));
        ranks[i] = kind_rank(items[i]);
    }
    for (size_t i = 1; i < n; i++) { /* stable insertion sort; lists are short */
        json_t *cur = items[i];
        int r = ranks[i];
        size_t j = i;
        while (j > 0 && ranks[j - 1] > r) {
            items[j] = items[j - 1];
            ranks[j] = ranks[j - 1];
            j--;
        }
        items[j] = cur;
        ranks[j] = r;
    }
    json_array_clear(objects);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(objects, items[i]);
    free(items);
    free(ranks);
}

void dyn_render_write_yaml(FILE *out, const json_t *objects)
{
    size_t i;
    json_t *obj;
    json_array_foreach(objects, i, obj) {
        fputs("---\n", out);
        dyn_yaml_emit(out, obj);
    }
}

void dyn_render_write_json(FILE *out, const json_t *objects)
{
    json_t *list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", objects);
    json_dumpf(list, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(list);
}
