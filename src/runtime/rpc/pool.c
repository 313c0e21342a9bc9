/* A worker pool that grows on demand: each request runs on its own thread for as long as its
 * handler streams, so a fixed pool would stall streams behind long generations. Idle threads
 * are reused; the cap bounds the damage of a flood. */
#include "internal.h"

#include <stdlib.h>

typedef struct job {
    pool_fn fn;
    void *arg;
    struct job *next;
} job;

struct dyn_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int idle, nthreads, max, stop;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    dyn_pool *p = arg;
    pthread_setname_np(pthread_self(), "dyn-worker");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        if (!p->head && p->stop)
            break;
        job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

dyn_pool *pool_create(int max_threads)
{
    dyn_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = calloc((size_t)max_threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    p->max = max_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

int pool_submit(dyn_pool *p, pool_fn fn, void *arg)
{
    job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->stop) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    /* Count queued jobs against idle threads so a burst spawns enough of them. */
    int queued = 0;
    for (job *q = p->head; q && queued <= p->idle; q = q->next)
        queued++;
    if (queued > p->idle && p->nthreads < p->max) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (pthread_create(&p->threads[p->nthreads], &attr, pool_main, p) == 0)
            p->nthreads++;
        pthread_attr_destroy(&attr);
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void pool_destroy(dyn_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    int n = p->nthreads;
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
