/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit of stores. A caller queues its store and waits. When fewer
 * than MAX_RUNNERS batches are running, a waiting caller becomes a runner.
 * It takes the queued stores (up to MAX_BATCH) and runs them in one
 * transaction (txn.c) with a savepoint per store, so one COMMIT and one
 * WAL flush cover them all. Each caller gets its own result:
 *
 *   - a store that fails on its own (invalid data, statement timeout) is
 *     rolled back to its savepoint and fails alone;
 *   - a store that loses a race (deadlock, serialization failure, unique
 *     key taken by another node) is rolled back to its savepoint and
 *     queued again once the batch has committed. By then the locks of the
 *     batch are released, so a deadlock between the batches of two nodes
 *     resolves. A store is never applied twice, because the rolled-back
 *     store is the only part that runs again;
 *   - when the whole transaction is lost (connection, COMMIT), txn.c runs
 *     the batch again or queries the server for the status of the batch's
 *     transaction.
 *
 * A batch runs without savepoints first, since nearly every store
 * succeeds. When one store fails, the batch is rolled back and runs again
 * with a savepoint per store, which gives each store its own result as
 * above. A batch of one store needs no savepoint and runs as before
 * batching, with txn.c's retries. Two runners let one batch run its
 * statements while the other waits for its COMMIT to reach the disk.
 *
 * NOTE: the callers of a batch wait for its slowest store, up to the
 * statement_timeout of each statement. MAX_RUNNERS was chosen on a busy
 * two-core machine and is not tuned for larger servers.
 */
#include <stdio.h>
#include <string.h>

#include "pgidx.h"

/* Stores in one transaction at most: bounds the locks it holds and the work a rerun repeats. */
#define MAX_BATCH 64

/* Batches running at once, each on its own connection. */
#define MAX_RUNNERS 2

/* Batches one store may be rolled back from after lost races, before it fails. */
#define MAX_CONFLICT_RUNS 8

/* Runs SQL text without parameters. */
static cairn_status run_simple(const pgidx_backend *backend, pgidx_conn *conn, const char *sql)
{
    return pgidx_exec(backend, conn, sql, 0, NULL, NULL);
}

static void drop_replaced_path(const pgidx_backend *backend, pgidx_store_job *job)
{
    if (job->replaced_path != NULL) {
        backend->api->free(job->replaced_path);
        job->replaced_path = NULL;
    }
}

/*
 * Runs the stores of batch one after the other in the transaction it
 * opens, without savepoints. Returns false when one store did not
 * succeed. The transaction is then rolled back unless the connection is
 * gone, and *status is the status of that rollback or, without a
 * connection, of the store.
 */
static bool run_without_savepoints(const pgidx_backend *backend, pgidx_conn *conn,
                                   pgidx_store_job *batch, cairn_status *status)
{
    static const char *const begin[] = {"BEGIN"};

    *status = CAIRN_OK;
    for (pgidx_store_job *job = batch; job != NULL; job = job->next) {
        *status = pgidx_store_run(backend, conn, job, begin, job == batch ? 1 : 0,
                                  job == batch ? batch->txid : NULL);
        if (*status == CAIRN_OK)
            continue;

        drop_replaced_path(backend, job);
        if (conn->failure != PGIDX_FAILED_CONNECTION)
            *status = run_simple(backend, conn, "ROLLBACK");
        return false;
    }
    return true;
}

/*
 * The body of the batch transaction; it sends BEGIN itself, in the first
 * round trip of the first store. A failure it returns ends the whole
 * transaction, and the failure of one store is kept in that store's job.
 * A batch of one store needs no savepoint: the transaction is the store.
 */
static cairn_status batch_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    static const char *const alone[] = {"BEGIN"};
    static const char *const first[] = {"BEGIN", "SAVEPOINT store"};
    static const char *const next[] = {"RELEASE SAVEPOINT store", "SAVEPOINT store"};
    pgidx_store_job *batch = arg;
    cairn_status status;

    /* The first store's first round trip reads the id of the transaction it opens. */
    batch->txid[0] = '\0';
    for (pgidx_store_job *job = batch; job != NULL; job = job->next) {
        job->status = CAIRN_OK;
        job->lost_race = false;
    }
    if (batch->next == NULL)
        return pgidx_store_run(backend, conn, batch, alone, 1, batch->txid);

    if (run_without_savepoints(backend, conn, batch, &status))
        return CAIRN_OK;
    if (status != CAIRN_OK)
        return status;

    /* That transaction was rolled back, and the next one has an id of its own. */
    batch->txid[0] = '\0';
    for (pgidx_store_job *job = batch; job != NULL; job = job->next) {
        pgidx_failure failure;
        cairn_status store_status;

        store_status = pgidx_store_run(backend, conn, job, job == batch ? first : next, 2,
                                       job == batch ? batch->txid : NULL);
        if (store_status == CAIRN_OK)
            continue;

        failure = conn->failure;
        if (failure == PGIDX_FAILED_CONNECTION)
            return store_status;
        drop_replaced_path(backend, job);
        status = run_simple(backend, conn, "ROLLBACK TO SAVEPOINT store");
        if (status != CAIRN_OK)
            return status;
        if (failure == PGIDX_FAILED_RETRY)
            job->lost_race = true;
        else
            job->status = store_status;
    }
    return CAIRN_OK;
}

/*
 * After a lost COMMIT: the batch committed as a whole or not at all. The
 * server returns the status of its transaction. Without a transaction id,
 * checking the first store that changed the index is enough, unless
 * another node replaced or removed that instance since. A batch that
 * changed nothing has no outcome to lose.
 */
static cairn_status batch_verify(const pgidx_backend *backend, pgidx_conn *conn, void *arg,
                                 bool *committed)
{
    pgidx_store_job *batch = arg;

    if (batch->txid[0] != '\0') {
        const char *values[1] = {batch->txid};
        PGresult *result = NULL;
        cairn_status status =
            pgidx_exec(backend, conn, "SELECT txid_status($1::bigint)", 1, values, &result);
        const char *state = status == CAIRN_OK && PQntuples(result) == 1 &&
                                    !PQgetisnull(result, 0, 0)
                                ? PQgetvalue(result, 0, 0)
                                : NULL;

        /* The server may not have ended the lost session yet; the caller asks again. */
        if (state != NULL && strcmp(state, "in progress") == 0)
            status = CAIRN_ERR_BUSY;
        else if (state != NULL)
            *committed = strcmp(state, "committed") == 0;
        PQclear(result);
        if (status != CAIRN_OK || state != NULL)
            return status;
    }

    for (pgidx_store_job *job = batch; job != NULL; job = job->next) {
        if (job->status != CAIRN_OK || job->lost_race)
            continue;
        if (job->outcome == CAIRN_STORE_KEPT || job->outcome == CAIRN_STORE_REJECTED)
            continue;
        return pgidx_store_check(backend, conn, job, committed);
    }
    *committed = true;
    return CAIRN_OK;
}

/* Runs batch (a NULL-terminated list); returns the most conflicts of a store to run again. */
static int run_batch(pgidx_index *index, pgidx_store_job *batch)
{
    const pgidx_backend *backend = index->backend;
    cairn_status status =
        pgidx_transaction_begun_by_body(index, "store", batch_body, batch_verify, batch);
    int conflicts = 0;

    for (pgidx_store_job *job = batch; job != NULL; job = job->next) {
        if (status != CAIRN_OK) {
            /* A store rolled back to its savepoint was in no COMMIT, lost or not. */
            if (job->lost_race)
                job->status = status == CAIRN_ERR_OUTCOME_UNKNOWN ? CAIRN_ERR_DATABASE : status;
            else if (job->status == CAIRN_OK)
                job->status = status;
            job->lost_race = false;
        }
        if (job->status != CAIRN_OK)
            drop_replaced_path(backend, job);
        if (!job->lost_race)
            continue;

        job->conflicts++;
        if (job->conflicts >= MAX_CONFLICT_RUNS) {
            pgidx_log(backend, CAIRN_LOG_ERROR,
                      "index store of %s lost to concurrent changes %d times; giving up",
                      job->record->sop_uid, job->conflicts);
            job->status = CAIRN_ERR_BUSY;
            job->lost_race = false;
        } else if (job->conflicts > conflicts) {
            conflicts = job->conflicts;
        }
    }
    return conflicts;
}

static void enqueue(pgidx_index *index, pgidx_store_job *job)
{
    job->next = NULL;
    if (index->queue_tail != NULL)
        index->queue_tail->next = job;
    else
        index->queue_head = job;
    index->queue_tail = job;
}

/* Takes up to MAX_BATCH jobs from the front of the queue; index->lock is held. */
static pgidx_store_job *take_batch(pgidx_index *index)
{
    pgidx_store_job *batch = index->queue_head;
    pgidx_store_job *last = batch;

    for (int size = 1; size < MAX_BATCH && last->next != NULL; size++)
        last = last->next;
    index->queue_head = last->next;
    if (index->queue_head == NULL)
        index->queue_tail = NULL;
    last->next = NULL;
    return batch;
}

/*
 * Wakes the caller at the front of the queue when a runner slot is free,
 * so that it runs the next batch; index->lock is held.
 */
static void wake_next_runner(pgidx_index *index)
{
    if (index->queue_head != NULL && index->runners < MAX_RUNNERS)
        pthread_cond_signal(&index->queue_head->wake);
}

/*
 * Queues job and returns once a batch has committed it or it has failed
 * (job->status). Each caller waits on a condition of its own, so a batch
 * that ends wakes only its own callers and the next runner.
 */
void pgidx_batch_submit(pgidx_index *index, pgidx_store_job *job)
{
    pthread_cond_init(&job->wake, NULL);
    pthread_mutex_lock(&index->lock);
    enqueue(index, job);

    while (!job->done) {
        pgidx_store_job *batch;
        int conflicts;

        if (index->queue_head == NULL || index->runners >= MAX_RUNNERS) {
            pthread_cond_wait(&job->wake, &index->lock);
            continue;
        }

        batch = take_batch(index);
        index->runners++;
        wake_next_runner(index);
        pthread_mutex_unlock(&index->lock);

        conflicts = run_batch(index, batch);
        if (conflicts > 0)
            pgidx_pause_before_retry(conflicts);

        /* A caller returns once done is set, so no job is touched after that. */
        pthread_mutex_lock(&index->lock);
        for (pgidx_store_job *item = batch; item != NULL;) {
            pgidx_store_job *next = item->next;

            if (item->lost_race) {
                enqueue(index, item);
            } else {
                item->done = true;
                if (item != job)
                    pthread_cond_signal(&item->wake);
            }
            item = next;
        }
        index->runners--;
        if (job->done)
            wake_next_runner(index);
    }
    pthread_mutex_unlock(&index->lock);
    pthread_cond_destroy(&job->wake);
}
