/* Linux cpulist syntax ("0-3,8,10-11", "0-15:2/4"), as in sysfs cpulist files and cpusets.
 *
 * Sysfs writes only ranges and singletons; the stride form is what the kernel accepts on input
 * (isolcpus=, cpuset writes), so a copied configuration parses too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa/internal.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    dyn_error *err;
} parser;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static dyn_status fail(parser *p, const char *what)
{
    return dyn_error_set(p->err, DYN_ERR_INVALID, "malformed cpulist at column %zu: %s",
                         p->pos + 1, what);
}

/* A decimal number below DYN_NUMA_MAX_CPUS. */
static dyn_status number(parser *p, unsigned *out)
{
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail(p, "expected a CPU number");
    uint64_t v = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        v = v * 10 + (uint64_t)(p->s[p->pos] - '0');
        if (v >= DYN_NUMA_MAX_CPUS)
            return fail(p, "CPU number too large (limit " "65535" ")");
        p->pos++;
    }
    *out = (unsigned)v;
    return DYN_OK;
}

static int peek(parser *p, char c) { return p->pos < p->len && p->s[p->pos] == c; }

/* One region: N, N-M or N-M:used/group; sets its bits. */
static dyn_status region(parser *p, unsigned char *bits)
{
    unsigned lo, hi, used = 1, group = 1;
    dyn_status st = number(p, &lo);
    if (st)
        return st;
    hi = lo;
    if (peek(p, '-')) {
        p->pos++;
        size_t at = p->pos;
        if ((st = number(p, &hi)))
            return st;
        if (hi < lo) {
            p->pos = at;
            return fail(p, "range end is below its start");
        }
        if (peek(p, ':')) {
            p->pos++;
            if ((st = number(p, &used)))
                return st;
            if (!peek(p, '/'))
                return fail(p, "expected '/' in a used/group stride");
            p->pos++;
            at = p->pos;
            if ((st = number(p, &group)))
                return st;
            if (used == 0 || group == 0 || used > group) {
                p->pos = at;
                return fail(p, "stride needs 0 < used <= group");
            }
        }
    }
    for (unsigned c = lo; c <= hi; c++)
        if ((c - lo) % group < used)
            bits[c / 8] |= (unsigned char)(1u << (c % 8));
    return DYN_OK;
}

dyn_status dyn_numa_cpulist_parse(const char *text, size_t len, dyn_numa_cpus *out, dyn_error *err)
{
    out->ids = NULL;
    out->count = 0;
    parser p = {text, len, 0, err};
    while (p.len > 0 && is_space(text[p.len - 1]))
        p.len--;
    while (p.pos < p.len && is_space(text[p.pos]))
        p.pos++;
    if (p.pos == p.len)
        return DYN_OK; /* a node without CPUs has an empty cpulist */

    unsigned char *bits = calloc(DYN_NUMA_MAX_CPUS / 8, 1);
    if (!bits)
        return dyn_error_set(err, DYN_ERR_NOMEM, "cpulist: out of memory");
    dyn_status st;
    for (;;) {
        if ((st = region(&p, bits)))
            goto done;
        if (p.pos == p.len)
            break;
        if (!peek(&p, ',')) {
            st = fail(&p, "expected ',' between CPU ranges");
            goto done;
        }
        p.pos++;
    }

    size_t n = 0;
    for (size_t i = 0; i < DYN_NUMA_MAX_CPUS / 8; i++)
        n += (size_t)__builtin_popcount(bits[i]);
    out->ids = malloc(n * sizeof *out->ids);
    if (!out->ids) {
        st = dyn_error_set(err, DYN_ERR_NOMEM, "cpulist: out of memory");
        goto done;
    }
    for (int c = 0; c < DYN_NUMA_MAX_CPUS; c++)
        if (bits[c / 8] & (1u << (c % 8)))
            out->ids[out->count++] = c;
    st = DYN_OK;
done:
    free(bits);
    return st;
}

/* Appends s to buf at *used; returns 0 when it did not fit. */
static int append(char *buf, size_t cap, size_t *used, const char *s)
{
    size_t n = strlen(s);
    if (*used + n + 1 > cap)
        return 0;
    memcpy(buf + *used, s, n + 1);
    *used += n;
    return 1;
}

char *dyn_numa_cpulist_format(const dyn_numa_cpus *cpus, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < cpus->count;) {
        size_t j = i;
        while (j + 1 < cpus->count && cpus->ids[j + 1] == cpus->ids[j] + 1)
            j++;
        char item[32];
        if (j == i)
            snprintf(item, sizeof item, "%s%d", i ? "," : "", cpus->ids[i]);
        else
            snprintf(item, sizeof item, "%s%d-%d", i ? "," : "", cpus->ids[i], cpus->ids[j]);
        if (!append(buf, cap, &used, item)) {
            /* Cut visibly rather than print a list that looks complete. */
            size_t keep = cap > 4 ? cap - 4 : 0;
            if (used > keep)
                used = keep;
            buf[used] = '\0';
            if (cap >= 4)
                memcpy(buf + used, "...", 4);
            return buf;
        }
        i = j + 1;
    }
    return buf;
}

int numa_cpus_contains(const dyn_numa_cpus *cpus, int cpu)
{
    size_t lo = 0, hi = cpus->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cpus->ids[mid] == cpu)
            return 1;
        if (cpus->ids[mid] < cpu)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

dyn_status numa_cpus_intersect(const dyn_numa_cpus *a, const dyn_numa_cpus *b, dyn_numa_cpus *out,
                               dyn_error *err)
{
    out->count = 0;
    out->ids = malloc((a->count ? a->count : 1) * sizeof *out->ids);
    if (!out->ids)
        return dyn_error_set(err, DYN_ERR_NOMEM, "cpu set: out of memory");
    for (size_t i = 0, j = 0; i < a->count && j < b->count;) {
        if (a->ids[i] == b->ids[j]) {
            out->ids[out->count++] = a->ids[i];
            i++, j++;
        } else if (a->ids[i] < b->ids[j]) {
            i++;
        } else {
            j++;
        }
    }
    return DYN_OK;
}

dyn_status numa_cpus_copy(const dyn_numa_cpus *src, dyn_numa_cpus *out, dyn_error *err)
{
    out->count = 0;
    out->ids = malloc((src->count ? src->count : 1) * sizeof *out->ids);
    if (!out->ids)
        return dyn_error_set(err, DYN_ERR_NOMEM, "cpu set: out of memory");
    if (src->count)
        memcpy(out->ids, src->ids, src->count * sizeof *out->ids);
    out->count = src->count;
    return DYN_OK;
}
