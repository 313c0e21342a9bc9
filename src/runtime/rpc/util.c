/* Small helpers for the rpc files: UUIDs and full writes. */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

/* Request and stream ids need uniqueness, not secrecy: a per-thread xorshift128+ seeded once
 * from getrandom keeps the per-request cost off the syscall path. */
static __thread uint64_t rs[2];

static uint64_t next_rand(void)
{
    if (!rs[0] && !rs[1]) {
        if (getrandom(rs, sizeof rs, 0) != (ssize_t)sizeof rs || (!rs[0] && !rs[1])) {
            rs[0] = (uint64_t)random() << 32 ^ (uint64_t)random();
            rs[1] = (uint64_t)(uintptr_t)&rs ^ 0x9e3779b97f4a7c15ull;
        }
    }
    uint64_t x = rs[0];
    const uint64_t y = rs[1];
    rs[0] = y;
    x ^= x << 23;
    rs[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return rs[1] + y;
}

void dyn_uuid4(char out[37])
{
    unsigned char b[16];
    uint64_t a = next_rand(), c = next_rand();
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int write_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t n = writev(fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}
