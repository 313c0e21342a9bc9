/* Input loading shared by dyn validate and dyn render: see input.h. */
#include "cmd/input.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "cmd/commands.h"
#include "render/render.h"

void dyn_input_add_file(dyn_input_opts *in, const char *path)
{
    const char **files = realloc(in->files, (in->n_files + 1) * sizeof *files);
    if (!files)
        abort();
    in->files = files;
    in->files[in->n_files++] = path;
}

int dyn_input_parse(dyn_input_opts *in, int argc, char **argv, const char *cmd, const char *const formats[2],
                    const char **output, void (*usage)(FILE *))
{
    static const struct option long_opts[] = {
        {"filename", required_argument, NULL, 'f'}, {"config", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *output = formats[0];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:n:o:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': dyn_input_add_file(in, optarg); break;
        case 'c': in->config_path = optarg; break;
        case 'n': in->namespace_ = optarg; break;
        case 'o': *output = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++)
        dyn_input_add_file(in, argv[i]);
    if (strcmp(*output, formats[0]) != 0 && strcmp(*output, formats[1]) != 0) {
        fprintf(stderr, "dyn %s: --output must be %s or %s\n", cmd, formats[0], formats[1]);
        return EXIT_USAGE;
    }
    if (in->n_files == 0) {
        fprintf(stderr, "dyn %s: no input file (give -f FILE, or - for stdin)\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

bool dyn_input_open(dyn_input_opts *in, int argc, char **argv, const char *cmd, const char *const formats[2],
                    const char **output, void (*usage)(FILE *), int *rc)
{
    int parsed = dyn_input_parse(in, argc, argv, cmd, formats, output, usage);
    *rc = parsed >= 0 ? parsed : dyn_input_load(in);
    if (parsed >= 0 || *rc == EXIT_USAGE) {
        dyn_input_free(in);
        return false;
    }
    return true;
}

int dyn_input_load(dyn_input_opts *in)
{
    const char *why;
    if (in->namespace_ && !dyn_dns1123_label(in->namespace_, &why)) {
        fprintf(stderr, "dyn: --namespace \"%s\" is not a valid namespace: %s\n", in->namespace_, why);
        return EXIT_USAGE;
    }
    dyn_diags_init(&in->diags);
    dyn_config_defaults(&in->config);
    if (in->config_path && !dyn_config_load(&in->config, in->config_path, &in->diags) && in->diags.errors == 0) {
        fprintf(stderr, "dyn: cannot read config %s: %s\n", in->config_path, strerror(errno));
        return EXIT_USAGE;
    }
    size_t stdin_count = 0;
    for (size_t i = 0; i < in->n_files; i++)
        stdin_count += strcmp(in->files[i], "-") == 0;
    if (stdin_count > 1) {
        fprintf(stderr, "dyn: '-' (stdin) is given %zu times; it can be read once\n", stdin_count);
        return EXIT_USAGE;
    }
    in->bundles = calloc(in->n_files, sizeof *in->bundles);
    if (!in->bundles)
        abort();
    dyn_load_opts opts = {.config = &in->config, .namespace_ = in->namespace_};
    for (size_t i = 0; i < in->n_files; i++) {
        size_t len;
        char *text = dyn_read_file(in->files[i], &len);
        if (!text) {
            fprintf(stderr, "dyn: cannot read %s: %s\n", in->files[i], strerror(errno));
            return EXIT_USAGE;
        }
        dyn_bundle_load(&in->bundles[in->n_bundles++], in->files[i], text, len, &opts, &in->diags);
        free(text);
    }
    if (in->diags.errors == 0) {
        /* names must be unique across every document given, as on the API server */
        in->objects = dyn_render_bundles(in->bundles, in->n_bundles, &opts, &in->diags);
    }
    dyn_diags_sort(&in->diags);
    return in->diags.errors ? EXIT_INVALID : EXIT_OK;
}

void dyn_input_free(dyn_input_opts *in)
{
    json_decref(in->objects);
    for (size_t i = 0; i < in->n_bundles; i++)
        dyn_bundle_free(&in->bundles[i]);
    free(in->bundles);
    free(in->files);
    if (in->config.nats_address)
        dyn_config_free(&in->config);
    dyn_diags_free(&in->diags);
}
