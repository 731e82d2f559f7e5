/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A requested sequence key in a C-FIND response (PS3.4 C.2.2.2.6). The
 * index row already contains only the stored items that matched the key (or
 * every stored item for a key without matching item keys); this file
 * writes them into the response:
 *
 *   - a key with no item, or one empty item, returns the whole items;
 *   - otherwise each item carries only the attributes the key's item
 *     requests, zero-length where the stored item has none, and a
 *     requested nested sequence is written the same way from the stored
 *     nested sequence (every stored nested item, projected).
 */
#include "qr.h"

static int copy_whole(const qr_state *st, const cairn_dataset *src, cairn_dataset *dst,
                      int *non_ascii);

/* Writes the items of stored into out under tag, each projected on request_item. */
static int copy_items(const qr_state *st, const cairn_element *stored, cairn_tag tag,
                      const cairn_dataset *request_item, cairn_dataset *out, int *non_ascii)
{
    const cairn_host_api *api = st->api;
    size_t items = stored != NULL ? api->element_item_count(stored) : 0;
    int failed = api->dataset_set_empty_sequence(out, tag) != CAIRN_OK;

    for (size_t i = 0; i < items && !failed; i++) {
        const cairn_dataset *src = api->element_item(stored, i);
        cairn_dataset *dst = api->dataset_append_item(out, tag);
        size_t count = request_item != NULL ? api->dataset_count(request_item) : 0;

        if (dst == NULL || src == NULL)
            return -1;
        if (count == 0) {
            failed |= copy_whole(st, src, dst, non_ascii);
            continue;
        }
        for (size_t k = 0; k < count && !failed; k++)
            failed |= qr_copy_sequence_key(st, api->dataset_at(request_item, k), src, dst,
                                           non_ascii);
    }
    return failed;
}

/* Copies every element of src into dst. */
static int copy_whole(const qr_state *st, const cairn_dataset *src, cairn_dataset *dst,
                      int *non_ascii)
{
    const cairn_host_api *api = st->api;
    size_t count = api->dataset_count(src);
    int failed = 0;

    for (size_t e = 0; e < count && !failed; e++) {
        const cairn_element *element = api->dataset_at(src, e);
        cairn_tag tag = api->element_tag(element);
        cairn_vr vr = api->element_vr(element);

        if (vr == CAIRN_VR_SQ)
            failed |= copy_items(st, element, tag, NULL, dst, non_ascii);
        else
            failed |= qr_copy_value(st, src, dst, tag, vr, non_ascii);
    }
    return failed;
}

int qr_copy_sequence_key(const qr_state *st, const cairn_element *requested,
                         const cairn_dataset *stored, cairn_dataset *out, int *non_ascii)
{
    const cairn_host_api *api = st->api;
    cairn_tag tag = api->element_tag(requested);
    const cairn_element *element = api->dataset_find(stored, tag);
    cairn_vr vr = api->element_vr(requested);
    const cairn_dataset *request_item;

    if (vr != CAIRN_VR_SQ) {
        if (element != NULL && api->element_vr(element) != CAIRN_VR_SQ)
            vr = api->element_vr(element);
        return qr_copy_value(st, stored, out, tag, vr, non_ascii);
    }
    if (element != NULL && api->element_vr(element) != CAIRN_VR_SQ)
        element = NULL;

    request_item = api->element_item_count(requested) > 0 ? api->element_item(requested, 0)
                                                            : NULL;
    return copy_items(st, element, tag, request_item, out, non_ascii);
}
