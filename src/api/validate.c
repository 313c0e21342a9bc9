/* The semantic rules of a graph: spec/operator.md §3 (webhook, CEL, reconcile-time errors found
 * early) plus DESIGN.md Decisions. Structural rules (types, enums, minimums, unknown fields) are
 * the schema check's; this file never repeats them. Every rule reports and carries on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "base/names.h"
#include "base/quantity.h"

typedef struct rules {
    const dyn_graph *g;
    const dyn_load_opts *opts;
    const dyn_config *cfg;
    dyn_diags *diags;
    const char *file;
} rules;

static void emit(rules *r, dyn_severity sev, const dyn_node *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void emit(rules *r, dyn_severity sev, const dyn_node *at, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_diags_vadd(r->diags, sev, r->file, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
    va_end(ap);
}

#define ERR(r, at, path, ...) emit(r, DYN_SEV_ERROR, at, path, __VA_ARGS__)
#define WARN(r, at, path, ...) emit(r, DYN_SEV_WARNING, at, path, __VA_ARGS__)

/* The node of a field, or its parent when the field is absent, for positions. */
static const dyn_node *at_field(const dyn_node *map, const char *key)
{
    const dyn_node_pair *p = dyn_node_find(map, key);
    return p ? p->value : map;
}

static const dyn_node *at_key(const dyn_node *map, const char *key)
{
    const dyn_node_pair *p = dyn_node_find(map, key);
    return p ? p->key : map;
}

/* ---- small predicates shared with plan/render */

bool dyn_service_is_frontend(const dyn_service *s)
{
    return s->component_type && strcmp(s->component_type, "frontend") == 0;
}

bool dyn_service_is_worker(const dyn_service *s)
{
    const char *t = s->component_type;
    return t && (strcmp(t, "worker") == 0 || strcmp(t, "prefill") == 0 || strcmp(t, "decode") == 0);
}

bool dyn_service_is_planner(const dyn_service *s)
{
    return s->component_type && strcmp(s->component_type, "planner") == 0;
}

const char *dyn_graph_namespace(const dyn_graph *g, const dyn_load_opts *opts)
{
    if (g->namespace_)
        return g->namespace_;
    if (opts && opts->namespace_)
        return opts->namespace_;
    return "default";
}

const char *dyn_graph_discovery(const dyn_graph *g, const dyn_config *cfg)
{
    const char *a = dyn_kvs_get(&g->annotations, "nvidia.com/dynamo-discovery-backend");
    if (a)
        return a;
    return cfg && cfg->discovery_backend[0] ? cfg->discovery_backend : DYN_DEFAULT_DISCOVERY;
}

/* Finds "dynamo.<fw>" right after a "-m" token (or inside a shell string "python3 -m dynamo.x"). */
static const char *framework_in_text(const char *text)
{
    static const char *const fws[] = {"vllm", "sglang", "trtllm"};
    const char *p = strstr(text, "dynamo.");
    while (p) {
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(fws[i]);
            const char *after = p + 7;
            if (strncmp(after, fws[i], n) == 0 && (after[n] == '\0' || after[n] == ' ' || after[n] == '.' ||
                                                   after[n] == ';' || after[n] == '&'))
                return fws[i];
        }
        p = strstr(p + 1, "dynamo.");
    }
    return NULL;
}

const char *dyn_service_framework(const dyn_graph *g, const dyn_service *s, bool *conflict)
{
    const char *found = NULL;
    if (conflict)
        *conflict = false;
    if (s->main_container) {
        static const char *const fields[] = {"command", "args"};
        bool saw_python_m = false;
        for (int f = 0; f < 2; f++) {
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(s->main_container, fields[f]), i, v) {
                const char *t = json_string_value(v);
                if (!t)
                    continue;
                if (strcmp(t, "-m") == 0) {
                    saw_python_m = true;
                    continue;
                }
                const char *fw = NULL;
                if ((saw_python_m && strncmp(t, "dynamo.", 7) == 0) || strstr(t, "-m dynamo."))
                    fw = framework_in_text(t);
                saw_python_m = false;
                if (fw && found && strcmp(fw, found) != 0 && conflict)
                    *conflict = true;
                if (fw && !found)
                    found = fw;
            }
        }
    }
    return found ? found : g->backend_framework;
}

/* ---- rules */

static void check_pvcs(rules *r)
{
    static const char *const modes[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod", NULL};
    for (size_t i = 0; i < r->g->n_pvcs; i++) {
        const dyn_pvc *p = &r->g->pvcs[i];
        const dyn_node *n = p->node;
        char path[96];
        const char *why;
        if (n->kind != DYN_NODE_MAP)
            continue; /* the schema check said it */
        if (p->name && !p->name[0]) {
            snprintf(path, sizeof path, "spec.pvcs[%zu].name", i);
            ERR(r, at_field(n, "name"), path, "must not be empty");
        } else if (p->name && !dyn_dns1123_subdomain(p->name, &why)) {
            snprintf(path, sizeof path, "spec.pvcs[%zu].name", i);
            ERR(r, at_field(n, "name"), path, "\"%.80s\" is not a valid PVC name: %s", p->name, why);
        }
        if (p->create) {
            static const char *const needed[] = {"size", "storageClass", "volumeAccessMode"};
            const char *values[] = {p->size, p->storage_class, p->access_mode};
            for (int k = 0; k < 3; k++) {
                snprintf(path, sizeof path, "spec.pvcs[%zu].%s", i, needed[k]);
                if (!values[k])
                    ERR(r, n, path, "required when create is true");
                else if (!values[k][0])
                    ERR(r, at_field(n, needed[k]), path, "must not be empty when create is true");
            }
        }
        double size;
        if (p->size && p->size[0] && dyn_quantity_parse(p->size, &size, NULL) && size <= 0) {
            snprintf(path, sizeof path, "spec.pvcs[%zu].size", i);
            ERR(r, at_field(n, "size"), path, "must be greater than zero (got \"%s\")", p->size);
        }
        if (p->access_mode && p->access_mode[0]) {
            bool known = false;
            for (const char *const *m = modes; *m; m++)
                known = known || strcmp(*m, p->access_mode) == 0;
            if (!known) {
                snprintf(path, sizeof path, "spec.pvcs[%zu].volumeAccessMode", i);
                ERR(r, at_field(n, "volumeAccessMode"), path,
                    "must be one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod (got \"%.60s\")",
                    p->access_mode);
            }
        }
        /* pairwise only within the schema's limit of 100 (beyond it, that is the error) */
        for (size_t j = 0; j < i && p->name && r->g->n_pvcs <= 100; j++)
            if (r->g->pvcs[j].name && strcmp(r->g->pvcs[j].name, p->name) == 0) {
                snprintf(path, sizeof path, "spec.pvcs[%zu].name", i);
                ERR(r, at_field(n, "name"), path, "duplicate PVC \"%.80s\" (also spec.pvcs[%zu])", p->name, j);
                break;
            }
    }
}

static bool pvc_declared(const dyn_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_pvcs; i++)
        if (g->pvcs[i].name && strcmp(g->pvcs[i].name, name) == 0)
            return true;
    return false;
}

static void check_quantity(rules *r, const dyn_node *map, const char *key, const char *value, const char *path,
                           bool whole)
{
    if (!value)
        return;
    const char *why;
    double v;
    if (!dyn_quantity_parse(value, &v, &why))
        ERR(r, at_field(map, key), path, "\"%.80s\" is not a valid quantity: %s; write e.g. 10Gi, 10G, 500m or 2", value, why);
    else if (v < 0)
        ERR(r, at_field(map, key), path, "must not be negative (got \"%s\")", value);
    else if (whole && v != (double)(long long)v)
        ERR(r, at_field(map, key), path, "must be a whole number (got \"%s\")", value);
}

static void check_resource_item(rules *r, const dyn_node *res, const char *which, const dyn_resource_item *it,
                                const char *base)
{
    const dyn_node *m = dyn_node_get(res, which);
    if (!m)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s.resources.%s.cpu", base, which);
    check_quantity(r, m, "cpu", it->cpu, path, false);
    snprintf(path, sizeof path, "%s.resources.%s.memory", base, which);
    check_quantity(r, m, "memory", it->memory, path, false);
    snprintf(path, sizeof path, "%s.resources.%s.gpu", base, which);
    check_quantity(r, m, "gpu", it->gpu, path, true);
    const dyn_node *custom = dyn_node_get(m, "custom");
    for (size_t i = 0; i < it->custom.len; i++) {
        snprintf(path, sizeof path, "%s.resources.%s.custom[%.100s]", base, which, it->custom.items[i].key);
        check_quantity(r, custom, it->custom.items[i].key, it->custom.items[i].value, path, false);
    }
}

static void check_name_part(rules *r, const dyn_node *at, const char *path, const char *what, const char *name,
                            bool label_value)
{
    const char *why;
    if (!dyn_dns1123_label(name, &why))
        ERR(r, at, path, "%s \"%.100s\" is not a valid Kubernetes name (%zu characters): %s", what, name,
            strlen(name), why);
    else if (label_value && !dyn_label_value(name, &why))
        ERR(r, at, path, "%s \"%.100s\" is not a valid label value: %s", what, name, why);
}

static void check_service_names(rules *r, const dyn_service *s, const char *base)
{
    const dyn_graph *g = r->g;
    char lower[256], name[512];
    dyn_lowercase(s->key, lower, sizeof lower);
    /* with an invalid graph name, only the key's own part is worth reporting */
    bool graph_name_ok = g->name && dyn_dns1123_label(g->name, NULL);
    if (g->is_dcd)
        snprintf(name, sizeof name, "%s", g->name ? g->name : "");
    else if (graph_name_ok)
        snprintf(name, sizeof name, "%s-%s", g->name, lower);
    else
        snprintf(name, sizeof name, "%s", lower);
    if (g->is_dcd && !graph_name_ok)
        return;
    check_name_part(r, s->key_node, base, "derived object name", name, true);
    const char *why;
    if (!dyn_label_value(s->key, &why))
        ERR(r, s->key_node, base, "service name \"%.100s\" is used as the nvidia.com/dynamo-component label: %s",
            s->key, why);
    if (s->multinode && s->node_count >= 2) {
        long long replicas = s->replicas_set ? s->replicas : 1;
        char lws[600];
        snprintf(lws, sizeof lws, "%s-%lld", name, replicas > 0 ? replicas - 1 : 0);
        check_name_part(r, s->key_node, base, "LeaderWorkerSet name", lws, true);
    }
}

/* A labels or annotations map: keys are qualified names; label values are label values. */
static void check_kv_map(rules *r, const dyn_node *owner, const char *key, const char *base, bool labels)
{
    const dyn_node *m = dyn_node_get(owner, key);
    for (size_t i = 0; m && m->kind == DYN_NODE_MAP && i < m->len; i++) {
        const dyn_node *k = m->pairs[i].key, *v = m->pairs[i].value;
        const char *why;
        char path[600];
        snprintf(path, sizeof path, "%s.%s[%.100s]", base, key, k->text);
        if (!dyn_label_key(k->text, &why))
            ERR(r, k, path, "\"%.100s\" is not a valid %s key: %s", k->text, labels ? "label" : "annotation", why);
        else if (labels && v->kind == DYN_NODE_STRING && !dyn_label_value(v->text, &why))
            ERR(r, v, path, "invalid label value \"%.80s\": %s", v->text, why);
    }
}

static void check_ingress(rules *r, const dyn_service *s, const char *base)
{
    const dyn_ingress *in = &s->ingress;
    if (!in->set || !in->enabled)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s.ingress.host", base);
    if (!in->host || !in->host[0]) {
        ERR(r, at_field(in->node, "host"), path, "required when enabled is true");
    } else {
        char host[600];
        snprintf(host, sizeof host, "%s%s.%s", in->host_prefix ? in->host_prefix : "", in->host,
                 in->host_suffix ? in->host_suffix : "local");
        const char *why;
        /* a leading "*." is a wildcard host, which Ingresses and VirtualServices accept */
        if (!dyn_dns1123_subdomain(strncmp(host, "*.", 2) == 0 ? host + 2 : host, &why))
            ERR(r, at_field(in->node, "host"), path, "the derived host \"%.200s\" is not a valid DNS name: %s", host,
                why);
    }
    if (in->use_virtual_service && (!in->virtual_service_gateway || !in->virtual_service_gateway[0]) &&
        !r->cfg->virtual_service_gateway[0]) {
        snprintf(path, sizeof path, "%s.ingress.useVirtualService", base);
        ERR(r, at_field(in->node, "useVirtualService"), path,
            "needs a gateway: set ingress.virtualServiceGateway here or the operator's "
            "ingress.virtualServiceGateway (dynamo-c does not fall back to an Ingress)");
    }
    if (in->tls_set && (!in->tls_secret || !in->tls_secret[0])) {
        snprintf(path, sizeof path, "%s.ingress.tls.secretName", base);
        ERR(r, at_field(in->node, "tls"), path, "required when tls is given");
    }
    char sub[400];
    snprintf(sub, sizeof sub, "%s.ingress", base);
    check_kv_map(r, in->node, "labels", sub, true);
    if (in->class_name && in->class_name[0]) {
        const char *why;
        snprintf(path, sizeof path, "%s.ingress.ingressControllerClassName", base);
        if (!dyn_dns1123_subdomain(in->class_name, &why))
            ERR(r, at_field(in->node, "ingressControllerClassName"), path, "\"%.80s\" is not a valid IngressClass name: %s",
                in->class_name, why);
    }
}

static void check_mounts(rules *r, const dyn_service *s, const char *base)
{
    bool conflict;
    const char *fw = dyn_service_framework(r->g, s, &conflict);
    bool vllm_worker = dyn_service_is_worker(s) && fw && strcmp(fw, "vllm") == 0;
    char path[512];
    json_t *seen = json_object();
    for (size_t i = 0; i < s->n_mounts; i++) {
        const dyn_volume_mount *m = &s->mounts[i];
        snprintf(path, sizeof path, "%s.volumeMounts[%zu].mountPoint", base, i);
        bool has_mp = m->mount_point && m->mount_point[0];
        if (!m->compilation_cache && !has_mp)
            ERR(r, at_field(m->node, "mountPoint"), path, "required unless useAsCompilationCache is true");
        else if (m->compilation_cache && !has_mp && !vllm_worker)
            ERR(r, at_field(m->node, "mountPoint"), path,
                "required for a compilation cache here: only vLLM workers have a default (/root/.cache/vllm)");
        else if (has_mp && m->mount_point[0] != '/')
            ERR(r, at_field(m->node, "mountPoint"), path, "must be an absolute path (got \"%.100s\")",
                m->mount_point);
        if (m->name && m->name[0] && !r->g->is_dcd && !pvc_declared(r->g, m->name)) {
            snprintf(path, sizeof path, "%s.volumeMounts[%zu].name", base, i);
            WARN(r, at_field(m->node, "name"), path,
                 "claim \"%.80s\" is not declared in spec.pvcs; pods stay Pending unless it exists in the cluster",
                 m->name);
        }
        json_t *first = m->name ? json_object_get(seen, m->name) : NULL; /* a set: long lists stay linear */
        if (first) {
            snprintf(path, sizeof path, "%s.volumeMounts[%zu].name", base, i);
            ERR(r, at_field(m->node, "name"), path, "claim \"%.80s\" is mounted twice (also volumeMounts[%lld])",
                m->name, (long long)json_integer_value(first));
        } else if (m->name)
            json_object_set_new(seen, m->name, json_integer((json_int_t)i));
    }
    json_decref(seen);
}

static void check_shared_memory(rules *r, const dyn_service *s, const char *base)
{
    if (!s->shm_set)
        return;
    const dyn_node *shm = dyn_node_get(s->node, "sharedMemory");
    char path[512];
    snprintf(path, sizeof path, "%s.sharedMemory.size", base);
    if (s->shm_disabled && s->shm_size)
        ERR(r, at_field(shm, "size"), path, "must not be set when disabled is true");
    else if (!s->shm_disabled) {
        double v = 0;
        if (!s->shm_size)
            ERR(r, shm, path, "required unless disabled is true (or leave sharedMemory out for the 8Gi default)");
        else if (dyn_quantity_parse(s->shm_size, &v, NULL) && v <= 0)
            ERR(r, at_field(shm, "size"), path, "must be greater than zero (got \"%s\")", s->shm_size);
        else
            check_quantity(r, shm, "size", s->shm_size, path, false);
    }
}

static bool json_nonempty_list(const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);
    return json_is_array(v) && json_array_size(v) > 0;
}

static void check_multinode(rules *r, const dyn_service *s, const char *base)
{
    if (!s->multinode || s->node_count < 2)
        return;
    char path[512];
    if (!json_nonempty_list(s->main_container, "command") || !json_nonempty_list(s->main_container, "args")) {
        snprintf(path, sizeof path, "%s.extraPodSpec.mainContainer", base);
        ERR(r, at_key(s->node, "multinode"), path,
            "a multinode service needs both command and args: the leader address and node rank are injected "
            "into them");
    }
    if (!s->resources.limits.gpu) {
        snprintf(path, sizeof path, "%s.resources.limits.gpu", base);
        ERR(r, at_key(s->node, "multinode"), path, "required for a multinode service (GPUs per node)");
    }
}

/* Fields the original defines that dynamo-c accepts but does not act on yet, and deprecated ones. */
static void check_unacted(rules *r, const dyn_service *s, const char *base)
{
    static const char *const unacted[] = {"checkpoint", "eppConfig", "failover", "frontendSidecar",
                                          "gpuMemoryService", "topologyConstraint", "scalingAdapter", NULL};
    char path[512];
    for (const char *const *f = unacted; *f; f++)
        if (dyn_node_get(s->node, *f)) {
            snprintf(path, sizeof path, "%s.%s", base, *f);
            WARN(r, at_key(s->node, *f), path, "accepted, but dynamo-c does not act on it yet");
        }
    if (dyn_node_get(s->node, "autoscaling")) {
        snprintf(path, sizeof path, "%s.autoscaling", base);
        WARN(r, at_key(s->node, "autoscaling"), path, "deprecated and ignored");
    }
    if (!r->g->is_dcd && s->dynamo_namespace) {
        snprintf(path, sizeof path, "%s.dynamoNamespace", base);
        WARN(r, at_key(s->node, "dynamoNamespace"), path,
             "deprecated: replaced by the computed Dynamo namespace (namespace-graphname)");
    }
    const char *sn = dyn_node_get_str(s->node, "serviceName");
    if (!r->g->is_dcd && sn && strcmp(sn, s->key) != 0) {
        snprintf(path, sizeof path, "%s.serviceName", base);
        WARN(r, at_field(s->node, "serviceName"), path, "ignored: the service is named by its key \"%.80s\"", s->key);
    }
}

static void check_component_type(rules *r, const dyn_service *s, const char *base)
{
    static const char *const known[] = {"frontend", "worker", "prefill", "decode", "planner", "default", NULL};
    if (!s->component_type)
        return;
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, s->component_type) == 0)
            return;
    char path[512];
    snprintf(path, sizeof path, "%s.componentType", base);
    WARN(r, at_field(s->node, "componentType"), path,
         "\"%.60s\" is not one of frontend, worker, prefill, decode, planner, default: it gets no ports or probes",
         s->component_type);
}

static void check_framework(rules *r, const dyn_service *s, const char *base)
{
    if (!dyn_service_is_worker(s))
        return;
    bool conflict;
    const char *fw = dyn_service_framework(r->g, s, &conflict);
    char path[512];
    snprintf(path, sizeof path, "%s.extraPodSpec.mainContainer", base);
    if (conflict)
        ERR(r, at_key(s->node, "extraPodSpec"), path, "command and args name more than one backend framework");
    else if (fw && r->g->backend_framework && strcmp(fw, r->g->backend_framework) != 0)
        ERR(r, at_key(s->node, "extraPodSpec"), path, "runs dynamo.%s but spec.backendFramework is \"%s\"", fw,
            r->g->backend_framework);
}

/* Two keys that differ only in case ("Frontend", "frontend") would name the same objects. */
static void check_name_collisions(rules *r, const dyn_service *s, size_t index, const char *base)
{
    char mine[256], other[256];
    dyn_lowercase(s->key, mine, sizeof mine);
    for (size_t j = 0; j < index && r->g->n_services <= 25; j++) { /* beyond 25, the schema's error stands */
        const dyn_service *o = &r->g->services[j];
        if (strcmp(dyn_lowercase(o->key, other, sizeof other), mine) == 0)
            ERR(r, s->key_node, base, "names the same objects as spec.services[%.100s] (object names are lower case)",
                o->key);
    }
}

/* Volumes dynamo-c adds to the pod (one per claim, shared-memory) must not clash with the
 * user's own extraPodSpec.volumes. */
static void check_volume_collisions(rules *r, const dyn_service *s, const char *base)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s->pod_spec, "volumes"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!name)
            continue;
        bool clash = !s->shm_disabled && strcmp(name, "shared-memory") == 0;
        for (size_t k = 0; k < s->n_mounts && !clash; k++)
            clash = s->mounts[k].name && strcmp(s->mounts[k].name, name) == 0;
        if (clash) {
            char path[512];
            snprintf(path, sizeof path, "%s.extraPodSpec.volumes[%zu].name", base, i);
            const dyn_node *vols = dyn_node_get(dyn_node_get(s->node, "extraPodSpec"), "volumes");
            ERR(r, vols && i < vols->len ? at_field(vols->items[i], "name") : s->node, path,
                "\"%.80s\" is also a volume dynamo-c adds (%s): rename one of them", name,
                strcmp(name, "shared-memory") == 0 ? "sharedMemory" : "volumeMounts");
        }
    }
}

/* What the pod must still be after dynamo-c adds to it: unique container and volume names,
 * volume names that are DNS-1123 labels, one mount per path, mounts of volumes that exist. */
static void check_pod_shape(rules *r, const dyn_service *s, const char *base)
{
    char path[512];
    const dyn_node *eps = dyn_node_get(s->node, "extraPodSpec");
    const dyn_node *containers = dyn_node_get(eps, "containers");
    for (size_t i = 0; containers && containers->kind == DYN_NODE_SEQ && i < containers->len; i++) {
        const char *name = dyn_node_get_str(containers->items[i], "name");
        if (name && strcmp(name, "main") == 0) {
            snprintf(path, sizeof path, "%s.extraPodSpec.containers[%zu].name", base, i);
            ERR(r, at_field(containers->items[i], "name"), path,
                "\"main\" is the main container's name; give the sidecar another (the main container is "
                "extraPodSpec.mainContainer)");
        }
    }
    for (size_t i = 0; i < s->n_mounts; i++) {
        const dyn_volume_mount *m = &s->mounts[i];
        const char *why;
        snprintf(path, sizeof path, "%s.volumeMounts[%zu]", base, i);
        if (m->name && !dyn_dns1123_label(m->name, &why))
            ERR(r, at_field(m->node, "name"), path,
                "claim \"%.80s\" also names the pod's volume, which must be a DNS-1123 label: %s", m->name, why);
        if (!s->shm_disabled && m->name && strcmp(m->name, "shared-memory") == 0)
            ERR(r, at_field(m->node, "name"), path, "\"shared-memory\" is the shared memory volume's name; rename the "
                                                    "claim or set sharedMemory.disabled");
        if (!s->shm_disabled && m->mount_point && strcmp(m->mount_point, "/dev/shm") == 0)
            ERR(r, at_field(m->node, "mountPoint"), path,
                "/dev/shm is where shared memory is mounted; set sharedMemory.disabled to mount a claim there");
    }
    /* the main container may mount only volumes the pod has */
    const dyn_node *mc = dyn_node_get(eps, "mainContainer");
    const dyn_node *mounts = dyn_node_get(mc, "volumeMounts");
    const dyn_node *volumes = dyn_node_get(eps, "volumes");
    for (size_t i = 0; mounts && mounts->kind == DYN_NODE_SEQ && i < mounts->len; i++) {
        const char *name = dyn_node_get_str(mounts->items[i], "name");
        if (!name)
            continue;
        bool found = !s->shm_disabled && strcmp(name, "shared-memory") == 0;
        for (size_t k = 0; k < s->n_mounts && !found; k++)
            found = s->mounts[k].name && strcmp(s->mounts[k].name, name) == 0;
        for (size_t k = 0; volumes && volumes->kind == DYN_NODE_SEQ && k < volumes->len && !found; k++) {
            const char *v = dyn_node_get_str(volumes->items[k], "name");
            found = v && strcmp(v, name) == 0;
        }
        if (!found) {
            snprintf(path, sizeof path, "%s.extraPodSpec.mainContainer.volumeMounts[%zu].name", base, i);
            ERR(r, at_field(mounts->items[i], "name"), path,
                "no volume \"%.80s\" in the pod: declare it in extraPodSpec.volumes or volumeMounts", name);
        }
    }
}

/* A mainContainer `ports` list replaces the default ports; the Service and the probes refer to
 * the default port by name, so that name must stay. */
static void check_ports(rules *r, const dyn_service *s, const char *base)
{
    const json_t *ports = json_object_get(s->main_container, "ports");
    const char *needed = dyn_service_is_frontend(s) ? "http"
                         : dyn_service_is_worker(s) || dyn_service_is_planner(s) ? "system" : NULL;
    if (!json_is_array(ports) || json_array_size(ports) == 0 || !needed)
        return;
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && strcmp(name, needed) == 0)
            return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s.extraPodSpec.mainContainer.ports", base);
    const dyn_node *mc = dyn_node_get(dyn_node_get(s->node, "extraPodSpec"), "mainContainer");
    ERR(r, at_field(mc, "ports"), path,
        "replaces the default ports, but the Service and the probes use the port named \"%s\" (%d): keep it in "
        "the list",
        needed, strcmp(needed, "http") == 0 ? 8000 : 9090);
}

/* Env names: Kubernetes accepts any printable name without '=' (older releases: C identifiers). */
static void check_env_names(rules *r, const dyn_node *owner, const char *base)
{
    const dyn_node *envs = dyn_node_get(owner, "envs");
    for (size_t i = 0; envs && envs->kind == DYN_NODE_SEQ && i < envs->len; i++) {
        const dyn_node *name = dyn_node_get(envs->items[i], "name");
        if (!name || name->kind != DYN_NODE_STRING)
            continue;
        bool printable = name->len > 0;
        for (size_t k = 0; k < name->len && printable; k++)
            printable = (unsigned char)name->text[k] > 0x20 && (unsigned char)name->text[k] < 0x7f && name->text[k] != '=';
        if (!printable) {
            char path[512];
            snprintf(path, sizeof path, "%s.envs[%zu].name", base, i);
            ERR(r, name, path, "\"%.60s\" is not a valid environment variable name (printable ASCII, no spaces and no '=')",
                name->text);
        }
    }
}

static void check_service(rules *r, const dyn_service *s)
{
    char base[300];
    if (r->g->is_dcd)
        snprintf(base, sizeof base, "spec");
    else
        snprintf(base, sizeof base, "spec.services[%.200s]", s->key);
    if (s->node->len == 0 && !r->g->is_dcd)
        WARN(r, s->node, base, "empty service: no componentType, so no ports, probes or Service");
    check_service_names(r, s, base);
    check_name_collisions(r, s, (size_t)(s - r->g->services), base);
    check_volume_collisions(r, s, base);
    check_ports(r, s, base);
    check_env_names(r, s->node, base);
    check_pod_shape(r, s, base);
    check_kv_map(r, s->node, "labels", base, true);
    check_kv_map(r, s->node, "annotations", base, false);
    char sub[400];
    snprintf(sub, sizeof sub, "%s.extraPodMetadata", base);
    check_kv_map(r, dyn_node_get(s->node, "extraPodMetadata"), "labels", sub, true);
    check_kv_map(r, dyn_node_get(s->node, "extraPodMetadata"), "annotations", sub, false);
    snprintf(sub, sizeof sub, "%s.ingress", base);
    check_kv_map(r, dyn_node_get(s->node, "ingress"), "annotations", sub, false);
    check_ingress(r, s, base);
    check_mounts(r, s, base);
    check_shared_memory(r, s, base);
    check_multinode(r, s, base);
    check_unacted(r, s, base);
    check_component_type(r, s, base);
    check_framework(r, s, base);
    const dyn_node *res = dyn_node_get(s->node, "resources");
    check_resource_item(r, res, "requests", &s->resources.requests, base);
    check_resource_item(r, res, "limits", &s->resources.limits, base);
    if (s->env_from_secret) {
        const char *why;
        char path[512];
        snprintf(path, sizeof path, "%s.envFromSecret", base);
        if (!dyn_dns1123_subdomain(s->env_from_secret, &why))
            ERR(r, at_field(s->node, "envFromSecret"), path, "\"%.80s\" is not a valid Secret name: %s",
                s->env_from_secret, why);
    }
}

static void check_graph_names(rules *r)
{
    const dyn_graph *g = r->g;
    const dyn_node *meta = dyn_node_get(g->node, "metadata");
    const dyn_node *name_node = at_field(meta, "name");
    if (!g->name)
        return;
    const char *why;
    if (!dyn_dns1123_label(g->name, &why)) {
        ERR(r, name_node, "metadata.name", "\"%.100s\" cannot name the objects derived from it: %s", g->name, why);
        return;
    }
    if (g->name[0] >= '0' && g->name[0] <= '9')
        ERR(r, name_node, "metadata.name", "must start with a letter: it names Services (DNS-1035)");
    const char *ns = dyn_graph_namespace(g, r->opts);
    char dyn_ns[400];
    snprintf(dyn_ns, sizeof dyn_ns, "%s-%s", ns, g->name);
    if (!dyn_label_value(dyn_ns, &why))
        ERR(r, name_node, "metadata.name",
            "the Dynamo namespace \"%.120s\" (namespace-name, %zu characters) is a label value: %s", dyn_ns,
            strlen(dyn_ns), why);
    if (!g->is_dcd && strcmp(dyn_graph_discovery(g, r->cfg), "kubernetes") == 0) {
        char sa[300];
        snprintf(sa, sizeof sa, "%s-k8s-service-discovery", g->name);
        if (!dyn_label_value(sa, &why))
            ERR(r, name_node, "metadata.name",
                "the discovery ServiceAccount \"%.120s\" (%zu characters) is a label value: %s; use a name of at "
                "most 40 characters",
                sa, strlen(sa), why);
    }
    const char *disc = dyn_kvs_get(&g->annotations, "nvidia.com/dynamo-discovery-backend");
    if (disc && strcmp(disc, "kubernetes") != 0 && strcmp(disc, "etcd") != 0)
        ERR(r, at_field(dyn_node_get(meta, "annotations"), "nvidia.com/dynamo-discovery-backend"),
            "metadata.annotations[nvidia.com/dynamo-discovery-backend]", "must be kubernetes or etcd (got \"%.60s\")",
            disc);
    const char *ns_given = g->namespace_;
    if (ns_given && r->opts && r->opts->namespace_ && strcmp(ns_given, r->opts->namespace_) != 0)
        ERR(r, at_field(meta, "namespace"), "metadata.namespace",
            "\"%s\" does not match the requested namespace \"%s\"", ns_given, r->opts->namespace_);
}

void dyn_graph_validate(const dyn_graph *g, const dyn_load_opts *opts, dyn_diags *diags)
{
    rules r = {.g = g, .opts = opts, .cfg = opts && opts->config ? opts->config : dyn_config_default(),
               .diags = diags, .file = g->file};
    const dyn_node *spec = dyn_node_get(g->node, "spec");
    if (!spec) {
        ERR(&r, g->node, "spec", "required field is missing");
        return;
    }
    check_graph_names(&r);
    if (!g->is_dcd) {
        const dyn_node *services = dyn_node_get(spec, "services");
        for (size_t i = 0; services && services->kind == DYN_NODE_MAP && i < services->len; i++)
            if (services->pairs[i].value->kind == DYN_NODE_NULL) {
                char path[300];
                snprintf(path, sizeof path, "spec.services[%.200s]", services->pairs[i].key->text);
                ERR(&r, services->pairs[i].key, path, "has no spec (null); give it at least a componentType");
            }
        if (g->n_services == 0)
            ERR(&r, services ? services : spec, "spec.services", "must have at least one service");
        check_pvcs(&r);
        check_env_names(&r, spec, "spec");
        check_kv_map(&r, spec, "labels", "spec", true);
        check_kv_map(&r, spec, "annotations", "spec", false);
        static const char *const unacted[] = {"restart", "topologyConstraint", NULL};
        for (const char *const *f = unacted; *f; f++)
            if (dyn_node_get(spec, *f)) {
                char path[64];
                snprintf(path, sizeof path, "spec.%s", *f);
                WARN(&r, at_key(spec, *f), path, "accepted, but dynamo-c does not act on it yet");
            }
    }
    for (size_t i = 0; i < g->n_services; i++)
        check_service(&r, &g->services[i]);
}

void dyn_graph_validate_update(const dyn_graph *old_graph, const dyn_graph *new_graph, dyn_diags *diags)
{
    const char *o = old_graph->backend_framework, *n = new_graph->backend_framework;
    if ((o || n) && (!o || !n || strcmp(o, n) != 0)) {
        const dyn_node *spec = dyn_node_get(new_graph->node, "spec");
        dyn_diags_add(diags, DYN_SEV_ERROR, new_graph->file, at_field(spec, "backendFramework"), "spec.backendFramework",
                      "is immutable: was \"%s\", now \"%s\"", o ? o : "", n ? n : "");
    }
}
