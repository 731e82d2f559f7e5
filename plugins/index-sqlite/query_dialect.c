/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQL of the SQLite index for the shared C-FIND builder (idxquery.h).
 * Every level keeps a count of its instances that are not rejected, and
 * study_sop_class lists the SOP classes of each study, so visibility and
 * SOP Classes in Study need no join down to the instances. Person names
 * without indexed, folded columns match in the SQL function
 * cairn_pn_match (fold.c), which also tries each component group.
 */
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* Flags of the SQL function cairn_pn_match (fold.c). */
#define PN_MATCH_CASE_SENSITIVE 0x1
#define PN_MATCH_WHOLE_ONLY 0x2

/* Appends " AND cairn_pn_match(?, column, ?)" with value as a GLOB pattern. */
static cairn_status add_name_match(query_sql *sql, const char *column, const char *value,
                                   bool case_sensitive, bool whole_only)
{
    char *pattern = query_wildcard_pattern(sql->dialect, value);
    int flags = (case_sensitive ? PN_MATCH_CASE_SENSITIVE : 0) |
                (whole_only ? PN_MATCH_WHOLE_ONLY : 0);

    if (pattern == NULL)
        return CAIRN_ERR_NO_MEMORY;

    query_sql_add(sql, " AND cairn_pn_match(");
    query_sql_add_text(sql, pattern);
    query_sql_add(sql, ", ");
    query_sql_add(sql, column);
    query_sql_add(sql, ", ");
    query_sql_add_number(sql, flags);
    query_sql_add(sql, ")");
    free(pattern);
    return CAIRN_OK;
}

/* Rows come in this order, from list() and from query(). */
static const char *const level_order[] = {
    [CAIRN_LEVEL_PATIENT] = "p.patient_id, p.issuer",
    [CAIRN_LEVEL_STUDY] = "p.patient_id, p.issuer, st.study_date, st.study_uid",
    [CAIRN_LEVEL_SERIES] =
        "p.patient_id, p.issuer, st.study_date, st.study_uid, se.series_number, se.series_uid",
    [CAIRN_LEVEL_INSTANCE] = "p.patient_id, p.issuer, st.study_date, st.study_uid,"
                             " se.series_number, se.series_uid, i.instance_number, i.sop_uid",
};

const query_dialect sqlidx_query_dialect = {
    .numbered_params = false,
    .wildcard = QUERY_WILDCARD_GLOB,
    .level_order = level_order,
    .level_visible =
        {
            [CAIRN_LEVEL_PATIENT] = "p.num_instances > 0",
            [CAIRN_LEVEL_STUDY] = "st.num_instances > 0",
            [CAIRN_LEVEL_SERIES] = "se.num_instances > 0",
            [CAIRN_LEVEL_INSTANCE] = "i.rejected = 0",
        },
    .visible_series_x = "x.num_instances > 0",
    .study_without_modality = " AND NOT EXISTS (SELECT 1 FROM series x WHERE x.study = st.id"
                              " AND x.num_instances > 0 AND x.modality <> '')",
    .study_datetime = "(st.study_date || iif(st.time_key = '', '000000.000000', st.time_key))",
    .sql_false = "0",
    .sql_true = "1",
    .study_has_sop_class = " AND EXISTS (SELECT 1 FROM study_sop_class c WHERE c.study = st.id"
                           " AND c.sop_class_uid",
    .study_without_sop_class = " AND NOT EXISTS (SELECT 1 FROM study_sop_class c"
                               " WHERE c.study = st.id)",
    .seq_items_column = "group_concat(s1.position || ':' || hex(s1.data), ',')",
    .named_seq_columns = false,
    .add_name_match = add_name_match,
    /* SQLite takes any bytes in a text parameter, so clean_text stays NULL. */
    .name_first = query_plan_name_first,
    .prefix_range = query_plan_prefix_range,
};
