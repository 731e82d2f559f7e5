/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FROM and WHERE clauses of a query: PS3.4 C.2.2.2 attribute matching
 * on every attribute the index keeps, turned into SQL conditions. Both
 * back ends build their queries here, each through its query_dialect
 * (idxquery.h).
 *
 *   universal     an empty value or a lone "*": no condition.
 *   empty value   the value "" (two quotation marks): the attribute is empty.
 *   single value  equality. PN ignores case unless the query sets
 *                 CAIRN_QUERY_PN_CASE_SENSITIVE, by comparing case-folded
 *                 copies (idxtext.c).
 *                 DA and TM compare their normalised keys, so "2230"
 *                 equals "223000".
 *   list of UIDs  UI values separated by backslashes: any of them.
 *   wildcard      "*" and "?" on AE CS LO LT PN SH ST UC UR UT: SQLite's
 *                 GLOB with "[" escaped, or PostgreSQL's LIKE with "%",
 *                 "_" and "\" escaped on columns of the "C" collation.
 *                 Both are case-sensitive, as C.2.2.2.4 requires, and a
 *                 PN pattern runs on case-folded copies.
 *   range         "a-b", "-b", "a-" on DA and TM; an empty value never
 *                 falls in a range. With combined date-time matching a
 *                 Study Date and Study Time range of the same form match
 *                 as one date-time range.
 *
 * A PN value without "=" matches the whole name or any of its component
 * groups (alphabetic, ideographic, phonetic); with "=" only the whole name.
 * Modalities in Study and SOP Classes in Study match when any of their
 * values matches any value of the key. Sequence keys match in
 * query_seq.c. Counts and attributes the index does not keep match
 * universally.
 *
 * Keys of the query level and the levels above are matched on the joined
 * rows. Keys of lower levels (relational queries) match when one row
 * below matches all of them. Rejected instances, and the levels above
 * left without any other instance, never match.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idxquery.h"

/* At most this many values in one list of UIDs or of modalities. */
#define MAX_LIST_VALUES 1000

typedef enum match_kind {
    MATCH_TEXT,         /* case-sensitive text: single value or wildcard */
    MATCH_PATIENT_NAME, /* PN with case-folded, indexed columns */
    MATCH_PERSON_NAME,  /* PN matched by the dialect's add_name_match alone */
    MATCH_DATE,
    MATCH_TIME,
    MATCH_UID,
    MATCH_NUMBER,
    MATCH_MODALITIES,
    MATCH_SOP_CLASSES,
} match_kind;

/* An attribute the index can match. */
typedef struct match_key {
    cairn_tag tag;
    cairn_index_level level;
    match_kind kind;
    const char *column; /* the stored value over the aliases p, st, se, i */
} match_key;

static const match_key match_keys[] = {
    {CAIRN_TAG_PATIENT_NAME, CAIRN_LEVEL_PATIENT, MATCH_PATIENT_NAME, "p.name"},
    {CAIRN_TAG_PATIENT_ID, CAIRN_LEVEL_PATIENT, MATCH_TEXT, "p.patient_id"},
    {CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_LEVEL_PATIENT, MATCH_TEXT, "p.issuer"},
    {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_LEVEL_PATIENT, MATCH_DATE, "p.birth_date"},
    {CAIRN_TAG_PATIENT_SEX, CAIRN_LEVEL_PATIENT, MATCH_TEXT, "p.sex"},
    {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_LEVEL_STUDY, MATCH_UID, "st.study_uid"},
    {CAIRN_TAG_STUDY_DATE, CAIRN_LEVEL_STUDY, MATCH_DATE, "st.study_date"},
    {CAIRN_TAG_STUDY_TIME, CAIRN_LEVEL_STUDY, MATCH_TIME, "st.study_time"},
    {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_LEVEL_STUDY, MATCH_TEXT, "st.accession_number"},
    {CAIRN_TAG_STUDY_ID, CAIRN_LEVEL_STUDY, MATCH_TEXT, "st.study_id"},
    {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_LEVEL_STUDY, MATCH_PERSON_NAME,
     "st.referring_physician"},
    {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_LEVEL_STUDY, MATCH_TEXT, "st.description"},
    {CAIRN_TAG(0x0008, 0x0061), CAIRN_LEVEL_STUDY, MATCH_MODALITIES, NULL},
    {CAIRN_TAG(0x0008, 0x0062), CAIRN_LEVEL_STUDY, MATCH_SOP_CLASSES, NULL},
    {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_LEVEL_SERIES, MATCH_UID, "se.series_uid"},
    {CAIRN_TAG_MODALITY, CAIRN_LEVEL_SERIES, MATCH_TEXT, "se.modality"},
    {CAIRN_TAG_SERIES_NUMBER, CAIRN_LEVEL_SERIES, MATCH_NUMBER, "se.series_number"},
    {CAIRN_TAG_SERIES_DESCRIPTION, CAIRN_LEVEL_SERIES, MATCH_TEXT, "se.description"},
    {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_LEVEL_INSTANCE, MATCH_UID, "i.sop_uid"},
    {CAIRN_TAG_SOP_CLASS_UID, CAIRN_LEVEL_INSTANCE, MATCH_UID, "i.sop_class_uid"},
    {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_LEVEL_INSTANCE, MATCH_NUMBER, "i.instance_number"},
};

#define MATCH_KEY_COUNT (sizeof(match_keys) / sizeof(match_keys[0]))

/* How the conditions of one query are written. */
typedef struct match_options {
    uint32_t flags;      /* CAIRN_QUERY_* flags of the query */
    bool dates_unindexed; /* Study Date as "+st.study_date", off its index (name_first) */
} match_options;

const char *const query_level_table[CAIRN_LEVEL_INSTANCE + 1] = {
    [CAIRN_LEVEL_PATIENT] = "patient p",
    [CAIRN_LEVEL_STUDY] = "study st",
    [CAIRN_LEVEL_SERIES] = "series se",
    [CAIRN_LEVEL_INSTANCE] = "instance i",
};
const char *const query_level_link[CAIRN_LEVEL_INSTANCE + 1] = {
    [CAIRN_LEVEL_STUDY] = "st.patient = p.id",
    [CAIRN_LEVEL_SERIES] = "se.study = st.id",
    [CAIRN_LEVEL_INSTANCE] = "i.series = se.id",
};

/* ---- key values ---- */

/* The value of one matching key, as UTF-8 without padding. */
typedef struct key_value {
    const match_key *key;
    char *text; /* malloc'd; NULL when the key is absent or universal */
} key_value;

static bool has_wildcard(const char *value)
{
    return strpbrk(value, "*?") != NULL;
}

/* Removes leading and trailing spaces in place. */
static void trim(char *text)
{
    size_t length = strlen(text);
    size_t start = strspn(text, " ");

    while (length > start && text[length - 1] == ' ')
        length--;
    memmove(text, text + start, length - start);
    text[length - start] = '\0';
}

/*
 * Reads the value of key from the query keys into *text (malloc'd), or
 * NULL when it is absent, empty or a lone "*".
 */
static cairn_status read_key(const query_backend *backend, const query_dialect *dialect,
                             const cairn_dataset *keys, const match_key *key, char **text)
{
    const cairn_element *element = backend->api->dataset_find(keys, key->tag);
    char *value = NULL;
    cairn_status status;

    *text = NULL;
    if (element == NULL || backend->api->element_vr(element) == CAIRN_VR_SQ)
        return CAIRN_OK;

    status = backend->api->dataset_get_utf8(keys, key->tag, &value);
    if (status == CAIRN_ERR_NOT_FOUND || (status == CAIRN_OK && value == NULL))
        return CAIRN_OK;
    if (status != CAIRN_OK) {
        query_log(backend, CAIRN_LOG_WARN, "query key (%04X,%04X) cannot be read: %s",
                  CAIRN_TAG_GROUP(key->tag), CAIRN_TAG_ELEMENT(key->tag),
                  cairn_strerror(status));
        return status;
    }

    *text = strdup(value);
    backend->api->free(value);
    if (*text == NULL)
        return CAIRN_ERR_NO_MEMORY;
    trim(*text);
    if (dialect->clean_text != NULL)
        dialect->clean_text(*text);
    if ((*text)[0] == '\0' || strcmp(*text, "*") == 0) {
        free(*text);
        *text = NULL;
    }
    return CAIRN_OK;
}

static cairn_status invalid_value(const query_backend *backend, const match_key *key,
                                  const char *value, const char *expected)
{
    query_log(backend, CAIRN_LOG_WARN, "query key (%04X,%04X) has the invalid value \"%.64s\";"
              " expected %s",
              CAIRN_TAG_GROUP(key->tag), CAIRN_TAG_ELEMENT(key->tag), value, expected);
    return CAIRN_ERR_INVALID_ARGUMENT;
}

/* ---- conditions ---- */

/* Appends " AND column = ?" or " AND column GLOB ?" (LIKE in PostgreSQL) for a text value. */
static cairn_status add_text_condition(query_sql *sql, const char *column, const char *value)
{
    query_sql_add(sql, " AND ");
    return query_sql_add_match(sql, column, value);
}

/* Appends "column >= ? AND column < ? AND " for the names from low up to high; either may be NULL. */
static void add_prefix_range(query_sql *sql, const char *column, const char *low,
                             const char *high)
{
    if (low != NULL) {
        query_sql_add(sql, column);
        query_sql_add(sql, " >= ");
        query_sql_add_text(sql, low);
        query_sql_add(sql, " AND ");
    }
    if (high != NULL) {
        query_sql_add(sql, column);
        query_sql_add(sql, " < ");
        query_sql_add_text(sql, high);
        query_sql_add(sql, " AND ");
    }
}

/*
 * Appends the condition of Patient's Name, on the case-folded indexed
 * columns. Where the dialect sets prefix_range, a wildcard with literal
 * first characters also bounds each column to the names that start with
 * them, a range its index can seek.
 */
static cairn_status add_patient_name(query_sql *sql, const char *value, uint32_t flags)
{
    static const char *const folded_columns[] = {
        "p.name_folded", "p.name_alphabetic", "p.name_ideographic", "p.name_phonetic",
    };
    const query_dialect *dialect = sql->dialect;
    bool whole_only = strchr(value, '=') != NULL;
    bool wildcard = has_wildcard(value);
    char *folded = idxtext_fold(value);
    char *pattern = NULL;
    char *low = NULL;
    char *high = NULL;
    cairn_status status = CAIRN_OK;

    if (folded == NULL)
        return CAIRN_ERR_NO_MEMORY;
    if (wildcard) {
        pattern = query_wildcard_pattern(dialect, folded);
        if (pattern == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            goto out;
        }
    }
    if (wildcard && dialect->prefix_range != NULL) {
        status = dialect->prefix_range(folded, &low, &high);
        if (status != CAIRN_OK)
            goto out;
    }

    /*
     * The group columns are empty for names without "=", and their partial
     * indexes leave those rows out. Each "<> ''" lets the planner use them.
     */
    query_sql_add(sql, " AND (");
    for (size_t c = 0; c < (whole_only ? 1 : 4); c++) {
        if (c > 0) {
            query_sql_add(sql, " OR ");
            query_sql_add(sql, folded_columns[c]);
            query_sql_add(sql, " <> '' AND ");
        }
        add_prefix_range(sql, folded_columns[c], low, high);
        query_sql_add(sql, folded_columns[c]);
        query_sql_add(sql, wildcard ? query_wildcard_operator(dialect) : " = ");
        if (wildcard && dialect->prefix_range != NULL) {
            /*
             * The range above already seeks the index. SQLite prepares a
             * statement again for every new pattern bound directly to
             * GLOB, which cost about a fifth of a STUDY query (perf).
             * It does not do so when the pattern is an expression.
             */
            query_sql_add(sql, "(");
            query_sql_add_text(sql, pattern);
            query_sql_add(sql, " || '')");
        } else {
            query_sql_add_text(sql, wildcard ? pattern : folded);
        }
    }
    query_sql_add(sql, ")");

    /* The folded match selects candidates; case then has to match too. */
    if (flags & CAIRN_QUERY_PN_CASE_SENSITIVE)
        status = dialect->add_name_match(sql, "p.name", value, true, whole_only);

out:
    free(high);
    free(low);
    free(pattern);
    free(folded);
    return status;
}

/* Appends the condition of a PN attribute without folded, indexed columns. */
static cairn_status add_person_name(query_sql *sql, const char *column, const char *value,
                                    uint32_t flags)
{
    return sql->dialect->add_name_match(sql, column, value,
                                        (flags & CAIRN_QUERY_PN_CASE_SENSITIVE) != 0,
                                        strchr(value, '=') != NULL);
}

/* The two bounds of a range value; either may be empty. */
typedef struct range {
    bool is_range;
    char *low;  /* points into the value */
    char *high; /* points into the value */
} range;

/* Splits value in place at its "-" into a range; a value without "-" is no range. */
static range split_range(char *value)
{
    range result = {.is_range = false, .low = value, .high = value};
    char *dash = strchr(value, '-');

    if (dash == NULL)
        return result;
    *dash = '\0';
    result.is_range = true;
    result.high = dash + 1;
    trim(result.low);
    trim(result.high);
    return result;
}

/* The normalised keys of a DA or TM value; an empty key is an open bound. */
typedef struct range_keys {
    bool is_range;
    char low[IDXTEXT_TIME_KEY_SIZE];
    char high[IDXTEXT_TIME_KEY_SIZE];
} range_keys;

/* Parses a DA or TM value, as a range or a single value, into its keys. */
static cairn_status parse_range(const query_backend *backend, const match_key *key, char *value,
                                range_keys *keys)
{
    const char *shown = key->kind == MATCH_DATE ? "a date YYYYMMDD or a range of dates"
                                                : "a time HHMMSS.FFFFFF or a range of times";
    char original[80];
    range parts;
    bool ok;

    snprintf(original, sizeof(original), "%s", value);
    parts = split_range(value);
    memset(keys, 0, sizeof(*keys));
    keys->is_range = parts.is_range;
    if (parts.is_range && parts.low[0] == '\0' && parts.high[0] == '\0')
        return invalid_value(backend, key, original, shown);

    if (key->kind == MATCH_DATE) {
        ok = (parts.low[0] == '\0' || idxtext_date_key(parts.low, keys->low)) &&
             (parts.high[0] == '\0' || idxtext_date_key(parts.high, keys->high));
    } else {
        ok = (parts.low[0] == '\0' || idxtext_time_key(parts.low, false, keys->low)) &&
             (parts.high[0] == '\0' || idxtext_time_key(parts.high, true, keys->high));
    }
    if (!ok)
        return invalid_value(backend, key, original, shown);
    return CAIRN_OK;
}

/* Appends the bounds of a range on expression; keys->low and keys->high may be empty. */
static void add_bounds(query_sql *sql, const char *expression, const char *low,
                       const char *high)
{
    if (low[0] != '\0') {
        query_sql_add(sql, " AND ");
        query_sql_add(sql, expression);
        query_sql_add(sql, " >= ");
        query_sql_add_text(sql, low);
    }
    if (high[0] != '\0') {
        query_sql_add(sql, " AND ");
        query_sql_add(sql, expression);
        query_sql_add(sql, " <= ");
        query_sql_add_text(sql, high);
    }
}

/* Appends the condition of a DA or TM key: a single value or a range. */
static cairn_status add_date_or_time(const query_backend *backend, query_sql *sql,
                                     const match_key *key, char *value, bool unindexed)
{
    const char *column = key->kind == MATCH_TIME ? "st.time_key" : key->column;
    range_keys keys;
    cairn_status status = parse_range(backend, key, value, &keys);

    if (status != CAIRN_OK)
        return status;
    if (unindexed && key->tag == CAIRN_TAG_STUDY_DATE)
        column = "+st.study_date";

    query_sql_add(sql, " AND ");
    query_sql_add(sql, column);
    if (!keys.is_range) {
        query_sql_add(sql, " = ");
        query_sql_add_text(sql, keys.low);
        return CAIRN_OK;
    }
    query_sql_add(sql, " <> ''");
    add_bounds(sql, column, keys.low, keys.high);
    return CAIRN_OK;
}

/*
 * Appends the combined date-time condition of Study Date and Study Time
 * when both are ranges of the same form, and sets *done. Otherwise the
 * two keys match apart and *done stays false.
 */
static cairn_status add_study_datetime(const query_backend *backend, query_sql *sql,
                                       const key_value *date, const key_value *time,
                                       bool unindexed, bool *done)
{
    const char *column = unindexed ? "+st.study_date" : "st.study_date";
    char date_text[80];
    char time_text[80];
    range_keys dates;
    range_keys times;
    char low[2 * IDXTEXT_TIME_KEY_SIZE] = "";
    char high[2 * IDXTEXT_TIME_KEY_SIZE] = "";
    cairn_status status;

    *done = false;
    if (date->text == NULL || time->text == NULL || strchr(date->text, '-') == NULL ||
        strchr(time->text, '-') == NULL)
        return CAIRN_OK;

    /* Parse copies: when the forms differ, each key is matched on its own later. */
    snprintf(date_text, sizeof(date_text), "%s", date->text);
    snprintf(time_text, sizeof(time_text), "%s", time->text);
    status = parse_range(backend, date->key, date_text, &dates);
    if (status == CAIRN_OK)
        status = parse_range(backend, time->key, time_text, &times);
    if (status != CAIRN_OK)
        return status;
    if ((dates.low[0] == '\0') != (times.low[0] == '\0') ||
        (dates.high[0] == '\0') != (times.high[0] == '\0'))
        return CAIRN_OK;

    if (dates.low[0] != '\0')
        snprintf(low, sizeof(low), "%s%s", dates.low, times.low);
    if (dates.high[0] != '\0')
        snprintf(high, sizeof(high), "%s%s", dates.high, times.high);

    /* The date bounds alone let the study_date index narrow the rows. */
    query_sql_add(sql, " AND ");
    query_sql_add(sql, column);
    query_sql_add(sql, " <> ''");
    add_bounds(sql, column, dates.low, dates.high);
    add_bounds(sql, sql->dialect->study_datetime, low, high);
    *done = true;
    return CAIRN_OK;
}

/* Splits value in place at backslashes into at most MAX_LIST_VALUES non-empty values. */
static size_t split_list(char *value, char **values)
{
    size_t count = 0;
    char *saveptr = NULL;

    for (char *item = strtok_r(value, "\\", &saveptr); item != NULL;
         item = strtok_r(NULL, "\\", &saveptr)) {
        trim(item);
        if (item[0] == '\0')
            continue;
        if (count == MAX_LIST_VALUES)
            return MAX_LIST_VALUES + 1;
        values[count++] = item;
    }
    return count;
}

/* Appends "IN (?, ?...)" with the values of a list; an empty list matches nothing. */
static void add_in_list(query_sql *sql, char **values, size_t count)
{
    query_sql_add(sql, " IN (");
    for (size_t v = 0; v < count; v++) {
        if (v > 0)
            query_sql_add(sql, ", ");
        query_sql_add_text(sql, values[v]);
    }
    query_sql_add(sql, count == 0 ? "NULL)" : ")");
}

/*
 * Appends head, then " IN (...)" with the UIDs of value, a single UID or a
 * list of UIDs, then tail.
 */
static cairn_status add_uid_list(const query_backend *backend, query_sql *sql,
                                 const match_key *key, char *value, const char *head,
                                 const char *tail)
{
    char **values = malloc(MAX_LIST_VALUES * sizeof(*values));
    size_t count;

    if (values == NULL)
        return CAIRN_ERR_NO_MEMORY;
    count = split_list(value, values);
    if (count > MAX_LIST_VALUES) {
        free(values);
        return invalid_value(backend, key, "(list)", "at most 1000 UIDs");
    }

    query_sql_add(sql, head);
    add_in_list(sql, values, count);
    query_sql_add(sql, tail);
    free(values);
    return CAIRN_OK;
}

/* Appends the condition of a UI key, a single UID or a list of UIDs. */
static cairn_status add_uid(const query_backend *backend, query_sql *sql, const match_key *key,
                            char *value)
{
    char head[64];

    snprintf(head, sizeof(head), " AND %s", key->column);
    return add_uid_list(backend, sql, key, value, head, "");
}

/* Appends the condition of an IS key; text that is not a number matches nothing. */
static void add_number(query_sql *sql, const match_key *key, const char *value)
{
    char *end = NULL;
    long long number;

    errno = 0;
    number = strtoll(value, &end, 10);
    query_sql_add(sql, " AND ");
    query_sql_add(sql, key->column);
    query_sql_add(sql, " = ");
    if (end != value && *end == '\0' && errno == 0)
        query_sql_add_number(sql, number);
    else
        query_sql_add_null(sql);
}

/* Appends the condition of Modalities in Study: a visible series of a listed modality. */
static cairn_status add_modalities(const query_backend *backend, query_sql *sql,
                                   const match_key *key, char *value)
{
    char **values = malloc(MAX_LIST_VALUES * sizeof(*values));
    cairn_status status = CAIRN_OK;
    size_t count;

    if (values == NULL)
        return CAIRN_ERR_NO_MEMORY;
    count = split_list(value, values);
    if (count > MAX_LIST_VALUES) {
        status = invalid_value(backend, key, "(list)", "at most 1000 modalities");
        goto out;
    }

    query_sql_add(sql, " AND EXISTS (SELECT 1 FROM series x WHERE x.study = st.id AND ");
    query_sql_add(sql, sql->dialect->visible_series_x);
    query_sql_add(sql, " AND (");
    query_sql_add(sql, sql->dialect->sql_false);
    for (size_t v = 0; v < count && status == CAIRN_OK; v++) {
        query_sql_add(sql, " OR (");
        query_sql_add(sql, sql->dialect->sql_true);
        status = add_text_condition(sql, "x.modality", values[v]);
        query_sql_add(sql, ")");
    }
    query_sql_add(sql, "))");

out:
    free(values);
    return status;
}

/* Appends the condition of SOP Classes in Study: any listed class in the study. */
static cairn_status add_sop_classes(const query_backend *backend, query_sql *sql,
                                    const match_key *key, char *value)
{
    return add_uid_list(backend, sql, key, value, sql->dialect->study_has_sop_class, ")");
}

/* Appends the condition that the attribute of key is empty (the value ""). */
static void add_empty(query_sql *sql, const match_key *key)
{
    switch (key->kind) {
    case MATCH_NUMBER:
        query_sql_add(sql, " AND ");
        query_sql_add(sql, key->column);
        query_sql_add(sql, " IS NULL");
        break;
    case MATCH_MODALITIES:
        query_sql_add(sql, sql->dialect->study_without_modality);
        break;
    case MATCH_SOP_CLASSES:
        query_sql_add(sql, sql->dialect->study_without_sop_class);
        break;
    default:
        query_sql_add(sql, " AND ");
        query_sql_add(sql, key->column);
        query_sql_add(sql, " = ''");
        break;
    }
}

/* Appends the condition of one key with a value. value may be changed in place. */
static cairn_status add_condition(const query_backend *backend, query_sql *sql,
                                  const match_key *key, char *value,
                                  const match_options *options)
{
    if (strcmp(value, "\"\"") == 0) {
        add_empty(sql, key);
        return CAIRN_OK;
    }

    switch (key->kind) {
    case MATCH_TEXT:
        return add_text_condition(sql, key->column, value);
    case MATCH_PATIENT_NAME:
        return add_patient_name(sql, value, options->flags);
    case MATCH_PERSON_NAME:
        return add_person_name(sql, key->column, value, options->flags);
    case MATCH_DATE:
    case MATCH_TIME:
        return add_date_or_time(backend, sql, key, value, options->dates_unindexed);
    case MATCH_UID:
        return add_uid(backend, sql, key, value);
    case MATCH_NUMBER:
        add_number(sql, key, value);
        return CAIRN_OK;
    case MATCH_MODALITIES:
        return add_modalities(backend, sql, key, value);
    case MATCH_SOP_CLASSES:
        return add_sop_classes(backend, sql, key, value);
    }
    return CAIRN_ERR_INTERNAL;
}

/* Appends the conditions of the keys of one level; combined marks keys already matched. */
static cairn_status add_level_conditions(const query_backend *backend, query_sql *sql,
                                         key_value *values, const bool *combined,
                                         const query_seq_keys *seq_keys,
                                         cairn_index_level level,
                                         const match_options *options)
{
    cairn_status status = query_seq_conditions(backend, sql, seq_keys, level, options->flags);

    for (size_t k = 0; k < MATCH_KEY_COUNT && status == CAIRN_OK; k++) {
        if (values[k].text == NULL || match_keys[k].level != level || combined[k])
            continue;
        status = add_condition(backend, sql, &match_keys[k], values[k].text, options);
    }
    return status;
}

/* Index of tag in match_keys. */
static size_t key_index(cairn_tag tag)
{
    size_t k = 0;

    while (k < MATCH_KEY_COUNT - 1 && match_keys[k].tag != tag)
        k++;
    return k;
}

cairn_status query_sql_build_match(const query_backend *backend, const cairn_index_query *query,
                                   const query_seq_keys *seq_keys, query_sql *sql)
{
    key_value values[MATCH_KEY_COUNT];
    bool combined[MATCH_KEY_COUNT] = {false};
    cairn_index_level level = query->level;
    cairn_index_level deepest = level;
    size_t date = key_index(CAIRN_TAG_STUDY_DATE);
    size_t time = key_index(CAIRN_TAG_STUDY_TIME);
    size_t name = key_index(CAIRN_TAG_PATIENT_NAME);
    match_options options = {.flags = query->flags};
    cairn_status status = CAIRN_OK;
    bool done = false;

    memset(values, 0, sizeof(values));
    for (size_t k = 0; k < MATCH_KEY_COUNT && status == CAIRN_OK; k++) {
        values[k].key = &match_keys[k];
        status = read_key(backend, sql->dialect, query->keys, &match_keys[k], &values[k].text);
        if (values[k].text != NULL && match_keys[k].level > deepest)
            deepest = match_keys[k].level;
    }
    if (status != CAIRN_OK)
        goto out;
    if (query_seq_deepest(seq_keys) > deepest)
        deepest = query_seq_deepest(seq_keys);

    /* Both keys are in the join only from study level down. */
    options.dates_unindexed = level >= CAIRN_LEVEL_STUDY && sql->dialect->name_first != NULL &&
                              sql->dialect->name_first(values[name].text, values[date].text);

    query_sql_add(sql, " FROM patient p");
    for (int l = CAIRN_LEVEL_STUDY; l <= (int)level; l++) {
        query_sql_add(sql, " JOIN ");
        query_sql_add(sql, query_level_table[l]);
        query_sql_add(sql, " ON ");
        query_sql_add(sql, query_level_link[l]);
    }
    query_sql_add(sql, " WHERE ");
    query_sql_add(sql, sql->dialect->level_visible[level]);

    /* Study Date and Study Time live at study level, in the join or below it. */
    if (query->flags & CAIRN_QUERY_COMBINED_DATETIME && level >= CAIRN_LEVEL_STUDY) {
        status = add_study_datetime(backend, sql, &values[date], &values[time],
                                    options.dates_unindexed, &done);
        combined[date] = combined[time] = done;
    }
    for (int l = CAIRN_LEVEL_PATIENT; l <= (int)level && status == CAIRN_OK; l++)
        status = add_level_conditions(backend, sql, values, combined, seq_keys,
                                      (cairn_index_level)l, &options);
    if (status != CAIRN_OK || deepest == level)
        goto out;

    /* Keys of lower levels: one visible row below must match all of them. */
    query_sql_add(sql, " AND EXISTS (SELECT 1 FROM ");
    query_sql_add(sql, query_level_table[level + 1]);
    for (int l = (int)level + 2; l <= (int)deepest; l++) {
        query_sql_add(sql, " JOIN ");
        query_sql_add(sql, query_level_table[l]);
        query_sql_add(sql, " ON ");
        query_sql_add(sql, query_level_link[l]);
    }
    query_sql_add(sql, " WHERE ");
    query_sql_add(sql, query_level_link[level + 1]);
    query_sql_add(sql, " AND ");
    query_sql_add(sql, sql->dialect->level_visible[deepest]);
    if (query->flags & CAIRN_QUERY_COMBINED_DATETIME && level < CAIRN_LEVEL_STUDY) {
        status = add_study_datetime(backend, sql, &values[date], &values[time],
                                    options.dates_unindexed, &done);
        combined[date] = combined[time] = done;
    }
    for (int l = (int)level + 1; l <= (int)deepest && status == CAIRN_OK; l++)
        status = add_level_conditions(backend, sql, values, combined, seq_keys,
                                      (cairn_index_level)l, &options);
    query_sql_add(sql, ")");

out:
    for (size_t k = 0; k < MATCH_KEY_COUNT; k++)
        free(values[k].text);
    if (status == CAIRN_OK && sql->out_of_memory)
        status = CAIRN_ERR_NO_MEMORY;
    return status;
}
