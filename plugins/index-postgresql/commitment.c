/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commitment table (cairn_index_ops.commitment_put, commitment_report,
 * commitment_list): the Storage Commitment the archive asked of remote
 * AEs, one row per instance and remote. A put or a report is one
 * transaction; rows are written in the order given, and two nodes that
 * write the same rows at once wait for each other on the primary key,
 * with a deadlock between them run again by the transaction runner.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* Maximum length of a key column: UIDs have up to 64 characters, AE titles 16. */
#define MAX_KEY_LENGTH 64
#define MAX_NOTE_LENGTH 1024

static const char columns[] =
    "SELECT remote_ae, sop_uid, sop_class_uid, study_uid, calling_ae, state, transaction_uid,"
    " note, requested_at_us, due_at_us, updated_at_us, attempts, failure_reason"
    " FROM commitment";

static bool key_ok(const char *text, bool required)
{
    size_t length;

    if (text == NULL)
        return !required;
    length = strlen(text);
    return length <= MAX_KEY_LENGTH && (!required || length > 0);
}

static bool note_ok(const char *note)
{
    return note == NULL || strlen(note) <= MAX_NOTE_LENGTH;
}

static bool state_ok(cairn_commitment_state state)
{
    return state == CAIRN_COMMITMENT_PENDING || state == CAIRN_COMMITMENT_COMMITTED ||
           state == CAIRN_COMMITMENT_FAILED;
}

static const char *text_or_empty(const char *text)
{
    return text != NULL ? text : "";
}

static bool row_ok(const cairn_commitment *row)
{
    return row != NULL && row->struct_size >= sizeof *row && state_ok(row->state) &&
           key_ok(row->remote_ae, true) && key_ok(row->sop_instance_uid, true) &&
           key_ok(row->sop_class_uid, false) && key_ok(row->study_instance_uid, false) &&
           key_ok(row->calling_ae, false) && key_ok(row->transaction_uid, false) &&
           note_ok(row->note);
}

/* One call: the rows or results and what the report changed. */
typedef struct commitment_call {
    const cairn_commitment *rows;
    size_t count;
    const char *transaction_uid;
    size_t changed;
} commitment_call;

static cairn_status put_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    commitment_call *call = arg;
    cairn_status status = CAIRN_OK;

    for (size_t i = 0; i < call->count && status == CAIRN_OK; i++) {
        const cairn_commitment *row = &call->rows[i];
        char numbers[6][24];
        const char *values[13];

        snprintf(numbers[0], sizeof(numbers[0]), "%d", (int)row->state);
        snprintf(numbers[1], sizeof(numbers[1]), "%" PRId64, row->requested_at_us);
        snprintf(numbers[2], sizeof(numbers[2]), "%" PRId64, row->due_at_us);
        snprintf(numbers[3], sizeof(numbers[3]), "%" PRId64, row->updated_at_us);
        snprintf(numbers[4], sizeof(numbers[4]), "%" PRIu32, row->attempts);
        snprintf(numbers[5], sizeof(numbers[5]), "%" PRIu32, row->failure_reason);
        values[0] = row->remote_ae;
        values[1] = row->sop_instance_uid;
        values[2] = text_or_empty(row->sop_class_uid);
        values[3] = text_or_empty(row->study_instance_uid);
        values[4] = text_or_empty(row->calling_ae);
        values[5] = numbers[0];
        values[6] = text_or_empty(row->transaction_uid);
        values[7] = text_or_empty(row->note);
        values[8] = numbers[1];
        values[9] = numbers[2];
        values[10] = numbers[3];
        values[11] = numbers[4];
        values[12] = numbers[5];
        status = pgidx_exec(
            backend, conn,
            "INSERT INTO commitment (remote_ae, sop_uid, sop_class_uid, study_uid, calling_ae,"
            " state, transaction_uid, note, requested_at_us, due_at_us, updated_at_us, attempts,"
            " failure_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (remote_ae, sop_uid) DO UPDATE SET"
            " sop_class_uid = excluded.sop_class_uid, study_uid = excluded.study_uid,"
            " calling_ae = excluded.calling_ae, state = excluded.state,"
            " transaction_uid = excluded.transaction_uid, note = excluded.note,"
            " requested_at_us = excluded.requested_at_us, due_at_us = excluded.due_at_us,"
            " updated_at_us = excluded.updated_at_us, attempts = excluded.attempts,"
            " failure_reason = excluded.failure_reason",
            13, values, NULL);
    }
    return status;
}

cairn_status pgidx_commitment_put(pgidx_index *index, const cairn_commitment *rows,
                                  size_t count)
{
    commitment_call call = {.rows = rows, .count = count};

    if (rows == NULL && count > 0)
        return CAIRN_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (!row_ok(&rows[i]))
            return CAIRN_ERR_INVALID_ARGUMENT;
    }
    return pgidx_transaction(index, "commitment_put", put_body, NULL, &call);
}

static cairn_status report_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    commitment_call *call = arg;
    const char *known[1] = {call->transaction_uid};
    PGresult *result = NULL;
    cairn_status status;

    call->changed = 0;
    status = pgidx_exec(backend, conn,
                        "SELECT 1 FROM commitment WHERE transaction_uid = $1 LIMIT 1", 1, known,
                        &result);
    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    PQclear(result);

    for (size_t i = 0; i < call->count && status == CAIRN_OK; i++) {
        const cairn_commitment *row = &call->rows[i];
        char numbers[3][24];
        const char *values[6] = {
            call->transaction_uid, row->sop_instance_uid, numbers[0], numbers[1],
            text_or_empty(row->note), numbers[2],
        };

        snprintf(numbers[0], sizeof(numbers[0]), "%d", (int)row->state);
        snprintf(numbers[1], sizeof(numbers[1]), "%" PRIu32, row->failure_reason);
        snprintf(numbers[2], sizeof(numbers[2]), "%" PRId64, row->updated_at_us);
        status = pgidx_exec(backend, conn,
                            "UPDATE commitment SET state = $3, failure_reason = $4, note = $5,"
                            " updated_at_us = $6 WHERE transaction_uid = $1 AND sop_uid = $2"
                            " AND state = 0",
                            6, values, &result);
        if (status == CAIRN_OK)
            call->changed += (size_t)strtoull(PQcmdTuples(result), NULL, 10);
        PQclear(result);
        result = NULL;
    }
    return status;
}

cairn_status pgidx_commitment_report(pgidx_index *index, const char *transaction_uid,
                                     const cairn_commitment *results, size_t count,
                                     size_t *updated)
{
    commitment_call call = {.rows = results, .count = count, .transaction_uid = transaction_uid};
    cairn_status status;

    if (updated != NULL)
        *updated = 0;
    if (!key_ok(transaction_uid, true) || (results == NULL && count > 0))
        return CAIRN_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (results[i].struct_size < sizeof results[i] || !state_ok(results[i].state) ||
            !key_ok(results[i].sop_instance_uid, true) || !note_ok(results[i].note))
            return CAIRN_ERR_INVALID_ARGUMENT;
    }
    status = pgidx_transaction(index, "commitment_report", report_body, NULL, &call);
    if (status == CAIRN_OK && updated != NULL)
        *updated = call.changed;
    return status;
}

/* One listing: its statement and where the rows go. */
typedef struct list_call {
    const query_sql *sql;
    cairn_commitment_fn fn;
    void *arg;
} list_call;

static cairn_status list_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    list_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn, call->sql->text,
                                     (int)call->sql->param_count,
                                     (const char *const *)call->sql->values, &result);

    if (status != CAIRN_OK)
        return status;
    for (int r = 0; r < PQntuples(result); r++) {
        cairn_commitment row = {
            .struct_size = sizeof row,
            .remote_ae = PQgetvalue(result, r, 0),
            .sop_instance_uid = PQgetvalue(result, r, 1),
            .sop_class_uid = PQgetvalue(result, r, 2),
            .study_instance_uid = PQgetvalue(result, r, 3),
            .calling_ae = PQgetvalue(result, r, 4),
            .state = (cairn_commitment_state)pgidx_int(result, r, 5),
            .transaction_uid = PQgetvalue(result, r, 6),
            .note = PQgetvalue(result, r, 7),
            .requested_at_us = pgidx_int(result, r, 8),
            .due_at_us = pgidx_int(result, r, 9),
            .updated_at_us = pgidx_int(result, r, 10),
            .attempts = (uint32_t)pgidx_int(result, r, 11),
            .failure_reason = (uint32_t)pgidx_int(result, r, 12),
        };

        if (call->fn(call->arg, &row) != 0)
            break;
    }
    PQclear(result);
    return CAIRN_OK;
}

/* Appends " AND column = $n" for a filter string that is set. */
static void add_clause(query_sql *sql, const char *column, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    query_sql_add(sql, " AND ");
    query_sql_add(sql, column);
    query_sql_add(sql, " = ");
    query_sql_add_text(sql, value);
}

cairn_status pgidx_commitment_list(pgidx_index *index, const cairn_commitment_filter *filter,
                                   cairn_commitment_fn fn, void *arg)
{
    query_sql sql = {.dialect = &pgidx_query_dialect};
    list_call call = {.sql = &sql, .fn = fn, .arg = arg};
    cairn_status status;

    if (fn == NULL || (filter != NULL && filter->struct_size < sizeof *filter))
        return CAIRN_ERR_INVALID_ARGUMENT;
    query_sql_add(&sql, columns);
    query_sql_add(&sql, " WHERE true");
    if (filter != NULL) {
        add_clause(&sql, "remote_ae", filter->remote_ae);
        add_clause(&sql, "study_uid", filter->study_instance_uid);
        add_clause(&sql, "transaction_uid", filter->transaction_uid);
        if (filter->state >= 0) {
            query_sql_add(&sql, " AND state = ");
            query_sql_add_number(&sql, filter->state);
        }
        if (filter->due_before_us != 0) {
            query_sql_add(&sql, " AND due_at_us <= ");
            query_sql_add_number(&sql, filter->due_before_us);
        }
    }
    query_sql_add(&sql, " ORDER BY remote_ae, transaction_uid, sop_uid");
    if (filter != NULL && filter->max_rows > 0 && filter->max_rows < INT64_MAX) {
        query_sql_add(&sql, " LIMIT ");
        query_sql_add_number(&sql, (int64_t)filter->max_rows);
    }
    status = sql.out_of_memory ? CAIRN_ERR_NO_MEMORY
                               : pgidx_read(index, "commitment_list", list_body, &call);
    query_sql_free(&sql);
    return status;
}
