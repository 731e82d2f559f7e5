/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox table (cairn_index_ops.outbox_add, outbox_update,
 * outbox_delete, outbox_list): DIMSE messages waiting for delivery to a
 * remote AE, kept in id order. Each call runs one statement in autocommit
 * mode on a reader connection, like the job table.
 */
#include <string.h>

#include "sqlidx.h"

static const char add_sql[] =
    "INSERT INTO outbox (kind, destination, calling_ae, group_key, document, created_at_us,"
    " next_attempt_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char update_sql[] =
    "UPDATE outbox SET attempts = ?2, next_attempt_at_us = ?3, last_error = ?4 WHERE id = ?1";
static const char delete_sql[] = "DELETE FROM outbox WHERE id = ?1";
/* substr() compares the prefix without LIKE's wildcards. */
static const char list_sql[] =
    "SELECT id, kind, destination, calling_ae, group_key, document, attempts, last_error,"
    " created_at_us, next_attempt_at_us FROM outbox"
    " WHERE substr(kind, 1, length(?1)) = ?1 ORDER BY id";

static cairn_status failed(const sqlidx_backend *backend, sqlidx_conn *conn, const char *what,
                           int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index %s failed: %s", what, sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

static bool present(const char *value)
{
    return value != NULL && value[0] != '\0';
}

cairn_status sqlidx_outbox_add(const sqlidx_backend *backend, sqlidx_conn *conn,
                               const cairn_outbox_message *message, uint64_t *id)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (message == NULL || id == NULL || !present(message->kind) ||
        !present(message->destination) || message->calling_ae == NULL ||
        message->group_key == NULL || message->document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    rc = sqlite3_prepare_v2(conn->db, add_sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "outbox_add", rc);
    sqlite3_bind_text(stmt, 1, message->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, message->destination, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, message->calling_ae, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, message->group_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, message->document, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, message->created_at_us);
    sqlite3_bind_int64(stmt, 7, message->next_attempt_at_us);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        *id = (uint64_t)sqlite3_last_insert_rowid(conn->db);
    else
        status = failed(backend, conn, "outbox_add", rc);
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_outbox_update(const sqlidx_backend *backend, sqlidx_conn *conn, uint64_t id,
                                  uint32_t attempts, int64_t next_attempt_at_us,
                                  const char *last_error)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (id > INT64_MAX)
        return CAIRN_ERR_NOT_FOUND;
    rc = sqlite3_prepare_v2(conn->db, update_sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "outbox_update", rc);
    sqlite3_bind_int64(stmt, 1, (int64_t)id);
    sqlite3_bind_int64(stmt, 2, attempts);
    sqlite3_bind_int64(stmt, 3, next_attempt_at_us);
    sqlite3_bind_text(stmt, 4, last_error != NULL ? last_error : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = failed(backend, conn, "outbox_update", rc);
    else if (sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_outbox_delete(const sqlidx_backend *backend, sqlidx_conn *conn, uint64_t id)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (id > INT64_MAX)
        return CAIRN_ERR_NOT_FOUND;
    rc = sqlite3_prepare_v2(conn->db, delete_sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "outbox_delete", rc);
    sqlite3_bind_int64(stmt, 1, (int64_t)id);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = failed(backend, conn, "outbox_delete", rc);
    else if (sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_outbox_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *kind_prefix, cairn_outbox_fn fn, void *arg)
{
    sqlite3_stmt *stmt = NULL;
    cairn_status status = CAIRN_OK;
    int rc;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    rc = sqlite3_prepare_v2(conn->db, list_sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return failed(backend, conn, "outbox_list", rc);
    sqlite3_bind_text(stmt, 1, kind_prefix != NULL ? kind_prefix : "", -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cairn_outbox_message message = {
            .struct_size = sizeof message,
            .id = (uint64_t)sqlite3_column_int64(stmt, 0),
            .kind = (const char *)sqlite3_column_text(stmt, 1),
            .destination = (const char *)sqlite3_column_text(stmt, 2),
            .calling_ae = (const char *)sqlite3_column_text(stmt, 3),
            .group_key = (const char *)sqlite3_column_text(stmt, 4),
            .document = (const char *)sqlite3_column_text(stmt, 5),
            .attempts = (uint32_t)sqlite3_column_int64(stmt, 6),
            .last_error = (const char *)sqlite3_column_text(stmt, 7),
            .created_at_us = sqlite3_column_int64(stmt, 8),
            .next_attempt_at_us = sqlite3_column_int64(stmt, 9),
        };

        if (message.kind == NULL || message.document == NULL)
            continue;
        if (fn(arg, &message) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = failed(backend, conn, "outbox_list", rc);
    sqlite3_finalize(stmt);
    return status;
}
