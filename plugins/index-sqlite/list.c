/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listing the rows of one level. The SELECT is assembled from constant
 * fragments chosen by which keys the filter sets, and every filter value
 * is bound as a parameter, so received text never becomes SQL. The
 * statements are cached per connection under the level and the set of
 * filter keys.
 *
 * Filter keys of the listed level and the levels above are matched on the
 * joined rows. Keys of lower levels match when at least one row below
 * matches them all, so a study with any CT series matches Modality CT.
 *
 * NOTE: filter attributes this index does not keep (and the related
 * counts) are ignored, so the caller must match those itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

typedef enum key_kind {
    KEY_TEXT,   /* a text column, matched exactly */
    KEY_NUMBER, /* an IS column that may be NULL, matched as a number */
    KEY_COUNT,  /* a related count, returned only */
    KEY_LIST    /* a backslash-joined list, matched when it contains any filter value */
} key_kind;

#define LEVEL_BIT(level) (1u << (level))
#define ALL_LEVELS \
    (LEVEL_BIT(CAIRN_LEVEL_PATIENT) | LEVEL_BIT(CAIRN_LEVEL_STUDY) | \
     LEVEL_BIT(CAIRN_LEVEL_SERIES) | LEVEL_BIT(CAIRN_LEVEL_INSTANCE))
#define BELOW_PATIENT (ALL_LEVELS & ~LEVEL_BIT(CAIRN_LEVEL_PATIENT))
#define BELOW_STUDY (LEVEL_BIT(CAIRN_LEVEL_SERIES) | LEVEL_BIT(CAIRN_LEVEL_INSTANCE))
#define PATIENT_AND_STUDY (LEVEL_BIT(CAIRN_LEVEL_PATIENT) | LEVEL_BIT(CAIRN_LEVEL_STUDY))

/* One attribute the index holds. */
typedef struct index_key {
    cairn_tag tag;
    cairn_vr vr;
    cairn_index_level level; /* the level whose table stores it */
    key_kind kind;
    const char *column; /* SQL expression over the aliases p, st, se, i */
    unsigned returned;  /* LEVEL_BITs of the listings that return it */
    const char *query_column; /* the value in query() rows, when not column */
} index_key;

/*
 * Counts and lists of query() rows leave out rejected instances, and the
 * series, studies and modalities left without an instance that is not
 * rejected. The instance counts and study_sop_class already do (schema.c).
 */
#define QUERY_PATIENT_STUDIES \
    "(SELECT count(*) FROM study x WHERE x.patient = p.id AND x.num_instances > 0)"
#define QUERY_PATIENT_SERIES \
    "(SELECT count(*) FROM study x JOIN series y ON y.study = x.id" \
    " WHERE x.patient = p.id AND y.num_instances > 0)"
#define QUERY_STUDY_SERIES \
    "(SELECT count(*) FROM series x WHERE x.study = st.id AND x.num_instances > 0)"
#define QUERY_MODALITIES_IN_STUDY \
    "(SELECT group_concat(modality, '\\') FROM (SELECT DISTINCT modality FROM series x" \
    " WHERE x.study = st.id AND x.num_instances > 0 AND x.modality <> '' ORDER BY modality))"

static const index_key keys[] = {
    {CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.name",
     PATIENT_AND_STUDY, NULL},
    {CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.patient_id",
     ALL_LEVELS, NULL},
    {CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_VR_LO, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.issuer",
     ALL_LEVELS, NULL},
    {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_VR_DA, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.birth_date",
     PATIENT_AND_STUDY, NULL},
    {CAIRN_TAG_PATIENT_SEX, CAIRN_VR_CS, CAIRN_LEVEL_PATIENT, KEY_TEXT, "p.sex",
     PATIENT_AND_STUDY, NULL},
    {CAIRN_TAG(0x0020, 0x1200), CAIRN_VR_IS, CAIRN_LEVEL_PATIENT, KEY_COUNT, "p.num_studies",
     LEVEL_BIT(CAIRN_LEVEL_PATIENT), QUERY_PATIENT_STUDIES},
    {CAIRN_TAG(0x0020, 0x1202), CAIRN_VR_IS, CAIRN_LEVEL_PATIENT, KEY_COUNT, "p.num_series",
     LEVEL_BIT(CAIRN_LEVEL_PATIENT), QUERY_PATIENT_SERIES},
    {CAIRN_TAG(0x0020, 0x1204), CAIRN_VR_IS, CAIRN_LEVEL_PATIENT, KEY_COUNT,
     "p.num_instances", LEVEL_BIT(CAIRN_LEVEL_PATIENT), NULL},

    {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_uid",
     BELOW_PATIENT, NULL},
    {CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_date",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_time",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, CAIRN_LEVEL_STUDY, KEY_TEXT,
     "st.accession_number", LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_STUDY_ID, CAIRN_VR_SH, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.study_id",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, CAIRN_LEVEL_STUDY, KEY_TEXT,
     "st.referring_physician", LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, CAIRN_LEVEL_STUDY, KEY_TEXT, "st.description",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, CAIRN_LEVEL_STUDY, KEY_LIST,
     "(SELECT group_concat(modality, '\\') FROM (SELECT modality FROM study_modality"
     " WHERE study = st.id ORDER BY modality))",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), QUERY_MODALITIES_IN_STUDY},
    {CAIRN_TAG(0x0008, 0x0062), CAIRN_VR_UI, CAIRN_LEVEL_STUDY, KEY_LIST,
     "(SELECT group_concat(sop_class_uid, '\\') FROM (SELECT sop_class_uid FROM"
     " study_sop_class WHERE study = st.id ORDER BY sop_class_uid))",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG(0x0020, 0x1206), CAIRN_VR_IS, CAIRN_LEVEL_STUDY, KEY_COUNT, "st.num_series",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), QUERY_STUDY_SERIES},
    {CAIRN_TAG(0x0020, 0x1208), CAIRN_VR_IS, CAIRN_LEVEL_STUDY, KEY_COUNT, "st.num_instances",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},

    {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.series_uid",
     BELOW_STUDY, NULL},
    {CAIRN_TAG_MODALITY, CAIRN_VR_CS, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.modality",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},
    {CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, CAIRN_LEVEL_SERIES, KEY_NUMBER, "se.series_number",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},
    {CAIRN_TAG_SERIES_DESCRIPTION, CAIRN_VR_LO, CAIRN_LEVEL_SERIES, KEY_TEXT, "se.description",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},
    {CAIRN_TAG(0x0020, 0x1209), CAIRN_VR_IS, CAIRN_LEVEL_SERIES, KEY_COUNT, "se.num_instances",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},

    {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, CAIRN_LEVEL_INSTANCE, KEY_TEXT, "i.sop_uid",
     LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
    {CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, CAIRN_LEVEL_INSTANCE, KEY_TEXT, "i.sop_class_uid",
     LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
    {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, CAIRN_LEVEL_INSTANCE, KEY_NUMBER,
     "i.instance_number", LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
};

#define KEY_COUNT_ALL (sizeof(keys) / sizeof(keys[0]))

/* The statement cache key packs one bit per key below the level's 4 bits. */
_Static_assert(KEY_COUNT_ALL <= 60, "filter key mask must fit in 60 bits");

/* Columns of the instance file, selected after the keys at instance level. */
static const char file_columns[] =
    ", i.path, i.size, i.transfer_syntax, i.received_at_us, i.calling_ae";

/* Filter values by key index; NULL where the filter sets no value. */
typedef struct filter_values {
    char *text[KEY_COUNT_ALL];
    uint64_t mask; /* bit k set when text[k] is set */
    cairn_index_level deepest;
} filter_values;

/* A bounded string builder; overflow is reported once at the end. */
typedef struct sql_text {
    char buf[4096];
    size_t length;
    bool overflow;
} sql_text;

static void append(sql_text *sql, const char *fragment)
{
    size_t length = strlen(fragment);

    if (sql->overflow || sql->length + length >= sizeof(sql->buf)) {
        sql->overflow = true;
        return;
    }
    memcpy(sql->buf + sql->length, fragment, length + 1);
    sql->length += length;
}

static void free_filter(const sqlidx_backend *backend, filter_values *values)
{
    for (size_t k = 0; k < KEY_COUNT_ALL; k++) {
        if (values->text[k] != NULL)
            backend->api->free(values->text[k]);
    }
}

/* Reads the non-empty filter values of the keys that can be matched. */
static cairn_status read_filter(const sqlidx_backend *backend, const cairn_dataset *filter,
                                filter_values *values)
{
    memset(values, 0, sizeof(*values));
    values->deepest = CAIRN_LEVEL_PATIENT;
    if (filter == NULL)
        return CAIRN_OK;

    for (size_t k = 0; k < KEY_COUNT_ALL; k++) {
        char *value = NULL;
        char *end;
        cairn_status status;

        if (keys[k].kind == KEY_COUNT)
            continue;
        status = backend->api->dataset_get_utf8(filter, keys[k].tag, &value);
        if (status == CAIRN_ERR_NOT_FOUND)
            continue;
        if (status != CAIRN_OK)
            return status;
        if (value == NULL)
            continue;

        /* Remove the padding, as the stored values have none. */
        end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\0'))
            *--end = '\0';
        if (value[0] == ' ') {
            size_t skip = strspn(value, " ");

            memmove(value, value + skip, strlen(value + skip) + 1);
        }
        if (value[0] == '\0') {
            backend->api->free(value);
            continue;
        }

        values->text[k] = value;
        values->mask |= (uint64_t)1 << k;
        if (keys[k].level > values->deepest)
            values->deepest = keys[k].level;
    }
    return CAIRN_OK;
}

/* Appends the match condition of key k. */
static void append_condition(sql_text *sql, size_t k)
{
    append(sql, " AND ");
    if (keys[k].kind == KEY_LIST) {
        /* Any stored value equal to any value of the backslash-joined filter. */
        append(sql, "instr('\\' || ? || '\\', '\\' || ");
        append(sql, keys[k].tag == CAIRN_TAG(0x0008, 0x0061) ? "sm.modality" : "ssc.sop_class_uid");
        append(sql, " || '\\') > 0");
        return;
    }
    append(sql, keys[k].column);
    append(sql, " = ?");
}

/* Appends the conditions of the filter keys of exactly one level. */
static void append_level_conditions(sql_text *sql, const filter_values *values,
                                    cairn_index_level level)
{
    for (size_t k = 0; k < KEY_COUNT_ALL; k++) {
        if (!(values->mask & ((uint64_t)1 << k)) || keys[k].level != level)
            continue;
        if (keys[k].kind == KEY_LIST) {
            append(sql, " AND EXISTS (SELECT 1 FROM ");
            append(sql, keys[k].tag == CAIRN_TAG(0x0008, 0x0061)
                            ? "study_modality sm WHERE sm.study = st.id"
                            : "study_sop_class ssc WHERE ssc.study = st.id");
            append_condition(sql, k);
            append(sql, ")");
            continue;
        }
        append_condition(sql, k);
    }
}

/* Appends the columns of the rows of level, as list() or query() returns them. */
static void append_row_columns(sql_text *sql, cairn_index_level level, bool query)
{
    for (size_t k = 0, first = 1; k < KEY_COUNT_ALL; k++) {
        if (!(keys[k].returned & LEVEL_BIT(level)))
            continue;
        if (!first)
            append(sql, ", ");
        append(sql, query && keys[k].query_column != NULL ? keys[k].query_column
                                                          : keys[k].column);
        first = 0;
    }
    if (level == CAIRN_LEVEL_INSTANCE)
        append(sql, file_columns);
}

/*
 * Copies the SELECT list of the rows of level into buf, the columns that
 * sqlidx_deliver_row reads. query selects the values of query() rows.
 * Returns false when buf is too small.
 */
bool sqlidx_row_columns(cairn_index_level level, bool query, char *buf, size_t size)
{
    sql_text sql = {.length = 0};

    append_row_columns(&sql, level, query);
    if (sql.overflow || sql.length >= size)
        return false;
    memcpy(buf, sql.buf, sql.length + 1);
    return true;
}

/*
 * Builds the listing of level for the keys the filter sets. The parameters
 * follow the key table's order, one per filter value.
 */
static void build_sql(sql_text *sql, cairn_index_level level, const filter_values *values)
{
    append(sql, "SELECT ");
    append_row_columns(sql, level, false);

    append(sql, " FROM patient p");
    for (int l = CAIRN_LEVEL_STUDY; l <= (int)level; l++) {
        append(sql, " JOIN ");
        append(sql, query_level_table[l]);
        append(sql, " ON ");
        append(sql, query_level_link[l]);
    }

    append(sql, " WHERE 1");
    for (int l = CAIRN_LEVEL_PATIENT; l <= (int)level; l++)
        append_level_conditions(sql, values, (cairn_index_level)l);

    /* Keys of lower levels: one row below must match all of them. */
    if (values->deepest > level) {
        append(sql, " AND EXISTS (SELECT 1 FROM ");
        append(sql, query_level_table[level + 1]);
        for (int l = (int)level + 2; l <= (int)values->deepest; l++) {
            append(sql, " JOIN ");
            append(sql, query_level_table[l]);
            append(sql, " ON ");
            append(sql, query_level_link[l]);
        }
        append(sql, " WHERE ");
        append(sql, query_level_link[level + 1]);
        for (int l = (int)level + 1; l <= (int)values->deepest; l++)
            append_level_conditions(sql, values, (cairn_index_level)l);
        append(sql, ")");
    }

    append(sql, " ORDER BY ");
    append(sql, sqlidx_query_dialect.level_order[level]);
}

/* Binds the filter values in the order build_sql placed their parameters. */
static void bind_filter(sqlite3_stmt *stmt, cairn_index_level level,
                        const filter_values *values)
{
    int index = 1;
    int first = CAIRN_LEVEL_PATIENT;
    int last = (int)(values->deepest > level ? values->deepest : level);

    for (int l = first; l <= last; l++) {
        for (size_t k = 0; k < KEY_COUNT_ALL; k++) {
            char *end = NULL;
            long long number;

            if (!(values->mask & ((uint64_t)1 << k)) || (int)keys[k].level != l)
                continue;
            if (keys[k].kind != KEY_NUMBER) {
                sqlite3_bind_text(stmt, index++, values->text[k], -1, SQLITE_STATIC);
                continue;
            }
            /* Text that is not a number matches no row: NULL equals nothing. */
            errno = 0;
            number = strtoll(values->text[k], &end, 10);
            if (*end == '\0' && errno == 0)
                sqlite3_bind_int64(stmt, index, number);
            index++;
        }
    }
}

/* Sets one returned key on row from column c of stmt. */
static cairn_status set_key(const sqlidx_backend *backend, cairn_dataset *row, size_t k,
                            sqlite3_stmt *stmt, int c)
{
    char number[24];
    const char *text;

    if (keys[k].kind == KEY_NUMBER || keys[k].kind == KEY_COUNT) {
        text = "";
        if (sqlite3_column_type(stmt, c) != SQLITE_NULL) {
            snprintf(number, sizeof(number), "%lld", (long long)sqlite3_column_int64(stmt, c));
            text = number;
        }
    } else {
        text = (const char *)sqlite3_column_text(stmt, c);
        if (text == NULL)
            text = "";
    }
    return backend->api->dataset_set_string(row, keys[k].tag, keys[k].vr, text);
}

/*
 * Builds the row at stmt's cursor and hands it to fn; *stop is fn's
 * result. The statement selects the columns of sqlidx_row_columns.
 */
cairn_status sqlidx_deliver_row(const sqlidx_backend *backend, sqlite3_stmt *stmt,
                                cairn_index_level level, sqlidx_row_extra_fn extra,
                                void *extra_arg, cairn_index_row_fn fn, void *arg, int *stop)
{
    cairn_dataset *row = backend->api->dataset_create();
    cairn_instance_file file = {.struct_size = sizeof(file)};
    cairn_index_row result = {.struct_size = sizeof(result), .level = level};
    cairn_status status;
    int c = 0;

    if (row == NULL)
        return CAIRN_ERR_NO_MEMORY;

    status = backend->api->dataset_set_string(row, CAIRN_TAG_SPECIFIC_CHARACTER_SET,
                                              CAIRN_VR_CS, "ISO_IR 192");
    for (size_t k = 0; k < KEY_COUNT_ALL && status == CAIRN_OK; k++) {
        if (keys[k].returned & LEVEL_BIT(level))
            status = set_key(backend, row, k, stmt, c++);
    }
    if (status != CAIRN_OK)
        goto out;

    if (level == CAIRN_LEVEL_INSTANCE) {
        file.path = (const char *)sqlite3_column_text(stmt, c);
        file.size = (uint64_t)sqlite3_column_int64(stmt, c + 1);
        file.transfer_syntax_uid = (const char *)sqlite3_column_text(stmt, c + 2);
        file.received_at_us = sqlite3_column_int64(stmt, c + 3);
        file.calling_ae = (const char *)sqlite3_column_text(stmt, c + 4);
        result.file = &file;
        c += 5;
    }
    if (extra != NULL) {
        status = extra(extra_arg, row, stmt, c);
        if (status != CAIRN_OK)
            goto out;
    }
    result.attributes = row;
    *stop = fn(arg, &result);

out:
    backend->api->dataset_destroy(row);
    return status;
}

cairn_status sqlidx_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                         cairn_index_level level, const cairn_dataset *filter,
                         cairn_index_row_fn fn, void *arg)
{
    filter_values values;
    sql_text sql = {.length = 0};
    sqlite3_stmt *stmt;
    uint64_t cache_key;
    cairn_status status;
    int stop = 0;
    int rc = SQLITE_DONE;

    if (level < CAIRN_LEVEL_PATIENT || level > CAIRN_LEVEL_INSTANCE || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = read_filter(backend, filter, &values);
    if (status != CAIRN_OK)
        goto out;

    /* The SQL depends only on the level and which keys are set. */
    cache_key = ((uint64_t)level << 60) | values.mask;
    build_sql(&sql, level, &values);
    if (sql.overflow) {
        status = CAIRN_ERR_INTERNAL;
        goto out;
    }
    stmt = sqlidx_conn_cached(backend, conn, cache_key, sql.buf);
    if (stmt == NULL) {
        status = CAIRN_ERR_DATABASE;
        goto out;
    }
    bind_filter(stmt, level, &values);

    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        status = sqlidx_deliver_row(backend, stmt, level, NULL, NULL, fn, arg, &stop);
        if (status != CAIRN_OK)
            break;
    }
    if (status == CAIRN_OK && !stop && rc != SQLITE_DONE) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "index listing failed: %s",
                   sqlite3_errmsg(conn->db));
        status = sqlidx_status_from_sqlite(rc);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);

out:
    free_filter(backend, &values);
    return status;
}
