/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The retry thread: delivers the reports that go on a new association,
 * and those the requesting association could not carry. A failed delivery
 * is tried again after 5 s, 30 s, 2 min, then every 10 min, up to
 * max_attempts deliveries in all; then the transaction is dropped with an
 * error in the log. After each failure the document in the index is
 * updated, so a restart resumes with the same results and attempt count.
 * At its start the thread loads the transactions the last run left.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commitment.h"

static const int64_t retry_delays[] = {5, 30, 120, 600};
#define RETRY_DELAY_COUNT (sizeof retry_delays / sizeof retry_delays[0])

/* Seconds between two tries to read the documents while the archive is not open yet. */
#define LOAD_RETRY_SECONDS 1

bool commitment_begin(commitment *cm, const char *transaction_uid)
{
    bool fresh = true;

    pthread_mutex_lock(&cm->lock);
    for (size_t i = 0; i < cm->n_in_progress; i++) {
        if (strcmp(cm->in_progress[i], transaction_uid) == 0)
            fresh = false;
    }
    if (fresh && cm->n_in_progress == cm->cap_in_progress) {
        size_t cap = cm->cap_in_progress ? cm->cap_in_progress * 2 : 16;
        char **grown = realloc(cm->in_progress, cap * sizeof *grown);

        if (grown != NULL) {
            cm->in_progress = grown;
            cm->cap_in_progress = cap;
        }
    }
    /* NOTE: out of memory, the UID goes untracked and a duplicate would not be detected. */
    if (fresh && cm->n_in_progress < cm->cap_in_progress) {
        char *copy = strdup(transaction_uid);

        if (copy != NULL)
            cm->in_progress[cm->n_in_progress++] = copy;
    }
    pthread_mutex_unlock(&cm->lock);
    return fresh;
}

void commitment_end(commitment *cm, const char *transaction_uid)
{
    pthread_mutex_lock(&cm->lock);
    for (size_t i = 0; i < cm->n_in_progress; i++) {
        if (strcmp(cm->in_progress[i], transaction_uid) == 0) {
            free(cm->in_progress[i]);
            cm->in_progress[i] = cm->in_progress[--cm->n_in_progress];
            break;
        }
    }
    pthread_mutex_unlock(&cm->lock);
}

void commitment_finish(commitment *cm, commitment_txn *txn)
{
    cairn_status st = cm->api->archive_document_delete(txn->id);

    if (st != CAIRN_OK && st != CAIRN_ERR_NOT_FOUND)
        cm->api->log(cm->self, CAIRN_LOG_WARN, "cannot remove the record of Storage Commitment "
                     "transaction %s: %s; it may be reported again after a restart",
                     txn->transaction_uid, cairn_strerror(st));
    if (!txn->duplicate)
        commitment_end(cm, txn->transaction_uid);
    commitment_lease_drop(cm, txn->id);
    commitment_txn_free(txn);
}

void commitment_queue_push(commitment *cm, commitment_txn *txn)
{
    pthread_mutex_lock(&cm->lock);
    txn->next = cm->queue;
    cm->queue = txn;
    pthread_cond_signal(&cm->wake);
    pthread_mutex_unlock(&cm->lock);
}

/*
 * Loads one transaction left by the last run, or by a node that stopped,
 * into the queue. Records this node handles, and those whose lease another
 * node holds, are skipped.
 */
int commitment_queue_load(void *arg, const char *id, const char *document)
{
    commitment *cm = arg;
    commitment_txn *txn;

    if (commitment_lease_owned(cm, id) || !commitment_lease_take(cm, id))
        return 0;
    txn = commitment_record_parse(id, document);
    if (txn == NULL) {
        cm->api->log(cm->self, CAIRN_LOG_WARN, "the Storage Commitment record %s cannot be read; "
                     "it is removed", id);
        cm->api->archive_document_delete(id);
        return 0;
    }
    txn->owner = cm;
    if (!txn->duplicate && !commitment_begin(cm, txn->transaction_uid))
        txn->duplicate = true;
    cm->api->log(cm->self, CAIRN_LOG_INFO, "Storage Commitment transaction %s from %s is not "
                 "reported yet; it will be", txn->transaction_uid, txn->calling_ae);
    commitment_queue_push(cm, txn);
    return 0;
}

/* Takes the queued transactions that are due at now; *next_due gets the earliest other. */
static commitment_txn *take_due(commitment *cm, int64_t now, int64_t *next_due)
{
    commitment_txn *due = NULL, **link = &cm->queue;

    *next_due = INT64_MAX;
    while (*link != NULL) {
        commitment_txn *txn = *link;

        if (txn->next_attempt <= now) {
            *link = txn->next;
            txn->next = due;
            due = txn;
        } else {
            if (txn->next_attempt < *next_due)
                *next_due = txn->next_attempt;
            link = &txn->next;
        }
    }
    return due;
}

/* Records a failed delivery and queues the next one, or drops the transaction. */
static void retry_later(commitment *cm, commitment_txn *txn, cairn_status st)
{
    const cairn_host_api *api = cm->api;
    size_t step;
    char *document;

    txn->attempts++;
    if (txn->attempts >= cm->max_attempts) {
        api->log(cm->self, CAIRN_LOG_ERROR, "Storage Commitment transaction %s: the "
                 "N-EVENT-REPORT to %s failed %u times (last: %s); it is dropped",
                 txn->transaction_uid, txn->calling_ae, txn->attempts, cairn_strerror(st));
        commitment_finish(cm, txn);
        return;
    }
    step = txn->attempts - 1 < RETRY_DELAY_COUNT ? txn->attempts - 1 : RETRY_DELAY_COUNT - 1;
    txn->next_attempt = (int64_t)time(NULL) + retry_delays[step];
    api->log(cm->self, CAIRN_LOG_WARN, "Storage Commitment transaction %s: the N-EVENT-REPORT "
             "to %s failed (%s); attempt %u of %u in %lld s", txn->transaction_uid,
             txn->calling_ae, cairn_strerror(st), txn->attempts + 1, cm->max_attempts,
             (long long)retry_delays[step]);

    document = commitment_record_format(txn);
    if (document == NULL || api->archive_document_put(txn->id, document) != CAIRN_OK)
        api->log(cm->self, CAIRN_LOG_WARN, "cannot update the record of Storage Commitment "
                 "transaction %s", txn->transaction_uid);
    free(document);
    commitment_queue_push(cm, txn);
}

static void deliver_due(commitment *cm, commitment_txn *due)
{
    while (due != NULL) {
        commitment_txn *txn = due;
        cairn_status st;

        due = txn->next;
        txn->next = NULL;
        st = commitment_report_new(cm, txn);
        if (st == CAIRN_OK)
            commitment_finish(cm, txn);
        else
            retry_later(cm, txn, st);
    }
}

bool commitment_load_documents(commitment *cm)
{
    cairn_status st = CAIRN_OK;
    bool loaded;

    pthread_mutex_lock(&cm->load_lock);
    if (!cm->documents_loaded) {
        st = cm->api->archive_document_list(COMMITMENT_ID_PREFIX, commitment_queue_load, cm);
        if (st != CAIRN_OK && st != CAIRN_ERR_BUSY)
            cm->api->log(cm->self, CAIRN_LOG_ERROR, "cannot read the Storage Commitment "
                         "records: %s", cairn_strerror(st));
        cm->documents_loaded = st != CAIRN_ERR_BUSY;
    }
    loaded = cm->documents_loaded;
    pthread_mutex_unlock(&cm->load_lock);
    return loaded;
}

static void *run(void *arg)
{
    commitment *cm = arg;
    bool loaded = false;

    pthread_mutex_lock(&cm->lock);
    while (!cm->stopping) {
        int64_t now = (int64_t)time(NULL), next_due;
        commitment_txn *due;
        struct timespec until;

        if (!loaded) {
            pthread_mutex_unlock(&cm->lock);
            loaded = commitment_load_documents(cm);
            pthread_mutex_lock(&cm->lock);
        }
        if (loaded && now >= cm->leases_checked + commitment_lease_interval(cm)) {
            pthread_mutex_unlock(&cm->lock);
            commitment_lease_pass(cm);
            pthread_mutex_lock(&cm->lock);
        }
        due = take_due(cm, now, &next_due);
        if (due != NULL) {
            pthread_mutex_unlock(&cm->lock);
            deliver_due(cm, due);
            pthread_mutex_lock(&cm->lock);
            continue;
        }

        clock_gettime(CLOCK_REALTIME, &until);
        if (!loaded)
            next_due = now + LOAD_RETRY_SECONDS;
        else if (next_due > cm->leases_checked + commitment_lease_interval(cm))
            next_due = cm->leases_checked + commitment_lease_interval(cm);
        until.tv_sec = next_due == INT64_MAX ? until.tv_sec + 3600
                       : (time_t)(until.tv_sec + (next_due > now ? next_due - now : 0));
        pthread_cond_timedwait(&cm->wake, &cm->lock, &until);
    }
    pthread_mutex_unlock(&cm->lock);
    return NULL;
}

int commitment_queue_start(commitment *cm)
{
    int rc = pthread_create(&cm->thread, NULL, run, cm);

    if (rc != 0) {
        cm->api->log(cm->self, CAIRN_LOG_ERROR, "cannot start the report thread: %s",
                     strerror(rc));
        return -1;
    }
    cm->thread_started = true;
    return 0;
}

void commitment_queue_stop(commitment *cm)
{
    commitment_txn *txn;

    if (cm->thread_started) {
        pthread_mutex_lock(&cm->lock);
        cm->stopping = true;
        pthread_cond_broadcast(&cm->wake);
        pthread_mutex_unlock(&cm->lock);
        pthread_join(cm->thread, NULL);
        cm->thread_started = false;
    }

    /* The records stay in the index: the next start, or another node, delivers them. */
    while ((txn = cm->queue) != NULL) {
        cm->queue = txn->next;
        commitment_lease_drop(cm, txn->id);
        commitment_txn_free(txn);
    }
}
