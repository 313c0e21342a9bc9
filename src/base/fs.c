/* Filesystem helpers: see fs.h. */
#include "base/fs.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int dyn_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    /* depth first, symbolic links removed, never followed */
    return nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}
