/* nvidia-smi: the fallback when sysfs does not know a GPU's node, and the only way without the
 * driver library to learn which PCI address a GPU- UUID (in CUDA_VISIBLE_DEVICES) names.
 *
 * The program is DYN_NVIDIA_SMI when set, else "nvidia-smi" on PATH. It runs with a deadline,
 * because a wedged driver can make nvidia-smi hang for minutes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "numa/internal.h"

extern char **environ;

#define SMI_TIMEOUT_MS 10000

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

dyn_status dyn_numa_smi_parse_node(const char *text, size_t len, int *node, dyn_error *err)
{
    *node = -1;
    size_t eol = 0;
    while (eol < len && text[eol] != '\n')
        eol++;
    /* The second ':'-separated field of the first line, as the original reads it. */
    size_t a = 0;
    while (a < eol && text[a] != ':')
        a++;
    if (a == eol)
        return dyn_error_set(err, DYN_ERR_INVALID, "nvidia-smi output: no ':' in the first line");
    size_t b = ++a;
    while (b < eol && text[b] != ':')
        b++;
    while (a < b && is_space(text[a]))
        a++;
    while (b > a && is_space(text[b - 1]))
        b--;
    if (a == b)
        return dyn_error_set(err, DYN_ERR_INVALID, "nvidia-smi output: empty NUMA id");
    unsigned v = 0;
    for (size_t i = a; i < b; i++) {
        if (text[i] < '0' || text[i] > '9')
            return dyn_error_set(err, DYN_ERR_INVALID,
                                 "nvidia-smi output: NUMA id '%.*s' is not a number",
                                 (int)(b - a > 32 ? 32 : b - a), text + a);
        v = v * 10 + (unsigned)(text[i] - '0');
        if (v >= DYN_NUMA_MAX_NODES)
            return dyn_error_set(err, DYN_ERR_INVALID,
                                 "nvidia-smi output: NUMA id out of range (limit %d)",
                                 DYN_NUMA_MAX_NODES - 1);
    }
    *node = (int)v;
    return DYN_OK;
}

/* Reads up to max_digits hex digits ending at a delimiter; returns digits read or -1. */
static int hex_field(const char *s, size_t len, size_t *pos, int max_digits, uint32_t *out)
{
    int n = 0;
    uint32_t v = 0;
    while (*pos < len && hexval(s[*pos]) >= 0) {
        if (++n > max_digits)
            return -1;
        v = v * 16 + (uint32_t)hexval(s[*pos]);
        (*pos)++;
    }
    *out = v;
    return n ? n : -1;
}

dyn_status dyn_numa_pci_normalize(const char *text, size_t len, int domain_width, char out[24],
                                  dyn_error *err)
{
    out[0] = '\0';
    while (len > 0 && is_space(text[len - 1]))
        len--;
    size_t pos = 0;
    while (pos < len && is_space(text[pos]))
        pos++;
    size_t start = pos;
    /* Count ':' to know whether a domain is present ("bus:dev.fn" has one). */
    int colons = 0;
    for (size_t i = pos; i < len; i++)
        colons += text[i] == ':';
    uint32_t domain = 0, bus, dev, fn;
    if (colons == 2) {
        if (hex_field(text, len, &pos, 8, &domain) < 0 || pos >= len || text[pos++] != ':')
            goto bad;
    } else if (colons != 1) {
        goto bad;
    }
    if (hex_field(text, len, &pos, 2, &bus) < 0 || pos >= len || text[pos++] != ':')
        goto bad;
    if (hex_field(text, len, &pos, 2, &dev) < 0 || dev > 0x1f || pos >= len || text[pos++] != '.')
        goto bad;
    if (hex_field(text, len, &pos, 1, &fn) < 0 || fn > 7 || pos != len)
        goto bad;
    snprintf(out, 24, "%0*x:%02x:%02x.%x", domain_width == 8 ? 8 : 4, domain, bus, dev, fn);
    return DYN_OK;
bad:
    return dyn_error_set(err, DYN_ERR_INVALID,
                         "'%.*s' is not a PCI address (expected [domain:]bus:device.function)",
                         (int)(len - start > 40 ? 40 : len - start), text + start);
}

static int uuid_ok(const char *s, size_t n)
{
    if (n < 5 || n >= 64 || strncmp(s, "GPU-", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (hexval(s[i]) < 0 && s[i] != '-')
            return 0;
    return 1;
}

dyn_status dyn_numa_smi_parse_uuids(const char *text, size_t len, int domain_width,
                                    dyn_numa_smi_gpu **out, size_t *count, dyn_error *err)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0, line = 0;
    dyn_numa_smi_gpu *v = NULL;
    for (size_t pos = 0; pos < len;) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        line++;
        size_t a = pos, b = eol;
        pos = eol + 1;
        while (a < b && is_space(text[a]))
            a++;
        while (b > a && is_space(text[b - 1]))
            b--;
        if (a == b)
            continue;
        size_t comma = a;
        while (comma < b && text[comma] != ',')
            comma++;
        size_t u = comma + 1;
        while (u < b && is_space(text[u]))
            u++;
        dyn_numa_smi_gpu g;
        if (comma == b || dyn_numa_pci_normalize(text + a, comma - a, domain_width, g.pci, NULL) ||
            !uuid_ok(text + u, b - u)) {
            free(v);
            return dyn_error_set(err, DYN_ERR_INVALID,
                                 "nvidia-smi --query-gpu output line %zu: expected '<pci bus id>, "
                                 "GPU-<uuid>'", line);
        }
        memcpy(g.uuid, text + u, b - u);
        g.uuid[b - u] = '\0';
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            dyn_numa_smi_gpu *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                return dyn_error_set(err, DYN_ERR_NOMEM, "nvidia-smi output: out of memory");
            }
            v = nv;
        }
        v[(*count)++] = g;
    }
    *out = v;
    return DYN_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dyn_status numa_smi_run(const char *const args[], char *out, size_t cap, int *exit_code,
                        dyn_error *err)
{
    const char *prog = getenv("DYN_NVIDIA_SMI");
    if (!prog || !*prog)
        prog = "nvidia-smi";
    *exit_code = -1;
    out[0] = '\0';

    char *argv[16];
    size_t argc = 0;
    argv[argc++] = (char *)prog;
    for (size_t i = 0; args[i] && argc < 15; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return dyn_error_set(err, DYN_ERR_IO, "nvidia-smi: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "cannot run %s: %s", prog, strerror(rc));
    }

    size_t used = 0;
    int timed_out = 0;
    int64_t deadline = now_ms() + SMI_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t keep = (size_t)n;
        if (used + keep > cap - 1)
            keep = cap - 1 - used; /* more than we need: drain and drop the rest */
        memcpy(out + used, chunk, keep);
        used += keep;
    }
    out[used] = '\0';
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return dyn_error_set(err, DYN_ERR_IO, "%s: waitpid: %s", prog, strerror(errno));
    }
    if (timed_out)
        return dyn_error_set(err, DYN_ERR_TIMEOUT, "%s did not answer within %d s", prog,
                             SMI_TIMEOUT_MS / 1000);
    if (WIFEXITED(status))
        *exit_code = WEXITSTATUS(status);
    /* posix_spawnp reports a missing program as 127 from the child on some libcs. */
    if (*exit_code == 127)
        return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "cannot run %s: not found", prog);
    return DYN_OK;
}
