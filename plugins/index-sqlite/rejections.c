/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listing of recorded rejections (cairn_index_ops.rejection_list), so
 * that an index can be copied into another back end with its IOCM
 * rejections. One statement on a reader connection.
 */
#include "sqlidx.h"

static const char list_sql[] = "SELECT sop_uid, code FROM rejection ORDER BY sop_uid";

cairn_status sqlidx_rejection_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   int (*fn)(void *arg, const char *sop_instance_uid,
                                             const char *code),
                                   void *arg)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (sqlite3_prepare_v2(conn->db, list_sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot prepare index statement \"%s\": %s",
                   list_sql, sqlite3_errmsg(conn->db));
        return CAIRN_ERR_DATABASE;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(stmt, 0);
        const char *code = (const char *)sqlite3_column_text(stmt, 1);

        if (uid != NULL && code != NULL && fn(arg, uid, code) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index rejection_list failed: %s",
                   sqlite3_errmsg(conn->db));
        status = CAIRN_ERR_DATABASE;
    }
    sqlite3_finalize(stmt);
    return status;
}
