/* libFuzzer: the cpulist parser must never crash, and what it accepts must survive a
 * format → parse round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dyn/numa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dyn_numa_cpus c;
    dyn_error err;
    if (dyn_numa_cpulist_parse((const char *)data, size, &c, &err) != DYN_OK) {
        if (c.ids || c.count || !err.message[0])
            abort();
        return 0;
    }
    for (size_t i = 1; i < c.count; i++)
        if (c.ids[i - 1] >= c.ids[i])
            abort(); /* sorted, no duplicates */
    size_t cap = 16 + c.count * 12;
    char *text = malloc(cap);
    dyn_numa_cpulist_format(&c, text, cap);
    dyn_numa_cpus again;
    if (dyn_numa_cpulist_parse(text, strlen(text), &again, &err) != DYN_OK || again.count != c.count ||
        (c.count && memcmp(again.ids, c.ids, c.count * sizeof *c.ids) != 0))
        abort();
    free(again.ids);
    free(text);
    free(c.ids);
    return 0;
}
