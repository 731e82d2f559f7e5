/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cairn_index_ops entry points: open and close an index, and route
 * each call either to the writer thread (store, remove) or to a reader
 * connection taken from a small pool (list, count, query, and the job
 * table's own short writes). In WAL mode a
 * reader and the writer do not wait for each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

/* Idle reader connections kept open; busier moments open more for a call. */
#define MAX_IDLE_READERS 4

/* File name of the database inside the storage folder when `path` is unset. */
#define DEFAULT_FILE_NAME "index.sqlite"

static cairn_status take_reader(sqlidx_index *index, sqlidx_conn **conn)
{
    pthread_mutex_lock(&index->pool_lock);
    *conn = index->free_readers;
    if (*conn != NULL) {
        index->free_readers = (*conn)->next_free;
        index->idle_count--;
    }
    pthread_mutex_unlock(&index->pool_lock);

    if (*conn != NULL)
        return CAIRN_OK;
    return sqlidx_conn_open(index->backend, index->db_path, false, conn);
}

static void give_back_reader(sqlidx_index *index, sqlidx_conn *conn)
{
    pthread_mutex_lock(&index->pool_lock);
    if (index->idle_count < MAX_IDLE_READERS) {
        conn->next_free = index->free_readers;
        index->free_readers = conn;
        index->idle_count++;
        conn = NULL;
    }
    pthread_mutex_unlock(&index->pool_lock);
    sqlidx_conn_close(conn);
}

static void index_close(void *db)
{
    sqlidx_index *index = db;

    if (index == NULL)
        return;

    sqlidx_writer_stop(index->writer);
    while (index->free_readers != NULL) {
        sqlidx_conn *conn = index->free_readers;

        index->free_readers = conn->next_free;
        sqlidx_conn_close(conn);
    }
    pthread_mutex_destroy(&index->pool_lock);
    free(index->db_path);
    free(index);
}

static cairn_status index_open(void *backend_state, const char *storage_path, void **db)
{
    const sqlidx_backend *backend = backend_state;
    sqlidx_index *index = NULL;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *db = NULL;
    if (backend->path == NULL && (storage_path == NULL || storage_path[0] == '\0'))
        return CAIRN_ERR_INVALID_ARGUMENT;

    index = calloc(1, sizeof(*index));
    if (index == NULL)
        return CAIRN_ERR_NO_MEMORY;
    index->backend = backend;
    pthread_mutex_init(&index->pool_lock, NULL);
    if (backend->path != NULL)
        index->db_path = strdup(backend->path);
    else if (asprintf(&index->db_path, "%s/%s", storage_path, DEFAULT_FILE_NAME) < 0)
        index->db_path = NULL;
    if (index->db_path == NULL) {
        status = CAIRN_ERR_NO_MEMORY;
        goto out;
    }

    /* Migrate on a connection of its own, before the writer thread starts. */
    status = sqlidx_conn_open(backend, index->db_path, true, &conn);
    if (status == CAIRN_OK)
        status = sqlidx_schema_migrate(backend, conn, index->db_path);
    sqlidx_conn_close(conn);
    if (status != CAIRN_OK)
        goto out;

    status = sqlidx_writer_start(backend, index->db_path, &index->writer);
    if (status != CAIRN_OK)
        goto out;

    sqlidx_log(backend, CAIRN_LOG_INFO, "index database %s opened (synchronous %s, batch %d)",
               index->db_path, backend->synchronous_full ? "full" : "normal",
               backend->max_batch);

out:
    if (status != CAIRN_OK) {
        index_close(index);
        return status;
    }
    *db = index;
    return CAIRN_OK;
}

static cairn_status index_store(void *db, const cairn_dataset *attributes,
                                const cairn_instance_file *file, cairn_duplicate_policy policy,
                                cairn_store_outcome *outcome, char **replaced_path)
{
    sqlidx_index *index = db;
    sqlidx_record record;
    cairn_status status;

    if (index == NULL || outcome == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (policy != CAIRN_DUPLICATE_KEEP && policy != CAIRN_DUPLICATE_REPLACE &&
        policy != CAIRN_DUPLICATE_REJECT)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (replaced_path != NULL)
        *replaced_path = NULL;

    status = sqlidx_record_read(index->backend, attributes, file, &record);
    if (status != CAIRN_OK)
        return status;

    status = sqlidx_writer_store(index->writer, &record, policy, outcome, replaced_path);
    sqlidx_record_free(&record);
    return status;
}

static cairn_status index_remove(void *db, const char *sop_instance_uid)
{
    sqlidx_index *index = db;

    if (index == NULL || sop_instance_uid == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (!sqlidx_uid_is_valid(sop_instance_uid))
        return CAIRN_ERR_NOT_FOUND;
    return sqlidx_writer_remove(index->writer, sop_instance_uid);
}

static cairn_status index_list(void *db, cairn_index_level level, const cairn_dataset *filter,
                               cairn_index_row_fn fn, void *arg)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_list(index->backend, conn, level, filter, fn, arg);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_count(void *db, cairn_index_level level, uint64_t *count)
{
    static const sqlidx_stmt_id by_level[] = {
        [CAIRN_LEVEL_PATIENT] = SQLIDX_COUNT_PATIENTS,
        [CAIRN_LEVEL_STUDY] = SQLIDX_COUNT_STUDIES,
        [CAIRN_LEVEL_SERIES] = SQLIDX_COUNT_SERIES,
        [CAIRN_LEVEL_INSTANCE] = SQLIDX_COUNT_INSTANCES,
    };
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    sqlite3_stmt *stmt;
    cairn_status status;
    int rc;

    if (index == NULL || count == NULL || level < CAIRN_LEVEL_PATIENT ||
        level > CAIRN_LEVEL_INSTANCE)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;

    stmt = sqlidx_conn_fixed(index->backend, conn, by_level[level]);
    if (stmt == NULL) {
        status = CAIRN_ERR_DATABASE;
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *count = (uint64_t)sqlite3_column_int64(stmt, 0);
    } else {
        sqlidx_log(index->backend, CAIRN_LOG_ERROR, "index count failed: %s",
                   sqlite3_errmsg(conn->db));
        status = sqlidx_status_from_sqlite(rc);
        if (status == CAIRN_OK)
            status = CAIRN_ERR_DATABASE;
    }
    sqlite3_reset(stmt);

out:
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_query(void *db, const cairn_index_query *query, cairn_index_row_fn fn,
                                void *arg)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_query(index->backend, conn, query, fn, arg);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_job_put(void *db, const char *job_id, const char *document)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_job_put(index->backend, conn, job_id, document);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_job_delete(void *db, const char *job_id)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_job_delete(index->backend, conn, job_id);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_job_list(void *db, cairn_job_fn fn, void *arg)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_job_list(index->backend, conn, fn, arg);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_reject(void *db, const char *const *sop_instance_uids, size_t count,
                                 const char *code, size_t *marked)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_reject(index->backend, conn, sop_instance_uids, count, code, marked);
    give_back_reader(index, conn);
    return status;
}

/* Runs CALL on a reader connection taken from the pool of db. */
#define WITH_READER(db, CALL)                                                  \
    do {                                                                       \
        sqlidx_index *index_ = (db);                                           \
        sqlidx_conn *conn = NULL;                                              \
        cairn_status status_;                                                  \
                                                                               \
        if (index_ == NULL)                                                    \
            return CAIRN_ERR_INVALID_ARGUMENT;                                 \
        status_ = take_reader(index_, &conn);                                  \
        if (status_ != CAIRN_OK)                                               \
            return status_;                                                    \
        status_ = CALL;                                                        \
        give_back_reader(index_, conn);                                        \
        return status_;                                                        \
    } while (0)

static cairn_status index_mpps_put(void *db, const cairn_mpps_step *step, int create)
{
    WITH_READER(db, sqlidx_mpps_put(index_->backend, conn, step, create));
}

static cairn_status index_mpps_get(void *db, const char *sop_instance_uid, cairn_mpps_fn fn,
                                   void *arg)
{
    WITH_READER(db, sqlidx_mpps_get(index_->backend, conn, sop_instance_uid, fn, arg));
}

static cairn_status index_mpps_list(void *db, const cairn_mpps_filter *filter,
                                    cairn_mpps_fn fn, void *arg)
{
    WITH_READER(db, sqlidx_mpps_list(index_->backend, conn, filter, fn, arg));
}

static cairn_status index_outbox_add(void *db, const cairn_outbox_message *message,
                                     uint64_t *id)
{
    WITH_READER(db, sqlidx_outbox_add(index_->backend, conn, message, id));
}

static cairn_status index_outbox_update(void *db, uint64_t id, uint32_t attempts,
                                        int64_t next_attempt_at_us, const char *last_error)
{
    WITH_READER(db, sqlidx_outbox_update(index_->backend, conn, id, attempts,
                                         next_attempt_at_us, last_error));
}

static cairn_status index_outbox_delete(void *db, uint64_t id)
{
    WITH_READER(db, sqlidx_outbox_delete(index_->backend, conn, id));
}

static cairn_status index_outbox_list(void *db, const char *kind_prefix, cairn_outbox_fn fn,
                                      void *arg)
{
    WITH_READER(db, sqlidx_outbox_list(index_->backend, conn, kind_prefix, fn, arg));
}

static cairn_status index_commitment_put(void *db, const cairn_commitment *rows, size_t count)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_commitment_put(index->backend, conn, rows, count);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_commitment_report(void *db, const char *transaction_uid,
                                            const cairn_commitment *results, size_t count,
                                            size_t *updated)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_commitment_report(index->backend, conn, transaction_uid, results, count,
                                      updated);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_commitment_list(void *db, const cairn_commitment_filter *filter,
                                          cairn_commitment_fn fn, void *arg)
{
    sqlidx_index *index = db;
    sqlidx_conn *conn = NULL;
    cairn_status status;

    if (index == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = take_reader(index, &conn);
    if (status != CAIRN_OK)
        return status;
    status = sqlidx_commitment_list(index->backend, conn, filter, fn, arg);
    give_back_reader(index, conn);
    return status;
}

static cairn_status index_job_get(void *db, const char *job_id, cairn_job_fn fn, void *arg)
{
    WITH_READER(db, sqlidx_job_get(index_->backend, conn, job_id, fn, arg));
}

static cairn_status index_lease_acquire(void *db, const char *key, const char *owner,
                                        uint32_t ttl_ms, char *holder, size_t holder_size)
{
    WITH_READER(db, sqlidx_lease_acquire(index_->backend, conn, key, owner, ttl_ms, holder,
                                         holder_size));
}

static cairn_status index_lease_release(void *db, const char *key, const char *owner)
{
    WITH_READER(db, sqlidx_lease_release(index_->backend, conn, key, owner));
}

static cairn_status index_rejection_list(void *db,
                                         int (*fn)(void *arg, const char *sop_instance_uid,
                                                   const char *code),
                                         void *arg)
{
    WITH_READER(db, sqlidx_rejection_list(index_->backend, conn, fn, arg));
}

const cairn_index_ops sqlidx_ops = {
    .struct_size = sizeof(cairn_index_ops),
    .name = "sqlite",
    .open = index_open,
    .close = index_close,
    .store_instance = index_store,
    .remove_instance = index_remove,
    .list = index_list,
    .count = index_count,
    .query = index_query,
    .job_put = index_job_put,
    .job_delete = index_job_delete,
    .job_list = index_job_list,
    .reject_instances = index_reject,
    .commitment_put = index_commitment_put,
    .commitment_report = index_commitment_report,
    .commitment_list = index_commitment_list,
    .mpps_put = index_mpps_put,
    .mpps_get = index_mpps_get,
    .mpps_list = index_mpps_list,
    .outbox_add = index_outbox_add,
    .outbox_update = index_outbox_update,
    .outbox_delete = index_outbox_delete,
    .outbox_list = index_outbox_list,
    .job_get = index_job_get,
    .lease_acquire = index_lease_acquire,
    .lease_release = index_lease_release,
    .rejection_list = index_rejection_list,
};
