/* Graph -> plan: names, labels, replicas, Service, route, PVCs and pods per component.
 * See plan.h; the pod itself is composed in container.c, pod.c and multinode.c. */
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>

#include "base/hash.h"
#include "base/json_util.h"
#include "base/names.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static void put_kvs(json_t *obj, const dyn_kvs *kvs)
{
    for (size_t i = 0; i < kvs->len; i++)
        json_object_set_new(obj, kvs->items[i].key, json_string(kvs->items[i].value));
}

static bool metrics_enabled(const dyn_graph *g)
{
    const char *v = dyn_kvs_get(&g->annotations, DYN_ANNOTATION_ENABLE_METRICS);
    return !(v && strcasecmp(v, "false") == 0);
}

/* The effective ingress of a component: the user's block, with the operator's class, TLS secret,
 * host suffix and gateway filling what it leaves out; for a frontend without one, the operator
 * default (enabled when the operator has an ingress class or a gateway, host = graph name). */
static void plan_route(dyn_plan_route *r, const dyn_plan *plan, const dyn_service *s, const dyn_config *cfg)
{
    r->labels = json_object();
    r->annotations = json_object();
    const dyn_ingress *in = &s->ingress;
    bool enabled, use_vs;
    const char *host, *prefix = NULL, *suffix, *cls, *tls, *gw;
    if (in->set) {
        enabled = in->enabled;
        use_vs = in->use_virtual_service;
        host = in->host;
        prefix = in->host_prefix;
        suffix = in->host_suffix;
        cls = in->class_name;
        tls = in->tls_secret;
        gw = in->virtual_service_gateway;
        put_kvs(r->labels, &in->labels);
        put_kvs(r->annotations, &in->annotations);
    } else if (dyn_service_is_frontend(s)) {
        enabled = cfg->ingress_class[0] || cfg->virtual_service_gateway[0];
        use_vs = cfg->virtual_service_gateway[0] != '\0';
        host = plan->graph_name;
        suffix = cls = tls = gw = NULL;
    } else
        return;
    if (!enabled || !host || !host[0])
        return;
    if (!suffix || !suffix[0])
        suffix = cfg->ingress_host_suffix[0] ? cfg->ingress_host_suffix : DYN_HOST_SUFFIX_DEFAULT;
    if (!cls || !cls[0])
        cls = cfg->ingress_class[0] ? cfg->ingress_class : NULL;
    if (!tls || !tls[0])
        tls = cfg->ingress_tls_secret[0] ? cfg->ingress_tls_secret : NULL;
    if (!gw || !gw[0])
        gw = cfg->virtual_service_gateway[0] ? cfg->virtual_service_gateway : NULL;
    r->host = format("%s%s.%s", prefix ? prefix : "", host, suffix);
    if (use_vs) {
        if (!gw)
            return; /* validation reports this */
        r->kind = DYN_ROUTE_VIRTUAL_SERVICE;
        r->gateway = strdup(gw);
    } else {
        r->kind = DYN_ROUTE_INGRESS;
        r->class_name = dup_or_null(cls);
    }
    r->tls_secret = dup_or_null(tls);
}

static void plan_labels(dyn_plan_component *c, const dyn_plan *plan, const dyn_graph *g, const dyn_service *s)
{
    c->labels = json_object();
    put_kvs(c->labels, &g->spec_labels);
    put_kvs(c->labels, &s->labels);
    dyn_json_set_str(c->labels, DYN_LABEL_COMPONENT, c->key);
    dyn_json_set_str(c->labels, DYN_LABEL_NAMESPACE, c->dynamo_namespace);
    if (!plan->from_dcd)
        dyn_json_set_str(c->labels, DYN_LABEL_GRAPH, plan->graph_name);
    if (c->model_hash)
        dyn_json_set_str(c->labels, DYN_LABEL_MODEL_HASH, c->model_hash);

    c->annotations = json_object();
    put_kvs(c->annotations, &g->spec_annotations);
    put_kvs(c->annotations, &s->annotations);
    if (c->model_name)
        dyn_json_set_str(c->annotations, DYN_ANNOTATION_BASE_MODEL, c->model_name);

    c->selector = json_object();
    dyn_json_set_str(c->selector, DYN_LABEL_COMPONENT_TYPE, c->component_type);
    dyn_json_set_str(c->selector, DYN_LABEL_NAMESPACE, c->dynamo_namespace);
    dyn_json_set_str(c->selector, DYN_LABEL_COMPONENT, c->key);

    /* pod labels: user's extraPodMetadata may add, never move a pod out of its selectors */
    c->pod_labels = json_deep_copy(c->labels);
    if (metrics_enabled(g))
        dyn_json_set_str(c->pod_labels, DYN_LABEL_METRICS, "true");
    if (c->sub_component_type)
        dyn_json_set_str(c->pod_labels, DYN_LABEL_SUB_COMPONENT_TYPE, c->sub_component_type);
    put_kvs(c->pod_labels, &s->pod_labels);
    json_object_update(c->pod_labels, c->selector);
    dyn_json_set_str(c->pod_labels, DYN_LABEL_SELECTOR, c->name);

    c->pod_annotations = json_object();
    put_kvs(c->pod_annotations, &s->pod_annotations);
}

/* The DynamoComponentDeployment spec the DGD controller would write (spec/operator.md §5.4). */
static json_t *plan_dcd_spec(const dyn_plan *plan, const dyn_plan_component *c, const dyn_graph *g,
                             const dyn_service *s)
{
    json_t *spec = dyn_node_to_json(s->node);
    dyn_json_set_str(spec, "serviceName", c->key);
    dyn_json_set_str(spec, "dynamoNamespace", c->dynamo_namespace);
    if (g->backend_framework)
        dyn_json_set_str(spec, "backendFramework", g->backend_framework);
    json_t *envs = json_deep_copy(g->envs);
    dyn_env_merge(envs, s->envs, false);
    dyn_json_sort_by_name(envs);
    if (json_array_size(envs))
        json_object_set_new(spec, "envs", envs);
    else
        json_decref(envs);
    json_t *labels = json_object();
    put_kvs(labels, &s->labels);
    dyn_json_set_str(labels, DYN_LABEL_COMPONENT, c->key);
    dyn_json_set_str(labels, DYN_LABEL_NAMESPACE, c->dynamo_namespace);
    dyn_json_set_str(labels, DYN_LABEL_GRAPH, plan->graph_name);
    json_object_set_new(spec, "labels", labels);
    json_t *annotations = json_object();
    put_kvs(annotations, &g->spec_annotations);
    put_kvs(annotations, &s->annotations);
    static const char *const propagated[] = {DYN_ANNOTATION_ENABLE_METRICS, DYN_ANNOTATION_DISCOVERY};
    for (int i = 0; i < 2; i++) {
        const char *v = dyn_kvs_get(&g->annotations, propagated[i]);
        if (v)
            dyn_json_set_str(annotations, propagated[i], v);
    }
    if (json_object_size(annotations))
        json_object_set_new(spec, "annotations", annotations);
    else
        json_decref(annotations);
    if (dyn_service_is_planner(s))
        dyn_json_set_str(dyn_json_object_at(spec, "extraPodSpec"), "serviceAccountName", DYN_PLANNER_SA);
    if (c->route.kind != DYN_ROUTE_NONE && !s->ingress.set) {
        /* the operator default ingress, written out so the DCD is self-contained */
        json_t *in = json_pack("{s:b, s:s}", "enabled", 1, "host", plan->graph_name);
        if (c->route.kind == DYN_ROUTE_VIRTUAL_SERVICE) {
            json_object_set_new(in, "useVirtualService", json_true());
            dyn_json_set_str(in, "virtualServiceGateway", c->route.gateway);
        }
        if (c->route.class_name)
            dyn_json_set_str(in, "ingressControllerClassName", c->route.class_name);
        if (c->route.tls_secret)
            json_object_set_new(in, "tls", json_pack("{s:s}", "secretName", c->route.tls_secret));
        const char *dot = strchr(c->route.host, '.');
        if (dot)
            dyn_json_set_str(in, "hostSuffix", dot + 1);
        json_object_set_new(spec, "ingress", in);
    }
    return spec;
}

static int plan_component(dyn_plan *plan, dyn_plan_component *c, const dyn_graph *g, const dyn_service *s,
                          const dyn_config *cfg)
{
    char lower[256];
    c->key = strdup(s->key);
    c->name = g->is_dcd ? strdup(g->name) : format("%s-%s", g->name, dyn_lowercase(s->key, lower, sizeof lower));
    if (s->global_namespace)
        c->dynamo_namespace = strdup(DYN_GLOBAL_NAMESPACE);
    else if (g->is_dcd && s->dynamo_namespace)
        c->dynamo_namespace = strdup(s->dynamo_namespace);
    else
        c->dynamo_namespace = strdup(plan->dynamo_namespace);
    c->component_type = strdup(s->component_type ? s->component_type : "");
    c->sub_component_type = dup_or_null(s->sub_component_type);
    bool conflict;
    c->framework = dyn_service_is_worker(s) ? dup_or_null(dyn_service_framework(g, s, &conflict)) : NULL;
    c->replicas_set = s->replicas_set;
    c->replicas = s->replicas_set ? (int)s->replicas : 1;
    c->node_count = s->multinode && s->node_count >= 2 ? (int)s->node_count : 1;
    if (s->model_name) {
        char hex[65];
        c->model_name = strdup(s->model_name);
        dyn_sha256_hex(s->model_name, strlen(s->model_name), hex);
        c->model_hash = strndup(hex, 8);
    }
    plan_labels(c, plan, g, s);
    plan_route(&c->route, plan, s, cfg);

    bool frontend = dyn_service_is_frontend(s);
    bool has_port = frontend || dyn_service_is_worker(s) || dyn_service_is_planner(s);
    c->service_port = frontend ? DYN_PORT_HTTP : DYN_PORT_SYSTEM;
    c->service_port_name = strdup(frontend ? "http" : "system");
    c->has_service = has_port && (frontend || strcmp(plan->discovery, "kubernetes") == 0 ||
                                  c->route.kind != DYN_ROUTE_NONE);

    json_t *main = dyn_plan_main_container(plan, c, g, s, cfg);
    c->pod_spec = dyn_plan_pod_spec(plan, c, s, main);
    if (c->node_count >= 2) {
        c->leader_pod_spec = json_deep_copy(c->pod_spec);
        c->worker_pod_spec = json_deep_copy(c->pod_spec);
        dyn_plan_multinode(plan, c, c->leader_pod_spec, true);
        dyn_plan_multinode(plan, c, c->worker_pod_spec, false);
    }
    if (!g->is_dcd)
        c->dcd_spec = plan_dcd_spec(plan, c, g, s);
    return 0;
}

int dyn_plan_build(dyn_plan *plan, const dyn_graph *g, const dyn_load_opts *opts)
{
    const dyn_config *cfg = opts && opts->config ? opts->config : dyn_config_default();
    memset(plan, 0, sizeof *plan);
    if (!g->name || g->n_services == 0)
        return -1;
    plan->graph_name = strdup(g->name);
    plan->namespace_ = strdup(dyn_graph_namespace(g, opts));
    plan->dynamo_namespace = format("%s-%s", plan->namespace_, g->name);
    plan->owner_uid = dup_or_null(g->uid);
    plan->from_dcd = g->is_dcd;
    plan->discovery = strdup(dyn_graph_discovery(g, cfg));
    plan->discovery_rbac = !g->is_dcd && strcmp(plan->discovery, "kubernetes") == 0;
    plan->discovery_sa = format("%s-k8s-service-discovery", g->is_dcd ? "" : g->name);

    plan->pvcs = calloc(g->n_pvcs + 1, sizeof *plan->pvcs);
    for (size_t i = 0; i < g->n_pvcs; i++) {
        const dyn_pvc *p = &g->pvcs[i];
        if (!p->name || !p->name[0])
            continue;
        dyn_plan_pvc *pp = &plan->pvcs[plan->n_pvcs++];
        pp->name = strdup(p->name);
        pp->create = p->create;
        pp->storage_class = dup_or_null(p->storage_class);
        pp->size = dup_or_null(p->size);
        pp->access_mode = dup_or_null(p->access_mode);
    }
    plan->components = calloc(g->n_services, sizeof *plan->components);
    if (!plan->pvcs || !plan->components)
        abort();
    for (size_t i = 0; i < g->n_services; i++)
        plan_component(plan, &plan->components[plan->n_components++], g, &g->services[i], cfg);
    return 0;
}

static void free_component(dyn_plan_component *c)
{
    free(c->key);
    free(c->name);
    free(c->dynamo_namespace);
    free(c->component_type);
    free(c->sub_component_type);
    free(c->framework);
    json_decref(c->labels);
    json_decref(c->annotations);
    json_decref(c->selector);
    json_decref(c->pod_labels);
    json_decref(c->pod_annotations);
    json_decref(c->pod_spec);
    json_decref(c->leader_pod_spec);
    json_decref(c->worker_pod_spec);
    free(c->service_port_name);
    free(c->route.host);
    free(c->route.class_name);
    free(c->route.tls_secret);
    free(c->route.gateway);
    json_decref(c->route.labels);
    json_decref(c->route.annotations);
    free(c->model_name);
    free(c->model_hash);
    json_decref(c->dcd_spec);
}

void dyn_plan_free(dyn_plan *plan)
{
    for (size_t i = 0; i < plan->n_components; i++)
        free_component(&plan->components[i]);
    free(plan->components);
    for (size_t i = 0; i < plan->n_pvcs; i++) {
        free(plan->pvcs[i].name);
        free(plan->pvcs[i].storage_class);
        free(plan->pvcs[i].size);
        free(plan->pvcs[i].access_mode);
    }
    free(plan->pvcs);
    free(plan->graph_name);
    free(plan->namespace_);
    free(plan->dynamo_namespace);
    free(plan->owner_uid);
    free(plan->discovery);
    free(plan->discovery_sa);
    memset(plan, 0, sizeof *plan);
}
