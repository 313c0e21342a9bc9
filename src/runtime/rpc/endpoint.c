/* Serving an endpoint (spec §2.3/§2.4, worker side): NATS subscription with queue group "q",
 * immediate empty acknowledgement, then on a pool thread: decode the two-part request, connect
 * back to the caller, handshake, run the handler, stream frames, complete_final, sentinel. */
#include "internal.h"
#include "dyn/discovery.h"
#include "dyn/log.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct dyn_endpoint {
    dyn_runtime *rt;
    char component[DYN_NAME_MAX], endpoint[DYN_NAME_MAX];
    dyn_handler_fn fn;
    void *ud;
    dyn_endpoint_metrics *em;
    pthread_mutex_t mu;        /* guards everything below */
    pthread_cond_t idle;
    natsSubscription *sub;
    char subject[320];
    char key[512];
    uint64_t instance;
    int inflight;
    int stopping;
    int reg_handle;
};

struct dyn_request {
    dyn_endpoint *ep;
    int fd;
    char id[128];
    int prologue_sent;
    int stopped, killed;
    dyn_frame_reader rd;
    size_t resp_bytes;
    char error[256];
    /* Small frames not yet written (handshake, prologue, final, sentinel): they go out with the
     * next item or at the end, so a one-item response costs two writes instead of five. */
    char pend[1024];
    size_t pendlen;
    int ended;          /* complete_final and sentinel already sent (dyn_request_send_last) */
};

typedef struct job {
    dyn_endpoint *ep;
    natsMsg *msg;              /* large requests: kept and read in place */
    char *data;                /* small requests: copied, the message freed at once */
    size_t len;
    struct timespec start;
} job;

/* Up to this size a request is copied in the NATS callback and its message destroyed there,
 * so pool threads never touch nats.c's message garbage collector (a contended lock). */
#define COPY_MAX 65536

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- control messages from the caller ---- */

/* Reads whatever the caller sent without blocking (or waiting up to wait_ms); returns -1 on
 * EOF/error (the caller went away). */
static int poll_control(dyn_request *r, int wait_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, wait_ms);
        if (pr <= 0)
            return pr < 0 && errno != EINTR ? -1 : 0;
        char buf[4096];
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0) {
            r->stopped = 1;
            return -1;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            dyn_frame f;
            size_t used;
            dyn_error err = {0};
            int rc = dyn_frame_reader_feed(&r->rd, buf + off, (size_t)n - off, &used, &f, &err);
            off += used;
            if (rc < 0) {
                r->stopped = r->killed = 1;
                return -1;
            }
            if (rc == 1) {
                dyn_ctrl c = f.blen == 0 ? dyn_ctrl_parse(f.buf, f.hlen) : CTRL_NONE;
                if (c == CTRL_STOP)
                    r->stopped = 1;
                else if (c == CTRL_KILL)
                    r->stopped = r->killed = 1;
                free(f.buf);
            }
        }
        wait_ms = 0;
    }
}

int dyn_request_stopped(dyn_request *r)
{
    if (!r->stopped)
        poll_control(r, 0);
    return r->stopped;
}

const char *dyn_request_id(dyn_request *r) { return r->id; }

void dyn_request_set_error(dyn_request *r, const char *message)
{
    snprintf(r->error, sizeof r->error, "%s", message ? message : "");
}

static int flush_pending(dyn_request *r)
{
    if (!r->pendlen)
        return 0;
    struct iovec iov = {r->pend, r->pendlen};
    r->pendlen = 0;
    return write_all(r->fd, &iov, 1);
}

/* Queues a frame in pend (writing pend out first when it would not fit, and writing large
 * frames directly). */
static int queue_frame(dyn_request *r, const char *hdr, size_t hl, const char *body, size_t bl)
{
    if (DYN_FRAME_PREFIX + hl + bl > sizeof r->pend - r->pendlen) {
        if (flush_pending(r) != 0)
            return -1;
        if (DYN_FRAME_PREFIX + hl + bl > sizeof r->pend) {
            unsigned char prefix[DYN_FRAME_PREFIX];
            dyn_frame_prefix(prefix, hl, bl);
            struct iovec iov[3] = {{prefix, sizeof prefix}, {(void *)hdr, hl}, {(void *)body, bl}};
            return write_all(r->fd, iov, 3);
        }
    }
    dyn_frame_prefix((unsigned char *)r->pend + r->pendlen, hl, bl);
    r->pendlen += DYN_FRAME_PREFIX;
    memcpy(r->pend + r->pendlen, hdr, hl);
    r->pendlen += hl;
    memcpy(r->pend + r->pendlen, body, bl);
    r->pendlen += bl;
    return 0;
}

/* Writes pend, then one frame whose body is a + b + c, in a single writev. */
static int send_body_frame(dyn_request *r, const char *a, size_t al, const char *b, size_t bl, const char *c, size_t cl)
{
    unsigned char prefix[DYN_FRAME_PREFIX];
    dyn_frame_prefix(prefix, 0, al + bl + cl);
    struct iovec iov[5] = {{r->pend, r->pendlen}, {prefix, sizeof prefix}, {(void *)a, al}, {(void *)b, bl}, {(void *)c, cl}};
    r->pendlen = 0;
    return write_all(r->fd, iov, 5);
}

static int send_prologue(dyn_request *r, const char *error)
{
    r->prologue_sent = 1;
    if (!error)
        return queue_frame(r, "{\"error\":null}", 14, "", 0);
    json_t *j = json_pack("{s:s}", "error", error);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int rc = queue_frame(r, s ? s : "{\"error\":\"error\"}", s ? strlen(s) : 17, "", 0);
    free(s);
    return rc;
}

#define ITEM_PREFIX "{\"data\":"
#define ITEM_SUFFIX ",\"complete_final\":false}"

static const char FIN[] = "{\"complete_final\":true}";

dyn_status dyn_request_send_last(dyn_request *r, const char *item, size_t len)
{
    if (r->ended || dyn_request_stopped(r))
        return DYN_ERR_CANCELLED;
    if (!r->prologue_sent && send_prologue(r, NULL) != 0) {
        r->stopped = 1;
        return DYN_ERR_CANCELLED;
    }
    /* item, complete_final and sentinel in one write: the caller wakes once for all three. */
    unsigned char p1[DYN_FRAME_PREFIX], p2[DYN_FRAME_PREFIX], p3[DYN_FRAME_PREFIX];
    dyn_frame_prefix(p1, 0, sizeof ITEM_PREFIX - 1 + len + sizeof ITEM_SUFFIX - 1);
    dyn_frame_prefix(p2, 0, sizeof FIN - 1);
    dyn_frame_prefix(p3, 10, 0);
    struct iovec iov[8] = {{r->pend, r->pendlen}, {p1, sizeof p1}, {(void *)ITEM_PREFIX, sizeof ITEM_PREFIX - 1},
                           {(void *)item, len}, {(void *)ITEM_SUFFIX, sizeof ITEM_SUFFIX - 1},
                           {p2, sizeof p2}, {(void *)FIN, sizeof FIN - 1}, {p3, sizeof p3}};
    struct iovec all[9];
    memcpy(all, iov, sizeof iov);
    all[8] = (struct iovec){(void *)"\"sentinel\"", 10};
    r->pendlen = 0;
    r->ended = 1;
    if (write_all(r->fd, all, 9) != 0) {
        r->stopped = 1;
        return DYN_ERR_CANCELLED;
    }
    r->resp_bytes += len;
    return DYN_OK;
}

dyn_status dyn_request_send(dyn_request *r, const char *item, size_t len)
{
    if (r->ended)
        return DYN_ERR_CANCELLED;
    if (dyn_request_stopped(r))
        return DYN_ERR_CANCELLED;
    if (!r->prologue_sent && send_prologue(r, NULL) != 0) {
        r->stopped = 1;
        return DYN_ERR_CANCELLED;
    }
    if (send_body_frame(r, ITEM_PREFIX, sizeof ITEM_PREFIX - 1, item, len, ITEM_SUFFIX, sizeof ITEM_SUFFIX - 1) != 0) {
        r->stopped = 1;
        return DYN_ERR_CANCELLED;
    }
    r->resp_bytes += len;
    return DYN_OK;
}

/* ---- request processing on a pool thread ---- */

static int connect_back(const char *address, dyn_error *err)
{
    char host[256], port[16];
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || strlen(colon + 1) >= sizeof port || (size_t)(colon - address) >= sizeof host) {
        dyn_error_set(err, DYN_ERR_INVALID, "connection_info address \"%s\" is not host:port", address);
        return -1;
    }
    const char *h = address;
    size_t hl = (size_t)(colon - address);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)hl, h);
    snprintf(port, sizeof port, "%s", colon + 1);
    /* Numeric addresses (what callers advertise) skip the resolver. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai == EAI_NONAME) {
        hints.ai_flags = AI_NUMERICSERV;
        gai = getaddrinfo(host, port, &hints, &res);
    }
    if (gai != 0) {
        dyn_error_set(err, DYN_ERR_INVALID, "cannot resolve %s: %s", address, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (int attempt = 0; attempt < 50 && fd < 0; attempt++) {
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0)
            break;
        int e = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
        if (e != EADDRNOTAVAIL) {
            dyn_error_set(err, DYN_ERR_UNAVAILABLE, "connecting back to %s: %s", address, strerror(e));
            break;
        }
        usleep(200000);
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        struct timeval tv = {60, 0};
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

/* Decodes the RequestControlMessage header; fills id, address and the call-home subject. */
static dyn_status parse_control(const char *hdr, size_t hl, char *id, size_t idcap, char *addr, size_t acap,
                                char *subject, size_t scap, dyn_error *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(hdr, hl, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return dyn_error_set(err, DYN_ERR_INVALID, "request header is not a JSON object");
    }
    dyn_status st = DYN_OK;
    json_t *jid = json_object_get(j, "id");
    json_t *ci = json_object_get(j, "connection_info");
    json_t *info = json_is_object(ci) ? json_object_get(ci, "info") : NULL;
    json_t *tr = json_is_object(ci) ? json_object_get(ci, "transport") : NULL;
    json_t *ij = json_is_string(info) ? json_loads(json_string_value(info), 0, &jerr) : NULL;
    const char *a = ij ? json_string_value(json_object_get(ij, "address")) : NULL;
    const char *s = ij ? json_string_value(json_object_get(ij, "subject")) : NULL;
    const char *ctx = ij ? json_string_value(json_object_get(ij, "context")) : NULL;
    const char *type = ij ? json_string_value(json_object_get(ij, "stream_type")) : NULL;
    if (!json_is_string(jid))
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: \"id\" missing or not a string");
    else if (!json_is_string(tr) || strcmp(json_string_value(tr), "tcp_server") != 0)
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: connection_info.transport must be \"tcp_server\"");
    else if (!a || !s)
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: connection_info.info lacks address or subject");
    else if (type && strcmp(type, "response") != 0)
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: stream_type \"%s\" is not \"response\"", type);
    else if (ctx && strcmp(ctx, json_string_value(jid)) != 0)
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: context \"%s\" differs from id \"%s\"", ctx, json_string_value(jid));
    else if (strlen(a) >= acap || strlen(s) >= scap || strlen(json_string_value(jid)) >= idcap)
        st = dyn_error_set(err, DYN_ERR_INVALID, "request header: field too long");
    if (st == DYN_OK) {
        snprintf(id, idcap, "%s", json_string_value(jid));
        snprintf(addr, acap, "%s", a);
        snprintf(subject, scap, "%s", s);
    }
    json_decref(ij);
    json_decref(j);
    return st;
}

static void finish_job(job *jb)
{
    dyn_endpoint *ep = jb->ep;
    natsMsg_Destroy(jb->msg);
    free(jb->data);
    free(jb);
    pthread_mutex_lock(&ep->mu);
    if (--ep->inflight == 0)
        pthread_cond_broadcast(&ep->idle);
    pthread_mutex_unlock(&ep->mu);
}

static void run_request(void *arg)
{
    job *jb = arg;
    dyn_endpoint *ep = jb->ep;
    const char *data = jb->msg ? natsMsg_GetData(jb->msg) : jb->data;
    size_t len = jb->msg ? (size_t)natsMsg_GetDataLength(jb->msg) : jb->len;
    dyn_endpoint_metrics_begin(ep->em, len);
    const char *hdr, *body;
    size_t hl, bl;
    dyn_error err = {0};
    dyn_request r = {.ep = ep, .fd = -1};
    char addr[256], subject[64];
    const char *etype = NULL;
    if (dyn_frame_split(data, len, &hdr, &hl, &body, &bl, &err) != DYN_OK ||
        parse_control(hdr, hl, r.id, sizeof r.id, addr, sizeof addr, subject, sizeof subject, &err) != DYN_OK) {
        DYN_WARN("rpc", "%s: request dropped: %s", ep->endpoint, err.message);
        dyn_endpoint_metrics_end(ep->em, since(&jb->start), 0, "deserialization");
        finish_job(jb);
        return;
    }
    r.fd = connect_back(addr, &err);
    if (r.fd < 0) {
        DYN_WARN("rpc", "%s: request %s: %s", ep->endpoint, r.id, err.message);
        dyn_endpoint_metrics_end(ep->em, since(&jb->start), 0, "response_stream");
        finish_job(jb);
        return;
    }
    dyn_frame_reader_init(&r.rd, 4096);
    char hs[160];
    int hsl = snprintf(hs, sizeof hs, "{\"subject\":\"%s\",\"stream_type\":\"response\"}", subject);
    if (queue_frame(&r, hs, (size_t)hsl, "", 0) != 0) {
        etype = "response_stream";
    } else {
        /* The body is JSON text; hand the handler a NUL-terminated copy only when needed: the
         * two-part body is the tail of the NATS payload, which nats.c NUL-terminates. */
        dyn_status st = ep->fn(&r, body, bl, ep->ud);
        if (!r.prologue_sent) {
            if (send_prologue(&r, st == DYN_OK ? NULL : (r.error[0] ? r.error : dyn_status_name(st))) != 0)
                etype = "response_stream";
            if (st != DYN_OK)
                etype = "generate";
        } else if (st != DYN_OK && st != DYN_ERR_CANCELLED) {
            etype = "generate";
        }
        if (!etype && !r.stopped && !r.ended && st == DYN_OK) {
            if (queue_frame(&r, "", 0, FIN, sizeof FIN - 1) != 0)
                etype = "publish_final";
        }
        if ((r.ended || queue_frame(&r, "\"sentinel\"", 10, "", 0) == 0) && flush_pending(&r) == 0) {
            /* Wait (bounded) for the caller to close, so our last frames are not lost. */
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            while (since(&t0) < 10.0 && poll_control(&r, 200) >= 0)
                ;
        }
    }
    close(r.fd);
    dyn_frame_reader_free(&r.rd);
    dyn_endpoint_metrics_end(ep->em, since(&jb->start), r.resp_bytes, etype);
    finish_job(jb);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    dyn_endpoint *ep = closure;
    const char *reply = natsMsg_GetReply(msg);
    if (reply)
        natsConnection_Publish(nc, reply, NULL, 0);     /* the acknowledgement, at once */
    job *jb = malloc(sizeof *jb);
    pthread_mutex_lock(&ep->mu);
    int accept = jb && !ep->stopping;
    if (accept)
        ep->inflight++;
    pthread_mutex_unlock(&ep->mu);
    if (!accept) {
        free(jb);
        natsMsg_Destroy(msg);
        return;
    }
    jb->ep = ep;
    jb->msg = msg;
    jb->data = NULL;
    jb->len = (size_t)natsMsg_GetDataLength(msg);
    clock_gettime(CLOCK_MONOTONIC, &jb->start);
    if (jb->len <= COPY_MAX && (jb->data = malloc(jb->len + 1)) != NULL) {
        memcpy(jb->data, natsMsg_GetData(msg), jb->len);
        jb->data[jb->len] = '\0';
        natsMsg_Destroy(msg);
        jb->msg = NULL;
    }
    if (pool_submit(runtime_pool(ep->rt), run_request, jb) != 0) {
        natsMsg_Destroy(jb->msg);
        free(jb->data);
        free(jb);
        pthread_mutex_lock(&ep->mu);
        ep->inflight--;
        pthread_mutex_unlock(&ep->mu);
    }
}

/* ---- registration (runs again under every new lease) ---- */

static dyn_status register_instance(dyn_etcd *e, uint64_t lease, void *ud, dyn_error *err)
{
    dyn_endpoint *ep = ud;
    const char *ns = dyn_runtime_namespace(ep->rt);
    char base[2 * DYN_NAME_MAX + 2], service[2 * DYN_NAME_MAX + 2], subject[320];
    snprintf(base, sizeof base, "%s_%s", ns, ep->component);
    dyn_slugify(base, service, sizeof service);
    snprintf(subject, sizeof subject, "%s.%s-%llx", service, ep->endpoint, (unsigned long long)lease);

    pthread_mutex_lock(&ep->mu);
    int resubscribe = ep->sub == NULL || strcmp(subject, ep->subject) != 0;
    natsSubscription *old = resubscribe ? ep->sub : NULL;
    pthread_mutex_unlock(&ep->mu);
    if (resubscribe) {
        natsSubscription *sub = NULL;
        natsConnection *nc = dyn_nats_conn(dyn_runtime_nats(ep->rt));
        natsStatus s = natsConnection_QueueSubscribe(&sub, nc, subject, "q", on_msg, ep);
        if (s == NATS_OK)
            s = natsSubscription_SetPendingLimits(sub, 65536, 1 << 30);
        if (s == NATS_OK)
            s = natsConnection_FlushTimeout(nc, 5000);   /* subscribed before we advertise it */
        if (s != NATS_OK) {
            natsSubscription_Destroy(sub);
            return dyn_nats_error(err, s, "subscribing %s", subject);
        }
        pthread_mutex_lock(&ep->mu);
        ep->sub = sub;
        snprintf(ep->subject, sizeof ep->subject, "%s", subject);
        pthread_mutex_unlock(&ep->mu);
        if (old) {
            natsSubscription_Unsubscribe(old);
            natsSubscription_Destroy(old);
        }
    }
    dyn_instance in = {0};
    snprintf(in.ns, sizeof in.ns, "%s", ns);
    snprintf(in.component, sizeof in.component, "%s", ep->component);
    snprintf(in.endpoint, sizeof in.endpoint, "%s", ep->endpoint);
    in.instance_id = lease;
    snprintf(in.transport, sizeof in.transport, "nats_tcp");
    snprintf(in.address, sizeof in.address, "%s", subject);
    char value[1024], key[512];
    size_t vl = dyn_instance_format(&in, value, sizeof value);
    dyn_instance_key(key, sizeof key, ns, ep->component, ep->endpoint, lease);
    int created = 0;
    dyn_status st = dyn_etcd_create(e, key, value, vl, lease, &created, err);
    if (st == DYN_OK) {
        pthread_mutex_lock(&ep->mu);
        snprintf(ep->key, sizeof ep->key, "%s", key);
        ep->instance = lease;
        pthread_mutex_unlock(&ep->mu);
        DYN_INFO("rpc", "serving %s (instance %llx)", subject, (unsigned long long)lease);
    }
    return st;
}

dyn_status dyn_endpoint_serve(dyn_runtime *rt, const char *component, const char *endpoint,
                              dyn_handler_fn fn, void *ud, dyn_endpoint **out, dyn_error *err)
{
    *out = NULL;
    if (!dyn_name_valid(component, 0) || !dyn_name_valid(endpoint, 0))
        return dyn_error_set(err, DYN_ERR_INVALID, "endpoint %s/%s: names must match [a-z0-9-_]+", component, endpoint);
    dyn_endpoint *ep = calloc(1, sizeof *ep);
    if (!ep)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    ep->rt = rt;
    snprintf(ep->component, sizeof ep->component, "%s", component);
    snprintf(ep->endpoint, sizeof ep->endpoint, "%s", endpoint);
    ep->fn = fn;
    ep->ud = ud;
    ep->em = dyn_metrics_endpoint(dyn_metrics_default(), dyn_runtime_namespace(rt), component, endpoint);
    pthread_mutex_init(&ep->mu, NULL);
    pthread_cond_init(&ep->idle, NULL);
    dyn_status st = dyn_lease_add(dyn_runtime_lease(rt), register_instance, ep, &ep->reg_handle, err);
    if (st != DYN_OK) {
        if (ep->sub) {
            natsSubscription_Unsubscribe(ep->sub);
            natsSubscription_Destroy(ep->sub);
        }
        pthread_mutex_destroy(&ep->mu);
        pthread_cond_destroy(&ep->idle);
        free(ep);
        return st;
    }
    srv_add(runtime_srv(rt), ep);
    *out = ep;
    return DYN_OK;
}

void dyn_endpoint_stop(dyn_endpoint *ep)
{
    if (!ep)
        return;
    srv_remove(runtime_srv(ep->rt), ep);
    dyn_lease_remove(dyn_runtime_lease(ep->rt), ep->reg_handle);
    pthread_mutex_lock(&ep->mu);
    ep->stopping = 1;
    char key[512];
    snprintf(key, sizeof key, "%s", ep->key);
    natsSubscription *sub = ep->sub;
    ep->sub = NULL;
    pthread_mutex_unlock(&ep->mu);
    if (key[0])
        dyn_etcd_delete(dyn_runtime_etcd(ep->rt), key, NULL, NULL);
    if (sub) {
        /* Drain so that no callback still runs (or will run) with ep once we free it. */
        if (natsSubscription_Drain(sub) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(sub, 5000);
        else
            natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&ep->mu);
    while (ep->inflight > 0 && pthread_cond_timedwait(&ep->idle, &ep->mu, &until) == 0)
        ;
    int left = ep->inflight;
    pthread_mutex_unlock(&ep->mu);
    if (left > 0) {
        /* Never free under a running handler: leak the endpoint rather than crash. */
        DYN_ERROR("rpc", "%s: %d requests still running after 10 s; endpoint not freed", ep->endpoint, left);
        return;
    }
    pthread_mutex_destroy(&ep->mu);
    pthread_cond_destroy(&ep->idle);
    free(ep);
}

void dyn_endpoint_subject(dyn_endpoint *ep, char *buf, size_t cap)
{
    pthread_mutex_lock(&ep->mu);
    snprintf(buf, cap, "%s", ep->subject);
    pthread_mutex_unlock(&ep->mu);
}

int dyn_endpoint_inflight(dyn_endpoint *ep)
{
    pthread_mutex_lock(&ep->mu);
    int n = ep->inflight;
    pthread_mutex_unlock(&ep->mu);
    return n;
}

const char *endpoint_component(dyn_endpoint *ep) { return ep->component; }
const char *endpoint_name(dyn_endpoint *ep) { return ep->endpoint; }
dyn_endpoint_metrics *endpoint_metrics(dyn_endpoint *ep) { return ep->em; }
