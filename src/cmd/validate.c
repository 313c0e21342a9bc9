/* dyn validate: check graph files and report every problem at once, gcc style. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "cmd/commands.h"
#include "cmd/input.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn validate [-f] FILE... [--config FILE] [--namespace NS] [--output text|json]\n"
            "\n"
            "Checks DynamoGraphDeployment / DynamoComponentDeployment files (and that any other\n"
            "Kubernetes object in them has apiVersion, kind and metadata.name). Every problem is\n"
            "printed as FILE:LINE:COL: error|warning: FIELD.PATH: why. '-' reads stdin.\n"
            "\n"
            "  -f, --filename FILE   a graph file (may repeat; also accepted without -f)\n"
            "  -c, --config FILE     operator settings (gateway, ingress class, discovery, ...)\n"
            "  -n, --namespace NS    namespace for objects that name none (default \"default\")\n"
            "  -o, --output FORMAT   text (default) or json (a list of diagnostics)\n"
            "\n"
            "exit status: 0 valid (warnings allowed), 1 invalid, 2 usage or I/O error\n");
}

int cmd_validate(int argc, char **argv)
{
    static const char *const formats[2] = {"text", "json"};
    dyn_input_opts in = {0};
    const char *output;
    int rc;
    if (!dyn_input_open(&in, argc, argv, "validate", formats, &output, usage, &rc))
        return rc;
    bool json = strcmp(output, "json") == 0;
    if (json) {
        json_t *list = dyn_diags_to_json(&in.diags);
        char *text = json_dumps(list, JSON_INDENT(2));
        puts(text);
        free(text);
        json_decref(list);
    } else {
        dyn_diags_print(&in.diags, stderr);
        if (rc == EXIT_OK)
            fprintf(stderr, "%zu file%s valid (%zu warning%s)\n", in.n_files, in.n_files == 1 ? "" : "s",
                    in.diags.warnings, in.diags.warnings == 1 ? "" : "s");
        else
            fprintf(stderr, "%zu error%s, %zu warning%s\n", in.diags.errors, in.diags.errors == 1 ? "" : "s",
                    in.diags.warnings, in.diags.warnings == 1 ? "" : "s");
    }
    dyn_input_free(&in);
    return rc;
}
