/* libFuzzer target for the YAML-to-graph path: parse, check, decode, validate, plan, render,
 * emit. Anything that renders must emit YAML our own reader accepts back unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "base/yaml_emit.h"
#include "render/render.h"

static void check_round_trip(const json_t *objects)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dyn_render_write_yaml(f, objects);
    fclose(f);
    dyn_yaml_stream s;
    dyn_diags d;
    dyn_diags_init(&d);
    if (!dyn_yaml_parse(&s, "emitted", text, len, &d) || s.n_docs != json_array_size(objects))
        abort(); /* the emitter wrote something the reader cannot take back */
    for (size_t i = 0; i < s.n_docs; i++) {
        json_t *back = dyn_node_to_json(s.docs[i]);
        if (!json_equal(back, json_array_get(objects, i)))
            abort();
        json_decref(back);
    }
    dyn_yaml_stream_free(&s);
    dyn_diags_free(&d);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dyn_config cfg;
    dyn_config_defaults(&cfg);
    dyn_diags d;
    dyn_diags_init(&d);
    dyn_bundle b;
    dyn_load_opts opts = {.config = &cfg};
    if (dyn_bundle_load(&b, "fuzz.yaml", (const char *)data, size, &opts, &d)) {
        json_t *objects = dyn_render_bundles(&b, 1, &opts, &d);
        check_round_trip(objects);
        json_decref(objects);
    }
    /* diagnostics must always be printable */
    FILE *null = fopen("/dev/null", "w");
    dyn_diags_sort(&d);
    dyn_diags_print(&d, null);
    json_decref(dyn_diags_to_json(&d));
    fclose(null);
    dyn_bundle_free(&b);
    dyn_diags_free(&d);
    dyn_config_free(&cfg);
    return 0;
}
