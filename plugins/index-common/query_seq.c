/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequence matching (PS3.4 C.2.2.2.6) on the sequences the index keeps
 * (seqidx.h, seq_store.c). A sequence key whose item contains matching keys
 * matches a row when one of the row's stored items matches every one of
 * them:
 *
 *   EXISTS (SELECT 1 FROM seq_item s1 WHERE s1.level = L
 *           AND s1.owner = <row>.id AND s1.tag = ?
 *           AND EXISTS (SELECT 1 FROM seq_value v WHERE v.item = s1.id
 *                       AND v.tag = ? AND <value condition>)
 *           AND ...)
 *
 * one EXISTS per item key, each a seek on seq_value's primary key, so the
 * query stays one statement whatever the number of rows. When an item key
 * can seek the (tag, value) index, the condition is written as
 * "<row>.id IN (SELECT s1.owner FROM seq_value v JOIN seq_item s1 ...)"
 * instead, which starts from the matching values (add_key_condition). An item key
 * that is itself a sequence key matches the same way one level down. A
 * sequence key without matching keys matches every row.
 *
 * Every sequence key of the query level or above also adds a column to
 * the SELECT list: the stored items that match, as "position:HEX" text,
 * which the back end decodes into the row (seqidx_add_items). So the row
 * carries only the matching items, or every item for a universal key.
 * Both back ends build their queries here, each through its
 * query_dialect (idxquery.h), so "?" stands for "$n" and GLOB for LIKE
 * in PostgreSQL.
 *
 * Item values match as top-level values do: single value, list of UIDs,
 * wildcard on text VRs, DA and TM ranges on their normalised keys, PN
 * case-insensitively on the folded whole name unless the query sets
 * CAIRN_QUERY_PN_CASE_SENSITIVE, and "" (empty value) when the item has
 * no value for the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idxquery.h"

/* At most this many UIDs in one list. */
#define MAX_LIST_VALUES 1000

/* The row table alias of each level. */
static const char *const level_alias[] = {
    [CAIRN_LEVEL_PATIENT] = "p",
    [CAIRN_LEVEL_STUDY] = "st",
    [CAIRN_LEVEL_SERIES] = "se",
    [CAIRN_LEVEL_INSTANCE] = "i",
};

cairn_status query_seq_read(const query_backend *backend, const cairn_index_query *query,
                            query_seq_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    return seqidx_read_keys(backend->api, query->keys, &keys->keys, &keys->count);
}

void query_seq_free(query_seq_keys *keys)
{
    seqidx_keys_free(keys->keys, keys->count);
    memset(keys, 0, sizeof(*keys));
}

/* Appends "v.value IN (...)" for a list of UIDs separated by backslashes. */
static cairn_status add_uid_list(const query_backend *backend, query_sql *sql,
                                 const char *value)
{
    char *copy = strdup(value);
    char *saveptr = NULL;
    size_t count = 0;

    if (copy == NULL)
        return CAIRN_ERR_NO_MEMORY;
    query_sql_add(sql, "v.value IN (");
    for (char *uid = strtok_r(copy, "\\", &saveptr); uid != NULL;
         uid = strtok_r(NULL, "\\", &saveptr)) {
        uid += strspn(uid, " ");
        uid[strcspn(uid, " ")] = '\0';
        if (uid[0] == '\0')
            continue;
        if (count == MAX_LIST_VALUES) {
            free(copy);
            query_log(backend, CAIRN_LOG_WARN, "a sequence item key lists more than %d UIDs",
                      MAX_LIST_VALUES);
            return CAIRN_ERR_INVALID_ARGUMENT;
        }
        query_sql_add(sql, count > 0 ? ", " : "");
        query_sql_add_text(sql, uid);
        count++;
    }
    query_sql_add(sql, count == 0 ? "NULL)" : ")");
    free(copy);
    return CAIRN_OK;
}

/* Normalises one DA or TM bound; upper chooses the end of a partial time. */
static bool bound_key(cairn_vr vr, const char *text, bool upper, char key[IDXTEXT_TIME_KEY_SIZE])
{
    if (vr == CAIRN_VR_DA)
        return idxtext_date_key(text, key);
    return idxtext_time_key(text, upper, key);
}

/* Appends the condition of a DA or TM item key: a single value or a range. */
static cairn_status add_date_or_time(const query_backend *backend, query_sql *sql,
                                     const seqidx_item_key *key)
{
    char low_text[40] = "";
    char high_text[40] = "";
    char low[IDXTEXT_TIME_KEY_SIZE];
    char high[IDXTEXT_TIME_KEY_SIZE];
    const char *dash = strchr(key->value, '-');
    bool ok;

    if (dash == NULL) {
        ok = bound_key(key->vr, key->value, false, low);
        if (ok) {
            query_sql_add(sql, "v.value = ");
            query_sql_add_text(sql, low);
        }
    } else {
        size_t low_length = (size_t)(dash - key->value);

        ok = low_length < sizeof(low_text) && strlen(dash + 1) < sizeof(high_text) &&
             (low_length > 0 || dash[1] != '\0');
        if (ok) {
            memcpy(low_text, key->value, low_length);
            low_text[low_length] = '\0';
            strcpy(high_text, dash + 1);
            low_text[strcspn(low_text, " ")] = '\0';
            memmove(high_text, high_text + strspn(high_text, " "),
                    strlen(high_text + strspn(high_text, " ")) + 1);
            ok = (low_text[0] == '\0' || bound_key(key->vr, low_text, false, low)) &&
                 (high_text[0] == '\0' || bound_key(key->vr, high_text, true, high));
        }
        if (ok) {
            query_sql_add(sql, "v.value <> ''");
            if (low_text[0] != '\0') {
                query_sql_add(sql, " AND v.value >= ");
                query_sql_add_text(sql, low);
            }
            if (high_text[0] != '\0') {
                query_sql_add(sql, " AND v.value <= ");
                query_sql_add_text(sql, high);
            }
        }
    }
    if (!ok) {
        query_log(backend, CAIRN_LOG_WARN,
                  "sequence item key (%04X,%04X) has the invalid value \"%.64s\"",
                  CAIRN_TAG_GROUP(key->tag), CAIRN_TAG_ELEMENT(key->tag), key->value);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    return CAIRN_OK;
}

/* Appends the condition on v.value (or v.folded) of one item key with a value. */
static cairn_status add_value_condition(const query_backend *backend, query_sql *sql,
                                        const seqidx_item_key *key, uint32_t flags)
{
    char *folded;
    cairn_status status;

    switch (key->vr) {
    case CAIRN_VR_UI:
        return add_uid_list(backend, sql, key->value);
    case CAIRN_VR_DA:
    case CAIRN_VR_TM:
        return add_date_or_time(backend, sql, key);
    case CAIRN_VR_PN:
        if (flags & CAIRN_QUERY_PN_CASE_SENSITIVE)
            return query_sql_add_match(sql, "v.value", key->value);
        folded = idxtext_fold(key->value);
        if (folded == NULL)
            return CAIRN_ERR_NO_MEMORY;
        status = query_sql_add_match(sql, "v.folded", folded);
        free(folded);
        return status;
    default:
        return query_sql_add_match(sql, "v.value", key->value);
    }
}

/*
 * Appends the conditions of the item keys of key on the item alias
 * s<depth>: one EXISTS (or NOT EXISTS) per key.
 */
static cairn_status add_item_conditions(const query_backend *backend, query_sql *sql,
                                        const seqidx_key *key, int depth, uint32_t flags)
{
    char item[16];
    char nested[16];
    char fragment[200];
    cairn_status status = CAIRN_OK;

    snprintf(item, sizeof(item), "s%d", depth);
    snprintf(nested, sizeof(nested), "s%d", depth + 1);
    for (size_t k = 0; k < key->count && status == CAIRN_OK; k++) {
        const seqidx_item_key *item_key = &key->keys[k];

        if (item_key->seq != NULL) {
            snprintf(fragment, sizeof(fragment),
                     " AND EXISTS (SELECT 1 FROM seq_item %s WHERE %s.level = 0"
                     " AND %s.owner = %s.id AND %s.tag = ",
                     nested, nested, nested, item, nested);
            query_sql_add(sql, fragment);
            query_sql_add_number(sql, (int64_t)item_key->tag);
            status = add_item_conditions(backend, sql, item_key->seq, depth + 1, flags);
            query_sql_add(sql, ")");
            continue;
        }

        snprintf(fragment, sizeof(fragment),
                 " AND %sEXISTS (SELECT 1 FROM seq_value v WHERE v.item = %s.id AND v.tag = ",
                 strcmp(item_key->value, "\"\"") == 0 ? "NOT " : "", item);
        query_sql_add(sql, fragment);
        query_sql_add_number(sql, (int64_t)item_key->tag);
        if (strcmp(item_key->value, "\"\"") != 0) {
            query_sql_add(sql, " AND ");
            status = add_value_condition(backend, sql, item_key, flags);
        }
        query_sql_add(sql, ")");
    }
    return status;
}

/* Appends "FROM seq_item s1 WHERE" and the conditions of the top-level key. */
static cairn_status add_items_of(const query_backend *backend, query_sql *sql,
                                 const seqidx_key *key, uint32_t flags)
{
    char fragment[120];

    snprintf(fragment, sizeof(fragment),
             " FROM seq_item s1 WHERE s1.level = %d AND s1.owner = %s.id AND s1.tag = ",
             (int)key->level, level_alias[key->level]);
    query_sql_add(sql, fragment);
    query_sql_add_number(sql, (int64_t)key->tag);
    return add_item_conditions(backend, sql, key, 1, flags);
}

/*
 * Returns the item key whose condition an index on (tag, value) can seek:
 * the first one with a value other than "", not a sequence, and not a
 * case-insensitive PN (which matches the folded column). NULL when none.
 */
static const seqidx_item_key *driving_key(const seqidx_key *key, uint32_t flags)
{
    for (size_t k = 0; k < key->count; k++) {
        const seqidx_item_key *item_key = &key->keys[k];

        if (item_key->seq != NULL || strcmp(item_key->value, "\"\"") == 0)
            continue;
        if (item_key->vr == CAIRN_VR_PN && !(flags & CAIRN_QUERY_PN_CASE_SENSITIVE))
            continue;
        return item_key;
    }
    return NULL;
}

/*
 * Appends the condition of one sequence key with matching item keys. With
 * a driving key, the matching owners come from one uncorrelated subquery
 * that starts from the values of that key, so the database finds the few
 * matching items first rather than testing every row of the level.
 */
static cairn_status add_key_condition(const query_backend *backend, query_sql *sql,
                                      const seqidx_key *key, uint32_t flags)
{
    const seqidx_item_key *driver = driving_key(key, flags);
    char fragment[200];
    cairn_status status;

    if (driver == NULL) {
        query_sql_add(sql, " AND EXISTS (SELECT 1");
        status = add_items_of(backend, sql, key, flags);
        query_sql_add(sql, ")");
        return status;
    }

    snprintf(fragment, sizeof(fragment),
             " AND %s.id IN (SELECT s1.owner FROM seq_value v JOIN seq_item s1 ON s1.id = v.item"
             " WHERE v.tag = ",
             level_alias[key->level]);
    query_sql_add(sql, fragment);
    query_sql_add_number(sql, (int64_t)driver->tag);
    query_sql_add(sql, " AND ");
    status = add_value_condition(backend, sql, driver, flags);
    if (status != CAIRN_OK)
        return status;
    snprintf(fragment, sizeof(fragment), " AND s1.level = %d AND s1.tag = ", (int)key->level);
    query_sql_add(sql, fragment);
    query_sql_add_number(sql, (int64_t)key->tag);
    status = add_item_conditions(backend, sql, key, 1, flags);
    query_sql_add(sql, ")");
    return status;
}

cairn_status query_seq_conditions(const query_backend *backend, query_sql *sql,
                                  const query_seq_keys *keys, cairn_index_level level,
                                  uint32_t flags)
{
    cairn_status status = CAIRN_OK;

    for (size_t k = 0; k < keys->count && status == CAIRN_OK; k++) {
        if (keys->keys[k].level == level && keys->keys[k].count > 0)
            status = add_key_condition(backend, sql, &keys->keys[k], flags);
    }
    return status;
}

cairn_index_level query_seq_deepest(const query_seq_keys *keys)
{
    cairn_index_level deepest = (cairn_index_level)0;

    for (size_t k = 0; k < keys->count; k++) {
        if (keys->keys[k].count > 0 && keys->keys[k].level > deepest)
            deepest = keys->keys[k].level;
    }
    return deepest;
}

cairn_status query_seq_columns(const query_backend *backend, query_sql *sql,
                               const query_seq_keys *keys, cairn_index_level level,
                               uint32_t flags)
{
    cairn_status status = CAIRN_OK;
    char name[32];

    for (size_t k = 0; k < keys->count && status == CAIRN_OK; k++) {
        if (keys->keys[k].level > level)
            continue;
        query_sql_add(sql, ", (SELECT ");
        query_sql_add(sql, sql->dialect->seq_items_column);
        status = add_items_of(backend, sql, &keys->keys[k], flags);
        query_sql_add(sql, ")");
        if (sql->dialect->named_seq_columns) {
            snprintf(name, sizeof(name), " AS seq_%08x", (unsigned)keys->keys[k].tag);
            query_sql_add(sql, name);
        }
    }
    return status;
}
