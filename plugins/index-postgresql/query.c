/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a query (cairn_index_ops.query): one SELECT that joins the
 * levels down to the query level and carries every matching condition
 * (index-common/query_match.c). Without max_matches the rows stream to
 * the callback. With it, the SELECT returns at most max_matches + 1 rows
 * and keeps them, so that the query fails with CAIRN_ERR_LIMIT before any
 * row reaches the callback, from one statement and one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* One query: its statement and where its rows go. */
typedef struct query_call {
    const query_sql *sql;
    cairn_index_level level;
    uint64_t max_matches;
    cairn_index_row_fn fn;
    void *arg;
} query_call;

static cairn_status query_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    query_call *call = arg;
    PGresult *result = NULL;
    cairn_status status;
    bool delivered = false;
    int stop = 0;

    if (call->max_matches == 0)
        return pgidx_stream_rows(backend, conn, call->sql, call->level, call->fn, call->arg,
                                 &delivered);

    status = pgidx_exec(backend, conn, call->sql->text, (int)call->sql->param_count,
                        (const char *const *)call->sql->values, &result);
    if (status != CAIRN_OK)
        return status;
    if ((uint64_t)PQntuples(result) > call->max_matches) {
        PQclear(result);
        return CAIRN_ERR_LIMIT;
    }
    for (int row = 0; row < PQntuples(result) && !stop && status == CAIRN_OK; row++)
        status = pgidx_deliver_row(backend, result, row, call->level, call->fn, call->arg,
                                   &stop);
    PQclear(result);
    return status;
}

cairn_status pgidx_query(pgidx_index *index, const cairn_index_query *query,
                         cairn_index_row_fn fn, void *arg)
{
    query_sql sql = {.dialect = &pgidx_query_dialect};
    query_backend shared = {.self = index->backend->self, .api = index->backend->api};
    query_seq_keys seq_keys = {.count = 0};
    query_call call = {.sql = &sql, .fn = fn, .arg = arg};
    cairn_status status;

    if (query == NULL || fn == NULL || query->struct_size < sizeof(cairn_index_query) ||
        query->keys == NULL || query->level < CAIRN_LEVEL_PATIENT ||
        query->level > CAIRN_LEVEL_INSTANCE)
        return CAIRN_ERR_INVALID_ARGUMENT;
    call.level = query->level;
    call.max_matches = query->max_matches;

    query_sql_add(&sql, "SELECT ");
    pgidx_row_columns(&sql, query->level, true);
    status = query_seq_read(&shared, query, &seq_keys);
    if (status == CAIRN_OK)
        status = query_seq_columns(&shared, &sql, &seq_keys, query->level, query->flags);
    if (status == CAIRN_OK)
        status = query_sql_build_match(&shared, query, &seq_keys, &sql);
    if (status != CAIRN_OK)
        goto out;
    query_sql_add(&sql, " ORDER BY ");
    query_sql_add(&sql, pgidx_level_order[query->level]);
    if (query->max_matches > 0) {
        query_sql_add(&sql, " LIMIT ");
        query_sql_add_number(&sql, query->max_matches < (uint64_t)INT64_MAX - 1
                                       ? (int64_t)query->max_matches + 1
                                       : INT64_MAX);
    }
    if (sql.out_of_memory) {
        status = CAIRN_ERR_NO_MEMORY;
        goto out;
    }
    pgidx_log(index->backend, CAIRN_LOG_TRACE, "index query: %s", sql.text);
    status = pgidx_read(index, "query", query_body, &call);

out:
    query_sql_free(&sql);
    query_seq_free(&seq_keys);
    return status;
}
