/* Node-local memory: anonymous mmap, an mbind() policy for the node, then a parallel first
 * touch from threads pinned to the node's CPUs.
 *
 * Either mechanism alone places the pages: the policy does it wherever the touching thread
 * runs, and first touch does it when the policy is refused (container seccomp profiles deny
 * mbind without CAP_SYS_NICE). The threads also make the touch faster: zeroing fresh pages is
 * what an allocation costs, and it scales with cores. dyn_numa_verify reports the outcome. */
#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa/internal.h"

#define DEFAULT_MAX_THREADS 16
#define MIN_BYTES_PER_THREAD (16u << 20) /* below this a thread costs more than it saves */
#define HUGE_SIZE (2u << 20)             /* x86-64 and arm64 (4 KiB base) PMD huge page */

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

static size_t base_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p >= 4096 ? (size_t)p : 4096;
}

/* Maps len bytes aligned to align (a power of two) by trimming an oversized mapping. */
static void *map_aligned(size_t len, size_t align)
{
    size_t over = len + align;
    uint8_t *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *start = (uint8_t *)round_up((uintptr_t)p, align);
    if (start > p)
        munmap(p, (size_t)(start - p));
    size_t tail = (size_t)(p + over - (start + len));
    if (tail)
        munmap(start + len, tail);
    return start;
}

/* Chooses the mapping: hugetlb when asked and reserved, else THP when asked, else base pages. */
static dyn_status map(size_t size, int huge, dyn_numa_buffer *b, dyn_error *err)
{
    if (huge) {
        size_t len = round_up(size, HUGE_SIZE);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
                       -1, 0);
        if (p != MAP_FAILED) {
            *b = (dyn_numa_buffer){.data = p, .size = len, .page_size = HUGE_SIZE,
                                   .pages = DYN_NUMA_PAGES_HUGETLB};
            return DYN_OK;
        }
        /* No reserved huge pages (the usual case): transparent ones on an aligned range. */
        p = map_aligned(len, HUGE_SIZE);
        if (p) {
            madvise(p, len, MADV_HUGEPAGE); /* advice: THP "never" simply leaves base pages */
            *b = (dyn_numa_buffer){.data = p, .size = len, .page_size = HUGE_SIZE,
                                   .pages = DYN_NUMA_PAGES_THP};
            return DYN_OK;
        }
    } else {
        size_t len = round_up(size, base_page());
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            *b = (dyn_numa_buffer){.data = p, .size = len, .page_size = base_page(),
                                   .pages = DYN_NUMA_PAGES_BASE};
            return DYN_OK;
        }
    }
    return dyn_error_set(err, DYN_ERR_NOMEM, "cannot map %zu bytes: %s", size, strerror(errno));
}

static int apply_policy(void *addr, size_t len, int node, int strict)
{
    unsigned long mask[DYN_NUMA_MAX_NODES / (8 * sizeof(unsigned long))] = {0};
    mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
    /* The kernel reads maxnode - 1 bits; node + 2 covers bit `node`. */
    return (int)syscall(SYS_mbind, addr, len, strict ? MPOL_BIND : MPOL_PREFERRED, mask,
                        (unsigned long)node + 2, 0);
}

typedef struct toucher {
    pthread_t thread;
    uint8_t *from, *to;
    size_t stride;
    int cpu;    /* -1: do not pin */
    int pinned;
    int started;
} toucher;

static void touch(uint8_t *from, uint8_t *to, size_t stride)
{
    /* One write per page faults it in (zero-filled by the kernel) on this thread's node. */
    for (volatile uint8_t *p = from; p < to; p += stride)
        *p = 0;
}

static void *touch_main(void *arg)
{
    toucher *w = arg;
    if (w->cpu >= 0) {
        dyn_numa_cpus one = {&w->cpu, 1};
        dyn_numa_pin_result r;
        dyn_numa_pin_self(&one, &r, NULL);
        w->pinned = r.pinned;
    }
    touch(w->from, w->to, w->stride);
    return NULL;
}

/* Touches every page of b from up to max_threads threads, each pinned to one of cpus. */
static dyn_status first_touch(dyn_numa_buffer *b, const dyn_numa_cpus *cpus, int pin,
                              unsigned max_threads, dyn_error *err)
{
    size_t n = cpus->count ? cpus->count : 1;
    if (n > max_threads)
        n = max_threads;
    size_t by_size = b->size / MIN_BYTES_PER_THREAD;
    if (n > by_size)
        n = by_size ? by_size : 1;
    toucher *w = calloc(n, sizeof *w);
    if (!w)
        return dyn_error_set(err, DYN_ERR_NOMEM, "first touch: out of memory");
    /* Chunks are whole pages of the mapping's kind so no huge page is split between threads. */
    size_t chunk = round_up(b->size / n, b->page_size);
    uint8_t *base = b->data, *end = base + b->size;
    for (size_t i = 0; i < n; i++) {
        w[i].from = base + i * chunk < end ? base + i * chunk : end;
        w[i].to = i == n - 1 || w[i].from + chunk > end ? end : w[i].from + chunk;
        w[i].stride = base_page();
        w[i].cpu = pin && cpus->count ? cpus->ids[i % cpus->count] : -1;
        w[i].started = pthread_create(&w[i].thread, NULL, touch_main, &w[i]) == 0;
        if (!w[i].started)
            touch(w[i].from, w[i].to, w[i].stride); /* no thread: do it here, still correct */
    }
    b->threads = (unsigned)n;
    for (size_t i = 0; i < n; i++) {
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
        b->pinned += (unsigned)w[i].pinned;
    }
    free(w);
    return DYN_OK;
}

dyn_status dyn_numa_alloc(size_t size, int node, const dyn_numa_alloc_opts *opts,
                          dyn_numa_buffer *out, dyn_error *err)
{
    static const dyn_numa_alloc_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    memset(out, 0, sizeof *out);
    out->node = DYN_NUMA_NODE_ANY;
    if (size == 0)
        return dyn_error_set(err, DYN_ERR_INVALID, "cannot allocate 0 bytes");
    if (node < DYN_NUMA_NODE_ANY || node >= DYN_NUMA_MAX_NODES)
        return dyn_error_set(err, DYN_ERR_INVALID, "NUMA node %d is out of range", node);

    const dyn_numa_topology *t = opts->topology;
    dyn_status st;
    if (!t) {
        /* Without a topology, placement is impossible but a plain allocation still works. */
        dyn_error terr;
        if ((st = dyn_numa_topology_shared(&t, &terr)) && node != DYN_NUMA_NODE_ANY)
            return dyn_error_set(err, st, "%s", terr.message);
    }
    if (node != DYN_NUMA_NODE_ANY && (dyn_numa_disabled_by_env() || !t->numa_enabled))
        node = DYN_NUMA_NODE_ANY; /* placement is off: a plain, prefaulted allocation */

    dyn_numa_cpus cpus = {0};
    if (node != DYN_NUMA_NODE_ANY) {
        if ((st = dyn_numa_node_usable_cpus(t, node, &cpus, err)))
            return st;
    } else if (t && (st = numa_cpus_copy(&t->usable, &cpus, err))) {
        return st;
    }

    if ((st = map(size, opts->huge_pages, out, err))) {
        free(cpus.ids);
        return st;
    }
    out->node = node;
    if (node != DYN_NUMA_NODE_ANY) {
        out->policy_applied = apply_policy(out->data, out->size, node, opts->strict) == 0;
        if (!out->policy_applied)
            atomic_fetch_add(&dyn_numa_policy_refused_count, 1);
    }
    st = first_touch(out, &cpus, node != DYN_NUMA_NODE_ANY,
                     opts->max_threads ? opts->max_threads : DEFAULT_MAX_THREADS, err);
    free(cpus.ids);
    if (st) {
        dyn_numa_free(out);
        return st;
    }
    atomic_fetch_add(&dyn_numa_alloc_count, 1);
    atomic_fetch_add(&dyn_numa_alloc_bytes, out->size);
    return DYN_OK;
}

dyn_status dyn_numa_alloc_for_gpu(size_t size, int ordinal, const dyn_numa_alloc_opts *opts,
                                  dyn_numa_buffer *out, dyn_error *err)
{
    dyn_numa_alloc_opts o = opts ? *opts : (dyn_numa_alloc_opts){0};
    dyn_status st;
    if (!o.topology && (st = dyn_numa_topology_shared(&o.topology, err))) {
        memset(out, 0, sizeof *out);
        return st;
    }
    const dyn_numa_gpu *g;
    if ((st = dyn_numa_gpu_for_ordinal(o.topology, ordinal, &g, err))) {
        memset(out, 0, sizeof *out);
        return st;
    }
    /* Unknown node: the caller still gets memory, just without placement (as the spec says). */
    return dyn_numa_alloc(size, g->numa_node >= 0 ? g->numa_node : DYN_NUMA_NODE_ANY, &o, out, err);
}

void dyn_numa_free(dyn_numa_buffer *b)
{
    if (!b)
        return;
    if (b->data)
        munmap(b->data, b->size);
    memset(b, 0, sizeof *b);
    b->node = DYN_NUMA_NODE_ANY;
}
