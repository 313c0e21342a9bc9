/* The runtime: NATS + etcd + primary lease + call-home server + worker pool. */
#include "internal.h"
#include "dyn/discovery.h"
#include "dyn/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct dyn_runtime {
    dyn_rt_config cfg;
    dyn_nats *nats;
    dyn_etcd *etcd;
    dyn_lease *lease;
    dyn_callhome *callhome;
    dyn_pool *pool;
    srv_registry *srv;
};

size_t runtime_max_frame(void)
{
    static size_t max;
    if (!max) {
        const char *v = getenv("DYN_TCP_MAX_MESSAGE_SIZE");
        long long n = v ? atoll(v) : 0;
        max = n > 0 ? (size_t)n : (size_t)32 << 20;
    }
    return max;
}

dyn_status dyn_runtime_create(const dyn_rt_config *cfg, dyn_runtime **out, dyn_error *err)
{
    *out = NULL;
    /* A peer closing its socket must be an error return, never a process-killing signal. */
    signal(SIGPIPE, SIG_IGN);
    dyn_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    dyn_status st = dyn_rt_config_copy(&rt->cfg, cfg, err);
    if (st != DYN_OK) {
        free(rt);
        return st;
    }
    if (!dyn_name_valid(cfg->ns, 1)) {
        st = dyn_error_set(err, DYN_ERR_INVALID, "DYN_NAMESPACE=%s: must match [a-z0-9-_]+ (dots separate nested namespaces)", cfg->ns);
        goto fail;
    }
    if ((st = dyn_nats_connect(cfg, &rt->nats, err)) != DYN_OK)
        goto fail;
    if ((st = dyn_etcd_connect(cfg, &rt->etcd, err)) != DYN_OK)
        goto fail;
    if ((st = dyn_lease_start(rt->etcd, cfg->lease_ttl_s, &rt->lease, err)) != DYN_OK)
        goto fail;
    if ((st = callhome_start(cfg->callhome_host, &rt->callhome, err)) != DYN_OK)
        goto fail;
    rt->pool = pool_create(1024);
    rt->srv = srv_create(rt);
    if (!rt->pool || !rt->srv) {
        st = dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    *out = rt;
    return DYN_OK;
fail:
    dyn_runtime_destroy(rt);
    return st;
}

dyn_status dyn_runtime_from_env(dyn_runtime **out, dyn_error *err)
{
    dyn_rt_config cfg;
    dyn_status st = dyn_rt_config_from_env(&cfg, err);
    if (st != DYN_OK)
        return st;
    st = dyn_runtime_create(&cfg, out, err);
    dyn_rt_config_free(&cfg);
    return st;
}

void dyn_runtime_destroy(dyn_runtime *rt)
{
    if (!rt)
        return;
    srv_destroy(rt->srv);
    dyn_lease_stop(rt->lease);
    pool_destroy(rt->pool);
    callhome_stop(rt->callhome);
    dyn_etcd_close(rt->etcd);
    dyn_nats_close(rt->nats);
    dyn_rt_config_free(&rt->cfg);
    free(rt);
}

uint64_t dyn_runtime_instance_id(dyn_runtime *rt) { return dyn_lease_id(rt->lease); }
const char *dyn_runtime_namespace(dyn_runtime *rt) { return rt->cfg.ns; }
dyn_nats *dyn_runtime_nats(dyn_runtime *rt) { return rt->nats; }
dyn_etcd *dyn_runtime_etcd(dyn_runtime *rt) { return rt->etcd; }
dyn_lease *dyn_runtime_lease(dyn_runtime *rt) { return rt->lease; }
dyn_pool *runtime_pool(dyn_runtime *rt) { return rt->pool; }
dyn_callhome *runtime_callhome(dyn_runtime *rt) { return rt->callhome; }
srv_registry *runtime_srv(dyn_runtime *rt) { return rt->srv; }
int runtime_request_timeout_ms(dyn_runtime *rt) { return rt->cfg.request_timeout_ms; }
