/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a query (cairn_index_ops.query) on a reader connection. The rows
 * come from one SELECT that joins the levels down to the query level and
 * carries every matching condition (index-common/query_match.c). With
 * max_matches set, that SELECT is limited to max_matches + 1 rows and
 * wrapped in one that adds their count as a last column. The first row
 * thus decides whether the query fails with CAIRN_ERR_LIMIT, before any
 * row reaches the callback. The rows are matched once, not once for a count
 * and again for the values; SQLite keeps the limited rows aside to count
 * them, so the wrapper holds at most max_matches + 1 of them.
 *
 * Sequence keys (index-common/query_seq.c) add conditions to the same
 * WHERE clause, and each one of the query level or above adds a column
 * of matching items, whose parameters come before those of the
 * conditions.
 *
 * The shape of the statements depends on which keys are set and on the
 * number of values in UID lists, so the connection keeps them by their
 * text (sqlidx_conn_query): a client that repeats a query with other
 * values reuses the prepared statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* Room for the SELECT list of the widest level (list.c). */
#define ROW_COLUMNS_SIZE 4096

/* What query_seq_add_to_row needs, as its sqlidx_row_extra_fn argument. */
typedef struct query_seq_row {
    const cairn_host_api *api;
    const query_seq_keys *keys;
    cairn_index_level level;
} query_seq_row;

/*
 * A sqlidx_row_extra_fn; arg is a query_seq_row. Decodes the sequence
 * columns from index first on (query_seq_columns) into the row.
 */
static cairn_status query_seq_add_to_row(void *arg, cairn_dataset *row, sqlite3_stmt *stmt,
                                         int first)
{
    const query_seq_row *context = arg;
    const query_seq_keys *keys = context->keys;
    cairn_status status = CAIRN_OK;
    int column = first;

    for (size_t k = 0; k < keys->count && status == CAIRN_OK; k++) {
        if (keys->keys[k].level > context->level)
            continue;
        status = seqidx_add_items(context->api, row, keys->keys[k].tag,
                                  (const char *)sqlite3_column_text(stmt, column++));
    }
    return status;
}

/* Binds the parameters of sql from index first + 1 on. */
static int bind_params(sqlite3_stmt *stmt, const query_sql *sql, int first)
{
    int rc = SQLITE_OK;

    for (size_t i = 0; sql != NULL && i < sql->param_count && rc == SQLITE_OK; i++) {
        int index = first + (int)i + 1;

        /* query_sql_add_number wrote the number in decimal, so it reads back exactly. */
        if (sql->kinds[i] == QUERY_PARAM_TEXT)
            rc = sqlite3_bind_text(stmt, index, sql->values[i], -1, SQLITE_STATIC);
        else if (sql->kinds[i] == QUERY_PARAM_NUMBER)
            rc = sqlite3_bind_int64(stmt, index, strtoll(sql->values[i], NULL, 10));
        else
            rc = sqlite3_bind_null(stmt, index);
    }
    return rc;
}

/*
 * Gives a statement back to the connection's cache: reset, so it holds no
 * read lock, and without bindings, which point into the query's values.
 */
static void release(sqlite3_stmt *stmt)
{
    if (stmt == NULL)
        return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/*
 * Takes the statement of text from the connection's cache, or prepares it,
 * and binds the parameters of columns (may be NULL), then those of match;
 * NULL (logged) on failure. The caller resets the statement when done.
 */
static sqlite3_stmt *prepare(const sqlidx_backend *backend, sqlidx_conn *conn, const char *text,
                             const query_sql *columns, const query_sql *match)
{
    int first = columns != NULL ? (int)columns->param_count : 0;
    sqlite3_stmt *stmt = sqlidx_conn_query(backend, conn, text);
    int rc;

    if (stmt == NULL)
        return NULL;

    rc = bind_params(stmt, columns, 0);
    if (rc == SQLITE_OK)
        rc = bind_params(stmt, match, first);
    if (rc != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot bind the values of an index query: %s",
                   sqlite3_errmsg(conn->db));
        release(stmt);
        return NULL;
    }
    return stmt;
}

/* Logs a failed step of stmt and returns its status. */
static cairn_status step_failed(const sqlidx_backend *backend, sqlidx_conn *conn, int rc)
{
    cairn_status status = sqlidx_status_from_sqlite(rc);

    sqlidx_log(backend, CAIRN_LOG_ERROR, "index query failed: %s", sqlite3_errmsg(conn->db));
    return status != CAIRN_OK ? status : CAIRN_ERR_DATABASE;
}

/*
 * Selects the matching rows and hands each to fn until it returns
 * non-zero. With limit above 0, more than limit - 1 matches fail the
 * query with CAIRN_ERR_LIMIT before the first row is handed over.
 */
static cairn_status deliver_matches(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    const cairn_index_query *query, const query_seq_keys *seq_keys,
                                    const query_sql *match, int64_t limit,
                                    cairn_index_row_fn fn, void *arg)
{
    cairn_index_level level = query->level;
    query_backend shared = {.self = backend->self, .api = backend->api};
    query_seq_row seq_row = {.api = backend->api, .keys = seq_keys, .level = level};
    query_sql seq_columns = {.dialect = &sqlidx_query_dialect};
    char columns[ROW_COLUMNS_SIZE];
    char *text = NULL;
    sqlite3_stmt *stmt = NULL;
    cairn_status status;
    int stop = 0;
    int rc = SQLITE_DONE;

    if (!sqlidx_row_columns(level, true, columns, sizeof(columns)))
        return CAIRN_ERR_INTERNAL;
    query_sql_add(&seq_columns, "");
    status = query_seq_columns(&shared, &seq_columns, seq_keys, level, query->flags);
    if (status == CAIRN_OK && seq_columns.out_of_memory)
        status = CAIRN_ERR_NO_MEMORY;
    if (status != CAIRN_OK)
        goto out;
    if (asprintf(&text, "%sSELECT %s%s%s ORDER BY %s%s",
                 limit > 0 ? "SELECT *, count(*) OVER () FROM (" : "", columns,
                 seq_columns.text, match->text, sqlidx_query_dialect.level_order[level],
                 limit > 0 ? " LIMIT ?)" : "") < 0) {
        text = NULL;
        status = CAIRN_ERR_NO_MEMORY;
        goto out;
    }
    sqlidx_log(backend, CAIRN_LOG_TRACE, "index query: %s", text);
    stmt = prepare(backend, conn, text, &seq_columns, match);
    if (stmt == NULL) {
        status = CAIRN_ERR_DATABASE;
        goto out;
    }
    if (limit > 0)
        sqlite3_bind_int64(stmt, (int)(seq_columns.param_count + match->param_count) + 1, limit);

    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (limit > 0 && sqlite3_column_int64(stmt, sqlite3_column_count(stmt) - 1) >= limit) {
            status = CAIRN_ERR_LIMIT;
            goto out;
        }
        status = sqlidx_deliver_row(backend, stmt, level, query_seq_add_to_row, &seq_row, fn,
                                    arg, &stop);
        if (status != CAIRN_OK)
            goto out;
    }
    if (!stop && rc != SQLITE_DONE)
        status = step_failed(backend, conn, rc);

out:
    release(stmt);
    free(text);
    query_sql_free(&seq_columns);
    return status;
}

cairn_status sqlidx_query(const sqlidx_backend *backend, sqlidx_conn *conn,
                          const cairn_index_query *query, cairn_index_row_fn fn, void *arg)
{
    query_backend shared = {.self = backend->self, .api = backend->api};
    query_sql match = {.dialect = &sqlidx_query_dialect};
    query_seq_keys seq_keys = {.count = 0};
    int64_t limit = 0;
    cairn_status status;

    if (query == NULL || fn == NULL || query->struct_size < sizeof(cairn_index_query) ||
        query->keys == NULL || query->level < CAIRN_LEVEL_PATIENT ||
        query->level > CAIRN_LEVEL_INSTANCE)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = query_seq_read(&shared, query, &seq_keys);
    if (status == CAIRN_OK)
        status = query_sql_build_match(&shared, query, &seq_keys, &match);
    if (status != CAIRN_OK)
        goto out;

    if (query->max_matches > 0)
        limit = query->max_matches < (uint64_t)INT64_MAX ? (int64_t)query->max_matches + 1
                                                         : INT64_MAX;
    status = deliver_matches(backend, conn, query, &seq_keys, &match, limit, fn, arg);

out:
    query_sql_free(&match);
    query_seq_free(&seq_keys);
    return status;
}
