/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite connections of the index: opening one with the settings every
 * connection needs (WAL, foreign keys, busy timeout, synchronous level),
 * and its cache of prepared statements. Every statement here takes its
 * values through sqlite3_bind_*; no SQL text is ever built from data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

/* SQL of the fixed statements, indexed by sqlidx_stmt_id. */
static const char *const fixed_sql[SQLIDX_STMT_COUNT] = {
    /* Later instances fill values the first one left empty. */
    [SQLIDX_UPSERT_PATIENT] =
        "INSERT INTO patient (patient_id, issuer, name, birth_date, sex, charset, name_folded,"
        " name_alphabetic, name_ideographic, name_phonetic)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (patient_id, issuer) DO UPDATE SET"
        " name_folded = CASE WHEN name = '' THEN excluded.name_folded ELSE name_folded END,"
        " name_alphabetic = CASE WHEN name = '' THEN excluded.name_alphabetic"
        " ELSE name_alphabetic END,"
        " name_ideographic = CASE WHEN name = '' THEN excluded.name_ideographic"
        " ELSE name_ideographic END,"
        " name_phonetic = CASE WHEN name = '' THEN excluded.name_phonetic ELSE name_phonetic END,"
        " name = CASE WHEN name = '' THEN excluded.name ELSE name END,"
        " birth_date = CASE WHEN birth_date = '' THEN excluded.birth_date ELSE birth_date END,"
        " sex = CASE WHEN sex = '' THEN excluded.sex ELSE sex END,"
        " charset = CASE WHEN charset = '' THEN excluded.charset ELSE charset END"
        " RETURNING id",
    [SQLIDX_FIND_STUDY] = "SELECT id, patient FROM study WHERE study_uid = ?1",
    [SQLIDX_INSERT_STUDY] =
        "INSERT INTO study (patient, study_uid, study_date, study_time, accession_number,"
        " study_id, referring_physician, description, charset, time_key)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    [SQLIDX_FILL_STUDY] =
        "UPDATE study SET"
        " study_date = CASE WHEN study_date = '' THEN ?2 ELSE study_date END,"
        " time_key = CASE WHEN study_time = '' THEN ?9 ELSE time_key END,"
        " study_time = CASE WHEN study_time = '' THEN ?3 ELSE study_time END,"
        " accession_number = CASE WHEN accession_number = '' THEN ?4 ELSE accession_number END,"
        " study_id = CASE WHEN study_id = '' THEN ?5 ELSE study_id END,"
        " referring_physician = CASE WHEN referring_physician = '' THEN ?6"
        " ELSE referring_physician END,"
        " description = CASE WHEN description = '' THEN ?7 ELSE description END,"
        " charset = CASE WHEN charset = '' THEN ?8 ELSE charset END"
        " WHERE id = ?1",
    [SQLIDX_FIND_SERIES] = "SELECT id, study FROM series WHERE series_uid = ?1",
    [SQLIDX_INSERT_SERIES] =
        "INSERT INTO series (study, series_uid, modality, series_number, description, charset)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    [SQLIDX_FILL_SERIES] =
        "UPDATE series SET"
        " modality = CASE WHEN modality = '' THEN ?2 ELSE modality END,"
        " series_number = coalesce(series_number, ?3),"
        " description = CASE WHEN description = '' THEN ?4 ELSE description END,"
        " charset = CASE WHEN charset = '' THEN ?5 ELSE charset END"
        " WHERE id = ?1",
    [SQLIDX_FIND_INSTANCE] =
        "SELECT i.id, i.path, i.series, se.study, st.patient FROM instance i"
        " JOIN series se ON se.id = i.series JOIN study st ON st.id = se.study"
        " WHERE i.sop_uid = ?1",
    [SQLIDX_INSERT_INSTANCE] =
        "INSERT INTO instance (series, sop_uid, sop_class_uid, instance_number, charset, path,"
        " size, transfer_syntax, received_at_us, calling_ae)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [SQLIDX_DELETE_INSTANCE] = "DELETE FROM instance WHERE id = ?1",
    /* A rejected instance is not counted but still belongs to its series. */
    [SQLIDX_PRUNE_SERIES] = "DELETE FROM series WHERE id = ?1"
                            " AND NOT EXISTS (SELECT 1 FROM instance WHERE series = ?1)",
    [SQLIDX_PRUNE_STUDY] = "DELETE FROM study WHERE id = ?1 AND num_series = 0",
    [SQLIDX_PRUNE_PATIENT] = "DELETE FROM patient WHERE id = ?1 AND num_studies = 0",
    /* An instance a rejection note named before it arrived. */
    [SQLIDX_APPLY_REJECTION] = "UPDATE instance SET rejected = 1"
                               " WHERE sop_uid = ?1 AND rejected = 0"
                               " AND EXISTS (SELECT 1 FROM rejection WHERE sop_uid = ?1)",
    [SQLIDX_BEGIN] = "BEGIN IMMEDIATE",
    [SQLIDX_COMMIT] = "COMMIT",
    [SQLIDX_ROLLBACK] = "ROLLBACK",
    [SQLIDX_SAVEPOINT] = "SAVEPOINT item",
    [SQLIDX_RELEASE] = "RELEASE item",
    [SQLIDX_ROLLBACK_TO] = "ROLLBACK TO item",
    [SQLIDX_COUNT_PATIENTS] = "SELECT count(*) FROM patient",
    [SQLIDX_COUNT_STUDIES] = "SELECT count(*) FROM study",
    [SQLIDX_COUNT_SERIES] = "SELECT count(*) FROM series",
    [SQLIDX_COUNT_INSTANCES] = "SELECT count(*) FROM instance",
};

cairn_status sqlidx_status_from_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return CAIRN_OK;
    case SQLITE_NOMEM:
        return CAIRN_ERR_NO_MEMORY;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CAIRN_ERR_BUSY;
    case SQLITE_FULL:
        return CAIRN_ERR_NO_SPACE;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        return CAIRN_ERR_IO;
    case SQLITE_CONSTRAINT:
        return CAIRN_ERR_EXISTS;
    default:
        return CAIRN_ERR_DATABASE;
    }
}

/* Runs one pragma; the SQL is a constant of this file. */
static cairn_status exec_pragma(const sqlidx_backend *backend, sqlite3 *db, const char *path,
                                const char *sql)
{
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);

    if (rc != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index database %s: \"%s\" failed: %s", path, sql,
                   message != NULL ? message : sqlite3_errstr(rc));
        sqlite3_free(message);
        return sqlidx_status_from_sqlite(rc);
    }
    return CAIRN_OK;
}

cairn_status sqlidx_conn_open(const sqlidx_backend *backend, const char *path, bool writer,
                              sqlidx_conn **out)
{
    cairn_status status = CAIRN_OK;
    sqlidx_conn *conn = calloc(1, sizeof(*conn));
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc;

    *out = NULL;
    if (conn == NULL)
        return CAIRN_ERR_NO_MEMORY;

    rc = sqlite3_open_v2(path, &conn->db, flags, NULL);
    if (rc != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot open index database %s: %s", path,
                   conn->db != NULL ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        status = sqlidx_status_from_sqlite(rc);
        goto out;
    }
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_timeout(conn->db, backend->busy_timeout_ms);

    status = sqlidx_register_functions(conn->db);
    if (status == CAIRN_OK)
        status = exec_pragma(backend, conn->db, path, "PRAGMA foreign_keys = ON");
    if (status == CAIRN_OK && writer)
        status = exec_pragma(backend, conn->db, path, "PRAGMA journal_mode = WAL");
    if (status == CAIRN_OK)
        status = exec_pragma(backend, conn->db, path,
                             backend->synchronous_full ? "PRAGMA synchronous = FULL"
                                                       : "PRAGMA synchronous = NORMAL");

out:
    if (status != CAIRN_OK) {
        sqlidx_conn_close(conn);
        return status;
    }
    *out = conn;
    return CAIRN_OK;
}

void sqlidx_conn_close(sqlidx_conn *conn)
{
    if (conn == NULL)
        return;

    for (size_t i = 0; i < SQLIDX_STMT_COUNT; i++)
        sqlite3_finalize(conn->fixed[i]);
    for (size_t i = 0; i < SQLIDX_LIST_CACHE_SIZE; i++)
        sqlite3_finalize(conn->list_cache[i].stmt);
    for (size_t i = 0; i < SQLIDX_QUERY_CACHE_SIZE; i++) {
        sqlite3_finalize(conn->query_cache[i].stmt);
        free(conn->query_cache[i].text);
    }
    sqlite3_close(conn->db);
    free(conn);
}

static sqlite3_stmt *prepare(const sqlidx_backend *backend, sqlidx_conn *conn, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);

    if (rc != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot prepare index statement \"%s\": %s", sql,
                   sqlite3_errmsg(conn->db));
        return NULL;
    }
    return stmt;
}

/*
 * Returns the fixed statement id, reset and with its bindings cleared, or
 * NULL (logged) when it cannot be prepared.
 */
sqlite3_stmt *sqlidx_conn_fixed(const sqlidx_backend *backend, sqlidx_conn *conn,
                                sqlidx_stmt_id id)
{
    sqlite3_stmt *stmt = conn->fixed[id];

    if (stmt == NULL) {
        stmt = prepare(backend, conn, fixed_sql[id]);
        conn->fixed[id] = stmt;
        return stmt;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

/*
 * Returns the listing statement cached under key, preparing sql when it is
 * not cached. A full cache drops its oldest entry. The statement returned
 * is reset; the caller resets it again once done.
 */
sqlite3_stmt *sqlidx_conn_cached(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 uint64_t key, const char *sql)
{
    sqlite3_stmt *stmt;
    unsigned slot;

    for (unsigned i = 0; i < SQLIDX_LIST_CACHE_SIZE; i++) {
        if (conn->list_cache[i].stmt != NULL && conn->list_cache[i].key == key) {
            stmt = conn->list_cache[i].stmt;
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            return stmt;
        }
    }

    stmt = prepare(backend, conn, sql);
    if (stmt == NULL)
        return NULL;

    slot = conn->list_next;
    conn->list_next = (slot + 1) % SQLIDX_LIST_CACHE_SIZE;
    sqlite3_finalize(conn->list_cache[slot].stmt);
    conn->list_cache[slot].key = key;
    conn->list_cache[slot].stmt = stmt;
    return stmt;
}

/*
 * Returns the query statement of text sql, reset and without bindings, and
 * prepares it when the connection does not have it yet; NULL (logged) on
 * failure. A full cache drops its oldest entry. Clients repeat the same
 * query keys, and preparing a SERIES query took longer than running it.
 */
sqlite3_stmt *sqlidx_conn_query(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *sql)
{
    sqlite3_stmt *stmt;
    char *text;
    unsigned slot;

    for (unsigned i = 0; i < SQLIDX_QUERY_CACHE_SIZE; i++) {
        if (conn->query_cache[i].stmt != NULL && strcmp(conn->query_cache[i].text, sql) == 0) {
            stmt = conn->query_cache[i].stmt;
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            return stmt;
        }
    }

    text = strdup(sql);
    if (text == NULL) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "out of memory for an index query");
        return NULL;
    }
    stmt = prepare(backend, conn, sql);
    if (stmt == NULL) {
        free(text);
        return NULL;
    }

    slot = conn->query_next;
    conn->query_next = (slot + 1) % SQLIDX_QUERY_CACHE_SIZE;
    sqlite3_finalize(conn->query_cache[slot].stmt);
    free(conn->query_cache[slot].text);
    conn->query_cache[slot].text = text;
    conn->query_cache[slot].stmt = stmt;
    return stmt;
}

/* Runs a fixed statement that takes no values and returns no rows. */
cairn_status sqlidx_run(const sqlidx_backend *backend, sqlidx_conn *conn, sqlidx_stmt_id id)
{
    sqlite3_stmt *stmt = sqlidx_conn_fixed(backend, conn, id);
    int rc;

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;

    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index statement \"%s\" failed: %s", fixed_sql[id],
                   sqlite3_errmsg(conn->db));
        return sqlidx_status_from_sqlite(rc);
    }
    return CAIRN_OK;
}
