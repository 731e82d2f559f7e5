/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SQL text under construction with the values of its parameters, shared
 * by the listing (list.c), the query builder (query_match.c) and the
 * runner (query.c, rows.c). Every value taken from a request goes into a
 * parameter $n, sent apart from the text by PQexecParams; the SQL text is
 * made only of constant fragments and placeholders.
 */
#ifndef PGIDX_QUERY_SQL_H
#define PGIDX_QUERY_SQL_H

#include "pgidx.h"

/* SQL text and its parameters; a failed allocation is reported once at the end. */
struct query_sql {
    char *text;
    size_t length;
    size_t capacity;
    char **values; /* malloc'd text of each parameter; NULL for SQL NULL */
    size_t param_count;
    size_t param_capacity;
    bool out_of_memory;
};

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
struct pgidx_seq_keys;
cairn_status query_sql_build_match(const pgidx_backend *backend, const cairn_index_query *query,
                                   const struct pgidx_seq_keys *seq_keys, query_sql *sql);

/*
 * Returns a malloc'd LIKE pattern of a DICOM value: "*" becomes "%", "?"
 * becomes "_", and the LIKE metacharacters "%", "_" and "\" are escaped.
 */
char *query_like_pattern(const char *value);

#endif
