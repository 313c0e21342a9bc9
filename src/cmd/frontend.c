/* dyn frontend: the OpenAI-compatible HTTP server (see src/frontend/frontend.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "frontend/frontend.h"
#include "dyn/log.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn frontend [options]\n"
            "\n"
            "OpenAI-compatible HTTP server: /v1/models, /v1/chat/completions, /v1/completions,\n"
            "/v1/embeddings, /health, /live, /metrics. Models are those the workers of the namespace\n"
            "register in etcd; each request goes to one of the model's workers.\n"
            "\n"
            "  --http-port PORT          listen port (default: DYN_HTTP_PORT, else 8000)\n"
            "  --http-host ADDR          listen address (default all IPv4; alias --host)\n"
            "  --namespace NS            serve the models of this Dynamo namespace (default: DYN_NAMESPACE, else dynamo)\n"
            "  --max-body-bytes N        request body limit, 413 above (default 33554432 = 32 MiB)\n"
            "  --request-timeout-s N     longest wait for a worker's next item (default 300)\n"
            "  --max-connections N       concurrent HTTP connections (default 1024)\n"
            "\n"
            "Accepted and ignored (from the original frontend): --router-mode, --kv-cache-block-size.\n"
            "Bus settings come from the environment (NATS_SERVER, ETCD_ENDPOINTS, ...).\n");
}

static int count(const char *flag, const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        fprintf(stderr, "dyn frontend: %s %s: expected an integer in [%lld, %lld]\n", flag, v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

int cmd_frontend(int argc, char **argv)
{
    enum { O_PORT = 1000, O_HOST, O_NS, O_BODY, O_TIMEOUT, O_CONN, O_IGNORED };
    static const struct option opts[] = {
        {"http-port", required_argument, NULL, O_PORT},
        {"http-host", required_argument, NULL, O_HOST},
        {"host", required_argument, NULL, O_HOST},
        {"namespace", required_argument, NULL, O_NS},
        {"max-body-bytes", required_argument, NULL, O_BODY},
        {"request-timeout-s", required_argument, NULL, O_TIMEOUT},
        {"max-connections", required_argument, NULL, O_CONN},
        {"router-mode", required_argument, NULL, O_IGNORED},
        {"kv-cache-block-size", required_argument, NULL, O_IGNORED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dyn_frontend_config cfg;
    dyn_frontend_config_default(&cfg);
    long long n;
    const char *env_port = getenv("DYN_HTTP_PORT");
    if (env_port && *env_port) {
        if (count("DYN_HTTP_PORT", env_port, 0, 65535, &n))
            return EXIT_USAGE;
        cfg.port = (int)n;
    }
    int c, idx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        switch (c) {
        case O_PORT: if (count("--http-port", optarg, 0, 65535, &n)) return EXIT_USAGE; cfg.port = (int)n; break;
        case O_HOST: cfg.host = optarg; break;
        case O_NS: cfg.ns = optarg; break;
        case O_BODY: if (count("--max-body-bytes", optarg, 1, 1ll << 32, &n)) return EXIT_USAGE; cfg.max_body = (size_t)n; break;
        case O_TIMEOUT: if (count("--request-timeout-s", optarg, 1, 86400, &n)) return EXIT_USAGE; cfg.request_timeout_ms = (int)n * 1000; break;
        case O_CONN: if (count("--max-connections", optarg, 1, 65536, &n)) return EXIT_USAGE; cfg.max_connections = (int)n; break;
        case O_IGNORED: DYN_INFO("frontend", "--%s %s: accepted for compatibility, ignored", opts[idx].name, optarg); break;
        case 'h': usage(stdout); return EXIT_OK;
        default:
            fprintf(stderr, "dyn frontend: unknown or incomplete option '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dyn frontend: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    dyn_error err = {0};
    dyn_runtime *rt = NULL;
    if (dyn_runtime_from_env(&rt, &err) != DYN_OK) {
        fprintf(stderr, "dyn frontend: %s\n", err.message);
        return EXIT_INVALID;
    }
    dyn_frontend *fe = NULL;
    if (dyn_frontend_start(rt, &cfg, &fe, &err) != DYN_OK) {
        fprintf(stderr, "dyn frontend: %s\n", err.message);
        dyn_runtime_destroy(rt);
        return EXIT_INVALID;
    }
    while (!g_stop)
        usleep(100000);
    DYN_INFO("frontend", "stopping");
    dyn_frontend_stop(fe);
    dyn_runtime_destroy(rt);
    return EXIT_OK;
}
