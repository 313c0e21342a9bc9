/* Readiness: a short HTTP GET (or TCP connect) on loopback, like a kubelet probe. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local/local.h"

enum { PROBE_TIMEOUT_MS = 500 };

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (poll(&pfd, 1, PROBE_TIMEOUT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr) {
        close(fd);
        return -1;
    }
    return fd;
}

int dyn_local_probe(const dyn_local_proc *p)
{
    if (p->probe_port <= 0)
        return 1; /* nothing to probe: running counts as ready, as in Kubernetes */
    int fd = connect_loopback(p->probe_port);
    if (fd < 0)
        return 0;
    if (p->probe_tcp || !p->probe_path) {
        close(fd);
        return 1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: dyn-probe\r\n\r\n", p->probe_path);
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    if (poll(&pfd, 1, PROBE_TIMEOUT_MS) != 1 || write(fd, req, (size_t)n) != n) {
        close(fd);
        return 0;
    }
    /* read the whole (small) response: closing early would reset the server's connection */
    char buf[64] = "", sink[2048];
    size_t got = 0;
    pfd.events = POLLIN;
    while (poll(&pfd, 1, PROBE_TIMEOUT_MS) == 1) {
        ssize_t r = got < sizeof buf - 1 ? read(fd, buf + got, sizeof buf - 1 - got) : read(fd, sink, sizeof sink);
        if (r <= 0)
            break;
        if (got < sizeof buf - 1)
            got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    /* "HTTP/1.x 2xx" or 3xx counts, as for a kubelet httpGet probe */
    return got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && (buf[9] == '2' || buf[9] == '3');
}
