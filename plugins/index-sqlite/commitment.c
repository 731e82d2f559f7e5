/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commitment table (cairn_index_ops.commitment_put, commitment_report,
 * commitment_list): the Storage Commitment the archive asked of remote
 * AEs, one row per instance and remote. Each call is one transaction on a
 * reader connection, which waits for the writer thread through the busy
 * timeout like the job table does; a report or a retry writes at most a
 * few thousand rows at once.
 */
#include <stdio.h>
#include <string.h>

#include "sqlidx.h"

/* Longest text accepted in a column: UIDs have 64 characters, AE titles 16. */
#define MAX_KEY_LENGTH 64
#define MAX_NOTE_LENGTH 1024

static const char put_sql[] =
    "INSERT INTO commitment (remote_ae, sop_uid, sop_class_uid, study_uid, calling_ae, state,"
    " transaction_uid, note, requested_at_us, due_at_us, updated_at_us, attempts,"
    " failure_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT (remote_ae, sop_uid) DO UPDATE SET sop_class_uid = excluded.sop_class_uid,"
    " study_uid = excluded.study_uid, calling_ae = excluded.calling_ae,"
    " state = excluded.state, transaction_uid = excluded.transaction_uid,"
    " note = excluded.note, requested_at_us = excluded.requested_at_us,"
    " due_at_us = excluded.due_at_us, updated_at_us = excluded.updated_at_us,"
    " attempts = excluded.attempts, failure_reason = excluded.failure_reason";
static const char report_sql[] =
    "UPDATE commitment SET state = ?3, failure_reason = ?4, note = ?5, updated_at_us = ?6"
    " WHERE transaction_uid = ?1 AND sop_uid = ?2 AND state = 0";
static const char known_sql[] = "SELECT 1 FROM commitment WHERE transaction_uid = ?1 LIMIT 1";
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

static sqlite3_stmt *prepare(const sqlidx_backend *backend, sqlidx_conn *conn, const char *sql)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot prepare a commitment statement: %s",
                   sqlite3_errmsg(conn->db));
        return NULL;
    }
    return stmt;
}

static cairn_status failed(const sqlidx_backend *backend, sqlidx_conn *conn, const char *what,
                           int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index %s failed: %s", what, sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

static cairn_status exec(const sqlidx_backend *backend, sqlidx_conn *conn, const char *sql)
{
    int rc = sqlite3_exec(conn->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? CAIRN_OK : failed(backend, conn, sql, rc);
}

/* Runs stmt once to its end and resets it. */
static cairn_status step_done(const sqlidx_backend *backend, sqlidx_conn *conn,
                              sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? CAIRN_OK : failed(backend, conn, what, rc);
}

static bool row_ok(const cairn_commitment *row)
{
    return row != NULL && row->struct_size >= sizeof *row && state_ok(row->state) &&
           key_ok(row->remote_ae, true) && key_ok(row->sop_instance_uid, true) &&
           key_ok(row->sop_class_uid, false) && key_ok(row->study_instance_uid, false) &&
           key_ok(row->calling_ae, false) && key_ok(row->transaction_uid, false) &&
           note_ok(row->note);
}

static void bind_row(sqlite3_stmt *stmt, const cairn_commitment *row)
{
    sqlite3_bind_text(stmt, 1, row->remote_ae, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, row->sop_instance_uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, text_or_empty(row->sop_class_uid), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, text_or_empty(row->study_instance_uid), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, text_or_empty(row->calling_ae), -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 6, (int)row->state);
    sqlite3_bind_text(stmt, 7, text_or_empty(row->transaction_uid), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, text_or_empty(row->note), -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 9, row->requested_at_us);
    sqlite3_bind_int64(stmt, 10, row->due_at_us);
    sqlite3_bind_int64(stmt, 11, row->updated_at_us);
    sqlite3_bind_int64(stmt, 12, (sqlite3_int64)row->attempts);
    sqlite3_bind_int64(stmt, 13, (sqlite3_int64)row->failure_reason);
}

cairn_status sqlidx_commitment_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   const cairn_commitment *rows, size_t count)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status;

    if (rows == NULL && count > 0)
        return CAIRN_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (!row_ok(&rows[i]))
            return CAIRN_ERR_INVALID_ARGUMENT;
    }
    stmt = prepare(backend, conn, put_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    status = exec(backend, conn, "BEGIN IMMEDIATE");
    for (size_t i = 0; i < count && status == CAIRN_OK; i++) {
        bind_row(stmt, &rows[i]);
        status = step_done(backend, conn, stmt, "commitment_put");
    }
    if (status == CAIRN_OK)
        status = exec(backend, conn, "COMMIT");
    else
        sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(stmt);
    return status;
}

/* Sets *known to whether any row carries transaction_uid. */
static cairn_status transaction_known(const sqlidx_backend *backend, sqlidx_conn *conn,
                                      const char *transaction_uid, bool *known)
{
    sqlite3_stmt *stmt = prepare(backend, conn, known_sql);
    int rc;

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, transaction_uid, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return failed(backend, conn, "commitment lookup", rc);
    *known = rc == SQLITE_ROW;
    return CAIRN_OK;
}

cairn_status sqlidx_commitment_report(const sqlidx_backend *backend, sqlidx_conn *conn,
                                      const char *transaction_uid,
                                      const cairn_commitment *results, size_t count,
                                      size_t *updated)
{
    sqlite3_stmt *stmt = NULL;
    size_t changed = 0;
    bool known = false;
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
    stmt = prepare(backend, conn, report_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    status = exec(backend, conn, "BEGIN IMMEDIATE");
    if (status == CAIRN_OK)
        status = transaction_known(backend, conn, transaction_uid, &known);
    if (status == CAIRN_OK && !known)
        status = CAIRN_ERR_NOT_FOUND;
    for (size_t i = 0; i < count && status == CAIRN_OK; i++) {
        sqlite3_bind_text(stmt, 1, transaction_uid, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, results[i].sop_instance_uid, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 3, (int)results[i].state);
        sqlite3_bind_int64(stmt, 4, (sqlite3_int64)results[i].failure_reason);
        sqlite3_bind_text(stmt, 5, text_or_empty(results[i].note), -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 6, results[i].updated_at_us);
        status = step_done(backend, conn, stmt, "commitment_report");
        if (status == CAIRN_OK)
            changed += (size_t)sqlite3_changes(conn->db);
    }
    if (status == CAIRN_OK)
        status = exec(backend, conn, "COMMIT");
    else
        sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
    if (status == CAIRN_OK && updated != NULL)
        *updated = changed;
    sqlite3_finalize(stmt);
    return status;
}

/* Appends " AND column = ?N" for a filter string that is set. */
static void add_clause(char *sql, size_t size, const char *value, const char *column, int *n,
                       const char **binds)
{
    size_t used = strlen(sql);

    if (value == NULL || value[0] == '\0')
        return;
    binds[*n] = value;
    (*n)++;
    snprintf(sql + used, size - used, " AND %s = ?%d", column, *n);
}

static void deliver(sqlite3_stmt *stmt, cairn_commitment *row)
{
    memset(row, 0, sizeof *row);
    row->struct_size = sizeof *row;
    row->remote_ae = (const char *)sqlite3_column_text(stmt, 0);
    row->sop_instance_uid = (const char *)sqlite3_column_text(stmt, 1);
    row->sop_class_uid = (const char *)sqlite3_column_text(stmt, 2);
    row->study_instance_uid = (const char *)sqlite3_column_text(stmt, 3);
    row->calling_ae = (const char *)sqlite3_column_text(stmt, 4);
    row->state = (cairn_commitment_state)sqlite3_column_int(stmt, 5);
    row->transaction_uid = (const char *)sqlite3_column_text(stmt, 6);
    row->note = (const char *)sqlite3_column_text(stmt, 7);
    row->requested_at_us = sqlite3_column_int64(stmt, 8);
    row->due_at_us = sqlite3_column_int64(stmt, 9);
    row->updated_at_us = sqlite3_column_int64(stmt, 10);
    row->attempts = (uint32_t)sqlite3_column_int64(stmt, 11);
    row->failure_reason = (uint32_t)sqlite3_column_int64(stmt, 12);
}

cairn_status sqlidx_commitment_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    const cairn_commitment_filter *filter,
                                    cairn_commitment_fn fn, void *arg)
{
    char sql[sizeof columns + 512];
    const char *binds[3];
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int n = 0, rc;

    if (fn == NULL || (filter != NULL && filter->struct_size < sizeof *filter))
        return CAIRN_ERR_INVALID_ARGUMENT;
    snprintf(sql, sizeof sql, "%s WHERE 1", columns);
    if (filter != NULL) {
        add_clause(sql, sizeof sql, filter->remote_ae, "remote_ae", &n, binds);
        add_clause(sql, sizeof sql, filter->study_instance_uid, "study_uid", &n, binds);
        add_clause(sql, sizeof sql, filter->transaction_uid, "transaction_uid", &n, binds);
        /* The state and the bounds are integers of the caller, never text. */
        if (filter->state >= 0)
            snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " AND state = %d",
                     (int)filter->state);
        if (filter->due_before_us != 0)
            snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " AND due_at_us <= %lld",
                     (long long)filter->due_before_us);
    }
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql),
             " ORDER BY remote_ae, transaction_uid, sop_uid");
    if (filter != NULL && filter->max_rows > 0)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " LIMIT %llu",
                 (unsigned long long)filter->max_rows);

    stmt = prepare(backend, conn, sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(stmt, i + 1, binds[i], -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cairn_commitment row;

        deliver(stmt, &row);
        if (fn(arg, &row) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = failed(backend, conn, "commitment_list", rc);
    sqlite3_finalize(stmt);
    return status;
}
