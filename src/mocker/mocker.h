/* `dyn mocker`: a simulated inference engine that serves the worker contract.
 *
 * It serves {component}/{endpoint} (default backend/generate) through libdyn and registers a
 * model record v1/mdc/{ns}/{component}/{endpoint}/{instance_hex} under the primary lease. Each
 * request body is an OpenAI request (chat, completions or embeddings, told apart by its
 * "messages", "prompt" or "input" field); each streamed item is one OpenAI object. Requests
 * beyond max_concurrency wait in a queue of max_queue; beyond that they are refused at once
 * with the error "overloaded: ...". */
#ifndef DYN_MOCKER_H
#define DYN_MOCKER_H

#include <stddef.h>

#include "dyn/rpc.h"

typedef struct dyn_mocker_config {
    const char *model_name;      /* required: the card's display_name */
    const char *component;       /* default "backend" */
    const char *endpoint;        /* default "generate" */
    double ttft_ms;              /* time to first token */
    double itl_ms;               /* time between tokens */
    double speedup;              /* divides both delays (the original's --speedup-ratio) */
    int max_concurrency;         /* requests generating at once */
    int max_queue;               /* requests waiting for a slot; more are refused */
    int max_tokens_default;      /* tokens when the request names no max_tokens */
    int embedding_dim_default;   /* dimensions when the request names none */
    int context_length;          /* advertised in the card */
    size_t max_response;         /* largest embeddings response in bytes */
} dyn_mocker_config;

void dyn_mocker_config_default(dyn_mocker_config *cfg);

typedef struct dyn_mocker dyn_mocker;

/* Serves the endpoint and registers the model record. rt must outlive the mocker. */
dyn_status dyn_mocker_start(dyn_runtime *rt, const dyn_mocker_config *cfg, dyn_mocker **out, dyn_error *err);
/* Deregisters, waits for running requests (which see their request stopped), frees. */
void dyn_mocker_stop(dyn_mocker *m);
/* 1 once the endpoint and the model record are registered and NATS is connected. */
int dyn_mocker_healthy(dyn_mocker *m);
/* Requests generating / waiting right now. */
int dyn_mocker_active(dyn_mocker *m);
int dyn_mocker_queued(dyn_mocker *m);

/* ---- content (text.c): deterministic tokens and OpenAI objects, exposed for tests ---- */
typedef struct dyn_buf dyn_buf;
/* The i-th token of a response to a prompt with hash seed (no leading space for i == 0). */
const char *dyn_mocker_token(unsigned long long seed, int i, int *leading_space);
unsigned long long dyn_mocker_hash(const void *p, size_t n, unsigned long long h);
/* Writes n deterministic unit-norm floats for an input with hash seed. */
void dyn_mocker_embedding(unsigned long long seed, float *out, size_t n);
/* Base64 of n little-endian float32 values, appended to b. */
void dyn_mocker_base64_floats(dyn_buf *b, const float *v, size_t n);

#endif
