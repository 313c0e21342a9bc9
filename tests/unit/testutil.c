#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

const char *test_source_dir(void)
{
    const char *d = getenv("DYN_SOURCE_DIR");
    return d ? d : ".";
}

const char *test_path(const char *relpath)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", test_source_dir(), relpath);
    return buf;
}

char *test_read_file(const char *relpath, size_t *len)
{
    FILE *f = fopen(test_path(relpath), "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}
