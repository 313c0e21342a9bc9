/* Real nats-server and etcd for integration tests, on free loopback ports.
 *
 * Every process started here runs in its own process group, gets PR_SET_PDEATHSIG so it dies
 * with the test, and is remembered in a registry that an atexit hook (and SIGINT/SIGTERM/
 * SIGABRT handlers) kill, so a failing or aborted test never leaves servers behind. */
#ifndef DYN_TEST_SERVERS_H
#define DYN_TEST_SERVERS_H

#include <sys/types.h>

typedef enum { TS_NATS, TS_ETCD, TS_PROC } ts_kind;

typedef struct test_server {
    ts_kind kind;
    pid_t pid;
    int port;          /* client port */
    int peer_port;     /* etcd peer port */
    char dir[256];     /* temporary directory (config, data, logs) */
    char url[128];     /* nats://127.0.0.1:port or http://127.0.0.1:port */
    char conf[16384];  /* nats extra config, kept for restart */
    char tls[3][400];  /* etcd TLS: ca, server cert, server key (empty = plain http) */
} test_server;

/* A free TCP port on 127.0.0.1 (bind to 0 and release). */
int ts_free_port(void);

/* Starts nats-server -js with extra_conf appended to the config (may be NULL). Waits until it
 * accepts connections (10 s). 0 on success. */
int ts_nats_start(test_server *s, const char *extra_conf);

/* Starts a single-member etcd and waits until /health answers (15 s). 0 on success. */
int ts_etcd_start(test_server *s);

/* Starts an etcd that serves https and requires client certificates signed by ca. */
int ts_etcd_start_tls(test_server *s, const char *ca, const char *cert, const char *key);

/* Starts argv[0] (absolute path) with extra environment entries (NULL-terminated, may be NULL). */
int ts_proc_start(test_server *s, char *const argv[], char *const env_add[]);

/* SIGTERM, then SIGKILL after 5 s; reaps. Keeps the directory (for restart). */
void ts_stop(test_server *s);
/* SIGKILL and reap. */
void ts_kill(test_server *s);
/* Starts the same server again on the same ports and data. 0 on success. */
int ts_restart(test_server *s);
/* Stops and removes the directory. */
void ts_destroy(test_server *s);

/* Path of a file in the server's directory (static buffer). */
const char *ts_file(test_server *s, const char *name);

/* Runs a shell command with a timeout (seconds); returns its exit status or -1. */
int ts_sh(int timeout_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic milliseconds. */
long long ts_now_ms(void);

#endif
