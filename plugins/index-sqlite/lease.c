/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases (cairn_index_ops.lease_acquire, lease_release) and the read of one
 * job (job_get). A SQLite index serves one node, but the leases keep the
 * semantics a shared database has, so the core's claim logic runs the same
 * on every back end. Times come from this host's realtime clock. Each call
 * is one statement in autocommit mode on a reader connection.
 */
#include <string.h>
#include <time.h>

#include "sqlidx.h"

/* Maximum length of a key or an owner name, in bytes. */
#define MAX_LEASE_TEXT 128

/* Takes the lease when it is free, expired (?4 is now) or held by the same owner. */
static const char acquire_sql[] =
    "INSERT INTO lease (lease_key, owner, expires_at_us) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (lease_key) DO UPDATE SET owner = excluded.owner,"
    " expires_at_us = excluded.expires_at_us"
    " WHERE lease.owner = excluded.owner OR lease.expires_at_us <= ?4";
static const char holder_sql[] = "SELECT owner FROM lease WHERE lease_key = ?1";
static const char release_sql[] = "DELETE FROM lease WHERE lease_key = ?1 AND owner = ?2";
static const char job_get_sql[] = "SELECT job_id, document FROM job WHERE job_id = ?1";

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool text_is_valid(const char *text)
{
    size_t length = text != NULL ? strlen(text) : 0;

    return length > 0 && length <= MAX_LEASE_TEXT;
}

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

static cairn_status step_failed(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *what, int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index %s failed: %s", what,
               sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

/* Copies the current owner of key into holder (empty when none). */
static void read_holder(const sqlidx_backend *backend, sqlidx_conn *conn, const char *key,
                        char *holder, size_t holder_size)
{
    sqlite3_stmt *stmt;

    if (holder == NULL || holder_size == 0)
        return;
    holder[0] = '\0';
    stmt = prepare(backend, conn, holder_sql);
    if (stmt == NULL)
        return;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL) {
        size_t length = strlen((const char *)sqlite3_column_text(stmt, 0));

        if (length >= holder_size)
            length = holder_size - 1;
        memcpy(holder, sqlite3_column_text(stmt, 0), length);
        holder[length] = '\0';
    }
    sqlite3_finalize(stmt);
}

cairn_status sqlidx_lease_acquire(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const char *key, const char *owner, uint32_t ttl_ms,
                                  char *holder, size_t holder_size)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int64_t now = now_us();
    int rc;

    if (!text_is_valid(key) || !text_is_valid(owner) || ttl_ms == 0)
        return CAIRN_ERR_INVALID_ARGUMENT;

    stmt = prepare(backend, conn, acquire_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now + (int64_t)ttl_ms * 1000);
    sqlite3_bind_int64(stmt, 4, now);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = step_failed(backend, conn, "lease_acquire", rc);
    else if (sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_BUSY;
    sqlite3_finalize(stmt);

    if (status == CAIRN_ERR_BUSY)
        read_holder(backend, conn, key, holder, holder_size);
    return status;
}

cairn_status sqlidx_lease_release(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const char *key, const char *owner)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_OK;
    int rc;

    if (!text_is_valid(key) || !text_is_valid(owner))
        return CAIRN_ERR_NOT_FOUND;

    stmt = prepare(backend, conn, release_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, owner, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        status = step_failed(backend, conn, "lease_release", rc);
    else if (sqlite3_changes(conn->db) == 0)
        status = CAIRN_ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return status;
}

cairn_status sqlidx_job_get(const sqlidx_backend *backend, sqlidx_conn *conn,
                            const char *job_id, cairn_job_fn fn, void *arg)
{
    sqlite3_stmt *stmt;
    cairn_status status = CAIRN_ERR_NOT_FOUND;
    int rc;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (!text_is_valid(job_id))
        return CAIRN_ERR_NOT_FOUND;

    stmt = prepare(backend, conn, job_get_sql);
    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_text(stmt, 1, job_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        const char *document = (const char *)sqlite3_column_text(stmt, 1);

        if (id != NULL && document != NULL) {
            fn(arg, id, document);
            status = CAIRN_OK;
        }
    } else if (rc != SQLITE_DONE) {
        status = step_failed(backend, conn, "job_get", rc);
    }
    sqlite3_finalize(stmt);
    return status;
}
