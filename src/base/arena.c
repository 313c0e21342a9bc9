/* Bump allocator: see arena.h. */
#include "base/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dyn_arena_block {
    dyn_arena_block *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void dyn_arena_init(dyn_arena *a)
{
    memset(a, 0, sizeof *a);
}

void *dyn_arena_alloc(dyn_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (!a->head || a->used + size > a->head->size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        dyn_arena_block *b = malloc(sizeof *b + cap);
        if (!b) {
            fprintf(stderr, "dyn: out of memory\n");
            abort();
        }
        b->size = cap;
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += size;
    a->total += size;
    memset(p, 0, size);
    return p;
}

char *dyn_arena_strndup(dyn_arena *a, const char *s, size_t len)
{
    char *p = dyn_arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *dyn_arena_strdup(dyn_arena *a, const char *s)
{
    return dyn_arena_strndup(a, s, strlen(s));
}

char *dyn_arena_printf(dyn_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = dyn_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void dyn_arena_free(dyn_arena *a)
{
    dyn_arena_block *b = a->head;
    while (b) {
        dyn_arena_block *next = b->next;
        free(b);
        b = next;
    }
    memset(a, 0, sizeof *a);
}
