/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQL of the PostgreSQL index for the shared C-FIND builder
 * (idxquery.h). The tables keep no instance counts, so visibility is an
 * EXISTS on the instances that are not rejected, and SOP Classes in
 * Study joins down to them. Text columns have the "C" collation, so LIKE
 * is case-sensitive and a pattern with literal first characters seeks the
 * btree index. Referring Physician's Name keeps a case-folded copy next
 * to the value, and person names match their component groups with
 * split_part, as the SQLite back end's cairn_pn_match does in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* A series x with an instance that is not rejected. */
#define VISIBLE_SERIES_X \
    "EXISTS (SELECT 1 FROM instance z WHERE z.series = x.id AND NOT z.rejected)"

/*
 * Appends " AND (...)": the person name in column matches value (a LIKE
 * pattern when wildcard, else a plain value) as a whole or, unless
 * whole_only, in one of its non-empty component groups.
 */
static void add_name_groups(query_sql *sql, const char *column, const char *value,
                            bool wildcard, bool whole_only)
{
    const char *op = wildcard ? " LIKE " : " = ";

    query_sql_add(sql, " AND (");
    query_sql_add(sql, column);
    query_sql_add(sql, op);
    query_sql_add_text(sql, value);
    if (!whole_only) {
        query_sql_add(sql, " OR (strpos(");
        query_sql_add(sql, column);
        query_sql_add(sql, ", '=') > 0 AND (");
        for (int g = 1; g <= 3; g++) {
            char group[96];

            snprintf(group, sizeof(group), "split_part(%s, '=', %d)", column, g);
            if (g > 1)
                query_sql_add(sql, " OR ");
            query_sql_add(sql, "(");
            query_sql_add(sql, group);
            query_sql_add(sql, " <> '' AND ");
            query_sql_add(sql, group);
            query_sql_add(sql, op);
            query_sql_add_text(sql, value);
            query_sql_add(sql, ")");
        }
        query_sql_add(sql, "))");
    }
    query_sql_add(sql, ")");
}

/* Matches column, or its folded copy column_folded unless case_sensitive. */
static cairn_status add_name_match(query_sql *sql, const char *column, const char *value,
                                   bool case_sensitive, bool whole_only)
{
    bool wildcard = strpbrk(value, "*?") != NULL;
    char *name = case_sensitive ? strdup(value) : idxtext_fold(value);
    char *pattern = NULL;
    char stored[64];

    if (name == NULL)
        return CAIRN_ERR_NO_MEMORY;
    pattern = wildcard ? query_wildcard_pattern(sql->dialect, name) : strdup(name);
    free(name);
    if (pattern == NULL)
        return CAIRN_ERR_NO_MEMORY;

    snprintf(stored, sizeof(stored), "%s%s", column, case_sensitive ? "" : "_folded");
    add_name_groups(sql, stored, pattern, wildcard, whole_only);
    free(pattern);
    return CAIRN_OK;
}

const query_dialect pgidx_query_dialect = {
    .numbered_params = true,
    .wildcard = QUERY_WILDCARD_LIKE,
    .level_order = pgidx_level_order,
    .level_visible =
        {
            [CAIRN_LEVEL_PATIENT] = "EXISTS (SELECT 1 FROM study x JOIN series y ON y.study = x.id"
                                    " JOIN instance z ON z.series = y.id"
                                    " WHERE x.patient = p.id AND NOT z.rejected)",
            [CAIRN_LEVEL_STUDY] = "EXISTS (SELECT 1 FROM series y JOIN instance z"
                                  " ON z.series = y.id WHERE y.study = st.id AND NOT z.rejected)",
            [CAIRN_LEVEL_SERIES] = "EXISTS (SELECT 1 FROM instance z WHERE z.series = se.id"
                                   " AND NOT z.rejected)",
            [CAIRN_LEVEL_INSTANCE] = "NOT i.rejected",
        },
    .visible_series_x = VISIBLE_SERIES_X,
    .study_without_modality = " AND NOT EXISTS (SELECT 1 FROM series x WHERE x.study = st.id"
                              " AND x.modality <> '' AND " VISIBLE_SERIES_X ")",
    .study_datetime = "(st.study_date || CASE WHEN st.time_key = '' THEN '000000.000000'"
                      " ELSE st.time_key END)",
    .sql_false = "false",
    .sql_true = "true",
    .study_has_sop_class = " AND EXISTS (SELECT 1 FROM series x JOIN instance c"
                           " ON c.series = x.id WHERE x.study = st.id AND NOT c.rejected"
                           " AND c.sop_class_uid",
    .study_without_sop_class = " AND NOT EXISTS (SELECT 1 FROM series x JOIN instance c"
                               " ON c.series = x.id WHERE x.study = st.id AND NOT c.rejected"
                               " AND c.sop_class_uid <> '')",
    .seq_items_column = "string_agg(s1.position || ':' || encode(s1.data, 'hex'),"
                        " ',' ORDER BY s1.position)",
    .named_seq_columns = true,
    .add_name_match = add_name_match,
    .clean_text = pgidx_utf8_clean,
    /* name_first and prefix_range stay NULL: this back end steers no query plan. */
};
