/* Kubernetes quantity grammar: see quantity.h. */
#include "base/quantity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses "digits (. digits?)? | . digits"; returns the end or NULL. */
static const char *scan_number(const char *p)
{
    const char *start = p;
    while (is_digit(*p))
        p++;
    bool int_digits = p > start;
    if (*p == '.') {
        p++;
        const char *frac = p;
        while (is_digit(*p))
            p++;
        if (!int_digits && p == frac)
            return NULL;
    } else if (!int_digits)
        return NULL;
    return p;
}

bool dyn_quantity_parse(const char *s, double *value, const char **why)
{
    static const struct { const char *suffix; double mult; } suffixes[] = {
        {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
        {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
        {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
        {"P", 1e15}, {"E", 1e18},
    };
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!s || !*s) {
        *why = "empty";
        return false;
    }
    const char *p = s;
    double sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    const char *end = scan_number(p);
    if (!end) {
        *why = "does not start with a number";
        return false;
    }
    /* strtod would swallow an exponent suffix ("1e3"): convert the number part alone */
    char digits[64];
    size_t n = (size_t)(end - p);
    if (n >= sizeof digits) {
        *why = "too long";
        return false;
    }
    memcpy(digits, p, n);
    digits[n] = '\0';
    double number = strtod(digits, NULL);
    double mult = 1;
    if (*end) {
        bool matched = false;
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
            if (strcmp(end, suffixes[i].suffix) == 0) {
                mult = suffixes[i].mult;
                matched = true;
                break;
            }
        if (!matched && (*end == 'e' || *end == 'E')) {
            const char *q = end + 1;
            if (*q == '+' || *q == '-')
                q++;
            const char *exp_end = scan_number(q);
            /* the exponent must be an integer here ("1e3"), as the API server's parser requires */
            if (exp_end && !*exp_end && !strchr(q, '.')) {
                mult = pow(10, strtod(end + 1, NULL));
                matched = true;
            }
        }
        if (!matched) {
            *why = "unknown suffix (valid: Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent like e3)";
            return false;
        }
    }
    if (value)
        *value = sign * number * mult;
    return true;
}
