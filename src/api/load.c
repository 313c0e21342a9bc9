/* Loading a file: YAML -> documents -> (schema check, decode, validate) per graph, light checks
 * for any other Kubernetes object. See validate.h. */
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"
#include "api/validate.h"
#include "base/names.h"

/* ObjectMeta fields a manifest may carry; anything else under metadata is a typo. */
static const char *const object_meta_fields[] = {
    "name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
    "managedFields", "selfLink", NULL,
};

static void check_string_map(const dyn_node *meta, const char *key, const char *file, dyn_diags *diags,
                             bool values_are_labels)
{
    const dyn_node *m = dyn_node_get(meta, key);
    if (!m)
        return;
    char path[256];
    if (m->kind != DYN_NODE_MAP) {
        snprintf(path, sizeof path, "metadata.%s", key);
        dyn_diags_add(diags, DYN_SEV_ERROR, file, m, path, "must be a map of strings");
        return;
    }
    for (size_t i = 0; i < m->len; i++) {
        const dyn_node *k = m->pairs[i].key, *v = m->pairs[i].value;
        snprintf(path, sizeof path, "metadata.%s[%.120s]", key, k->text);
        if (v->kind != DYN_NODE_STRING && v->kind != DYN_NODE_NULL) {
            dyn_diags_add(diags, DYN_SEV_ERROR, file, v, path, "must be a string, not %s (write \"%.60s\" with quotes)",
                          dyn_node_kind_name(v->kind), v->text ? v->text : "");
            continue;
        }
        const char *why;
        if (!dyn_label_key(k->text, &why)) {
            dyn_diags_add(diags, DYN_SEV_ERROR, file, k, path, "\"%.100s\" is not a valid %s key: %s", k->text,
                          values_are_labels ? "label" : "annotation", why);
            continue;
        }
        if (values_are_labels && v->kind == DYN_NODE_STRING && !dyn_label_value(v->text, &why))
            dyn_diags_add(diags, DYN_SEV_ERROR, file, v, path, "invalid label value \"%.80s\": %s", v->text, why);
    }
}

/* apiVersion, kind and metadata.name exist (false when not: the document cannot be classified);
 * metadata holds only ObjectMeta fields (reported, not fatal). */
static bool check_envelope(const dyn_node *root, const char *file, dyn_diags *diags)
{
    bool ok = true;
    static const char *const required[] = {"apiVersion", "kind"};
    for (size_t i = 0; i < 2; i++) {
        const dyn_node *v = dyn_node_get(root, required[i]);
        if (!v) {
            dyn_diags_add(diags, DYN_SEV_ERROR, file, root, required[i], "required field is missing");
            ok = false;
        } else if (v->kind != DYN_NODE_STRING || v->len == 0) {
            dyn_diags_add(diags, DYN_SEV_ERROR, file, v, required[i], "must be a non-empty string");
            ok = false;
        }
    }
    const dyn_node *meta = dyn_node_get(root, "metadata");
    if (!meta) {
        dyn_diags_add(diags, DYN_SEV_ERROR, file, root, "metadata.name", "required field is missing");
        return false;
    }
    if (meta->kind != DYN_NODE_MAP) {
        dyn_diags_add(diags, DYN_SEV_ERROR, file, meta, "metadata", "must be a map");
        return false;
    }
    for (size_t i = 0; i < meta->len; i++) {
        const dyn_node *k = meta->pairs[i].key;
        bool known = false;
        for (const char *const *f = object_meta_fields; *f; f++)
            known = known || strcmp(*f, k->text) == 0;
        if (!known) {
            char path[160];
            snprintf(path, sizeof path, "metadata.%.120s", k->text);
            dyn_diags_add(diags, DYN_SEV_ERROR, file, k, path, "unknown field \"%.100s\"", k->text);
        }
    }
    const dyn_node *name = dyn_node_get(meta, "name");
    if (!name) {
        dyn_diags_add(diags, DYN_SEV_ERROR, file, meta, "metadata.name", "required field is missing");
        ok = false;
    } else if (name->kind != DYN_NODE_STRING || name->len == 0) {
        dyn_diags_add(diags, DYN_SEV_ERROR, file, name, "metadata.name", "must be a non-empty string");
        ok = false;
    }
    const dyn_node *ns = dyn_node_get(meta, "namespace");
    const char *why;
    if (ns && (ns->kind != DYN_NODE_STRING || !dyn_dns1123_label(ns->text, &why))) {
        dyn_diags_add(diags, DYN_SEV_ERROR, file, ns, "metadata.namespace", "invalid namespace \"%.80s\": %s",
                      ns->text ? ns->text : "", ns->kind == DYN_NODE_STRING ? why : "must be a string");
    }
    check_string_map(meta, "labels", file, diags, true);
    check_string_map(meta, "annotations", file, diags, false);
    return ok;
}

static void add_object(dyn_bundle *b, const dyn_node *root)
{
    dyn_object *objs = realloc(b->objects, (b->n_objects + 1) * sizeof *objs);
    if (!objs)
        abort();
    b->objects = objs;
    dyn_object *o = &b->objects[b->n_objects++];
    const dyn_node *meta = dyn_node_get(root, "metadata");
    o->node = root;
    o->api_version = dyn_node_get_str(root, "apiVersion");
    o->kind = dyn_node_get_str(root, "kind");
    o->name = dyn_node_get_str(meta, "name");
    o->namespace_ = dyn_node_get_str(meta, "namespace");
    o->json = dyn_node_to_json(root);
}

static void load_graph(dyn_bundle *b, const dyn_node *root, bool is_dcd, const dyn_load_opts *opts,
                       dyn_diags *diags)
{
    const char *file = b->stream.file;
    const json_t *schema = dyn_schema_get(is_dcd ? "dcd_v1alpha1" : "dgd_v1alpha1");
    /* metadata is checked by check_envelope; the CRD schema leaves it open */
    dyn_schema_check(schema, root, file, "", diags);
    dyn_graph *gs = realloc(b->graphs, (b->n_graphs + 1) * sizeof *gs);
    if (!gs)
        abort();
    b->graphs = gs;
    dyn_graph *g = &b->graphs[b->n_graphs++];
    dyn_graph_decode(g, root, file, &b->stream.arena);
    dyn_graph_validate(g, opts, diags);
}

bool dyn_bundle_load(dyn_bundle *b, const char *file, const char *text, size_t len, const dyn_load_opts *opts,
                     dyn_diags *diags)
{
    memset(b, 0, sizeof *b);
    size_t errors_before = diags->errors;
    dyn_yaml_parse(&b->stream, file, text, len, diags);
    const char *f = b->stream.file;
    size_t non_empty = 0;
    for (size_t i = 0; i < b->stream.n_docs; i++) {
        const dyn_node *root = b->stream.docs[i];
        if (root->kind == DYN_NODE_NULL)
            continue; /* an empty document (comments only, a trailing ---) */
        non_empty++;
        if (root->kind != DYN_NODE_MAP) {
            dyn_diags_add(diags, DYN_SEV_ERROR, f, root, "",
                          "a document must be a Kubernetes object (a map with apiVersion, kind and metadata), not %s",
                          dyn_node_kind_name(root->kind));
            continue;
        }
        if (!check_envelope(root, f, diags))
            continue;
        const char *api = dyn_node_get_str(root, "apiVersion");
        const char *kind = dyn_node_get_str(root, "kind");
        bool dgd = strcmp(kind, DYN_KIND_DGD) == 0, dcd = strcmp(kind, DYN_KIND_DCD) == 0;
        if ((dgd || dcd) && strcmp(api, DYN_API_VERSION) != 0) {
            dyn_diags_add(diags, DYN_SEV_ERROR, f, dyn_node_get(root, "apiVersion"), "apiVersion",
                          "%s is served as %s by dynamo-c (got \"%.60s\")", kind, DYN_API_VERSION, api);
            continue;
        }
        if (dgd || dcd)
            load_graph(b, root, dcd, opts, diags);
        else
            add_object(b, root);
    }
    if (non_empty == 0 && diags->errors == errors_before)
        dyn_diags_add_at(diags, DYN_SEV_ERROR, f, 1, 1, "", "no Kubernetes objects in the input");
    return diags->errors == errors_before;
}

void dyn_bundle_free(dyn_bundle *b)
{
    for (size_t i = 0; i < b->n_graphs; i++)
        dyn_graph_free(&b->graphs[i]);
    free(b->graphs);
    for (size_t i = 0; i < b->n_objects; i++)
        json_decref(b->objects[i].json);
    free(b->objects);
    dyn_yaml_stream_free(&b->stream);
    memset(b, 0, sizeof *b);
}
