/* dyn render: graph files -> the Kubernetes objects an operator applies, in apply order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/input.h"
#include "render/render.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn render -f FILE [-f FILE...] [--config FILE] [-o yaml|json] [--namespace NS]\n"
            "\n"
            "Renders DynamoGraphDeployments into DynamoComponentDeployments, Deployments or\n"
            "LeaderWorkerSets, Services, Ingresses or VirtualServices, PVCs and RBAC, in apply order.\n"
            "Other Kubernetes objects in the files pass through unchanged. On invalid input it prints\n"
            "the diagnostics of 'dyn validate' and nothing on stdout.\n"
            "\n"
            "  -f, --filename FILE   a graph file ('-' = stdin; may repeat)\n"
            "  -c, --config FILE     operator settings (YAML: natsAddress, etcdAddress, discoveryBackend,\n"
            "                        modelExpressURL, prometheusEndpoint, ingress: {virtualServiceGateway,\n"
            "                        ingressControllerClassName, ingressControllerTLSSecret, ingressHostSuffix})\n"
            "  -o, --output FORMAT   yaml (default, multi-document) or json (one v1 List)\n"
            "  -n, --namespace NS    namespace for graphs that name none (default \"default\")\n"
            "\n"
            "exit status: 0 rendered (warnings allowed), 1 invalid input, 2 usage or I/O error\n");
}

int cmd_render(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"filename", required_argument, NULL, 'f'}, {"config", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    dyn_input_opts in = {0};
    const char *output = "yaml";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:n:o:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': dyn_input_add_file(&in, optarg); break;
        case 'c': in.config_path = optarg; break;
        case 'n': in.namespace_ = optarg; break;
        case 'o': output = optarg; break;
        case 'h': usage(stdout); dyn_input_free(&in); return EXIT_OK;
        default: usage(stderr); dyn_input_free(&in); return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++)
        dyn_input_add_file(&in, argv[i]);
    bool json = strcmp(output, "json") == 0;
    if (!json && strcmp(output, "yaml") != 0) {
        fprintf(stderr, "dyn render: --output must be yaml or json\n");
        dyn_input_free(&in);
        return EXIT_USAGE;
    }
    if (in.n_files == 0) {
        fprintf(stderr, "dyn render: no input file (give -f FILE, or -f - for stdin)\n");
        usage(stderr);
        dyn_input_free(&in);
        return EXIT_USAGE;
    }
    int rc = dyn_input_load(&in);
    if (rc == EXIT_USAGE) {
        dyn_input_free(&in);
        return rc;
    }
    dyn_diags_print(&in.diags, stderr);
    if (rc == EXIT_OK) {
        dyn_load_opts opts = {.config = &in.config, .namespace_ = in.namespace_};
        json_t *objects = dyn_render_bundles(in.bundles, in.n_bundles, &opts);
        if (json)
            dyn_render_write_json(stdout, objects);
        else
            dyn_render_write_yaml(stdout, objects);
        json_decref(objects);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("dyn render: writing output");
            rc = EXIT_USAGE;
        }
    } else
        fprintf(stderr, "%zu error%s, %zu warning%s: nothing rendered\n", in.diags.errors,
                in.diags.errors == 1 ? "" : "s", in.diags.warnings, in.diags.warnings == 1 ? "" : "s");
    dyn_input_free(&in);
    return rc;
}
