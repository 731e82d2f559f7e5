/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing the kept sequences of one instance (seqidx.h) into seq_item and
 * seq_value, inside the store's transaction. As for the other attributes
 * of a patient, study or series, the level row keeps the first sequence
 * with items it receives, and later instances leave it unchanged. Values
 * are written as query_seq.c compares them: DA and TM as their keys, PN
 * also case-folded.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

/* Keys of this file's statements in the connection's cache, apart from listings. */
#define KEY_EXISTS 0xF5E0000000000001ull
#define KEY_ITEM 0xF5E0000000000002ull
#define KEY_VALUE 0xF5E0000000000003ull

static const char exists_sql[] =
    "SELECT 1 FROM seq_item WHERE level = ? AND owner = ? AND tag = ? LIMIT 1";
static const char item_sql[] = "INSERT INTO seq_item (level, owner, parent, tag, position, data)"
                               " VALUES (?, ?, ?, ?, ?, ?)";
static const char value_sql[] =
    "INSERT OR IGNORE INTO seq_value (item, tag, value, folded) VALUES (?, ?, ?, ?)";

/* Steps a cached statement that returns no row, then resets it. */
static cairn_status run(const sqlidx_backend *backend, sqlidx_conn *conn, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index statement \"%s\" failed: %s",
                   sqlite3_sql(stmt), sqlite3_errmsg(conn->db));
        return sqlidx_status_from_sqlite(rc);
    }
    return CAIRN_OK;
}

/* Writes one value of an item. */
static cairn_status store_value(const sqlidx_backend *backend, sqlidx_conn *conn, int64_t item,
                                const seqidx_value *value)
{
    sqlite3_stmt *stmt = sqlidx_conn_cached(backend, conn, KEY_VALUE, value_sql);
    char key[IDXTEXT_TIME_KEY_SIZE];
    const char *text = value->text;
    char *folded = NULL;
    cairn_status status;

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    if (value->vr == CAIRN_VR_DA && idxtext_date_key(value->text, key))
        text = key;
    else if (value->vr == CAIRN_VR_TM && idxtext_time_key(value->text, false, key))
        text = key;
    if (value->vr == CAIRN_VR_PN && (folded = idxtext_fold(value->text)) == NULL)
        return CAIRN_ERR_NO_MEMORY;

    sqlite3_bind_int64(stmt, 1, item);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)value->tag);
    sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
    if (folded != NULL)
        sqlite3_bind_text(stmt, 4, folded, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 4);
    status = run(backend, conn, stmt);
    free(folded);
    return status;
}

static cairn_status store_seq(const sqlidx_backend *backend, sqlidx_conn *conn, int level,
                              int64_t owner, const seqidx_seq *seq);

/* Writes one item, its values and its nested sequences. */
static cairn_status store_item(const sqlidx_backend *backend, sqlidx_conn *conn, int level,
                               int64_t owner, cairn_tag tag, size_t position,
                               const seqidx_item *item)
{
    sqlite3_stmt *stmt = sqlidx_conn_cached(backend, conn, KEY_ITEM, item_sql);
    cairn_status status;
    int64_t id;

    if (stmt == NULL)
        return CAIRN_ERR_DATABASE;
    sqlite3_bind_int(stmt, 1, level);
    sqlite3_bind_int64(stmt, 2, owner);
    if (level == 0)
        sqlite3_bind_int64(stmt, 3, owner);
    else
        sqlite3_bind_null(stmt, 3);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)tag);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)position);
    if (item->data != NULL)
        sqlite3_bind_blob(stmt, 6, item->data, (int)item->length, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 6);
    status = run(backend, conn, stmt);
    if (status != CAIRN_OK)
        return status;
    id = sqlite3_last_insert_rowid(conn->db);

    for (size_t v = 0; v < item->value_count && status == CAIRN_OK; v++)
        status = store_value(backend, conn, id, &item->values[v]);
    for (size_t s = 0; s < item->seq_count && status == CAIRN_OK; s++)
        status = store_seq(backend, conn, 0, id, &item->seqs[s]);
    return status;
}

/* Writes the items of one sequence; level 0 is a nested sequence of item owner. */
static cairn_status store_seq(const sqlidx_backend *backend, sqlidx_conn *conn, int level,
                              int64_t owner, const seqidx_seq *seq)
{
    cairn_status status = CAIRN_OK;

    for (size_t i = 0; i < seq->item_count && status == CAIRN_OK; i++)
        status = store_item(backend, conn, level, owner, seq->tag, i, &seq->items[i]);
    return status;
}

cairn_status sqlidx_seq_store(const sqlidx_backend *backend, sqlidx_conn *conn,
                              const seqidx_set *set, const int64_t owners[5])
{
    cairn_status status = CAIRN_OK;

    for (size_t s = 0; set != NULL && s < set->count && status == CAIRN_OK; s++) {
        const seqidx_seq *seq = &set->seqs[s];
        sqlite3_stmt *stmt = sqlidx_conn_cached(backend, conn, KEY_EXISTS, exists_sql);
        int rc;

        if (stmt == NULL)
            return CAIRN_ERR_DATABASE;
        sqlite3_bind_int(stmt, 1, (int)seq->level);
        sqlite3_bind_int64(stmt, 2, owners[seq->level]);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq->tag);
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            sqlidx_log(backend, CAIRN_LOG_ERROR, "index statement \"%s\" failed: %s",
                       exists_sql, sqlite3_errmsg(conn->db));
            return sqlidx_status_from_sqlite(rc);
        }

        /* The level row keeps the sequence it received first. */
        if (rc == SQLITE_DONE)
            status = store_seq(backend, conn, (int)seq->level, owners[seq->level], seq);
    }
    return status;
}
