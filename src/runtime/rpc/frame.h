/* Two-part frames (spec §2.3) and the call-home control messages (§2.4).
 *
 * Frame: u64 header_len | u64 body_len | u64 checksum | header | body, big-endian. We write
 * checksum 0 (as release builds of the original do); a non-zero checksum from a peer is accepted
 * without verification (XXH3 is not implemented here). Header-only frames carry control
 * messages (JSON strings "stop", "kill", "sentinel"); body-only frames carry data. */
#ifndef DYN_RPC_FRAME_H
#define DYN_RPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "dyn/error.h"

#define DYN_FRAME_PREFIX 24

typedef enum { CTRL_NONE = 0, CTRL_STOP, CTRL_KILL, CTRL_SENTINEL } dyn_ctrl;

void dyn_frame_prefix(unsigned char out[DYN_FRAME_PREFIX], uint64_t hlen, uint64_t blen);

/* Splits a complete two-part message (e.g. a NATS payload). Slices point into msg. */
dyn_status dyn_frame_split(const void *msg, size_t len, const char **hdr, size_t *hlen,
                           const char **body, size_t *blen, dyn_error *err);

/* Incremental reader for a byte stream of frames. */
typedef struct dyn_frame_reader {
    unsigned char prefix[DYN_FRAME_PREFIX];
    size_t pgot;
    char *buf;          /* header + body of the frame being read (+1 for a NUL) */
    size_t need, got;
    uint64_t hlen, blen;
    size_t max;         /* largest header+body accepted */
} dyn_frame_reader;

typedef struct dyn_frame {
    char *buf;          /* owned: header at buf, body at buf + hlen; NUL after the body */
    size_t hlen, blen;
} dyn_frame;

void dyn_frame_reader_init(dyn_frame_reader *r, size_t max);
void dyn_frame_reader_free(dyn_frame_reader *r);
/* Consumes bytes from data; returns 1 with *out filled (caller owns out->buf) when a frame is
 * complete, 0 when all of data was consumed without completing one, -1 on a bad frame (err
 * says why). *used = bytes consumed. */
int dyn_frame_reader_feed(dyn_frame_reader *r, const char *data, size_t len, size_t *used,
                          dyn_frame *out, dyn_error *err);

/* Classifies a header-only frame's header ("\"stop\"" etc., surrounding blanks allowed). */
dyn_ctrl dyn_ctrl_parse(const char *hdr, size_t len);

/* Parses a response body {"data": <item>, "complete_final": bool}. On success *data, *dlen is
 * the item's JSON text (a slice of body, or of *owned when it had to be re-serialised, which
 * the caller frees), *final the flag. DYN_ERR_INVALID when it has neither data nor final. */
dyn_status dyn_response_parse(const char *body, size_t len, const char **data, size_t *dlen,
                              int *final, char **owned, dyn_error *err);

#endif
