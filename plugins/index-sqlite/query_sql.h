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

/* The sequence keys of one query (seqidx.h). */
typedef struct query_seq_keys {
    seqidx_key *keys;
    size_t count;
} query_seq_keys;

/*
 * Appends to sql the FROM and WHERE clauses that select the rows of the
 * query's level matching its keys, starting with " FROM". Fails with
 * CAIRN_ERR_INVALID_ARGUMENT (logged) on a key value that cannot be
 * matched, such as a date range with an invalid date.
 */
cairn_status query_sql_build_match(const sqlidx_backend *backend, const cairn_index_query *query,
                                   const query_seq_keys *seq_keys, query_sql *sql);

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

/* query_seq.c: sequence matching */

/* What query_seq_add_to_row needs, as its sqlidx_row_extra_fn argument. */
typedef struct query_seq_row {
    const cairn_host_api *api;
    const query_seq_keys *keys;
    cairn_index_level level;
} query_seq_row;

cairn_status query_seq_read(const sqlidx_backend *backend, const cairn_index_query *query,
                            query_seq_keys *keys);
void query_seq_free(query_seq_keys *keys);

/* Appends an EXISTS condition for each matching sequence key of level. */
cairn_status query_seq_conditions(const sqlidx_backend *backend, query_sql *sql,
                                  const query_seq_keys *keys, cairn_index_level level,
                                  uint32_t flags);

/* The deepest level of a sequence key with matching keys, or 0. */
cairn_index_level query_seq_deepest(const query_seq_keys *keys);

/*
 * Appends ", (SELECT ...)" for each sequence key of level or above: the
 * matching stored items, which query_seq_add_to_row puts in the row.
 */
cairn_status query_seq_columns(const sqlidx_backend *backend, query_sql *sql,
                               const query_seq_keys *keys, cairn_index_level level,
                               uint32_t flags);

/* A sqlidx_row_extra_fn; arg is a query_seq_row. */
cairn_status query_seq_add_to_row(void *arg, cairn_dataset *row, sqlite3_stmt *stmt, int first);

#endif
