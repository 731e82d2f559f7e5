/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storing and removing one instance. A removal runs in a transaction of
 * its own (txn.c); a store runs inside a batch of stores (batch.c).
 *
 * Two processes that store the same SOP Instance UID at the same moment
 * take turns on a transaction advisory lock keyed by the UID, so the
 * second one finds the first one's row and applies the duplicate policy.
 * The unique constraint on sop_uid stays the last word: a store that
 * still loses the race fails with 23505 and runs again.
 *
 * Patients, studies and series are looked up first. A missing one is
 * inserted with ON CONFLICT DO NOTHING and looked up again, so concurrent
 * stores into one study never fail on its row. The lookups fill the
 * values a row has empty and leave a full row untouched. A study or
 * series already indexed keeps the parent it was first filed under, and
 * a warning is logged, as in the SQLite back end.
 *
 * Most stores add an instance to a series that is already filed. Every
 * store first tries a single round trip that takes the UID lock, does the
 * lookups and inserts the instance only in that case. Any other store (a
 * new series, a duplicate, a series or study filed under another parent)
 * goes on the full way above, in the same transaction: the first round
 * trip changed nothing that the full way would not change too.
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

/* Copies the row of a FIND_INSTANCE result, when it has one, into existing. */
static cairn_status read_existing(const PGresult *result, existing_instance *existing)
{
    if (PQntuples(result) == 0)
        return CAIRN_OK;

    existing->found = true;
    snprintf(existing->id, sizeof(existing->id), "%s", PQgetvalue(result, 0, 0));
    existing->path = pgidx_strdup(PQgetvalue(result, 0, 1));
    snprintf(existing->series, sizeof(existing->series), "%s", PQgetvalue(result, 0, 2));
    snprintf(existing->study, sizeof(existing->study), "%s", PQgetvalue(result, 0, 3));
    snprintf(existing->patient, sizeof(existing->patient), "%s", PQgetvalue(result, 0, 4));
    return existing->path != NULL ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
}

static cairn_status find_instance(const pgidx_backend *backend, pgidx_conn *conn,
                                  const char *sop_uid, existing_instance *existing)
{
    const char *values[1] = {sop_uid};
    PGresult *result = NULL;
    cairn_status status;

    memset(existing, 0, sizeof(*existing));
    status = pgidx_exec_fixed(backend, conn, PGIDX_FIND_INSTANCE, 1, values, &result);
    if (status == CAIRN_OK)
        status = read_existing(result, existing);
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

/* Runs the lookup find_id; *found is set when it returned one row, copied to row and parent. */
static cairn_status find_row(const pgidx_backend *backend, pgidx_conn *conn, pgidx_stmt_id find_id,
                             int find_count, const char *const *find_values, char row[24],
                             char parent[24], bool *found)
{
    PGresult *result = NULL;
    cairn_status status;

    *found = false;
    status = pgidx_exec_fixed(backend, conn, find_id, find_count, find_values, &result);
    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) == 1) {
        *found = true;
        snprintf(row, 24, "%s", PQgetvalue(result, 0, 0));
        if (parent != NULL)
            snprintf(parent, 24, "%s", PQgetvalue(result, 0, 1));
    }
    PQclear(result);
    return CAIRN_OK;
}

/*
 * Looks the row up with find_id and, when it is missing, inserts it with
 * insert_id: *row receives its id, and *parent (when not NULL) the second
 * column of the lookup. *inserted is set when the insert added the row.
 * The lookup comes first because most stores file into rows that exist,
 * which then cost one statement and no sequence value.
 */
static cairn_status insert_or_find(const pgidx_backend *backend, pgidx_conn *conn,
                                   pgidx_stmt_id insert_id, int insert_count,
                                   const char *const *insert_values, pgidx_stmt_id find_id,
                                   int find_count, const char *const *find_values, char row[24],
                                   char parent[24], bool *inserted)
{
    PGresult *result = NULL;
    bool found = false;
    cairn_status status;

    *inserted = false;
    status = find_row(backend, conn, find_id, find_count, find_values, row, parent, &found);
    if (status != CAIRN_OK || found)
        return status;

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

    /* Another transaction inserted the row after the lookup and has committed since. */
    status = find_row(backend, conn, find_id, find_count, find_values, row, parent, &found);
    if (status == CAIRN_OK && !found)
        return lost_race(conn);
    return status;
}

/*
 * Fills values with the parameters of PGIDX_FIND_PATIENT. PGIDX_INSERT_PATIENT
 * takes the first 10.
 */
static void patient_values(const pgidx_record *record, const char *values[11])
{
    values[0] = record->patient_id;
    values[1] = record->issuer;
    values[2] = record->patient_name;
    values[3] = record->birth_date;
    values[4] = record->sex;
    values[5] = record->charset;
    values[6] = record->patient_name_folded;
    values[7] = record->patient_name_groups[0];
    values[8] = record->patient_name_groups[1];
    values[9] = record->patient_name_groups[2];
    values[10] = record->sop_uid;
}

/* Fills values with the parameters of PGIDX_FIND_STUDY. */
static void study_find_values(const pgidx_record *record, const char *values[11])
{
    values[0] = record->study_uid;
    values[1] = record->study_date;
    values[2] = record->study_time;
    values[3] = record->accession_number;
    values[4] = record->study_id;
    values[5] = record->referring_physician;
    values[6] = record->study_description;
    values[7] = record->charset;
    values[8] = record->study_time_key;
    values[9] = record->referring_physician_folded;
    values[10] = record->sop_uid;
}

/*
 * Fills values with the parameters of PGIDX_FIND_SERIES, and series_number
 * receives the text of the number. PGIDX_INSERT_SERIES takes the first 5
 * after the study.
 */
static void series_find_values(const pgidx_record *record, number_text *series_number,
                               const char *values[6])
{
    values[0] = record->series_uid;
    values[1] = record->modality;
    values[2] = number(series_number, record->series_number);
    values[3] = record->series_description;
    values[4] = record->charset;
    values[5] = record->sop_uid;
}

/* The decimal texts of an instance's numbers. */
typedef struct instance_texts {
    number_text instance_number, size, received;
} instance_texts;

/* Fills values with the instance's own values, as PGIDX_INSERT_INSTANCE's $2 to $10. */
static void instance_values(const pgidx_record *record, instance_texts *texts,
                            const char *values[9])
{
    values[0] = record->sop_uid;
    values[1] = record->sop_class_uid;
    values[2] = number(&texts->instance_number, record->instance_number);
    values[3] = record->charset;
    values[4] = record->path;
    values[5] = number(&texts->size, (int64_t)record->size);
    values[6] = record->transfer_syntax;
    values[7] = number(&texts->received, record->received_at_us);
    values[8] = record->calling_ae;

    /* A time before 1970 is no reason to fail a store. */
    if (values[7] == NULL)
        values[7] = "0";
}

/* Finds or creates the patient, filling its empty values; patient receives its row id. */
static cairn_status file_patient(const pgidx_backend *backend, pgidx_conn *conn,
                                 const pgidx_record *record, char patient[24])
{
    const char *values[11];
    bool inserted = false;

    patient_values(record, values);

    return insert_or_find(backend, conn, PGIDX_INSERT_PATIENT, 10, values, PGIDX_FIND_PATIENT,
                          11, values, patient, NULL, &inserted);
}

/* Finds or creates the study, filling its empty values; study receives its row id. */
static cairn_status file_study(const pgidx_backend *backend, pgidx_conn *conn,
                               const pgidx_record *record, const char *patient, char study[24])
{
    const char *insert[11] = {
        patient, record->study_uid, record->study_date, record->study_time,
        record->accession_number, record->study_id, record->referring_physician,
        record->study_description, record->charset, record->study_time_key,
        record->referring_physician_folded,
    };
    const char *find[11];
    char owner[24] = "";
    bool inserted = false;
    cairn_status status;

    study_find_values(record, find);
    status = insert_or_find(backend, conn, PGIDX_INSERT_STUDY, 11, insert, PGIDX_FIND_STUDY, 11,
                            find, study, owner, &inserted);

    if (status != CAIRN_OK || inserted || strcmp(owner, patient) == 0)
        return status;

    pgidx_log(backend, CAIRN_LOG_WARN,
              "instance %s names study %s with Patient ID \"%s\", but the study is"
              " indexed under another patient; it stays there",
              record->sop_uid, record->study_uid, record->patient_id);
    return run_on_row(backend, conn, PGIDX_PRUNE_PATIENT, patient);
}

/* Finds or creates the series, filling its empty values; series receives its row id. */
static cairn_status file_series(const pgidx_backend *backend, pgidx_conn *conn,
                                const pgidx_record *record, const char *study,
                                char series[24])
{
    number_text series_number;
    const char *find[6];
    const char *insert[6];
    char owner[24] = "";
    bool inserted = false;
    cairn_status status;

    series_find_values(record, &series_number, find);
    insert[0] = study;
    memcpy(&insert[1], find, 5 * sizeof(find[0]));
    status = insert_or_find(backend, conn, PGIDX_INSERT_SERIES, 6, insert, PGIDX_FIND_SERIES, 6,
                            find, series, owner, &inserted);

    if (status != CAIRN_OK || inserted || strcmp(owner, study) == 0)
        return status;

    pgidx_log(backend, CAIRN_LOG_WARN,
              "instance %s names series %s with study %s, but the series is indexed"
              " under another study; it stays there",
              record->sop_uid, record->series_uid, record->study_uid);
    return run_on_row(backend, conn, PGIDX_PRUNE_STUDY, study);
}

/* Inserts the instance row; instance receives its row id. */
static cairn_status insert_instance(const pgidx_backend *backend, pgidx_conn *conn,
                                    const pgidx_record *record, const char *series,
                                    char instance[24])
{
    instance_texts texts;
    const char *values[10];
    PGresult *result = NULL;
    cairn_status status;

    values[0] = series;
    instance_values(record, &texts, &values[1]);
    status = pgidx_exec_fixed(backend, conn, PGIDX_INSERT_INSTANCE, 10, values, &result);
    if (status != CAIRN_OK)
        return status;
    snprintf(instance, 24, "%s", PQntuples(result) == 1 ? PQgetvalue(result, 0, 0) : "");
    PQclear(result);
    return CAIRN_OK;
}

/* True when result has exactly one row. */
static bool one_row(const PGresult *result)
{
    return result != NULL && PQntuples(result) == 1;
}

/*
 * The common store in one round trip, after the prefix statements. It
 * takes the UID lock and looks up patient, study and series, which fills
 * their empty values as on the full way. Then it inserts the instance,
 * but only when its series is filed under the study and patient that the
 * instance names. *filed is set when the instance was inserted, and ids
 * then contains the patient, study, series and instance row ids. Otherwise
 * the caller goes on the full way, which also handles duplicates and new
 * series.
 *
 * Each statement reads the rows committed when it starts. A store of
 * another connection that files the series can commit between a lookup
 * and the insert, so the insert alone decides, and a level its lookup
 * missed has its empty values filled in a second round trip.
 *
 * NOTE: a store that opens a new series pays for this round trip as well,
 * which costs most where every series has one instance (CR, DX).
 */
static cairn_status store_filed(const pgidx_backend *backend, pgidx_conn *conn,
                                const pgidx_record *record, const char *const *prefix,
                                int prefix_count, char txid[24], char ids[4][24], bool *filed,
                                PGresult **kept)
{
    static const pgidx_stmt_id lookups[3] = {PGIDX_FIND_PATIENT, PGIDX_FIND_STUDY,
                                             PGIDX_FIND_SERIES};
    pgidx_piped stmts[PGIDX_PIPELINE_MAX];
    const char *lock[1] = {record->sop_uid};
    const char *patient[11], *study[11], *series[6], *instance[13], *keys[4];
    const char **lookup_values[3] = {patient, study, series};
    const int lookup_counts[3] = {11, 11, 6};
    number_text series_number;
    instance_texts texts;
    PGresult *results[4] = {NULL, NULL, NULL, NULL};
    PGresult *txid_result = NULL;
    bool missed[3] = {false, false, false};
    cairn_status status;
    int count = 0;

    *filed = false;
    *kept = NULL;
    if (prefix_count < 0 || prefix_count > PGIDX_PIPELINE_MAX - 7)
        return CAIRN_ERR_INVALID_ARGUMENT;

    patient_values(record, patient);
    study_find_values(record, study);
    series_find_values(record, &series_number, series);
    instance[0] = record->series_uid;
    instance_values(record, &texts, &instance[1]);
    instance[10] = record->study_uid;
    instance[11] = record->patient_id;
    instance[12] = record->issuer;
    keys[0] = record->patient_id;
    keys[1] = record->issuer;
    keys[2] = record->study_uid;
    keys[3] = record->series_uid;

    for (int i = 0; i < prefix_count; i++)
        stmts[count++] = (pgidx_piped){.sql = prefix[i]};
    if (txid != NULL)
        stmts[count++] = (pgidx_piped){.sql = "SELECT txid_current()", .result = &txid_result};
    stmts[count++] = (pgidx_piped){.id = PGIDX_LOCK_UID, .count = 1, .values = lock};
    for (int level = 0; level < 3; level++) {
        stmts[count++] = (pgidx_piped){.id = lookups[level],
                                       .count = lookup_counts[level],
                                       .values = lookup_values[level],
                                       .result = &results[level]};
    }
    stmts[count++] = (pgidx_piped){.id = PGIDX_INSERT_FILED_INSTANCE,
                                   .count = 13,
                                   .values = instance,
                                   .result = &results[3]};
    if (record->sequences.count > 0) {
        stmts[count++] = (pgidx_piped){
            .id = PGIDX_SEQUENCES_KEPT_BY_KEY, .count = 4, .values = keys, .result = kept};
    }

    status = pgidx_exec_pipeline(backend, conn, stmts, count);
    if (status == CAIRN_OK && txid != NULL && one_row(txid_result))
        snprintf(txid, 24, "%s", PQgetvalue(txid_result, 0, 0));
    PQclear(txid_result);
    if (status == CAIRN_OK && one_row(results[3])) {
        *filed = true;
        for (int i = 0; i < 4; i++)
            snprintf(ids[i], 24, "%s", PQgetvalue(results[3], 0, i));
        for (int level = 0; level < 3; level++)
            missed[level] = !one_row(results[level]);
    }
    for (int i = 0; i < 4; i++)
        PQclear(results[i]);
    if (!*filed) {
        PQclear(*kept);
        *kept = NULL;
        return status;
    }

    /* The instance is new here, so the fill needs no guard against duplicates. */
    count = 0;
    for (int level = 0; level < 3; level++) {
        if (!missed[level])
            continue;
        lookup_values[level][lookup_counts[level] - 1] = NULL;
        stmts[count++] = (pgidx_piped){.id = lookups[level],
                                       .count = lookup_counts[level],
                                       .values = lookup_values[level]};
    }
    if (count > 0)
        status = pgidx_exec_pipeline(backend, conn, stmts, count);
    return status;
}

/*
 * Runs the statements of one store on conn, after the prefix statements
 * (SQL text, at most PGIDX_PIPELINE_MAX - 7), which share its first round
 * trip: the caller opens the transaction there or before. When txid is not
 * NULL, that round trip also reads the transaction id into it. It resets
 * the job's outputs first, so it may run again after a rollback.
 */
cairn_status pgidx_store_run(const pgidx_backend *backend, pgidx_conn *conn,
                             pgidx_store_job *call, const char *const *prefix, int prefix_count,
                             char txid[24])
{
    const pgidx_record *record = call->record;
    existing_instance existing = {.found = false};
    char ids[4][24];
    char *patient = ids[0], *study = ids[1], *series = ids[2], *instance = ids[3];
    PGresult *kept = NULL;
    bool filed = false;
    cairn_status status;

    call->outcome = CAIRN_STORE_STORED;
    if (call->replaced_path != NULL) {
        backend->api->free(call->replaced_path);
        call->replaced_path = NULL;
    }

    status = store_filed(backend, conn, record, prefix, prefix_count, txid, ids, &filed, &kept);
    if (status != CAIRN_OK)
        goto out;
    if (filed) {
        if (record->sequences.count > 0) {
            const char *owners[5] = {NULL, patient, study, series, instance};

            status = pgidx_seq_store(backend, conn, &record->sequences, owners, kept);
        }
        goto out;
    }

    /* The UID lock is held, and the short way changed nothing that this way would not. */
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
        status = insert_instance(backend, conn, record, series, instance);
    if (status == CAIRN_OK && record->sequences.count > 0) {
        const char *owners[5] = {NULL, patient, study, series, instance};

        status = pgidx_seq_store(backend, conn, &record->sequences, owners, NULL);
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
    PQclear(kept);
    free(existing.path);
    return status;
}

/* After a lost COMMIT: the store took effect when its file's row is there. */
cairn_status pgidx_store_check(const pgidx_backend *backend, pgidx_conn *conn,
                               const pgidx_store_job *call, bool *committed)
{
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

/* Queues the store for the next batch (batch.c) and waits for its outcome. */
cairn_status pgidx_store(pgidx_index *index, const pgidx_record *record,
                         cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                         char **replaced_path)
{
    pgidx_store_job job = {
        .record = record,
        .policy = policy,
        .want_replaced_path = replaced_path != NULL,
    };

    pgidx_batch_submit(index, &job);
    if (job.status != CAIRN_OK) {
        if (job.replaced_path != NULL)
            index->backend->api->free(job.replaced_path);
        return job.status;
    }
    *outcome = job.outcome;
    if (replaced_path != NULL)
        *replaced_path = job.replaced_path;
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
