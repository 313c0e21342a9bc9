/* Kubernetes name rules: see names.h. */
#include "base/names.h"

#include <ctype.h>
#include <string.h>

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool label_span(const char *s, size_t len, const char **why)
{
    if (len == 0) {
        *why = "must not be empty";
        return false;
    }
    if (len > DYN_DNS1123_LABEL_MAX) {
        *why = "must be no more than 63 characters";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(lower_alnum(c) || (c == '-' && i > 0 && i + 1 < len))) {
            *why = "must consist of lower case alphanumeric characters or '-', and must start and end "
                   "with an alphanumeric character";
            return false;
        }
    }
    return true;
}

bool dyn_dns1123_label(const char *s, const char **why)
{
    const char *dummy;
    return label_span(s, strlen(s), why ? why : &dummy);
}

bool dyn_dns1123_subdomain(const char *s, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    size_t len = strlen(s);
    if (len > DYN_DNS1123_SUBDOMAIN_MAX) {
        *why = "must be no more than 253 characters";
        return false;
    }
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_span(p, n, why))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

bool dyn_label_value(const char *s, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    size_t len = strlen(s);
    if (len == 0)
        return true;
    if (len > DYN_LABEL_VALUE_MAX) {
        *why = "must be no more than 63 characters";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = isalnum((unsigned char)c) && (unsigned char)c < 0x80;
        bool inner = c == '-' || c == '_' || c == '.';
        if (!(alnum || (inner && i > 0 && i + 1 < len))) {
            *why = "must be alphanumeric characters, '-', '_' or '.', starting and ending with an "
                   "alphanumeric character";
            return false;
        }
    }
    return true;
}

bool dyn_label_key(const char *s, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    const char *slash = strchr(s, '/');
    const char *name = slash ? slash + 1 : s;
    if (slash) {
        char prefix[256];
        size_t n = (size_t)(slash - s);
        if (n == 0 || n >= sizeof prefix) {
            *why = "the prefix before '/' must be a DNS subdomain of 1 to 253 characters";
            return false;
        }
        memcpy(prefix, s, n);
        prefix[n] = '\0';
        if (!dyn_dns1123_subdomain(prefix, why))
            return false;
    }
    if (!*name) {
        *why = "the name part must not be empty";
        return false;
    }
    return dyn_label_value(name, why);
}

char *dyn_lowercase(const char *s, char *out, size_t outsz)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsz; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
    return out;
}
