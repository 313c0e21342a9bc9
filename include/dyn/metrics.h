/* libdyn metrics: the dynamo_component_* request metrics of every served endpoint, plus
 * simple named counters and gauges, rendered as Prometheus text (format 0.0.4) for a
 * /metrics handler (`dyn frontend`, the system port).
 *
 *   size_t len;
 *   char *text = dyn_metrics_render(dyn_metrics_default(), &len);   // caller frees
 *
 * Endpoint families (labels dynamo_namespace, dynamo_component, dynamo_endpoint):
 *   dynamo_component_requests_total            counter
 *   dynamo_component_request_bytes_total       counter
 *   dynamo_component_response_bytes_total      counter
 *   dynamo_component_errors_total{error_type}  counter (deserialization, invalid_message,
 *                                              response_stream, generate, publish_response,
 *                                              publish_final)
 *   dynamo_component_inflight_requests         gauge
 *   dynamo_component_request_duration_seconds  histogram
 * All functions are thread-safe. */
#ifndef DYN_METRICS_H
#define DYN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dyn_metrics dyn_metrics;
typedef struct dyn_endpoint_metrics dyn_endpoint_metrics;

/* The process-wide registry (never freed). */
dyn_metrics *dyn_metrics_default(void);
/* A separate registry (tests); free with dyn_metrics_free. */
dyn_metrics *dyn_metrics_new(void);
void dyn_metrics_free(dyn_metrics *m);

/* Get-or-create the metrics of one endpoint; owned by the registry. */
dyn_endpoint_metrics *dyn_metrics_endpoint(dyn_metrics *m, const char *ns, const char *component, const char *endpoint);

/* A request started (requests_total++, inflight++, request bytes). */
void dyn_endpoint_metrics_begin(dyn_endpoint_metrics *em, size_t request_bytes);
/* It finished after `seconds`; error_type NULL on success. */
void dyn_endpoint_metrics_end(dyn_endpoint_metrics *em, double seconds, size_t response_bytes, const char *error_type);
/* Reads for tests / $SRV STATS. */
uint64_t dyn_endpoint_metrics_requests(dyn_endpoint_metrics *em);
uint64_t dyn_endpoint_metrics_errors(dyn_endpoint_metrics *em);
int64_t dyn_endpoint_metrics_inflight(dyn_endpoint_metrics *em);
double dyn_endpoint_metrics_seconds(dyn_endpoint_metrics *em);

/* Named series. name must match [a-zA-Z_:][a-zA-Z0-9_:]* (other characters become '_');
 * labels is the Prometheus label body (`a="x",b="y"`) or NULL. */
void dyn_metrics_counter_add(dyn_metrics *m, const char *name, const char *help, const char *labels, double v);
void dyn_metrics_gauge_set(dyn_metrics *m, const char *name, const char *help, const char *labels, double v);

/* Prometheus text; caller frees. NULL only when out of memory. */
char *dyn_metrics_render(dyn_metrics *m, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
