/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storing and removing one instance, each in one transaction (txn.c).
 *
 * Two processes that store the same SOP Instance UID at the same moment
 * take turns on a transaction advisory lock keyed by the UID, so the
 * second one finds the first one's row and applies the duplicate policy.
 * The unique constraint on sop_uid stays the last word: a store that
 * still loses the race fails with 23505 and runs again.
 *
 * Patients, studies and series are inserted with ON CONFLICT DO NOTHING
 * and then looked up, so concurrent stores into one study never fail on
 * its row; the fill statements only touch a row that has empty values to
 * fill. A study or series already indexed keeps the parent it was first
 * filed under, and a warning is logged, as in the SQLite back end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* Decimal text of a number, or NULL (SQL NULL) for -1. */
typedef struct number_text {
    char buf[24];
} number_text;

static const char *number(number_text *text, int64_t value)
{
    if (value < 0)
        return NULL;
    snprintf(text->buf, sizeof(text->buf), "%" PRId64, value);
    return text->buf;
}

/* The row ids of an instance already in the index. */
typedef struct existing_instance {
    bool found;
    char id[24], series[24], study[24], patient[24];
    char *path; /* malloc'd */
} existing_instance;

static cairn_status lock_uid(const pgidx_backend *backend, pgidx_conn *conn, const char *uid)
{
    const char *values[1] = {uid};

    return pgidx_exec_fixed(backend, conn, PGIDX_LOCK_UID, 1, values, NULL);
}

static cairn_status find_instance(const pgidx_backend *backend, pgidx_conn *conn,
                                  const char *sop_uid, existing_instance *existing)
{
    const char *values[1] = {sop_uid};
    PGresult *result = NULL;
    cairn_status status;

    memset(existing, 0, sizeof(*existing));
    status = pgidx_exec_fixed(backend, conn, PGIDX_FIND_INSTANCE, 1, values, &result);
    if (status != CAIRN_OK || PQntuples(result) == 0)
        goto out;

    existing->found = true;
    snprintf(existing->id, sizeof(existing->id), "%s", PQgetvalue(result, 0, 0));
    existing->path = pgidx_strdup(PQgetvalue(result, 0, 1));
    snprintf(existing->series, sizeof(existing->series), "%s", PQgetvalue(result, 0, 2));
    snprintf(existing->study, sizeof(existing->study), "%s", PQgetvalue(result, 0, 3));
    snprintf(existing->patient, sizeof(existing->patient), "%s", PQgetvalue(result, 0, 4));
    if (existing->path == NULL)
        status = CAIRN_ERR_NO_MEMORY;

out:
    PQclear(result);
    return status;
}

/* Runs a statement that takes one row id. */
static cairn_status run_on_row(const pgidx_backend *backend, pgidx_conn *conn,
                               pgidx_stmt_id id, const char *row)
{
    const char *values[1] = {row};

    return pgidx_exec_fixed(backend, conn, id, 1, values, NULL);
}

/* Deletes the instance row and every level above it left empty. */
static cairn_status delete_instance(const pgidx_backend *backend, pgidx_conn *conn,
                                    const existing_instance *existing)
{
    cairn_status status = run_on_row(backend, conn, PGIDX_DELETE_INSTANCE, existing->id);

    if (status == CAIRN_OK)
        status = run_on_row(backend, conn, PGIDX_PRUNE_SERIES, existing->series);
    if (status == CAIRN_OK)
        status = run_on_row(backend, conn, PGIDX_PRUNE_STUDY, existing->study);
    if (status == CAIRN_OK)
        status = run_on_row(backend, conn, PGIDX_PRUNE_PATIENT, existing->patient);
    return status;
}

/*
 * A row that an insert found in place but a lookup then missed was
 * removed in between: the transaction runs again.
 */
static cairn_status lost_race(pgidx_conn *conn)
{
    conn->failure = PGIDX_FAILED_RETRY;
    return CAIRN_ERR_BUSY;
}

/*
 * Inserts with insert_id and, when the row already exists, looks it up
 * with find_id: *row receives its id, and *parent (when not NULL) the
 * second column of the lookup. *inserted is set when the insert added the row.
 */
static cairn_status insert_or_find(const pgidx_backend *backend, pgidx_conn *conn,
                                   pgidx_stmt_id insert_id, int insert_count,
                                   const char *const *insert_values, pgidx_stmt_id find_id,
                                   int find_count, const char *const *find_values, char row[24],
                                   char parent[24], bool *inserted)
{
    PGresult *result = NULL;
    cairn_status status;

    *inserted = false;
    status = pgidx_exec_fixed(backend, conn, insert_id, insert_count, insert_values, &result);
    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) == 1) {
        snprintf(row, 24, "%s", PQgetvalue(result, 0, 0));
        *inserted = true;
        PQclear(result);
        return CAIRN_OK;
    }
    PQclear(result);

    status = pgidx_exec_fixed(backend, conn, find_id, find_count, find_values, &result);
    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) != 1) {
        PQclear(result);
        return lost_race(conn);
    }
    snprintf(row, 24, "%s", PQgetvalue(result, 0, 0));
    if (parent != NULL)
        snprintf(parent, 24, "%s", PQgetvalue(result, 0, 1));
    PQclear(result);
    return CAIRN_OK;
}

static cairn_status file_patient(const pgidx_backend *backend, pgidx_conn *conn,
                                 const pgidx_record *record, char patient[24])
{
    const char *values[10] = {
        record->patient_id, record->issuer, record->patient_name, record->birth_date,
        record->sex, record->charset, record->patient_name_folded,
        record->patient_name_groups[0], record->patient_name_groups[1],
        record->patient_name_groups[2],
    };
    bool inserted = false;
    cairn_status status = insert_or_find(backend, conn, PGIDX_INSERT_PATIENT, 10, values,
                                         PGIDX_FIND_PATIENT, 2, values, patient, NULL,
                                         &inserted);

    if (status != CAIRN_OK || inserted)
        return status;
    values[0] = patient;
    return pgidx_exec_fixed(backend, conn, PGIDX_FILL_PATIENT, 10, values, NULL);
}

/* Finds or creates the study; study receives its row id. */
static cairn_status file_study(const pgidx_backend *backend, pgidx_conn *conn,
                               const pgidx_record *record, const char *patient, char study[24])
{
    const char *insert[11] = {
        patient, record->study_uid, record->study_date, record->study_time,
        record->accession_number, record->study_id, record->referring_physician,
        record->study_description, record->charset, record->study_time_key,
        record->referring_physician_folded,
    };
    const char *find[1] = {record->study_uid};
    const char *fill[10] = {
        study, record->study_date, record->study_time, record->accession_number,
        record->study_id, record->referring_physician, record->study_description,
        record->charset, record->study_time_key, record->referring_physician_folded,
    };
    char owner[24] = "";
    bool inserted = false;
    cairn_status status = insert_or_find(backend, conn, PGIDX_INSERT_STUDY, 11, insert,
                                         PGIDX_FIND_STUDY, 1, find, study, owner, &inserted);

    if (status != CAIRN_OK || inserted)
        return status;

    if (strcmp(owner, patient) != 0) {
        pgidx_log(backend, CAIRN_LOG_WARN,
                  "instance %s names study %s with Patient ID \"%s\", but the study is"
                  " indexed under another patient; it stays there",
                  record->sop_uid, record->study_uid, record->patient_id);
        status = run_on_row(backend, conn, PGIDX_PRUNE_PATIENT, patient);
        if (status != CAIRN_OK)
            return status;
    }
    return pgidx_exec_fixed(backend, conn, PGIDX_FILL_STUDY, 10, fill, NULL);
}

/* Finds or creates the series; series receives its row id. */
static cairn_status file_series(const pgidx_backend *backend, pgidx_conn *conn,
                                const pgidx_record *record, const char *study,
                                char series[24])
{
    number_text series_number;
    const char *insert[6] = {
        study, record->series_uid, record->modality,
        number(&series_number, record->series_number), record->series_description,
        record->charset,
    };
    const char *find[1] = {record->series_uid};
    const char *fill[5] = {
        series, record->modality, insert[3], record->series_description, record->charset,
    };
    char owner[24] = "";
    bool inserted = false;
    cairn_status status = insert_or_find(backend, conn, PGIDX_INSERT_SERIES, 6, insert,
                                         PGIDX_FIND_SERIES, 1, find, series, owner, &inserted);

    if (status != CAIRN_OK || inserted)
        return status;

    if (strcmp(owner, study) != 0) {
        pgidx_log(backend, CAIRN_LOG_WARN,
                  "instance %s names series %s with study %s, but the series is indexed"
                  " under another study; it stays there",
                  record->sop_uid, record->series_uid, record->study_uid);
        status = run_on_row(backend, conn, PGIDX_PRUNE_STUDY, study);
        if (status != CAIRN_OK)
            return status;
    }
    return pgidx_exec_fixed(backend, conn, PGIDX_FILL_SERIES, 5, fill, NULL);
}

static cairn_status insert_instance(const pgidx_backend *backend, pgidx_conn *conn,
                                    const pgidx_record *record, const char *series)
{
    number_text instance_number, size, received;
    const char *values[10] = {
        series, record->sop_uid, record->sop_class_uid,
        number(&instance_number, record->instance_number), record->charset, record->path,
        number(&size, (int64_t)record->size), record->transfer_syntax,
        number(&received, record->received_at_us), record->calling_ae,
    };

    /* A time before 1970 is no reason to fail a store. */
    if (values[8] == NULL)
        values[8] = "0";
    return pgidx_exec_fixed(backend, conn, PGIDX_INSERT_INSTANCE, 10, values, NULL);
}

/* The request of one store and its result. */
typedef struct store_call {
    pgidx_index *index;
    const pgidx_record *record;
    cairn_duplicate_policy policy;
    bool want_replaced_path;
    cairn_store_outcome outcome;
    char *replaced_path; /* host alloc */
} store_call;

static cairn_status store_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    store_call *call = arg;
    const pgidx_record *record = call->record;
    existing_instance existing = {.found = false};
    char patient[24], study[24], series[24];
    cairn_status status;

    call->outcome = CAIRN_STORE_STORED;
    if (call->replaced_path != NULL) {
        backend->api->free(call->replaced_path);
        call->replaced_path = NULL;
    }

    status = lock_uid(backend, conn, record->sop_uid);
    if (status == CAIRN_OK)
        status = find_instance(backend, conn, record->sop_uid, &existing);
    if (status != CAIRN_OK)
        goto out;

    if (existing.found) {
        if (call->policy == CAIRN_DUPLICATE_KEEP) {
            call->outcome = CAIRN_STORE_KEPT;
            goto out;
        }
        if (call->policy != CAIRN_DUPLICATE_REPLACE) {
            call->outcome = CAIRN_STORE_REJECTED;
            goto out;
        }
        /* The new attributes may name another series, so file it afresh. */
        status = delete_instance(backend, conn, &existing);
        if (status != CAIRN_OK)
            goto out;
    }

    status = file_patient(backend, conn, record, patient);
    if (status == CAIRN_OK)
        status = file_study(backend, conn, record, patient, study);
    if (status == CAIRN_OK)
        status = file_series(backend, conn, record, study, series);
    if (status == CAIRN_OK)
        status = insert_instance(backend, conn, record, series);
    if (status == CAIRN_OK && record->sequences.count > 0) {
        char instance[24];
        const char *owners[5] = {NULL, patient, study, series, instance};

        status = pgidx_seq_instance_id(backend, conn, record->sop_uid, instance);
        if (status == CAIRN_OK)
            status = pgidx_seq_store(backend, conn, &record->sequences, owners);
    }
    if (status != CAIRN_OK || !existing.found)
        goto out;

    /* A new file written over the old path leaves no file unreferenced. */
    call->outcome = CAIRN_STORE_REPLACED;
    if (call->want_replaced_path && strcmp(existing.path, record->path) != 0) {
        size_t length = strlen(existing.path) + 1;

        call->replaced_path = backend->api->alloc(length);
        if (call->replaced_path == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            goto out;
        }
        memcpy(call->replaced_path, existing.path, length);
    }

out:
    free(existing.path);
    return status;
}

/* After a lost COMMIT: the store took effect when its file's row is there. */
static cairn_status store_verify(const pgidx_backend *backend, pgidx_conn *conn, void *arg,
                                 bool *committed)
{
    store_call *call = arg;
    const char *values[2] = {call->record->sop_uid, call->record->path};
    PGresult *result = NULL;
    cairn_status status;

    *committed = false;
    if (call->outcome == CAIRN_STORE_KEPT || call->outcome == CAIRN_STORE_REJECTED)
        return CAIRN_OK;
    status = pgidx_exec_fixed(backend, conn, PGIDX_CHECK_STORED, 2, values, &result);
    if (status == CAIRN_OK)
        *committed = PQntuples(result) == 1;
    PQclear(result);
    return status;
}

cairn_status pgidx_store(pgidx_index *index, const pgidx_record *record,
                         cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                         char **replaced_path)
{
    store_call call = {
        .index = index,
        .record = record,
        .policy = policy,
        .want_replaced_path = replaced_path != NULL,
    };
    cairn_status status = pgidx_transaction(index, "store", store_body, store_verify, &call);

    if (status != CAIRN_OK) {
        if (call.replaced_path != NULL)
            index->backend->api->free(call.replaced_path);
        return status;
    }
    *outcome = call.outcome;
    if (replaced_path != NULL)
        *replaced_path = call.replaced_path;
    return CAIRN_OK;
}

/* The request of one removal. */
typedef struct remove_call {
    const char *sop_uid;
} remove_call;

static cairn_status remove_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    remove_call *call = arg;
    existing_instance existing = {.found = false};
    cairn_status status = lock_uid(backend, conn, call->sop_uid);

    if (status == CAIRN_OK)
        status = find_instance(backend, conn, call->sop_uid, &existing);
    if (status == CAIRN_OK && !existing.found)
        status = CAIRN_ERR_NOT_FOUND;
    if (status == CAIRN_OK)
        status = delete_instance(backend, conn, &existing);
    free(existing.path);
    return status;
}

/* After a lost COMMIT: the removal took effect when the instance is gone. */
static cairn_status remove_verify(const pgidx_backend *backend, pgidx_conn *conn, void *arg,
                                  bool *committed)
{
    remove_call *call = arg;
    existing_instance existing;
    cairn_status status = find_instance(backend, conn, call->sop_uid, &existing);

    *committed = status == CAIRN_OK && !existing.found;
    free(existing.path);
    return status;
}

cairn_status pgidx_remove(pgidx_index *index, const char *sop_uid)
{
    remove_call call = {.sop_uid = sop_uid};

    return pgidx_transaction(index, "removal", remove_body, remove_verify, &call);
}
