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

/* query_plan.c: choices that steer SQLite's query plan */

/*
 * Stores in *low and *high (malloc'd) the bounds of the text that starts
 * with the literal prefix of a wildcard value, the characters before its
 * first "*" or "?": low <= text < high. Both stay NULL without a prefix,
 * and *high stays NULL when the prefix has no upper bound.
 */
cairn_status query_plan_prefix_range(const char *value, char **low, char **high);

/*
 * Returns true when a query with this Patient's Name and Study Date (either
 * NULL when absent) should read the patient name indexes first and leave
 * the study_date index alone.
 */
bool query_plan_name_first(const char *patient_name, const char *study_date);

#endif
