/* Small jansson helpers used when composing Kubernetes objects. */
#ifndef DYN_BASE_JSON_UTIL_H
#define DYN_BASE_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>

/* obj[key] = string value (copied). */
void dyn_json_set_str(json_t *obj, const char *key, const char *value);
/* A value counts as empty for merging: null, "", [], {}, false or 0 (Go's zero values). */
bool dyn_json_is_empty(const json_t *v);
/* Deep-merges src over dst in place: objects merge recursively, lists and scalars are replaced,
 * empty values in src never override. */
void dyn_json_merge_over(json_t *dst, const json_t *src);
/* Merges EnvVar lists by name: entries of `over` replace same-named ones in `base` (in place) or
 * are appended. When `under` is true, `over` only fills names base lacks. */
void dyn_env_merge(json_t *base, const json_t *over, bool under);
/* Sorts a list of objects by their "name" string (stable, byte order). */
void dyn_json_sort_by_name(json_t *list);
/* Finds the object with "name" == name in a list, or NULL (borrowed). */
json_t *dyn_json_find_named(const json_t *list, const char *name);
/* Returns obj[key] as an object, creating it when absent (borrowed). */
json_t *dyn_json_object_at(json_t *obj, const char *key);
/* Returns obj[key] as a list, creating it when absent (borrowed). */
json_t *dyn_json_array_at(json_t *obj, const char *key);
/* {"name": name, "value": value} */
json_t *dyn_env_var(const char *name, const char *value);

#endif
