/* Helpers for graph tests: load YAML text as a file would be, and look for exact diagnostics. */
#ifndef DYN_GRAPHTEST_H
#define DYN_GRAPHTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "base/diag.h"

typedef struct loaded {
    dyn_bundle bundle;
    dyn_diags diags;
    dyn_config config;
    bool ok;
    char *text;        /* all diagnostics, one gcc-style line each */
} loaded;

static inline void loaded_load_cfg(loaded *l, const char *yaml, const char *config_yaml, const char *ns)
{
    memset(l, 0, sizeof *l);
    dyn_diags_init(&l->diags);
    dyn_config_defaults(&l->config);
    if (config_yaml)
        dyn_config_parse(&l->config, "cfg.yaml", config_yaml, strlen(config_yaml), &l->diags);
    dyn_load_opts opts = {.config = &l->config, .namespace_ = ns};
    l->ok = dyn_bundle_load(&l->bundle, "g.yaml", yaml, strlen(yaml), &opts, &l->diags);
    size_t len = 0;
    FILE *f = open_memstream(&l->text, &len);
    dyn_diags_print(&l->diags, f);
    fclose(f);
}

static inline void loaded_load(loaded *l, const char *yaml)
{
    loaded_load_cfg(l, yaml, NULL, NULL);
}

static inline void loaded_free(loaded *l)
{
    dyn_bundle_free(&l->bundle);
    dyn_diags_free(&l->diags);
    dyn_config_free(&l->config);
    free(l->text);
}

/* Fails the test, showing every diagnostic, unless `line` is one of them exactly. */
#define assert_diag(l, line)                                                                                  \
    do {                                                                                                      \
        char needle[1024];                                                                                    \
        snprintf(needle, sizeof needle, "%s\n", line);                                                        \
        if (!strstr((l)->text, needle))                                                                       \
            fail_msg("expected diagnostic:\n  %s\ngot:\n%s", line, (l)->text);                                \
    } while (0)

#define assert_no_diag_containing(l, part)                                                                    \
    do {                                                                                                      \
        if (strstr((l)->text, part))                                                                          \
            fail_msg("unexpected diagnostic containing '%s':\n%s", part, (l)->text);                         \
    } while (0)

/* A minimal valid graph header to build cases on; services follow at 4 spaces. */
#define GRAPH_HEAD                                                                                            \
    "apiVersion: nvidia.com/v1alpha1\n"                                                                       \
    "kind: DynamoGraphDeployment\n"                                                                           \
    "metadata:\n"                                                                                             \
    "  name: g\n"                                                                                             \
    "spec:\n"

#endif
