/* The graph model: DynamoGraphDeployment / DynamoComponentDeployment decoded into typed structs.
 *
 * What dynamo-c acts on is typed; pass-through parts (extraPodSpec, probes, env values, resource
 * claims) stay JSON. Strings point into the positioned tree of the file they came from, so a
 * dyn_bundle (file + trees + graphs) owns everything and is freed at once. */
#ifndef DYN_API_GRAPH_H
#define DYN_API_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "base/node.h"
#include "base/yaml.h"

#define DYN_API_VERSION "nvidia.com/v1alpha1"
#define DYN_KIND_DGD "DynamoGraphDeployment"
#define DYN_KIND_DCD "DynamoComponentDeployment"

/* A string map (labels, annotations) in source order. */
typedef struct dyn_kv {
    const char *key;
    const char *value;
} dyn_kv;

typedef struct dyn_kvs {
    dyn_kv *items;
    size_t len;
} dyn_kvs;

typedef struct dyn_pvc {
    const dyn_node *node;         /* the list item */
    const char *name;             /* NULL when missing */
    bool create;                  /* create: true */
    const char *storage_class;
    const char *size;             /* quantity text */
    const char *access_mode;
} dyn_pvc;

typedef struct dyn_volume_mount {
    const dyn_node *node;
    const char *name;
    const char *mount_point;      /* NULL when not given */
    bool compilation_cache;
} dyn_volume_mount;

typedef struct dyn_resource_item {
    const char *cpu, *memory, *gpu, *gpu_type;
    dyn_kvs custom;
} dyn_resource_item;

typedef struct dyn_resources {
    dyn_resource_item requests, limits;
    json_t *claims;               /* list of core ResourceClaim, or NULL */
} dyn_resources;

typedef struct dyn_ingress {
    bool set;                     /* an ingress block was given */
    const dyn_node *node;
    bool enabled;
    const char *host, *host_prefix, *host_suffix;
    const char *class_name;
    const char *tls_secret;       /* NULL: no TLS */
    bool tls_set;
    bool use_virtual_service;
    const char *virtual_service_gateway;
    dyn_kvs annotations, labels;
} dyn_ingress;

typedef struct dyn_service {
    const dyn_node *node;         /* the service's spec map */
    const dyn_node *key_node;     /* the map key (DGD) or metadata.name (DCD) */
    const char *key;              /* service name, original case */
    const char *component_type;   /* may be NULL */
    const char *sub_component_type;
    bool global_namespace;
    const char *dynamo_namespace; /* deprecated field, only used for standalone DCDs */
    bool replicas_set;
    long long replicas;
    bool multinode;               /* a multinode block was given */
    long long node_count;         /* default 2 */
    json_t *envs;                 /* list of EnvVar (owned), never NULL */
    const char *env_from_secret;
    dyn_volume_mount *mounts;
    size_t n_mounts;
    bool shm_set, shm_disabled;
    const char *shm_size;
    dyn_resources resources;
    dyn_ingress ingress;
    const char *model_name, *model_revision;
    dyn_kvs labels, annotations;
    dyn_kvs pod_labels, pod_annotations;   /* extraPodMetadata */
    json_t *pod_spec;             /* extraPodSpec without mainContainer (owned), or NULL */
    json_t *main_container;       /* extraPodSpec.mainContainer (owned), or NULL */
    json_t *liveness_probe, *readiness_probe;  /* owned, or NULL */
} dyn_service;

typedef struct dyn_graph {
    const dyn_node *node;         /* document root */
    const char *file;
    bool is_dcd;                  /* a standalone DynamoComponentDeployment */
    const char *name;
    const char *namespace_;       /* metadata.namespace, NULL when not given */
    const char *uid;              /* metadata.uid, when rendering a live object */
    dyn_kvs labels, annotations;  /* metadata */
    const char *backend_framework;
    dyn_pvc *pvcs;
    size_t n_pvcs;
    json_t *envs;                 /* spec.envs (owned), never NULL */
    dyn_kvs spec_labels, spec_annotations;
    dyn_service *services;        /* in source order */
    size_t n_services;
} dyn_graph;

/* Any other Kubernetes object in an input file, passed through unchanged. */
typedef struct dyn_object {
    const dyn_node *node;
    const char *api_version, *kind, *name, *namespace_;
    json_t *json;                 /* owned */
} dyn_object;

/* One input file: its trees, its graphs and other objects in document order. */
typedef struct dyn_bundle {
    dyn_yaml_stream stream;
    dyn_graph *graphs;
    size_t n_graphs;
    dyn_object *objects;
    size_t n_objects;
} dyn_bundle;

/* Decodes a graph document (already schema-checked). Never fails: wrong-typed fields are skipped
 * because the schema check has reported them. Strings are borrowed from the tree. */
void dyn_graph_decode(dyn_graph *g, const dyn_node *root, const char *file, dyn_arena *arena);
void dyn_graph_free(dyn_graph *g);

/* Looks up a map entry in a dyn_kvs; NULL when absent. */
const char *dyn_kvs_get(const dyn_kvs *kvs, const char *key);

#endif
