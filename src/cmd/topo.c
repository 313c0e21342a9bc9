/* dyn topo: NUMA nodes, the CPUs this process may use, NVIDIA GPUs with their node (and how
 * it was found) and each GPU's CPU slice. --json prints the same as one JSON object. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "dyn/numa.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn topo [--json]\n\n"
            "Shows NUMA nodes (CPUs, memory), the CPUs this process may use, NVIDIA GPUs with\n"
            "their PCI address and NUMA node (found via sysfs, nvidia-smi, or guessed) and each\n"
            "GPU's CPU slice.\n\n"
            "  --json   one JSON object: nodes, gpus, usable_cpus, numa_enabled\n\n"
            "environment: DYN_SYSFS_ROOT (default /sys), DYN_NVIDIA_SMI (default nvidia-smi),\n"
            "  DYN_MEMORY_DISABLE_NUMA, CUDA_VISIBLE_DEVICES\n");
}

static json_t *cpus_json(const dyn_numa_cpus *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->count; i++)
        json_array_append_new(a, json_integer(c->ids[i]));
    return a;
}

static int print_json(const dyn_numa_topology *t)
{
    json_t *root = json_object(), *nodes = json_array(), *gpus = json_array();
    for (size_t i = 0; i < t->node_count; i++) {
        const dyn_numa_node *n = &t->nodes[i];
        json_array_append_new(nodes, json_pack("{s:i, s:o, s:I}", "id", n->id, "cpus",
                                               cpus_json(&n->cpus), "memory_bytes",
                                               (json_int_t)n->memory_bytes));
    }
    for (size_t i = 0; i < t->gpu_count; i++) {
        const dyn_numa_gpu *g = &t->gpus[i];
        char cls[16];
        snprintf(cls, sizeof cls, "0x%06x", g->class_code);
        json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:i, s:o, s:s}", "pci", g->pci, "numa_node",
                              g->numa_node >= 0 ? json_integer(g->numa_node) : json_null(),
                              "source", dyn_numa_source_name(g->source), "cpus",
                              cpus_json(&g->cpus), "index", g->host_index, "cuda_ordinal",
                              g->cuda_ordinal >= 0 ? json_integer(g->cuda_ordinal) : json_null(),
                              "class", cls);
        if (g->uuid[0])
            json_object_set_new(o, "uuid", json_string(g->uuid));
        json_array_append_new(gpus, o);
    }
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "gpus", gpus);
    json_object_set_new(root, "usable_cpus", cpus_json(&t->usable));
    json_object_set_new(root, "numa_enabled", json_boolean(t->numa_enabled));
    if (!t->numa_enabled)
        json_object_set_new(root, "disabled_reason", json_string(t->disabled_reason));
    json_object_set_new(root, "sysfs_root", json_string(t->sysfs_root));
    if (t->visible_note[0])
        json_object_set_new(root, "cuda_visible_devices_note", json_string(t->visible_note));
    char *s = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!s) {
        fprintf(stderr, "dyn topo: cannot encode JSON\n");
        return EXIT_USAGE;
    }
    puts(s);
    free(s);
    return EXIT_OK;
}

static const char *class_name(unsigned cls)
{
    switch (cls >> 8) {
    case 0x0300: return "VGA";
    case 0x0302: return "3D controller";
    default: return "display";
    }
}

static void print_text(const dyn_numa_topology *t)
{
    char list[1024];
    if (t->numa_enabled)
        printf("NUMA placement: enabled\n");
    else
        printf("NUMA placement: disabled (%s)\n", t->disabled_reason);
    printf("nodes: %zu\n", t->node_count);
    for (size_t i = 0; i < t->node_count; i++) {
        const dyn_numa_node *n = &t->nodes[i];
        printf("  node %d  cpus %s (%zu)  memory %.1f GiB\n", n->id,
               n->cpus.count ? dyn_numa_cpulist_format(&n->cpus, list, sizeof list) : "none",
               n->cpus.count, (double)n->memory_bytes / (1024.0 * 1024 * 1024));
    }
    printf("usable cpus: %s (%zu)\n", dyn_numa_cpulist_format(&t->usable, list, sizeof list),
           t->usable.count);
    if (t->gpu_count == 0) {
        printf("GPUs: none (no NVIDIA display-class PCI device under %s/bus/pci/devices)\n",
               t->sysfs_root);
        return;
    }
    printf("GPUs: %zu\n", t->gpu_count);
    for (size_t i = 0; i < t->gpu_count; i++) {
        const dyn_numa_gpu *g = &t->gpus[i];
        char node[64], cuda[16];
        if (g->numa_node < 0)
            snprintf(node, sizeof node, "node ? (unknown)");
        else if (g->source == DYN_NUMA_SOURCE_GUESS)
            snprintf(node, sizeof node, "node %d (guess: even/odd, not measured)", g->numa_node);
        else
            snprintf(node, sizeof node, "node %d (%s)", g->numa_node, dyn_numa_source_name(g->source));
        if (g->cuda_ordinal >= 0)
            snprintf(cuda, sizeof cuda, "cuda %d", g->cuda_ordinal);
        else
            snprintf(cuda, sizeof cuda, "cuda -");
        printf("  gpu %d  %s  %-13s  %-8s %s  cpus %s (%zu)%s%s\n", g->host_index, g->pci,
               class_name(g->class_code), cuda, node,
               g->cpus.count ? dyn_numa_cpulist_format(&g->cpus, list, sizeof list) : "none",
               g->cpus.count, g->uuid[0] ? "  " : "", g->uuid);
    }
    if (t->visible_note[0])
        printf("CUDA_VISIBLE_DEVICES: %zu visible; %s\n", t->visible_count, t->visible_note);
}

int cmd_topo(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "dyn topo: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    dyn_numa_topology *t;
    dyn_error err;
    if (dyn_numa_topology_load(&t, &err) != DYN_OK) {
        fprintf(stderr, "dyn topo: %s\n", err.message);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    if (json)
        rc = print_json(t);
    else
        print_text(t);
    dyn_numa_topology_free(t);
    return rc;
}
