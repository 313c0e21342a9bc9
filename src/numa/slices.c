/* Per-GPU CPU slices (spec §4.4): the usable CPUs of a node are split evenly between the GPUs
 * on it, in PCI-address order, so GPU-affine threads of different GPUs do not share cores.
 *
 * We slice the CPUs the process may actually use (node cpulist ∩ affinity/cpuset) rather than
 * the whole node as the original did: a slice the process cannot pin to helps nobody. */
#include <stdlib.h>
#include <string.h>

#include "numa/internal.h"

dyn_status numa_slices_assign(dyn_numa_topology *t, dyn_error *err)
{
    for (size_t ni = 0; ni < t->node_count; ni++) {
        dyn_numa_cpus usable;
        dyn_status st = numa_cpus_intersect(&t->nodes[ni].cpus, &t->usable, &usable, err);
        if (st)
            return st;
        size_t ngpu = 0;
        for (size_t g = 0; g < t->gpu_count; g++)
            ngpu += t->gpus[g].numa_node == t->nodes[ni].id;
        size_t c = usable.count, chunk = ngpu ? c / ngpu : 0, k = 0;
        for (size_t g = 0; g < t->gpu_count && c > 0; g++) {
            dyn_numa_gpu *gpu = &t->gpus[g];
            if (gpu->numa_node != t->nodes[ni].id)
                continue;
            /* Fewer CPUs than GPUs: every GPU shares all of them. Else even chunks, and the
             * last GPU also takes the remainder. */
            size_t from = chunk ? k * chunk : 0;
            size_t to = !chunk || k == ngpu - 1 ? c : from + chunk;
            k++;
            gpu->cpus.ids = malloc((to - from) * sizeof(int));
            if (!gpu->cpus.ids) {
                free(usable.ids);
                return dyn_error_set(err, DYN_ERR_NOMEM, "CPU slices: out of memory");
            }
            memcpy(gpu->cpus.ids, usable.ids + from, (to - from) * sizeof(int));
            gpu->cpus.count = to - from;
        }
        free(usable.ids);
    }
    return DYN_OK;
}
