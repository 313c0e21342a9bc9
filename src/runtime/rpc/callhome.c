/* The call-home response server (spec §2.4, requester side): one listening socket per
 * process; workers connect back, present the subject of a registered stream, send a prologue
 * and then response frames. One thread polls every connection; a stream whose queue holds
 * 64 frames is not read until its consumer catches up (back-pressure to the worker). */
#include "internal.h"
#include "dyn/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define QUEUE_MAX 64

typedef struct ch_conn {
    int fd;
    int state;             /* 0 handshake, 1 prologue, 2 data */
    dyn_frame_reader rd;
    ch_pending *p;
    struct ch_conn *next;
} ch_conn;

struct dyn_callhome {
    int lfd;
    int wake[2];
    pthread_t thread;
    char address[96];
    pthread_mutex_t mu;
    ch_pending *waiting;
    ch_conn *conns;
    int stop;
};

static void send_control(int fd, const char *msg)
{
    char hdr[32];
    int hl = snprintf(hdr, sizeof hdr, "\"%s\"", msg);
    unsigned char prefix[DYN_FRAME_PREFIX];
    dyn_frame_prefix(prefix, (uint64_t)hl, 0);
    struct iovec iov[2] = {{prefix, sizeof prefix}, {hdr, (size_t)hl}};
    (void)!writev(fd, iov, 2);          /* a tiny frame; a dead peer just misses it */
}

static void pending_unref(ch_pending *p)
{
    if (--p->refs > 0)
        return;
    for (ch_item *i = p->head, *n; i; i = n) {
        n = i->next;
        free(i->f.buf);
        free(i);
    }
    free(p->prologue_error);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static void wake(dyn_callhome *ch)
{
    char c = 1;
    ssize_t r = write(ch->wake[1], &c, 1);
    (void)r;
}

/* First non-loopback IPv4 address of the host, else 127.0.0.1. */
static void local_ip(char *out, size_t cap)
{
    snprintf(out, cap, "127.0.0.1");
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, (socklen_t)cap);
        break;
    }
    freeifaddrs(ifs);
}

static void conn_close(dyn_callhome *ch, ch_conn *c)
{
    /* caller holds ch->mu */
    for (ch_conn **pp = &ch->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->p) {
        ch_pending *p = c->p;
        p->fd = -1;
        p->ended = 1;
        pthread_cond_broadcast(&p->cv);
        pending_unref(p);
    }
    close(c->fd);
    dyn_frame_reader_free(&c->rd);
    free(c);
}

static ch_pending *take_waiting(dyn_callhome *ch, const char *subject)
{
    for (ch_pending **pp = &ch->waiting; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->subject, subject) == 0) {
            ch_pending *p = *pp;
            *pp = p->next;
            p->waiting = 0;
            return p;
        }
    }
    return NULL;
}

/* Handles one frame of a connection; returns -1 to close it. Caller holds ch->mu. */
static int on_frame(dyn_callhome *ch, ch_conn *c, dyn_frame *f)
{
    if (c->state == 0 && f->blen == 0) {
        /* Fast path for the exact handshake libdyn workers write. */
        static const char pre[] = "{\"subject\":\"", post[] = "\",\"stream_type\":\"response\"}";
        size_t pl = sizeof pre - 1, ql = sizeof post - 1;
        if (f->hlen > pl + ql && f->hlen - pl - ql < sizeof ((ch_pending *)0)->subject &&
            memcmp(f->buf, pre, pl) == 0 && memcmp(f->buf + f->hlen - ql, post, ql) == 0 &&
            !memchr(f->buf + pl, '"', f->hlen - pl - ql) && !memchr(f->buf + pl, '\\', f->hlen - pl - ql)) {
            char subject[sizeof ((ch_pending *)0)->subject];
            memcpy(subject, f->buf + pl, f->hlen - pl - ql);
            subject[f->hlen - pl - ql] = '\0';
            free(f->buf);
            ch_pending *p = take_waiting(ch, subject);
            if (!p)
                return -1;
            c->p = p;
            p->fd = c->fd;
            p->connected = 1;
            c->state = 1;
            if (p->pending_ctrl[0])
                send_control(p->fd, p->pending_ctrl);
            return 0;
        }
    }
    if (c->state == 1 && f->blen == 0 && f->hlen == 14 && memcmp(f->buf, "{\"error\":null}", 14) == 0) {
        free(f->buf);
        c->p->prologue = 1;
        c->state = 2;
        return 0;
    }
    if (c->state == 0 || c->state == 1) {
        json_error_t jerr;
        json_t *j = f->hlen ? json_loadb(f->buf, f->hlen, 0, &jerr) : NULL;
        int ok = j && json_is_object(j);
        if (c->state == 0) {
            json_t *sub = ok ? json_object_get(j, "subject") : NULL;
            json_t *typ = ok ? json_object_get(j, "stream_type") : NULL;
            ch_pending *p = json_is_string(sub) && (!typ || (json_is_string(typ) && strcmp(json_string_value(typ), "response") == 0))
                                ? take_waiting(ch, json_string_value(sub)) : NULL;
            json_decref(j);
            free(f->buf);
            if (!p) {
                DYN_DEBUG("rpc", "call-home connection with an unknown or malformed handshake dropped");
                return -1;
            }
            c->p = p;          /* the server's ref moves from the waiting list to the connection */
            p->fd = c->fd;
            p->connected = 1;
            c->state = 1;
            if (p->pending_ctrl[0])
                send_control(p->fd, p->pending_ctrl);
            return 0;          /* nobody waits for the handshake alone: no wake-up */
        }
        ch_pending *p = c->p;
        json_t *e = ok ? json_object_get(j, "error") : NULL;
        if (!ok) {
            p->prologue_error = strdup("malformed prologue from worker");
        } else if (json_is_string(e)) {
            p->prologue_error = strdup(json_string_value(e));
        }
        json_decref(j);
        free(f->buf);
        p->prologue = 1;
        c->state = 2;
        if (p->prologue_error)
            pthread_cond_signal(&p->cv);   /* the consumer waits for items, an error or the end */
        return ok ? 0 : -1;
    }
    ch_pending *p = c->p;
    if (f->blen == 0) {
        dyn_ctrl ctl = dyn_ctrl_parse(f->buf, f->hlen);
        free(f->buf);
        if (ctl == CTRL_SENTINEL) {
            p->sentinel = 1;
            return -1;         /* end of stream: we close, the worker sees EOF */
        }
        return 0;              /* other header-only frames carry nothing for us */
    }
    ch_item *it = malloc(sizeof *it);
    if (!it) {
        free(f->buf);
        return -1;
    }
    it->f = *f;
    it->next = NULL;
    if (p->tail)
        p->tail->next = it;
    else
        p->head = it;
    p->tail = it;
    p->qlen++;
    pthread_cond_signal(&p->cv);       /* one consumer per stream */
    return 0;
}

static void on_readable(dyn_callhome *ch, ch_conn *c)
{
    static __thread char buf[65536];
    ssize_t n;
    /* Inside a large frame body, read straight into the frame buffer. */
    if (c->rd.buf && c->rd.need - c->rd.got > sizeof buf) {
        n = recv(c->fd, c->rd.buf + c->rd.got, c->rd.need - c->rd.got, MSG_DONTWAIT);
        if (n > 0) {
            c->rd.got += (size_t)n;
            if (c->rd.got < c->rd.need)
                return;
            /* Completed: let feed() finish it with zero extra bytes. */
            n = 0;
            dyn_frame f;
            size_t used;
            pthread_mutex_lock(&ch->mu);
            if (dyn_frame_reader_feed(&c->rd, buf, 0, &used, &f, NULL) == 1 && on_frame(ch, c, &f) != 0)
                conn_close(ch, c);
            pthread_mutex_unlock(&ch->mu);
            return;
        }
    } else {
        n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    pthread_mutex_lock(&ch->mu);
    if (n <= 0) {
        conn_close(ch, c);
        pthread_mutex_unlock(&ch->mu);
        return;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        dyn_frame f;
        size_t used = 0;
        dyn_error err = {0};
        int r = dyn_frame_reader_feed(&c->rd, buf + off, (size_t)n - off, &used, &f, &err);
        off += used;
        if (r < 0) {
            DYN_WARN("rpc", "call-home stream: %s; closing it", err.message);
            conn_close(ch, c);
            break;
        }
        if (r == 1 && on_frame(ch, c, &f) != 0) {
            conn_close(ch, c);
            break;
        }
    }
    pthread_mutex_unlock(&ch->mu);
}

static void *ch_main(void *arg)
{
    dyn_callhome *ch = arg;
    pthread_setname_np(pthread_self(), "dyn-callhome");
    struct pollfd *pfds = NULL;
    ch_conn **owners = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&ch->mu);
        if (ch->stop) {
            pthread_mutex_unlock(&ch->mu);
            break;
        }
        size_t n = 2;
        for (ch_conn *c = ch->conns; c; c = c->next)
            n++;
        if (n > cap) {
            cap = n * 2;
            pfds = realloc(pfds, cap * sizeof *pfds);
            owners = realloc(owners, cap * sizeof *owners);
        }
        pfds[0] = (struct pollfd){.fd = ch->wake[0], .events = POLLIN};
        pfds[1] = (struct pollfd){.fd = ch->lfd, .events = POLLIN};
        n = 2;
        for (ch_conn *c = ch->conns; c; c = c->next) {
            int throttled = c->p && c->p->qlen >= QUEUE_MAX;
            pfds[n] = (struct pollfd){.fd = c->fd, .events = throttled ? 0 : POLLIN};
            owners[n++] = c;
        }
        pthread_mutex_unlock(&ch->mu);
        if (poll(pfds, (nfds_t)n, 1000) < 0 && errno != EINTR)
            break;
        if (pfds[0].revents) {
            char drain[64];
            while (read(ch->wake[0], drain, sizeof drain) > 0)
                ;
        }
        if (pfds[1].revents & POLLIN) {
            int fd = accept4(ch->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                int one = 1;
                struct linger lg = {1, 0};
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                ch_conn *c = calloc(1, sizeof *c);
                if (c) {
                    c->fd = fd;
                    dyn_frame_reader_init(&c->rd, runtime_max_frame());
                    pthread_mutex_lock(&ch->mu);
                    c->next = ch->conns;
                    ch->conns = c;
                    pthread_mutex_unlock(&ch->mu);
                    on_readable(ch, c);      /* the worker writes at once: skip a poll round */
                } else {
                    close(fd);
                }
            }
        }
        for (size_t i = 2; i < n; i++)
            if (pfds[i].revents)
                on_readable(ch, owners[i]);   /* conns are only freed on this thread */
    }
    free(pfds);
    free(owners);
    return NULL;
}

dyn_status callhome_start(const char *host, dyn_callhome **out, dyn_error *err)
{
    *out = NULL;
    dyn_callhome *ch = calloc(1, sizeof *ch);
    if (!ch)
        return dyn_error_set(err, DYN_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&ch->mu, NULL);
    ch->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t len = sizeof a;
    char ip[64];
    if (host)
        snprintf(ip, sizeof ip, "%s", host);
    else
        local_ip(ip, sizeof ip);
    if (ch->lfd < 0 || bind(ch->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(ch->lfd, 1024) != 0 ||
        getsockname(ch->lfd, (struct sockaddr *)&a, &len) != 0 || pipe2(ch->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        dyn_status st = dyn_error_set(err, DYN_ERR_IO, "call-home server: cannot listen: %s", strerror(errno));
        if (ch->lfd >= 0)
            close(ch->lfd);
        pthread_mutex_destroy(&ch->mu);
        free(ch);
        return st;
    }
    snprintf(ch->address, sizeof ch->address, "%s:%d", ip, ntohs(a.sin_port));
    if (pthread_create(&ch->thread, NULL, ch_main, ch) != 0) {
        close(ch->lfd);
        close(ch->wake[0]);
        close(ch->wake[1]);
        pthread_mutex_destroy(&ch->mu);
        free(ch);
        return dyn_error_set(err, DYN_ERR_INTERNAL, "call-home server: cannot start its thread");
    }
    *out = ch;
    return DYN_OK;
}

void callhome_stop(dyn_callhome *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->mu);
    ch->stop = 1;
    pthread_mutex_unlock(&ch->mu);
    wake(ch);
    pthread_join(ch->thread, NULL);
    while (ch->conns)
        conn_close(ch, ch->conns);
    while (ch->waiting) {
        ch_pending *p = ch->waiting;
        ch->waiting = p->next;
        p->waiting = 0;
        p->ended = 1;
        pending_unref(p);
    }
    close(ch->lfd);
    close(ch->wake[0]);
    close(ch->wake[1]);
    pthread_mutex_destroy(&ch->mu);
    free(ch);
}

const char *callhome_address(dyn_callhome *ch) { return ch->address; }
pthread_mutex_t *callhome_lock(dyn_callhome *ch) { return &ch->mu; }

ch_pending *callhome_register(dyn_callhome *ch)
{
    ch_pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    dyn_uuid4(p->subject);
    pthread_cond_init(&p->cv, NULL);
    p->fd = -1;
    p->refs = 2;
    p->waiting = 1;
    pthread_mutex_lock(&ch->mu);
    p->next = ch->waiting;
    ch->waiting = p;
    pthread_mutex_unlock(&ch->mu);
    return p;
}

void callhome_release(dyn_callhome *ch, ch_pending *p)
{
    pthread_mutex_lock(&ch->mu);
    if (p->waiting) {          /* never connected: drop the server's ref too */
        take_waiting(ch, p->subject);
        pending_unref(p);
    } else if (p->fd >= 0) {
        shutdown(p->fd, SHUT_RDWR);   /* the poll thread sees EOF and closes */
        wake(ch);
    }
    pending_unref(p);
    pthread_mutex_unlock(&ch->mu);
}

void callhome_control(dyn_callhome *ch, ch_pending *p, const char *msg)
{
    pthread_mutex_lock(&ch->mu);
    if (p->fd >= 0)
        send_control(p->fd, msg);
    else if (!p->connected)
        snprintf(p->pending_ctrl, sizeof p->pending_ctrl, "%s", msg);   /* sent on handshake */
    pthread_mutex_unlock(&ch->mu);
}

void callhome_popped(dyn_callhome *ch, ch_pending *p)
{
    if (p->qlen == QUEUE_MAX - 1)
        wake(ch);
}
