/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subscribers to "instance stored". A read-write lock guards the list:
 * storing threads call the subscribers under the read lock, so that a
 * plugin's removal (at unload) waits for the calls in progress.
 */
#include "archive/archive_events.h"

#include <pthread.h>

typedef struct subscription {
    const void *owner;
    cairn_instance_stored_fn fn;
    void *arg;
} subscription;

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static subscription subscriptions[ARCHIVE_EVENTS_MAX];
static size_t subscription_count;

cairn_status archive_events_subscribe(const void *owner, cairn_instance_stored_fn fn, void *arg)
{
    cairn_status st = CAIRN_OK;

    if (owner == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    pthread_rwlock_wrlock(&lock);
    if (subscription_count == ARCHIVE_EVENTS_MAX)
        st = CAIRN_ERR_LIMIT;
    else
        subscriptions[subscription_count++] = (subscription){owner, fn, arg};
    pthread_rwlock_unlock(&lock);
    return st;
}

void archive_events_unsubscribe(const void *owner)
{
    size_t kept = 0;

    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < subscription_count; i++) {
        if (subscriptions[i].owner != owner)
            subscriptions[kept++] = subscriptions[i];
    }
    subscription_count = kept;
    pthread_rwlock_unlock(&lock);
}

void archive_events_instance_stored(const cairn_dataset *attributes,
                                    const cairn_instance_file *file)
{
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < subscription_count; i++)
        subscriptions[i].fn(subscriptions[i].arg, attributes, file);
    pthread_rwlock_unlock(&lock);
}
