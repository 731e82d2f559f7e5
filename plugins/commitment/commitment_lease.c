/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases of the pending reports, for several cairnd nodes on one index.
 * Each kept record (an N-ACTION whose N-EVENT-REPORT is not delivered yet)
 * has the lease "commitment-report:<record id>". The node that takes the
 * N-ACTION takes the lease before the record is written, and renews it
 * while the report waits. Every node lists the records at each pass and
 * queues those whose lease it can take, which are the records of a node
 * that stopped. A node frozen longer than the lease may deliver a report
 * that its successor delivers too, so delivery is at least once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commitment.h"

#define LEASE_PREFIX "commitment-report:"

static bool host_has_leases(const commitment *cm)
{
    return CAIRN_HOST_HAS(cm->api, archive_lease_ms) && cm->api->archive_lease_acquire != NULL;
}

static void lease_key(const char *id, char *key, size_t size)
{
    snprintf(key, size, LEASE_PREFIX "%s", id);
}

/* Returns the index of id in cm->owned, or -1. Called locked. */
static long find_owned(const commitment *cm, const char *id)
{
    for (size_t i = 0; i < cm->n_owned; i++) {
        if (strcmp(cm->owned[i], id) == 0)
            return (long)i;
    }
    return -1;
}

static void add_owned(commitment *cm, const char *id)
{
    pthread_mutex_lock(&cm->lock);
    if (find_owned(cm, id) < 0) {
        if (cm->n_owned == cm->cap_owned) {
            size_t cap = cm->cap_owned ? 2 * cm->cap_owned : 16;
            char **grown = realloc(cm->owned, cap * sizeof *grown);

            if (grown != NULL) {
                cm->owned = grown;
                cm->cap_owned = cap;
            }
        }
        /* NOTE: out of memory, the id goes unnoted and its lease lapses, so another
         * node may deliver the report too. */
        if (cm->n_owned < cm->cap_owned) {
            char *copy = strdup(id);

            if (copy != NULL)
                cm->owned[cm->n_owned++] = copy;
        }
    }
    pthread_mutex_unlock(&cm->lock);
}

static void remove_owned(commitment *cm, const char *id)
{
    long i;

    pthread_mutex_lock(&cm->lock);
    i = find_owned(cm, id);
    if (i >= 0) {
        free(cm->owned[i]);
        cm->owned[i] = cm->owned[--cm->n_owned];
    }
    pthread_mutex_unlock(&cm->lock);
}

bool commitment_lease_owned(commitment *cm, const char *id)
{
    bool owned;

    pthread_mutex_lock(&cm->lock);
    owned = find_owned(cm, id) >= 0;
    pthread_mutex_unlock(&cm->lock);
    return owned;
}

bool commitment_lease_take(commitment *cm, const char *id)
{
    char key[160];
    cairn_status st;

    if (!host_has_leases(cm) || cm->leases_unsupported)
        return true;
    lease_key(id, key, sizeof key);
    st = cm->api->archive_lease_acquire(key, 0);
    if (st == CAIRN_ERR_UNSUPPORTED) {
        cm->leases_unsupported = true;
        return true;
    }
    if (st != CAIRN_OK)
        return false;
    add_owned(cm, id);
    return true;
}

void commitment_lease_drop(commitment *cm, const char *id)
{
    char key[160];

    if (!host_has_leases(cm) || cm->leases_unsupported)
        return;
    lease_key(id, key, sizeof key);
    cm->api->archive_lease_release(key);
    remove_owned(cm, id);
}

int64_t commitment_lease_interval(commitment *cm)
{
    int64_t seconds;

    if (!host_has_leases(cm) || cm->leases_unsupported)
        return 3600;
    seconds = (int64_t)cm->api->archive_lease_ms() / 3000;
    return seconds > 0 ? seconds : 1;
}

/* Drops the queued record id, whose lease another node took. */
static void forget_queued(commitment *cm, const char *id)
{
    commitment_txn *lost = NULL, **link;

    pthread_mutex_lock(&cm->lock);
    for (link = &cm->queue; *link != NULL; link = &(*link)->next) {
        if (strcmp((*link)->id, id) == 0) {
            lost = *link;
            *link = lost->next;
            break;
        }
    }
    pthread_mutex_unlock(&cm->lock);
    if (lost == NULL)
        return;
    cm->api->log(cm->self, CAIRN_LOG_WARN, "Storage Commitment transaction %s: another node "
                 "took over its report", lost->transaction_uid);
    if (!lost->duplicate)
        commitment_end(cm, lost->transaction_uid);
    commitment_txn_free(lost);
}

void commitment_lease_pass(commitment *cm)
{
    char **ids = NULL;
    size_t n = 0;
    cairn_status st;

    cm->leases_checked = (int64_t)time(NULL);
    if (!host_has_leases(cm) || cm->leases_unsupported)
        return;

    pthread_mutex_lock(&cm->lock);
    if (cm->n_owned > 0)
        ids = calloc(cm->n_owned, sizeof *ids);
    for (size_t i = 0; ids != NULL && i < cm->n_owned; i++) {
        ids[i] = strdup(cm->owned[i]);
        if (ids[i] != NULL)
            n = i + 1;
    }
    pthread_mutex_unlock(&cm->lock);

    for (size_t i = 0; i < n; i++) {
        char key[160];

        if (ids[i] == NULL)
            continue;
        lease_key(ids[i], key, sizeof key);
        if (cm->api->archive_lease_acquire(key, 0) == CAIRN_ERR_BUSY) {
            remove_owned(cm, ids[i]);
            forget_queued(cm, ids[i]);
        }
        free(ids[i]);
    }
    free(ids);

    st = cm->api->archive_document_list(COMMITMENT_ID_PREFIX, commitment_queue_load, cm);
    if (st != CAIRN_OK && st != CAIRN_ERR_BUSY)
        cm->api->log(cm->self, CAIRN_LOG_WARN, "cannot read the Storage Commitment records: %s",
                     cairn_strerror(st));
}
