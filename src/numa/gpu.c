/* NVIDIA GPUs on the PCI bus and the NUMA node each one hangs off.
 *
 * A GPU is a PCI function with vendor 0x10de and a display class 0x03xx: VGA (0x0300) and
 * 3D controller (0x0302, most data-center GPUs). The driver's other functions (HDMI audio
 * 0x0403, NVSwitch 0x0680, bridges 0x06xx) are not GPUs.
 *
 * The node comes from sysfs numa_node; when that is -1 or missing, from nvidia-smi; when that
 * fails too, the original's even/odd guess, always marked as a guess. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa/internal.h"

#define NVIDIA_VENDOR 0x10de

static int gpu_cmp(const void *a, const void *b)
{
    return strcmp(((const dyn_numa_gpu *)a)->pci, ((const dyn_numa_gpu *)b)->pci);
}

/* Reads a hex number like "0x10de\n"; -1 when absent or malformed. */
static long read_hex(const char *path)
{
    char buf[64];
    if (numa_read_small_file(path, buf, sizeof buf) < 0)
        return -1;
    char *end;
    long v = strtol(buf, &end, 16);
    if (end == buf || (*end && *end != '\n'))
        return -1;
    return v;
}

/* sysfs numa_node: a signed decimal, -1 meaning "the firmware did not say". */
static int read_sysfs_node(const char *path)
{
    char buf[64];
    if (numa_read_small_file(path, buf, sizeof buf) < 0)
        return -1;
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || (*end && *end != '\n') || v < 0 || v >= DYN_NUMA_MAX_NODES)
        return -1;
    return (int)v;
}

/* The node nvidia-smi reports for pci; -1 when it cannot say. *broken is set when the program
 * cannot run at all, so the remaining GPUs do not wait for it again. */
static int smi_node(const char *pci, int *broken)
{
    if (*broken)
        return -1;
    const char *args[] = {"topo", "--get-numa-id-of-nearby-cpu", "-i", pci, NULL};
    char out[1024];
    int code;
    dyn_status st = numa_smi_run(args, out, sizeof out, &code, NULL);
    if (st == DYN_ERR_UNAVAILABLE || st == DYN_ERR_TIMEOUT) {
        *broken = 1;
        return -1;
    }
    int node;
    if (st != DYN_OK || code != 0 || dyn_numa_smi_parse_node(out, strlen(out), &node, NULL))
        return -1;
    return node;
}

/* Last resort, as the original did: even GPUs on node 0, odd on node 1. With a single node
 * there is only one answer; it is still reported as a guess since nothing measured it. */
static int guess_node(const dyn_numa_topology *t, int host_index)
{
    if (t->node_count == 0)
        return -1;
    if (t->node_count == 1)
        return t->nodes[0].id;
    int n = host_index % 2;
    return dyn_numa_topology_node(t, n) ? n : -1;
}

dyn_status numa_gpus_load(dyn_numa_topology *t, dyn_error *err)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bus/pci/devices", t->sysfs_root);
    DIR *d = opendir(dir);
    if (!d)
        return DYN_OK; /* no PCI bus in this tree: no GPUs */
    size_t cap = 0;
    int domain_width = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char pci[24];
        /* The domain width of this host's addresses (4, or 8 on some hypervisors), so the
         * addresses we print and pass to nvidia-smi look like the host's own. */
        if (!domain_width) {
            const char *colon = strchr(e->d_name, ':');
            domain_width = colon && colon - e->d_name == 8 ? 8 : 4;
        }
        if (dyn_numa_pci_normalize(e->d_name, strlen(e->d_name), domain_width, pci, NULL))
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s/vendor", dir, e->d_name);
        if (read_hex(path) != NVIDIA_VENDOR)
            continue;
        snprintf(path, sizeof path, "%s/%s/class", dir, e->d_name);
        long cls = read_hex(path);
        if (cls < 0 || (cls >> 16) != 0x03)
            continue;
        if (t->gpu_count == cap) {
            cap = cap ? cap * 2 : 8;
            dyn_numa_gpu *nv = realloc(t->gpus, cap * sizeof *nv);
            if (!nv) {
                closedir(d);
                return dyn_error_set(err, DYN_ERR_NOMEM, "GPU list: out of memory");
            }
            t->gpus = nv;
        }
        dyn_numa_gpu *g = &t->gpus[t->gpu_count++];
        memset(g, 0, sizeof *g);
        memcpy(g->pci, pci, sizeof g->pci);
        g->class_code = (unsigned)cls;
        g->cuda_ordinal = -1;
        snprintf(path, sizeof path, "%s/%s/numa_node", dir, e->d_name);
        g->numa_node = read_sysfs_node(path);
        g->source = g->numa_node >= 0 ? DYN_NUMA_SOURCE_SYSFS : DYN_NUMA_SOURCE_UNKNOWN;
    }
    closedir(d);
    if (t->gpu_count > 1)
        qsort(t->gpus, t->gpu_count, sizeof *t->gpus, gpu_cmp);

    int smi_broken = 0;
    for (size_t i = 0; i < t->gpu_count; i++) {
        dyn_numa_gpu *g = &t->gpus[i];
        g->host_index = (int)i;
        if (g->source != DYN_NUMA_SOURCE_UNKNOWN)
            continue;
        if ((g->numa_node = smi_node(g->pci, &smi_broken)) >= 0) {
            g->source = DYN_NUMA_SOURCE_NVIDIA_SMI;
        } else if ((g->numa_node = guess_node(t, (int)i)) >= 0) {
            g->source = DYN_NUMA_SOURCE_GUESS;
        }
    }
    return DYN_OK;
}
