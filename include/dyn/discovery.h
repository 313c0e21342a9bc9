/* Discovery records in etcd (spec §3.3).
 *
 * Key:   v1/instances/{namespace}/{component}/{endpoint}/{instance_hex}
 * Value: {"type":"Endpoint","component":"backend","endpoint":"generate","namespace":"dynamo",
 *         "instance_id":7587888256470958859,"transport":{"nats_tcp":"dynamo_backend.generate-694d982aba4f430b"}}
 *
 * instance_id is an unsigned 64-bit integer parsed digit by digit (never through a double).
 * Names are [a-z0-9-_]+ (namespaces may nest with '.'). */
#ifndef DYN_DISCOVERY_H
#define DYN_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "dyn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYN_NAME_MAX 128

typedef struct dyn_instance {
    char ns[DYN_NAME_MAX];
    char component[DYN_NAME_MAX];
    char endpoint[DYN_NAME_MAX];
    uint64_t instance_id;
    char transport[16];      /* "nats_tcp", "tcp" or "http" */
    char address[256];       /* the transport's value: the NATS subject for nats_tcp */
} dyn_instance;

/* Parses a record; malformed or incomplete JSON is DYN_ERR_INVALID saying what is wrong. */
dyn_status dyn_instance_parse(const char *json, size_t len, dyn_instance *out, dyn_error *err);

/* Writes the record JSON into buf; returns the length (>= cap means truncated). */
size_t dyn_instance_format(const dyn_instance *in, char *buf, size_t cap);

/* Writes the key v1/instances/{ns}/{component}/{endpoint}/{hex}; returns the length. */
size_t dyn_instance_key(char *buf, size_t cap, const char *ns, const char *component, const char *endpoint, uint64_t id);

/* The etcd prefix that lists every instance of an endpoint (with a trailing '/'). */
size_t dyn_instance_prefix(char *buf, size_t cap, const char *ns, const char *component, const char *endpoint);

/* Parses the instance id (hex) from the last segment of a key; 0 on error. */
uint64_t dyn_instance_id_from_key(const char *key);

/* 1 if name matches ^[a-z0-9-_]+$ (allow_dots: also '.', for nested namespaces). */
int dyn_name_valid(const char *name, int allow_dots);

/* Slug::slugify: lowercase; keep a-z 0-9 - _; everything else -> '_'; strip leading '_'. */
void dyn_slugify(const char *in, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
