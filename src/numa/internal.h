/* Helpers shared by the files of src/numa; not part of the public API. */
#ifndef DYN_NUMA_INTERNAL_H
#define DYN_NUMA_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include "dyn/numa.h"

/* Counters behind dyn_numa_stats (stats.c). */
extern atomic_uint_least64_t dyn_numa_pin_refused_count;
extern atomic_uint_least64_t dyn_numa_alloc_count;
extern atomic_uint_least64_t dyn_numa_alloc_bytes;
extern atomic_uint_least64_t dyn_numa_policy_refused_count;

/* Reads a small file (at most cap-1 bytes) into buf, NUL-terminated. Returns the length read or
 * -1 with errno set. */
long numa_read_small_file(const char *path, char *buf, size_t cap);

/* out = a ∩ b (both sorted); out->ids is newly allocated. */
dyn_status numa_cpus_intersect(const dyn_numa_cpus *a, const dyn_numa_cpus *b, dyn_numa_cpus *out,
                               dyn_error *err);
dyn_status numa_cpus_copy(const dyn_numa_cpus *src, dyn_numa_cpus *out, dyn_error *err);
int numa_cpus_contains(const dyn_numa_cpus *cpus, int cpu);

/* Per-GPU CPU slices (slices.c): fills every gpu's cpus from its node's usable CPUs. */
dyn_status numa_slices_assign(dyn_numa_topology *topo, dyn_error *err);

/* GPU enumeration and node lookup (gpu.c). */
dyn_status numa_gpus_load(dyn_numa_topology *topo, dyn_error *err);

/* CUDA_VISIBLE_DEVICES → visible[] (visible.c). */
dyn_status numa_visible_map(dyn_numa_topology *topo, const char *cvd, dyn_error *err);

/* Runs the nvidia-smi program (DYN_NVIDIA_SMI or "nvidia-smi" on PATH) with args, capturing at
 * most cap-1 bytes of stdout into out. *exit_code gets the exit status (-1 when killed).
 * DYN_ERR_UNAVAILABLE when it cannot be started, DYN_ERR_TIMEOUT when it hangs. */
dyn_status numa_smi_run(const char *const args[], char *out, size_t cap, int *exit_code,
                        dyn_error *err);

#endif
