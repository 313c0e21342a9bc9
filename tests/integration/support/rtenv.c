#include "rtenv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char *const VARS[] = {
    "NATS_SERVER", "NATS_AUTH_USERNAME", "NATS_AUTH_PASSWORD", "NATS_AUTH_TOKEN", "NATS_AUTH_NKEY",
    "NATS_AUTH_CREDENTIALS_FILE", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY", "ETCD_ENDPOINTS",
    "ETCD_AUTH_USERNAME", "ETCD_AUTH_PASSWORD", "ETCD_AUTH_CA", "ETCD_AUTH_CLIENT_CERT",
    "ETCD_AUTH_CLIENT_KEY", "DYN_NAMESPACE", "DYN_LEASE_TTL", "DYN_REQUEST_TIMEOUT_MS",
    "DYN_CALLHOME_HOST", NULL};

dyn_status rtenv_config(dyn_rt_config *cfg, dyn_error *err, ...)
{
    for (const char *const *v = VARS; *v; v++)
        unsetenv(*v);
    va_list ap;
    va_start(ap, err);
    const char *kv;
    while ((kv = va_arg(ap, const char *)) != NULL) {
        const char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
        setenv(name, eq + 1, 1);
    }
    va_end(ap);
    if (!getenv("DYN_CALLHOME_HOST"))
        setenv("DYN_CALLHOME_HOST", "127.0.0.1", 1);
    return dyn_rt_config_from_env(cfg, err);
}
