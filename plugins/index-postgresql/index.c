/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cairn_index_ops entry points of the PostgreSQL back end: open and
 * close an index (a pool of server connections, checked or migrated to
 * the schema this plugin knows), and route each call to the file that
 * runs its statements. Every call takes a connection from the pool for
 * its duration, so up to pool_size calls run at once.
 */
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

static void index_close(void *db)
{
    pgidx_index *index = db;

    if (index == NULL)
        return;
    pgidx_pool_close(index);
    pthread_cond_destroy(&index->released);
    pthread_mutex_destroy(&index->lock);
    free(index);
}

/* Opens one connection and checks (or migrates) the schema on it. */
static cairn_status check_schema(const pgidx_backend *backend, bool migrate)
{
    pgidx_conn *conn = NULL;
    cairn_status status = pgidx_conn_open(backend, &conn);

    if (status == CAIRN_OK)
        status = pgidx_schema_check(backend, conn, migrate);
    pgidx_conn_close(conn);
    return status;
}

static cairn_status index_open(void *backend_state, const char *storage_path, void **db)
{
    const pgidx_backend *backend = backend_state;
    pgidx_index *index;
    cairn_status status;

    (void)storage_path;
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *db = NULL;

    status = check_schema(backend, backend->migrate_at_start);
    if (status != CAIRN_OK)
        return status;

    index = calloc(1, sizeof(*index));
    if (index == NULL)
        return CAIRN_ERR_NO_MEMORY;
    index->backend = backend;
    pthread_mutex_init(&index->lock, NULL);
    pthread_cond_init(&index->released, NULL);

    pgidx_log(backend, CAIRN_LOG_INFO,
              "index database opened (schema version %d, pool of %d connections)",
              pgidx_schema_version(), backend->pool_size);
    *db = index;
    return CAIRN_OK;
}

/* cairn_index_ops.migrate: `cairnd --migrate` brings the schema up to date, whatever migrate_at_start says. */
static cairn_status index_migrate(void *backend_state, const char *storage_path)
{
    (void)storage_path;
    return check_schema(backend_state, true);
}

static cairn_status index_store(void *db, const cairn_dataset *attributes,
                                const cairn_instance_file *file, cairn_duplicate_policy policy,
                                cairn_store_outcome *outcome, char **replaced_path)
{
    pgidx_index *index = db;
    pgidx_record record;
    cairn_status status;

    if (index == NULL || outcome == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (policy != CAIRN_DUPLICATE_KEEP && policy != CAIRN_DUPLICATE_REPLACE &&
        policy != CAIRN_DUPLICATE_REJECT)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (replaced_path != NULL)
        *replaced_path = NULL;

    status = pgidx_record_read(index->backend, attributes, file, &record);
    if (status != CAIRN_OK)
        return status;
    status = pgidx_store(index, &record, policy, outcome, replaced_path);
    pgidx_record_free(&record);
    return status;
}

static cairn_status index_remove(void *db, const char *sop_instance_uid)
{
    pgidx_index *index = db;

    if (index == NULL || sop_instance_uid == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (!pgidx_uid_is_valid(sop_instance_uid))
        return CAIRN_ERR_NOT_FOUND;
    return pgidx_remove(index, sop_instance_uid);
}

static cairn_status index_list(void *db, cairn_index_level level, const cairn_dataset *filter,
                               cairn_index_row_fn fn, void *arg)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_list(db, level, filter, fn, arg);
}

static cairn_status index_count(void *db, cairn_index_level level, uint64_t *count)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_count(db, level, count);
}

static cairn_status index_query(void *db, const cairn_index_query *query, cairn_index_row_fn fn,
                                void *arg)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_query(db, query, fn, arg);
}

static cairn_status index_job_put(void *db, const char *job_id, const char *document)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_job_put(db, job_id, document);
}

static cairn_status index_job_delete(void *db, const char *job_id)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_job_delete(db, job_id);
}

static cairn_status index_job_list(void *db, cairn_job_fn fn, void *arg)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_job_list(db, fn, arg);
}

static cairn_status index_reject(void *db, const char *const *sop_instance_uids, size_t count,
                                 const char *code, size_t *marked)
{
    if (db == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_reject(db, sop_instance_uids, count, code, marked);
}

static cairn_status index_mpps_put(void *db, const cairn_mpps_step *step, int create)
{
    return db != NULL ? pgidx_mpps_put(db, step, create) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_mpps_get(void *db, const char *sop_instance_uid, cairn_mpps_fn fn,
                                   void *arg)
{
    return db != NULL ? pgidx_mpps_get(db, sop_instance_uid, fn, arg)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_mpps_list(void *db, const cairn_mpps_filter *filter, cairn_mpps_fn fn,
                                    void *arg)
{
    return db != NULL ? pgidx_mpps_list(db, filter, fn, arg) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_outbox_add(void *db, const cairn_outbox_message *message,
                                     uint64_t *id)
{
    return db != NULL ? pgidx_outbox_add(db, message, id) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_outbox_update(void *db, uint64_t id, uint32_t attempts,
                                        int64_t next_attempt_at_us, const char *last_error)
{
    return db != NULL ? pgidx_outbox_update(db, id, attempts, next_attempt_at_us, last_error)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_outbox_delete(void *db, uint64_t id)
{
    return db != NULL ? pgidx_outbox_delete(db, id) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_outbox_list(void *db, const char *kind_prefix, cairn_outbox_fn fn,
                                      void *arg)
{
    return db != NULL ? pgidx_outbox_list(db, kind_prefix, fn, arg)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_commitment_put(void *db, const cairn_commitment *rows, size_t count)
{
    return db != NULL ? pgidx_commitment_put(db, rows, count) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_commitment_report(void *db, const char *transaction_uid,
                                            const cairn_commitment *results, size_t count,
                                            size_t *updated)
{
    return db != NULL ? pgidx_commitment_report(db, transaction_uid, results, count, updated)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_commitment_list(void *db, const cairn_commitment_filter *filter,
                                          cairn_commitment_fn fn, void *arg)
{
    return db != NULL ? pgidx_commitment_list(db, filter, fn, arg)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_job_get(void *db, const char *job_id, cairn_job_fn fn, void *arg)
{
    return db != NULL ? pgidx_job_get(db, job_id, fn, arg) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_lease_acquire(void *db, const char *key, const char *owner,
                                        uint32_t ttl_ms, char *holder, size_t holder_size)
{
    return db != NULL ? pgidx_lease_acquire(db, key, owner, ttl_ms, holder, holder_size)
                      : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_lease_release(void *db, const char *key, const char *owner)
{
    return db != NULL ? pgidx_lease_release(db, key, owner) : CAIRN_ERR_INVALID_ARGUMENT;
}

static cairn_status index_rejection_list(void *db,
                                         int (*fn)(void *arg, const char *sop_instance_uid,
                                                   const char *code),
                                         void *arg)
{
    return db != NULL ? pgidx_rejection_list(db, fn, arg) : CAIRN_ERR_INVALID_ARGUMENT;
}

const cairn_index_ops pgidx_ops = {
    .struct_size = sizeof(cairn_index_ops),
    .name = "postgresql",
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
    .mpps_put = index_mpps_put,
    .mpps_get = index_mpps_get,
    .mpps_list = index_mpps_list,
    .outbox_add = index_outbox_add,
    .outbox_update = index_outbox_update,
    .outbox_delete = index_outbox_delete,
    .outbox_list = index_outbox_list,
    .commitment_put = index_commitment_put,
    .commitment_report = index_commitment_report,
    .commitment_list = index_commitment_list,
    .migrate = index_migrate,
    .job_get = index_job_get,
    .lease_acquire = index_lease_acquire,
    .lease_release = index_lease_release,
    .rejection_list = index_rejection_list,
};
