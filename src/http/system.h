/* The system port every long-running component serves (DESIGN.md: /health, /live, /metrics
 * in Prometheus text). Small responses only, so libmicrohttpd's internal polling thread
 * answers them directly. */
#ifndef DYN_HTTP_SYSTEM_H
#define DYN_HTTP_SYSTEM_H

#include "dyn/error.h"

#include <stdarg.h>
#include <stddef.h>

/* 1 when healthy (200), 0 otherwise (503). */
typedef int (*dyn_http_health_fn)(void *ud);
/* Prometheus text; caller frees. NULL = out of memory. */
typedef char *(*dyn_http_metrics_fn)(void *ud, size_t *len);

typedef struct dyn_http_system dyn_http_system;

/* Listens on host:port (host NULL = all addresses; port 0 = any free port). */
dyn_status dyn_http_system_start(const char *host, int port, dyn_http_health_fn health, dyn_http_metrics_fn metrics,
                                 void *ud, dyn_http_system **out, dyn_error *err);
int dyn_http_system_port(dyn_http_system *s);
/* NULL is a no-op. */
void dyn_http_system_stop(dyn_http_system *s);

/* The system port from the environment: DYN_SYSTEM_PORT, else fallback. -1 if malformed. */
int dyn_http_system_port_from_env(int fallback);

/* Shared by the frontend: binds a libmicrohttpd address. 0 ok, -1 bad host. */
struct sockaddr_in;
int dyn_http_sockaddr(const char *host, int port, struct sockaddr_in *out);

/* libmicrohttpd's own messages go to our log, never straight to stderr. */
void dyn_http_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
