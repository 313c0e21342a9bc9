/* Two-part frame codec and control messages: see frame.h. */
#include "frame.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

void dyn_frame_prefix(unsigned char out[DYN_FRAME_PREFIX], uint64_t hlen, uint64_t blen)
{
    put_be64(out, hlen);
    put_be64(out + 8, blen);
    put_be64(out + 16, 0);
}

dyn_status dyn_frame_split(const void *msg, size_t len, const char **hdr, size_t *hlen,
                           const char **body, size_t *blen, dyn_error *err)
{
    const unsigned char *p = msg;
    if (len < DYN_FRAME_PREFIX)
        return dyn_error_set(err, DYN_ERR_INVALID, "two-part message: %zu bytes, shorter than the 24-byte prefix", len);
    uint64_t h = get_be64(p), b = get_be64(p + 8);
    if (h > len - DYN_FRAME_PREFIX || b > len - DYN_FRAME_PREFIX - h || DYN_FRAME_PREFIX + h + b != len)
        return dyn_error_set(err, DYN_ERR_INVALID, "two-part message: lengths %llu + %llu do not match the %zu-byte payload",
                             (unsigned long long)h, (unsigned long long)b, len);
    *hdr = (const char *)p + DYN_FRAME_PREFIX;
    *hlen = (size_t)h;
    *body = (const char *)p + DYN_FRAME_PREFIX + h;
    *blen = (size_t)b;
    return DYN_OK;
}

void dyn_frame_reader_init(dyn_frame_reader *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

void dyn_frame_reader_free(dyn_frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

int dyn_frame_reader_feed(dyn_frame_reader *r, const char *data, size_t len, size_t *used,
                          dyn_frame *out, dyn_error *err)
{
    size_t off = 0;
    if (r->pgot < DYN_FRAME_PREFIX) {
        size_t take = DYN_FRAME_PREFIX - r->pgot;
        if (take > len)
            take = len;
        memcpy(r->prefix + r->pgot, data, take);
        r->pgot += take;
        off += take;
        if (r->pgot < DYN_FRAME_PREFIX) {
            *used = off;
            return 0;
        }
        r->hlen = get_be64(r->prefix);
        r->blen = get_be64(r->prefix + 8);
        if (r->hlen > r->max || r->blen > r->max || r->hlen + r->blen > r->max) {
            *used = off;
            dyn_error_set(err, DYN_ERR_TOO_LARGE, "frame of %llu + %llu bytes exceeds the %zu-byte limit",
                          (unsigned long long)r->hlen, (unsigned long long)r->blen, r->max);
            return -1;
        }
        r->need = (size_t)(r->hlen + r->blen);
        r->got = 0;
        r->buf = malloc(r->need + 1);
        if (!r->buf) {
            *used = off;
            dyn_error_set(err, DYN_ERR_NOMEM, "out of memory for a %zu-byte frame", r->need);
            return -1;
        }
    }
    size_t take = r->need - r->got;
    if (take > len - off)
        take = len - off;
    memcpy(r->buf + r->got, data + off, take);
    r->got += take;
    off += take;
    *used = off;
    if (r->got < r->need)
        return 0;
    r->buf[r->need] = '\0';
    out->buf = r->buf;
    out->hlen = (size_t)r->hlen;
    out->blen = (size_t)r->blen;
    r->buf = NULL;
    r->pgot = 0;
    return 1;
}

dyn_ctrl dyn_ctrl_parse(const char *hdr, size_t len)
{
    while (len && (*hdr == ' ' || *hdr == '\n' || *hdr == '\r' || *hdr == '\t')) {
        hdr++;
        len--;
    }
    while (len && (hdr[len - 1] == ' ' || hdr[len - 1] == '\n' || hdr[len - 1] == '\r' || hdr[len - 1] == '\t'))
        len--;
    if (len == 6 && memcmp(hdr, "\"stop\"", 6) == 0)
        return CTRL_STOP;
    if (len == 6 && memcmp(hdr, "\"kill\"", 6) == 0)
        return CTRL_KILL;
    if (len == 10 && memcmp(hdr, "\"sentinel\"", 10) == 0)
        return CTRL_SENTINEL;
    return CTRL_NONE;
}

#define FAST_PREFIX "{\"data\":"
#define FAST_SUFFIX ",\"complete_final\":false}"

/* 1 when d is a single object or array: brackets balance outside strings and the outermost
 * one closes exactly at the last byte (so no second key can hide behind it). The contents are
 * not validated here; the consumer parses the item anyway. Saves a parse and a re-dump of
 * every streamed chunk (and of multi-megabyte embeddings). */
static int one_container(const char *d, size_t n)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            else if ((unsigned char)c < 0x20)
                return 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i == n - 1 && !in_str;
        }
    }
    return 0;
}

dyn_status dyn_response_parse(const char *body, size_t len, const char **data, size_t *dlen,
                              int *final, char **owned, dyn_error *err)
{
    *owned = NULL;
    *data = NULL;
    *dlen = 0;
    *final = 0;
    size_t pl = sizeof FAST_PREFIX - 1, sl = sizeof FAST_SUFFIX - 1;
    /* Fast path for the exact shape we (and the original) write: no JSON re-parse of big items. */
    if (len > pl + sl && memcmp(body, FAST_PREFIX, pl) == 0 && memcmp(body + len - sl, FAST_SUFFIX, sl) == 0) {
        const char *d = body + pl;
        size_t n = len - pl - sl;
        /* The item must be one JSON value: validate cheaply for strings (the common big case)
         * by checking that the closing quote is the last byte; anything else goes the slow way. */
        if (n >= 2 && (d[0] == '{' || d[0] == '[') && one_container(d, n)) {
            *data = d;
            *dlen = n;
            return DYN_OK;
        }
        if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
            size_t bs = 0;
            for (size_t i = n - 2; i > 0 && d[i] == '\\'; i--)
                bs++;
            if (bs % 2 == 0 && memchr(d + 1, '"', n - 2) == NULL) {
                *data = d;
                *dlen = n;
                return DYN_OK;
            }
        }
    }
    if (len == sizeof "{\"complete_final\":true}" - 1 && memcmp(body, "{\"complete_final\":true}", len) == 0) {
        *final = 1;
        return DYN_OK;
    }
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return dyn_error_set(err, DYN_ERR_INVALID, "response frame is not a JSON object%s%s", j ? "" : ": ", j ? "" : jerr.text);
    }
    json_t *d = json_object_get(j, "data");
    json_t *f = json_object_get(j, "complete_final");
    *final = json_is_true(f);
    if (d && !json_is_null(d)) {
        *owned = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!*owned) {
            json_decref(j);
            return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
        }
        *data = *owned;
        *dlen = strlen(*owned);
    }
    json_decref(j);
    if (!*data && !*final)
        return dyn_error_set(err, DYN_ERR_INVALID, "response frame has neither data nor complete_final");
    return DYN_OK;
}
