/* Deterministic content: tokens drawn from a small vocabulary by a hash of the prompt, and
 * unit-norm embeddings from a hash of the input, so the same request always gets the same
 * answer (tests can compare) while different prompts get different ones. */
#include "mocker/mocker.h"
#include "http/buf.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const VOCAB[] = {
    "the", "quick", "model", "answers", "with", "tokens", "from", "a", "mock", "engine", "that", "streams",
    "words", "at", "steady", "pace", "while", "the", "frontend", "relays", "them", "to", "you", "over",
    "server", "sent", "events", "and", "every", "word", "is", "chosen", "by", "hashing", "your", "prompt",
    "so", "same", "question", "gets", "same", "reply", "dynamo", "routes", "each", "request", "through",
    "nats", "to", "one", "worker", "which", "calls", "back", "over", "tcp", "hello", "world", "inference",
    "latency", "throughput", "cache", "queue", "batch",
};
#define NVOCAB (sizeof VOCAB / sizeof VOCAB[0])

unsigned long long dyn_mocker_hash(const void *p, size_t n, unsigned long long h)
{
    const unsigned char *s = p;
    if (!h)
        h = 1469598103934665603ull;          /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t mix(uint64_t x)                /* splitmix64 finaliser */
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

const char *dyn_mocker_token(unsigned long long seed, int i, int *leading_space)
{
    *leading_space = i > 0;
    return VOCAB[mix(seed + (uint64_t)i) % NVOCAB];
}

void dyn_mocker_embedding(unsigned long long seed, float *out, size_t n)
{
    double norm = 0;
    uint64_t s = mix(seed);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        float v = (float)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
        out[i] = v;
        norm += (double)v * v;
    }
    norm = sqrt(norm);
    if (norm > 0)
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(out[i] / norm);
}

void dyn_mocker_base64_floats(dyn_buf *b, const float *v, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t bytes = n * 4, out = (bytes + 2) / 3 * 4;
    char *w = dyn_buf_reserve(b, out);
    if (!w)
        return;
    unsigned char tri[3];
    size_t k = 0, o = 0;
    for (size_t i = 0; i < bytes; i++) {
        uint32_t u;
        memcpy(&u, &v[i / 4], 4);
        tri[k++] = (unsigned char)(u >> (8 * (i % 4)));      /* little-endian bytes */
        if (k == 3) {
            w[o++] = A[tri[0] >> 2];
            w[o++] = A[((tri[0] & 3) << 4) | (tri[1] >> 4)];
            w[o++] = A[((tri[1] & 15) << 2) | (tri[2] >> 6)];
            w[o++] = A[tri[2] & 63];
            k = 0;
        }
    }
    if (k) {
        if (k == 1)
            tri[1] = 0;
        w[o++] = A[tri[0] >> 2];
        w[o++] = A[((tri[0] & 3) << 4) | (tri[1] >> 4)];
        w[o++] = k == 2 ? A[(tri[1] & 15) << 2] : '=';
        w[o++] = '=';
    }
    b->len += o;
    b->data[b->len] = '\0';
}
