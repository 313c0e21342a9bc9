/* A worker process for integration tests: serves {component}/{endpoint} (argv[1], argv[2])
 * with the test handler, configured from the environment, until SIGTERM/SIGINT.
 *
 * Request JSON: {"n": items (default 1), "delay_ms": pause between items, "echo": value
 * (sent back as the single item), "fail": "message" (error before any item)}.
 * Items are {"i": k, "worker": "<instance hex>"}. Prints "READY <hex>" when serving. */
#include "dyn/rpc.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void on_sig(int s) { (void)s; g_stop = 1; }

static dyn_status handler(dyn_request *req, const char *body, size_t len, void *ud)
{
    dyn_runtime *rt = ud;
    json_error_t jerr;
    json_t *j = json_loadb(body, len, 0, &jerr);
    if (!j)
        return DYN_ERR_INVALID;
    json_t *fail = json_object_get(j, "fail");
    if (json_is_string(fail)) {
        dyn_request_set_error(req, json_string_value(fail));
        json_decref(j);
        return DYN_ERR_INTERNAL;
    }
    json_t *echo = json_object_get(j, "echo");
    if (echo) {
        char *s = json_dumps(echo, JSON_COMPACT | JSON_ENCODE_ANY);
        dyn_request_send_last(req, s, strlen(s));   /* item, final and sentinel in one write */
        free(s);
        json_decref(j);
        return DYN_OK;
    }
    long n = json_is_integer(json_object_get(j, "n")) ? (long)json_integer_value(json_object_get(j, "n")) : 1;
    long delay = json_is_integer(json_object_get(j, "delay_ms")) ? (long)json_integer_value(json_object_get(j, "delay_ms")) : 0;
    json_decref(j);
    for (long i = 0; i < n && !dyn_request_stopped(req); i++) {
        char item[128];
        int l = snprintf(item, sizeof item, "{\"i\":%ld,\"worker\":\"%llx\"}", i,
                         (unsigned long long)dyn_runtime_instance_id(rt));
        if (dyn_request_send(req, item, (size_t)l) != DYN_OK)
            break;
        if (delay)
            usleep((useconds_t)delay * 1000);
    }
    return DYN_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rt_worker COMPONENT ENDPOINT\n");
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    dyn_error err = {0};
    dyn_runtime *rt = NULL;
    if (dyn_runtime_from_env(&rt, &err) != DYN_OK) {
        fprintf(stderr, "rt_worker: %s\n", err.message);
        return 1;
    }
    dyn_endpoint *ep = NULL;
    if (dyn_endpoint_serve(rt, argv[1], argv[2], handler, rt, &ep, &err) != DYN_OK) {
        fprintf(stderr, "rt_worker: %s\n", err.message);
        dyn_runtime_destroy(rt);
        return 1;
    }
    printf("READY %llx\n", (unsigned long long)dyn_runtime_instance_id(rt));
    fflush(stdout);
    while (!g_stop)
        usleep(50000);
    dyn_endpoint_stop(ep);
    dyn_runtime_destroy(rt);
    return 0;
}
