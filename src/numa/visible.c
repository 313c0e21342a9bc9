/* CUDA_VISIBLE_DEVICES: which host GPU a CUDA ordinal names.
 *
 * The original used the CUDA ordinal as if it were the host index, which is wrong as soon as
 * CUDA_VISIBLE_DEVICES remaps devices. Entries are host indices (in PCI-address order, what
 * CUDA_DEVICE_ORDER=PCI_BUS_ID gives) or GPU- UUIDs, which may be shortened to a unique prefix.
 * Like CUDA, the list ends at the first entry that names no device. UUIDs are resolved with
 * `nvidia-smi --query-gpu=pci.bus_id,uuid`, only when the list holds one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numa/internal.h"

typedef struct uuid_table {
    int loaded;
    dyn_numa_smi_gpu *rows;
    size_t count;
    dyn_error err;
} uuid_table;

static int domain_width_of(const dyn_numa_topology *t)
{
    return t->gpu_count && strchr(t->gpus[0].pci, ':') - t->gpus[0].pci == 8 ? 8 : 4;
}

static void load_uuids(dyn_numa_topology *t, uuid_table *u)
{
    u->loaded = 1;
    const char *args[] = {"--query-gpu=pci.bus_id,uuid", "--format=csv,noheader", NULL};
    char out[16384];
    int code;
    if (numa_smi_run(args, out, sizeof out, &code, &u->err))
        return;
    if (code != 0) {
        dyn_error_set(&u->err, DYN_ERR_UNAVAILABLE, "nvidia-smi --query-gpu exited with %d", code);
        return;
    }
    if (dyn_numa_smi_parse_uuids(out, strlen(out), domain_width_of(t), &u->rows, &u->count, &u->err))
        return;
    for (size_t i = 0; i < u->count; i++) /* remember every UUID we learnt */
        for (size_t g = 0; g < t->gpu_count; g++)
            if (strcmp(u->rows[i].pci, t->gpus[g].pci) == 0)
                memcpy(t->gpus[g].uuid, u->rows[i].uuid, sizeof t->gpus[g].uuid);
}

/* Host index named by a UUID (or unique prefix); -1 with a note otherwise. */
static int by_uuid(dyn_numa_topology *t, uuid_table *u, const char *tok)
{
    if (!u->loaded)
        load_uuids(t, u);
    if (!u->rows) {
        snprintf(t->visible_note, sizeof t->visible_note, "cannot resolve '%.40s': %s", tok,
                 u->err.message);
        return -1;
    }
    int found = -1;
    size_t n = strlen(tok);
    for (size_t g = 0; g < t->gpu_count; g++) {
        if (t->gpus[g].uuid[0] && strncasecmp(t->gpus[g].uuid, tok, n) == 0) {
            if (found >= 0) {
                snprintf(t->visible_note, sizeof t->visible_note,
                         "'%.40s' matches more than one GPU", tok);
                return -1;
            }
            found = (int)g;
        }
    }
    if (found < 0)
        snprintf(t->visible_note, sizeof t->visible_note, "no GPU has UUID '%.40s'", tok);
    return found;
}

static int by_index(dyn_numa_topology *t, const char *tok)
{
    char *end;
    long v = strtol(tok, &end, 10);
    if (*end || v < 0 || (size_t)v >= t->gpu_count) {
        snprintf(t->visible_note, sizeof t->visible_note, "entry '%.40s' names no GPU (%zu on this host)",
                 tok, t->gpu_count);
        return -1;
    }
    return (int)v;
}

dyn_status numa_visible_map(dyn_numa_topology *t, const char *cvd, dyn_error *err)
{
    t->visible = malloc((t->gpu_count ? t->gpu_count : 1) * sizeof *t->visible);
    if (!t->visible)
        return dyn_error_set(err, DYN_ERR_NOMEM, "CUDA_VISIBLE_DEVICES: out of memory");
    if (!cvd) { /* unset: every GPU, in host order */
        for (size_t i = 0; i < t->gpu_count; i++) {
            t->visible[i] = (int)i;
            t->gpus[i].cuda_ordinal = (int)i;
        }
        t->visible_count = t->gpu_count;
        return DYN_OK;
    }
    uuid_table u = {0};
    const char *p = cvd;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char tok[128];
        snprintf(tok, sizeof tok, "%.*s", (int)(n < sizeof tok ? n : sizeof tok - 1), p);
        int g = -1;
        if (n == 0) {
            if (comma || p != cvd)
                snprintf(t->visible_note, sizeof t->visible_note, "empty entry in CUDA_VISIBLE_DEVICES");
        } else if (strncasecmp(tok, "GPU-", 4) == 0) {
            g = by_uuid(t, &u, tok);
        } else if (strncasecmp(tok, "MIG-", 4) == 0) {
            snprintf(t->visible_note, sizeof t->visible_note,
                     "MIG instance '%.40s' is not mapped to a GPU", tok);
        } else {
            g = by_index(t, tok);
        }
        if (g >= 0 && t->gpus[g].cuda_ordinal >= 0) {
            snprintf(t->visible_note, sizeof t->visible_note, "entry '%.40s' repeats a GPU", tok);
            g = -1;
        }
        if (g < 0)
            break; /* CUDA ignores everything from the first bad entry on */
        t->gpus[g].cuda_ordinal = (int)t->visible_count;
        t->visible[t->visible_count++] = g;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (t->visible_note[0] == '\0' && cvd[0] == '\0')
        snprintf(t->visible_note, sizeof t->visible_note, "CUDA_VISIBLE_DEVICES is empty");
    free(u.rows);
    return DYN_OK;
}
