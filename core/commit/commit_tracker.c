/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tracker thread of the Storage Commitment SCU. Once a second, or at
 * once when woken, it lists the pending rows that are due and takes them
 * transaction by transaction. It sends the N-ACTION for them, each under a
 * new Transaction UID, and schedules the next try after a failed request.
 * Once max_attempts requests failed or went unanswered, it marks the rows
 * failed. Each row is written before
 * its N-ACTION goes out, so a report that arrives at once finds it, and a
 * restart resumes from the index.
 */
#include "commit/commit_internal.h"
#include "archive/archive_lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Maximum due rows of one pass; the next pass takes the rest. */
#define PASS_MAX_ROWS 20000u
#define PASS_INTERVAL_MS 1000
/*
 * Of several nodes on one index, only the holder of this lease sends
 * requests. It renews the lease before each request, well within a third
 * of node.lease_seconds, and the others try to take it at every pass.
 */
#define TRACKER_LEASE_KEY "commitment:tracker"

struct commit_tracker {
    runtime *rt;
    archive *ar;
    const cairn_index_ops *ops;
    void *db;
    pthread_t thread;
    bool thread_started;
    bool stopping; /* guarded by wake_lock */
    bool woken;    /* guarded by wake_lock */
};

/* The running tracker, for commit_wake; NULL when none runs. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static commit_tracker *running;

/* A due row copied out of the listing. */
typedef struct due_row {
    char remote_ae[17];
    char sop_instance_uid[65];
    char sop_class_uid[65];
    char study_instance_uid[65];
    char calling_ae[17];
    char transaction_uid[65];
    char note[256];
    int64_t requested_at_us;
    uint32_t attempts;
} due_row;

typedef struct due_list {
    due_row *rows;
    size_t count, cap;
    bool failed;
} due_list;

void commit_wake(void)
{
    pthread_mutex_lock(&wake_lock);
    if (running != NULL) {
        running->woken = true;
        pthread_cond_broadcast(&wake_cond);
    }
    pthread_mutex_unlock(&wake_lock);
}

static int add_due(void *arg, const cairn_commitment *row)
{
    due_list *list = arg;
    due_row *out;

    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        due_row *rows = realloc(list->rows, cap * sizeof *rows);

        if (rows == NULL) {
            list->failed = true;
            return 1;
        }
        list->rows = rows;
        list->cap = cap;
    }
    out = &list->rows[list->count++];
    memset(out, 0, sizeof *out);
    snprintf(out->remote_ae, sizeof out->remote_ae, "%s", row->remote_ae);
    snprintf(out->sop_instance_uid, sizeof out->sop_instance_uid, "%s", row->sop_instance_uid);
    snprintf(out->sop_class_uid, sizeof out->sop_class_uid, "%s", row->sop_class_uid);
    snprintf(out->study_instance_uid, sizeof out->study_instance_uid, "%s",
             row->study_instance_uid);
    snprintf(out->calling_ae, sizeof out->calling_ae, "%s", row->calling_ae);
    snprintf(out->transaction_uid, sizeof out->transaction_uid, "%s", row->transaction_uid);
    snprintf(out->note, sizeof out->note, "%s", row->note);
    out->requested_at_us = row->requested_at_us;
    out->attempts = row->attempts;
    return 0;
}

/* Writes rows[0..count) back as pending or failed, with the given fields. */
static cairn_status put_rows(commit_tracker *tracker, const due_row *rows, size_t count,
                             cairn_commitment_state state, const char *transaction_uid,
                             uint32_t attempts, int64_t requested_at, int64_t due_at,
                             const char *note)
{
    cairn_commitment *out = calloc(count, sizeof *out);
    int64_t now = commit_now_us();
    cairn_status st;

    if (out == NULL)
        return CAIRN_ERR_NO_MEMORY;
    for (size_t i = 0; i < count; i++) {
        out[i].struct_size = sizeof out[i];
        out[i].state = state;
        out[i].remote_ae = rows[i].remote_ae;
        out[i].sop_instance_uid = rows[i].sop_instance_uid;
        out[i].sop_class_uid = rows[i].sop_class_uid;
        out[i].study_instance_uid = rows[i].study_instance_uid;
        out[i].calling_ae = rows[i].calling_ae;
        out[i].transaction_uid = transaction_uid;
        out[i].note = note;
        out[i].requested_at_us = requested_at;
        out[i].due_at_us = due_at;
        out[i].updated_at_us = now;
        out[i].attempts = attempts;
    }
    st = tracker->ops->commitment_put(tracker->db, out, count);
    free(out);
    if (st != CAIRN_OK)
        log_error(NULL, "commitment: writing %zu row(s) of %s failed: %s", count,
                  rows[0].remote_ae, cairn_strerror(st));
    return st;
}

/* Asks again for one transaction's due rows, or gives up on them. */
static void process_transaction(commit_tracker *tracker, const cairn_conf *conf,
                                const due_row *rows, size_t count)
{
    const conf_remote *remote = conf_find_remote(conf, rows[0].remote_ae);
    commit_instance *instances = NULL;
    char transaction_uid[65], error[320], note[400];
    uint32_t attempts = rows[0].attempts;
    int64_t now = commit_now_us();
    log_ctx log = {0};
    commit_batch batch;

    snprintf(log.calling_ae, sizeof log.calling_ae, "%s", rows[0].calling_ae);
    snprintf(log.called_ae, sizeof log.called_ae, "%s", rows[0].remote_ae);
    if (remote == NULL || !remote->commitment.enabled) {
        log_warn(&log, "commitment: %s is no longer configured for storage commitment; %zu "
                 "pending instance(s) are marked failed", rows[0].remote_ae, count);
        put_rows(tracker, rows, count, CAIRN_COMMITMENT_FAILED, rows[0].transaction_uid,
                 attempts, rows[0].requested_at_us, 0,
                 "the remote is no longer configured for storage commitment");
        return;
    }
    if (attempts >= (uint32_t)remote->commitment.max_attempts) {
        snprintf(note, sizeof note, "no N-EVENT-REPORT after %u request(s); last: %s", attempts,
                 rows[0].note);
        log_warn(&log, "commitment: %s: %zu instance(s) of transaction %s marked failed: %s",
                 remote->title, count, rows[0].transaction_uid, note);
        put_rows(tracker, rows, count, CAIRN_COMMITMENT_FAILED, rows[0].transaction_uid,
                 attempts, rows[0].requested_at_us, 0, note);
        return;
    }

    /*
     * Every N-ACTION gets a new Transaction UID, so the parts of a split
     * transaction and the requests sent again never share one.
     */
    if (commit_new_uid(transaction_uid) != 0)
        return;
    attempts++;
    if (put_rows(tracker, rows, count, CAIRN_COMMITMENT_PENDING, transaction_uid, attempts, now,
                 now + (int64_t)remote->commitment.report_timeout * 1000000,
                 "waiting for the N-EVENT-REPORT") != CAIRN_OK)
        return;

    instances = calloc(count, sizeof *instances);
    if (instances == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        instances[i].sop_class_uid = rows[i].sop_class_uid;
        instances[i].sop_instance_uid = rows[i].sop_instance_uid;
        instances[i].study_instance_uid = rows[i].study_instance_uid;
    }
    batch = (commit_batch){.remote_ae = remote->title, .calling_ae = rows[0].calling_ae,
                           .transaction_uid = transaction_uid, .instances = instances,
                           .count = count};
    log_info(&log, "commitment: requesting storage commitment of %zu instance(s) from %s "
             "(attempt %u of %d, transaction %s)", count, remote->title, attempts,
             remote->commitment.max_attempts, transaction_uid);
    if (commit_action_send(conf, tracker->ar, remote, &batch, &log, error, sizeof error) != 0) {
        int64_t delay = commit_retry_delay(&remote->commitment, attempts);

        snprintf(note, sizeof note, "N-ACTION failed: %s", error);
        log_warn(&log, "commitment: request to %s failed: %s; next try in %lld s",
                 remote->title, error, (long long)delay);
        put_rows(tracker, rows, count, CAIRN_COMMITMENT_PENDING, transaction_uid, attempts, now,
                 now + delay * 1000000, note);
    }
    free(instances);
}

static bool is_stopping(commit_tracker *tracker)
{
    bool stopping;

    pthread_mutex_lock(&wake_lock);
    stopping = tracker->stopping;
    pthread_mutex_unlock(&wake_lock);
    return stopping;
}

/*
 * Runs one pass over the due rows.
 * NOTE: requests go out one at a time, so a remote that is slow to connect
 * or to answer delays the requests to the other remotes by as much.
 */
static void run_pass(commit_tracker *tracker)
{
    cairn_commitment_filter filter = {.struct_size = sizeof filter,
                                      .state = CAIRN_COMMITMENT_PENDING,
                                      .due_before_us = commit_now_us(),
                                      .max_rows = PASS_MAX_ROWS};
    due_list list = {0};
    const cairn_conf *conf;
    cairn_status st;
    size_t start = 0;

    st = archive_host_lease_acquire(TRACKER_LEASE_KEY, 0);
    if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED)
        return;
    st = tracker->ops->commitment_list(tracker->db, &filter, add_due, &list);
    if (st != CAIRN_OK || list.failed) {
        log_error(NULL, "commitment: listing the due requests failed: %s",
                  list.failed ? "out of memory" : cairn_strerror(st));
        goto out;
    }
    if (list.count == 0)
        goto out;

    conf = runtime_conf_acquire(tracker->rt);
    /* Rows come ordered by remote and transaction: each run of equal keys is one request. */
    while (start < list.count && !is_stopping(tracker)) {
        size_t end = start + 1;

        st = archive_host_lease_acquire(TRACKER_LEASE_KEY, 0);
        if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED)
            break;

        while (end < list.count && end - start < COMMIT_MAX_REFERENCES &&
               strcmp(list.rows[end].remote_ae, list.rows[start].remote_ae) == 0 &&
               strcmp(list.rows[end].transaction_uid, list.rows[start].transaction_uid) == 0)
            end++;
        process_transaction(tracker, conf, &list.rows[start], end - start);
        start = end;
    }
    runtime_conf_release(tracker->rt, conf);

out:
    free(list.rows);
}

static void *tracker_main(void *arg)
{
    commit_tracker *tracker = arg;

    pthread_mutex_lock(&wake_lock);
    while (!tracker->stopping) {
        struct timespec deadline;

        tracker->woken = false;
        pthread_mutex_unlock(&wake_lock);
        run_pass(tracker);
        pthread_mutex_lock(&wake_lock);

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += (long)PASS_INTERVAL_MS * 1000000L;
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        while (!tracker->stopping && !tracker->woken) {
            if (pthread_cond_timedwait(&wake_cond, &wake_lock, &deadline) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&wake_lock);
    return NULL;
}

int commit_start(runtime *rt, archive *ar, commit_tracker **out)
{
    commit_tracker *tracker;
    const cairn_index_ops *ops = archive_index_ops(ar);

    *out = NULL;
    if (ops->struct_size < offsetof(cairn_index_ops, commitment_list) + sizeof ops->commitment_list ||
        ops->commitment_put == NULL || ops->commitment_list == NULL ||
        ops->commitment_report == NULL) {
        log_warn(NULL, "commitment: the index back end %s cannot keep storage commitment; "
                 "remotes with a commitment group are not asked to commit", ops->name);
        return 0;
    }
    tracker = calloc(1, sizeof *tracker);
    if (tracker == NULL)
        return -1;
    tracker->rt = rt;
    tracker->ar = ar;
    tracker->ops = ops;
    tracker->db = archive_index_db(ar);

    pthread_mutex_lock(&wake_lock);
    running = tracker;
    pthread_mutex_unlock(&wake_lock);
    if (pthread_create(&tracker->thread, NULL, tracker_main, tracker) != 0) {
        log_error(NULL, "commitment: cannot start the tracker thread");
        commit_stop(tracker);
        return -1;
    }
    tracker->thread_started = true;
    *out = tracker;
    return 0;
}

void commit_stop(commit_tracker *tracker)
{
    if (tracker == NULL)
        return;
    pthread_mutex_lock(&wake_lock);
    tracker->stopping = true;
    if (running == tracker)
        running = NULL;
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    if (tracker->thread_started)
        pthread_join(tracker->thread, NULL);
    /* Another node takes the requests over at its next pass. */
    archive_host_lease_release(TRACKER_LEASE_KEY);
    free(tracker);
}
