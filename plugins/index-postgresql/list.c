/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listing the rows of one level (cairn_index_ops.list) and counting them
 * (count). The SELECT is assembled from constant fragments chosen by
 * which keys the filter sets, and every filter value is a parameter, so
 * received text never becomes SQL.
 *
 * Filter keys of the listed level and the levels above are matched on the
 * joined rows. Keys of lower levels match when at least one row below
 * matches them all, so a study with any CT series matches Modality CT.
 * Filter attributes this index does not keep are ignored, so the caller
 * matches those itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

typedef enum key_kind {
    KEY_TEXT,   /* a text column, matched exactly */
    KEY_NUMBER, /* an IS column that may be NULL, matched as a number */
    KEY_LIST    /* Modalities or SOP Classes in Study: one stored value is in the filter */
} key_kind;

/* One attribute a filter can name. */
typedef struct filter_key {
    cairn_tag tag;
    cairn_index_level level; /* the level whose table stores it */
    key_kind kind;
    const char *column;
} filter_key;

static const filter_key filter_keys[] = {
    {CAIRN_TAG_PATIENT_NAME, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.name"},
    {CAIRN_TAG_PATIENT_ID, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.patient_id"},
    {CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.issuer"},
    {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.birth_date"},
    {CAIRN_TAG_PATIENT_SEX, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.sex"},
    {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_uid"},
    {CAIRN_TAG_STUDY_DATE, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_date"},
    {CAIRN_TAG_STUDY_TIME, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_time"},
    {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.accession_number"},
    {CAIRN_TAG_STUDY_ID, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_id"},
    {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.referring_physician"},
    {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.description"},
    {CAIRN_TAG(0x0008, 0x0061), CAIRN_LEVEL_STUDY, KEY_LIST,
     "EXISTS (SELECT 1 FROM series y WHERE y.study = st.id AND y.modality <> ''"
     " AND strpos('\\' || $ || '\\', '\\' || y.modality || '\\') > 0)"},
    {CAIRN_TAG(0x0008, 0x0062), CAIRN_LEVEL_STUDY, KEY_LIST,
     "EXISTS (SELECT 1 FROM series y JOIN instance z ON z.series = y.id WHERE y.study = st.id"
     " AND NOT z.rejected AND z.sop_class_uid <> ''"
     " AND strpos('\\' || $ || '\\', '\\' || z.sop_class_uid || '\\') > 0)"},
    {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.series_uid"},
    {CAIRN_TAG_MODALITY, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.modality"},
    {CAIRN_TAG_SERIES_NUMBER, CAIRN_LEVEL_SERIES, KEY_NUMBER, "se.series_number"},
    {CAIRN_TAG_SERIES_DESCRIPTION, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.description"},
    {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_LEVEL_INSTANCE, KEY_TEXT, "i.sop_uid"},
    {CAIRN_TAG_SOP_CLASS_UID, CAIRN_LEVEL_INSTANCE, KEY_TEXT, "i.sop_class_uid"},
    {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_LEVEL_INSTANCE, KEY_NUMBER, "i.instance_number"},
};

#define FILTER_KEY_COUNT (sizeof(filter_keys) / sizeof(filter_keys[0]))

/* Filter values by key index; NULL where the filter sets no value. */
typedef struct filter_values {
    char *text[FILTER_KEY_COUNT];
    cairn_index_level deepest;
} filter_values;

static void free_filter(filter_values *values)
{
    for (size_t k = 0; k < FILTER_KEY_COUNT; k++)
        free(values->text[k]);
}

/* Reads the non-empty filter values, without their padding. */
static cairn_status read_filter(const pgidx_backend *backend, const cairn_dataset *filter,
                                filter_values *values)
{
    memset(values, 0, sizeof(*values));
    values->deepest = CAIRN_LEVEL_PATIENT;
    if (filter == NULL)
        return CAIRN_OK;

    for (size_t k = 0; k < FILTER_KEY_COUNT; k++) {
        char *value = NULL;
        size_t length;
        size_t skip;
        cairn_status status = backend->api->dataset_get_utf8(filter, filter_keys[k].tag, &value);

        if (status == CAIRN_ERR_NOT_FOUND || (status == CAIRN_OK && value == NULL))
            continue;
        if (status != CAIRN_OK)
            return status;

        length = strlen(value);
        while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
            length--;
        skip = strspn(value, " ");
        if (skip >= length) {
            backend->api->free(value);
            continue;
        }
        values->text[k] = strndup(value + skip, length - skip);
        backend->api->free(value);
        if (values->text[k] == NULL)
            return CAIRN_ERR_NO_MEMORY;
        pgidx_utf8_clean(values->text[k]);
        if (filter_keys[k].level > values->deepest)
            values->deepest = filter_keys[k].level;
    }
    return CAIRN_OK;
}

/* Appends the condition of key k, whose value is set. */
static void add_condition(query_sql *sql, size_t k, const char *value)
{
    const char *column = filter_keys[k].column;
    char *end = NULL;
    long long number;

    query_sql_add(sql, " AND ");
    switch (filter_keys[k].kind) {
    case KEY_LIST: {
        /* The column contains one "$" where the filter value goes. */
        const char *mark = strchr(column, '$');
        char head[512];

        snprintf(head, sizeof(head), "%.*s", (int)(mark - column), column);
        query_sql_add(sql, head);
        query_sql_add_text(sql, value);
        query_sql_add(sql, mark + 1);
        return;
    }
    case KEY_NUMBER:
        query_sql_add(sql, column);
        query_sql_add(sql, " = ");
        /* Text that is not a number matches no row: NULL equals nothing. */
        errno = 0;
        number = strtoll(value, &end, 10);
        if (*end == '\0' && errno == 0)
            query_sql_add_number(sql, number);
        else
            query_sql_add_null(sql);
        return;
    case KEY_TEXT:
        query_sql_add(sql, column);
        query_sql_add(sql, " = ");
        query_sql_add_text(sql, value);
        return;
    }
}

static void add_level_conditions(query_sql *sql, const filter_values *values,
                                 cairn_index_level level)
{
    for (size_t k = 0; k < FILTER_KEY_COUNT; k++) {
        if (values->text[k] != NULL && filter_keys[k].level == level)
            add_condition(sql, k, values->text[k]);
    }
}

/* Builds the listing of level for the keys the filter sets. */
static void build_sql(query_sql *sql, cairn_index_level level, const filter_values *values)
{
    query_sql_add(sql, "SELECT ");
    pgidx_row_columns(sql, level, false);

    query_sql_add(sql, " FROM patient p");
    for (int l = CAIRN_LEVEL_STUDY; l <= (int)level; l++) {
        query_sql_add(sql, " JOIN ");
        query_sql_add(sql, query_level_table[l]);
        query_sql_add(sql, " ON ");
        query_sql_add(sql, query_level_link[l]);
    }

    query_sql_add(sql, " WHERE true");
    for (int l = CAIRN_LEVEL_PATIENT; l <= (int)level; l++)
        add_level_conditions(sql, values, (cairn_index_level)l);

    /* Keys of lower levels: one row below must match all of them. */
    if (values->deepest > level) {
        query_sql_add(sql, " AND EXISTS (SELECT 1 FROM ");
        query_sql_add(sql, query_level_table[level + 1]);
        for (int l = (int)level + 2; l <= (int)values->deepest; l++) {
            query_sql_add(sql, " JOIN ");
            query_sql_add(sql, query_level_table[l]);
            query_sql_add(sql, " ON ");
            query_sql_add(sql, query_level_link[l]);
        }
        query_sql_add(sql, " WHERE ");
        query_sql_add(sql, query_level_link[level + 1]);
        for (int l = (int)level + 1; l <= (int)values->deepest; l++)
            add_level_conditions(sql, values, (cairn_index_level)l);
        query_sql_add(sql, ")");
    }

    query_sql_add(sql, " ORDER BY ");
    query_sql_add(sql, pgidx_level_order[level]);
}

/* One listing: the statement and where its rows go. */
typedef struct list_call {
    const query_sql *sql;
    cairn_index_level level;
    cairn_index_row_fn fn;
    void *arg;
} list_call;

static cairn_status list_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    list_call *call = arg;
    bool delivered = false;

    return pgidx_stream_rows(backend, conn, call->sql, call->level, call->fn, call->arg,
                             &delivered);
}

cairn_status pgidx_list(pgidx_index *index, cairn_index_level level,
                        const cairn_dataset *filter, cairn_index_row_fn fn, void *arg)
{
    filter_values values;
    query_sql sql = {.dialect = &pgidx_query_dialect};
    list_call call = {.sql = &sql, .level = level, .fn = fn, .arg = arg};
    cairn_status status;

    if (level < CAIRN_LEVEL_PATIENT || level > CAIRN_LEVEL_INSTANCE || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = read_filter(index->backend, filter, &values);
    if (status == CAIRN_OK) {
        build_sql(&sql, level, &values);
        if (sql.out_of_memory)
            status = CAIRN_ERR_NO_MEMORY;
    }
    if (status == CAIRN_OK)
        status = pgidx_read(index, "listing", list_body, &call);

    query_sql_free(&sql);
    free_filter(&values);
    return status;
}

/* One count: the statement and its result. */
typedef struct count_call {
    const char *sql;
    uint64_t count;
} count_call;

static cairn_status count_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    count_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn, call->sql, 0, NULL, &result);

    if (status == CAIRN_OK)
        call->count = (uint64_t)pgidx_int(result, 0, 0);
    PQclear(result);
    return status;
}

cairn_status pgidx_count(pgidx_index *index, cairn_index_level level, uint64_t *count)
{
    static const char *const by_level[] = {
        [CAIRN_LEVEL_PATIENT] = "SELECT count(*) FROM patient",
        [CAIRN_LEVEL_STUDY] = "SELECT count(*) FROM study",
        [CAIRN_LEVEL_SERIES] = "SELECT count(*) FROM series",
        [CAIRN_LEVEL_INSTANCE] = "SELECT count(*) FROM instance",
    };
    count_call call = {.count = 0};
    cairn_status status;

    if (count == NULL || level < CAIRN_LEVEL_PATIENT || level > CAIRN_LEVEL_INSTANCE)
        return CAIRN_ERR_INVALID_ARGUMENT;
    call.sql = by_level[level];
    status = pgidx_read(index, "count", count_body, &call);
    if (status == CAIRN_OK)
        *count = call.count;
    return status;
}
