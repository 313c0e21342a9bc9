/* libFuzzer: the frontend's request-body checks for all three routes, and the aggregation of a
 * worker item. Whatever the input, no crash, no leak; an accepted request has a non-empty
 * model; an error is a 400 whose JSON body parses back. */
#include "frontend/openai.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    for (int k = DYN_OAI_CHAT; k <= DYN_OAI_EMBEDDING; k++) {
        dyn_oai_request r;
        dyn_oai_error e;
        if (dyn_oai_request_parse((dyn_oai_kind)k, body, size, &r, &e) == 0) {
            if (!r.model[0] || (k == DYN_OAI_EMBEDDING && r.stream))
                abort();
        } else {
            if (e.status != 400)
                abort();
            size_t n;
            char *s = dyn_oai_error_json(&e, &n);
            json_t *j = s ? json_loadb(s, n, 0, NULL) : NULL;
            if (!j)
                abort();
            json_decref(j);
            free(s);
        }
    }
    dyn_oai_agg *a = dyn_oai_agg_new(size % 2 ? DYN_OAI_CHAT : DYN_OAI_COMPLETION, "m");
    dyn_oai_error e;
    dyn_oai_agg_add(a, body, size, &e);
    size_t n;
    free(dyn_oai_agg_finish(a, &n));
    dyn_oai_agg_free(a);
    return 0;
}
