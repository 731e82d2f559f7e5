/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sequences the index keeps (seqidx.h): the table of kept sequences
 * per level, from PS3.4 C.6 optional keys, and the reading of stored
 * sequences and of sequence keys.
 *
 * An item has no Specific Character Set of its own in most files, and the
 * host reads such an item in the default repertoire. So text values are
 * converted through a scratch data set that carries the character set of
 * the instance (or identifier), and every kept item is re-encoded with
 * its text in UTF-8, as the rows of the index are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqidx.h"

/* The sequences each level keeps. */
static const struct {
    cairn_tag tag;
    cairn_index_level level;
} kept[] = {
    {CAIRN_TAG(0x0008, 0x1120), CAIRN_LEVEL_PATIENT},  /* Referenced Patient Sequence */
    {CAIRN_TAG(0x0010, 0x1002), CAIRN_LEVEL_PATIENT},  /* Other Patient IDs Sequence */
    {CAIRN_TAG(0x0008, 0x0051), CAIRN_LEVEL_STUDY},    /* Issuer of Accession Number Sequence */
    {CAIRN_TAG(0x0008, 0x0063), CAIRN_LEVEL_STUDY},    /* Anatomic Regions in Study Code Sequence */
    {CAIRN_TAG(0x0008, 0x1032), CAIRN_LEVEL_STUDY},    /* Procedure Code Sequence */
    {CAIRN_TAG(0x0008, 0x1110), CAIRN_LEVEL_STUDY},    /* Referenced Study Sequence */
    {CAIRN_TAG(0x0040, 0x0275), CAIRN_LEVEL_SERIES},   /* Request Attributes Sequence */
    {CAIRN_TAG(0x0040, 0xA043), CAIRN_LEVEL_INSTANCE}, /* Concept Name Code Sequence */
};

#define KEPT_COUNT (sizeof(kept) / sizeof(kept[0]))

/* Values of one attribute split apart; more are left out. */
#define MAX_VALUES 64

cairn_index_level seqidx_level(cairn_tag tag)
{
    for (size_t i = 0; i < KEPT_COUNT; i++) {
        if (kept[i].tag == tag)
            return kept[i].level;
    }
    return (cairn_index_level)0;
}

bool seqidx_is_text_vr(cairn_vr vr)
{
    switch (vr) {
    case CAIRN_VR_AE: case CAIRN_VR_AS: case CAIRN_VR_CS: case CAIRN_VR_DA:
    case CAIRN_VR_DS: case CAIRN_VR_DT: case CAIRN_VR_IS: case CAIRN_VR_LO:
    case CAIRN_VR_LT: case CAIRN_VR_PN: case CAIRN_VR_SH: case CAIRN_VR_ST:
    case CAIRN_VR_TM: case CAIRN_VR_UC: case CAIRN_VR_UI: case CAIRN_VR_UR:
    case CAIRN_VR_UT:
        return true;
    default:
        return false;
    }
}

/* True for text VRs whose value may contain a backslash, so is never split. */
static bool single_valued(cairn_vr vr)
{
    return vr == CAIRN_VR_LT || vr == CAIRN_VR_ST || vr == CAIRN_VR_UT || vr == CAIRN_VR_UR;
}

/* Removes leading and trailing spaces and trailing NULs in place. */
static void trim(char *text)
{
    size_t length = strlen(text);
    size_t start = strspn(text, " ");

    while (length > start && (text[length - 1] == ' ' || text[length - 1] == '\0'))
        length--;
    memmove(text, text + start, length - start);
    text[length - start] = '\0';
}

/*
 * A scratch data set holding the Specific Character Set of source, in
 * which item values are converted to UTF-8.
 */
static cairn_dataset *scratch_for(const cairn_host_api *api, const cairn_dataset *source)
{
    cairn_dataset *scratch = api->dataset_create();
    const cairn_element *charset = api->dataset_find(source, CAIRN_TAG_SPECIFIC_CHARACTER_SET);
    const uint8_t *value = charset != NULL ? api->element_value(charset) : NULL;
    uint32_t length = value != NULL ? api->element_length(charset) : 0;

    if (scratch == NULL || value == NULL || length == 0 || length == 0xFFFFFFFFu)
        return scratch;
    if (api->dataset_set_bytes(scratch, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, value,
                               length) != CAIRN_OK) {
        api->dataset_destroy(scratch);
        return NULL;
    }
    return scratch;
}

/* Returns the whole value of a text element in UTF-8, malloc'd and trimmed, or NULL. */
static char *element_utf8(const cairn_host_api *api, cairn_dataset *scratch,
                          const cairn_element *element)
{
    cairn_tag tag = api->element_tag(element);
    const uint8_t *value = api->element_value(element);
    uint32_t length = api->element_length(element);
    char *converted = NULL;
    char *text = NULL;

    if (value == NULL || length == 0xFFFFFFFFu || tag == CAIRN_TAG_SPECIFIC_CHARACTER_SET)
        return NULL;
    if (api->dataset_set_bytes(scratch, tag, api->element_vr(element), value, length) !=
        CAIRN_OK)
        return NULL;
    if (api->dataset_get_utf8(scratch, tag, &converted) == CAIRN_OK && converted != NULL) {
        text = strdup(converted);
        api->free(converted);
    }
    api->dataset_remove(scratch, tag);
    if (text != NULL)
        trim(text);
    return text;
}

/*
 * Copies every element of src into dst, text converted to UTF-8 through
 * scratch and sequences item by item. Elements the host did not load are
 * left out.
 */
static cairn_status copy_utf8(const cairn_host_api *api, cairn_dataset *scratch,
                              const cairn_dataset *src, cairn_dataset *dst)
{
    size_t count = api->dataset_count(src);
    cairn_status status = CAIRN_OK;

    for (size_t e = 0; e < count && status == CAIRN_OK; e++) {
        const cairn_element *element = api->dataset_at(src, e);
        cairn_tag tag = api->element_tag(element);
        cairn_vr vr = api->element_vr(element);
        const uint8_t *value = api->element_value(element);
        uint32_t length = api->element_length(element);
        char *text;

        if (tag == CAIRN_TAG_SPECIFIC_CHARACTER_SET)
            continue;
        if (vr == CAIRN_VR_SQ) {
            size_t items = api->element_item_count(element);

            status = api->dataset_set_empty_sequence(dst, tag);
            for (size_t i = 0; i < items && status == CAIRN_OK; i++) {
                cairn_dataset *item = api->dataset_append_item(dst, tag);

                status = item != NULL
                             ? copy_utf8(api, scratch, api->element_item(element, i), item)
                             : CAIRN_ERR_NO_MEMORY;
            }
        } else if (seqidx_is_text_vr(vr)) {
            text = element_utf8(api, scratch, element);
            status = api->dataset_set_string(dst, tag, vr, text != NULL ? text : "");
            free(text);
        } else if (value != NULL && length != 0xFFFFFFFFu) {
            status = api->dataset_set_bytes(dst, tag, vr, value, length);
        }
    }
    return status;
}

/* Appends one value to item; false when out of memory. */
static bool add_value(seqidx_item *item, cairn_tag tag, cairn_vr vr, const char *text,
                      size_t length)
{
    seqidx_value *values = realloc(item->values, (item->value_count + 1) * sizeof(*values));
    char *copy;

    if (values == NULL)
        return false;
    item->values = values;
    copy = strndup(text, length);
    if (copy == NULL)
        return false;
    trim(copy);
    if (copy[0] == '\0') {
        free(copy);
        return true;
    }
    values[item->value_count++] = (seqidx_value){.tag = tag, .vr = vr, .text = copy};
    return true;
}

/* Adds the values of one text element of an item, split at backslashes. */
static cairn_status read_values(const cairn_host_api *api, cairn_dataset *scratch,
                                const cairn_element *element, seqidx_item *item)
{
    cairn_tag tag = api->element_tag(element);
    cairn_vr vr = api->element_vr(element);
    char *text = element_utf8(api, scratch, element);
    const char *start = text;
    bool ok = true;

    if (text == NULL || strlen(text) > SEQIDX_MAX_VALUE) {
        free(text);
        return CAIRN_OK;
    }
    if (single_valued(vr)) {
        ok = add_value(item, tag, vr, text, strlen(text));
    } else {
        for (size_t n = 0; n < MAX_VALUES && ok; n++) {
            size_t length = strcspn(start, "\\");

            ok = add_value(item, tag, vr, start, length);
            if (start[length] == '\0')
                break;
            start += length + 1;
        }
    }
    free(text);
    return ok ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
}

static void seq_free(seqidx_seq *seq);

static void item_free(seqidx_item *item)
{
    free(item->data);
    for (size_t v = 0; v < item->value_count; v++)
        free(item->values[v].text);
    free(item->values);
    for (size_t s = 0; s < item->seq_count; s++)
        seq_free(&item->seqs[s]);
    free(item->seqs);
}

static void seq_free(seqidx_seq *seq)
{
    for (size_t i = 0; i < seq->item_count; i++)
        item_free(&seq->items[i]);
    free(seq->items);
}

static cairn_status read_seq(const cairn_host_api *api, cairn_dataset *scratch,
                             const cairn_element *element, int depth, seqidx_seq *seq);

/* Reads the values and nested sequences of one item; depth is the item's sequence depth. */
static cairn_status read_item(const cairn_host_api *api, cairn_dataset *scratch,
                              const cairn_dataset *src, int depth, seqidx_item *item)
{
    size_t count = api->dataset_count(src);
    cairn_status status = CAIRN_OK;

    for (size_t e = 0; e < count && status == CAIRN_OK; e++) {
        const cairn_element *element = api->dataset_at(src, e);
        cairn_vr vr = api->element_vr(element);
        seqidx_seq *seqs;

        if (seqidx_is_text_vr(vr)) {
            status = read_values(api, scratch, element, item);
            continue;
        }
        if (vr != CAIRN_VR_SQ || depth >= SEQIDX_MAX_DEPTH)
            continue;

        seqs = realloc(item->seqs, (item->seq_count + 1) * sizeof(*seqs));
        if (seqs == NULL)
            return CAIRN_ERR_NO_MEMORY;
        item->seqs = seqs;
        memset(&seqs[item->seq_count], 0, sizeof(seqs[0]));
        status = read_seq(api, scratch, element, depth + 1, &seqs[item->seq_count]);
        item->seq_count++;
    }
    return status;
}

/* Reads the items of a sequence element; depth 1 is a top-level sequence. */
static cairn_status read_seq(const cairn_host_api *api, cairn_dataset *scratch,
                             const cairn_element *element, int depth, seqidx_seq *seq)
{
    size_t count = api->element_item_count(element);
    cairn_status status = CAIRN_OK;

    if (count > SEQIDX_MAX_ITEMS)
        count = SEQIDX_MAX_ITEMS;
    seq->tag = api->element_tag(element);
    seq->items = count > 0 ? calloc(count, sizeof(*seq->items)) : NULL;
    if (count > 0 && seq->items == NULL)
        return CAIRN_ERR_NO_MEMORY;

    for (size_t i = 0; i < count && status == CAIRN_OK; i++) {
        const cairn_dataset *src = api->element_item(element, i);
        seqidx_item *item = &seq->items[i];
        cairn_dataset *copy;

        seq->item_count++;
        if (src == NULL)
            continue;
        status = read_item(api, scratch, src, depth, item);
        if (status != CAIRN_OK || depth > 1)
            continue;

        /* Top-level items are kept whole for responses. */
        copy = api->dataset_create();
        if (copy == NULL)
            return CAIRN_ERR_NO_MEMORY;
        status = copy_utf8(api, scratch, src, copy);
        if (status == CAIRN_OK)
            status = api->dataset_encode(copy, &item->data, &item->length);
        api->dataset_destroy(copy);
    }
    return status;
}

cairn_status seqidx_extract(const cairn_host_api *api, const cairn_dataset *instance,
                            seqidx_set *set)
{
    cairn_dataset *scratch = NULL;
    cairn_status status = CAIRN_OK;

    memset(set, 0, sizeof(*set));
    for (size_t k = 0; k < KEPT_COUNT && status == CAIRN_OK; k++) {
        const cairn_element *element = api->dataset_find(instance, kept[k].tag);
        seqidx_seq *seq;

        if (element == NULL || api->element_vr(element) != CAIRN_VR_SQ)
            continue;
        if (scratch == NULL && (scratch = scratch_for(api, instance)) == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            break;
        }
        if (set->seqs == NULL && (set->seqs = calloc(KEPT_COUNT, sizeof(*set->seqs))) == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            break;
        }
        seq = &set->seqs[set->count++];
        status = read_seq(api, scratch, element, 1, seq);
        seq->level = kept[k].level;
    }
    api->dataset_destroy(scratch);
    if (status != CAIRN_OK)
        seqidx_set_free(set);
    return status;
}

void seqidx_set_free(seqidx_set *set)
{
    for (size_t s = 0; s < set->count; s++)
        seq_free(&set->seqs[s]);
    free(set->seqs);
    memset(set, 0, sizeof(*set));
}

/* ---- sequence keys ---- */

static void key_free(seqidx_key *key)
{
    for (size_t k = 0; k < key->count; k++) {
        free(key->keys[k].value);
        if (key->keys[k].seq != NULL) {
            key_free(key->keys[k].seq);
            free(key->keys[k].seq);
        }
    }
    free(key->keys);
}

void seqidx_keys_free(seqidx_key *keys, size_t count)
{
    for (size_t k = 0; k < count; k++)
        key_free(&keys[k]);
    free(keys);
}

static cairn_status read_key(const cairn_host_api *api, cairn_dataset *scratch,
                             const cairn_element *element, int depth, seqidx_key *key);

/* Reads one element of a key item into *out; out->value and out->seq stay NULL when universal. */
static cairn_status read_item_key(const cairn_host_api *api, cairn_dataset *scratch,
                                  const cairn_element *element, int depth, seqidx_item_key *out)
{
    cairn_vr vr = api->element_vr(element);
    cairn_status status;

    memset(out, 0, sizeof(*out));
    out->tag = api->element_tag(element);
    out->vr = vr;
    if (vr == CAIRN_VR_SQ) {
        if (depth >= SEQIDX_MAX_DEPTH)
            return CAIRN_OK;
        out->seq = calloc(1, sizeof(*out->seq));
        if (out->seq == NULL)
            return CAIRN_ERR_NO_MEMORY;
        status = read_key(api, scratch, element, depth + 1, out->seq);
        if (status == CAIRN_OK && out->seq->count == 0) {
            free(out->seq);
            out->seq = NULL;
        }
        return status;
    }
    if (!seqidx_is_text_vr(vr) || out->tag == CAIRN_TAG_SPECIFIC_CHARACTER_SET)
        return CAIRN_OK;

    out->value = element_utf8(api, scratch, element);
    if (out->value != NULL && (out->value[0] == '\0' || strcmp(out->value, "*") == 0)) {
        free(out->value);
        out->value = NULL;
    }
    return CAIRN_OK;
}

/* Reads the matching keys of the first item of a sequence key. */
static cairn_status read_key(const cairn_host_api *api, cairn_dataset *scratch,
                             const cairn_element *element, int depth, seqidx_key *key)
{
    const cairn_dataset *item =
        api->element_item_count(element) > 0 ? api->element_item(element, 0) : NULL;
    size_t count = item != NULL ? api->dataset_count(item) : 0;
    cairn_status status = CAIRN_OK;

    key->tag = api->element_tag(element);
    if (count == 0)
        return CAIRN_OK;
    key->keys = calloc(count, sizeof(*key->keys));
    if (key->keys == NULL)
        return CAIRN_ERR_NO_MEMORY;

    for (size_t e = 0; e < count && status == CAIRN_OK; e++) {
        seqidx_item_key *out = &key->keys[key->count];

        status = read_item_key(api, scratch, api->dataset_at(item, e), depth, out);
        if (out->value != NULL || out->seq != NULL)
            key->count++;
    }
    return status;
}

cairn_status seqidx_read_keys(const cairn_host_api *api, const cairn_dataset *identifier,
                              seqidx_key **keys, size_t *count)
{
    cairn_dataset *scratch = NULL;
    cairn_status status = CAIRN_OK;

    *keys = NULL;
    *count = 0;
    for (size_t k = 0; k < KEPT_COUNT && status == CAIRN_OK; k++) {
        const cairn_element *element = api->dataset_find(identifier, kept[k].tag);

        if (element == NULL || api->element_vr(element) != CAIRN_VR_SQ)
            continue;
        if (scratch == NULL && (scratch = scratch_for(api, identifier)) == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            break;
        }
        if (*keys == NULL && (*keys = calloc(KEPT_COUNT, sizeof(**keys))) == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
            break;
        }
        status = read_key(api, scratch, element, 1, &(*keys)[*count]);
        (*keys)[(*count)++].level = kept[k].level;
    }
    api->dataset_destroy(scratch);
    if (status != CAIRN_OK) {
        seqidx_keys_free(*keys, *count);
        *keys = NULL;
        *count = 0;
    }
    return status;
}

/* ---- stored items back into a row ---- */

/* Copies every element of src into dst as it is. */
static cairn_status copy_raw(const cairn_host_api *api, const cairn_dataset *src,
                             cairn_dataset *dst)
{
    size_t count = api->dataset_count(src);
    cairn_status status = CAIRN_OK;

    for (size_t e = 0; e < count && status == CAIRN_OK; e++) {
        const cairn_element *element = api->dataset_at(src, e);
        cairn_tag tag = api->element_tag(element);
        const uint8_t *value = api->element_value(element);
        uint32_t length = api->element_length(element);

        if (api->element_vr(element) == CAIRN_VR_SQ) {
            size_t items = api->element_item_count(element);

            status = api->dataset_set_empty_sequence(dst, tag);
            for (size_t i = 0; i < items && status == CAIRN_OK; i++) {
                cairn_dataset *item = api->dataset_append_item(dst, tag);

                status = item != NULL ? copy_raw(api, api->element_item(element, i), item)
                                      : CAIRN_ERR_NO_MEMORY;
            }
        } else if (value != NULL && length != 0xFFFFFFFFu) {
            status = api->dataset_set_bytes(dst, tag, api->element_vr(element), value, length);
        } else if (length == 0) {
            status = api->dataset_set_bytes(dst, tag, api->element_vr(element), "", 0);
        }
    }
    return status;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* One "position:HEX" entry of the database's list. */
typedef struct stored_item {
    long position;
    const char *hex;
    size_t hex_length;
} stored_item;

static int by_position(const void *a, const void *b)
{
    const stored_item *x = a;
    const stored_item *y = b;

    return (x->position > y->position) - (x->position < y->position);
}

/* Decodes one hex-encoded item and appends it to the sequence tag of row. */
static cairn_status append_item(const cairn_host_api *api, cairn_dataset *row, cairn_tag tag,
                                const stored_item *stored)
{
    size_t length = stored->hex_length / 2;
    uint8_t *bytes = malloc(length > 0 ? length : 1);
    cairn_dataset *decoded = NULL;
    cairn_dataset *item;
    cairn_status status = CAIRN_OK;

    if (bytes == NULL)
        return CAIRN_ERR_NO_MEMORY;
    for (size_t i = 0; i < length; i++) {
        int high = hex_digit(stored->hex[2 * i]);
        int low = hex_digit(stored->hex[2 * i + 1]);

        if (high < 0 || low < 0) {
            status = CAIRN_ERR_INVALID_ARGUMENT;
            goto out;
        }
        bytes[i] = (uint8_t)(high << 4 | low);
    }

    status = api->dataset_decode(bytes, length, &decoded);
    if (status != CAIRN_OK)
        goto out;
    item = api->dataset_append_item(row, tag);
    status = item != NULL ? copy_raw(api, decoded, item) : CAIRN_ERR_NO_MEMORY;

out:
    api->dataset_destroy(decoded);
    free(bytes);
    return status;
}

cairn_status seqidx_add_items(const cairn_host_api *api, cairn_dataset *row, cairn_tag tag,
                              const char *text)
{
    stored_item *items = NULL;
    size_t count = 0;
    size_t capacity = 0;
    cairn_status status = api->dataset_set_empty_sequence(row, tag);

    for (const char *entry = text; status == CAIRN_OK && entry != NULL && *entry != '\0';) {
        const char *colon = strchr(entry, ':');
        size_t length = strcspn(entry, ",");

        if (colon == NULL || colon > entry + length) {
            status = CAIRN_ERR_INVALID_ARGUMENT;
            break;
        }
        if (count == capacity) {
            stored_item *grown;

            capacity = capacity != 0 ? capacity * 2 : 8;
            grown = realloc(items, capacity * sizeof(*items));
            if (grown == NULL) {
                status = CAIRN_ERR_NO_MEMORY;
                break;
            }
            items = grown;
        }
        items[count].position = strtol(entry, NULL, 10);
        items[count].hex = colon + 1;
        items[count].hex_length = (size_t)(entry + length - colon - 1);
        count++;
        entry += length + (entry[length] == ',');
    }

    if (status == CAIRN_OK && count > 1)
        qsort(items, count, sizeof(*items), by_position);
    for (size_t i = 0; i < count && status == CAIRN_OK; i++)
        status = append_item(api, row, tag, &items[i]);
    free(items);
    return status;
}
