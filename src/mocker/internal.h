/* Mocker internals shared by its files (not public). */
#ifndef DYN_MOCKER_INTERNAL_H
#define DYN_MOCKER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "dyn/discovery.h"
#include "mocker/mocker.h"

/* ---- admission.c: concurrency slots and a bounded waiting queue ---- */
typedef struct mk_admission {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active, queued, max_active, max_queue;
    int closing;                 /* shutting down: waiters leave, newcomers are refused */
    uint64_t rejected;
} mk_admission;

typedef enum { MK_ADMITTED = 0, MK_REJECTED, MK_CANCELLED } mk_admit_result;
void mk_admission_init(mk_admission *a, int max_active, int max_queue);
void mk_admission_destroy(mk_admission *a);
/* Takes a slot, waiting in the queue if there is room; gives up when req is stopped. */
mk_admit_result mk_admit(mk_admission *a, dyn_request *req);
void mk_release(mk_admission *a);

/* ---- card.c: the model record under the primary lease ---- */
typedef struct mk_card {
    dyn_runtime *rt;
    char model[256], component[128], endpoint[128];
    int context_length;
    pthread_mutex_t mu;
    char key[640];               /* the key registered last ("" before) */
    int handle;
} mk_card;
dyn_status mk_card_register(mk_card *c, dyn_error *err);
void mk_card_deregister(mk_card *c);
int mk_card_registered(mk_card *c);
/* The record's JSON for an instance (caller frees). */
char *mk_card_record(const mk_card *c, uint64_t instance, size_t *len);

#endif
