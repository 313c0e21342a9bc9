/* NUMA topology from sysfs: nodes with their CPUs and memory, the CPUs this process may use,
 * then the GPUs (gpu.c), the CUDA ordinal map (visible.c) and the per-GPU slices (slices.c).
 *
 * DYN_SYSFS_ROOT replaces /sys so a copied host tree (or a test fixture) can be inspected. Only
 * the live /sys is paired with this process's affinity mask; a copied tree uses its own
 * cgroup cpuset file or, failing that, its online CPUs. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "numa/internal.h"

long numa_read_small_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        errno = EIO;
        return -1;
    }
    buf[n] = '\0';
    return (long)n;
}

int dyn_numa_disabled_by_env(void)
{
    const char *v = getenv("DYN_MEMORY_DISABLE_NUMA");
    if (!v)
        return 0;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
           strcasecmp(v, "yes") == 0;
}

const char *dyn_numa_source_name(dyn_numa_source source)
{
    switch (source) {
    case DYN_NUMA_SOURCE_SYSFS: return "sysfs";
    case DYN_NUMA_SOURCE_NVIDIA_SMI: return "nvidia-smi";
    case DYN_NUMA_SOURCE_GUESS: return "guess";
    case DYN_NUMA_SOURCE_UNKNOWN: break;
    }
    return "unknown";
}

/* Reads and parses a cpulist file; the error names the file. */
static dyn_status read_cpulist(const char *path, dyn_numa_cpus *out, dyn_error *err)
{
    char buf[8192];
    if (numa_read_small_file(path, buf, sizeof buf) < 0)
        return dyn_error_set(err, DYN_ERR_IO, "%s: %s", path, strerror(errno));
    dyn_status st = dyn_numa_cpulist_parse(buf, strlen(buf), out, err);
    if (st)
        dyn_error_prefix(err, "%s", path);
    return st;
}

/* "Node 0 MemTotal:  263835264 kB" → bytes; 0 when absent. */
static uint64_t node_memory(const char *path)
{
    char buf[4096];
    if (numa_read_small_file(path, buf, sizeof buf) < 0)
        return 0;
    const char *p = strstr(buf, "MemTotal:");
    unsigned long long kb;
    if (!p || sscanf(p, "MemTotal: %llu kB", &kb) != 1)
        return 0;
    return (uint64_t)kb * 1024;
}

static int node_cmp(const void *a, const void *b)
{
    return ((const dyn_numa_node *)a)->id - ((const dyn_numa_node *)b)->id;
}

static dyn_status load_nodes(dyn_numa_topology *t, dyn_error *err)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/devices/system/node", t->sysfs_root);
    DIR *d = opendir(dir);
    if (!d)
        return DYN_OK; /* a kernel without NUMA: the caller reports it, nothing is wrong */
    size_t cap = 0;
    dyn_status st = DYN_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, "node", 4) != 0 || !n[4] || strspn(n + 4, "0123456789") != strlen(n + 4))
            continue;
        long id = strtol(n + 4, NULL, 10);
        if (id >= DYN_NUMA_MAX_NODES)
            continue;
        if (t->node_count == cap) {
            cap = cap ? cap * 2 : 4;
            dyn_numa_node *nv = realloc(t->nodes, cap * sizeof *nv);
            if (!nv) {
                st = dyn_error_set(err, DYN_ERR_NOMEM, "topology: out of memory");
                break;
            }
            t->nodes = nv;
        }
        dyn_numa_node *node = &t->nodes[t->node_count];
        memset(node, 0, sizeof *node);
        node->id = (int)id;
        char path[600];
        snprintf(path, sizeof path, "%s/%s/cpulist", dir, n);
        if ((st = read_cpulist(path, &node->cpus, err)))
            break;
        snprintf(path, sizeof path, "%s/%s/meminfo", dir, n);
        node->memory_bytes = node_memory(path);
        t->node_count++;
    }
    closedir(d);
    if (t->node_count > 1)
        qsort(t->nodes, t->node_count, sizeof *t->nodes, node_cmp);
    return st;
}

/* The affinity mask of this process, sized for any CPU count. */
static dyn_status live_affinity(dyn_numa_cpus *out, dyn_error *err)
{
    for (int ncpu = 1024; ncpu <= DYN_NUMA_MAX_CPUS; ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC(ncpu);
        size_t sz = CPU_ALLOC_SIZE(ncpu);
        if (!set)
            return dyn_error_set(err, DYN_ERR_NOMEM, "affinity: out of memory");
        if (sched_getaffinity(0, sz, set) != 0) {
            int e = errno;
            CPU_FREE(set);
            if (e == EINVAL)
                continue; /* the kernel has more CPUs than the mask holds */
            return dyn_error_set(err, DYN_ERR_IO, "sched_getaffinity: %s", strerror(e));
        }
        int n = CPU_COUNT_S(sz, set);
        out->count = 0;
        out->ids = malloc((size_t)(n ? n : 1) * sizeof *out->ids);
        if (!out->ids) {
            CPU_FREE(set);
            return dyn_error_set(err, DYN_ERR_NOMEM, "affinity: out of memory");
        }
        for (int c = 0; c < ncpu; c++)
            if (CPU_ISSET_S(c, sz, set))
                out->ids[out->count++] = c;
        CPU_FREE(set);
        return DYN_OK;
    }
    return dyn_error_set(err, DYN_ERR_IO, "sched_getaffinity: mask larger than %d CPUs",
                         DYN_NUMA_MAX_CPUS);
}

static dyn_status load_usable(dyn_numa_topology *t, dyn_error *err)
{
    /* The kernel keeps a task's affinity inside its cgroup cpuset, so on the live host the
     * affinity mask alone is the usable set. */
    if (t->live)
        return live_affinity(&t->usable, err);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/fs/cgroup/cpuset.cpus.effective", t->sysfs_root);
    if (stat(path, &sb) == 0)
        return read_cpulist(path, &t->usable, err);
    snprintf(path, sizeof path, "%s/devices/system/cpu/online", t->sysfs_root);
    if (stat(path, &sb) == 0)
        return read_cpulist(path, &t->usable, err);
    /* No CPU files at all: every CPU of every node. */
    size_t total = 0;
    for (size_t i = 0; i < t->node_count; i++)
        total += t->nodes[i].cpus.count;
    t->usable.ids = malloc((total ? total : 1) * sizeof(int));
    if (!t->usable.ids)
        return dyn_error_set(err, DYN_ERR_NOMEM, "topology: out of memory");
    int last = -1;
    for (;;) { /* merge: repeatedly take the smallest CPU above last */
        int best = -1;
        for (size_t i = 0; i < t->node_count; i++)
            for (size_t j = 0; j < t->nodes[i].cpus.count; j++) {
                int c = t->nodes[i].cpus.ids[j];
                if (c > last && (best < 0 || c < best))
                    best = c;
            }
        if (best < 0)
            break;
        t->usable.ids[t->usable.count++] = last = best;
    }
    return DYN_OK;
}

dyn_status dyn_numa_topology_load(dyn_numa_topology **out, dyn_error *err)
{
    *out = NULL;
    dyn_numa_topology *t = calloc(1, sizeof *t);
    if (!t)
        return dyn_error_set(err, DYN_ERR_NOMEM, "topology: out of memory");
    const char *root = getenv("DYN_SYSFS_ROOT");
    if (!root || !*root)
        root = "/sys";
    if (strlen(root) >= sizeof t->sysfs_root) {
        free(t);
        return dyn_error_set(err, DYN_ERR_INVALID, "DYN_SYSFS_ROOT is longer than %zu bytes",
                             sizeof t->sysfs_root - 1);
    }
    snprintf(t->sysfs_root, sizeof t->sysfs_root, "%s", root);
    t->live = strcmp(root, "/sys") == 0 || strcmp(root, "/sys/") == 0;

    dyn_status st;
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        st = dyn_error_set(err, DYN_ERR_IO, "sysfs root %s: %s", root,
                           errno ? strerror(errno) : "not a directory");
        goto fail;
    }
    if ((st = load_nodes(t, err)) || (st = load_usable(t, err)))
        goto fail;
    if (t->node_count == 0) {
        snprintf(t->disabled_reason, sizeof t->disabled_reason,
                 "no NUMA nodes under %s/devices/system/node", root);
    } else if (dyn_numa_disabled_by_env()) {
        snprintf(t->disabled_reason, sizeof t->disabled_reason, "DYN_MEMORY_DISABLE_NUMA is set");
    } else {
        t->numa_enabled = 1;
    }
    if ((st = numa_gpus_load(t, err)) || (st = numa_visible_map(t, getenv("CUDA_VISIBLE_DEVICES"), err)) ||
        (st = numa_slices_assign(t, err)))
        goto fail;
    *out = t;
    return DYN_OK;
fail:
    dyn_numa_topology_free(t);
    return st;
}

void dyn_numa_topology_free(dyn_numa_topology *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->node_count; i++)
        free(t->nodes[i].cpus.ids);
    for (size_t i = 0; i < t->gpu_count; i++)
        free(t->gpus[i].cpus.ids);
    free(t->nodes);
    free(t->gpus);
    free(t->usable.ids);
    free(t->visible);
    free(t);
}

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static dyn_numa_topology *shared_topo;
static dyn_error shared_err;

static void load_shared(void)
{
    if (dyn_numa_topology_load(&shared_topo, &shared_err) == DYN_OK)
        shared_err.code = DYN_OK;
}

dyn_status dyn_numa_topology_shared(const dyn_numa_topology **out, dyn_error *err)
{
    pthread_once(&shared_once, load_shared);
    *out = shared_topo;
    if (!shared_topo)
        return dyn_error_set(err, shared_err.code, "%s", shared_err.message);
    return DYN_OK;
}

const dyn_numa_node *dyn_numa_topology_node(const dyn_numa_topology *t, int id)
{
    for (size_t i = 0; i < t->node_count; i++)
        if (t->nodes[i].id == id)
            return &t->nodes[i];
    return NULL;
}

dyn_status dyn_numa_node_usable_cpus(const dyn_numa_topology *t, int id, dyn_numa_cpus *out,
                                     dyn_error *err)
{
    out->ids = NULL;
    out->count = 0;
    const dyn_numa_node *n = dyn_numa_topology_node(t, id);
    if (!n)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "NUMA node %d does not exist (%zu node%s)",
                             id, t->node_count, t->node_count == 1 ? "" : "s");
    return numa_cpus_intersect(&n->cpus, &t->usable, out, err);
}

dyn_status dyn_numa_gpu_for_ordinal(const dyn_numa_topology *t, int ordinal,
                                    const dyn_numa_gpu **out, dyn_error *err)
{
    *out = NULL;
    if (ordinal < 0 || (size_t)ordinal >= t->visible_count)
        return dyn_error_set(err, DYN_ERR_NOT_FOUND, "CUDA device %d is not visible (%zu visible%s%s)",
                             ordinal, t->visible_count, t->visible_note[0] ? "; " : "",
                             t->visible_note);
    *out = &t->gpus[t->visible[ordinal]];
    return DYN_OK;
}
