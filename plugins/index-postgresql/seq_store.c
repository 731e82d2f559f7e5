/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing the kept sequences of one instance (seqidx.h) into seq_item and
 * seq_value, inside the store's transaction. As for the other attributes
 * of a patient, study or series, the level row keeps the first sequence
 * with items it receives, and later instances leave it unchanged. Values
 * are written as query_seq.c compares them: DA and TM as their keys, PN
 * also case-folded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* Writes one value of an item. */
static cairn_status store_value(const pgidx_backend *backend, pgidx_conn *conn, const char *item,
                                const seqidx_value *value)
{
    char tag[16];
    char key[IDXTEXT_TIME_KEY_SIZE];
    char *text = strdup(value->text);
    char *folded = NULL;
    const char *values[4];
    cairn_status status;

    if (text == NULL)
        return CAIRN_ERR_NO_MEMORY;
    pgidx_utf8_clean(text);
    if ((value->vr == CAIRN_VR_DA && idxtext_date_key(text, key)) ||
        (value->vr == CAIRN_VR_TM && idxtext_time_key(text, false, key))) {
        free(text);
        text = strdup(key);
        if (text == NULL)
            return CAIRN_ERR_NO_MEMORY;
    }
    if (value->vr == CAIRN_VR_PN && (folded = idxtext_fold(text)) == NULL) {
        free(text);
        return CAIRN_ERR_NO_MEMORY;
    }

    snprintf(tag, sizeof(tag), "%u", (unsigned)value->tag);
    values[0] = item;
    values[1] = tag;
    values[2] = text;
    values[3] = folded;
    status = pgidx_exec(backend, conn,
                        "INSERT INTO seq_value (item, tag, value, folded) VALUES ($1, $2, $3, $4)"
                        " ON CONFLICT DO NOTHING",
                        4, values, NULL);
    free(folded);
    free(text);
    return status;
}

/* Returns the hex text of an item's encoding, malloc'd, or NULL when out of memory. */
static char *hex_of(const uint8_t *data, size_t length)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(2 * length + 1);

    if (hex == NULL)
        return NULL;
    for (size_t i = 0; i < length; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 0xF];
    }
    hex[2 * length] = '\0';
    return hex;
}

static cairn_status store_seq(const pgidx_backend *backend, pgidx_conn *conn, int level,
                              const char *owner, const seqidx_seq *seq);

/* Writes one item, its values and its nested sequences. */
static cairn_status store_item(const pgidx_backend *backend, pgidx_conn *conn, int level,
                               const char *owner, cairn_tag tag, size_t position,
                               const seqidx_item *item)
{
    char level_text[8];
    char tag_text[16];
    char position_text[24];
    char id[24];
    char *hex = item->data != NULL ? hex_of(item->data, item->length) : NULL;
    const char *values[6];
    PGresult *result = NULL;
    cairn_status status;

    if (item->data != NULL && hex == NULL)
        return CAIRN_ERR_NO_MEMORY;
    snprintf(level_text, sizeof(level_text), "%d", level);
    snprintf(tag_text, sizeof(tag_text), "%u", (unsigned)tag);
    snprintf(position_text, sizeof(position_text), "%zu", position);
    values[0] = level_text;
    values[1] = owner;
    values[2] = level == 0 ? owner : NULL;
    values[3] = tag_text;
    values[4] = position_text;
    values[5] = hex;
    status = pgidx_exec(backend, conn,
                        "INSERT INTO seq_item (level, owner, parent, tag, position, data)"
                        " VALUES ($1, $2, $3, $4, $5, decode($6, 'hex')) RETURNING id",
                        6, values, &result);
    free(hex);
    if (status != CAIRN_OK)
        return status;
    snprintf(id, sizeof(id), "%s", PQgetvalue(result, 0, 0));
    PQclear(result);

    for (size_t v = 0; v < item->value_count && status == CAIRN_OK; v++)
        status = store_value(backend, conn, id, &item->values[v]);
    for (size_t s = 0; s < item->seq_count && status == CAIRN_OK; s++)
        status = store_seq(backend, conn, 0, id, &item->seqs[s]);
    return status;
}

/* Writes the items of one sequence. Level 0 is a nested sequence of item owner. */
static cairn_status store_seq(const pgidx_backend *backend, pgidx_conn *conn, int level,
                              const char *owner, const seqidx_seq *seq)
{
    cairn_status status = CAIRN_OK;

    for (size_t i = 0; i < seq->item_count && status == CAIRN_OK; i++)
        status = store_item(backend, conn, level, owner, seq->tag, i, &seq->items[i]);
    return status;
}

/* Sets *kept when the level row owner already keeps items of sequence tag. */
static cairn_status sequence_kept(const pgidx_backend *backend, pgidx_conn *conn,
                                  const char *const values[3], bool *kept)
{
    PGresult *result = NULL;
    cairn_status status;

    status = pgidx_exec_fixed(backend, conn, PGIDX_SEQUENCE_KEPT, 3, values, &result);
    if (status != CAIRN_OK)
        return status;

    *kept = PQntuples(result) > 0;
    PQclear(result);
    return CAIRN_OK;
}

/* Returns whether a PGIDX_SEQUENCES_KEPT_BY_KEY result lists sequence tag at level. */
static bool listed_as_kept(const PGresult *kept, int level, cairn_tag tag)
{
    for (int row = 0; row < PQntuples(kept); row++) {
        if (pgidx_int(kept, row, 0) == level && pgidx_int(kept, row, 1) == (int64_t)tag)
            return true;
    }
    return false;
}

cairn_status pgidx_seq_store(const pgidx_backend *backend, pgidx_conn *conn,
                             const seqidx_set *set, const char *const owners[5],
                             const PGresult *known)
{
    /*
     * Locking the level row makes two stores into one new study run one
     * after the other, so the second reads the items of the first. The lock
     * is FOR NO KEY UPDATE because every store has already taken FOR KEY
     * SHARE on the patient, study and series rows through its foreign keys:
     * FOR UPDATE would conflict with those and deadlock concurrent stores.
     */
    static const char *const lock_sql[] = {
        [CAIRN_LEVEL_PATIENT] = "SELECT 1 FROM patient WHERE id = $1 FOR NO KEY UPDATE",
        [CAIRN_LEVEL_STUDY] = "SELECT 1 FROM study WHERE id = $1 FOR NO KEY UPDATE",
        [CAIRN_LEVEL_SERIES] = "SELECT 1 FROM series WHERE id = $1 FOR NO KEY UPDATE",
        [CAIRN_LEVEL_INSTANCE] = "SELECT 1 FROM instance WHERE id = $1 FOR NO KEY UPDATE",
    };
    cairn_status status = CAIRN_OK;

    for (size_t s = 0; s < set->count && status == CAIRN_OK; s++) {
        const seqidx_seq *seq = &set->seqs[s];
        char level[8];
        char tag[16];
        const char *const values[3] = {level, owners[seq->level], tag};
        bool kept;

        snprintf(level, sizeof(level), "%d", (int)seq->level);
        snprintf(tag, sizeof(tag), "%u", (unsigned)seq->tag);

        /*
         * Most stores find the sequence kept already and need no lock. A
         * new instance row keeps nothing yet.
         */
        if (known != NULL)
            kept = seq->level != CAIRN_LEVEL_INSTANCE &&
                   listed_as_kept(known, (int)seq->level, seq->tag);
        else
            status = sequence_kept(backend, conn, values, &kept);
        if (status != CAIRN_OK || kept)
            continue;

        status = pgidx_exec(backend, conn, lock_sql[seq->level], 1, &owners[seq->level], NULL);
        if (status != CAIRN_OK)
            return status;
        status = sequence_kept(backend, conn, values, &kept);
        if (status != CAIRN_OK)
            return status;

        /* The level row keeps the sequence it received first. */
        if (!kept)
            status = store_seq(backend, conn, (int)seq->level, owners[seq->level], seq);
    }
    return status;
}
