/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer thread and its group commit. Every change to the index goes
 * through one connection owned by this thread. A caller queues a job and
 * waits. The thread takes every queued job (up to max_batch) and runs
 * them in one transaction with a savepoint per job. It commits once, then
 * wakes each caller with its own result. One fsync thus covers many
 * C-STOREs, and a job that fails is rolled back to its savepoint without
 * failing the others.
 */
#include <stdlib.h>

#include "sqlidx.h"

typedef enum job_kind { JOB_STORE, JOB_REMOVE } job_kind;

/* One queued change; lives on the waiting caller's stack. */
typedef struct job {
    job_kind kind;
    const sqlidx_record *record; /* JOB_STORE */
    cairn_duplicate_policy policy;
    const char *sop_uid; /* JOB_REMOVE */
    bool want_replaced_path;

    cairn_status status;
    cairn_store_outcome outcome;
    char *replaced_path; /* host alloc */
    bool done;
    struct job *next;
} job;

struct sqlidx_writer {
    const sqlidx_backend *backend;
    sqlidx_conn *conn;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work_ready; /* the thread waits here for jobs */
    pthread_cond_t work_done;  /* callers wait here for their job */
    job *head;
    job *tail;
    bool stopping;
};

/* Runs one job inside the open transaction, undoing it alone on failure. */
static void run_job(sqlidx_writer *writer, job *item)
{
    const sqlidx_backend *backend = writer->backend;
    cairn_status status = sqlidx_run(backend, writer->conn, SQLIDX_SAVEPOINT);

    if (status != CAIRN_OK) {
        item->status = status;
        return;
    }

    if (item->kind == JOB_STORE)
        status = sqlidx_write_store(backend, writer->conn, item->record, item->policy,
                                    &item->outcome,
                                    item->want_replaced_path ? &item->replaced_path : NULL);
    else
        status = sqlidx_write_remove(backend, writer->conn, item->sop_uid);
    item->status = status;

    if (status != CAIRN_OK && sqlite3_get_autocommit(writer->conn->db) == 0)
        sqlidx_run(backend, writer->conn, SQLIDX_ROLLBACK_TO);
    if (sqlite3_get_autocommit(writer->conn->db) == 0)
        sqlidx_run(backend, writer->conn, SQLIDX_RELEASE);
}

/* Fails every job of batch that had succeeded, after the transaction was lost. */
static void fail_batch(const sqlidx_backend *backend, job *batch, cairn_status status)
{
    for (job *item = batch; item != NULL; item = item->next) {
        if (item->status != CAIRN_OK)
            continue;
        item->status = status;
        if (item->replaced_path != NULL) {
            backend->api->free(item->replaced_path);
            item->replaced_path = NULL;
        }
    }
}

/* Runs batch (a NULL-terminated list) in one transaction. */
static void run_batch(sqlidx_writer *writer, job *batch)
{
    const sqlidx_backend *backend = writer->backend;
    cairn_status status = sqlidx_run(backend, writer->conn, SQLIDX_BEGIN);

    for (job *item = batch; item != NULL; item = item->next)
        item->status = status;
    if (status != CAIRN_OK)
        return;

    for (job *item = batch; item != NULL; item = item->next) {
        run_job(writer, item);

        /* An I/O or full-disk error can end the whole transaction. */
        if (sqlite3_get_autocommit(writer->conn->db) != 0) {
            sqlidx_log(backend, CAIRN_LOG_ERROR,
                       "index transaction was rolled back; failing its %s",
                       batch->next != NULL ? "other changes too" : "change");
            fail_batch(backend, batch, item->status != CAIRN_OK ? item->status
                                                                : CAIRN_ERR_DATABASE);
            for (job *rest = item->next; rest != NULL; rest = rest->next)
                rest->status = CAIRN_ERR_DATABASE;
            return;
        }
    }

    status = sqlidx_run(backend, writer->conn, SQLIDX_COMMIT);
    if (status != CAIRN_OK) {
        if (sqlite3_get_autocommit(writer->conn->db) == 0)
            sqlidx_run(backend, writer->conn, SQLIDX_ROLLBACK);
        fail_batch(backend, batch, status);
    }
}

static void *writer_main(void *arg)
{
    sqlidx_writer *writer = arg;
    job *batch;
    job *last;
    int batch_size;

    pthread_mutex_lock(&writer->lock);
    for (;;) {
        while (writer->head == NULL && !writer->stopping)
            pthread_cond_wait(&writer->work_ready, &writer->lock);
        if (writer->head == NULL)
            break;

        /* Take up to max_batch jobs from the front of the queue. */
        batch = writer->head;
        last = batch;
        for (batch_size = 1; batch_size < writer->backend->max_batch && last->next != NULL;
             batch_size++)
            last = last->next;
        writer->head = last->next;
        if (writer->head == NULL)
            writer->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&writer->lock);

        run_batch(writer, batch);

        pthread_mutex_lock(&writer->lock);
        for (job *item = batch; item != NULL;) {
            job *next = item->next;

            item->done = true;
            item = next;
        }
        pthread_cond_broadcast(&writer->work_done);
    }
    pthread_mutex_unlock(&writer->lock);
    return NULL;
}

/* Opens the writer connection on path (already migrated) and starts the thread. */
cairn_status sqlidx_writer_start(const sqlidx_backend *backend, const char *path,
                                 sqlidx_writer **out)
{
    sqlidx_writer *writer = calloc(1, sizeof(*writer));
    cairn_status status;
    int rc;

    *out = NULL;
    if (writer == NULL)
        return CAIRN_ERR_NO_MEMORY;
    writer->backend = backend;

    status = sqlidx_conn_open(backend, path, true, &writer->conn);
    if (status != CAIRN_OK) {
        free(writer);
        return status;
    }

    pthread_mutex_init(&writer->lock, NULL);
    pthread_cond_init(&writer->work_ready, NULL);
    pthread_cond_init(&writer->work_done, NULL);
    rc = pthread_create(&writer->thread, NULL, writer_main, writer);
    if (rc != 0) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot start the index writer thread: error %d",
                   rc);
        pthread_cond_destroy(&writer->work_done);
        pthread_cond_destroy(&writer->work_ready);
        pthread_mutex_destroy(&writer->lock);
        sqlidx_conn_close(writer->conn);
        free(writer);
        return CAIRN_ERR_NO_MEMORY;
    }

    *out = writer;
    return CAIRN_OK;
}

/* Runs the queued jobs, stops the thread and closes its connection. NULL does nothing. */
void sqlidx_writer_stop(sqlidx_writer *writer)
{
    if (writer == NULL)
        return;

    pthread_mutex_lock(&writer->lock);
    writer->stopping = true;
    pthread_cond_signal(&writer->work_ready);
    pthread_mutex_unlock(&writer->lock);
    pthread_join(writer->thread, NULL);

    pthread_cond_destroy(&writer->work_done);
    pthread_cond_destroy(&writer->work_ready);
    pthread_mutex_destroy(&writer->lock);
    sqlidx_conn_close(writer->conn);
    free(writer);
}

/* Queues item and waits until the writer thread has committed it. */
static void submit(sqlidx_writer *writer, job *item)
{
    pthread_mutex_lock(&writer->lock);
    if (writer->stopping) {
        pthread_mutex_unlock(&writer->lock);
        item->status = CAIRN_ERR_INVALID_ARGUMENT;
        return;
    }

    if (writer->tail != NULL)
        writer->tail->next = item;
    else
        writer->head = item;
    writer->tail = item;
    pthread_cond_signal(&writer->work_ready);

    while (!item->done)
        pthread_cond_wait(&writer->work_done, &writer->lock);
    pthread_mutex_unlock(&writer->lock);
}

cairn_status sqlidx_writer_store(sqlidx_writer *writer, const sqlidx_record *record,
                                 cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                                 char **replaced_path)
{
    job item = {
        .kind = JOB_STORE,
        .record = record,
        .policy = policy,
        .want_replaced_path = replaced_path != NULL,
    };

    submit(writer, &item);
    if (item.status == CAIRN_OK) {
        *outcome = item.outcome;
        if (replaced_path != NULL)
            *replaced_path = item.replaced_path;
    }
    return item.status;
}

cairn_status sqlidx_writer_remove(sqlidx_writer *writer, const char *sop_uid)
{
    job item = {.kind = JOB_REMOVE, .sop_uid = sop_uid};

    submit(writer, &item);
    return item.status;
}
