/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite side of C-FIND matching. The FROM and WHERE clauses come
 * from the builder both back ends share (idxquery.h), which writes them
 * through sqlidx_query_dialect: "?" placeholders, GLOB, the per-level
 * instance counts, the SQL function cairn_pn_match (fold.c) and the plan
 * steering of query_plan.c. query.c runs the statements.
 */
#ifndef SQLIDX_QUERY_SQL_H
#define SQLIDX_QUERY_SQL_H

#include "idxquery.h"
#include "sqlidx.h"

/* query_dialect.c */
extern const query_dialect sqlidx_query_dialect;

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
