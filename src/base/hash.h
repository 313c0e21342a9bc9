/* Hashes used in names and labels. */
#ifndef DYN_BASE_HASH_H
#define DYN_BASE_HASH_H

#include <stddef.h>

/* Lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void dyn_sha256_hex(const void *data, size_t len, char out[65]);

#endif
