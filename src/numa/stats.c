/* Counters of the NUMA module, for /metrics. */
#include <stdio.h>

#include "numa/internal.h"

atomic_uint_least64_t dyn_numa_pin_refused_count;
atomic_uint_least64_t dyn_numa_alloc_count;
atomic_uint_least64_t dyn_numa_alloc_bytes;
atomic_uint_least64_t dyn_numa_policy_refused_count;

void dyn_numa_stats_get(dyn_numa_stats *out)
{
    out->pin_refused = atomic_load(&dyn_numa_pin_refused_count);
    out->allocations = atomic_load(&dyn_numa_alloc_count);
    out->allocated_bytes = atomic_load(&dyn_numa_alloc_bytes);
    out->policy_refused = atomic_load(&dyn_numa_policy_refused_count);
}

size_t dyn_numa_metrics_format(char *buf, size_t cap)
{
    dyn_numa_stats s;
    dyn_numa_stats_get(&s);
    int n = snprintf(buf, cap,
                     "# HELP dyn_numa_pin_refused_total Thread pins the OS refused (thread ran unpinned).\n"
                     "# TYPE dyn_numa_pin_refused_total counter\n"
                     "dyn_numa_pin_refused_total %llu\n"
                     "# HELP dyn_numa_policy_refused_total NUMA memory policies (mbind) the OS refused.\n"
                     "# TYPE dyn_numa_policy_refused_total counter\n"
                     "dyn_numa_policy_refused_total %llu\n"
                     "# HELP dyn_numa_allocations_total Buffers allocated by dyn_numa_alloc.\n"
                     "# TYPE dyn_numa_allocations_total counter\n"
                     "dyn_numa_allocations_total %llu\n"
                     "# HELP dyn_numa_allocated_bytes_total Bytes allocated by dyn_numa_alloc.\n"
                     "# TYPE dyn_numa_allocated_bytes_total counter\n"
                     "dyn_numa_allocated_bytes_total %llu\n",
                     (unsigned long long)s.pin_refused, (unsigned long long)s.policy_refused,
                     (unsigned long long)s.allocations, (unsigned long long)s.allocated_bytes);
    return n < 0 ? 0 : (size_t)n;
}
