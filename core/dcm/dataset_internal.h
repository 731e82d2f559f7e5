/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layout of the data set tree, shared by the tree functions, the parser,
 * the encoder and the dump. Not part of the API: callers use dcm.h.
 */
#ifndef CAIRN_DCM_DATASET_INTERNAL_H
#define CAIRN_DCM_DATASET_INTERNAL_H

#include "dcm/dcm.h"

typedef struct dcm_fragment {
    uint8_t *data;
    uint32_t len;
} dcm_fragment;

struct dcm_element {
    dcm_tag tag;
    dcm_vr vr;
    uint32_t length;        /* value length; DCM_UNDEFINED_LENGTH for undefined */
    uint8_t *value;         /* little endian; NULL when empty or deferred */
    bool deferred;
    bool undefined_length;  /* sequence or pixel data encoded with undefined length */
    bool has_items;         /* SQ, or UN holding an implicit VR sequence */
    bool encapsulated;      /* value is a list of fragments */
    uint64_t offset;        /* offset of the value in the parsed stream */
    dcm_dataset **items;
    size_t item_count, item_cap;
    dcm_fragment *fragments;
    size_t fragment_count, fragment_cap;
};

struct dcm_dataset {
    dcm_element **elements; /* ascending tag order */
    size_t count, cap;
    bool undefined_length;  /* as an item: encoded with undefined length */
};

/* Creates an element of the given tag and VR, without value. */
dcm_element *dcm_element_new(dcm_tag tag, dcm_vr vr);
void dcm_element_free(dcm_element *el);
/* Inserts el at its tag position, replacing (and freeing) an element of
 * the same tag. Takes ownership of el, even on failure. */
int dcm_dataset_insert(dcm_dataset *ds, dcm_element *el);
/* Appends an item; takes ownership of item, even on failure. */
int dcm_element_add_item(dcm_element *el, dcm_dataset *item);
/* Appends a fragment, taking ownership of data (may be NULL when len is 0). */
int dcm_element_add_fragment(dcm_element *el, uint8_t *data, uint32_t len);
/* Swaps numbers of `size` bytes in place (size 1 does nothing). */
void dcm_swap_bytes(uint8_t *data, size_t len, unsigned size);

#endif
