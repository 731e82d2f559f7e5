/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job table (cairn_index_ops.job_put, job_delete, job_list): the
 * documents of the Query, Load and Save Managers' jobs, kept as opaque
 * text under their job IDs. Each call runs one statement in autocommit
 * mode on a reader connection. The writer thread's transactions and these
 * statements wait for each other through the busy timeout, which is
 * acceptable because a job is written at most about once a second.
 */
#include <string.h>

#include "sqlidx.h"

/* Longest job ID accepted; the core uses 36-character UUIDs. */
#define MAX_JOB_ID_LENGTH 64

static const char put_sql[] =
    "INSERT INTO job (job_id, document) VALUES (?1, ?2)"
    " ON CONFLICT (job_id) DO UPDATE SET document = excluded.document";
static const char delete_sql[] = "DELETE FROM job WHERE job_id = ?1";
static const char list_sql[] = "SELECT job_id, document FROM job ORDER BY seq";

static bool job_id_is_valid(const char *job_id)
{
    size_t length = job_id != NULL ? strlen(job_id) : 0;

    return length > 0 && length <= MAX_JOB_ID_LENGTH;
}

/* Prepares sql on conn, logging a failure. */
static sqlite3_stmt *prepare(const sqlidx_backend *backend, sqlidx_conn *conn, const char *sql)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot prepare index statement \"%s\": %s", sql,
                   sqlite3_errmsg(conn->db));
        return NULL;
    }
    return stmt;
}

/* Maps a failed step to a status, logging it. */
static cairn_status step_failed(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *what, int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index %s failed: %s", what,
               sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

cairn_status sqlidx_job_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                            const char *job_id, const char *document)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int rc;

    if (!job_id_is_valid(job_id) || document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    stmt = prepare(backend, conn, put_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, document, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = step_failed(backend, conn, "job_put", rc);
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_job_delete(const sqlidx_backend *backend, sqlidx_conn *conn,
                               const char *job_id)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int rc;

    if (!job_id_is_valid(job_id))
        return CAIRN_ERR_NOT_FOUND;

    stmt = prepare(backend, conn, delete_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, job_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = step_failed(backend, conn, "job_delete", rc);
    else if (sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_job_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                             cairn_job_fn fn, void *arg)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int rc;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    stmt = prepare(backend, conn, list_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *job_id = (const char *)sqlite3_column_text(stmt, 0);
        const char *document = (const char *)sqlite3_column_text(stmt, 1);

        if (job_id == NULL || document == NULL)
            continue;
        if (fn(arg, job_id, document) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = step_failed(backend, conn, "job_list", rc);
    sqlite3_finalize(stmt);
    return status;
}
