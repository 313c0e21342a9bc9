/* Lookups and JSON conversion on the positioned tree: see node.h. */
#include "base/node.h"

#include <string.h>

const dyn_node_pair *dyn_node_find(const dyn_node *map, const char *key)
{
    if (!map || map->kind != DYN_NODE_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->len; i++) {
        const dyn_node *k = map->pairs[i].key;
        if (k->len == klen && memcmp(k->text, key, klen) == 0)
            return &map->pairs[i];
    }
    return NULL;
}

const dyn_node *dyn_node_get(const dyn_node *map, const char *key)
{
    const dyn_node_pair *p = dyn_node_find(map, key);
    if (!p || p->value->kind == DYN_NODE_NULL)
        return NULL;
    return p->value;
}

const char *dyn_node_get_str(const dyn_node *map, const char *key)
{
    const dyn_node *v = dyn_node_get(map, key);
    return v && v->kind == DYN_NODE_STRING ? v->text : NULL;
}

const char *dyn_node_kind_name(dyn_node_kind kind)
{
    switch (kind) {
    case DYN_NODE_NULL: return "null";
    case DYN_NODE_BOOL: return "a boolean";
    case DYN_NODE_INT: return "an integer";
    case DYN_NODE_FLOAT: return "a number";
    case DYN_NODE_STRING: return "a string";
    case DYN_NODE_MAP: return "a map";
    case DYN_NODE_SEQ: return "a list";
    }
    return "unknown";
}

json_t *dyn_node_to_json(const dyn_node *n)
{
    if (!n)
        return json_null();
    switch (n->kind) {
    case DYN_NODE_NULL: return json_null();
    case DYN_NODE_BOOL: return json_boolean(n->boolean);
    case DYN_NODE_INT: return json_integer(n->integer);
    case DYN_NODE_FLOAT: return json_real(n->number);
    case DYN_NODE_STRING: return json_stringn(n->text, n->len);
    case DYN_NODE_SEQ: {
        json_t *arr = json_array();
        for (size_t i = 0; i < n->len; i++)
            json_array_append_new(arr, dyn_node_to_json(n->items[i]));
        return arr;
    }
    case DYN_NODE_MAP: {
        json_t *obj = json_object();
        for (size_t i = 0; i < n->len; i++)
            if (n->pairs[i].value->kind != DYN_NODE_NULL)
                json_object_setn_new(obj, n->pairs[i].key->text, n->pairs[i].key->len,
                                     dyn_node_to_json(n->pairs[i].value));
        return obj;
    }
    }
    return json_null();
}
