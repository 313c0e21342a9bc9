/* Quantities, Kubernetes names, the YAML emitter's round trip, and JSON merging. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "base/names.h"
#include "base/quantity.h"
#include "base/yaml.h"
#include "base/yaml_emit.h"

static void quantities(void **state)
{
    static const struct { const char *text; bool ok; double value; } cases[] = {
        {"10Gi", true, 10737418240.0}, {"10G", true, 1e10}, {"500m", true, 0.5}, {"2", true, 2},
        {"1.5", true, 1.5},            {".5", true, 0.5},   {"1e3", true, 1000}, {"+1Ki", true, 1024},
        {"-2", true, -2},              {"1E-2", true, 0.01},
        {"10GB", false, 0},            {"", false, 0},      {"Gi", false, 0},    {"1.2.3", false, 0},
        {"1e", false, 0},              {"1e1.5", false, 0}, {"10 Gi", false, 0}, {"0x10", false, 0},
        {".", false, 0},               {"1g", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        const char *why = NULL;
        bool ok = dyn_quantity_parse(cases[i].text, &v, &why);
        if (ok != cases[i].ok)
            fail_msg("quantity \"%s\": want %s", cases[i].text, cases[i].ok ? "valid" : "invalid");
        if (ok)
            assert_true(fabs(v - cases[i].value) <= 1e-6 * fabs(cases[i].value) + 1e-12);
        else
            assert_non_null(why);
    }
}

static void names(void **state)
{
    assert_true(dyn_dns1123_label("qwen-agg-frontend", NULL));
    assert_false(dyn_dns1123_label("Frontend", NULL));
    assert_false(dyn_dns1123_label("-a", NULL));
    assert_false(dyn_dns1123_label("a-", NULL));
    assert_false(dyn_dns1123_label("a_b", NULL));
    assert_false(dyn_dns1123_label("", NULL));
    char long_name[80];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_false(dyn_dns1123_label(long_name, NULL));
    long_name[63] = '\0';
    assert_true(dyn_dns1123_label(long_name, NULL));
    assert_true(dyn_dns1123_subdomain("qwen.apps.example.com", NULL));
    assert_false(dyn_dns1123_subdomain("qwen..com", NULL));
    assert_true(dyn_label_value("", NULL));
    assert_true(dyn_label_value("VllmWorker", NULL));
    assert_true(dyn_label_value("a.b_c-d", NULL));
    assert_false(dyn_label_value("a b", NULL));
    assert_false(dyn_label_value("_a", NULL));
}

/* Emits value as YAML, reads it back with our reader, and compares as JSON. */
static void round_trip(const char *json_text)
{
    json_t *value = json_loads(json_text, JSON_DECODE_ANY, NULL);
    assert_non_null(value);
    char *yaml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&yaml, &len);
    dyn_yaml_emit(f, value);
    fclose(f);
    dyn_yaml_stream s;
    dyn_diags d;
    dyn_diags_init(&d);
    bool ok = dyn_yaml_parse(&s, "emitted", yaml, len, &d);
    if (!ok)
        fail_msg("emitted YAML does not parse:\n%s", yaml);
    json_t *back = dyn_node_to_json(s.docs[0]);
    if (!json_equal(value, back)) {
        char *a = json_dumps(value, JSON_ENCODE_ANY), *b = json_dumps(back, JSON_ENCODE_ANY);
        fail_msg("round trip changed the value\nin:   %s\nyaml:\n%s\nout:  %s", a, yaml, b);
    }
    json_decref(back);
    json_decref(value);
    dyn_yaml_stream_free(&s);
    dyn_diags_free(&d);
    free(yaml);
}

static void emitter_round_trips(void **state)
{
    round_trip("{\"a\": \"plain\", \"b\": \"8000\", \"c\": \"true\", \"d\": \"yes\", \"e\": \"\", \"f\": \"null\"}");
    round_trip("{\"s\": \"- dash\", \"t\": \"--model\", \"u\": \"-1\", \"v\": \"a: b\", \"w\": \"a #b\", \"x\": \"~\"}");
    round_trip("{\"ml\": \"line1\\nline2\\n\", \"ml2\": \"no newline\\nat end\", \"ml3\": \"trailing\\n\\n\"}");
    round_trip("{\"sp\": \" leading\", \"tr\": \"trailing \", \"tab\": \"a\\tb\", \"q\": \"it's \\\"quoted\\\"\"}");
    round_trip("{\"n\": [1, -2, 3.5, true, false, null], \"e\": [], \"o\": {}, \"nested\": [[1, [2]], {\"k\": []}]}");
    round_trip("{\"keys\": {\"nvidia.com/x\": \"1\", \"8080\": \"p\", \"a b\": \"c\", \"\": \"empty key\"}}");
    round_trip("{\"doc\": \"---\", \"end\": \"...\", \"star\": \"*alias\", \"amp\": \"&anchor\", \"pct\": \"%x\"}");
    round_trip("{\"cmd\": \"$(LWS_LEADER_ADDRESS):29500\", \"hex\": \"0x1F\", \"oct\": \"0o17\", \"inf\": \".inf\"}");
    round_trip("[{\"a\": 1, \"b\": [{\"c\": \"d\"}]}, \"x\", [\"y\"]]");
    round_trip("{\"u\": \"h\\u00e9llo \\u2603\", \"ctl\": \"bell\\u0007\"}");
}

static void env_merge_by_name(void **state)
{
    json_t *base = json_loads("[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]", 0, NULL);
    json_t *over = json_loads("[{\"name\":\"B\",\"value\":\"x\"},{\"name\":\"C\",\"value\":\"3\"}]", 0, NULL);
    json_t *under = json_loads("[{\"name\":\"A\",\"value\":\"no\"},{\"name\":\"D\",\"value\":\"4\"}]", 0, NULL);
    dyn_env_merge(base, over, false);
    dyn_env_merge(base, under, true);
    json_t *want = json_loads("[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"x\"},"
                              "{\"name\":\"C\",\"value\":\"3\"},{\"name\":\"D\",\"value\":\"4\"}]",
                              0, NULL);
    assert_true(json_equal(base, want));
    json_decref(base);
    json_decref(over);
    json_decref(under);
    json_decref(want);
}

static void merge_over_keeps_base_for_empty_values(void **state)
{
    json_t *dst = json_loads("{\"a\":{\"x\":1,\"y\":2},\"l\":[1,2],\"s\":\"keep\"}", 0, NULL);
    json_t *src = json_loads("{\"a\":{\"y\":3},\"l\":[9],\"s\":\"\"}", 0, NULL);
    dyn_json_merge_over(dst, src);
    json_t *want = json_loads("{\"a\":{\"x\":1,\"y\":3},\"l\":[9],\"s\":\"keep\"}", 0, NULL);
    assert_true(json_equal(dst, want));
    json_decref(dst);
    json_decref(src);
    json_decref(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantities),
        cmocka_unit_test(names),
        cmocka_unit_test(emitter_round_trips),
        cmocka_unit_test(env_merge_by_name),
        cmocka_unit_test(merge_over_keeps_base_for_empty_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
