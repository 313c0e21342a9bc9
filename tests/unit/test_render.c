/* Every rendering rule: what the plan decides and what each kind looks like. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphtest.h"
#include "render/render.h"

typedef struct rendered {
    loaded l;
    json_t *objects;
} rendered;

static void render_cfg(rendered *r, const char *yaml, const char *config)
{
    loaded_load_cfg(&r->l, yaml, config, NULL);
    if (!r->l.ok)
        fail_msg("input does not validate:\n%s", r->l.text);
    dyn_load_opts opts = {.config = &r->l.config};
    r->objects = dyn_render_bundles(&r->l.bundle, 1, &opts, NULL);
}

static void render(rendered *r, const char *yaml)
{
    render_cfg(r, yaml, NULL);
}

static void done(rendered *r)
{
    json_decref(r->objects);
    loaded_free(&r->l);
}

static json_t *find(rendered *r, const char *kind, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(r->objects, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0 &&
            strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), name) == 0)
            return o;
    }
    return NULL;
}

static size_t count_kind(rendered *r, const char *kind)
{
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(r->objects, i, o) n += strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0;
    return n;
}

/* Value at a dotted path with [i] indexes and [name=x] lookups, e.g.
 * "spec.template.spec.containers[name=main].env[name=NATS_SERVER].value". */
static json_t *at(json_t *v, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    char *p = buf;
    while (v && *p) {
        if (*p == '.')
            p++;
        if (*p == '[') {
            char *end = strchr(p, ']');
            *end = '\0';
            if (strncmp(p + 1, "name=", 5) == 0) {
                json_t *found = NULL;
                size_t i;
                json_t *item;
                json_array_foreach(v, i, item) {
                    const char *n = json_string_value(json_object_get(item, "name"));
                    if (n && strcmp(n, p + 6) == 0)
                        found = item;
                }
                v = found;
            } else
                v = json_array_get(v, (size_t)atoi(p + 1));
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p += n;
    }
    return v;
}

static const char *str_at(json_t *v, const char *path)
{
    json_t *x = at(v, path);
    return json_is_string(x) ? json_string_value(x) : NULL;
}

#define assert_str_at(obj, path, want)                                                                        \
    do {                                                                                                      \
        const char *got_ = str_at(obj, path);                                                                 \
        if (!got_ || strcmp(got_, want) != 0)                                                                 \
            fail_msg("%s: want \"%s\", got %s%s%s", path, want, got_ ? "\"" : "", got_ ? got_ : "(absent)",    \
                     got_ ? "\"" : "");                                                                       \
    } while (0)

#define AGG                                                                                                   \
    "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: qa\n  namespace: llm\n"   \
    "spec:\n  backendFramework: vllm\n"

#define MAIN "spec.template.spec.containers[name=main]"

static void frontend_base_container(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend:\n      componentType: frontend\n");
    json_t *d = find(&r, "Deployment", "qa-frontend");
    assert_non_null(d);
    assert_str_at(d, MAIN ".command[0]", "python3");
    assert_str_at(d, MAIN ".args[1]", "dynamo.frontend");
    assert_str_at(d, MAIN ".ports[0].name", "http");
    assert_int_equal(json_integer_value(at(d, MAIN ".ports[0].containerPort")), 8000);
    assert_str_at(d, MAIN ".livenessProbe.httpGet.path", "/live");
    assert_str_at(d, MAIN ".readinessProbe.httpGet.path", "/health");
    assert_str_at(d, MAIN ".readinessProbe.httpGet.port", "http");
    assert_str_at(d, MAIN ".env[name=DYN_HTTP_PORT].value", "8000");
    assert_str_at(d, MAIN ".env[name=DYN_NAMESPACE].value", "llm-qa");
    assert_str_at(d, MAIN ".env[name=POD_NAME].valueFrom.fieldRef.fieldPath", "metadata.name");
    assert_int_equal(json_integer_value(at(d, "spec.template.spec.terminationGracePeriodSeconds")), 60);
    assert_int_equal(json_integer_value(at(d, "spec.template.spec.securityContext.fsGroup")), 1000);
    done(&r);
}

static void own_command_drops_default_args(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend:\n      componentType: frontend\n      extraPodSpec:\n"
                   "        mainContainer: {command: [python3, -m, dynamo.frontend]}\n");
    json_t *d = find(&r, "Deployment", "qa-frontend");
    assert_int_equal(json_array_size(at(d, MAIN ".command")), 3);
    assert_null(at(d, MAIN ".args"));
    done(&r);
}

static void worker_and_planner_base_containers(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w:\n      componentType: worker\n    p:\n      componentType: planner\n");
    json_t *w = find(&r, "Deployment", "qa-w"), *p = find(&r, "Deployment", "qa-p");
    assert_str_at(w, MAIN ".command[0]", "/bin/sh");
    assert_str_at(w, MAIN ".ports[0].name", "system");
    assert_int_equal(json_integer_value(at(w, MAIN ".ports[0].containerPort")), 9090);
    assert_int_equal(json_integer_value(at(w, MAIN ".startupProbe.failureThreshold")), 720);
    assert_str_at(w, MAIN ".env[name=DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS].value", "[\"generate\"]");
    assert_str_at(p, MAIN ".ports[0].name", "metrics");
    assert_str_at(p, MAIN ".ports[1].name", "system");
    assert_str_at(p, "spec.template.spec.serviceAccountName", "planner-serviceaccount");
    done(&r);
}

static void env_precedence_and_order(void **state)
{
    rendered r;
    render_cfg(&r,
               AGG "  envs:\n    - {name: SHARED, value: graph}\n    - {name: ONLY_GRAPH, value: g}\n"
                   "  services:\n    w:\n      componentType: worker\n      envs:\n"
                   "        - {name: SHARED, value: service}\n        - {name: NATS_SERVER, value: nats://mine:4222}\n"
                   "      extraPodSpec:\n        mainContainer:\n          env: [{name: SHARED, value: container}]\n",
               "natsAddress: nats://platform:4222\netcdAddress: etcd:2379\nmodelExpressURL: http://mx:8001\n");
    json_t *d = find(&r, "Deployment", "qa-w");
    assert_str_at(d, MAIN ".env[name=SHARED].value", "service");
    assert_str_at(d, MAIN ".env[name=ONLY_GRAPH].value", "g");
    assert_str_at(d, MAIN ".env[name=NATS_SERVER].value", "nats://mine:4222"); /* user value wins */
    assert_str_at(d, MAIN ".env[name=ETCD_ENDPOINTS].value", "etcd:2379");
    assert_str_at(d, MAIN ".env[name=MODEL_EXPRESS_URL].value", "http://mx:8001");
    json_t *env = at(d, MAIN ".env");
    for (size_t i = 1; i < json_array_size(env); i++)
        assert_true(strcmp(str_at(json_array_get(env, i - 1), "name"), str_at(json_array_get(env, i), "name")) < 0);
    done(&r);
}

static void env_from_secret_and_resources(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w:\n      componentType: worker\n      envFromSecret: hf\n      resources:\n"
                   "        requests: {cpu: \"8\", memory: 32Gi}\n        limits:\n          gpu: \"2\"\n"
                   "          gpuType: nvidia.com/mig-1g.10gb\n          custom: {example.com/fpga: \"1\"}\n"
                   "        claims: [{name: gpu-claim}]\n");
    json_t *d = find(&r, "Deployment", "qa-w");
    assert_str_at(d, MAIN ".envFrom[0].secretRef.name", "hf");
    assert_str_at(d, MAIN ".resources.requests.cpu", "8");
    assert_str_at(d, MAIN ".resources.requests.memory", "32Gi");
    json_t *limits = at(d, MAIN ".resources.limits");
    assert_string_equal(json_string_value(json_object_get(limits, "nvidia.com/mig-1g.10gb")), "2");
    assert_string_equal(json_string_value(json_object_get(limits, "example.com/fpga")), "1");
    assert_null(json_object_get(limits, "nvidia.com/gpu"));
    assert_str_at(d, MAIN ".resources.claims[0].name", "gpu-claim");
    done(&r);
}

static void gpu_default_resource_name(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w:\n      componentType: worker\n      resources: {limits: {gpu: \"1\"}}\n");
    json_t *limits = at(find(&r, "Deployment", "qa-w"), MAIN ".resources.limits");
    assert_string_equal(json_string_value(json_object_get(limits, "nvidia.com/gpu")), "1");
    done(&r);
}

static void pvc_volumes_mounts_and_compilation_cache(void **state)
{
    rendered r;
    render(&r, AGG "  pvcs:\n    - {name: models, create: true, size: 100Gi, storageClass: fast, volumeAccessMode: ReadWriteMany}\n"
                   "    - {name: cc}\n    - {name: cc2}\n  services:\n    w:\n      componentType: worker\n      volumeMounts:\n"
                   "        - {name: models, mountPoint: /models}\n        - {name: cc, useAsCompilationCache: true}\n"
                   "    w2:\n      componentType: worker\n      volumeMounts:\n"
                   "        - {name: cc2, useAsCompilationCache: true, mountPoint: /cache}\n");
    json_t *d = find(&r, "Deployment", "qa-w");
    assert_str_at(d, "spec.template.spec.volumes[name=models].persistentVolumeClaim.claimName", "models");
    assert_str_at(d, MAIN ".volumeMounts[name=models].mountPath", "/models");
    assert_str_at(d, MAIN ".volumeMounts[name=cc].mountPath", "/root/.cache/vllm");
    assert_null(at(d, MAIN ".env[name=VLLM_CACHE_ROOT]"));
    json_t *d2 = find(&r, "Deployment", "qa-w2");
    assert_str_at(d2, MAIN ".volumeMounts[name=cc2].mountPath", "/cache");
    assert_str_at(d2, MAIN ".env[name=VLLM_CACHE_ROOT].value", "/cache");
    /* only create: true PVCs are rendered */
    json_t *pvc = find(&r, "PersistentVolumeClaim", "models");
    assert_non_null(pvc);
    assert_str_at(pvc, "spec.accessModes[0]", "ReadWriteMany");
    assert_str_at(pvc, "spec.resources.requests.storage", "100Gi");
    assert_str_at(pvc, "spec.storageClassName", "fast");
    assert_null(find(&r, "PersistentVolumeClaim", "cc"));
    done(&r);
}

static void shared_memory_volume(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    a: {componentType: worker}\n    b: {componentType: worker, sharedMemory: {size: 16Gi}}\n"
                   "    c: {componentType: worker, sharedMemory: {disabled: true}}\n");
    assert_str_at(find(&r, "Deployment", "qa-a"), "spec.template.spec.volumes[name=shared-memory].emptyDir.sizeLimit", "8Gi");
    assert_str_at(find(&r, "Deployment", "qa-a"), "spec.template.spec.volumes[name=shared-memory].emptyDir.medium", "Memory");
    assert_str_at(find(&r, "Deployment", "qa-a"), MAIN ".volumeMounts[name=shared-memory].mountPath", "/dev/shm");
    assert_str_at(find(&r, "Deployment", "qa-b"), "spec.template.spec.volumes[name=shared-memory].emptyDir.sizeLimit", "16Gi");
    assert_null(at(find(&r, "Deployment", "qa-c"), "spec.template.spec.volumes"));
    done(&r);
}

static void one_service_per_component_three_label_selector(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend: {componentType: frontend}\n    prefill: {componentType: worker}\n"
                   "    decode: {componentType: worker}\n");
    json_t *f = find(&r, "Service", "qa-frontend"), *p = find(&r, "Service", "qa-prefill");
    assert_int_equal(json_integer_value(at(f, "spec.ports[0].port")), 8000);
    assert_str_at(f, "spec.ports[0].targetPort", "http");
    assert_int_equal(json_integer_value(at(p, "spec.ports[0].port")), 9090);
    json_t *sel = at(p, "spec.selector");
    assert_int_equal(json_object_size(sel), 3);
    assert_string_equal(json_string_value(json_object_get(sel, "nvidia.com/dynamo-component")), "prefill");
    assert_string_equal(json_string_value(json_object_get(sel, "nvidia.com/dynamo-component-type")), "worker");
    assert_string_equal(json_string_value(json_object_get(sel, "nvidia.com/dynamo-namespace")), "llm-qa");
    assert_string_equal(json_string_value(json_object_get(at(p, "metadata.labels"), "nvidia.com/dynamo-discovery-backend")),
                        "kubernetes");
    assert_int_equal(count_kind(&r, "Service"), 3);
    done(&r);
}

static void no_worker_service_with_etcd_discovery(void **state)
{
    rendered r;
    render_cfg(&r, AGG "  services:\n    Frontend: {componentType: frontend}\n    w: {componentType: worker}\n",
               "discoveryBackend: etcd\n");
    assert_non_null(find(&r, "Service", "qa-frontend"));
    assert_null(find(&r, "Service", "qa-w"));
    assert_int_equal(count_kind(&r, "ServiceAccount"), 0);
    assert_int_equal(count_kind(&r, "Role"), 0);
    assert_null(at(find(&r, "Deployment", "qa-w"), "spec.template.spec.serviceAccountName"));
    assert_str_at(find(&r, "Deployment", "qa-w"), MAIN ".env[name=DYN_DISCOVERY_BACKEND].value", "etcd");
    done(&r);
}

static void discovery_rbac(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w: {componentType: worker}\n");
    json_t *sa = find(&r, "ServiceAccount", "qa-k8s-service-discovery");
    json_t *role = find(&r, "Role", "qa-k8s-service-discovery-role");
    json_t *rb = find(&r, "RoleBinding", "qa-k8s-service-discovery-binding");
    assert_non_null(sa);
    assert_str_at(role, "rules[2].resources[0]", "dynamoworkermetadatas");
    assert_str_at(rb, "roleRef.name", "qa-k8s-service-discovery-role");
    assert_str_at(rb, "subjects[0].name", "qa-k8s-service-discovery");
    assert_str_at(find(&r, "Deployment", "qa-w"), "spec.template.spec.serviceAccountName", "qa-k8s-service-discovery");
    done(&r);
}

static void ingress_with_tls_class_host_annotations_labels(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend:\n      componentType: frontend\n      ingress:\n        enabled: true\n"
                   "        host: chat\n        hostPrefix: eu-\n        hostSuffix: example.com\n"
                   "        ingressControllerClassName: nginx\n        tls: {secretName: chat-tls}\n"
                   "        annotations: {a.example.com/x: \"1\"}\n        labels: {team: ml}\n");
    json_t *in = find(&r, "Ingress", "qa-frontend");
    assert_str_at(in, "spec.ingressClassName", "nginx");
    assert_str_at(in, "spec.rules[0].host", "eu-chat.example.com");
    assert_str_at(in, "spec.rules[0].http.paths[0].pathType", "Prefix");
    assert_str_at(in, "spec.rules[0].http.paths[0].backend.service.name", "qa-frontend");
    assert_int_equal(json_integer_value(at(in, "spec.rules[0].http.paths[0].backend.service.port.number")), 8000);
    assert_str_at(in, "spec.tls[0].secretName", "chat-tls");
    assert_str_at(in, "spec.tls[0].hosts[0]", "eu-chat.example.com");
    assert_string_equal(json_string_value(json_object_get(at(in, "metadata.annotations"), "a.example.com/x")), "1");
    assert_str_at(in, "metadata.labels.team", "ml");
    done(&r);
}

static void ingress_backend_port_is_the_real_service_port(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w:\n      componentType: worker\n      ingress: {enabled: true, host: w}\n");
    json_t *in = find(&r, "Ingress", "qa-w");
    assert_int_equal(json_integer_value(at(in, "spec.rules[0].http.paths[0].backend.service.port.number")), 9090);
    assert_str_at(in, "spec.rules[0].host", "w.local");
    assert_null(at(in, "spec.ingressClassName"));
    done(&r);
}

static void operator_default_ingress_for_frontends(void **state)
{
    rendered r;
    render_cfg(&r, AGG "  services:\n    Frontend: {componentType: frontend}\n",
               "ingress:\n  ingressControllerClassName: nginx\n  ingressHostSuffix: apps.example.com\n"
               "  ingressControllerTLSSecret: wildcard\n");
    json_t *in = find(&r, "Ingress", "qa-frontend");
    assert_str_at(in, "spec.rules[0].host", "qa.apps.example.com");
    assert_str_at(in, "spec.ingressClassName", "nginx");
    assert_str_at(in, "spec.tls[0].secretName", "wildcard");
    assert_str_at(find(&r, "DynamoComponentDeployment", "qa-frontend"), "spec.ingress.host", "qa");
    done(&r);
    /* no operator class or gateway: no route */
    render(&r, AGG "  services:\n    Frontend: {componentType: frontend}\n");
    assert_int_equal(count_kind(&r, "Ingress") + count_kind(&r, "VirtualService"), 0);
    done(&r);
}

static void virtual_service_with_user_gateway(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend:\n      componentType: frontend\n      ingress:\n        enabled: true\n"
                   "        host: llama\n        useVirtualService: true\n        virtualServiceGateway: istio-system/gw\n");
    json_t *vs = find(&r, "VirtualService", "qa-frontend");
    assert_non_null(vs);
    assert_str_at(vs, "apiVersion", "networking.istio.io/v1beta1");
    assert_str_at(vs, "spec.hosts[0]", "llama.local");
    assert_str_at(vs, "spec.gateways[0]", "istio-system/gw");
    assert_str_at(vs, "spec.http[0].match[0].uri.prefix", "/");
    assert_str_at(vs, "spec.http[0].route[0].destination.host", "qa-frontend");
    assert_int_equal(json_integer_value(at(vs, "spec.http[0].route[0].destination.port.number")), 8000);
    assert_null(find(&r, "Ingress", "qa-frontend"));
    done(&r);
}

static void model_service_and_hash_labels(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    a: {componentType: worker, modelRef: {name: Qwen/Qwen3-0.6B}}\n"
                   "    b: {componentType: worker, modelRef: {name: Qwen/Qwen3-0.6B}}\n");
    /* sha256("Qwen/Qwen3-0.6B") starts with these 8 hex characters */
    char want[64];
    FILE *f = popen("printf %s Qwen/Qwen3-0.6B | sha256sum | cut -c1-8", "r");
    assert_non_null(f);
    assert_non_null(fgets(want, sizeof want, f));
    pclose(f);
    want[8] = '\0';
    char name[80];
    snprintf(name, sizeof name, "dynamo-model-%s", want);
    json_t *svc = find(&r, "Service", name);
    assert_non_null(svc);
    assert_str_at(svc, "spec.clusterIP", "None");
    assert_string_equal(json_string_value(json_object_get(at(svc, "spec.selector"), "nvidia.com/dynamo-base-model-hash")), want);
    assert_string_equal(json_string_value(json_object_get(at(svc, "metadata.annotations"), "nvidia.com/dynamo-base-model")),
                        "Qwen/Qwen3-0.6B");
    json_t *pod_labels = at(find(&r, "Deployment", "qa-b"), "spec.template.metadata.labels");
    assert_string_equal(json_string_value(json_object_get(pod_labels, "nvidia.com/dynamo-base-model-hash")), want);
    size_t i, models = 0;
    json_t *o;
    json_array_foreach(r.objects, i, o) models += strncmp(str_at(o, "metadata.name"), "dynamo-model-", 13) == 0;
    assert_int_equal(models, 1); /* one per distinct model */
    done(&r);
}

static void labels_of_section_1_and_service_labels_everywhere(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    Frontend:\n      componentType: frontend\n      labels: {team: ml}\n"
                   "      ingress: {enabled: true, host: x}\n      extraPodMetadata: {labels: {extra: \"yes\"}}\n");
    const char *kinds[] = {"Deployment", "Service", "Ingress", "DynamoComponentDeployment"};
    for (int k = 0; k < 4; k++) {
        json_t *labels = at(find(&r, kinds[k], "qa-frontend"), "metadata.labels");
        assert_string_equal(json_string_value(json_object_get(labels, "team")), "ml");
        assert_string_equal(json_string_value(json_object_get(labels, "nvidia.com/dynamo-component")), "Frontend");
        assert_string_equal(json_string_value(json_object_get(labels, "nvidia.com/dynamo-namespace")), "llm-qa");
        assert_string_equal(json_string_value(json_object_get(labels, "nvidia.com/dynamo-graph-deployment-name")), "qa");
    }
    json_t *d = find(&r, "Deployment", "qa-frontend");
    json_t *pod = at(d, "spec.template.metadata.labels");
    assert_string_equal(json_string_value(json_object_get(pod, "nvidia.com/metrics-enabled")), "true");
    assert_string_equal(json_string_value(json_object_get(pod, "nvidia.com/selector")), "qa-frontend");
    assert_string_equal(json_string_value(json_object_get(pod, "extra")), "yes");
    assert_string_equal(json_string_value(json_object_get(at(d, "spec.selector.matchLabels"), "nvidia.com/selector")),
                        "qa-frontend");
    done(&r);
}

static void metrics_label_can_be_disabled(void **state)
{
    rendered r;
    render(&r, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: qa\n"
               "  annotations: {nvidia.com/enable-metrics: \"false\"}\nspec:\n  services:\n    w: {componentType: worker}\n");
    json_t *pod = at(find(&r, "Deployment", "qa-w"), "spec.template.metadata.labels");
    assert_null(json_object_get(pod, "nvidia.com/metrics-enabled"));
    json_t *ann = at(find(&r, "DynamoComponentDeployment", "qa-w"), "spec.annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "nvidia.com/enable-metrics")), "false");
    done(&r);
}

static void owner_references_only_with_a_known_uid(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w: {componentType: worker}\n");
    assert_null(at(find(&r, "DynamoComponentDeployment", "qa-w"), "metadata.ownerReferences"));
    done(&r);
    render(&r, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: qa\n"
               "  uid: 0c1e6ad1-7a39-4a3e-9a53-2f1f5b1e0c11\nspec:\n  services:\n    w: {componentType: worker}\n");
    json_t *dcd = find(&r, "DynamoComponentDeployment", "qa-w");
    assert_str_at(dcd, "metadata.ownerReferences[0].kind", "DynamoGraphDeployment");
    assert_str_at(dcd, "metadata.ownerReferences[0].uid", "0c1e6ad1-7a39-4a3e-9a53-2f1f5b1e0c11");
    assert_true(json_is_true(at(dcd, "metadata.ownerReferences[0].controller")));
    assert_str_at(find(&r, "ServiceAccount", "qa-k8s-service-discovery"), "metadata.ownerReferences[0].name", "qa");
    /* children of a DCD get their owner from the operator, which knows the DCD's uid */
    assert_null(at(find(&r, "Deployment", "qa-w"), "metadata.ownerReferences"));
    done(&r);
}

static void dcd_carries_the_service_spec(void **state)
{
    rendered r;
    render(&r, AGG "  envs: [{name: A, value: g}, {name: Z, value: g}]\n  services:\n    VllmWorker:\n"
                   "      componentType: worker\n      envs: [{name: A, value: s}]\n      replicas: 3\n");
    json_t *dcd = find(&r, "DynamoComponentDeployment", "qa-vllmworker");
    assert_str_at(dcd, "spec.serviceName", "VllmWorker");
    assert_str_at(dcd, "spec.dynamoNamespace", "llm-qa");
    assert_str_at(dcd, "spec.backendFramework", "vllm");
    assert_str_at(dcd, "spec.envs[0].value", "s");
    assert_str_at(dcd, "spec.envs[1].name", "Z");
    assert_int_equal(json_integer_value(at(dcd, "spec.replicas")), 3);
    assert_int_equal(json_integer_value(at(find(&r, "Deployment", "qa-vllmworker"), "spec.replicas")), 3);
    done(&r);
}

static void global_dynamo_namespace(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    w: {componentType: worker, globalDynamoNamespace: true}\n");
    assert_str_at(find(&r, "Deployment", "qa-w"), MAIN ".env[name=DYN_NAMESPACE].value", "dynamo");
    done(&r);
}

static void deployment_strategy_annotations(void **state)
{
    rendered r;
    render(&r, AGG "  services:\n    a: {componentType: worker}\n    b:\n      componentType: worker\n"
                   "      annotations: {nvidia.com/deployment-strategy: Recreate}\n    c:\n      componentType: worker\n"
                   "      annotations: {nvidia.com/deployment-rolling-update-max-surge: \"1\"}\n");
    assert_str_at(find(&r, "Deployment", "qa-a"), "spec.strategy.rollingUpdate.maxSurge", "25%");
    assert_str_at(find(&r, "Deployment", "qa-b"), "spec.strategy.type", "Recreate");
    assert_int_equal(json_integer_value(at(find(&r, "Deployment", "qa-c"), "spec.strategy.rollingUpdate.maxSurge")), 1);
    done(&r);
}

#define MULTINODE(fw, cmd, args)                                                                              \
    "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: mn\nspec:\n"             \
    "  backendFramework: " fw "\n  services:\n    w:\n      componentType: worker\n      replicas: 2\n"          \
    "      multinode: {nodeCount: 2}\n      resources: {limits: {gpu: \"4\"}}\n      extraPodSpec:\n"          \
    "        mainContainer:\n          command: " cmd "\n          args: " args "\n"

static void leaderworkerset_per_replica(void **state)
{
    rendered r;
    render(&r, MULTINODE("sglang", "[python3, -m, dynamo.sglang]", "[--tp, \"8\"]"));
    assert_int_equal(count_kind(&r, "LeaderWorkerSet"), 2);
    assert_int_equal(count_kind(&r, "Deployment"), 0);
    json_t *lws = find(&r, "LeaderWorkerSet", "mn-w-1");
    assert_int_equal(json_integer_value(at(lws, "spec.leaderWorkerTemplate.size")), 2);
    assert_str_at(lws, "spec.startupPolicy", "LeaderCreated");
    assert_str_at(lws, "metadata.labels.instance-id", "1");
    json_t *leader = at(lws, "spec.leaderWorkerTemplate.leaderTemplate");
    json_t *worker = at(lws, "spec.leaderWorkerTemplate.workerTemplate");
    assert_str_at(leader, "metadata.labels.role", "leader");
    assert_str_at(worker, "metadata.labels.role", "worker");
    assert_null(json_object_get(at(leader, "metadata.labels"), "nvidia.com/selector"));
    /* sglang: leader address, node count and rank appended to the Python args */
    json_t *args = at(leader, "spec.containers[name=main].args");
    assert_string_equal(json_string_value(json_array_get(args, 3)), "$(LWS_LEADER_ADDRESS):29500");
    assert_string_equal(json_string_value(json_array_get(args, 5)), "2");
    assert_string_equal(json_string_value(json_array_get(args, 7)), "$(LWS_WORKER_INDEX)");
    assert_non_null(at(leader, "spec.containers[name=main].readinessProbe"));
    assert_null(at(worker, "spec.containers[name=main].readinessProbe")); /* sglang workers lose probes */
    /* the Service selects leaders only */
    assert_str_at(find(&r, "Service", "mn-w"), "spec.selector.role", "leader");
    done(&r);
}

static void vllm_multinode_uses_ray_when_the_model_spans_nodes(void **state)
{
    rendered r;
    render(&r, MULTINODE("vllm", "[python3, -m, dynamo.vllm]", "[--model, m, --tensor-parallel-size, \"8\"]"));
    json_t *lws = find(&r, "LeaderWorkerSet", "mn-w-0");
    const char *leader = str_at(lws, "spec.leaderWorkerTemplate.leaderTemplate.spec.containers[name=main].args[0]");
    const char *worker = str_at(lws, "spec.leaderWorkerTemplate.workerTemplate.spec.containers[name=main].args[0]");
    assert_string_equal(leader, "ray start --head --port=6379 && python3 -m dynamo.vllm --model m "
                                "--tensor-parallel-size 8 --distributed-executor-backend ray");
    assert_string_equal(worker, "ray start --address=$(LWS_LEADER_ADDRESS):6379 --block");
    done(&r);
}

static void trtllm_multinode_runs_mpi_over_ssh(void **state)
{
    rendered r;
    render(&r, MULTINODE("trtllm", "[python3, -m, dynamo.trtllm]", "[--model-path, m]"));
    json_t *lws = find(&r, "LeaderWorkerSet", "mn-w-0");
    json_t *leader = at(lws, "spec.leaderWorkerTemplate.leaderTemplate.spec");
    json_t *worker = at(lws, "spec.leaderWorkerTemplate.workerTemplate.spec");
    const char *run = str_at(leader, "containers[name=main].args[0]");
    assert_non_null(strstr(run, "mpirun"));
    assert_non_null(strstr(run, "-n 8 "));
    assert_non_null(strstr(run, "trtllm-llmapi-launch python3 -m dynamo.trtllm --model-path m"));
    assert_non_null(strstr(str_at(worker, "containers[name=main].args[0]"), "sshd -D -p 2222"));
    assert_int_equal(json_integer_value(at(worker, "containers[name=main].readinessProbe.tcpSocket.port")), 2222);
    assert_str_at(leader, "containers[name=main].env[name=OMPI_MCA_orte_keep_fqdn_hostnames].value", "1");
    assert_str_at(leader, "volumes[name=mpi-run-ssh-secret].secret.secretName", "mpi-run-ssh-secret");
    done(&r);
}

static void sidecars_reach_the_bus_and_see_claims_read_only(void **state)
{
    rendered r;
    render(&r, AGG "  pvcs: [{name: models}]\n  services:\n    w:\n      componentType: worker\n      envFromSecret: creds\n"
                   "      volumeMounts: [{name: models, mountPoint: /models}]\n      extraPodSpec:\n"
                   "        containers:\n          - name: side\n            image: busybox\n"
                   "            env: [{name: NATS_SERVER, value: nats://own:4222}]\n");
    json_t *spec = at(find(&r, "Deployment", "qa-w"), "spec.template.spec");
    assert_str_at(spec, "containers[0].name", "side"); /* sidecars first, main last */
    assert_str_at(spec, "containers[1].name", "main");
    assert_str_at(spec, "containers[name=side].env[name=NATS_SERVER].value", "nats://own:4222");
    assert_str_at(spec, "containers[name=side].env[name=ETCD_ENDPOINTS].value", "dynamo-platform-etcd:2379");
    assert_str_at(spec, "containers[name=side].envFrom[0].secretRef.name", "creds");
    assert_true(json_is_true(at(spec, "containers[name=side].volumeMounts[name=models].readOnly")));
    assert_null(at(spec, "containers[name=side].volumeMounts[name=shared-memory]"));
    done(&r);
}

static void apply_order(void **state)
{
    rendered r;
    render_cfg(&r, AGG "  pvcs: [{name: m, create: true, size: 1Gi, storageClass: s, volumeAccessMode: ReadWriteOnce}]\n"
                       "  services:\n    Frontend: {componentType: frontend}\n    w: {componentType: worker}\n"
                       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n",
               "ingress: {ingressControllerClassName: nginx}\n");
    const char *want[] = {"ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Role", "RoleBinding", "Service",
                          "Service", "DynamoComponentDeployment", "DynamoComponentDeployment", "Deployment",
                          "Deployment", "Ingress"};
    assert_int_equal(json_array_size(r.objects), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(str_at(json_array_get(r.objects, i), "kind"), want[i]);
    done(&r);
}

static void standalone_dcd_renders_its_workload(void **state)
{
    rendered r;
    render(&r, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoComponentDeployment\nmetadata:\n  name: solo\n"
               "  namespace: ns\nspec:\n  componentType: worker\n  dynamoNamespace: ns-graph\n  replicas: 2\n");
    json_t *d = find(&r, "Deployment", "solo");
    assert_non_null(d);
    assert_str_at(d, MAIN ".env[name=DYN_NAMESPACE].value", "ns-graph");
    assert_int_equal(count_kind(&r, "DynamoComponentDeployment"), 0);
    done(&r);
}

static void two_documents_producing_one_object(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {name: g}\n"
                    "spec: {services: {F: {componentType: frontend}}}\n---\n"
                    "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {name: g}\n"
                    "spec: {services: {W: {componentType: worker}}}\n---\n"
                    "apiVersion: v1\nkind: Service\nmetadata: {name: g-f}\nspec: {}\n");
    assert_true(l.ok); /* each document alone is valid */
    dyn_load_opts opts = {.config = &l.config};
    dyn_diags d;
    dyn_diags_init(&d);
    json_t *objects = dyn_render_bundles(&l.bundle, 1, &opts, &d);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dyn_diags_sort(&d);
    dyn_diags_print(&d, f);
    fclose(f);
    /* the second graph repeats the RBAC objects; the Service repeats the frontend's */
    assert_non_null(strstr(text, "g.yaml:6:1: error: ServiceAccount default/g-k8s-service-discovery is also produced by "
                                 "g.yaml:1; object names must be unique per kind and namespace\n"));
    assert_non_null(strstr(text, "g.yaml:11:1: error: Service default/g-f is also produced by g.yaml:1; object names "
                                 "must be unique per kind and namespace\n"));
    free(text);
    json_decref(objects);
    dyn_diags_free(&d);
    loaded_free(&l);
}

static void output_is_deterministic(void **state)
{
    char *texts[2];
    for (int k = 0; k < 2; k++) {
        rendered r;
        render(&r, AGG "  services:\n    Frontend: {componentType: frontend}\n    w: {componentType: worker}\n");
        size_t len;
        FILE *f = open_memstream(&texts[k], &len);
        dyn_render_write_yaml(f, r.objects);
        fclose(f);
        done(&r);
    }
    assert_string_equal(texts[0], texts[1]);
    free(texts[0]);
    free(texts[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frontend_base_container),
        cmocka_unit_test(own_command_drops_default_args),
        cmocka_unit_test(worker_and_planner_base_containers),
        cmocka_unit_test(env_precedence_and_order),
        cmocka_unit_test(env_from_secret_and_resources),
        cmocka_unit_test(gpu_default_resource_name),
        cmocka_unit_test(pvc_volumes_mounts_and_compilation_cache),
        cmocka_unit_test(shared_memory_volume),
        cmocka_unit_test(one_service_per_component_three_label_selector),
        cmocka_unit_test(no_worker_service_with_etcd_discovery),
        cmocka_unit_test(discovery_rbac),
        cmocka_unit_test(ingress_with_tls_class_host_annotations_labels),
        cmocka_unit_test(ingress_backend_port_is_the_real_service_port),
        cmocka_unit_test(operator_default_ingress_for_frontends),
        cmocka_unit_test(virtual_service_with_user_gateway),
        cmocka_unit_test(model_service_and_hash_labels),
        cmocka_unit_test(labels_of_section_1_and_service_labels_everywhere),
        cmocka_unit_test(metrics_label_can_be_disabled),
        cmocka_unit_test(owner_references_only_with_a_known_uid),
        cmocka_unit_test(dcd_carries_the_service_spec),
        cmocka_unit_test(global_dynamo_namespace),
        cmocka_unit_test(deployment_strategy_annotations),
        cmocka_unit_test(leaderworkerset_per_replica),
        cmocka_unit_test(vllm_multinode_uses_ray_when_the_model_spans_nodes),
        cmocka_unit_test(trtllm_multinode_runs_mpi_over_ssh),
        cmocka_unit_test(sidecars_reach_the_bus_and_see_claims_read_only),
        cmocka_unit_test(apply_order),
        cmocka_unit_test(standalone_dcd_renders_its_workload),
        cmocka_unit_test(two_documents_producing_one_object),
        cmocka_unit_test(output_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
