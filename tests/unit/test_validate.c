/* Every validation rule: a failing input, and its exact message and position. */
#include "testutil.h"

#include "graphtest.h"

#define FRONTEND "    Frontend:\n      componentType: frontend\n"

static void services_at_least_one(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services: {}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:6:13: error: spec.services: must have at least one service");
    loaded_free(&l);
}

static void services_at_most_25(void **state)
{
    char yaml[8192] = GRAPH_HEAD "  services:\n";
    for (int i = 0; i < 26; i++) {
        char line[64];
        snprintf(line, sizeof line, "    s%d: {componentType: worker}\n", i);
        strcat(yaml, line);
    }
    loaded l;
    loaded_load(&l, yaml);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:5: error: spec.services: must have at most 25 entries (has 26)");
    loaded_free(&l);
}

static void pvcs_at_most_100(void **state)
{
    char yaml[16384] = GRAPH_HEAD "  pvcs:\n";
    for (int i = 0; i < 101; i++) {
        char line[64];
        snprintf(line, sizeof line, "    - name: p%d\n", i);
        strcat(yaml, line);
    }
    strcat(yaml, "  services:\n" FRONTEND);
    loaded l;
    loaded_load(&l, yaml);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:5: error: spec.pvcs: must have at most 100 items (has 101)");
    loaded_free(&l);
}

static void pvc_create_requires_size_class_mode(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - name: cache\n      create: true\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:7: error: spec.pvcs[0].size: required when create is true");
    assert_diag(&l, "g.yaml:7:7: error: spec.pvcs[0].storageClass: required when create is true");
    assert_diag(&l, "g.yaml:7:7: error: spec.pvcs[0].volumeAccessMode: required when create is true");
    loaded_free(&l);
}

static void pvc_create_false_needs_nothing_else(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - name: cache\n      create: false\n  services:\n" FRONTEND);
    assert_true(l.ok);
    loaded_free(&l);
}

static void pvc_empty_values_when_create(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - name: cache\n      create: true\n      size: 1Gi\n"
                               "      storageClass: \"\"\n      volumeAccessMode: ReadWriteOnce\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:10:21: error: spec.pvcs[0].storageClass: must not be empty when create is true");
    loaded_free(&l);
}

static void pvc_name_required_and_non_empty(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - create: false\n    - name: \"\"\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:7: error: spec.pvcs[0].name: required field is missing");
    assert_diag(&l, "g.yaml:8:13: error: spec.pvcs[1].name: must not be empty");
    loaded_free(&l);
}

static void pvc_size_quantity_grammar(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - name: a\n      size: 10GB\n    - name: b\n      size: 10G\n"
                               "    - name: c\n      size: 10Gi\n    - name: d\n      size: \"0\"\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:8:13: error: spec.pvcs[0].size: \"10GB\" is not a valid quantity: unknown suffix (valid: "
                    "Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent like e3); write e.g. 10Gi, 10G, 500m or 2");
    assert_diag(&l, "g.yaml:14:13: error: spec.pvcs[3].size: must be greater than zero (got \"0\")");
    assert_no_diag_containing(&l, "pvcs[1]");
    assert_no_diag_containing(&l, "pvcs[2]");
    loaded_free(&l);
}

static void pvc_access_mode_known(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs:\n    - name: a\n      volumeAccessMode: RWX\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:8:25: error: spec.pvcs[0].volumeAccessMode: must be one of ReadWriteOnce, ReadOnlyMany, "
                    "ReadWriteMany, ReadWriteOncePod (got \"RWX\")");
    loaded_free(&l);
}

static void replicas_not_negative(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      componentType: worker\n      replicas: -1\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:9:17: error: spec.services[w].replicas: must be greater than or equal to 0 (got -1)");
    loaded_free(&l);
}

static void node_count_at_least_2(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      componentType: worker\n      multinode:\n"
                               "        nodeCount: 1\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:10:20: error: spec.services[w].multinode.nodeCount: must be greater than or equal to 2 "
                    "(got 1)");
    loaded_free(&l);
}

static void multinode_needs_command_args_and_gpus(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      componentType: worker\n      multinode:\n"
                               "        nodeCount: 2\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:9:7: error: spec.services[w].extraPodSpec.mainContainer: a multinode service needs both "
                    "command and args: the leader address and node rank are injected into them");
    assert_diag(&l, "g.yaml:9:7: error: spec.services[w].resources.limits.gpu: required for a multinode service (GPUs "
                    "per node)");
    loaded_free(&l);
}

static void shared_memory_rules(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    a:\n      sharedMemory: {}\n    b:\n"
                               "      sharedMemory: {disabled: true, size: 1Gi}\n    c:\n"
                               "      sharedMemory: {size: \"0\"}\n    d:\n      sharedMemory: {disabled: true}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:8:21: error: spec.services[a].sharedMemory.size: required unless disabled is true (or "
                    "leave sharedMemory out for the 8Gi default)");
    assert_diag(&l, "g.yaml:10:44: error: spec.services[b].sharedMemory.size: must not be set when disabled is true");
    assert_diag(&l, "g.yaml:12:28: error: spec.services[c].sharedMemory.size: must be greater than zero (got \"0\")");
    assert_no_diag_containing(&l, "services[d]");
    loaded_free(&l);
}

static void ingress_host_when_enabled(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    Frontend:\n      componentType: frontend\n      ingress:\n"
                               "        enabled: true\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:10:9: error: spec.services[Frontend].ingress.host: required when enabled is true");
    loaded_free(&l);
}

static void virtual_service_needs_gateway(void **state)
{
    const char *yaml = GRAPH_HEAD "  services:\n    Frontend:\n      componentType: frontend\n      ingress:\n"
                                  "        enabled: true\n        host: h\n        useVirtualService: true\n";
    loaded l;
    loaded_load(&l, yaml);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:12:28: error: spec.services[Frontend].ingress.useVirtualService: needs a gateway: set "
                    "ingress.virtualServiceGateway here or the operator's ingress.virtualServiceGateway (dynamo-c does "
                    "not fall back to an Ingress)");
    loaded_free(&l);
    /* an operator-level gateway satisfies it */
    loaded_load_cfg(&l, yaml, "ingress:\n  virtualServiceGateway: istio-system/gw\n", NULL);
    assert_true(l.ok);
    loaded_free(&l);
}

static void backend_framework_enum(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  backendFramework: pytorch\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:6:21: error: spec.backendFramework: must be one of: sglang, vllm, trtllm (got \"pytorch\")");
    loaded_free(&l);
}

static void backend_framework_immutable(void **state)
{
    loaded a, b;
    loaded_load(&a, GRAPH_HEAD "  backendFramework: vllm\n  services:\n" FRONTEND);
    loaded_load(&b, GRAPH_HEAD "  backendFramework: sglang\n  services:\n" FRONTEND);
    assert_true(a.ok && b.ok);
    dyn_diags d;
    dyn_diags_init(&d);
    dyn_graph_validate_update(&a.bundle.graphs[0], &b.bundle.graphs[0], &d);
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.items[0].message, "is immutable: was \"vllm\", now \"sglang\"");
    assert_int_equal(d.items[0].line, 6);
    dyn_diags_free(&d);
    dyn_diags_init(&d);
    dyn_graph_validate_update(&a.bundle.graphs[0], &a.bundle.graphs[0], &d);
    assert_int_equal(d.errors, 0);
    dyn_diags_free(&d);
    loaded_free(&a);
    loaded_free(&b);
}

static void framework_detected_must_match(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  backendFramework: sglang\n  services:\n    w:\n      componentType: worker\n"
                               "      extraPodSpec:\n        mainContainer:\n          command: [python3, -m, dynamo.vllm]\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:10:7: error: spec.services[w].extraPodSpec.mainContainer: runs dynamo.vllm but "
                    "spec.backendFramework is \"sglang\"");
    loaded_free(&l);
}

static void resource_quantities(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      resources:\n        requests: {cpu: 500m, memory: 10GB}\n"
                               "        limits: {gpu: \"1.5\", memory: 10G, custom: {example.com/fpga: x1}}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:9:39: error: spec.services[w].resources.requests.memory: \"10GB\" is not a valid quantity: "
                    "unknown suffix (valid: Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent like e3); write e.g. "
                    "10Gi, 10G, 500m or 2");
    assert_diag(&l, "g.yaml:10:23: error: spec.services[w].resources.limits.gpu: must be a whole number (got \"1.5\")");
    assert_diag(&l, "g.yaml:10:70: error: spec.services[w].resources.limits.custom[example.com/fpga]: \"x1\" is not a "
                    "valid quantity: does not start with a number; write e.g. 10Gi, 10G, 500m or 2");
    assert_no_diag_containing(&l, "requests.cpu");
    assert_no_diag_containing(&l, "limits.memory");
    loaded_free(&l);
}

static void names_dns_labels_and_length(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n"
                    "  name: a-graph-name-that-is-long-enough-to-break-things\nspec:\n  services:\n"
                    "    Prefill_Worker: {componentType: worker}\n    ThisKeyMakesTheObjectNameTooLong: {}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:5: error: spec.services[Prefill_Worker]: derived object name "
                    "\"a-graph-name-that-is-long-enough-to-break-things-prefill_worker\" is not a valid Kubernetes name "
                    "(63 characters): must consist of lower case alphanumeric characters or '-', and must start and end "
                    "with an alphanumeric character");
    assert_diag(&l, "g.yaml:8:5: error: spec.services[ThisKeyMakesTheObjectNameTooLong]: derived object name "
                    "\"a-graph-name-that-is-long-enough-to-break-things-thiskeymakestheobjectnametoolong\" is not a "
                    "valid Kubernetes name (81 characters): must be no more than 63 characters");
    assert_diag(&l, "g.yaml:4:9: error: metadata.name: the discovery ServiceAccount "
                    "\"a-graph-name-that-is-long-enough-to-break-things-k8s-service-discovery\" (70 characters) is a "
                    "label value: must be no more than 63 characters; use a name of at most 40 characters");
    loaded_free(&l);
}

static void graph_name_starts_with_letter(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: 1st\nspec:\n"
                    "  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:4:9: error: metadata.name: must start with a letter: it names Services (DNS-1035)");
    loaded_free(&l);
}

static void dynamo_namespace_is_a_label_value(void **state)
{
    loaded l;
    loaded_load_cfg(&l, GRAPH_HEAD "  services:\n" FRONTEND, "discoveryBackend: etcd\n",
                    "a-namespace-whose-name-is-long-enough-on-its-own-to-be-a-problem");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:4:9: error: metadata.name: the Dynamo namespace "
                    "\"a-namespace-whose-name-is-long-enough-on-its-own-to-be-a-problem-g\" (namespace-name, 66 "
                    "characters) is a label value: must be no more than 63 characters");
    loaded_free(&l);
}

static void volume_mount_rules(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  backendFramework: sglang\n  pvcs:\n    - name: models\n  services:\n    w:\n"
                               "      componentType: worker\n      volumeMounts:\n        - name: models\n"
                               "        - name: models\n          mountPoint: relative/path\n"
                               "        - name: cache\n          useAsCompilationCache: true\n"
                               "        - name: elsewhere\n          mountPoint: /data\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:13:11: error: spec.services[w].volumeMounts[0].mountPoint: required unless "
                    "useAsCompilationCache is true");
    assert_diag(&l, "g.yaml:15:23: error: spec.services[w].volumeMounts[1].mountPoint: must be an absolute path (got "
                    "\"relative/path\")");
    assert_diag(&l, "g.yaml:14:17: error: spec.services[w].volumeMounts[1].name: claim \"models\" is mounted twice "
                    "(also volumeMounts[0])");
    assert_diag(&l, "g.yaml:16:11: error: spec.services[w].volumeMounts[2].mountPoint: required for a compilation "
                    "cache here: only vLLM workers have a default (/root/.cache/vllm)");
    assert_diag(&l, "g.yaml:16:17: warning: spec.services[w].volumeMounts[2].name: claim \"cache\" is not declared in "
                    "spec.pvcs; pods stay Pending unless it exists in the cluster");
    assert_diag(&l, "g.yaml:18:17: warning: spec.services[w].volumeMounts[3].name: claim \"elsewhere\" is not declared "
                    "in spec.pvcs; pods stay Pending unless it exists in the cluster");
    loaded_free(&l);
}

static void vllm_compilation_cache_has_default(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  backendFramework: vllm\n  pvcs:\n    - name: cache\n  services:\n    w:\n"
                               "      componentType: worker\n      volumeMounts:\n        - name: cache\n"
                               "          useAsCompilationCache: true\n");
    assert_true(l.ok);
    loaded_free(&l);
}

static void unknown_fields_are_errors_with_hints(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      componentType: worker\n      replcas: 2\n"
                               "      extraPodSpec:\n        mainContainer:\n          imagee: x\n"
                               "        nodeSelectr: {}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:9:7: error: spec.services[w].replcas: unknown field \"replcas\" (did you mean "
                    "\"replicas\"?)");
    assert_diag(&l, "g.yaml:12:11: error: spec.services[w].extraPodSpec.mainContainer.imagee: unknown field "
                    "\"imagee\" (did you mean \"image\"?)");
    assert_diag(&l, "g.yaml:13:9: error: spec.services[w].extraPodSpec.nodeSelectr: unknown field \"nodeSelectr\" "
                    "(did you mean \"nodeSelector\"?)");
    loaded_free(&l);
}

static void unacted_and_deprecated_fields_warn(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  restart:\n    id: r1\n  services:\n    w:\n      componentType: worker\n"
                               "      scalingAdapter: {enabled: true}\n      autoscaling: {}\n"
                               "      dynamoNamespace: old\n");
    assert_true(l.ok);
    assert_diag(&l, "g.yaml:6:3: warning: spec.restart: accepted, but dynamo-c does not act on it yet");
    assert_diag(&l, "g.yaml:11:7: warning: spec.services[w].scalingAdapter: accepted, but dynamo-c does not act on it "
                    "yet");
    assert_diag(&l, "g.yaml:12:7: warning: spec.services[w].autoscaling: deprecated and ignored");
    assert_diag(&l, "g.yaml:13:7: warning: spec.services[w].dynamoNamespace: deprecated: replaced by the computed "
                    "Dynamo namespace (namespace-graphname)");
    loaded_free(&l);
}

static void null_means_not_set(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs: null\n  services:\n    Frontend:\n      componentType: frontend\n"
                               "      replicas: null\n      ingress: ~\n      sharedMemory:\n");
    assert_true(l.ok);
    assert_string_equal(l.text, "");
    loaded_free(&l);
}

static void wrong_types_say_how_to_fix(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      replicas: \"2\"\n      envs:\n        - name: X\n"
                               "          value: 1\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:8:17: error: spec.services[w].replicas: must be an integer, not a string");
    assert_diag(&l, "g.yaml:11:18: error: spec.services[w].envs[0].value: must be a string, not an integer (write "
                    "\"1\" with quotes)");
    loaded_free(&l);
}

static void other_objects_need_envelope(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata: {a: b}\n---\n"
                    "kind: ConfigMap\nmetadata: {}\n---\napiVersion: v1\nkind: Secret\n---\n- a list\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:1: error: apiVersion: required field is missing");
    assert_diag(&l, "g.yaml:8:11: error: metadata.name: required field is missing");
    assert_diag(&l, "g.yaml:10:1: error: metadata.name: required field is missing");
    assert_diag(&l, "g.yaml:13:1: error: a document must be a Kubernetes object (a map with apiVersion, kind and "
                    "metadata), not a list");
    assert_int_equal(l.bundle.n_objects, 1);
    loaded_free(&l);
}

static void metadata_fields_checked(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\n"
                    "  labls: {}\n  labels: {team: \"a b\"}\nspec:\n  services:\n" FRONTEND);
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:5:3: error: metadata.labls: unknown field \"labls\"");
    assert_diag(&l, "g.yaml:6:18: error: metadata.labels[team]: invalid label value \"a b\": must be alphanumeric "
                    "characters, '-', '_' or '.', starting and ending with an alphanumeric character");
    loaded_free(&l);
}

static void namespace_must_match_request(void **state)
{
    loaded l;
    loaded_load_cfg(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\n"
                        "  namespace: a\nspec:\n  services:\n" FRONTEND,
                    NULL, "b");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:5:14: error: metadata.namespace: \"a\" does not match the requested namespace \"b\"");
    loaded_free(&l);
}

static void wrong_api_version(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata: {name: g}\nspec: {}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:1:13: error: apiVersion: DynamoGraphDeployment is served as nvidia.com/v1alpha1 by "
                    "dynamo-c (got \"nvidia.com/v1beta1\")");
    loaded_free(&l);
}

static void every_problem_reported_at_once(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  backendFramework: x\n  pvcs:\n    - name: a\n      create: true\n  services:\n"
                               "    w:\n      replicas: -2\n      bogus: 1\n");
    assert_false(l.ok);
    assert_true(l.diags.errors >= 6);
    loaded_free(&l);
}

static void keys_differing_in_case_collide(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    Frontend: {componentType: frontend}\n    frontend: {componentType: worker}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:8:5: error: spec.services[frontend]: names the same objects as spec.services[Frontend] "
                    "(object names are lower case)");
    loaded_free(&l);
}

static void user_volumes_must_not_clash(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs: [{name: models}]\n  services:\n    w:\n      componentType: worker\n"
                               "      volumeMounts: [{name: models, mountPoint: /m}]\n      extraPodSpec:\n"
                               "        volumes:\n          - {name: models, emptyDir: {}}\n"
                               "          - {name: shared-memory, emptyDir: {}}\n          - {name: mine, emptyDir: {}}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:13:20: error: spec.services[w].extraPodSpec.volumes[0].name: \"models\" is also a volume "
                    "dynamo-c adds (volumeMounts): rename one of them");
    assert_diag(&l, "g.yaml:14:20: error: spec.services[w].extraPodSpec.volumes[1].name: \"shared-memory\" is also a "
                    "volume dynamo-c adds (sharedMemory): rename one of them");
    assert_no_diag_containing(&l, "volumes[2]");
    loaded_free(&l);
}

static void own_ports_keep_the_named_default(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    Frontend:\n      componentType: frontend\n      extraPodSpec:\n"
                               "        mainContainer:\n          ports: [{name: web, containerPort: 8080}]\n"
                               "    w:\n      componentType: worker\n      extraPodSpec:\n        mainContainer:\n"
                               "          ports: [{name: system, containerPort: 9090}, {name: extra, containerPort: 7000}]\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:11:18: error: spec.services[Frontend].extraPodSpec.mainContainer.ports: replaces the "
                    "default ports, but the Service and the probes use the port named \"http\" (8000): keep it in the "
                    "list");
    assert_no_diag_containing(&l, "services[w]");
    loaded_free(&l);
}

static void env_names(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  envs: [{name: \"A=B\", value: x}]\n  services:\n    w:\n      componentType: worker\n"
                               "      envs: [{name: \"\", value: x}]\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:6:17: error: spec.envs[0].name: \"A=B\" is not a valid environment variable name (printable "
                    "ASCII, no spaces and no '=')");
    assert_diag(&l, "g.yaml:10:21: error: spec.services[w].envs[0].name: \"\" is not a valid environment variable name "
                    "(printable ASCII, no spaces and no '=')");
    loaded_free(&l);
}

static void pod_shape(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  pvcs: [{name: my.weights}, {name: shared-memory}]\n  services:\n    w:\n"
                               "      componentType: worker\n      volumeMounts:\n"
                               "        - {name: my.weights, mountPoint: /w}\n"
                               "        - {name: shared-memory, mountPoint: /s}\n"
                               "        - {name: other, mountPoint: /dev/shm}\n      extraPodSpec:\n"
                               "        containers: [{name: main, image: busybox}]\n        mainContainer:\n"
                               "          volumeMounts: [{name: ghost, mountPath: /g}]\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:11:18: error: spec.services[w].volumeMounts[0]: claim \"my.weights\" also names the pod's "
                    "volume, which must be a DNS-1123 label: must consist of lower case alphanumeric characters or '-', "
                    "and must start and end with an alphanumeric character");
    assert_diag(&l, "g.yaml:12:18: error: spec.services[w].volumeMounts[1]: \"shared-memory\" is the shared memory "
                    "volume's name; rename the claim or set sharedMemory.disabled");
    assert_diag(&l, "g.yaml:13:37: error: spec.services[w].volumeMounts[2]: /dev/shm is where shared memory is mounted; "
                    "set sharedMemory.disabled to mount a claim there");
    assert_diag(&l, "g.yaml:15:29: error: spec.services[w].extraPodSpec.containers[0].name: \"main\" is the main "
                    "container's name; give the sidecar another (the main container is extraPodSpec.mainContainer)");
    assert_diag(&l, "g.yaml:17:33: error: spec.services[w].extraPodSpec.mainContainer.volumeMounts[0].name: no volume "
                    "\"ghost\" in the pod: declare it in extraPodSpec.volumes or volumeMounts");
    loaded_free(&l);
}

static void null_list_items_and_huge_integers(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    w:\n      componentType: worker\n"
                               "      extraPodSpec: {mainContainer: {args: [--a, null]}}\n"
                               "      replicas: 99999999999999999999999\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:9:50: error: spec.services[w].extraPodSpec.mainContainer.args[1]: a list item must not be "
                    "null");
    assert_diag(&l, "g.yaml:10:17: error: spec.services[w].replicas: 99999999999999999999999 is out of the 64-bit "
                    "integer range");
    loaded_free(&l);
}

static void label_and_annotation_keys(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\n"
                    "  annotations: {\"bad key!\": v}\nspec:\n  services:\n    w:\n      componentType: worker\n"
                    "      labels: {\"x/\": a, ok: \"bad value!\"}\n      extraPodMetadata: {labels: {\"nvidia.com/\": v}}\n"
                    "      ingress: {enabled: true, host: h, ingressControllerClassName: \"Bad Class\"}\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:5:17: error: metadata.annotations[bad key!]: \"bad key!\" is not a valid annotation key: must "
                    "be alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character");
    assert_diag(&l, "g.yaml:10:16: error: spec.services[w].labels[x/]: \"x/\" is not a valid label key: the name part "
                    "must not be empty");
    assert_diag(&l, "g.yaml:10:29: error: spec.services[w].labels[ok]: invalid label value \"bad value!\": must be "
                    "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character");
    assert_diag(&l, "g.yaml:11:35: error: spec.services[w].extraPodMetadata.labels[nvidia.com/]: \"nvidia.com/\" is not "
                    "a valid label key: the name part must not be empty");
    assert_diag(&l, "g.yaml:12:69: error: spec.services[w].ingress.ingressControllerClassName: \"Bad Class\" is not a "
                    "valid IngressClass name: must consist of lower case alphanumeric characters or '-', and must start "
                    "and end with an alphanumeric character");
    loaded_free(&l);
}

static void operator_settings_that_become_names(void **state)
{
    loaded l;
    loaded_load_cfg(&l, GRAPH_HEAD "  services:\n" FRONTEND, "ingress:\n  ingressHostSuffix: \"bad suffix\"\n", NULL);
    assert_diag(&l, "cfg.yaml:2:22: error: ingress.ingressHostSuffix: \"bad suffix\" is not a valid DNS name: must "
                    "consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric "
                    "character");
    loaded_free(&l);
}

static void null_service_and_wildcard_host(void **state)
{
    loaded l;
    loaded_load(&l, GRAPH_HEAD "  services:\n    Frontend:\n      componentType: frontend\n"
                               "      ingress: {enabled: true, host: api, hostPrefix: \"*.\"}\n    Ghost:\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:10:5: error: spec.services[Ghost]: has no spec (null); give it at least a componentType");
    assert_no_diag_containing(&l, "ingress");
    loaded_free(&l);
}

static void dcd_is_validated_too(void **state)
{
    loaded l;
    loaded_load(&l, "apiVersion: nvidia.com/v1alpha1\nkind: DynamoComponentDeployment\nmetadata:\n  name: w\n"
                    "spec:\n  componentType: worker\n  replicas: -1\n  bogus: 1\n");
    assert_false(l.ok);
    assert_diag(&l, "g.yaml:7:13: error: spec.replicas: must be greater than or equal to 0 (got -1)");
    assert_diag(&l, "g.yaml:8:3: error: spec.bogus: unknown field \"bogus\"");
    loaded_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(services_at_least_one),
        cmocka_unit_test(services_at_most_25),
        cmocka_unit_test(pvcs_at_most_100),
        cmocka_unit_test(pvc_create_requires_size_class_mode),
        cmocka_unit_test(pvc_create_false_needs_nothing_else),
        cmocka_unit_test(pvc_empty_values_when_create),
        cmocka_unit_test(pvc_name_required_and_non_empty),
        cmocka_unit_test(pvc_size_quantity_grammar),
        cmocka_unit_test(pvc_access_mode_known),
        cmocka_unit_test(replicas_not_negative),
        cmocka_unit_test(node_count_at_least_2),
        cmocka_unit_test(multinode_needs_command_args_and_gpus),
        cmocka_unit_test(shared_memory_rules),
        cmocka_unit_test(ingress_host_when_enabled),
        cmocka_unit_test(virtual_service_needs_gateway),
        cmocka_unit_test(backend_framework_enum),
        cmocka_unit_test(backend_framework_immutable),
        cmocka_unit_test(framework_detected_must_match),
        cmocka_unit_test(resource_quantities),
        cmocka_unit_test(names_dns_labels_and_length),
        cmocka_unit_test(graph_name_starts_with_letter),
        cmocka_unit_test(dynamo_namespace_is_a_label_value),
        cmocka_unit_test(volume_mount_rules),
        cmocka_unit_test(vllm_compilation_cache_has_default),
        cmocka_unit_test(unknown_fields_are_errors_with_hints),
        cmocka_unit_test(unacted_and_deprecated_fields_warn),
        cmocka_unit_test(null_means_not_set),
        cmocka_unit_test(wrong_types_say_how_to_fix),
        cmocka_unit_test(other_objects_need_envelope),
        cmocka_unit_test(metadata_fields_checked),
        cmocka_unit_test(namespace_must_match_request),
        cmocka_unit_test(wrong_api_version),
        cmocka_unit_test(every_problem_reported_at_once),
        cmocka_unit_test(keys_differing_in_case_collide),
        cmocka_unit_test(user_volumes_must_not_clash),
        cmocka_unit_test(own_ports_keep_the_named_default),
        cmocka_unit_test(env_names),
        cmocka_unit_test(pod_shape),
        cmocka_unit_test(null_list_items_and_huge_integers),
        cmocka_unit_test(label_and_annotation_keys),
        cmocka_unit_test(operator_settings_that_become_names),
        cmocka_unit_test(null_service_and_wildcard_host),
        cmocka_unit_test(dcd_is_validated_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
