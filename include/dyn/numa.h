/* dynamo-c: GPU and NUMA topology, thread pinning, node-local memory.
 *
 * A KV-cache buffer should live on the NUMA node nearest its GPU. This module finds that node
 * (sysfs first, then nvidia-smi, then the even/odd guess, which is always reported as a guess),
 * pins threads to a node's CPUs, and allocates memory whose pages are placed on the node:
 * anonymous mmap, an mbind() placement policy, and a parallel first touch from threads pinned
 * to the node. Nothing here needs CUDA.
 *
 * The one call a component needs:
 *
 *     dyn_numa_buffer buf;
 *     dyn_error err;
 *     if (dyn_numa_alloc_for_gpu(1 << 30, cuda_ordinal, NULL, &buf, &err) != DYN_OK) ...
 *     ... buf.data, buf.size; buf.node says where it went (-1: no placement) ...
 *     dyn_numa_free(&buf);
 *
 * Environment: DYN_SYSFS_ROOT (default /sys) reads a copied host tree instead of the live one;
 * DYN_NVIDIA_SMI (default "nvidia-smi" on PATH) names the nvidia-smi program;
 * DYN_MEMORY_DISABLE_NUMA=1|true|on|yes turns NUMA placement off; CUDA_VISIBLE_DEVICES maps
 * CUDA ordinals to host GPUs (indices in PCI-address order, or GPU- UUIDs).
 *
 * Library code never prints; the one exception is a single warning per process when the
 * process may not pin a thread (counted in dyn_numa_stats.pin_refused). */
#ifndef DYN_NUMA_H
#define DYN_NUMA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dyn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYN_NUMA_NODE_ANY (-1) /* "no placement" / unknown node */
#define DYN_NUMA_MAX_CPUS 65536 /* CPU numbers at or above this are rejected as malformed */
#define DYN_NUMA_MAX_NODES 1024 /* the kernel's MAX_NUMNODES ceiling */

/* ---- CPU lists ------------------------------------------------------------------------- */

/* A sorted, duplicate-free set of CPU numbers. The owner frees ids with free(). */
typedef struct dyn_numa_cpus {
    int *ids;
    size_t count;
} dyn_numa_cpus;

/* Parses Linux cpulist syntax ("0-3,8,10-11", also "0-15:2/4" strides) from text of length len
 * (need not be NUL-terminated; surrounding whitespace is ignored, an empty list is valid).
 * On success out owns a new array (free(out->ids)); on malformed input out is empty and err
 * says at which column and why. */
dyn_status dyn_numa_cpulist_parse(const char *text, size_t len, dyn_numa_cpus *out, dyn_error *err);

/* Writes cpus in compact cpulist syntax ("0-3,8") into buf (always NUL-terminated; cut with
 * "..." when too small). Returns buf. */
char *dyn_numa_cpulist_format(const dyn_numa_cpus *cpus, char *buf, size_t cap);

/* ---- Topology -------------------------------------------------------------------------- */

typedef struct dyn_numa_node {
    int id;
    dyn_numa_cpus cpus;    /* from node<N>/cpulist; empty for a memory-only node */
    uint64_t memory_bytes; /* MemTotal of node<N>/meminfo; 0 when unreadable */
} dyn_numa_node;

/* How a GPU's node was found. */
typedef enum dyn_numa_source {
    DYN_NUMA_SOURCE_UNKNOWN = 0, /* not found: no placement for this GPU */
    DYN_NUMA_SOURCE_SYSFS,       /* bus/pci/devices/<pci>/numa_node */
    DYN_NUMA_SOURCE_NVIDIA_SMI,  /* nvidia-smi topo --get-numa-id-of-nearby-cpu -i <pci> */
    DYN_NUMA_SOURCE_GUESS        /* host index % 2: a guess, never measured */
} dyn_numa_source;

typedef struct dyn_numa_gpu {
    char pci[24];         /* lowercase, domain width as the host's sysfs: "0000:3b:00.0" */
    unsigned class_code;  /* PCI class, e.g. 0x030000 (VGA) or 0x030200 (3D controller) */
    int host_index;       /* position in PCI-address order */
    int cuda_ordinal;     /* ordinal under CUDA_VISIBLE_DEVICES; -1 when not visible */
    int numa_node;        /* -1 when unknown */
    dyn_numa_source source;
    char uuid[64];        /* "GPU-..." when it was looked up (UUIDs in CUDA_VISIBLE_DEVICES), else "" */
    dyn_numa_cpus cpus;   /* this GPU's CPU slice of its node's usable CPUs (spec §4.4) */
} dyn_numa_gpu;

typedef struct dyn_numa_topology {
    char sysfs_root[256];     /* "/sys" or DYN_SYSFS_ROOT */
    int live;                 /* 1 when reading this host's own /sys (affinity applies) */
    dyn_numa_node *nodes;     /* sorted by id */
    size_t node_count;
    dyn_numa_gpu *gpus;       /* sorted by PCI address */
    size_t gpu_count;
    dyn_numa_cpus usable;     /* CPUs this process may run on (affinity mask / cgroup cpuset) */
    int numa_enabled;         /* 0 when disabled by env or no node information exists */
    char disabled_reason[128];/* why numa_enabled is 0 */
    int *visible;             /* visible[cuda ordinal] = index into gpus */
    size_t visible_count;
    char visible_note[256];   /* why CUDA_VISIBLE_DEVICES was cut short, "" when fully mapped */
} dyn_numa_topology;

/* Reads the topology afresh (environment included). The caller owns *out and frees it with
 * dyn_numa_topology_free. Malformed sysfs content is an error naming the file. */
dyn_status dyn_numa_topology_load(dyn_numa_topology **out, dyn_error *err);
void dyn_numa_topology_free(dyn_numa_topology *topo);

/* The process-wide topology, loaded once on first use (an error is cached too, as the spec
 * says). The library owns it; it lives until exit. */
dyn_status dyn_numa_topology_shared(const dyn_numa_topology **out, dyn_error *err);

/* The node record for id, or NULL. */
const dyn_numa_node *dyn_numa_topology_node(const dyn_numa_topology *topo, int id);

/* The GPU behind a CUDA ordinal (CUDA_VISIBLE_DEVICES applied), or DYN_ERR_NOT_FOUND. */
dyn_status dyn_numa_gpu_for_ordinal(const dyn_numa_topology *topo, int cuda_ordinal,
                                    const dyn_numa_gpu **out, dyn_error *err);

/* The node's CPUs that this process may use (node cpulist ∩ usable). Caller frees ids. */
dyn_status dyn_numa_node_usable_cpus(const dyn_numa_topology *topo, int node, dyn_numa_cpus *out,
                                     dyn_error *err);

const char *dyn_numa_source_name(dyn_numa_source source); /* "sysfs", "nvidia-smi", ... */

/* True when DYN_MEMORY_DISABLE_NUMA holds a truthy value (1, true, on, yes; any case). */
int dyn_numa_disabled_by_env(void);

/* ---- nvidia-smi ------------------------------------------------------------------------ */

/* Parses `nvidia-smi topo --get-numa-id-of-nearby-cpu` output: first line, second
 * ':'-separated field, trimmed, an unsigned number below DYN_NUMA_MAX_NODES. */
dyn_status dyn_numa_smi_parse_node(const char *text, size_t len, int *node, dyn_error *err);

/* One line of `nvidia-smi --query-gpu=pci.bus_id,uuid --format=csv,noheader`. */
typedef struct dyn_numa_smi_gpu {
    char pci[24]; /* normalised with the requested domain width */
    char uuid[64];
} dyn_numa_smi_gpu;

/* Parses that CSV; *out (caller frees) gets one entry per well-formed line. A malformed line
 * is an error naming its line number. */
dyn_status dyn_numa_smi_parse_uuids(const char *text, size_t len, int domain_width,
                                    dyn_numa_smi_gpu **out, size_t *count, dyn_error *err);

/* Normalises a PCI address ("00000000:3B:00.0", "3b:00.0", "0000:3b:00.0") to lowercase with
 * a domain of domain_width (4 or 8) hex digits. out must hold 24 bytes. */
dyn_status dyn_numa_pci_normalize(const char *text, size_t len, int domain_width, char out[24],
                                  dyn_error *err);

/* ---- Pinning --------------------------------------------------------------------------- */

typedef struct dyn_numa_pin_result {
    int pinned; /* 1 only when the affinity was applied and getcpu shows a CPU of the set */
    int cpu;    /* CPU the thread runs on afterwards (getcpu), -1 unknown */
    int node;   /* node the thread runs on afterwards (getcpu), -1 unknown */
} dyn_numa_pin_result;

/* Pins the calling thread to cpus. When the OS refuses (no CAP_SYS_NICE, a cpuset without
 * those CPUs) it warns once per process, counts pin_refused, leaves the thread where it was and
 * returns DYN_ERR_PERMISSION or DYN_ERR_UNAVAILABLE: callers may carry on unpinned. */
dyn_status dyn_numa_pin_self(const dyn_numa_cpus *cpus, dyn_numa_pin_result *res, dyn_error *err);

/* Pins the calling thread to the node's usable CPUs. */
dyn_status dyn_numa_pin_self_to_node(const dyn_numa_topology *topo, int node,
                                     dyn_numa_pin_result *res, dyn_error *err);

/* Pins the calling thread to the CPU slice of the GPU behind a CUDA ordinal. */
dyn_status dyn_numa_pin_self_to_gpu(const dyn_numa_topology *topo, int cuda_ordinal,
                                    dyn_numa_pin_result *res, dyn_error *err);

/* Starts a thread that pins itself to the node's usable CPUs, then runs fn(arg). A refused pin
 * does not stop the thread (it runs unpinned, counted and warned once). */
dyn_status dyn_numa_thread_create(pthread_t *thread, const dyn_numa_topology *topo, int node,
                                  void *(*fn)(void *), void *arg, dyn_error *err);

/* Node and CPU of the calling thread (getcpu syscall); -1 when unknown. */
int dyn_numa_current_node(void);
int dyn_numa_current_cpu(void);

/* ---- Allocation ------------------------------------------------------------------------ */

typedef enum dyn_numa_pages {
    DYN_NUMA_PAGES_BASE = 0, /* the system page size */
    DYN_NUMA_PAGES_HUGETLB,  /* reserved huge pages (MAP_HUGETLB) */
    DYN_NUMA_PAGES_THP       /* transparent huge pages (madvise) */
} dyn_numa_pages;

typedef struct dyn_numa_alloc_opts {
    int huge_pages;                    /* ask for huge pages: hugetlb if reserved, else THP */
    int strict;                        /* MPOL_BIND instead of MPOL_PREFERRED (may OOM-kill) */
    unsigned max_threads;              /* first-touch threads cap; 0 = 16 */
    const dyn_numa_topology *topology; /* NULL = dyn_numa_topology_shared() */
} dyn_numa_alloc_opts;

/* Memory from dyn_numa_alloc. The caller owns it and releases it with dyn_numa_free. */
typedef struct dyn_numa_buffer {
    void *data;          /* page-aligned, zero-filled, already faulted in */
    size_t size;         /* the length mapped: the request rounded up to page_size */
    size_t page_size;
    dyn_numa_pages pages;
    int node;            /* requested node; DYN_NUMA_NODE_ANY when no placement was asked/possible */
    int policy_applied;  /* 1 when mbind() accepted the node policy */
    unsigned threads;    /* first-touch threads used */
    unsigned pinned;     /* of which pinned to the node */
} dyn_numa_buffer;

/* Allocates size bytes whose pages are placed on node (DYN_NUMA_NODE_ANY: no placement, a
 * parallel prefault only). With NUMA disabled by env, node is ignored. Placement is best-effort
 * when the OS refuses mbind or pinning; dyn_numa_verify tells the truth. */
dyn_status dyn_numa_alloc(size_t size, int node, const dyn_numa_alloc_opts *opts,
                          dyn_numa_buffer *out, dyn_error *err);

/* Allocates near the GPU behind a CUDA ordinal. When the GPU's node is unknown or NUMA is
 * disabled this is a plain allocation with out->node == DYN_NUMA_NODE_ANY (not an error). */
dyn_status dyn_numa_alloc_for_gpu(size_t size, int cuda_ordinal, const dyn_numa_alloc_opts *opts,
                                  dyn_numa_buffer *out, dyn_error *err);

/* Unmaps the buffer and zeroes the struct; NULL or an empty buffer is fine. */
void dyn_numa_free(dyn_numa_buffer *buf);

typedef struct dyn_numa_locality {
    size_t pages;       /* base pages examined */
    size_t on_node;     /* resident on the node asked about */
    size_t other_node;  /* resident elsewhere */
    size_t not_present; /* not faulted in (or not queryable) */
    double fraction;    /* on_node / pages */
} dyn_numa_locality;

/* Asks the kernel (move_pages) where every base page of [addr, addr+size) lives. addr is
 * rounded down to a page. DYN_ERR_PERMISSION when the kernel refuses the query. */
dyn_status dyn_numa_verify(const void *addr, size_t size, int node, dyn_numa_locality *out,
                           dyn_error *err);

/* ---- CUDA hook ------------------------------------------------------------------------- */

/* Page-locks [ptr, ptr+size) for the GPU behind cuda_ordinal with cuMemHostRegister (portable,
 * device-mapped) so DMA goes straight to the node-local pages. Built only when the CUDA headers
 * were found at configure time; the driver (libcuda.so.1) is loaded at run time, so the library
 * never needs CUDA to link or run. DYN_ERR_UNAVAILABLE when either is missing. */
dyn_status dyn_numa_cuda_register(void *ptr, size_t size, int cuda_ordinal, dyn_error *err);
dyn_status dyn_numa_cuda_unregister(void *ptr, dyn_error *err);

/* ---- Metrics --------------------------------------------------------------------------- */

typedef struct dyn_numa_stats {
    uint64_t pin_refused;     /* dyn_numa_pin_refused_total: pins the OS refused */
    uint64_t allocations;     /* dyn_numa_allocations_total */
    uint64_t allocated_bytes; /* dyn_numa_allocated_bytes_total */
    uint64_t policy_refused;  /* dyn_numa_policy_refused_total: mbind refused */
} dyn_numa_stats;

void dyn_numa_stats_get(dyn_numa_stats *out);

/* Writes the counters in Prometheus text format into buf (NUL-terminated). Returns the length
 * that was needed (as snprintf). */
size_t dyn_numa_metrics_format(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
