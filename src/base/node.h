/* The YAML/JSON document tree with source positions.
 *
 * Every node remembers where it started (1-based line and column) so that any later check can
 * point at it. Nodes, keys and strings are owned by the dyn_arena of the stream that parsed them. */
#ifndef DYN_BASE_NODE_H
#define DYN_BASE_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum dyn_node_kind {
    DYN_NODE_NULL,
    DYN_NODE_BOOL,
    DYN_NODE_INT,
    DYN_NODE_FLOAT,
    DYN_NODE_STRING,
    DYN_NODE_MAP,
    DYN_NODE_SEQ
} dyn_node_kind;

typedef struct dyn_node dyn_node;

typedef struct dyn_node_pair {
    dyn_node *key;   /* always a scalar; key->text is the key */
    dyn_node *value;
} dyn_node_pair;

struct dyn_node {
    dyn_node_kind kind;
    int line, col;        /* 1-based start position */
    const char *text;     /* scalars: the text as written (NUL-terminated) */
    size_t len;           /* scalars: text length; maps/seqs: number of entries */
    size_t weight;        /* nodes in this subtree, aliases counted as copies */
    bool plain;           /* scalars: written without quotes */
    bool boolean;
    long long integer;
    double number;
    union {
        dyn_node_pair *pairs; /* DYN_NODE_MAP, in source order */
        dyn_node **items;     /* DYN_NODE_SEQ */
    };
};

static inline bool dyn_node_is_scalar(const dyn_node *n)
{
    return n && n->kind != DYN_NODE_MAP && n->kind != DYN_NODE_SEQ;
}

/* Value of key in a map, or NULL when absent or not a map. A key whose value is null counts as
 * absent, as on a Kubernetes API server. */
const dyn_node *dyn_node_get(const dyn_node *map, const char *key);
/* The pair for key (present even when its value is null), or NULL. */
const dyn_node_pair *dyn_node_find(const dyn_node *map, const char *key);
/* String value of key, or NULL when absent or not a string. */
const char *dyn_node_get_str(const dyn_node *map, const char *key);

/* A short noun for error messages: "a string", "a map", ... */
const char *dyn_node_kind_name(dyn_node_kind kind);

/* Converts a subtree to JSON (new reference). Nulls inside maps are dropped (= not set). */
json_t *dyn_node_to_json(const dyn_node *n);

#endif
