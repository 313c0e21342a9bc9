/* Operator-level settings: see config.h. The file is checked with the same schema walker as
 * graphs, so a typo in a key is an error with its line and column. */
#include "api/config.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"
#include "base/names.h"
#include "base/yaml.h"

static const char config_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"natsAddress\":{\"type\":\"string\"},"
    "\"etcdAddress\":{\"type\":\"string\"},"
    "\"discoveryBackend\":{\"type\":\"string\",\"enum\":[\"kubernetes\",\"etcd\"]},"
    "\"modelExpressURL\":{\"type\":\"string\"},"
    "\"prometheusEndpoint\":{\"type\":\"string\"},"
    "\"ingress\":{\"type\":\"object\",\"properties\":{"
    "\"virtualServiceGateway\":{\"type\":\"string\"},"
    "\"ingressControllerClassName\":{\"type\":\"string\"},"
    "\"ingressControllerTLSSecret\":{\"type\":\"string\"},"
    "\"ingressHostSuffix\":{\"type\":\"string\"}}}}}";

void dyn_config_defaults(dyn_config *cfg)
{
    cfg->nats_address = strdup(DYN_DEFAULT_NATS_ADDRESS);
    cfg->etcd_address = strdup(DYN_DEFAULT_ETCD_ADDRESS);
    cfg->discovery_backend = strdup(DYN_DEFAULT_DISCOVERY);
    cfg->model_express_url = strdup("");
    cfg->prometheus_endpoint = strdup("");
    cfg->virtual_service_gateway = strdup("");
    cfg->ingress_class = strdup("");
    cfg->ingress_tls_secret = strdup("");
    cfg->ingress_host_suffix = strdup("");
}

static dyn_config shared_defaults;
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void init_shared_defaults(void)
{
    dyn_config_defaults(&shared_defaults);
}

const dyn_config *dyn_config_default(void)
{
    pthread_once(&defaults_once, init_shared_defaults);
    return &shared_defaults;
}

static void take(char **field, const dyn_node *map, const char *key)
{
    const char *v = dyn_node_get_str(map, key);
    if (v) {
        free(*field);
        *field = strdup(v);
    }
}

bool dyn_config_parse(dyn_config *cfg, const char *file, const char *text, size_t len, dyn_diags *diags)
{
    size_t errors_before = diags->errors;
    dyn_yaml_stream s;
    if (dyn_yaml_parse(&s, file, text, len, diags)) {
        json_t *schema = json_loads(config_schema_json, 0, NULL);
        const dyn_node *root = s.n_docs ? s.docs[0] : NULL;
        if (s.n_docs > 1)
            dyn_diags_add(diags, DYN_SEV_ERROR, file, s.docs[1], "", "a config file holds one document");
        if (root && root->kind != DYN_NODE_NULL) {
            dyn_schema_check(schema, root, file, "", diags);
            take(&cfg->nats_address, root, "natsAddress");
            take(&cfg->etcd_address, root, "etcdAddress");
            take(&cfg->discovery_backend, root, "discoveryBackend");
            take(&cfg->model_express_url, root, "modelExpressURL");
            take(&cfg->prometheus_endpoint, root, "prometheusEndpoint");
            const dyn_node *ing = dyn_node_get(root, "ingress");
            take(&cfg->virtual_service_gateway, ing, "virtualServiceGateway");
            take(&cfg->ingress_class, ing, "ingressControllerClassName");
            take(&cfg->ingress_tls_secret, ing, "ingressControllerTLSSecret");
            take(&cfg->ingress_host_suffix, ing, "ingressHostSuffix");
            /* values that end up in object names and hosts */
            static const char *const names[] = {"ingressControllerClassName", "ingressHostSuffix"};
            for (int i = 0; i < 2; i++) {
                const char *v = dyn_node_get_str(ing, names[i]), *why;
                if (v && v[0] && !dyn_dns1123_subdomain(v, &why)) {
                    char path[96];
                    snprintf(path, sizeof path, "ingress.%s", names[i]);
                    dyn_diags_add(diags, DYN_SEV_ERROR, file, dyn_node_get(ing, names[i]), path,
                                  "\"%.80s\" is not a valid DNS name: %s", v, why);
                }
            }
        }
        json_decref(schema);
    }
    dyn_yaml_stream_free(&s);
    return diags->errors == errors_before;
}

bool dyn_config_load(dyn_config *cfg, const char *path, dyn_diags *diags)
{
    size_t len;
    char *text = dyn_read_file(path, &len);
    if (!text)
        return false;
    bool ok = dyn_config_parse(cfg, path, text, len, diags);
    free(text);
    if (!ok)
        errno = EINVAL;
    return ok;
}

void dyn_config_free(dyn_config *cfg)
{
    free(cfg->nats_address);
    free(cfg->etcd_address);
    free(cfg->discovery_backend);
    free(cfg->model_express_url);
    free(cfg->prometheus_endpoint);
    free(cfg->virtual_service_gateway);
    free(cfg->ingress_class);
    free(cfg->ingress_tls_secret);
    free(cfg->ingress_host_suffix);
    memset(cfg, 0, sizeof *cfg);
}
