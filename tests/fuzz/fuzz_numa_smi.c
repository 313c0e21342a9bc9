/* libFuzzer: the nvidia-smi output parsers (NUMA id line, --query-gpu CSV) and the PCI address
 * normaliser must never crash and must only ever produce well-formed results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dyn/numa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    dyn_error err;
    int node;
    if (dyn_numa_smi_parse_node(text, size, &node, &err) == DYN_OK) {
        if (node < 0 || node >= DYN_NUMA_MAX_NODES)
            abort();
    } else if (node != -1) {
        abort();
    }

    dyn_numa_smi_gpu *rows;
    size_t n;
    for (int width = 4; width <= 8; width += 4) {
        if (dyn_numa_smi_parse_uuids(text, size, width, &rows, &n, &err) == DYN_OK) {
            for (size_t i = 0; i < n; i++) {
                if (strncmp(rows[i].uuid, "GPU-", 4) != 0 || strlen(rows[i].pci) < 12)
                    abort();
                char again[24];
                if (dyn_numa_pci_normalize(rows[i].pci, strlen(rows[i].pci), width, again, NULL) ||
                    strcmp(again, rows[i].pci) != 0)
                    abort(); /* normalising twice changes nothing */
            }
            free(rows);
        } else if (rows) {
            abort();
        }
    }

    char pci[24];
    if (dyn_numa_pci_normalize(text, size, 4, pci, &err) == DYN_OK && strlen(pci) >= 24)
        abort();
    return 0;
}
