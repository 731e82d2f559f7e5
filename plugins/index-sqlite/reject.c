/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn_index_ops.reject_instances: what an IOCM rejection note does to
 * the index. Every UID the note names goes into the rejection table, and
 * the instances already in the index are marked rejected. The schema's
 * trigger then takes them out of the instance counts. The whole note is
 * one transaction on a reader connection, which waits for the writer
 * thread through the busy timeout like the job table does.
 */
#include <string.h>

#include "sqlidx.h"

/* Maximum length of a code: a Code Value (SH) has at most 16 characters. */
#define MAX_CODE_LENGTH 16

static const char record_sql[] =
    "INSERT INTO rejection (sop_uid, code) VALUES (?1, ?2)"
    " ON CONFLICT (sop_uid) DO UPDATE SET code = excluded.code";
static const char mark_sql[] = "UPDATE instance SET rejected = 1 WHERE sop_uid = ?1 AND rejected = 0";

/* Runs one constant statement of this file (BEGIN, COMMIT, ROLLBACK). */
static cairn_status exec(const sqlidx_backend *backend, sqlidx_conn *conn, const char *sql)
{
    int rc = sqlite3_exec(conn->db, sql, NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        return CAIRN_OK;
    sqlidx_log(backend, CAIRN_LOG_ERROR, "index \"%s\" failed: %s", sql,
               sqlite3_errmsg(conn->db));
    return sqlidx_status_from_sqlite(rc);
}

/* Binds uid (and code when not NULL), steps stmt once and resets it. */
static cairn_status run_one(const sqlidx_backend *backend, sqlidx_conn *conn,
                            sqlite3_stmt *stmt, const char *uid, const char *code)
{
    cairn_status status;
    int rc;

    sqlite3_bind_text(stmt, 1, uid, -1, SQLITE_STATIC);
    if (code != NULL)
        sqlite3_bind_text(stmt, 2, code, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE)
        return CAIRN_OK;
    sqlidx_log(backend, CAIRN_LOG_ERROR, "index rejection failed: %s", sqlite3_errmsg(conn->db));
    status = sqlidx_status_from_sqlite(rc);
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

cairn_status sqlidx_reject(const sqlidx_backend *backend, sqlidx_conn *conn,
                           const char *const *sop_uids, size_t count, const char *code,
                           size_t *marked)
{
    sqlite3_stmt *record = NULL, *mark = NULL;
    size_t newly_marked = 0;
    cairn_status status;

    if (marked != NULL)
        *marked = 0;
    if ((sop_uids == NULL && count > 0) || code == NULL || code[0] == '\0' ||
        strlen(code) > MAX_CODE_LENGTH)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (sqlite3_prepare_v2(conn->db, record_sql, -1, &record, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(conn->db, mark_sql, -1, &mark, NULL) != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot prepare the rejection statements: %s",
                   sqlite3_errmsg(conn->db));
        status = CAIRN_ERR_DATABASE;
        goto out;
    }

    status = exec(backend, conn, "BEGIN IMMEDIATE");
    if (status != CAIRN_OK)
        goto out;

    for (size_t i = 0; i < count && status == CAIRN_OK; i++) {
        if (sop_uids[i] == NULL || !sqlidx_uid_is_valid(sop_uids[i]))
            continue;
        status = run_one(backend, conn, record, sop_uids[i], code);
        if (status == CAIRN_OK)
            status = run_one(backend, conn, mark, sop_uids[i], NULL);
        if (status == CAIRN_OK)
            newly_marked += (size_t)sqlite3_changes(conn->db);
    }

    if (status == CAIRN_OK)
        status = exec(backend, conn, "COMMIT");
    if (status != CAIRN_OK)
        sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
    else if (marked != NULL)
        *marked = newly_marked;

out:
    sqlite3_finalize(record);
    sqlite3_finalize(mark);
    return status;
}
