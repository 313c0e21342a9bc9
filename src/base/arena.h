/* A bump allocator: many small allocations, one free. Parsed documents live in one arena so
 * building and dropping a tree costs a few large mallocs, not one per node. */
#ifndef DYN_BASE_ARENA_H
#define DYN_BASE_ARENA_H

#include <stddef.h>

typedef struct dyn_arena_block dyn_arena_block;

typedef struct dyn_arena {
    dyn_arena_block *head;
    size_t used;     /* bytes used in head */
    size_t total;    /* bytes handed out, for reporting */
} dyn_arena;

void dyn_arena_init(dyn_arena *a);
/* Zeroed, 16-byte aligned. Aborts only if the system is out of memory (like malloc wrappers). */
void *dyn_arena_alloc(dyn_arena *a, size_t size);
/* Copies len bytes and adds a NUL. */
char *dyn_arena_strndup(dyn_arena *a, const char *s, size_t len);
char *dyn_arena_strdup(dyn_arena *a, const char *s);
char *dyn_arena_printf(dyn_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dyn_arena_free(dyn_arena *a);

#endif
