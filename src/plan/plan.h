/* The plan: the one place where networking and storage of a graph are decided.
 *
 * Per component: its object name, replicas, multinode shape, labels, the fully composed pod
 * template (containers with ports, env, probes, mounts; volumes), its Service, its route
 * (Ingress or VirtualService) and the PVCs the graph creates. The Kubernetes renderer turns a plan
 * into objects; `dyn up` turns the same plan into processes, directories and local ports, so both
 * see exactly the same decisions.
 *
 * A plan owns all its memory (strings malloc'd, JSON with one reference each); free it with
 * dyn_plan_free. It borrows nothing from the graph it was built from. */
#ifndef DYN_PLAN_PLAN_H
#define DYN_PLAN_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "api/config.h"
#include "api/graph.h"
#include "api/validate.h"

/* Ports and defaults of spec/operator.md §1. */
enum {
    DYN_PORT_HTTP = 8000,
    DYN_PORT_SYSTEM = 9090,
    DYN_PORT_PLANNER_METRICS = 9085,
    DYN_SGLANG_DIST_PORT = 29500,
    DYN_RAY_PORT = 6379,
    DYN_VLLM_DP_RPC_PORT = 13445,
    DYN_TERMINATION_GRACE_SECONDS = 60,
    DYN_POD_FS_GROUP = 1000,
};
#define DYN_SHM_DEFAULT_SIZE "8Gi"
#define DYN_VLLM_CACHE_DEFAULT "/root/.cache/vllm"
#define DYN_GLOBAL_NAMESPACE "dynamo"
#define DYN_HOST_SUFFIX_DEFAULT "local"
#define DYN_PLANNER_SA "planner-serviceaccount"

/* Labels and annotations (spec/operator.md §1). */
#define DYN_LABEL_SELECTOR "nvidia.com/selector"
#define DYN_LABEL_GRAPH "nvidia.com/dynamo-graph-deployment-name"
#define DYN_LABEL_COMPONENT "nvidia.com/dynamo-component"
#define DYN_LABEL_NAMESPACE "nvidia.com/dynamo-namespace"
#define DYN_LABEL_COMPONENT_TYPE "nvidia.com/dynamo-component-type"
#define DYN_LABEL_SUB_COMPONENT_TYPE "nvidia.com/dynamo-sub-component-type"
#define DYN_LABEL_MODEL_HASH "nvidia.com/dynamo-base-model-hash"
#define DYN_LABEL_METRICS "nvidia.com/metrics-enabled"
#define DYN_LABEL_DISCOVERY_BACKEND "nvidia.com/dynamo-discovery-backend"
#define DYN_LABEL_DISCOVERY_ENABLED "nvidia.com/dynamo-discovery-enabled"
#define DYN_ANNOTATION_BASE_MODEL "nvidia.com/dynamo-base-model"
#define DYN_ANNOTATION_ENABLE_METRICS "nvidia.com/enable-metrics"
#define DYN_ANNOTATION_DISCOVERY "nvidia.com/dynamo-discovery-backend"
#define DYN_ANNOTATION_RESTART_AT "nvidia.com/restartAt"

typedef enum dyn_route_kind { DYN_ROUTE_NONE, DYN_ROUTE_INGRESS, DYN_ROUTE_VIRTUAL_SERVICE } dyn_route_kind;

typedef struct dyn_plan_route {
    dyn_route_kind kind;
    char *host;                 /* derived: prefix + host + "." + suffix */
    char *class_name;           /* Ingress class, NULL = cluster default */
    char *tls_secret;           /* NULL = no TLS */
    char *gateway;              /* VirtualService gateway */
    json_t *labels, *annotations;  /* from the ingress block; objects, never NULL */
} dyn_plan_route;

typedef struct dyn_plan_pvc {
    char *name;
    bool create;                /* false: must already exist */
    char *storage_class, *size, *access_mode;
} dyn_plan_pvc;

typedef struct dyn_plan_component {
    char *key;                  /* service key, original case */
    char *name;                 /* object name: <graph>-<lower(key)> (DCD: its own name) */
    char *dynamo_namespace;     /* <namespace>-<graph>, or "dynamo" when globalDynamoNamespace */
    char *component_type;       /* "" when not given */
    char *sub_component_type;   /* NULL when not given */
    char *framework;            /* vllm / sglang / trtllm / NULL */
    bool replicas_set;
    int replicas;               /* effective: given, else 1 */
    int node_count;             /* 1 = single node; >= 2 = LeaderWorkerSet */
    json_t *labels;             /* labels of the component's objects */
    json_t *annotations;
    json_t *selector;           /* the Service selector (3 labels) */
    json_t *pod_labels, *pod_annotations;
    json_t *pod_spec;           /* single-node pod spec, fully composed */
    json_t *leader_pod_spec;    /* multinode: leader and worker pod specs */
    json_t *worker_pod_spec;
    bool has_service;
    int service_port;           /* 8000 frontend, 9090 otherwise */
    char *service_port_name;    /* "http" / "system" */
    dyn_plan_route route;
    char *model_name;           /* modelRef.name or NULL */
    char *model_hash;           /* 8 hex chars of SHA-256(model name) */
    json_t *dcd_spec;           /* the DynamoComponentDeployment spec (DGD path), or NULL */
} dyn_plan_component;

typedef struct dyn_plan {
    char *graph_name;
    char *namespace_;           /* Kubernetes namespace */
    char *dynamo_namespace;     /* <namespace>-<graph> (components may use "dynamo" instead) */
    char *owner_uid;            /* metadata.uid of the graph when known, else NULL */
    bool from_dcd;              /* a standalone DynamoComponentDeployment */
    char *discovery;            /* "kubernetes" or "etcd" */
    bool discovery_rbac;        /* render the discovery ServiceAccount/Role/RoleBinding */
    char *discovery_sa;         /* its name */
    dyn_plan_pvc *pvcs;
    size_t n_pvcs;
    dyn_plan_component *components;
    size_t n_components;
} dyn_plan;

/* Builds the plan of a validated graph. Returns DYN_OK, or an error (bad input that validation
 * should have caught) with a message. cfg may be NULL for defaults. */
int dyn_plan_build(dyn_plan *plan, const dyn_graph *g, const dyn_load_opts *opts);
void dyn_plan_free(dyn_plan *plan);

/* --- composition steps, one file each (plan/container.c, plan/pod.c, plan/multinode.c) --- */

/* The main container of a component: base for its type, user container merged over, env,
 * resources, probes, envFrom and standard env (spec/operator.md §6.1 steps 1-8). New reference. */
json_t *dyn_plan_main_container(const dyn_plan *plan, const dyn_plan_component *c, const dyn_graph *g,
                                const dyn_service *s, const dyn_config *cfg);
/* Puts a container's keys in the order people read them (name, image, command, ...). Takes
 * ownership of ctr, returns the reordered object. */
json_t *dyn_plan_order_container(json_t *ctr);
/* NATS_SERVER, ETCD_ENDPOINTS, MODEL_EXPRESS_URL, PROMETHEUS_ENDPOINT as configured. New list. */
json_t *dyn_plan_standard_env(const dyn_config *cfg);
/* The pod spec around a main container: volumes, shared memory, sidecars, base pod fields,
 * security context, service account (steps 9-14). Takes ownership of main. New reference. */
json_t *dyn_plan_pod_spec(const dyn_plan *plan, const dyn_plan_component *c, const dyn_service *s, json_t *main);
/* Multinode rewriting for a role ("leader" / "worker") of a LeaderWorkerSet (§6.3). Modifies
 * the pod spec in place. */
void dyn_plan_multinode(const dyn_plan *plan, const dyn_plan_component *c, json_t *pod_spec, bool leader);

/* The main container ("main") of a pod spec (borrowed), or NULL. */
json_t *dyn_plan_find_main(json_t *pod_spec);

#endif
