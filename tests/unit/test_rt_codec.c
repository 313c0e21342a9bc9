/* Runtime codecs: two-part frames, control messages, response bodies, discovery records,
 * names, config from the environment, metrics text. */
#include "testutil.h"
#include "dyn/config.h"
#include "dyn/discovery.h"
#include "dyn/metrics.h"
#include "runtime/rpc/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_frame_roundtrip_and_bytewise_feed(void **state)
{
    (void)state;
    unsigned char msg[24 + 5 + 3];
    dyn_frame_prefix(msg, 5, 3);
    memcpy(msg + 24, "hello", 5);
    memcpy(msg + 29, "abc", 3);
    /* Big-endian lengths, checksum 0. */
    assert_int_equal(msg[7], 5);
    assert_int_equal(msg[15], 3);
    for (int i = 16; i < 24; i++)
        assert_int_equal(msg[i], 0);
    const char *h, *b;
    size_t hl, bl;
    dyn_error err = {0};
    assert_int_equal(dyn_frame_split(msg, sizeof msg, &h, &hl, &b, &bl, &err), DYN_OK);
    assert_int_equal(hl, 5);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(dyn_frame_split(msg, sizeof msg - 1, &h, &hl, &b, &bl, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_frame_split(msg, 10, &h, &hl, &b, &bl, &err), DYN_ERR_INVALID);

    /* Two frames fed one byte at a time. */
    unsigned char two[2 * sizeof msg];
    memcpy(two, msg, sizeof msg);
    memcpy(two + sizeof msg, msg, sizeof msg);
    dyn_frame_reader r;
    dyn_frame_reader_init(&r, 1024);
    int frames = 0;
    for (size_t i = 0; i < sizeof two; i++) {
        dyn_frame f;
        size_t used;
        int rc = dyn_frame_reader_feed(&r, (const char *)two + i, 1, &used, &f, &err);
        assert_int_equal(used, 1);
        if (rc == 1) {
            assert_int_equal(f.hlen, 5);
            assert_int_equal(f.blen, 3);
            assert_memory_equal(f.buf, "helloabc", 8);
            free(f.buf);
            frames++;
        }
    }
    assert_int_equal(frames, 2);
    dyn_frame_reader_free(&r);

    /* Over the limit: a clear error, no allocation of the claimed size. */
    unsigned char huge[24];
    dyn_frame_prefix(huge, 1ull << 62, 1ull << 62);
    dyn_frame_reader_init(&r, 1024);
    dyn_frame f;
    size_t used;
    assert_int_equal(dyn_frame_reader_feed(&r, (const char *)huge, 24, &used, &f, &err), -1);
    assert_non_null(strstr(err.message, "limit"));
    dyn_frame_reader_free(&r);
}

static void test_control_and_response(void **state)
{
    (void)state;
    assert_int_equal(dyn_ctrl_parse("\"stop\"", 6), CTRL_STOP);
    assert_int_equal(dyn_ctrl_parse(" \"kill\"\n", 8), CTRL_KILL);
    assert_int_equal(dyn_ctrl_parse("\"sentinel\"", 10), CTRL_SENTINEL);
    assert_int_equal(dyn_ctrl_parse("stop", 4), CTRL_NONE);
    assert_int_equal(dyn_ctrl_parse("", 0), CTRL_NONE);

    const char *d;
    size_t n;
    int fin;
    char *owned;
    dyn_error err = {0};
    const char *a = "{\"data\":\"tok\",\"complete_final\":false}";
    assert_int_equal(dyn_response_parse(a, strlen(a), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_null(owned);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "\"tok\"", 5);
    const char *b = "{\"complete_final\":false,\"data\":{\"x\":[1,2]}}";
    assert_int_equal(dyn_response_parse(b, strlen(b), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_string_equal(owned, "{\"x\":[1,2]}");
    free(owned);
    const char *c = "{\"complete_final\":true}";
    assert_int_equal(dyn_response_parse(c, strlen(c), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_int_equal(fin, 1);
    assert_null(d);
    /* A string with an escaped quote takes the slow path and stays exact. */
    const char *e = "{\"data\":\"a\\\"b\",\"complete_final\":false}";
    assert_int_equal(dyn_response_parse(e, strlen(e), &d, &n, &fin, &owned, &err), DYN_OK);
    assert_string_equal(owned, "\"a\\\"b\"");
    free(owned);
    assert_int_equal(dyn_response_parse("{}", 2, &d, &n, &fin, &owned, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_response_parse("not json", 8, &d, &n, &fin, &owned, &err), DYN_ERR_INVALID);
}

static void test_instance_record(void **state)
{
    (void)state;
    const char *rec = "{\"type\":\"Endpoint\",\"component\":\"backend\",\"endpoint\":\"generate\",\"namespace\":\"dynamo\","
                      "\"instance_id\":18446744073709551557,\"transport\":{\"nats_tcp\":\"dynamo_backend.generate-ffffffffffffffc5\"}}";
    dyn_instance in;
    dyn_error err = {0};
    assert_int_equal(dyn_instance_parse(rec, strlen(rec), &in, &err), DYN_OK);
    assert_true(in.instance_id == 18446744073709551557ull);   /* not representable as a double */
    assert_string_equal(in.transport, "nats_tcp");
    assert_string_equal(in.address, "dynamo_backend.generate-ffffffffffffffc5");
    char buf[1024];
    size_t n = dyn_instance_format(&in, buf, sizeof buf);
    assert_int_equal(n, strlen(rec));
    assert_string_equal(buf, rec);
    /* Spec example. */
    const char *ex = "{\"type\":\"Endpoint\",\"component\":\"backend\",\"endpoint\":\"generate\",\"namespace\":\"dynamo\","
                     "\"instance_id\":7587888256470958859,\"transport\":{\"nats_tcp\":\"dynamo_backend.generate-694d982aba4f430b\"}}";
    assert_int_equal(dyn_instance_parse(ex, strlen(ex), &in, &err), DYN_OK);
    assert_true(in.instance_id == 0x694d982aba4f430bull);

    static const char *const bad[] = {
        "", "[]", "{", "{\"type\":\"Endpoint\"}", "{\"type\":\"Model\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\",\"instance_id\":1,\"transport\":{\"tcp\":\"x\"}}",
        "{\"type\":\"Endpoint\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\",\"instance_id\":-1,\"transport\":{\"tcp\":\"x\"}}",
        "{\"type\":\"Endpoint\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\",\"instance_id\":1.5,\"transport\":{\"tcp\":\"x\"}}",
        "{\"type\":\"Endpoint\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\",\"instance_id\":99999999999999999999,\"transport\":{\"tcp\":\"x\"}}",
        "{\"type\":\"Endpoint\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\",\"instance_id\":1}",
        "{\"type\":\"Endpoint\"} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.message[0] = '\0';
        assert_int_equal(dyn_instance_parse(bad[i], strlen(bad[i]), &in, &err), DYN_ERR_INVALID);
        assert_true(strlen(err.message) > 0);
    }
    /* Unknown fields are skipped. */
    const char *extra = "{\"x\":[1,{\"y\":null}],\"type\":\"Endpoint\",\"component\":\"a\",\"endpoint\":\"b\",\"namespace\":\"c\","
                        "\"instance_id\":1,\"transport\":{\"tcp\":\"h:1/b\"},\"z\":true}";
    assert_int_equal(dyn_instance_parse(extra, strlen(extra), &in, &err), DYN_OK);

    dyn_instance_key(buf, sizeof buf, "dynamo", "backend", "generate", 0x694d982aba4f430bull);
    assert_string_equal(buf, "v1/instances/dynamo/backend/generate/694d982aba4f430b");
    assert_true(dyn_instance_id_from_key(buf) == 0x694d982aba4f430bull);
    assert_true(dyn_instance_id_from_key("v1/instances/a/b/c/xyz") == 0);
}

static void test_names(void **state)
{
    (void)state;
    char out[64];
    dyn_slugify("Dynamo.Sub_Backend", out, sizeof out);
    assert_string_equal(out, "dynamo_sub_backend");
    dyn_slugify("__x y", out, sizeof out);
    assert_string_equal(out, "x_y");
    assert_true(dyn_name_valid("a-b_c9", 0));
    assert_false(dyn_name_valid("a.b", 0));
    assert_true(dyn_name_valid("a.b", 1));
    assert_false(dyn_name_valid("A", 0));
    assert_false(dyn_name_valid("", 0));
}

static void test_config_env(void **state)
{
    (void)state;
    setenv("NATS_SERVER", "nats://a:4222, tls://b:4223,c:4224", 1);
    setenv("ETCD_ENDPOINTS", "etcd-server:2379", 1);
    setenv("DYN_LEASE_TTL", "7", 1);
    unsetenv("NATS_AUTH_USERNAME");
    setenv("NATS_AUTH_PASSWORD", "only-password", 1);
    setenv("NATS_AUTH_CREDENTIALS_FILE", "/x.creds", 1);
    unsetenv("NATS_AUTH_TOKEN");
    unsetenv("NATS_AUTH_NKEY");
    dyn_rt_config cfg;
    dyn_error err = {0};
    assert_int_equal(dyn_rt_config_from_env(&cfg, &err), DYN_OK);
    assert_int_equal(cfg.lease_ttl_s, 7);
    assert_string_equal(cfg.ns, getenv("DYN_NAMESPACE") ? getenv("DYN_NAMESPACE") : "dynamo");
    /* Only one of user/password: that rule is skipped, the credentials file wins. */
    assert_int_equal(dyn_rt_config_nats_auth(&cfg), DYN_NATS_AUTH_CREDS_FILE);
    char **v;
    int n;
    static const char *const ns[] = {"nats", "tls", NULL};
    assert_int_equal(dyn_url_list_parse(cfg.nats_server, "nats", ns, &v, &n, "NATS_SERVER", &err), DYN_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[1], "tls://b:4223");
    assert_string_equal(v[2], "nats://c:4224");
    dyn_strv_free(v);
    static const char *const hs[] = {"http", "https", NULL};
    assert_int_equal(dyn_url_list_parse(cfg.etcd_endpoints, "http", hs, &v, &n, "ETCD_ENDPOINTS", &err), DYN_OK);
    assert_string_equal(v[0], "http://etcd-server:2379");
    dyn_strv_free(v);
    dyn_rt_config_free(&cfg);
    setenv("DYN_LEASE_TTL", "0", 1);
    assert_int_equal(dyn_rt_config_from_env(&cfg, &err), DYN_ERR_INVALID);
    assert_non_null(strstr(err.message, "DYN_LEASE_TTL"));
    unsetenv("DYN_LEASE_TTL");
    setenv("NATS_SERVER", "ws://a:1", 1);
    assert_int_equal(dyn_rt_config_from_env(&cfg, &err), DYN_ERR_INVALID);
    assert_non_null(strstr(err.message, "NATS_SERVER"));
    unsetenv("NATS_SERVER");
    unsetenv("ETCD_ENDPOINTS");
    unsetenv("NATS_AUTH_PASSWORD");
    unsetenv("NATS_AUTH_CREDENTIALS_FILE");
}

static void test_metrics_text(void **state)
{
    (void)state;
    dyn_metrics *m = dyn_metrics_new();
    dyn_endpoint_metrics *em = dyn_metrics_endpoint(m, "ns", "comp", "ep");
    assert_ptr_equal(em, dyn_metrics_endpoint(m, "ns", "comp", "ep"));
    dyn_endpoint_metrics_begin(em, 100);
    dyn_endpoint_metrics_begin(em, 50);
    dyn_endpoint_metrics_end(em, 0.02, 10, NULL);
    dyn_metrics_gauge_set(m, "dynamo_component_uptime_seconds", "Uptime", NULL, 3.5);
    dyn_metrics_counter_add(m, "my-counter", "A counter", "k=\"v\"", 2);
    dyn_metrics_counter_add(m, "my-counter", "A counter", "k=\"v\"", 3);
    char *t = dyn_metrics_render(m, NULL);
    const char *labels = "dynamo_namespace=\"ns\",dynamo_component=\"comp\",dynamo_endpoint=\"ep\"";
    char line[512];
    snprintf(line, sizeof line, "dynamo_component_requests_total{%s} 2\n", labels);
    assert_non_null(strstr(t, line));
    snprintf(line, sizeof line, "dynamo_component_inflight_requests{%s} 1\n", labels);
    assert_non_null(strstr(t, line));
    snprintf(line, sizeof line, "dynamo_component_request_bytes_total{%s} 150\n", labels);
    assert_non_null(strstr(t, line));
    snprintf(line, sizeof line, "dynamo_component_request_duration_seconds_bucket{%s,le=\"0.025\"} 1\n", labels);
    assert_non_null(strstr(t, line));
    snprintf(line, sizeof line, "dynamo_component_request_duration_seconds_bucket{%s,le=\"0.01\"} 0\n", labels);
    assert_non_null(strstr(t, line));
    assert_non_null(strstr(t, "# TYPE dynamo_component_request_duration_seconds histogram\n"));
    assert_non_null(strstr(t, "dynamo_component_uptime_seconds 3.5\n"));
    assert_non_null(strstr(t, "my_counter{k=\"v\"} 5\n"));
    free(t);
    dyn_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_roundtrip_and_bytewise_feed),
        cmocka_unit_test(test_control_and_response),
        cmocka_unit_test(test_instance_record),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_config_env),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
