/* Plan components -> local processes: the command to run on this host, its environment, its
 * ports, its readiness probe and its volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json_util.h"
#include "base/names.h"
#include "local/local.h"

enum { LOCAL_HTTP_DEFAULT = 8000 };

typedef struct ports {
    int used[256];
    size_t n;
} ports;

static int take_free_port(ports *ps)
{
    int p = dyn_local_free_port(ps->used, ps->n);
    if (ps->n < 256)
        ps->used[ps->n++] = p;
    return p;
}

static bool is_python(const char *cmd)
{
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    return strncmp(base, "python", 6) == 0;
}

static bool is_dyn_binary(const char *cmd)
{
    const char *base = strrchr(cmd, '/');
    return strcmp(base ? base + 1 : cmd, "dyn") == 0;
}

/* "python3 -m dynamo.<module>" -> module, else NULL. */
static const char *dynamo_module(const json_t *command, const json_t *args, size_t *args_from)
{
    json_t *all = json_array();
    json_array_extend(all, (json_t *)command);
    json_array_extend(all, (json_t *)args);
    const char *module = NULL;
    const char *c0 = json_string_value(json_array_get(all, 0));
    if (c0 && is_python(c0) && json_string_value(json_array_get(all, 1)) &&
        strcmp(json_string_value(json_array_get(all, 1)), "-m") == 0) {
        const char *m = json_string_value(json_array_get(all, 2));
        if (m && strncmp(m, "dynamo.", 7) == 0) {
            module = m + 7;
            *args_from = 3; /* index into command+args of the first module argument */
        }
    }
    json_decref(all);
    return module;
}

/* Kubernetes expands $(VAR) in command and args from the container's env; so do we. An
 * unknown variable stays as written, "$$" is a literal "$". Returns a malloc'd string. */
static char *expand_vars(const char *s, char **env)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    for (const char *p = s; *p;) {
        const char *piece = p;
        size_t n = 1;
        if (p[0] == '$' && p[1] == '$') {
            n = 1;
            p += 2;
        } else if (p[0] == '$' && p[1] == '(' && strchr(p + 2, ')')) {
            const char *end = strchr(p + 2, ')');
            size_t nl = (size_t)(end - p - 2);
            const char *value = NULL;
            for (char **e = env; *e && !value; e++)
                if (strncmp(*e, p + 2, nl) == 0 && (*e)[nl] == '=')
                    value = *e + nl + 1;
            if (value) {
                piece = value;
                n = strlen(value);
                p = end + 1;
            } else
                p++;
        } else
            p++;
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown)
                abort();
            out = grown;
        }
        memcpy(out + len, piece, n);
        len += n;
    }
    out[len] = '\0';
    return out;
}

/* The container's env for this host: values as given, fieldRefs answered locally, references to
 * Secrets and ConfigMaps taken from the user's own environment when set there. */
static void apply_env(dyn_local *l, dyn_local_proc *p, const json_t *container, const char *ns)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(container, "env"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *value = json_string_value(json_object_get(e, "value"));
        const json_t *from = json_object_get(e, "valueFrom");
        if (!name)
            continue;
        if (value) {
            dyn_strv_setenv(&p->env, name, value);
            continue;
        }
        const char *field = json_string_value(json_object_get(json_object_get(from, "fieldRef"), "fieldPath"));
        if (field && strcmp(field, "metadata.name") == 0)
            dyn_strv_setenv(&p->env, name, p->name);
        else if (field && strcmp(field, "metadata.namespace") == 0)
            dyn_strv_setenv(&p->env, name, ns);
        else if (field && strcmp(field, "metadata.uid") == 0) {
            char uid[96];
            snprintf(uid, sizeof uid, "local-%s-%s", l->graph_name, p->name);
            dyn_strv_setenv(&p->env, name, uid);
        } else if (!getenv(name))
            fprintf(l->out, "dyn up: %s: env %s comes from the cluster (%s); export it to pass it on\n", p->name, name,
                    json_object_get(from, "secretKeyRef") ? "a Secret" : "a reference");
    }
}

static int local_port_for(const char *port_name, int number, int http_port, int system_port)
{
    if (port_name)
        return strcmp(port_name, "http") == 0 ? http_port : strcmp(port_name, "system") == 0 ? system_port : 0;
    return number == DYN_PORT_HTTP ? http_port : number == DYN_PORT_SYSTEM ? system_port : number;
}

static void apply_probe(dyn_local_proc *p, const json_t *container, int http_port, int system_port)
{
    const json_t *probe = json_object_get(container, "readinessProbe");
    const json_t *get = json_object_get(probe, "httpGet");
    const json_t *tcp = json_object_get(probe, "tcpSocket");
    const json_t *port = json_object_get(get ? get : tcp, "port");
    json_int_t period = json_integer_value(json_object_get(probe, "periodSeconds"));
    p->probe_period = period > 0 ? (double)period : 10;
    if (!port)
        return;
    p->probe_port = local_port_for(json_string_value(port), (int)json_integer_value(port), http_port, system_port);
    if (get)
        p->probe_path = strdup(json_string_value(json_object_get(get, "path")) ? json_string_value(json_object_get(get, "path")) : "/");
    else
        p->probe_tcp = true;
}

static bool dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PVC-backed mounts become <state>/volumes/<claim>; /dev/shm is the host's own. */
static dyn_status apply_mounts(dyn_local *l, dyn_local_proc *p, const json_t *pod, const json_t *container,
                               const dyn_graph *g, dyn_error *err)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(container, "volumeMounts"), i, m) {
        const char *vname = json_string_value(json_object_get(m, "name"));
        const char *path = json_string_value(json_object_get(m, "mountPath"));
        const json_t *vol = dyn_json_find_named(json_object_get(pod, "volumes"), vname ? vname : "");
        const char *claim = json_string_value(json_object_get(json_object_get(vol, "persistentVolumeClaim"), "claimName"));
        if (!claim || !path)
            continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/volumes/%s", l->state_dir, claim);
        bool create = true;
        for (size_t k = 0; k < g->n_pvcs; k++)
            if (g->pvcs[k].name && strcmp(g->pvcs[k].name, claim) == 0)
                create = g->pvcs[k].create;
        if (!dir_exists(dir)) {
            if (!create)
                return dyn_error_set(err, DYN_ERR_NOT_FOUND,
                                     "PVC \"%s\" has create: false but does not exist here: create the directory %s "
                                     "(and put the data it should hold there), or set create: true",
                                     claim, dir);
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                return dyn_error_set(err, DYN_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        }
        char *abs = realpath(dir, NULL);
        dyn_local_mount *mounts = realloc(p->mounts, (p->n_mounts + 1) * sizeof *mounts);
        if (!mounts || !abs)
            abort();
        p->mounts = mounts;
        p->mounts[p->n_mounts++] = (dyn_local_mount){abs, strdup(path), json_is_true(json_object_get(m, "readOnly"))};
    }
    return DYN_OK;
}

/* The command line for this host (see the README: local commands). */
static dyn_status build_argv(dyn_local *l, dyn_local_proc *p, const dyn_plan_component *c, const json_t *container,
                             bool frontend, int http_port, dyn_error *err)
{
    const char *local = json_string_value(json_object_get(c->annotations, DYN_LOCAL_COMMAND_ANNOTATION));
    if (local) {
        dyn_strv_push(&p->argv, "/bin/sh");
        dyn_strv_push(&p->argv, "-c");
        dyn_strv_push(&p->argv, local);
        return DYN_OK;
    }
    const json_t *command = json_object_get(container, "command");
    const json_t *args = json_object_get(container, "args");
    json_t *all = json_array();
    json_array_extend(all, (json_t *)command);
    json_array_extend(all, (json_t *)args);
    size_t from = 0;
    const char *module = dynamo_module(command, args, &from);
    dyn_status st = DYN_OK;
    if (module && (strcmp(module, "frontend") == 0 || strcmp(module, "mocker") == 0)) {
        /* our own implementations of the original's Python modules */
        dyn_strv_push(&p->argv, l->opts.self_exe);
        dyn_strv_push(&p->argv, module);
        for (size_t i = from; i < json_array_size(all); i++) {
            const char *a = json_string_value(json_array_get(all, i));
            if (frontend && a && strcmp(a, "--http-port") == 0) {
                i++; /* the local port replaces the container's */
                continue;
            }
            if (a)
                dyn_strv_push(&p->argv, a);
        }
        if (frontend)
            dyn_strv_pushf(&p->argv, "--http-port=%d", http_port);
    } else if (json_array_size(all) == 0 ||
               (json_array_size(all) == 2 && strcmp(json_string_value(json_array_get(all, 1)), "-c") == 0)) {
        st = dyn_error_set(err, DYN_ERR_INVALID,
                           "service %s has no command to run on this host: give its mainContainer a command, or the "
                           "annotation %s: \"<command line>\"",
                           c->key, DYN_LOCAL_COMMAND_ANNOTATION);
    } else {
        for (size_t i = 0; i < json_array_size(all); i++) {
            char *x = expand_vars(json_string_value(json_array_get(all, i)), p->env);
            /* `dyn ...` is this binary */
            dyn_strv_push(&p->argv, i == 0 && is_dyn_binary(x) ? l->opts.self_exe : x);
            free(x);
        }
        if (module && p->replica == 0)
            fprintf(l->out, "dyn up: %s runs python3 -m dynamo.%s: the dynamo Python package must be installed here "
                            "(or set the annotation %s)\n",
                    c->key, module, DYN_LOCAL_COMMAND_ANNOTATION);
    }
    json_decref(all);
    return st;
}

dyn_status dyn_local_replicas_plan(dyn_local *l, const dyn_plan *plan, const dyn_graph *g, dyn_error *err)
{
    ports ps = {0};
    for (size_t i = 0; i < l->n_procs; i++) {
        ps.used[ps.n++] = l->procs[i].port;
        ps.used[ps.n++] = l->procs[i].probe_port;
    }
    bool first_frontend = true;
    for (size_t ci = 0; ci < plan->n_components; ci++) {
        const dyn_plan_component *c = &plan->components[ci];
        if (c->node_count > 1)
            return dyn_error_set(err, DYN_ERR_INVALID,
                                 "service %s is multinode (nodeCount %d): dyn up runs single-node services only",
                                 c->key, c->node_count);
        json_t *container = dyn_plan_find_main(c->pod_spec);
        bool frontend = strcmp(c->component_type, "frontend") == 0;
        for (int r = 0; r < c->replicas; r++) {
            dyn_local_proc *procs = realloc(l->procs, (l->n_procs + 1) * sizeof *procs);
            if (!procs)
                abort();
            l->procs = procs;
            dyn_local_proc *p = &l->procs[l->n_procs++];
            memset(p, 0, sizeof *p);
            char lower[256];
            p->service = strdup(c->key);
            p->replica = r;
            if (asprintf(&p->name, "%s-%d", dyn_lowercase(c->key, lower, sizeof lower), r) < 0 ||
                asprintf(&p->log_path, "%s/logs/%s.log", l->state_dir, p->name) < 0 ||
                asprintf(&p->workdir, "%s/run/%s", l->state_dir, p->name) < 0)
                abort();
            mkdir(p->workdir, 0755);
            p->argv = dyn_strv_new();
            p->env = dyn_strv_new();
            for (char **e = environ; e && *e; e++)
                dyn_strv_push(&p->env, *e);

            int http_port = 0, system_port = take_free_port(&ps);
            if (frontend) {
                if (first_frontend && l->opts.http_port >= 0) {
                    http_port = l->opts.http_port ? l->opts.http_port : LOCAL_HTTP_DEFAULT;
                    if (dyn_local_port_in_use(http_port))
                        return dyn_error_set(err, DYN_ERR_CONFLICT,
                                             "port %d is already in use on this machine: stop what holds it, or "
                                             "choose another with --http-port PORT (0 picks a free one)",
                                             http_port);
                    ps.used[ps.n++] = http_port;
                } else
                    http_port = take_free_port(&ps);
                if (first_frontend && asprintf(&l->frontend_url, "http://127.0.0.1:%d", http_port) < 0)
                    abort();
                first_frontend = false;
            }
            p->port = frontend ? http_port : system_port;

            apply_env(l, p, container, plan->namespace_);
            char num[16];
            snprintf(num, sizeof num, "%d", system_port);
            dyn_strv_setenv(&p->env, "DYN_SYSTEM_PORT", num);
            if (frontend) {
                snprintf(num, sizeof num, "%d", http_port);
                dyn_strv_setenv(&p->env, "DYN_HTTP_PORT", num);
                dyn_strv_setenv(&p->env, "DYNAMO_PORT", num);
            }
            /* the call-home response stream stays on loopback */
            dyn_strv_setenv(&p->env, "DYN_CALLHOME_HOST", "127.0.0.1");
            dyn_strv_setenv(&p->env, "NATS_SERVER", l->nats_url);
            dyn_strv_setenv(&p->env, DYN_LOCAL_MARKER_ENV, l->state_dir);
            dyn_strv_setenv(&p->env, "ETCD_ENDPOINTS", l->etcd_url);

            apply_probe(p, container, http_port, system_port);
            dyn_status st = build_argv(l, p, c, container, frontend, http_port, err);
            if (st == DYN_OK)
                st = apply_mounts(l, p, c->pod_spec, container, g, err);
            if (st != DYN_OK)
                return st;
        }
    }
    return DYN_OK;
}
