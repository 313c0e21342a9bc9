/* Small helpers shared by the cmocka tests. */
#ifndef DYN_TESTUTIL_H
#define DYN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The repository root (DYN_SOURCE_DIR from ctest, else the compile-time source dir). */
const char *test_source_dir(void);

/* Reads a whole file relative to the repository root; caller frees. NULL if missing. */
char *test_read_file(const char *relpath, size_t *len);

/* Joins the repository root and relpath into a static buffer (valid until the next call). */
const char *test_path(const char *relpath);

#endif
