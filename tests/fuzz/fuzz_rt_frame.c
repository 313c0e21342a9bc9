/* libFuzzer: the call-home frame reader, control messages, response bodies and two-part split.
 * Any input must give frames or a clean error, never a crash, leak or over-read. */
#include "runtime/rpc/frame.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *h, *b;
    size_t hl, bl;
    dyn_error err;
    if (dyn_frame_split(data, size, &h, &hl, &b, &bl, &err) == DYN_OK) {
        (void)dyn_ctrl_parse(h, hl);
        const char *d;
        size_t dl;
        int fin;
        char *owned = NULL;
        if (dyn_response_parse(b, bl, &d, &dl, &fin, &owned, &err) == DYN_OK && d && dl)
            (void)d[dl - 1];
        free(owned);
    }
    /* Stream reading, split at an input-chosen point. */
    dyn_frame_reader r;
    dyn_frame_reader_init(&r, 1 << 16);
    size_t cut = size ? data[0] % (size + 1) : 0;
    size_t off = 0;
    while (off < size) {
        size_t end = off < cut ? cut : size;
        dyn_frame f;
        size_t used = 0;
        int rc = dyn_frame_reader_feed(&r, (const char *)data + off, end - off, &used, &f, &err);
        off += used;
        if (rc < 0)
            break;
        if (rc == 1) {
            if (f.blen == 0)
                (void)dyn_ctrl_parse(f.buf, f.hlen);
            else {
                const char *d;
                size_t dl;
                int fin;
                char *owned = NULL;
                dyn_response_parse(f.buf + f.hlen, f.blen, &d, &dl, &fin, &owned, &err);
                free(owned);
            }
            free(f.buf);
        }
        if (used == 0 && rc == 0)
            break;
    }
    dyn_frame_reader_free(&r);
    return 0;
}
