/* Multinode rewriting for LeaderWorkerSet pods (spec/operator.md §6.3, LWS column of §5.11).
 *
 * LWS injects LWS_LEADER_ADDRESS and LWS_WORKER_INDEX (0 on the leader) into every pod;
 * Kubernetes expands $(VAR) in command and args, so most flags need no shell. Where arithmetic or
 * a command chain is needed the command becomes `/bin/sh -c` with every token shell-quoted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "plan/plan.h"

#define LEADER "$(LWS_LEADER_ADDRESS)"
#define RANK "$(LWS_WORKER_INDEX)"
#define MPI_SECRET "mpi-run-ssh-secret"
#define SSH_PORT 2222

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *text)
{
    size_t n = strlen(text);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s)
            abort();
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

/* Appends a token, single-quoted when the shell would otherwise interpret it. */
static void sb_quote(sbuf *b, const char *token)
{
    bool plain = token[0] != '\0';
    for (const char *p = token; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%", *p) != NULL;
    if (b->len)
        sb_add(b, " ");
    if (plain) {
        sb_add(b, token);
        return;
    }
    sb_add(b, "'");
    for (const char *p = token; *p; p++) {
        char one[2] = {*p, 0};
        sb_add(b, *p == '\'' ? "'\\''" : one);
    }
    sb_add(b, "'");
}

static void sb_quote_list(sbuf *b, const json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_is_string(v))
            sb_quote(b, json_string_value(v));
    }
}

static bool is_python(const char *cmd)
{
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    if (strncmp(base, "python", 6) != 0)
        return false;
    for (const char *p = base + 6; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    return true;
}

/* Adds flags to the framework's command line: appended to args when the command is Python,
 * else inserted after the python invocation inside the first shell argument that runs it. */
static void inject_flags(json_t *ctr, const char *const *flags, size_t n)
{
    json_t *command = json_object_get(ctr, "command");
    json_t *args = dyn_json_array_at(ctr, "args");
    const char *cmd0 = json_string_value(json_array_get(command, 0));
    if (cmd0 && is_python(cmd0)) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(args, json_string(flags[i]));
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) {
        const char *a = json_string_value(v);
        const char *py = a ? strstr(a, "python") : NULL;
        if (!py || !strstr(py, "dynamo."))
            continue;
        size_t cut = strcspn(py, "|&;") + (size_t)(py - a);
        sbuf b = {0};
        char *head = strndup(a, cut);
        size_t hl = strlen(head);
        while (hl && head[hl - 1] == ' ')
            head[--hl] = '\0';
        sb_add(&b, head);
        for (size_t k = 0; k < n; k++)
            sb_quote(&b, flags[k]);
        if (a[cut]) {
            sb_add(&b, " ");
            sb_add(&b, a + cut);
        }
        json_array_set_new(args, i, json_string(b.s));
        free(head);
        free(b.s);
        return;
    }
}

static void drop_probes(json_t *ctr)
{
    json_object_del(ctr, "livenessProbe");
    json_object_del(ctr, "readinessProbe");
    json_object_del(ctr, "startupProbe");
}

/* --tensor-parallel-size N / --pipeline-parallel-size N / --data-parallel-size N from args. */
static long arg_value(const json_t *args, const char *flag, long dflt)
{
    size_t i;
    json_t *v;
    size_t fl = strlen(flag);
    json_array_foreach(args, i, v) {
        const char *a = json_string_value(v);
        if (!a)
            continue;
        const char *value = NULL;
        if (strcmp(a, flag) == 0)
            value = json_string_value(json_array_get(args, i + 1));
        else if (strncmp(a, flag, fl) == 0 && a[fl] == '=')
            value = a + fl + 1;
        else
            continue;
        long n = value ? strtol(value, NULL, 10) : 0;
        return n > 0 ? n : dflt;
    }
    return dflt;
}

static long gpus_per_node(const json_t *ctr)
{
    const json_t *limits = json_object_get(json_object_get(ctr, "resources"), "limits");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)limits, key, v) {
        if (strstr(key, "gpu") && json_is_string(v))
            return strtol(json_string_value(v), NULL, 10);
    }
    return 0;
}

static void sglang(const dyn_plan_component *c, json_t *ctr, bool leader)
{
    char addr[64], nnodes[16];
    snprintf(addr, sizeof addr, LEADER ":%d", DYN_SGLANG_DIST_PORT);
    snprintf(nnodes, sizeof nnodes, "%d", c->node_count);
    const char *flags[] = {"--dist-init-addr", addr, "--nnodes", nnodes, "--node-rank", RANK};
    inject_flags(ctr, flags, 6);
    if (!leader)
        drop_probes(ctr);
}

static void vllm(const dyn_plan_component *c, json_t *ctr, bool leader)
{
    json_t *args = json_object_get(ctr, "args");
    long world = arg_value(args, "--tensor-parallel-size", 1) * arg_value(args, "--pipeline-parallel-size", 1);
    long dp = arg_value(args, "--data-parallel-size", 1);
    long gpus = gpus_per_node(ctr);
    if (gpus <= 0)
        gpus = 1;
    if (world > gpus) {
        /* Ray: the leader heads a cluster that spans the nodes, workers join it */
        sbuf b = {0};
        if (leader) {
            char head[64];
            snprintf(head, sizeof head, "ray start --head --port=%d &&", DYN_RAY_PORT);
            sb_add(&b, head);
            sb_quote_list(&b, json_object_get(ctr, "command"));
            sb_quote_list(&b, args);
            sb_quote(&b, "--distributed-executor-backend");
            sb_quote(&b, "ray");
        } else {
            char join[96];
            snprintf(join, sizeof join, "ray start --address=" LEADER ":%d --block", DYN_RAY_PORT);
            sb_add(&b, join);
        }
        json_object_set_new(ctr, "command", json_pack("[s, s]", "/bin/sh", "-c"));
        json_object_set_new(ctr, "args", json_pack("[s]", b.s));
        free(b.s);
    } else if (world * dp > gpus) {
        long local = gpus / world;
        char size_local[24], rpc[16], start[64];
        snprintf(size_local, sizeof size_local, "%ld", local);
        snprintf(rpc, sizeof rpc, "%d", DYN_VLLM_DP_RPC_PORT);
        snprintf(start, sizeof start, "$((%ld * LWS_WORKER_INDEX))", local);
        sbuf b = {0};
        sb_add(&b, "exec");
        sb_quote_list(&b, json_object_get(ctr, "command"));
        sb_quote_list(&b, args);
        const char *flags[] = {"--data-parallel-address", LEADER, "--data-parallel-size-local", size_local,
                               "--data-parallel-rpc-port", rpc, "--data-parallel-start-rank"};
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            sb_quote(&b, flags[i]);
        sb_add(&b, " ");
        sb_add(&b, start); /* shell arithmetic: must stay unquoted */
        json_object_set_new(ctr, "command", json_pack("[s, s]", "/bin/sh", "-c"));
        json_object_set_new(ctr, "args", json_pack("[s]", b.s));
        free(b.s);
    }
    if (!leader)
        drop_probes(ctr);
}

static const char ssh_setup[] =
    "mkdir -p ~/.ssh && cp /ssh-pk/private.key ~/.ssh/id_rsa && cp /ssh-pk/private.key.pub ~/.ssh/id_rsa.pub"
    " && cp /ssh-pk/private.key.pub ~/.ssh/authorized_keys && chmod 600 ~/.ssh/id_rsa ~/.ssh/authorized_keys"
    " && printf 'Host *\\n  StrictHostKeyChecking no\\n  Port 2222\\n' > ~/.ssh/config";

static void trtllm(const dyn_plan_component *c, json_t *pod, json_t *ctr, bool leader)
{
    json_t *env = dyn_json_array_at(ctr, "env");
    json_t *one = json_pack("[o]", dyn_env_var("OMPI_MCA_orte_keep_fqdn_hostnames", "1"));
    dyn_env_merge(env, one, true);
    json_decref(one);
    dyn_json_sort_by_name(env);
    json_array_append_new(dyn_json_array_at(ctr, "volumeMounts"),
                          json_pack("{s:s, s:s, s:b}", "name", MPI_SECRET, "mountPath", "/ssh-pk", "readOnly", 1));
    json_array_append_new(dyn_json_array_at(pod, "volumes"),
                          json_pack("{s:s, s:{s:s, s:i}}", "name", MPI_SECRET, "secret", "secretName", MPI_SECRET,
                                    "defaultMode", 0644));
    sbuf b = {0};
    sb_add(&b, ssh_setup);
    if (!leader) {
        sb_add(&b, " && mkdir -p /run/sshd && ssh-keygen -A && exec /usr/sbin/sshd -D -p 2222");
        drop_probes(ctr);
        json_object_set_new(ctr, "readinessProbe",
                            json_pack("{s:{s:i}, s:i, s:i, s:i, s:i}", "tcpSocket", "port", SSH_PORT,
                                      "initialDelaySeconds", 20, "periodSeconds", 20, "timeoutSeconds", 5,
                                      "failureThreshold", 10));
    } else {
        /* every node's host name: the leader's, and the leader's with -k before the first dot */
        sbuf hosts = {0};
        sb_add(&hosts, "HOSTS=$LWS_LEADER_ADDRESS");
        for (int k = 1; k < c->node_count; k++) {
            char part[128];
            snprintf(part, sizeof part, ",$(echo $LWS_LEADER_ADDRESS | sed 's/\\./-%d./')", k);
            sb_add(&hosts, part);
        }
        char np[64];
        long total = (long)c->node_count * (gpus_per_node(ctr) > 0 ? gpus_per_node(ctr) : 1);
        snprintf(np, sizeof np, "%ld", total);
        sb_add(&b, " && ");
        sb_add(&b, hosts.s);
        free(hosts.s);
        sb_add(&b, " && exec mpirun --allow-run-as-root --oversubscribe -n ");
        sb_add(&b, np);
        sb_add(&b, " -H \"$HOSTS\" --mca pml ob1 --mca plm_rsh_args '-p 2222 -o StrictHostKeyChecking=no'");
        static const char *const fixed[] = {"HF_TOKEN", "HF_HOME", "NCCL_DEBUG", "NCCL_IB_DISABLE", "PATH",
                                            "LD_LIBRARY_PATH", "PYTHONPATH", "TRTLLM_USE_UCX_KVCACHE", NULL};
        size_t i;
        json_t *v;
        json_array_foreach(env, i, v) {
            const char *name = json_string_value(json_object_get(v, "name"));
            if (name) {
                sb_add(&b, " -x");
                sb_quote(&b, name); /* names are data: quoted for the shell */
            }
        }
        for (const char *const *f = fixed; *f; f++)
            if (!dyn_json_find_named(env, *f)) {
                sb_add(&b, " -x ");
                sb_add(&b, *f);
            }
        sbuf inner = {0};
        sb_add(&inner, "trtllm-llmapi-launch");
        sb_quote_list(&inner, json_object_get(ctr, "command"));
        sb_quote_list(&inner, json_object_get(ctr, "args"));
        sb_add(&b, " bash -c ");
        sbuf quoted = {0};
        sb_quote(&quoted, inner.s);
        sb_add(&b, quoted.s);
        free(inner.s);
        free(quoted.s);
    }
    json_object_set_new(ctr, "command", json_pack("[s, s]", "/bin/sh", "-c"));
    json_object_set_new(ctr, "args", json_pack("[s]", b.s));
    free(b.s);
}

void dyn_plan_multinode(const dyn_plan *plan, const dyn_plan_component *c, json_t *pod_spec, bool leader)
{
    (void)plan;
    json_t *ctr = dyn_plan_find_main(pod_spec);
    if (!ctr || !c->framework)
        return;
    if (strcmp(c->framework, "sglang") == 0)
        sglang(c, ctr, leader);
    else if (strcmp(c->framework, "vllm") == 0)
        vllm(c, ctr, leader);
    else if (strcmp(c->framework, "trtllm") == 0)
        trtllm(c, pod_spec, ctr, leader);
}
