/* dyn mocker: a simulated engine serving the worker contract (see src/mocker/mocker.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "http/system.h"
#include "mocker/mocker.h"
#include "dyn/log.h"
#include "dyn/metrics.h"
#include "dyn/nats.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dyn mocker --model-name NAME [options]\n"
            "\n"
            "A simulated inference engine: registers NAME and serves chat, completions and embeddings\n"
            "through the worker contract, with a time to first token, a token rate, a concurrency\n"
            "limit and a bounded queue (requests beyond it are refused at once: 503 at the frontend).\n"
            "\n"
            "  --model-name NAME           model name clients ask for (default: --model-path)\n"
            "  --model-path PATH           the original's model path; only used as the default name\n"
            "  --namespace NS              Dynamo namespace (default: DYN_NAMESPACE, else dynamo)\n"
            "  --component NAME            component to serve (default backend)\n"
            "  --endpoint NAME|dyn://ns.component.endpoint   endpoint to serve (default generate)\n"
            "  --ttft-ms N                 time to first token (default 50)\n"
            "  --itl-ms N                  time between tokens (default 10)\n"
            "  --tokens-per-second N       the same as --itl-ms 1000/N\n"
            "  --speedup-ratio R           divides both delays (default 1; the original's flag)\n"
            "  --max-concurrency N         requests generating at once (default 256; alias --max-num-seqs)\n"
            "  --max-queue N               requests waiting for a slot (default 512; 0 = none)\n"
            "  --max-tokens-default N      tokens when a request sets no max_tokens (default 32)\n"
            "  --embedding-dim N           dimensions when a request sets none (default 1536)\n"
            "  --context-length N          advertised in the model card (default 8192)\n"
            "  --system-port PORT          /health, /live, /metrics (default: DYN_SYSTEM_PORT, else 9090)\n"
            "  --system-host ADDR          address of the system port (default all)\n"
            "\n"
            "Accepted and ignored (from the original mocker): --planner-profile-data, --num-gpu-blocks-override,\n"
            "--block-size, --max-num-batched-tokens, --watermark, --data-parallel-size/--dp-size,\n"
            "--extra-engine-args, --migration-limit, --enable-prefix-caching, --no-enable-prefix-caching,\n"
            "--enable-chunked-prefill, --no-enable-chunked-prefill, --is-prefill-worker, --is-decode-worker.\n"
            "Bus settings come from the environment (NATS_SERVER, ETCD_ENDPOINTS, ...).\n");
}

static int number(const char *flag, const char *v, double lo, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || d < lo) {
        fprintf(stderr, "dyn mocker: %s %s: expected a number >= %g\n", flag, v, lo);
        return -1;
    }
    *out = d;
    return 0;
}

/* dyn://ns.component.endpoint -> its three parts (the original's endpoint form). */
static int parse_dyn_url(const char *v, char *ns, char *comp, char *ep, size_t cap)
{
    const char *p = v + 6;
    const char *d2 = strrchr(p, '.');
    if (!d2)
        return -1;
    const char *d1 = d2 - 1;
    while (d1 > p && *d1 != '.')
        d1--;
    if (d1 <= p || (size_t)(d1 - p) >= cap || (size_t)(d2 - d1 - 1) >= cap || strlen(d2 + 1) >= cap)
        return -1;
    snprintf(ns, cap, "%.*s", (int)(d1 - p), p);
    snprintf(comp, cap, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
    snprintf(ep, cap, "%s", d2 + 1);
    return *ns && *comp && *ep ? 0 : -1;
}

static int healthy(void *ud) { return dyn_mocker_healthy(ud); }
static char *metrics(void *ud, size_t *len)
{
    (void)ud;
    return dyn_metrics_render(dyn_metrics_default(), len);
}

enum { O_IGNORED_ARG = 1000, O_IGNORED_FLAG, O_MODEL_PATH, O_NS, O_COMPONENT, O_ENDPOINT, O_TTFT, O_ITL, O_TPS,
       O_SPEEDUP, O_CONC, O_QUEUE, O_MAXTOK, O_EDIM, O_CTX, O_SPORT, O_SHOST };

int cmd_mocker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model-name", required_argument, NULL, 'm'},
        {"model-path", required_argument, NULL, O_MODEL_PATH},
        {"namespace", required_argument, NULL, O_NS},
        {"component", required_argument, NULL, O_COMPONENT},
        {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"ttft-ms", required_argument, NULL, O_TTFT},
        {"itl-ms", required_argument, NULL, O_ITL},
        {"tokens-per-second", required_argument, NULL, O_TPS},
        {"speedup-ratio", required_argument, NULL, O_SPEEDUP},
        {"max-concurrency", required_argument, NULL, O_CONC},
        {"max-num-seqs", required_argument, NULL, O_CONC},
        {"max-queue", required_argument, NULL, O_QUEUE},
        {"max-tokens-default", required_argument, NULL, O_MAXTOK},
        {"embedding-dim", required_argument, NULL, O_EDIM},
        {"context-length", required_argument, NULL, O_CTX},
        {"system-port", required_argument, NULL, O_SPORT},
        {"system-host", required_argument, NULL, O_SHOST},
        {"planner-profile-data", required_argument, NULL, O_IGNORED_ARG},
        {"num-gpu-blocks-override", required_argument, NULL, O_IGNORED_ARG},
        {"block-size", required_argument, NULL, O_IGNORED_ARG},
        {"max-num-batched-tokens", required_argument, NULL, O_IGNORED_ARG},
        {"watermark", required_argument, NULL, O_IGNORED_ARG},
        {"data-parallel-size", required_argument, NULL, O_IGNORED_ARG},
        {"dp-size", required_argument, NULL, O_IGNORED_ARG},
        {"extra-engine-args", required_argument, NULL, O_IGNORED_ARG},
        {"migration-limit", required_argument, NULL, O_IGNORED_ARG},
        {"enable-prefix-caching", no_argument, NULL, O_IGNORED_FLAG},
        {"no-enable-prefix-caching", no_argument, NULL, O_IGNORED_FLAG},
        {"enable-chunked-prefill", no_argument, NULL, O_IGNORED_FLAG},
        {"no-enable-chunked-prefill", no_argument, NULL, O_IGNORED_FLAG},
        {"is-prefill-worker", no_argument, NULL, O_IGNORED_FLAG},
        {"is-decode-worker", no_argument, NULL, O_IGNORED_FLAG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dyn_mocker_config cfg;
    dyn_mocker_config_default(&cfg);
    const char *model_path = NULL, *system_host = NULL;
    char ns[128] = "", comp[128] = "", ep[128] = "";
    int system_port = dyn_http_system_port_from_env(9090);
    if (system_port < 0) {
        fprintf(stderr, "dyn mocker: DYN_SYSTEM_PORT=%s is not a port number\n", getenv("DYN_SYSTEM_PORT"));
        return EXIT_USAGE;
    }
    int c, idx;
    double d;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:h", opts, &idx)) != -1) {
        const char *name = c == '?' || c == ':' ? NULL : opts[idx].name;
        switch (c) {
        case 'm': cfg.model_name = optarg; break;
        case O_MODEL_PATH: model_path = optarg; break;
        case O_NS: snprintf(ns, sizeof ns, "%s", optarg); break;
        case O_COMPONENT: snprintf(comp, sizeof comp, "%s", optarg); break;
        case O_ENDPOINT:
            if (strncmp(optarg, "dyn://", 6) == 0) {
                if (parse_dyn_url(optarg, ns, comp, ep, sizeof ns) != 0) {
                    fprintf(stderr, "dyn mocker: --endpoint %s: expected dyn://namespace.component.endpoint\n", optarg);
                    return EXIT_USAGE;
                }
            } else {
                snprintf(ep, sizeof ep, "%s", optarg);
            }
            break;
        case O_TTFT: if (number("--ttft-ms", optarg, 0, &cfg.ttft_ms)) return EXIT_USAGE; break;
        case O_ITL: if (number("--itl-ms", optarg, 0, &cfg.itl_ms)) return EXIT_USAGE; break;
        case O_TPS:
            if (number("--tokens-per-second", optarg, 1e-9, &d)) return EXIT_USAGE;
            cfg.itl_ms = 1000.0 / d;
            break;
        case O_SPEEDUP: if (number("--speedup-ratio", optarg, 1e-9, &cfg.speedup)) return EXIT_USAGE; break;
        case O_CONC: if (number(name, optarg, 1, &d)) return EXIT_USAGE; cfg.max_concurrency = (int)d; break;
        case O_QUEUE: if (number("--max-queue", optarg, 0, &d)) return EXIT_USAGE; cfg.max_queue = (int)d; break;
        case O_MAXTOK: if (number("--max-tokens-default", optarg, 0, &d)) return EXIT_USAGE; cfg.max_tokens_default = (int)d; break;
        case O_EDIM: if (number("--embedding-dim", optarg, 1, &d)) return EXIT_USAGE; cfg.embedding_dim_default = (int)d; break;
        case O_CTX: if (number("--context-length", optarg, 1, &d)) return EXIT_USAGE; cfg.context_length = (int)d; break;
        case O_SPORT:
            if (number("--system-port", optarg, 0, &d) || d > 65535) return EXIT_USAGE;
            system_port = (int)d;
            break;
        case O_SHOST: system_host = optarg; break;
        case O_IGNORED_ARG: DYN_INFO("mocker", "--%s %s: accepted for compatibility, ignored", name, optarg); break;
        case O_IGNORED_FLAG: DYN_INFO("mocker", "--%s: accepted for compatibility, ignored", name); break;
        case 'h': usage(stdout); return EXIT_OK;
        default:
            fprintf(stderr, "dyn mocker: unknown or incomplete option '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dyn mocker: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!cfg.model_name)
        cfg.model_name = model_path;
    if (!cfg.model_name) {
        fprintf(stderr, "dyn mocker: --model-name (or --model-path) is required\n\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (comp[0])
        cfg.component = comp;
    if (ep[0])
        cfg.endpoint = ep;
    if (ns[0])
        setenv("DYN_NAMESPACE", ns, 1);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    dyn_error err = {0};
    dyn_runtime *rt = NULL;
    if (dyn_runtime_from_env(&rt, &err) != DYN_OK) {
        fprintf(stderr, "dyn mocker: %s\n", err.message);
        return EXIT_INVALID;
    }
    dyn_mocker *m = NULL;
    dyn_http_system *sys = NULL;
    int rc = EXIT_OK;
    if (dyn_mocker_start(rt, &cfg, &m, &err) != DYN_OK ||
        dyn_http_system_start(system_host, system_port, healthy, metrics, m, &sys, &err) != DYN_OK) {
        fprintf(stderr, "dyn mocker: %s\n", err.message);
        rc = EXIT_INVALID;
    } else {
        DYN_INFO("mocker", "ready: model %s, instance %llx, system port %d", cfg.model_name,
                 (unsigned long long)dyn_runtime_instance_id(rt), dyn_http_system_port(sys));
        while (!g_stop)
            usleep(100000);
        DYN_INFO("mocker", "stopping");
    }
    dyn_http_system_stop(sys);
    dyn_mocker_stop(m);
    dyn_runtime_destroy(rt);
    return rc;
}
