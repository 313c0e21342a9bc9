/* Positioned tree -> typed graph. Lenient on purpose: the schema check has already reported
 * every wrongly typed field, so here a field of the wrong type is simply treated as not set. */
#include <stdlib.h>
#include <string.h>

#include "api/graph.h"

static const char *str(const dyn_node *map, const char *key)
{
    return dyn_node_get_str(map, key);
}

/* Quantities may be written as integers (size: 10) or strings (size: 10Gi): keep the text. */
static const char *quantity_text(const dyn_node *map, const char *key)
{
    const dyn_node *v = dyn_node_get(map, key);
    if (!v)
        return NULL;
    if (v->kind == DYN_NODE_STRING || v->kind == DYN_NODE_INT || v->kind == DYN_NODE_FLOAT)
        return v->text;
    return NULL;
}

static bool boolean(const dyn_node *map, const char *key)
{
    const dyn_node *v = dyn_node_get(map, key);
    return v && v->kind == DYN_NODE_BOOL && v->boolean;
}

static const dyn_node *child(const dyn_node *map, const char *key, dyn_node_kind kind)
{
    const dyn_node *v = dyn_node_get(map, key);
    return v && v->kind == kind ? v : NULL;
}

static dyn_kvs string_map(const dyn_node *map, const char *key, dyn_arena *arena)
{
    dyn_kvs out = {0};
    const dyn_node *m = child(map, key, DYN_NODE_MAP);
    if (!m || m->len == 0)
        return out;
    out.items = dyn_arena_alloc(arena, m->len * sizeof *out.items);
    for (size_t i = 0; i < m->len; i++) {
        const dyn_node *v = m->pairs[i].value;
        if (dyn_node_is_scalar(v) && v->kind != DYN_NODE_NULL)
            out.items[out.len++] = (dyn_kv){m->pairs[i].key->text, v->text};
    }
    return out;
}

static json_t *json_child(const dyn_node *map, const char *key)
{
    const dyn_node *v = dyn_node_get(map, key);
    return v ? dyn_node_to_json(v) : NULL;
}

static json_t *env_list(const dyn_node *map)
{
    const dyn_node *v = child(map, "envs", DYN_NODE_SEQ);
    json_t *j = v ? dyn_node_to_json(v) : json_array();
    return j ? j : json_array();
}

static void decode_resource_item(dyn_resource_item *r, const dyn_node *m, dyn_arena *arena)
{
    if (!m || m->kind != DYN_NODE_MAP)
        return;
    r->cpu = quantity_text(m, "cpu");
    r->memory = quantity_text(m, "memory");
    r->gpu = quantity_text(m, "gpu");
    r->gpu_type = str(m, "gpuType");
    r->custom = string_map(m, "custom", arena);
}

static void decode_ingress(dyn_ingress *in, const dyn_node *m, dyn_arena *arena)
{
    if (!m || m->kind != DYN_NODE_MAP)
        return;
    in->set = true;
    in->node = m;
    in->enabled = boolean(m, "enabled");
    in->host = str(m, "host");
    in->host_prefix = str(m, "hostPrefix");
    in->host_suffix = str(m, "hostSuffix");
    in->class_name = str(m, "ingressControllerClassName");
    const dyn_node *tls = child(m, "tls", DYN_NODE_MAP);
    if (tls) {
        in->tls_set = true;
        in->tls_secret = str(tls, "secretName");
    }
    in->use_virtual_service = boolean(m, "useVirtualService");
    in->virtual_service_gateway = str(m, "virtualServiceGateway");
    in->annotations = string_map(m, "annotations", arena);
    in->labels = string_map(m, "labels", arena);
}

static void decode_service(dyn_service *s, const dyn_node *spec, dyn_arena *arena)
{
    s->node = spec;
    s->component_type = str(spec, "componentType");
    s->sub_component_type = str(spec, "subComponentType");
    s->global_namespace = boolean(spec, "globalDynamoNamespace");
    s->dynamo_namespace = str(spec, "dynamoNamespace");
    const dyn_node *replicas = child(spec, "replicas", DYN_NODE_INT);
    if (replicas) {
        s->replicas_set = true;
        s->replicas = replicas->integer;
    }
    const dyn_node *mn = child(spec, "multinode", DYN_NODE_MAP);
    s->node_count = 1;
    if (mn) {
        const dyn_node *nc = child(mn, "nodeCount", DYN_NODE_INT);
        s->multinode = true;
        s->node_count = nc ? nc->integer : 2;
    }
    s->envs = env_list(spec);
    s->env_from_secret = str(spec, "envFromSecret");

    const dyn_node *vms = child(spec, "volumeMounts", DYN_NODE_SEQ);
    if (vms && vms->len) {
        s->mounts = dyn_arena_alloc(arena, vms->len * sizeof *s->mounts);
        for (size_t i = 0; i < vms->len; i++) {
            const dyn_node *vm = vms->items[i];
            if (vm->kind != DYN_NODE_MAP)
                continue;
            dyn_volume_mount *m = &s->mounts[s->n_mounts++];
            m->node = vm;
            m->name = str(vm, "name");
            m->mount_point = str(vm, "mountPoint");
            m->compilation_cache = boolean(vm, "useAsCompilationCache");
        }
    }
    const dyn_node *shm = child(spec, "sharedMemory", DYN_NODE_MAP);
    if (shm) {
        s->shm_set = true;
        s->shm_disabled = boolean(shm, "disabled");
        s->shm_size = quantity_text(shm, "size");
    }
    const dyn_node *res = child(spec, "resources", DYN_NODE_MAP);
    if (res) {
        decode_resource_item(&s->resources.requests, dyn_node_get(res, "requests"), arena);
        decode_resource_item(&s->resources.limits, dyn_node_get(res, "limits"), arena);
        const dyn_node *claims = child(res, "claims", DYN_NODE_SEQ);
        s->resources.claims = claims ? dyn_node_to_json(claims) : NULL;
    }
    decode_ingress(&s->ingress, dyn_node_get(spec, "ingress"), arena);
    const dyn_node *model = child(spec, "modelRef", DYN_NODE_MAP);
    if (model) {
        s->model_name = str(model, "name");
        s->model_revision = str(model, "revision");
    }
    s->labels = string_map(spec, "labels", arena);
    s->annotations = string_map(spec, "annotations", arena);
    const dyn_node *pm = child(spec, "extraPodMetadata", DYN_NODE_MAP);
    if (pm) {
        s->pod_labels = string_map(pm, "labels", arena);
        s->pod_annotations = string_map(pm, "annotations", arena);
    }
    const dyn_node *eps = child(spec, "extraPodSpec", DYN_NODE_MAP);
    if (eps) {
        s->pod_spec = dyn_node_to_json(eps);
        s->main_container = json_incref(json_object_get(s->pod_spec, "mainContainer"));
        json_object_del(s->pod_spec, "mainContainer");
        if (!json_is_object(s->main_container)) {
            json_decref(s->main_container);
            s->main_container = NULL;
        }
    }
    s->liveness_probe = json_child(spec, "livenessProbe");
    s->readiness_probe = json_child(spec, "readinessProbe");
}

void dyn_graph_decode(dyn_graph *g, const dyn_node *root, const char *file, dyn_arena *arena)
{
    memset(g, 0, sizeof *g);
    g->node = root;
    g->file = file;
    const char *kind = str(root, "kind");
    g->is_dcd = kind && strcmp(kind, DYN_KIND_DCD) == 0;
    const dyn_node *meta = child(root, "metadata", DYN_NODE_MAP);
    g->name = str(meta, "name");
    g->namespace_ = str(meta, "namespace");
    g->uid = str(meta, "uid");
    g->labels = string_map(meta, "labels", arena);
    g->annotations = string_map(meta, "annotations", arena);

    const dyn_node *spec = child(root, "spec", DYN_NODE_MAP);
    g->backend_framework = str(spec, "backendFramework");
    if (g->is_dcd) {
        /* A standalone DCD is a graph of one service, its spec inlined. */
        g->envs = json_array();
        if (spec) {
            g->services = dyn_arena_alloc(arena, sizeof *g->services);
            g->n_services = 1;
            dyn_service *s = &g->services[0];
            decode_service(s, spec, arena);
            const char *sn = str(spec, "serviceName");
            s->key = sn ? sn : g->name;
            s->key_node = sn ? dyn_node_get(spec, "serviceName") : dyn_node_get(meta, "name");
        }
        return;
    }
    g->envs = env_list(spec);
    g->spec_labels = string_map(spec, "labels", arena);
    g->spec_annotations = string_map(spec, "annotations", arena);

    const dyn_node *pvcs = child(spec, "pvcs", DYN_NODE_SEQ);
    if (pvcs && pvcs->len) {
        g->pvcs = dyn_arena_alloc(arena, pvcs->len * sizeof *g->pvcs);
        for (size_t i = 0; i < pvcs->len; i++) {
            const dyn_node *p = pvcs->items[i];
            dyn_pvc *pvc = &g->pvcs[g->n_pvcs++];
            pvc->node = p;
            if (p->kind != DYN_NODE_MAP)
                continue;
            pvc->name = str(p, "name");
            pvc->create = boolean(p, "create");
            pvc->storage_class = str(p, "storageClass");
            pvc->size = quantity_text(p, "size");
            pvc->access_mode = str(p, "volumeAccessMode");
        }
    }
    const dyn_node *services = child(spec, "services", DYN_NODE_MAP);
    if (services && services->len) {
        g->services = dyn_arena_alloc(arena, services->len * sizeof *g->services);
        for (size_t i = 0; i < services->len; i++) {
            const dyn_node *sv = services->pairs[i].value;
            if (sv->kind != DYN_NODE_MAP)
                continue;
            dyn_service *s = &g->services[g->n_services++];
            decode_service(s, sv, arena);
            s->key = services->pairs[i].key->text;
            s->key_node = services->pairs[i].key;
        }
    }
}

void dyn_graph_free(dyn_graph *g)
{
    for (size_t i = 0; i < g->n_services; i++) {
        dyn_service *s = &g->services[i];
        json_decref(s->envs);
        json_decref(s->resources.claims);
        json_decref(s->pod_spec);
        json_decref(s->main_container);
        json_decref(s->liveness_probe);
        json_decref(s->readiness_probe);
    }
    json_decref(g->envs);
    memset(g, 0, sizeof *g);
}

const char *dyn_kvs_get(const dyn_kvs *kvs, const char *key)
{
    for (size_t i = 0; i < kvs->len; i++)
        if (strcmp(kvs->items[i].key, key) == 0)
            return kvs->items[i].value;
    return NULL;
}
