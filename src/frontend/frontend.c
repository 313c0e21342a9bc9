/* The frontend's life cycle: model watch, metrics, HTTP server. */
#include "frontend/internal.h"
#include "dyn/log.h"

#include <stdio.h>
#include <stdlib.h>

void dyn_frontend_config_default(dyn_frontend_config *cfg)
{
    cfg->host = NULL;
    cfg->port = 8000;
    cfg->ns = NULL;
    cfg->max_body = (size_t)32 << 20;
    cfg->request_timeout_ms = 300000;
    cfg->max_connections = 1024;
}

dyn_status dyn_frontend_start(dyn_runtime *rt, const dyn_frontend_config *cfg, dyn_frontend **out, dyn_error *err)
{
    *out = NULL;
    dyn_frontend *fe = calloc(1, sizeof *fe);
    if (!fe)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    fe->rt = rt;
    fe->cfg = *cfg;
    if (fe->cfg.request_timeout_ms <= 0)
        fe->cfg.request_timeout_ms = 300000;
    if (fe->cfg.max_connections <= 0)
        fe->cfg.max_connections = 1024;
    snprintf(fe->ns, sizeof fe->ns, "%s", cfg->ns ? cfg->ns : dyn_runtime_namespace(rt));
    fe->cfg.ns = fe->ns;
    fe->metrics = fe_metrics_new();
    dyn_status st = fe->metrics ? DYN_OK : dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    if (st == DYN_OK)
        st = fe_models_start(rt, fe->ns, &fe->models, err);
    if (st == DYN_OK)
        st = fe_server_start(fe, err);
    if (st != DYN_OK) {
        dyn_frontend_stop(fe);
        return st;
    }
    DYN_INFO("frontend", "listening on port %d, models of namespace %s", fe->port, fe->ns);
    *out = fe;
    return DYN_OK;
}

int dyn_frontend_port(dyn_frontend *fe) { return fe->port; }

void dyn_frontend_stop(dyn_frontend *fe)
{
    if (!fe)
        return;
    fe_server_stop(fe);
    fe_models_stop(fe->models);
    fe_metrics_free(fe->metrics);
    free(fe);
}
