/* NATS connection against real nats-server instances configured for each auth method. */
#include "testutil.h"
#include "servers.h"
#include "rtenv.h"
#include "dyn/nats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

/* Connects with the given env pairs; returns the status and fills err. */
static dyn_status try_connect(dyn_error *err, long long *elapsed_ms, const char *url, const char *a, const char *b)
{
    char server[160];
    snprintf(server, sizeof server, "NATS_SERVER=%s", url);
    dyn_rt_config cfg;
    dyn_status st = rtenv_config(&cfg, err, server, a, b, (const char *)NULL);
    if (st != DYN_OK)
        return st;
    long long t0 = ts_now_ms();
    dyn_nats *nc = NULL;
    st = dyn_nats_connect(&cfg, &nc, err);
    if (elapsed_ms)
        *elapsed_ms = ts_now_ms() - t0;
    if (st == DYN_OK) {
        /* Prove the connection works: a JetStream-backed round trip already ran; do a flush. */
        assert_int_equal(natsConnection_FlushTimeout(dyn_nats_conn(nc), 2000), NATS_OK);
        assert_true(dyn_nats_max_payload(nc) > 0);
    }
    dyn_nats_close(nc);
    dyn_rt_config_free(&cfg);
    return st;
}

static void expect_auth_error(const char *url, const char *a, const char *b, const char *source)
{
    dyn_error err = {0};
    long long ms = 0;
    dyn_status st = try_connect(&err, &ms, url, a, b);
    assert_int_equal(st, DYN_ERR_AUTH);
    if (!strstr(err.message, source))
        fail_msg("error does not name %s: %s", source, err.message);
    if (ms > 3000)
        fail_msg("auth failure took %lld ms (must be fast, not retried)", ms);
}

static void test_user_password(void **state)
{
    (void)state;
    test_server s;
    assert_int_equal(ts_nats_start(&s, "authorization { user: alice, password: \"s3cret\" }"), 0);
    dyn_error err = {0};
    assert_int_equal(try_connect(&err, NULL, s.url, "NATS_AUTH_USERNAME=alice", "NATS_AUTH_PASSWORD=s3cret"), DYN_OK);
    expect_auth_error(s.url, "NATS_AUTH_USERNAME=alice", "NATS_AUTH_PASSWORD=wrong", "NATS_AUTH_USERNAME/NATS_AUTH_PASSWORD");
    /* Needs auth, none given. */
    expect_auth_error(s.url, NULL, NULL, "no credentials");
    ts_destroy(&s);
}

static void test_token(void **state)
{
    (void)state;
    test_server s;
    assert_int_equal(ts_nats_start(&s, "authorization { token: \"t0ken-xyz\" }"), 0);
    dyn_error err = {0};
    assert_int_equal(try_connect(&err, NULL, s.url, "NATS_AUTH_TOKEN=t0ken-xyz", NULL), DYN_OK);
    expect_auth_error(s.url, "NATS_AUTH_TOKEN=bad", NULL, "NATS_AUTH_TOKEN");
    /* Priority: user+password wins over the token, so a correct token with a user set fails
     * as user/password. */
    dyn_rt_config cfg;
    assert_int_equal(rtenv_config(&cfg, &err, "NATS_AUTH_USERNAME=u", "NATS_AUTH_PASSWORD=p", "NATS_AUTH_TOKEN=t",
                                  "NATS_AUTH_NKEY=x", (const char *)NULL), DYN_OK);
    assert_int_equal(dyn_rt_config_nats_auth(&cfg), DYN_NATS_AUTH_USER_PASSWORD);
    dyn_rt_config_free(&cfg);
    ts_destroy(&s);
}

static void mint(test_server *s)
{
    assert_int_equal(ts_sh(30, "node %s/tests/integration/helpers/mint_creds.mjs %s", test_source_dir(), s->dir), 0);
}

static void test_nkey(void **state)
{
    (void)state;
    test_server tmp;
    assert_int_equal(ts_proc_start(&tmp, (char *const[]){"/bin/true", NULL}, NULL), 0);
    mint(&tmp);
    char *seed = slurp(ts_file(&tmp, "nkey.seed"));
    char *pub = slurp(ts_file(&tmp, "nkey.pub"));
    assert_non_null(seed);
    assert_non_null(pub);
    /* Our derivation matches @nats-io/nkeys. */
    char derived[57];
    dyn_error err = {0};
    assert_int_equal(dyn_nkey_public_from_seed(seed, derived, &err), DYN_OK);
    assert_string_equal(derived, pub);

    char conf[512];
    snprintf(conf, sizeof conf, "authorization { users: [ { nkey: %s } ] }", pub);
    test_server s;
    assert_int_equal(ts_nats_start(&s, conf), 0);
    char env[256];
    snprintf(env, sizeof env, "NATS_AUTH_NKEY=%s", seed);
    assert_int_equal(try_connect(&err, NULL, s.url, env, NULL), DYN_OK);

    /* Another valid seed that the server does not know. */
    test_server tmp2;
    assert_int_equal(ts_proc_start(&tmp2, (char *const[]){"/bin/true", NULL}, NULL), 0);
    mint(&tmp2);
    char *other = slurp(ts_file(&tmp2, "nkey.seed"));
    snprintf(env, sizeof env, "NATS_AUTH_NKEY=%s", other);
    expect_auth_error(s.url, env, NULL, "NATS_AUTH_NKEY");
    /* A malformed seed is a clear config error. */
    assert_int_equal(try_connect(&err, NULL, s.url, "NATS_AUTH_NKEY=SUNOTASEED", NULL), DYN_ERR_INVALID);
    assert_non_null(strstr(err.message, "NATS_AUTH_NKEY"));
    free(seed);
    free(pub);
    free(other);
    ts_destroy(&s);
    ts_destroy(&tmp);
    ts_destroy(&tmp2);
}

static void test_creds_file(void **state)
{
    (void)state;
    test_server tmp;
    assert_int_equal(ts_proc_start(&tmp, (char *const[]){"/bin/true", NULL}, NULL), 0);
    mint(&tmp);
    char *op = slurp(ts_file(&tmp, "operator.jwt"));
    char *apub = slurp(ts_file(&tmp, "account.pub"));
    char *ajwt = slurp(ts_file(&tmp, "account.jwt"));
    char *spub = slurp(ts_file(&tmp, "sys.pub"));
    char *sjwt = slurp(ts_file(&tmp, "sys.jwt"));
    char conf[16384];
    snprintf(conf, sizeof conf, "operator: %s\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: { %s: %s, %s: %s }\n",
             op, spub, apub, ajwt, spub, sjwt);
    free(spub);
    free(sjwt);
    test_server s;
    assert_int_equal(ts_nats_start(&s, conf), 0);
    char env[600];
    snprintf(env, sizeof env, "NATS_AUTH_CREDENTIALS_FILE=%s", ts_file(&tmp, "user.creds"));
    dyn_error err = {0};
    dyn_status st = try_connect(&err, NULL, s.url, env, NULL);
    if (st != DYN_OK)
        fail_msg("creds connect failed: %s", err.message);
    /* Credentials of another operator: rejected fast, naming the source. */
    test_server tmp2;
    assert_int_equal(ts_proc_start(&tmp2, (char *const[]){"/bin/true", NULL}, NULL), 0);
    mint(&tmp2);
    snprintf(env, sizeof env, "NATS_AUTH_CREDENTIALS_FILE=%s", ts_file(&tmp2, "user.creds"));
    expect_auth_error(s.url, env, NULL, "NATS_AUTH_CREDENTIALS_FILE");
    /* Missing file. */
    expect_auth_error(s.url, "NATS_AUTH_CREDENTIALS_FILE=/nonexistent/x.creds", NULL, "NATS_AUTH_CREDENTIALS_FILE");
    free(op);
    free(apub);
    free(ajwt);
    ts_destroy(&s);
    ts_destroy(&tmp);
    ts_destroy(&tmp2);
}

static void test_tls(void **state)
{
    (void)state;
    test_server tmp;
    assert_int_equal(ts_proc_start(&tmp, (char *const[]){"/bin/true", NULL}, NULL), 0);
    const char *d = tmp.dir;
    assert_int_equal(ts_sh(30,
        "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dyn-test-ca -keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out server.pem 2>/dev/null", d), 0);
    char conf[1024];
    snprintf(conf, sizeof conf, "tls { cert_file: \"%s/server.pem\", key_file: \"%s/server.key\" }", d, d);
    test_server s;
    assert_int_equal(ts_nats_start(&s, conf), 0);
    char url[160], ca[400];
    snprintf(url, sizeof url, "tls://localhost:%d", s.port);
    snprintf(ca, sizeof ca, "NATS_TLS_CA=%s/ca.pem", d);
    dyn_error err = {0};
    dyn_status st = try_connect(&err, NULL, url, ca, NULL);
    if (st != DYN_OK)
        fail_msg("tls connect failed: %s", err.message);
    /* Without the CA the server certificate is not trusted. */
    st = try_connect(&err, NULL, url, NULL, NULL);
    assert_int_not_equal(st, DYN_OK);
    ts_destroy(&s);

    /* Mutual TLS: the server verifies a client certificate signed by the same CA. */
    assert_int_equal(ts_sh(30,
        "cd %s && openssl req -newkey rsa:2048 -nodes -subj /CN=dyn-client -keyout client.key -out client.csr 2>/dev/null && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem 2>/dev/null", d), 0);
    snprintf(conf, sizeof conf, "tls { cert_file: \"%s/server.pem\", key_file: \"%s/server.key\", ca_file: \"%s/ca.pem\", verify: true }",
             d, d, d);
    test_server m;
    assert_int_equal(ts_nats_start(&m, conf), 0);
    snprintf(url, sizeof url, "tls://localhost:%d", m.port);
    char server[200], cert[400], key[400];
    snprintf(server, sizeof server, "NATS_SERVER=%s", url);
    snprintf(cert, sizeof cert, "NATS_TLS_CERT=%s/client.pem", d);
    snprintf(key, sizeof key, "NATS_TLS_KEY=%s/client.key", d);
    dyn_rt_config cfg;
    assert_int_equal(rtenv_config(&cfg, &err, server, ca, cert, key, (const char *)NULL), DYN_OK);
    dyn_nats *nc = NULL;
    st = dyn_nats_connect(&cfg, &nc, &err);
    if (st != DYN_OK)
        fail_msg("mutual TLS connect failed: %s", err.message);
    dyn_nats_close(nc);
    dyn_rt_config_free(&cfg);
    /* Without the client certificate the server refuses. */
    assert_int_not_equal(try_connect(&err, NULL, url, ca, NULL), DYN_OK);
    ts_destroy(&m);
    ts_destroy(&tmp);
}

static void test_no_auth_and_errors(void **state)
{
    (void)state;
    test_server s;
    assert_int_equal(ts_nats_start(&s, NULL), 0);
    dyn_error err = {0};
    assert_int_equal(try_connect(&err, NULL, s.url, NULL, NULL), DYN_OK);
    /* Bad scheme in NATS_SERVER: a config error naming the variable. */
    dyn_rt_config cfg;
    assert_int_equal(rtenv_config(&cfg, &err, "NATS_SERVER=http://x:1", (const char *)NULL), DYN_ERR_INVALID);
    assert_non_null(strstr(err.message, "NATS_SERVER"));
    /* Nothing listening: unavailable, fast. */
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", ts_free_port());
    long long ms;
    assert_int_equal(try_connect(&err, &ms, url, NULL, NULL), DYN_ERR_UNAVAILABLE);
    assert_true(ms < 8000);
    ts_destroy(&s);

    /* A server without JetStream: clear error at start. */
    test_server nojs;
    assert_int_equal(ts_nats_start(&nojs, "jetstream: disabled"), 0);
    assert_int_equal(try_connect(&err, NULL, nojs.url, NULL, NULL), DYN_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.message, "JetStream"));
    ts_destroy(&nojs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_auth_and_errors),
        cmocka_unit_test(test_user_password),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_nkey),
        cmocka_unit_test(test_creds_file),
        cmocka_unit_test(test_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
