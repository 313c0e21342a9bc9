/* `dyn frontend`: the OpenAI-compatible HTTP server in front of the workers.
 *
 *   dyn_frontend_config cfg; dyn_frontend_config_default(&cfg);
 *   cfg.port = 8000;
 *   dyn_frontend *fe; dyn_frontend_start(rt, &cfg, &fe, &err);
 *   ...
 *   dyn_frontend_stop(fe);
 *
 * Models come from the workers' records under v1/mdc/{ns}/ (a prefix watch); each request goes
 * to a worker of its model through libdyn (round robin over the model's instances). */
#ifndef DYN_FRONTEND_H
#define DYN_FRONTEND_H

#include <stddef.h>

#include "dyn/rpc.h"

typedef struct dyn_frontend_config {
    const char *host;            /* NULL = all IPv4 addresses */
    int port;                    /* 0 = any free port */
    const char *ns;              /* NULL = the runtime's namespace */
    size_t max_body;             /* request body limit in bytes (413 above) */
    int request_timeout_ms;      /* longest wait for a worker's next item (504 / error event) */
    int max_connections;
} dyn_frontend_config;

void dyn_frontend_config_default(dyn_frontend_config *cfg);

typedef struct dyn_frontend dyn_frontend;

/* rt must outlive the frontend. Listens at once. */
dyn_status dyn_frontend_start(dyn_runtime *rt, const dyn_frontend_config *cfg, dyn_frontend **out, dyn_error *err);
int dyn_frontend_port(dyn_frontend *fe);
/* Stops listening, waits for running requests, frees. NULL is a no-op. */
void dyn_frontend_stop(dyn_frontend *fe);

#endif
