/* Where pages really are: move_pages() with no target nodes only reports each page's node. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa/internal.h"

#define BATCH 4096

dyn_status dyn_numa_verify(const void *addr, size_t size, int node, dyn_numa_locality *out,
                           dyn_error *err)
{
    memset(out, 0, sizeof *out);
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    uintptr_t start = (uintptr_t)addr / page * page, end = (uintptr_t)addr + size;
    void *pages[BATCH];
    int status[BATCH];
    for (uintptr_t p = start; p < end;) {
        size_t n = 0;
        for (; n < BATCH && p < end; n++, p += page)
            pages[n] = (void *)p;
        if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status, 0) != 0) {
            int e = errno;
            memset(out, 0, sizeof *out);
            return dyn_error_set(err, e == EPERM ? DYN_ERR_PERMISSION : DYN_ERR_UNAVAILABLE,
                                 "move_pages cannot report page locations: %s", strerror(e));
        }
        for (size_t i = 0; i < n; i++) {
            if (status[i] < 0)
                out->not_present++;
            else if (status[i] == node)
                out->on_node++;
            else
                out->other_node++;
        }
        out->pages += n;
    }
    out->fraction = out->pages ? (double)out->on_node / (double)out->pages : 0.0;
    return DYN_OK;
}
