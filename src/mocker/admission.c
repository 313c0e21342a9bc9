/* Admission: at most max_active requests generate; up to max_queue more wait for a slot in
 * arrival order (a condition variable, rechecked every 20 ms so a waiter whose caller went
 * away leaves the queue); anything beyond is refused at once - back-pressure, not a pile-up. */
#include "mocker/internal.h"

#include <time.h>

void mk_admission_init(mk_admission *a, int max_active, int max_queue)
{
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->active = a->queued = 0;
    a->max_active = max_active > 0 ? max_active : 1;
    a->max_queue = max_queue >= 0 ? max_queue : 0;
    a->rejected = 0;
    a->closing = 0;
}

void mk_admission_destroy(mk_admission *a)
{
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
}

mk_admit_result mk_admit(mk_admission *a, dyn_request *req)
{
    pthread_mutex_lock(&a->mu);
    if (a->closing) {
        pthread_mutex_unlock(&a->mu);
        return MK_CANCELLED;
    }
    if (a->active < a->max_active && a->queued == 0) {
        a->active++;
        pthread_mutex_unlock(&a->mu);
        return MK_ADMITTED;
    }
    if (a->queued >= a->max_queue) {
        a->rejected++;
        pthread_mutex_unlock(&a->mu);
        return MK_REJECTED;
    }
    a->queued++;
    while (a->active >= a->max_active) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 20 * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cv, &a->mu, &t);
        if (a->closing) {
            a->queued--;
            pthread_mutex_unlock(&a->mu);
            return MK_CANCELLED;
        }
        if (req && a->active >= a->max_active) {
            pthread_mutex_unlock(&a->mu);
            int stopped = dyn_request_stopped(req);     /* polls the socket: not under the lock */
            pthread_mutex_lock(&a->mu);
            if (stopped) {
                a->queued--;
                pthread_mutex_unlock(&a->mu);
                return MK_CANCELLED;
            }
        }
    }
    a->queued--;
    a->active++;
    pthread_mutex_unlock(&a->mu);
    return MK_ADMITTED;
}

void mk_release(mk_admission *a)
{
    pthread_mutex_lock(&a->mu);
    a->active--;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}
