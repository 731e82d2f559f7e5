/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-remote limit of simultaneous outgoing associations
 * (remotes[].max_associations). Counters are kept by remote title for the
 * life of the process, in a list under one mutex that grows by one entry
 * per remote ever used. A caller over the limit waits on a condition
 * variable until a slot is released.
 */
#include "scu/scu_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct remote_slots {
    struct remote_slots *next;
    int in_use;
    char title[17];
} remote_slots;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_freed = PTHREAD_COND_INITIALIZER;
static remote_slots *slots_list;

/* Returns the entry of title, adding it when new. Called with slots_lock held. */
static remote_slots *find_or_add(const char *title)
{
    remote_slots *s;

    for (s = slots_list; s != NULL; s = s->next) {
        if (strcmp(s->title, title) == 0)
            return s;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    snprintf(s->title, sizeof s->title, "%s", title);
    s->next = slots_list;
    slots_list = s;
    return s;
}

int scu_slot_acquire(const char *title, int max_associations)
{
    struct timespec deadline;
    remote_slots *s;
    int result = -1;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SCU_SLOT_WAIT_SECONDS;

    pthread_mutex_lock(&slots_lock);
    s = find_or_add(title);
    while (s != NULL && s->in_use >= max_associations) {
        if (pthread_cond_timedwait(&slot_freed, &slots_lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (s != NULL && s->in_use < max_associations) {
        s->in_use++;
        result = 0;
    }
    pthread_mutex_unlock(&slots_lock);
    return result;
}

void scu_slot_release(const char *title)
{
    remote_slots *s;

    pthread_mutex_lock(&slots_lock);
    for (s = slots_list; s != NULL; s = s->next) {
        if (strcmp(s->title, title) == 0 && s->in_use > 0) {
            s->in_use--;
            break;
        }
    }
    pthread_cond_broadcast(&slot_freed);
    pthread_mutex_unlock(&slots_lock);
}
