/* dynamo-c: status codes and the error value every fallible call fills.
 *
 * Errors are values: a function returns a dyn_status and, when it is not DYN_OK, writes a
 * human-readable message into the caller's dyn_error (which the caller owns, usually on the
 * stack). Library code never prints and never exits. */
#ifndef DYN_ERROR_H
#define DYN_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dyn_status {
    DYN_OK = 0,
    DYN_ERR_INVALID,     /* bad input; the message says where and why */
    DYN_ERR_IO,          /* file, socket or process I/O failed */
    DYN_ERR_NOMEM,
    DYN_ERR_NOT_FOUND,
    DYN_ERR_TIMEOUT,
    DYN_ERR_AUTH,        /* credentials rejected or missing; never retried */
    DYN_ERR_UNAVAILABLE, /* no server, no responder, no instance */
    DYN_ERR_TOO_LARGE,   /* payload over a limit; the message names both sizes */
    DYN_ERR_CANCELLED,
    DYN_ERR_CONFLICT,    /* create-if-absent found something already there */
    DYN_ERR_PERMISSION,  /* the OS refused (e.g. no CAP_SYS_NICE) */
    DYN_ERR_INTERNAL
} dyn_status;

typedef struct dyn_error {
    dyn_status code;
    char message[512];
} dyn_error;

/* Fills err (when not NULL) and returns code, so callers can `return dyn_error_set(...)`. */
dyn_status dyn_error_set(dyn_error *err, dyn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
dyn_status dyn_error_vset(dyn_error *err, dyn_status code, const char *fmt, va_list ap);

/* Prefixes the message already in err with more context ("loading x: <old message>"). */
void dyn_error_prefix(dyn_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short stable name for a status: "invalid", "timeout", ... */
const char *dyn_status_name(dyn_status code);

#ifdef __cplusplus
}
#endif
#endif
