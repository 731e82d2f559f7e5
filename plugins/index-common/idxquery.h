/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C-FIND matching as SQL, shared by the SQLite and PostgreSQL index back
 * ends. Both keep the same four level tables with the same key columns,
 * so one builder writes the FROM and WHERE clauses of a query
 * (query_match.c) and its sequence matching (query_seq.c). What differs
 * between the two databases is described by a query_dialect that each
 * back end defines: placeholders, the wildcard operator, the few
 * expressions whose syntax or schema differs, and hooks for person name
 * matching and plan steering.
 *
 * This code writes the SQL of both back ends, so it lives in a folder of
 * its own rather than in either back end's folder. index-common has no
 * CMakeLists.txt and builds no target: each back end lists these files in
 * its own CMakeLists.txt and compiles them into its plugin. The shared
 * helpers that write no SQL (idxtext.c, seqidx.c) stay in index-sqlite,
 * where they were first written.
 */
#ifndef IDXQUERY_H
#define IDXQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/plugin.h"
#include "idxtext.h"
#include "seqidx.h"

typedef struct query_sql query_sql;

/* The wildcard operator of a dialect and how a DICOM pattern is escaped for it. */
typedef enum query_wildcard {
    QUERY_WILDCARD_GLOB, /* GLOB; "[" is written as "[[]" */
    QUERY_WILDCARD_LIKE, /* LIKE; "*" and "?" become "%" and "_", "%", "_" and "\" are escaped */
} query_wildcard;

/* The SQL of one database, as the shared query builder needs it. */
typedef struct query_dialect {
    /* Placeholders are numbered "$1", "$2"... rather than all "?". */
    bool numbered_params;
    query_wildcard wildcard;

    /* ORDER BY list of the rows of each level, as list() returns them. */
    const char *const *level_order;
    /* Condition on a level's row that keeps it when it has an instance that is not rejected. */
    const char *level_visible[CAIRN_LEVEL_INSTANCE + 1];
    /* The same condition on a series aliased x. */
    const char *visible_series_x;
    /* " AND NOT EXISTS (...)": study st has no visible series with a modality. */
    const char *study_without_modality;
    /* The stored Study Date and Study Time as one DT key; no time counts as midnight. */
    const char *study_datetime;
    /* Boolean literals. */
    const char *sql_false;
    const char *sql_true;
    /*
     * " AND EXISTS (SELECT ... c.sop_class_uid", completed by " IN (...)"
     * and ")": study st has an instance of one of the listed SOP classes.
     */
    const char *study_has_sop_class;
    /* " AND NOT EXISTS (...)": study st has no SOP Class UID. */
    const char *study_without_sop_class;
    /*
     * The aggregate after "(SELECT " in the SELECT list column of the
     * matching items s1 of one sequence: "position:HEX" text of each,
     * separated by commas.
     */
    const char *seq_items_column;
    /* Each sequence column is named seq_GGGGEEEE after its tag. */
    bool named_seq_columns;

    /*
     * Appends " AND <condition>": the person name in column matches value,
     * a DICOM value with wildcards "*" and "?", as a whole or, unless
     * whole_only, in one of its non-empty component groups. Case matters
     * only with case_sensitive.
     */
    cairn_status (*add_name_match)(query_sql *sql, const char *column, const char *value,
                                   bool case_sensitive, bool whole_only);

    /*
     * Optional, NULL when unset: replaces in place what the database
     * cannot take in a text parameter (PostgreSQL rejects invalid UTF-8).
     */
    void (*clean_text)(char *text);

    /*
     * Optional plan steering, NULL when unset. name_first returns true when
     * a study query should start from the patient name indexes and write
     * Study Date as "+st.study_date", off its index. prefix_range stores
     * the bounds of the text that starts with the literal prefix of a
     * wildcard value (query_plan.c of the SQLite back end).
     */
    bool (*name_first)(const char *patient_name, const char *study_date);
    cairn_status (*prefix_range)(const char *value, char **low, char **high);
} query_dialect;

/* What the shared code uses of a back end: the host API, for reading keys and logging. */
typedef struct query_backend {
    cairn_plugin *self;
    const cairn_host_api *api;
} query_backend;

#define query_log(backend, level, ...) \
    ((backend)->api->log((backend)->self, (level), __VA_ARGS__))

/* ---- SQL text and parameters (query_sql.c) ---- */

typedef enum query_param_kind {
    QUERY_PARAM_TEXT,
    QUERY_PARAM_NUMBER,
    QUERY_PARAM_NULL,
} query_param_kind;

/*
 * SQL text under construction with the values of its parameters. Every
 * value taken from a request goes into a parameter, so the text is made
 * only of constant fragments and placeholders. Start from
 * {.dialect = ...}; a failed allocation is reported once, by
 * out_of_memory.
 */
struct query_sql {
    const query_dialect *dialect;
    char *text;
    size_t length;
    size_t capacity;
    char **values;           /* text of each parameter (numbers in decimal); NULL for SQL NULL */
    query_param_kind *kinds; /* kind of each parameter */
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
 * Returns a malloc'd pattern of a DICOM wildcard value for the dialect's
 * wildcard operator, or NULL when out of memory.
 */
char *query_wildcard_pattern(const query_dialect *dialect, const char *value);

/* Returns the dialect's wildcard operator with a space on either side, " GLOB " or " LIKE ". */
const char *query_wildcard_operator(const query_dialect *dialect);

/*
 * Appends "column = ?" for a value without "*" or "?", else "column GLOB ?"
 * ("column LIKE $n" in PostgreSQL) with the value as a pattern.
 */
cairn_status query_sql_add_match(query_sql *sql, const char *column, const char *value);

/* ---- matching (query_match.c) ---- */

/*
 * The table of each level with its alias (p, st, se, i), and how a level
 * below patient joins the one above, for the matching and the listing.
 */
extern const char *const query_level_table[CAIRN_LEVEL_INSTANCE + 1];
extern const char *const query_level_link[CAIRN_LEVEL_INSTANCE + 1];

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
cairn_status query_sql_build_match(const query_backend *backend, const cairn_index_query *query,
                                   const query_seq_keys *seq_keys, query_sql *sql);

/* ---- sequence matching (query_seq.c) ---- */

cairn_status query_seq_read(const query_backend *backend, const cairn_index_query *query,
                            query_seq_keys *keys);
void query_seq_free(query_seq_keys *keys);

/* Appends an EXISTS condition for each matching sequence key of level. */
cairn_status query_seq_conditions(const query_backend *backend, query_sql *sql,
                                  const query_seq_keys *keys, cairn_index_level level,
                                  uint32_t flags);

/* Returns the deepest level of a sequence key with matching keys, or 0. */
cairn_index_level query_seq_deepest(const query_seq_keys *keys);

/*
 * Appends ", (SELECT ...)" for each sequence key of level or above: the
 * matching stored items as "position:HEX" text, which the back end
 * decodes into the row with seqidx_add_items.
 */
cairn_status query_seq_columns(const query_backend *backend, query_sql *sql,
                               const query_seq_keys *keys, cairn_index_level level,
                               uint32_t flags);

#endif
