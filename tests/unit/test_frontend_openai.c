/* OpenAI request checks, error bodies, SSE framing, chunk aggregation, the mocker's content
 * helpers, and libdyn's object fast path for streamed items. */
#include "testutil.h"
#include "frontend/openai.h"
#include "http/buf.h"
#include "mocker/mocker.h"
#include "runtime/rpc/frame.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(dyn_oai_kind k, const char *body, dyn_oai_request *r, dyn_oai_error *e)
{
    return dyn_oai_request_parse(k, body, strlen(body), r, e);
}

static void test_request_ok(void **state)
{
    (void)state;
    dyn_oai_request r;
    dyn_oai_error e;
    assert_int_equal(parse(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", &r, &e), 0);
    assert_string_equal(r.model, "m");
    assert_int_equal(r.stream, 1);
    assert_int_equal(parse(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":null}],\"stream\":null}", &r, &e), 0);
    assert_int_equal(r.stream, 0);
    assert_int_equal(parse(DYN_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":[[1,2],[3]],\"max_tokens\":0}", &r, &e), 0);
    assert_int_equal(parse(DYN_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"a\",7]}", &r, &e), 0);
    assert_int_equal(parse(DYN_OAI_EMBEDDING, "{\"model\":\"m\",\"input\":\"x\",\"dimensions\":3,\"encoding_format\":\"base64\",\"stream\":true}", &r, &e), 0);
    assert_int_equal(r.stream, 0);        /* embeddings never stream */
    assert_int_equal(r.kind, DYN_OAI_EMBEDDING);
}

static void expect_400(dyn_oai_kind k, const char *body, const char *param, const char *fragment)
{
    dyn_oai_request r;
    dyn_oai_error e;
    assert_int_equal(parse(k, body, &r, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "invalid_request_error");
    assert_string_equal(e.param, param);
    if (!strstr(e.message, fragment))
        fail_msg("\"%s\" lacks \"%s\"", e.message, fragment);
}

static void test_request_errors(void **state)
{
    (void)state;
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\n\"messages\":[}", "", "line 2, column 13 (position 27)");
    expect_400(DYN_OAI_CHAT, "", "", "invalid JSON at line 1");
    expect_400(DYN_OAI_CHAT, "[1]", "", "must be a JSON object");
    expect_400(DYN_OAI_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "model", "'model' is required");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"\",\"messages\":[{\"role\":\"user\"}]}", "model", "non-empty");
    expect_400(DYN_OAI_CHAT, "{\"model\":7,\"messages\":[{\"role\":\"user\"}]}", "model", "string");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"stream\":\"yes\"}", "stream", "boolean");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\"}", "messages", "'messages' is required");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[]}", "messages", "non-empty");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[3]}", "messages", "messages[0]");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages", "role");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\",\"content\":5}]}", "messages", "content");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"max_tokens\":-2}", "max_tokens", "non-negative");
    expect_400(DYN_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"n\":0}", "n", "positive");
    expect_400(DYN_OAI_COMPLETION, "{\"model\":\"m\"}", "prompt", "required");
    expect_400(DYN_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":{}}", "prompt", "string or a non-empty array");
    expect_400(DYN_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":[[1,\"a\"]]}", "prompt", "prompt[0]");
    expect_400(DYN_OAI_EMBEDDING, "{\"model\":\"m\",\"input\":[]}", "input", "non-empty");
    expect_400(DYN_OAI_EMBEDDING, "{\"model\":\"m\",\"input\":\"x\",\"dimensions\":0}", "dimensions", "positive");
    expect_400(DYN_OAI_EMBEDDING, "{\"model\":\"m\",\"input\":\"x\",\"encoding_format\":\"hex\"}", "encoding_format", "base64");
    char longname[400] = "{\"model\":\"";
    memset(longname + 10, 'a', 300);
    strcpy(longname + 310, "\",\"input\":\"x\"}");
    expect_400(DYN_OAI_EMBEDDING, longname, "model", "longer than");
}

static void test_error_json(void **state)
{
    (void)state;
    dyn_oai_error e;
    dyn_oai_fail(&e, 404, "not_found_error", "model", "model_not_found", "The model '%s' does not exist", "a\"b");
    size_t n;
    char *s = dyn_oai_error_json(&e, &n);
    assert_int_equal(n, strlen(s));
    json_t *j = json_loads(s, 0, NULL);
    json_t *o = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(o, "message")), "The model 'a\"b' does not exist");
    assert_string_equal(json_string_value(json_object_get(o, "param")), "model");
    assert_string_equal(json_string_value(json_object_get(o, "code")), "model_not_found");
    json_decref(j);
    free(s);
    dyn_oai_fail(&e, 400, "invalid_request_error", NULL, NULL, "x");
    s = dyn_oai_error_json(&e, &n);
    assert_non_null(strstr(s, "\"param\":null,\"code\":null"));
    free(s);
}

static void test_sse(void **state)
{
    (void)state;
    dyn_buf b = {0};
    dyn_sse_data(&b, "{\"a\":1}", 7);
    dyn_sse_done(&b);
    assert_string_equal(b.data, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
    dyn_buf_free(&b);
    dyn_buf_json_str(&b, "q\"\\\n\x01");
    assert_string_equal(b.data, "\"q\\\"\\\\\\n\\u0001\"");
    dyn_buf_free(&b);
    /* Valid UTF-8 passes; broken bytes become U+FFFD (and a cut sequence at the end too). */
    dyn_buf_json_str(&b, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff\xc0\xaf\xed\xa0\x80|\xe2\x82");
    assert_string_equal(b.data, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
    dyn_buf_free(&b);
}

/* Found by fuzz_openai_request: invalid UTF-8 in the body reached the error message, and the
 * error body was not valid JSON. */
static void test_error_body_is_utf8(void **state)
{
    (void)state;
    const char body[] = "\"\\\xc6\x91\xa3\x87o";
    dyn_oai_request r;
    dyn_oai_error e;
    assert_int_equal(dyn_oai_request_parse(DYN_OAI_CHAT, body, sizeof body - 1, &r, &e), -1);
    size_t n;
    char *s = dyn_oai_error_json(&e, &n);
    json_t *j = json_loadb(s, n, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    free(s);
}

static void test_aggregate_chat(void **state)
{
    (void)state;
    dyn_oai_agg *a = dyn_oai_agg_new(DYN_OAI_CHAT, "m");
    dyn_oai_error e;
    const char *c1 = "{\"id\":\"x1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}";
    const char *c2 = "{\"id\":\"x1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}";
    assert_int_equal(dyn_oai_agg_add(a, c1, strlen(c1), &e), 0);
    assert_int_equal(dyn_oai_agg_add(a, c2, strlen(c2), &e), 0);
    assert_int_equal(dyn_oai_agg_tokens(a), 2);
    size_t n;
    char *s = dyn_oai_agg_finish(a, &n);
    json_t *j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "chat.completion");
    assert_string_equal(json_string_value(json_object_get(j, "id")), "x1");
    json_t *c = json_array_get(json_object_get(j, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "message"), "content")), "Hello");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "message"), "role")), "assistant");
    assert_string_equal(json_string_value(json_object_get(c, "finish_reason")), "stop");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "usage"), "total_tokens")), 3);
    json_decref(j);
    free(s);
    /* Wrong object kind and worker errors are 502. */
    const char *bad = "{\"object\":\"text_completion\",\"choices\":[]}";
    assert_int_equal(dyn_oai_agg_add(a, bad, strlen(bad), &e), -1);
    assert_int_equal(e.status, 502);
    assert_int_equal(dyn_oai_agg_add(a, "nope", 4, &e), -1);
    const char *err = "{\"error\":{\"message\":\"boom\"}}";
    assert_int_equal(dyn_oai_agg_add(a, err, strlen(err), &e), -1);
    assert_non_null(strstr(e.message, "boom"));
    dyn_oai_agg_free(a);
}

static void test_aggregate_completion(void **state)
{
    (void)state;
    dyn_oai_agg *a = dyn_oai_agg_new(DYN_OAI_COMPLETION, "m");
    dyn_oai_error e;
    const char *c1 = "{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":1,\"text\":\"b\"},{\"index\":0,\"text\":\"a\"}]}";
    const char *c2 = "{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"z\",\"finish_reason\":\"length\"}]}";
    assert_int_equal(dyn_oai_agg_add(a, c1, strlen(c1), &e), 0);
    assert_int_equal(dyn_oai_agg_add(a, c2, strlen(c2), &e), 0);
    size_t n;
    char *s = dyn_oai_agg_finish(a, &n);
    json_t *j = json_loads(s, 0, NULL);
    json_t *ch = json_object_get(j, "choices");
    assert_int_equal(json_array_size(ch), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 0), "text")), "az");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 1), "text")), "b");
    assert_true(json_is_null(json_object_get(json_array_get(ch, 1), "finish_reason")));
    json_decref(j);
    free(s);
    dyn_oai_agg_free(a);
}

static void test_mocker_content(void **state)
{
    (void)state;
    dyn_buf b = {0};
    float v[2] = {1.0f, -2.0f};        /* 0000803f 000000c0 */
    dyn_mocker_base64_floats(&b, v, 2);
    assert_string_equal(b.data, "AACAPwAAAMA=");
    b.len = 0;
    dyn_mocker_base64_floats(&b, v, 1);
    assert_string_equal(b.data, "AACAPw==");
    dyn_buf_free(&b);
    float e[100];
    dyn_mocker_embedding(42, e, 100);
    double sq = 0;
    for (int i = 0; i < 100; i++)
        sq += (double)e[i] * e[i];
    assert_true(fabs(sq - 1) < 1e-5);
    float e2[100];
    dyn_mocker_embedding(42, e2, 100);
    assert_memory_equal(e, e2, sizeof e);
    int sp;
    const char *t0 = dyn_mocker_token(7, 0, &sp);
    assert_int_equal(sp, 0);
    assert_string_equal(dyn_mocker_token(7, 0, &sp), t0);
    dyn_mocker_token(7, 1, &sp);
    assert_int_equal(sp, 1);
}

static void test_frame_object_fast_path(void **state)
{
    (void)state;
    const char *d;
    size_t n;
    int fin;
    char *owned;
    dyn_error err = {0};
    const char *a = "{\"data\":{\"x\":[1,\"}\"]},\"complete_final\":false}";
    assert_int_equal(dyn_response_parse(a, strlen(a), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_null(owned);               /* passed through, not re-serialised */
    assert_int_equal(n, strlen("{\"x\":[1,\"}\"]}"));
    assert_memory_equal(d, "{\"x\":[1,\"}\"]}", n);
    assert_int_equal(fin, 0);
    /* Two values glued together must not pass as one item: the slow path sees complete_final. */
    const char *b = "{\"data\":{\"x\":1},\"complete_final\":true,\"y\":{\"z\":2},\"complete_final\":false}";
    assert_int_equal(dyn_response_parse(b, strlen(b), &d, &n, &fin, &owned, &err), DYN_OK);
    free(owned);
    const char *c = "{\"data\":{\"x\":\"a\\\"}\"},\"complete_final\":false}";
    assert_int_equal(dyn_response_parse(c, strlen(c), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_null(owned);
    assert_memory_equal(d, "{\"x\":\"a\\\"}\"}", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_ok),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_error_body_is_utf8),
        cmocka_unit_test(test_aggregate_chat),
        cmocka_unit_test(test_aggregate_completion),
        cmocka_unit_test(test_mocker_content),
        cmocka_unit_test(test_frame_object_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
