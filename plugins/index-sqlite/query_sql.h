/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SQL text under construction with the values of its parameters, shared
 * by the query builder (query_match.c) and the query runner (query.c).
 * Every value taken from a query goes into a parameter; the SQL text is
 * made only of constant fragments and "?" placeholders.
 */
#ifndef SQLIDX_QUERY_SQL_H
#define SQLIDX_QUERY_SQL_H

#include "sqlidx.h"

typedef enum query_param_kind {
    QUERY_PARAM_TEXT,
    QUERY_PARAM_NUMBER,
    QUERY_PARAM_NULL,
} query_param_kind;

/* The value of one "?" placeholder. */
typedef struct query_param {
    query_param_kind kind;
    char *text; /* malloc'd, QUERY_PARAM_TEXT */
    int64_t number;
} query_param;

/* SQL text and its parameters; a failed allocation is reported once at the end. */
typedef struct query_sql {
    char *text;
    size_t length;
    size_t capacity;
    query_param *params;
    size_t param_count;
    size_t param_capacity;
    bool out_of_memory;
} query_sql;

void query_sql_add(query_sql *sql, const char *fragment);
void query_sql_add_text(query_sql *sql, const char *value);
void query_sql_add_number(query_sql *sql, int64_t value);
void query_sql_add_null(query_sql *sql);
void query_sql_free(query_sql *sql);

/*
 * Appends to sql the FROM and WHERE clauses that select the rows of the
 * query's level matching its keys, starting with " FROM". Fails with
 * CAIRN_ERR_INVALID_ARGUMENT (logged) on a key value that cannot be
 * matched, such as a date range with an invalid date.
 */
cairn_status query_sql_build_match(const sqlidx_backend *backend, const cairn_index_query *query,
                                   query_sql *sql);

#endif
