/* Operator-level settings (what the Helm chart passes to the operator): addresses injected into
 * every component, the discovery backend, and the ingress defaults. Read from `--config FILE`. */
#ifndef DYN_API_CONFIG_H
#define DYN_API_CONFIG_H

#include <stdbool.h>

#include "base/diag.h"

/* Defaults: the Service names the dynamo-platform Helm release creates for its bundled NATS and
 * etcd, and Kubernetes discovery, as the original chart defaults. */
#define DYN_DEFAULT_NATS_ADDRESS "nats://dynamo-platform-nats:4222"
#define DYN_DEFAULT_ETCD_ADDRESS "dynamo-platform-etcd:2379"
#define DYN_DEFAULT_DISCOVERY "kubernetes"

typedef struct dyn_config {
    char *nats_address;          /* "" = not injected */
    char *etcd_address;
    char *discovery_backend;     /* "kubernetes" or "etcd" */
    char *model_express_url;
    char *prometheus_endpoint;
    char *virtual_service_gateway;
    char *ingress_class;
    char *ingress_tls_secret;
    char *ingress_host_suffix;
} dyn_config;

/* The defaults, shared and read-only (built once, thread-safe). */
const dyn_config *dyn_config_default(void);
/* Fills cfg with the defaults above. */
void dyn_config_defaults(dyn_config *cfg);
/* Reads a config file over the defaults; problems (unknown keys, wrong types, bad values) go to
 * diags with positions. Returns false when the file cannot be read (errno set) or is invalid. */
bool dyn_config_load(dyn_config *cfg, const char *path, dyn_diags *diags);
/* Same from a buffer (for tests and the operator). */
bool dyn_config_parse(dyn_config *cfg, const char *file, const char *text, size_t len, dyn_diags *diags);
void dyn_config_free(dyn_config *cfg);

#endif
