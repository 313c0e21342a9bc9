/* Error values: see include/dyn/error.h. */
#include "dyn/error.h"

#include <stdio.h>
#include <string.h>

dyn_status dyn_error_vset(dyn_error *err, dyn_status code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

dyn_status dyn_error_set(dyn_error *err, dyn_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dyn_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void dyn_error_prefix(dyn_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
}

const char *dyn_status_name(dyn_status code)
{
    switch (code) {
    case DYN_OK: return "ok";
    case DYN_ERR_INVALID: return "invalid";
    case DYN_ERR_IO: return "io";
    case DYN_ERR_NOMEM: return "nomem";
    case DYN_ERR_NOT_FOUND: return "not-found";
    case DYN_ERR_TIMEOUT: return "timeout";
    case DYN_ERR_AUTH: return "auth";
    case DYN_ERR_UNAVAILABLE: return "unavailable";
    case DYN_ERR_TOO_LARGE: return "too-large";
    case DYN_ERR_CANCELLED: return "cancelled";
    case DYN_ERR_CONFLICT: return "conflict";
    case DYN_ERR_PERMISSION: return "permission";
    case DYN_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}
