/* Small filesystem helpers. */
#ifndef DYN_BASE_FS_H
#define DYN_BASE_FS_H

/* Removes path and everything below it, without following symbolic links and without a shell
 * (paths may hold any character). Returns 0, or -1 with errno set (a missing path is 0). */
int dyn_remove_tree(const char *path);

#endif
