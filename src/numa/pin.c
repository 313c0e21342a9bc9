/* Pinning threads to CPUs, and asking where a thread runs.
 *
 * A process may be forbidden to pin (a cpuset without those CPUs, a seccomp profile, a
 * container without CAP_SYS_NICE). That is not fatal: we say so once, count it, and leave the
 * thread where it was. A thread is reported pinned only when getcpu shows it on a CPU of the
 * set, so nothing downstream claims locality it does not have. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dyn/log.h"
#include "numa/internal.h"

static atomic_flag warned = ATOMIC_FLAG_INIT;

static void where(int *cpu, int *node)
{
    unsigned c, n;
    if (syscall(SYS_getcpu, &c, &n, NULL) == 0) {
        *cpu = (int)c;
        *node = (int)n;
    } else {
        *cpu = *node = -1;
    }
}

int dyn_numa_current_node(void)
{
    int c, n;
    where(&c, &n);
    return n;
}

int dyn_numa_current_cpu(void)
{
    int c, n;
    where(&c, &n);
    return c;
}

/* The refusal path: one warning per process, a counter, the thread stays as it is. */
static dyn_status refused(const dyn_numa_cpus *cpus, dyn_numa_pin_result *res, dyn_status code,
                          const char *why, dyn_error *err)
{
    char list[128];
    dyn_numa_cpulist_format(cpus, list, sizeof list);
    atomic_fetch_add(&dyn_numa_pin_refused_count, 1);
    if (!atomic_flag_test_and_set(&warned))
        DYN_WARN("numa", "cannot pin threads to CPUs [%s]: %s; running unpinned (memory placement "
                 "still uses the node policy; further refusals are only counted in "
                 "dyn_numa_pin_refused_total)", list, why);
    res->pinned = 0;
    return dyn_error_set(err, code, "cannot pin to CPUs [%s]: %s", list, why);
}

dyn_status dyn_numa_pin_self(const dyn_numa_cpus *cpus, dyn_numa_pin_result *res, dyn_error *err)
{
    dyn_numa_pin_result scratch;
    if (!res)
        res = &scratch;
    where(&res->cpu, &res->node);
    res->pinned = 0;
    if (cpus->count == 0)
        return refused(cpus, res, DYN_ERR_UNAVAILABLE, "no CPU of the node is usable by this process", err);

    int ncpu = cpus->ids[cpus->count - 1] + 1;
    cpu_set_t *set = CPU_ALLOC(ncpu);
    if (!set)
        return dyn_error_set(err, DYN_ERR_NOMEM, "pin: out of memory");
    size_t sz = CPU_ALLOC_SIZE(ncpu);
    CPU_ZERO_S(sz, set);
    for (size_t i = 0; i < cpus->count; i++)
        CPU_SET_S(cpus->ids[i], sz, set);
    int rc = sched_setaffinity(0, sz, set); /* 0: the calling thread */
    int e = errno;
    CPU_FREE(set);
    if (rc != 0) {
        if (e == EPERM)
            return refused(cpus, res, DYN_ERR_PERMISSION, "not permitted (CAP_SYS_NICE?)", err);
        if (e == EINVAL)
            return refused(cpus, res, DYN_ERR_UNAVAILABLE,
                           "none of these CPUs is online and allowed by the cpuset", err);
        return refused(cpus, res, DYN_ERR_UNAVAILABLE, strerror(e), err);
    }
    /* The kernel moves the thread before returning; check, and give the scheduler one more
     * chance before calling the pin a failure. */
    for (int attempt = 0; attempt < 2; attempt++) {
        where(&res->cpu, &res->node);
        if (res->cpu >= 0 && numa_cpus_contains(cpus, res->cpu)) {
            res->pinned = 1;
            return DYN_OK;
        }
        sched_yield();
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return refused(cpus, res, DYN_ERR_UNAVAILABLE, "the thread still runs outside the set", err);
}

dyn_status dyn_numa_pin_self_to_node(const dyn_numa_topology *t, int node, dyn_numa_pin_result *res,
                                     dyn_error *err)
{
    dyn_numa_cpus cpus;
    dyn_status st = dyn_numa_node_usable_cpus(t, node, &cpus, err);
    if (st)
        return st;
    st = dyn_numa_pin_self(&cpus, res, err);
    free(cpus.ids);
    return st;
}

dyn_status dyn_numa_pin_self_to_gpu(const dyn_numa_topology *t, int ordinal, dyn_numa_pin_result *res,
                                    dyn_error *err)
{
    const dyn_numa_gpu *g;
    dyn_status st = dyn_numa_gpu_for_ordinal(t, ordinal, &g, err);
    if (st)
        return st;
    if (g->numa_node < 0)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "GPU %s has no known NUMA node", g->pci);
    return dyn_numa_pin_self(&g->cpus, res, err);
}

typedef struct start {
    void *(*fn)(void *);
    void *arg;
    dyn_numa_cpus cpus;
} start;

static void *trampoline(void *p)
{
    start s = *(start *)p;
    free(p);
    dyn_numa_pin_self(&s.cpus, NULL, NULL); /* refusal is warned and counted; run anyway */
    free(s.cpus.ids);
    return s.fn(s.arg);
}

dyn_status dyn_numa_thread_create(pthread_t *thread, const dyn_numa_topology *t, int node,
                                  void *(*fn)(void *), void *arg, dyn_error *err)
{
    start *s = malloc(sizeof *s);
    if (!s)
        return dyn_error_set(err, DYN_ERR_NOMEM, "thread: out of memory");
    s->fn = fn;
    s->arg = arg;
    dyn_status st = dyn_numa_node_usable_cpus(t, node, &s->cpus, err);
    if (st) {
        free(s);
        return st;
    }
    int rc = pthread_create(thread, NULL, trampoline, s);
    if (rc != 0) {
        free(s->cpus.ids);
        free(s);
        return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "pthread_create: %s", strerror(rc));
    }
    return DYN_OK;
}
