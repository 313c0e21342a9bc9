/* The main container of a component (spec/operator.md §6.1 steps 1-8, §6.2). */
#include <stdio.h>
#include <string.h>

#include "base/json_util.h"
#include "plan/plan.h"

static json_t *http_probe(const char *path, const char *port, int initial_delay, int period, int timeout,
                          int failure)
{
    json_t *get = json_object();
    json_object_set_new_nocheck(get, "path", json_string(path));
    json_object_set_new_nocheck(get, "port", json_string(port));
    json_t *p = json_object();
    json_object_set_new_nocheck(p, "httpGet", get);
    if (initial_delay)
        json_object_set_new(p, "initialDelaySeconds", json_integer(initial_delay));
    json_object_set_new(p, "periodSeconds", json_integer(period));
    json_object_set_new(p, "timeoutSeconds", json_integer(timeout));
    json_object_set_new(p, "failureThreshold", json_integer(failure));
    return p;
}

static json_t *port(const char *name, int number)
{
    json_t *p = json_object();
    json_object_set_new_nocheck(p, "name", json_string(name));
    json_object_set_new_nocheck(p, "containerPort", json_integer(number));
    json_object_set_new_nocheck(p, "protocol", json_string("TCP"));
    return p;
}

static json_t *field_ref_env(const char *name, const char *path)
{
    json_t *ref = json_object(), *from = json_object(), *env = json_object();
    json_object_set_new_nocheck(ref, "fieldPath", json_string(path));
    json_object_set_new_nocheck(from, "fieldRef", ref);
    json_object_set_new_nocheck(env, "name", json_string(name));
    json_object_set_new_nocheck(env, "valueFrom", from);
    return env;
}

/* Env every component gets (§6.2 "Common env"). */
static void add_common_env(json_t *env, const dyn_plan *plan, const dyn_plan_component *c)
{
    json_array_append_new(env, dyn_env_var("DYN_NAMESPACE", c->dynamo_namespace));
    json_array_append_new(env, dyn_env_var("DYN_COMPONENT", c->component_type));
    json_array_append_new(env, dyn_env_var("DYN_PARENT_DGD_K8S_NAME", plan->from_dcd ? "" : plan->graph_name));
    json_array_append_new(env, dyn_env_var("DYN_PARENT_DGD_K8S_NAMESPACE", plan->namespace_));
    json_array_append_new(env, dyn_env_var("DYN_DISCOVERY_BACKEND", plan->discovery));
    json_array_append_new(env, field_ref_env("POD_NAME", "metadata.name"));
    json_array_append_new(env, field_ref_env("POD_NAMESPACE", "metadata.namespace"));
    json_array_append_new(env, field_ref_env("POD_UID", "metadata.uid"));
}

/* Step 1: the base container for the component type. */
static json_t *base_container(const dyn_plan *plan, const dyn_plan_component *c, const dyn_service *s)
{
    json_t *ctr = json_pack("{s:s}", "name", "main");
    json_t *env = json_array();
    add_common_env(env, plan, c);
    json_t *ports = json_array();
    if (dyn_service_is_frontend(s)) {
        json_object_set_new(ctr, "command", json_pack("[s]", "python3"));
        json_object_set_new(ctr, "args", json_pack("[s, s]", "-m", "dynamo.frontend"));
        json_array_append_new(ports, port("http", DYN_PORT_HTTP));
        json_object_set_new(ctr, "livenessProbe", http_probe("/live", "http", 15, 10, 1, 3));
        json_object_set_new(ctr, "readinessProbe", http_probe("/health", "http", 10, 10, 3, 3));
        json_object_set_new(ctr, "startupProbe", http_probe("/live", "http", 0, 10, 1, 30));
        json_array_append_new(env, dyn_env_var("DYNAMO_PORT", "8000"));
        json_array_append_new(env, dyn_env_var("DYN_HTTP_PORT", "8000"));
    } else {
        json_object_set_new(ctr, "command", json_pack("[s, s]", "/bin/sh", "-c"));
        bool worker = dyn_service_is_worker(s), planner = dyn_service_is_planner(s);
        if (planner) {
            json_array_append_new(ports, port("metrics", DYN_PORT_PLANNER_METRICS));
            json_array_append_new(env, dyn_env_var("PLANNER_PROMETHEUS_PORT", "9085"));
        }
        if (worker || planner) {
            json_array_append_new(ports, port("system", DYN_PORT_SYSTEM));
            json_object_set_new(ctr, "livenessProbe", http_probe("/live", "system", 0, 5, 4, 1));
            json_object_set_new(ctr, "readinessProbe", http_probe("/health", "system", 0, 10, 4, 3));
            json_object_set_new(ctr, "startupProbe", http_probe("/live", "system", 0, 10, 5, 720));
            json_array_append_new(env, dyn_env_var("DYN_SYSTEM_ENABLED", "true"));
            json_array_append_new(env, dyn_env_var("DYN_SYSTEM_PORT", "9090"));
        }
        if (worker) {
            json_array_append_new(env, dyn_env_var("DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS", "[\"generate\"]"));
            json_array_append_new(env, dyn_env_var("DYN_HEALTH_CHECK_ENABLED", "false"));
        }
    }
    if (json_array_size(ports))
        json_object_set_new(ctr, "ports", ports);
    else
        json_decref(ports);
    json_object_set_new(ctr, "env", env);
    return ctr;
}

/* Step 2: the user's mainContainer over the base; env merges by name, lists are replaced. */
static void merge_user_container(json_t *ctr, const json_t *user)
{
    if (!user)
        return;
    json_t *user_copy = json_deep_copy(user);
    json_t *user_env = json_incref(json_object_get(user_copy, "env"));
    json_object_del(user_copy, "env");
    json_object_del(user_copy, "name"); /* the main container is always "main" */
    /* as in Kubernetes: a command of one's own does not take another command's default args */
    if (!dyn_json_is_empty(json_object_get(user_copy, "command")) && !json_object_get(user_copy, "args"))
        json_object_del(ctr, "args");
    dyn_json_merge_over(ctr, user_copy);
    if (json_is_array(user_env))
        dyn_env_merge(json_object_get(ctr, "env"), user_env, false);
    json_decref(user_env);
    json_decref(user_copy);
}

static void set_resource(json_t *resources, const char *which, const char *name, const char *value)
{
    if (!value)
        return;
    json_t *m = dyn_json_object_at(resources, which);
    json_object_set_new(m, name, json_string(value));
}

static void apply_resource_item(json_t *resources, const char *which, const dyn_resource_item *it)
{
    set_resource(resources, which, "cpu", it->cpu);
    set_resource(resources, which, "memory", it->memory);
    set_resource(resources, which, it->gpu_type ? it->gpu_type : "nvidia.com/gpu", it->gpu);
    for (size_t i = 0; i < it->custom.len; i++)
        set_resource(resources, which, it->custom.items[i].key, it->custom.items[i].value);
}

/* Step 5: requests/limits copied key by key over the container's, claims appended. */
static void apply_resources(json_t *ctr, const dyn_resources *r)
{
    json_t *resources = json_object_get(ctr, "resources");
    bool had = resources != NULL;
    if (!had)
        resources = json_object();
    apply_resource_item(resources, "requests", &r->requests);
    apply_resource_item(resources, "limits", &r->limits);
    if (json_array_size(r->claims)) {
        json_t *claims = dyn_json_array_at(resources, "claims");
        json_array_extend(claims, r->claims);
    }
    if (!had && json_object_size(resources))
        json_object_set_new(ctr, "resources", resources);
    else if (!had)
        json_decref(resources);
}

/* Step 8: the platform's addresses, under anything the user set. */
json_t *dyn_plan_standard_env(const dyn_config *cfg)
{
    json_t *env = json_array();
    if (cfg->nats_address[0])
        json_array_append_new(env, dyn_env_var("NATS_SERVER", cfg->nats_address));
    if (cfg->etcd_address[0])
        json_array_append_new(env, dyn_env_var("ETCD_ENDPOINTS", cfg->etcd_address));
    if (cfg->model_express_url[0])
        json_array_append_new(env, dyn_env_var("MODEL_EXPRESS_URL", cfg->model_express_url));
    if (cfg->prometheus_endpoint[0])
        json_array_append_new(env, dyn_env_var("PROMETHEUS_ENDPOINT", cfg->prometheus_endpoint));
    return env;
}

json_t *dyn_plan_main_container(const dyn_plan *plan, const dyn_plan_component *c, const dyn_graph *g,
                                const dyn_service *s, const dyn_config *cfg)
{
    json_t *ctr = base_container(plan, c, s);
    merge_user_container(ctr, s->main_container);
    json_t *env = json_object_get(ctr, "env");

    /* step 3: graph envs, then service envs (service wins), over the container's */
    dyn_env_merge(env, g->envs, false);
    dyn_env_merge(env, s->envs, false);

    /* step 4: probes from the spec replace the defaults wholesale */
    if (s->liveness_probe)
        json_object_set(ctr, "livenessProbe", s->liveness_probe);
    if (s->readiness_probe)
        json_object_set(ctr, "readinessProbe", s->readiness_probe);

    apply_resources(ctr, &s->resources);

    /* step 7 */
    if (s->env_from_secret) {
        json_t *from = dyn_json_array_at(ctr, "envFrom");
        json_array_append_new(from, json_pack("{s:{s:s}}", "secretRef", "name", s->env_from_secret));
    }

    json_t *standard = dyn_plan_standard_env(cfg);
    dyn_env_merge(env, standard, true);
    json_decref(standard);
    dyn_json_sort_by_name(env);
    return ctr;
}

json_t *dyn_plan_order_container(json_t *ctr)
{
    static const char *const order[] = {"name", "image", "imagePullPolicy", "workingDir", "command", "args",
                                        "ports", "env", "envFrom", "resources", "volumeMounts", "livenessProbe",
                                        "readinessProbe", "startupProbe", NULL};
    json_t *out = json_object();
    for (const char *const *k = order; *k; k++) {
        json_t *v = json_object_get(ctr, *k);
        if (v)
            json_object_set(out, *k, v);
    }
    const char *key;
    json_t *v;
    json_object_foreach(ctr, key, v) {
        if (!json_object_get(out, key))
            json_object_set(out, key, v);
    }
    json_decref(ctr);
    return out;
}
