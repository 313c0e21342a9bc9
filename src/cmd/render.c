/* dyn render: graph files -> the Kubernetes objects an operator applies, in apply order. */
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
    static const char *const formats[2] = {"yaml", "json"};
    dyn_input_opts in = {0};
    const char *output;
    int rc;
    if (!dyn_input_open(&in, argc, argv, "render", formats, &output, usage, &rc))
        return rc;
    bool json = strcmp(output, "json") == 0;
    dyn_diags_print(&in.diags, stderr);
    if (rc == EXIT_OK) {
        /* loading rendered them once already, to check names are unique */
        if (json)
            dyn_render_write_json(stdout, in.objects);
        else
            dyn_render_write_yaml(stdout, in.objects);
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
