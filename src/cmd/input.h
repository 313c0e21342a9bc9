/* Reading and validating the input files of validate/render: shared by both subcommands so
 * they load, check and report in exactly the same way. */
#ifndef DYN_CMD_INPUT_H
#define DYN_CMD_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "api/config.h"
#include "api/validate.h"

typedef struct dyn_input_opts {
    const char **files;
    size_t n_files;
    const char *config_path;
    const char *namespace_;
    dyn_config config;
    dyn_bundle *bundles;       /* one per file */
    size_t n_bundles;
    dyn_diags diags;           /* everything found, sorted */
    json_t *objects;           /* every object the input renders to, in apply order (when valid) */
} dyn_input_opts;

void dyn_input_add_file(dyn_input_opts *in, const char *path);
/* Parses the options validate and render share: -f FILE (or positional files), -c/--config,
 * -n/--namespace, -o/--output (one of formats[0], formats[1]; *output starts as formats[0]),
 * -h. Returns -1 to go on, else the exit code to return (usage already printed). */
int dyn_input_parse(dyn_input_opts *in, int argc, char **argv, const char *cmd, const char *const formats[2],
                    const char **output, void (*usage)(FILE *));
/* Parses the options and loads the files: the prologue of validate and render. Returns true to
 * go on (*rc is EXIT_OK or EXIT_INVALID, diags filled); false when the command is done (help,
 * usage or I/O error): return *rc, the input is already freed. */
bool dyn_input_open(dyn_input_opts *in, int argc, char **argv, const char *cmd, const char *const formats[2],
                    const char **output, void (*usage)(FILE *), int *rc);
/* Loads config and files. Returns EXIT_OK, EXIT_INVALID (diags has errors) or EXIT_USAGE (a file
 * could not be read; the message is already on stderr). */
int dyn_input_load(dyn_input_opts *in);
void dyn_input_free(dyn_input_opts *in);

#endif
