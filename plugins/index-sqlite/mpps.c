/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mpps table (cairn_index_ops.mpps_put, mpps_get, mpps_list): the
 * Modality Performed Procedure Steps of the MPPS SCP, one row per SOP
 * Instance UID with its searchable values and an opaque document. Each
 * call runs one statement in autocommit mode on a reader connection, like
 * the job table.
 */
#include <stdio.h>
#include <string.h>

#include "sqlidx.h"

static const char insert_sql[] =
    "INSERT INTO mpps (sop_uid, status, study_uid, modality, start_datetime, calling_ae,"
    " created_at_us, updated_at_us, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char update_sql[] =
    "UPDATE mpps SET status = ?2, study_uid = ?3, modality = ?4, start_datetime = ?5,"
    " calling_ae = ?6, updated_at_us = ?8, document = ?9 WHERE sop_uid = ?1";
static const char columns[] =
    "SELECT sop_uid, status, study_uid, modality, start_datetime, calling_ae, created_at_us,"
    " updated_at_us, document FROM mpps";

/* Maps NULL to "", since the columns are NOT NULL. */
static const char *text(const char *value)
{
    return value != NULL ? value : "";
}

static cairn_status failed(const sqlidx_backend *backend, sqlidx_conn *conn, const char *what,
                           int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index %s failed: %s", what, sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

cairn_status sqlidx_mpps_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                             const cairn_mpps_step *step, int create)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (step == NULL || step->sop_instance_uid == NULL || step->sop_instance_uid[0] == '\0' ||
        strlen(step->sop_instance_uid) > 64 || step->document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    rc = sqlite3_prepare_v2(conn->db, create ? insert_sql : update_sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "mpps_put", rc);
    sqlite3_bind_text(stmt, 1, step->sop_instance_uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, text(step->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, text(step->study_instance_uid), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, text(step->modality), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, text(step->start_datetime), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, text(step->calling_ae), -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, step->created_at_us);
    sqlite3_bind_int64(stmt, 8, step->updated_at_us);
    sqlite3_bind_text(stmt, 9, step->document, -1, SQLITE_STATIC);

    rc = sqlite3_step(stmt);
    if (create && (rc & 0xff) == SQLITE_CONSTRAINT)
        status = CAIRN_ERR_EXISTS;
    else if (rc != SQLITE_DONE)
        status = failed(backend, conn, "mpps_put", rc);
    else if (!create && sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return status;
}

/* Steps stmt and calls fn per row. *rows counts the rows passed. */
static cairn_status deliver(const sqlidx_backend *backend, sqlidx_conn *conn,
                            sqlite3_stmt *stmt, cairn_mpps_fn fn, void *arg, uint64_t *rows)
{
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cairn_mpps_step step = {
            .struct_size = sizeof step,
            .sop_instance_uid = (const char *)sqlite3_column_text(stmt, 0),
            .status = (const char *)sqlite3_column_text(stmt, 1),
            .study_instance_uid = (const char *)sqlite3_column_text(stmt, 2),
            .modality = (const char *)sqlite3_column_text(stmt, 3),
            .start_datetime = (const char *)sqlite3_column_text(stmt, 4),
            .calling_ae = (const char *)sqlite3_column_text(stmt, 5),
            .created_at_us = sqlite3_column_int64(stmt, 6),
            .updated_at_us = sqlite3_column_int64(stmt, 7),
            .document = (const char *)sqlite3_column_text(stmt, 8),
        };

        if (step.sop_instance_uid == NULL || step.document == NULL)
            continue;
        (*rows)++;
        if (fn(arg, &step) != 0)
            return CAIRN_OK;
    }
    return rc == SQLITE_DONE ? CAIRN_OK : failed(backend, conn, "mpps listing", rc);
}

cairn_status sqlidx_mpps_get(const sqlidx_backend *backend, sqlidx_conn *conn,
                             const char *sop_uid, cairn_mpps_fn fn, void *arg)
{
    char sql[sizeof columns + 32];
    sqlite3_stmt *stmt = NULL;
    uint64_t rows = 0;
    cairn_status status;
    int rc;

    if (sop_uid == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    snprintf(sql, sizeof sql, "%s WHERE sop_uid = ?1", columns);
    rc = sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "mpps_get", rc);
    sqlite3_bind_text(stmt, 1, sop_uid, -1, SQLITE_STATIC);
    status = deliver(backend, conn, stmt, fn, arg, &rows);
    sqlite3_finalize(stmt);
    if (status == CAIRN_OK && rows == 0)
        status = CAIRN_ERR_NOT_FOUND;
    return status;
}

static bool given(const char *value)
{
    return value != NULL && value[0] != '\0';
}

cairn_status sqlidx_mpps_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                              const cairn_mpps_filter *filter, cairn_mpps_fn fn, void *arg)
{
    static const cairn_mpps_filter every = {.struct_size = sizeof every};
    char sql[sizeof columns + 256];
    sqlite3_stmt *stmt = NULL;
    uint64_t rows = 0;
    cairn_status status;
    int rc;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (filter == NULL)
        filter = &every;

    /* Every condition is always in the statement; an empty parameter disables it. */
    snprintf(sql, sizeof sql,
             "%s WHERE (?1 = '' OR study_uid = ?1) AND (?2 = '' OR modality = ?2)"
             " AND (?3 = '' OR status = ?3) AND (?4 = '' OR start_datetime >= ?4)"
             " AND (?5 = '' OR start_datetime <= ?5)"
             " ORDER BY start_datetime DESC, sop_uid LIMIT ?6", columns);
    rc = sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "mpps_list", rc);
    sqlite3_bind_text(stmt, 1, given(filter->study_instance_uid) ? filter->study_instance_uid : "",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, given(filter->modality) ? filter->modality : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, given(filter->status) ? filter->status : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, given(filter->start_from) ? filter->start_from : "", -1,
                      SQLITE_STATIC);
    /* A prefix such as "20260101" as upper bound takes in the whole day. */
    {
        char upper[64] = "";

        if (given(filter->start_to) && strlen(filter->start_to) < 40)
            snprintf(upper, sizeof upper, "%s\x7f", filter->start_to);
        sqlite3_bind_text(stmt, 5, upper, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(stmt, 6, filter->max_rows > 0 && filter->max_rows < INT64_MAX
                                    ? (int64_t)filter->max_rows : -1);
    status = deliver(backend, conn, stmt, fn, arg, &rows);
    sqlite3_finalize(stmt);
    return status;
}
