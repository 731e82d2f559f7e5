/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The statements of one store and one removal, run by the writer thread
 * inside a transaction it owns. Counts and the study's modality and SOP
 * class lists follow from the schema's triggers; this file only inserts,
 * fills and deletes rows.
 *
 * A study or series already indexed keeps the parent it was first filed
 * under: an instance that names the same Study Instance UID with another
 * patient is added to the existing study, and a warning is logged.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

/* Binds text that outlives the statement's use. */
static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* Binds a number, or NULL for -1 (absent). */
static void bind_optional(sqlite3_stmt *stmt, int index, int64_t value)
{
    if (value < 0)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_int64(stmt, index, value);
}

/* Steps stmt once; a row or done is success. Logs a failure. */
static cairn_status step(const sqlidx_backend *backend, sqlidx_conn *conn, sqlite3_stmt *stmt,
                         int *rc_out)
{
    int rc;

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    rc = sqlite3_step(stmt);
    if (rc_out != NULL)
        *rc_out = rc;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index statement \"%s\" failed: %s",
                   sqlite3_sql(stmt), sqlite3_errmsg(conn->db));
        sqlite3_reset(stmt);
        return sqlidx_status_from_sqlite(rc);
    }
    return CAIRN_OK;
}

/* Runs stmt, which returns nothing, and resets it. */
static cairn_status run(const sqlidx_backend *backend, sqlidx_conn *conn, sqlite3_stmt *stmt)
{
    cairn_status status = step(backend, conn, stmt, NULL);

    if (stmt != NULL)
        sqlite3_reset(stmt);
    return status;
}

/* Runs stmt, which returns one row whose first column is an id. */
static cairn_status run_returning_id(const sqlidx_backend *backend, sqlidx_conn *conn,
                                     sqlite3_stmt *stmt, int64_t *id)
{
    int rc = 0;
    cairn_status status = step(backend, conn, stmt, &rc);

    if (status != CAIRN_OK)
        return status;
    if (rc != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return CAIRN_ERR_INTERNAL;
    }
    *id = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return CAIRN_OK;
}

/* Deletes level id through the prune statement when it has no children left. */
static cairn_status prune(const sqlidx_backend *backend, sqlidx_conn *conn, sqlidx_stmt_id id,
                          int64_t row)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, id);

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_int64(stmt, 1, row);
    return run(backend, conn, stmt);
}

/* Deletes the instance row and every level above it left empty. */
static cairn_status delete_instance(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    int64_t instance, int64_t series, int64_t study,
                                    int64_t patient)
{
    cairn_status status = prune(backend, conn, SQLIDX_DELETE_INSTANCE, instance);

    if (status == CAIRN_OK)
        status = prune(backend, conn, SQLIDX_PRUNE_SERIES, series);
    if (status == CAIRN_OK)
        status = prune(backend, conn, SQLIDX_PRUNE_STUDY, study);
    if (status == CAIRN_OK)
        status = prune(backend, conn, SQLIDX_PRUNE_PATIENT, patient);
    return status;
}

/* An instance already in the index. */
typedef struct existing_instance {
    bool found;
    int64_t id, series, study, patient;
    char *path; /* malloc'd */
} existing_instance;

static cairn_status find_instance(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const char *sop_uid, existing_instance *existing)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_FIND_INSTANCE);
    cairn_status status;
    int rc = 0;

    memset(existing, 0, sizeof(*existing));
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    bind_text(stmt, 1, sop_uid);
    status = step(backend, conn, stmt, &rc);
    if (status != CAIRN_OK || rc != SQLITE_ROW)
        goto out;

    existing->found = true;
    existing->id = sqlite3_column_int64(stmt, 0);
    existing->path = sqlidx_strdup((const char *)sqlite3_column_text(stmt, 1));
    existing->series = sqlite3_column_int64(stmt, 2);
    existing->study = sqlite3_column_int64(stmt, 3);
    existing->patient = sqlite3_column_int64(stmt, 4);
    if (existing->path == NULL)
        status = CAIRN_ERR_NO_MEMORY;

out:
    sqlite3_reset(stmt);
    return status;
}

/* Finds the row of a study or series by UID: *id and *parent, or *id = 0. */
static cairn_status find_level(const sqlidx_backend *backend, sqlidx_conn *conn,
                               sqlidx_stmt_id id_stmt, const char *uid, int64_t *id,
                               int64_t *parent)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, id_stmt);
    cairn_status status;
    int rc = 0;

    *id = 0;
    *parent = 0;
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    bind_text(stmt, 1, uid);
    status = step(backend, conn, stmt, &rc);
    if (status == CAIRN_OK && rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(stmt, 0);
        *parent = sqlite3_column_int64(stmt, 1);
    }
    sqlite3_reset(stmt);
    return status;
}

static cairn_status upsert_patient(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   const sqlidx_record *record, int64_t *patient)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_UPSERT_PATIENT);

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    bind_text(stmt, 1, record->patient_id);
    bind_text(stmt, 2, record->issuer);
    bind_text(stmt, 3, record->patient_name);
    bind_text(stmt, 4, record->birth_date);
    bind_text(stmt, 5, record->sex);
    bind_text(stmt, 6, record->charset);
    bind_text(stmt, 7, record->patient_name_folded);
    for (int g = 0; g < 3; g++)
        bind_text(stmt, 8 + g, record->patient_name_groups[g]);
    return run_returning_id(backend, conn, stmt, patient);
}

/* Finds or creates the study; *study receives its row id. */
static cairn_status upsert_study(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 const sqlidx_record *record, int64_t patient, int64_t *study)
{
    sqlite3_stmt *stmt;
    int64_t owner = 0;
    cairn_status status = find_level(backend, conn, SQLIDX_FIND_STUDY, record->study_uid, study,
                                     &owner);

    if (status != CAIRN_OK)
        return status;

    if (*study == 0) {
        stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_INSERT_STUDY);
        if (stmt == NULL)
            return CAIRN_ERR_DATABASE;
        sqlite3_bind_int64(stmt, 1, patient);
        bind_text(stmt, 2, record->study_uid);
        bind_text(stmt, 3, record->study_date);
        bind_text(stmt, 4, record->study_time);
        bind_text(stmt, 5, record->accession_number);
        bind_text(stmt, 6, record->study_id);
        bind_text(stmt, 7, record->referring_physician);
        bind_text(stmt, 8, record->study_description);
        bind_text(stmt, 9, record->charset);
        bind_text(stmt, 10, record->study_time_key);
        return run_returning_id(backend, conn, stmt, study);
    }

    if (owner != patient) {
        sqlidx_log(backend, CAIRN_LOG_WARN,
                   "instance %s names study %s with Patient ID \"%s\", but the study is"
                   " indexed under another patient; it stays there",
                   record->sop_uid, record->study_uid, record->patient_id);
        status = prune(backend, conn, SQLIDX_PRUNE_PATIENT, patient);
        if (status != CAIRN_OK)
            return status;
    }

    stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_FILL_STUDY);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_int64(stmt, 1, *study);
    bind_text(stmt, 2, record->study_date);
    bind_text(stmt, 3, record->study_time);
    bind_text(stmt, 4, record->accession_number);
    bind_text(stmt, 5, record->study_id);
    bind_text(stmt, 6, record->referring_physician);
    bind_text(stmt, 7, record->study_description);
    bind_text(stmt, 8, record->charset);
    bind_text(stmt, 9, record->study_time_key);
    return run(backend, conn, stmt);
}

/* Finds or creates the series; *series receives its row id. */
static cairn_status upsert_series(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const sqlidx_record *record, int64_t study, int64_t *series)
{
    sqlite3_stmt *stmt;
    int64_t owner = 0;
    cairn_status status = find_level(backend, conn, SQLIDX_FIND_SERIES, record->series_uid,
                                     series, &owner);

    if (status != CAIRN_OK)
        return status;

    if (*series == 0) {
        stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_INSERT_SERIES);
        if (stmt == NULL)
            return CAIRN_ERR_DATABASE;
        sqlite3_bind_int64(stmt, 1, study);
        bind_text(stmt, 2, record->series_uid);
        bind_text(stmt, 3, record->modality);
        bind_optional(stmt, 4, record->series_number);
        bind_text(stmt, 5, record->series_description);
        bind_text(stmt, 6, record->charset);
        return run_returning_id(backend, conn, stmt, series);
    }

    if (owner != study) {
        sqlidx_log(backend, CAIRN_LOG_WARN,
                   "instance %s names series %s with study %s, but the series is indexed"
                   " under another study; it stays there",
                   record->sop_uid, record->series_uid, record->study_uid);
        status = prune(backend, conn, SQLIDX_PRUNE_STUDY, study);
        if (status != CAIRN_OK)
            return status;
    }

    stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_FILL_SERIES);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_int64(stmt, 1, *series);
    bind_text(stmt, 2, record->modality);
    bind_optional(stmt, 3, record->series_number);
    bind_text(stmt, 4, record->series_description);
    bind_text(stmt, 5, record->charset);
    return run(backend, conn, stmt);
}

static cairn_status insert_instance(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    const sqlidx_record *record, int64_t series)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_INSERT_INSTANCE);

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_int64(stmt, 1, series);
    bind_text(stmt, 2, record->sop_uid);
    bind_text(stmt, 3, record->sop_class_uid);
    bind_optional(stmt, 4, record->instance_number);
    bind_text(stmt, 5, record->charset);
    bind_text(stmt, 6, record->path);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)record->size);
    bind_text(stmt, 8, record->transfer_syntax);
    sqlite3_bind_int64(stmt, 9, record->received_at_us);
    bind_text(stmt, 10, record->calling_ae);
    return run(backend, conn, stmt);
}

/* Marks the new instance rejected when a rejection note named it. */
static cairn_status apply_rejection(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    const char *sop_uid)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, SQLIDX_APPLY_REJECTION);

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    bind_text(stmt, 1, sop_uid);
    return run(backend, conn, stmt);
}

/*
 * Records one instance, applying policy to a SOP Instance UID already
 * indexed. On CAIRN_STORE_REPLACED, *replaced_path (when replaced_path is
 * not NULL) receives the old path, allocated with the host's alloc. When
 * the new file has the same path, *replaced_path is left untouched. The
 * caller owns the transaction and rolls back on failure.
 */
cairn_status sqlidx_write_store(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const sqlidx_record *record, cairn_duplicate_policy policy,
                                cairn_store_outcome *outcome, char **replaced_path)
{
    existing_instance existing;
    int64_t patient = 0, study = 0, series = 0;
    cairn_status status = find_instance(backend, conn, record->sop_uid, &existing);

    *outcome = CAIRN_STORE_STORED;
    if (status != CAIRN_OK)
        goto out;

    if (existing.found) {
        if (policy == CAIRN_DUPLICATE_KEEP) {
            *outcome = CAIRN_STORE_KEPT;
            goto out;
        }
        if (policy != CAIRN_DUPLICATE_REPLACE) {
            *outcome = CAIRN_STORE_REJECTED;
            goto out;
        }
        /* The new attributes may name another series, so file it afresh. */
        status = delete_instance(backend, conn, existing.id, existing.series, existing.study,
                                 existing.patient);
        if (status != CAIRN_OK)
            goto out;
    }

    status = upsert_patient(backend, conn, record, &patient);
    if (status == CAIRN_OK)
        status = upsert_study(backend, conn, record, patient, &study);
    if (status == CAIRN_OK)
        status = upsert_series(backend, conn, record, study, &series);
    if (status == CAIRN_OK)
        status = insert_instance(backend, conn, record, series);
    if (status == CAIRN_OK) {
        int64_t owners[5] = {0, patient, study, series, sqlite3_last_insert_rowid(conn->db)};

        status = sqlidx_seq_store(backend, conn, &record->sequences, owners);
    }
    if (status == CAIRN_OK)
        status = apply_rejection(backend, conn, record->sop_uid);
    if (status != CAIRN_OK || !existing.found)
        goto out;

    /* A new file written over the old path leaves no file unreferenced. */
    *outcome = CAIRN_STORE_REPLACED;
    if (replaced_path != NULL && strcmp(existing.path, record->path) != 0) {
        size_t length = strlen(existing.path) + 1;

        *replaced_path = backend->api->alloc(length);
        if (*replaced_path == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            goto out;
        }
        memcpy(*replaced_path, existing.path, length);
    }

out:
    free(existing.path);
    return status;
}

/* Removes one instance; CAIRN_ERR_NOT_FOUND when it is not indexed. */
cairn_status sqlidx_write_remove(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 const char *sop_uid)
{
    existing_instance existing;
    cairn_status status = find_instance(backend, conn, sop_uid, &existing);

    if (status == CAIRN_OK && !existing.found)
        status = CAIRN_ERR_NOT_FOUND;
    if (status == CAIRN_OK)
        status = delete_instance(backend, conn, existing.id, existing.series, existing.study,
                                 existing.patient);
    free(existing.path);
    return status;
}
