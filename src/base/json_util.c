/* jansson helpers: see json_util.h. */
#include "base/json_util.h"

#include <stdlib.h>
#include <string.h>

void dyn_json_set_str(json_t *obj, const char *key, const char *value)
{
    json_object_set_new_nocheck(obj, key, json_string(value));
}

bool dyn_json_is_empty(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return true;
    if (json_is_string(v))
        return json_string_length(v) == 0;
    if (json_is_array(v))
        return json_array_size(v) == 0;
    if (json_is_object(v))
        return json_object_size(v) == 0;
    if (json_is_integer(v))
        return json_integer_value(v) == 0;
    return false;
}

void dyn_json_merge_over(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)src, key, value) {
        json_t *cur = json_object_get(dst, key);
        if (json_is_object(cur) && json_is_object(value))
            dyn_json_merge_over(cur, value);
        else if (!dyn_json_is_empty(value))
            json_object_set_new(dst, key, json_deep_copy(value));
    }
}

json_t *dyn_json_find_named(const json_t *list, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

void dyn_env_merge(json_t *base, const json_t *over, bool under)
{
    /* name -> position in base, so that long env lists merge in linear time */
    json_t *where = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(base, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && !json_object_get(where, name))
            json_object_set_new(where, name, json_integer((json_int_t)i));
    }
    json_array_foreach(over, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!name)
            continue;
        json_t *at = json_object_get(where, name);
        if (at) {
            if (!under)
                json_array_set_new(base, (size_t)json_integer_value(at), json_deep_copy(v));
        } else {
            json_object_set_new(where, name, json_integer((json_int_t)json_array_size(base)));
            json_array_append_new(base, json_deep_copy(v));
        }
    }
    json_decref(where);
}

static const char *name_of(const json_t *v)
{
    const char *n = json_string_value(json_object_get(v, "name"));
    return n ? n : "";
}

typedef struct named {
    json_t *value;
    const char *name;
    size_t index;
} named;

static int named_cmp(const void *pa, const void *pb)
{
    const named *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index); /* stable */
}

void dyn_json_sort_by_name(json_t *list)
{
    size_t n = json_array_size(list);
    if (n < 2)
        return;
    named *items = malloc(n * sizeof *items);
    if (!items)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_incref(json_array_get(list, i));
        items[i] = (named){v, name_of(v), i};
    }
    qsort(items, n, sizeof *items, named_cmp);
    json_array_clear(list);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, items[i].value);
    free(items);
}

json_t *dyn_json_object_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

json_t *dyn_json_array_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_array(v)) {
        v = json_array();
        json_object_set_new(obj, key, v);
    }
    return v;
}

json_t *dyn_env_var(const char *name, const char *value)
{
    /* built directly: json_pack's format parsing costs more than the object here */
    json_t *v = json_object();
    json_object_set_new_nocheck(v, "name", json_string(name));
    json_object_set_new_nocheck(v, "value", json_string(value));
    return v;
}
