/* Kubernetes resource quantities ("500m", "10Gi", "1e3", "0.5").
 *
 * Grammar as the API server accepts it: sign? (digits (. digits?)? | . digits) suffix?, where the
 * suffix is a binary SI one (Ki Mi Gi Ti Pi Ei), a decimal SI one (n u m "" k M G T P E) or a
 * decimal exponent (e3, E-2). "10GB", "1.5.0" and "" are not quantities. */
#ifndef DYN_BASE_QUANTITY_H
#define DYN_BASE_QUANTITY_H

#include <stdbool.h>

/* True when s is a valid quantity; value (may be NULL) gets its numeric value. When false and
 * why is not NULL, *why is a short reason for error messages. */
bool dyn_quantity_parse(const char *s, double *value, const char **why);

#endif
