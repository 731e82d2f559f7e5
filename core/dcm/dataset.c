/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data set tree: creation, sorted insertion, look-up, removal,
 * sequences, fragments, deep copy and comparison.
 */
#include <stdlib.h>
#include <string.h>

#include "dcm/dataset_internal.h"

dcm_dataset *dcm_dataset_create(void)
{
    dcm_dataset *ds = calloc(1, sizeof *ds);

    if (ds)
        ds->undefined_length = true;
    return ds;
}

void dcm_dataset_destroy(dcm_dataset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->count; i++)
        dcm_element_free(ds->elements[i]);
    free(ds->elements);
    free(ds);
}

dcm_element *dcm_element_new(dcm_tag tag, dcm_vr vr)
{
    dcm_element *el = calloc(1, sizeof *el);

    if (!el)
        return NULL;
    el->tag = tag;
    el->vr = vr;
    return el;
}

void dcm_element_free(dcm_element *el)
{
    if (!el)
        return;
    free(el->value);
    for (size_t i = 0; i < el->item_count; i++)
        dcm_dataset_destroy(el->items[i]);
    free(el->items);
    for (size_t i = 0; i < el->fragment_count; i++)
        free(el->fragments[i].data);
    free(el->fragments);
    free(el);
}

/* Index of the first element whose tag is >= tag. */
static size_t lower_bound(const dcm_dataset *ds, dcm_tag tag)
{
    size_t lo = 0, hi = ds->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ds->elements[mid]->tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int dcm_dataset_insert(dcm_dataset *ds, dcm_element *el)
{
    size_t at;

    if (!ds || !el) {
        dcm_element_free(el);
        return DCM_EINVAL;
    }

    /* Parsed data arrives in ascending order, so try the end first. */
    if (ds->count == 0 || ds->elements[ds->count - 1]->tag < el->tag)
        at = ds->count;
    else
        at = lower_bound(ds, el->tag);

    if (at < ds->count && ds->elements[at]->tag == el->tag) {
        dcm_element_free(ds->elements[at]);
        ds->elements[at] = el;
        return DCM_OK;
    }

    if (ds->count == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 16;
        dcm_element **grown = realloc(ds->elements, cap * sizeof *grown);

        if (!grown) {
            dcm_element_free(el);
            return DCM_ENOMEM;
        }
        ds->elements = grown;
        ds->cap = cap;
    }
    memmove(&ds->elements[at + 1], &ds->elements[at], (ds->count - at) * sizeof *ds->elements);
    ds->elements[at] = el;
    ds->count++;
    return DCM_OK;
}

size_t dcm_dataset_count(const dcm_dataset *ds)
{
    return ds ? ds->count : 0;
}

dcm_element *dcm_dataset_at(const dcm_dataset *ds, size_t i)
{
    return ds && i < ds->count ? ds->elements[i] : NULL;
}

dcm_element *dcm_dataset_find(const dcm_dataset *ds, dcm_tag tag)
{
    size_t at;

    if (!ds)
        return NULL;
    at = lower_bound(ds, tag);
    return at < ds->count && ds->elements[at]->tag == tag ? ds->elements[at] : NULL;
}

int dcm_dataset_remove(dcm_dataset *ds, dcm_tag tag)
{
    size_t at;

    if (!ds)
        return DCM_EINVAL;
    at = lower_bound(ds, tag);
    if (at >= ds->count || ds->elements[at]->tag != tag)
        return DCM_ENOTFOUND;
    dcm_element_free(ds->elements[at]);
    memmove(&ds->elements[at], &ds->elements[at + 1],
            (ds->count - at - 1) * sizeof *ds->elements);
    ds->count--;
    return DCM_OK;
}

dcm_tag dcm_element_tag(const dcm_element *el)
{
    return el ? el->tag : 0;
}

dcm_vr dcm_element_vr(const dcm_element *el)
{
    return el ? el->vr : DCM_VR_UNKNOWN;
}

uint32_t dcm_element_length(const dcm_element *el)
{
    return el ? el->length : 0;
}

const uint8_t *dcm_element_value(const dcm_element *el)
{
    return el ? el->value : NULL;
}

bool dcm_element_is_deferred(const dcm_element *el)
{
    return el && el->deferred;
}

uint64_t dcm_element_offset(const dcm_element *el)
{
    return el ? el->offset : 0;
}

int dcm_element_add_item(dcm_element *el, dcm_dataset *item)
{
    if (el->item_count == el->item_cap) {
        size_t cap = el->item_cap ? el->item_cap * 2 : 4;
        dcm_dataset **grown = realloc(el->items, cap * sizeof *grown);

        if (!grown) {
            dcm_dataset_destroy(item);
            return DCM_ENOMEM;
        }
        el->items = grown;
        el->item_cap = cap;
    }
    el->items[el->item_count++] = item;
    el->has_items = true;
    return DCM_OK;
}

int dcm_element_add_fragment(dcm_element *el, uint8_t *data, uint32_t len)
{
    if (el->fragment_count == el->fragment_cap) {
        size_t cap = el->fragment_cap ? el->fragment_cap * 2 : 4;
        dcm_fragment *grown = realloc(el->fragments, cap * sizeof *grown);

        if (!grown) {
            free(data);
            return DCM_ENOMEM;
        }
        el->fragments = grown;
        el->fragment_cap = cap;
    }
    el->fragments[el->fragment_count].data = data;
    el->fragments[el->fragment_count].len = len;
    el->fragment_count++;
    el->encapsulated = true;
    return DCM_OK;
}

size_t dcm_element_item_count(const dcm_element *el)
{
    return el ? el->item_count : 0;
}

dcm_dataset *dcm_element_item(const dcm_element *el, size_t i)
{
    return el && i < el->item_count ? el->items[i] : NULL;
}

dcm_element *dcm_dataset_add_sequence(dcm_dataset *ds, dcm_tag tag)
{
    dcm_element *el = dcm_element_new(tag, DCM_VR_SQ);

    if (!el)
        return NULL;
    el->has_items = true;
    el->undefined_length = true;
    el->length = DCM_UNDEFINED_LENGTH;
    return dcm_dataset_insert(ds, el) == DCM_OK ? el : NULL;
}

dcm_dataset *dcm_element_append_item(dcm_element *el)
{
    dcm_dataset *item;

    if (!el || el->encapsulated || (el->vr != DCM_VR_SQ && el->vr != DCM_VR_UN))
        return NULL;
    item = dcm_dataset_create();
    if (!item)
        return NULL;
    if (dcm_element_add_item(el, item) != DCM_OK)
        return NULL;
    return item;
}

size_t dcm_element_fragment_count(const dcm_element *el)
{
    return el ? el->fragment_count : 0;
}

const uint8_t *dcm_element_fragment(const dcm_element *el, size_t i, uint32_t *len)
{
    if (!el || i >= el->fragment_count) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = el->fragments[i].len;
    return el->fragments[i].data;
}

dcm_element *dcm_dataset_add_encapsulated(dcm_dataset *ds, dcm_tag tag, dcm_vr vr)
{
    dcm_element *el = dcm_element_new(tag, vr);

    if (!el)
        return NULL;
    el->undefined_length = true;
    el->length = DCM_UNDEFINED_LENGTH;
    if (dcm_element_add_fragment(el, NULL, 0) != DCM_OK) {
        dcm_element_free(el);
        return NULL;
    }
    return dcm_dataset_insert(ds, el) == DCM_OK ? el : NULL;
}

int dcm_element_append_fragment(dcm_element *el, const void *data, uint32_t len)
{
    uint8_t *copy = NULL;

    if (!el || !el->encapsulated || (len > 0 && !data))
        return DCM_EINVAL;
    if (len > 0) {
        copy = malloc(len);
        if (!copy)
            return DCM_ENOMEM;
        memcpy(copy, data, len);
    }
    return dcm_element_add_fragment(el, copy, len);
}

void dcm_swap_bytes(uint8_t *data, size_t len, unsigned size)
{
    if (size <= 1)
        return;
    for (size_t i = 0; i + size <= len; i += size) {
        for (unsigned a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = data[i + a];
            data[i + a] = data[i + b];
            data[i + b] = t;
        }
    }
}

static dcm_element *clone_element(const dcm_element *src)
{
    dcm_element *el = dcm_element_new(src->tag, src->vr);

    if (!el)
        return NULL;
    el->length = src->length;
    el->deferred = src->deferred;
    el->undefined_length = src->undefined_length;
    el->has_items = src->has_items;
    el->encapsulated = src->encapsulated;
    el->offset = src->offset;

    if (src->value) {
        el->value = malloc(src->length);
        if (!el->value)
            goto fail;
        memcpy(el->value, src->value, src->length);
    }
    for (size_t i = 0; i < src->item_count; i++) {
        dcm_dataset *item = dcm_dataset_clone(src->items[i]);

        if (!item || dcm_element_add_item(el, item) != DCM_OK)
            goto fail;
    }
    for (size_t i = 0; i < src->fragment_count; i++) {
        uint8_t *copy = NULL;

        if (src->fragments[i].len > 0) {
            copy = malloc(src->fragments[i].len);
            if (!copy)
                goto fail;
            memcpy(copy, src->fragments[i].data, src->fragments[i].len);
        }
        if (dcm_element_add_fragment(el, copy, src->fragments[i].len) != DCM_OK)
            goto fail;
    }
    return el;

fail:
    dcm_element_free(el);
    return NULL;
}

dcm_dataset *dcm_dataset_clone(const dcm_dataset *src)
{
    dcm_dataset *ds;

    if (!src)
        return NULL;
    ds = dcm_dataset_create();
    if (!ds)
        return NULL;
    ds->undefined_length = src->undefined_length;
    for (size_t i = 0; i < src->count; i++) {
        dcm_element *el = clone_element(src->elements[i]);

        if (!el || dcm_dataset_insert(ds, el) != DCM_OK) {
            dcm_dataset_destroy(ds);
            return NULL;
        }
    }
    return ds;
}

static bool element_equal(const dcm_element *a, const dcm_element *b)
{
    if (a->tag != b->tag || a->vr != b->vr || a->deferred != b->deferred ||
        a->has_items != b->has_items || a->encapsulated != b->encapsulated)
        return false;
    if (a->item_count != b->item_count || a->fragment_count != b->fragment_count)
        return false;
    if (!a->has_items && !a->encapsulated) {
        if (a->length != b->length)
            return false;
        if (a->value && b->value && memcmp(a->value, b->value, a->length) != 0)
            return false;
        if ((a->value == NULL) != (b->value == NULL))
            return false;
    }
    for (size_t i = 0; i < a->item_count; i++) {
        if (!dcm_dataset_equal(a->items[i], b->items[i]))
            return false;
    }
    for (size_t i = 0; i < a->fragment_count; i++) {
        if (a->fragments[i].len != b->fragments[i].len)
            return false;
        if (a->fragments[i].len > 0 &&
            memcmp(a->fragments[i].data, b->fragments[i].data, a->fragments[i].len) != 0)
            return false;
    }
    return true;
}

bool dcm_dataset_equal(const dcm_dataset *a, const dcm_dataset *b)
{
    if (!a || !b)
        return a == b;
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (!element_equal(a->elements[i], b->elements[i]))
            return false;
    }
    return true;
}
