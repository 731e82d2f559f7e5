/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequence attributes the index keeps for sequence matching (PS3.4
 * C.2.2.2.6), independent of the database. It covers which sequences each
 * level keeps and their items read from a stored instance: values in
 * UTF-8, one per value of a multi-valued attribute, and each item encoded
 * whole for responses. It also reads the sequence keys of a C-FIND
 * identifier and decodes stored items back into a row. Only the host API
 * is used, so the SQLite and PostgreSQL back ends both build this file.
 */
#ifndef SEQIDX_H
#define SEQIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/plugin.h"

/* Sequences nest at most this deep, counting the top-level sequence as 1. */
#define SEQIDX_MAX_DEPTH 2
/* Items kept per sequence; later items are left out. */
#define SEQIDX_MAX_ITEMS 1000
/* Values longer than this many bytes are kept in the item but not matched. */
#define SEQIDX_MAX_VALUE 1024

/* One value of an item attribute, UTF-8 without padding. */
typedef struct seqidx_value {
    cairn_tag tag;
    cairn_vr vr;
    char *text;
} seqidx_value;

struct seqidx_seq;

/* One stored item: its values, its nested sequences, and (top level) its encoding. */
typedef struct seqidx_item {
    uint8_t *data; /* explicit VR little endian, text in UTF-8; NULL below the top */
    size_t length;
    seqidx_value *values;
    size_t value_count;
    struct seqidx_seq *seqs;
    size_t seq_count;
} seqidx_item;

/* One stored sequence and its items. */
typedef struct seqidx_seq {
    cairn_tag tag;
    cairn_index_level level; /* of the top-level sequence; unused when nested */
    seqidx_item *items;
    size_t item_count;
} seqidx_seq;

/* The kept sequences of one instance. */
typedef struct seqidx_set {
    seqidx_seq *seqs;
    size_t count;
} seqidx_set;

/* One key inside the item of a sequence key. */
typedef struct seqidx_item_key {
    cairn_tag tag;
    cairn_vr vr;
    char *value;             /* UTF-8, trimmed; "\"\"" for empty-value matching */
    struct seqidx_key *seq;  /* a nested sequence key with matching keys, else NULL */
} seqidx_item_key;

/* A sequence key of a C-FIND identifier; count 0 matches universally. */
typedef struct seqidx_key {
    cairn_tag tag;
    cairn_index_level level;
    seqidx_item_key *keys;
    size_t count;
} seqidx_key;

/* Returns the level that keeps top-level sequence tag, or 0 when none does. */
cairn_index_level seqidx_level(cairn_tag tag);

/* True for VRs whose values are text. */
bool seqidx_is_text_vr(cairn_vr vr);

/* Reads the kept sequences of a stored instance into *set. */
cairn_status seqidx_extract(const cairn_host_api *api, const cairn_dataset *instance,
                            seqidx_set *set);
void seqidx_set_free(seqidx_set *set);

/*
 * Reads the sequence keys of identifier that a level kept: every one, with
 * its matching item keys (values with a value other than "*", and nested
 * sequence keys down to SEQIDX_MAX_DEPTH). *keys is NULL when none.
 */
cairn_status seqidx_read_keys(const cairn_host_api *api, const cairn_dataset *identifier,
                              seqidx_key **keys, size_t *count);
void seqidx_keys_free(seqidx_key *keys, size_t count);

/*
 * Appends to row the sequence tag with the items of text, a list
 * "position:HEX,position:HEX" of encoded items as the database returns
 * it, in position order. NULL or "" gives a sequence without items.
 */
cairn_status seqidx_add_items(const cairn_host_api *api, cairn_dataset *row, cairn_tag tag,
                              const char *text);

#endif
