/* Helpers shared by the local-run subcommands: see localcmd.h. */
#include "cmd/localcmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/validate.h"
#include "local/local.h"

const char *dyn_self_exe(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return "dyn";
    path[n] = '\0';
    return path;
}

/* A graph file's metadata.name, or NULL. */
static char *graph_name_of(const char *file)
{
    size_t len;
    char *text = dyn_read_file(file, &len);
    if (!text)
        return NULL;
    dyn_bundle b;
    dyn_diags d;
    dyn_diags_init(&d);
    dyn_bundle_load(&b, file, text, len, NULL, &d);
    char *name = b.n_graphs && b.graphs[0].name ? strdup(b.graphs[0].name) : NULL;
    dyn_bundle_free(&b);
    dyn_diags_free(&d);
    free(text);
    return name;
}

char **dyn_local_targets(const char *state_dir, const char *name_or_file, const char *cmd)
{
    char **out = dyn_strv_new();
    if (state_dir) {
        dyn_strv_push(&out, state_dir);
        return out;
    }
    if (name_or_file) {
        struct stat st;
        char *name = stat(name_or_file, &st) == 0 && S_ISREG(st.st_mode) ? graph_name_of(name_or_file) : NULL;
        char *dir = dyn_local_state_default(name ? name : name_or_file);
        free(name);
        if (access(dir, F_OK) != 0) {
            fprintf(stderr, "dyn %s: no local graph \"%s\" here (%s does not exist)\n", cmd, name_or_file, dir);
            free(dir);
            dyn_strv_free(out);
            return NULL;
        }
        dyn_strv_push(&out, dir);
        free(dir);
        return out;
    }
    dyn_strv_free(out);
    return dyn_local_state_list(".dyn");
}
