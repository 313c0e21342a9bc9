/* NKey seeds: decode a user seed, derive its ed25519 public key, encode it as an NKey.
 *
 * nats.c 3.4.1 can sign a nonce with an encoded seed (nats_Sign) but wants the public key
 * given separately, so we derive it here: base32-decode the seed, check its CRC16, take the
 * 32-byte ed25519 seed, compute the public key with OpenSSL and encode it with prefix 'U'. */
#include "dyn/nats.h"

#include <openssl/evp.h>
#include <string.h>

#define NKEY_PREFIX_SEED (18 << 3)  /* 'S' */
#define NKEY_PREFIX_USER (20 << 3)  /* 'U' */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16_xmodem(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static int b32_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s; s++) {
        const char *c = strchr(B32, *s);
        if (!c || !*s)
            return -1;
        buf = (buf << 5) | (uint32_t)(c - B32);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(buf >> bits);
        }
    }
    *outlen = n;
    return 0;
}

static void b32_encode(const unsigned char *p, size_t n, char *out)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = B32[(buf >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = B32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

dyn_status dyn_nkey_public_from_seed(const char *seed, char pub[57], dyn_error *err)
{
    unsigned char raw[64];
    size_t n = 0;
    if (!seed || b32_decode(seed, raw, sizeof raw, &n) != 0 || n != 36)
        return dyn_error_set(err, DYN_ERR_INVALID, "NATS_AUTH_NKEY: not an NKey seed (expected 58 base32 characters starting with SU)");
    uint16_t crc = (uint16_t)(raw[34] | (raw[35] << 8));
    if (crc16_xmodem(raw, 34) != crc)
        return dyn_error_set(err, DYN_ERR_INVALID, "NATS_AUTH_NKEY: seed checksum mismatch (truncated or mistyped seed?)");
    if ((raw[0] & 0xF8) != NKEY_PREFIX_SEED)
        return dyn_error_set(err, DYN_ERR_INVALID, "NATS_AUTH_NKEY: value is not a seed (must start with 'S')");
    int type = ((raw[0] & 7) << 5) | ((raw[1] & 0xF8) >> 3);
    if (type != NKEY_PREFIX_USER)
        return dyn_error_set(err, DYN_ERR_INVALID, "NATS_AUTH_NKEY: seed is not a user seed (must start with 'SU')");

    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
    unsigned char key[35];
    size_t klen = 32;
    int ok = pk && EVP_PKEY_get_raw_public_key(pk, key + 1, &klen) == 1 && klen == 32;
    EVP_PKEY_free(pk);
    memset(raw, 0, sizeof raw);
    if (!ok)
        return dyn_error_set(err, DYN_ERR_INTERNAL, "NATS_AUTH_NKEY: cannot derive the ed25519 public key");
    key[0] = NKEY_PREFIX_USER;
    uint16_t kc = crc16_xmodem(key, 33);
    key[33] = (unsigned char)(kc & 0xff);
    key[34] = (unsigned char)(kc >> 8);
    b32_encode(key, 35, pub);
    return DYN_OK;
}
