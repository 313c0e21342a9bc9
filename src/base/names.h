/* Kubernetes name rules: DNS-1123 labels and subdomains, and label values. */
#ifndef DYN_BASE_NAMES_H
#define DYN_BASE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

enum { DYN_DNS1123_LABEL_MAX = 63, DYN_DNS1123_SUBDOMAIN_MAX = 253, DYN_LABEL_VALUE_MAX = 63 };

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. why gets a reason when false. */
bool dyn_dns1123_label(const char *s, const char **why);
/* Dot-separated labels, at most 253 characters. */
bool dyn_dns1123_subdomain(const char *s, const char **why);
/* Empty, or ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters. */
bool dyn_label_value(const char *s, const char **why);

/* A label or annotation key: an optional DNS subdomain prefix and '/', then a name of 1..63
 * alphanumerics, '-', '_' or '.', starting and ending alphanumeric. */
bool dyn_label_key(const char *s, const char **why);

/* Lower-cases s into out (size outsz, NUL-terminated); returns out. */
char *dyn_lowercase(const char *s, char *out, size_t outsz);

#endif
