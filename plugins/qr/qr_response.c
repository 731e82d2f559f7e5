/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C-FIND response identifier of one match (PS3.4 C.4.1.1.3.2). It
 * contains the requested keys this plugin supports, filled from the index
 * row or left zero-length, the requested sequence keys with the items the
 * index matched (qr_sequence.c) or, for sequences the index does not
 * keep, without items, plus Query/Retrieve Level, Retrieve AE Title and, when
 * needed, Specific Character Set. Index rows are UTF-8, so the
 * character set is always ISO_IR 192.
 */
#include <stdlib.h>
#include <string.h>

#include "qr.h"

#define TAG_QUERY_RETRIEVE_LEVEL CAIRN_TAG(0x0008, 0x0052)
#define TAG_QUERY_RETRIEVE_VIEW CAIRN_TAG(0x0008, 0x0053)
#define TAG_RETRIEVE_AE_TITLE CAIRN_TAG(0x0008, 0x0054)
#define TAG_INSTANCE_AVAILABILITY CAIRN_TAG(0x0008, 0x0056)
#define TAG_TIMEZONE_OFFSET CAIRN_TAG(0x0008, 0x0201)

static int is_text_vr(cairn_vr vr)
{
    switch (vr) {
    case CAIRN_VR_AE: case CAIRN_VR_AS: case CAIRN_VR_CS: case CAIRN_VR_DA:
    case CAIRN_VR_DS: case CAIRN_VR_DT: case CAIRN_VR_IS: case CAIRN_VR_LO:
    case CAIRN_VR_LT: case CAIRN_VR_PN: case CAIRN_VR_SH: case CAIRN_VR_ST:
    case CAIRN_VR_TM: case CAIRN_VR_UC: case CAIRN_VR_UI: case CAIRN_VR_UR:
    case CAIRN_VR_UT:
        return 1;
    default:
        return 0;
    }
}

int qr_copy_value(const qr_state *st, const cairn_dataset *attributes, cairn_dataset *out,
                  cairn_tag tag, cairn_vr vr, int *non_ascii)
{
    const cairn_host_api *api = st->api;
    const cairn_element *element = api->dataset_find(attributes, tag);
    const uint8_t *value = element != NULL ? api->element_value(element) : NULL;
    uint32_t length = value != NULL ? api->element_length(element) : 0;
    char *text;
    cairn_status rc;

    if (length == 0xFFFFFFFFu)
        length = 0;
    if (!is_text_vr(vr))
        return api->dataset_set_bytes(out, tag, vr, value, length) != CAIRN_OK;

    /* Padding is not part of the value; dataset_set_string pads again. */
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
        length--;
    for (uint32_t i = 0; i < length; i++) {
        if (value[i] >= 0x80)
            *non_ascii = 1;
    }

    text = malloc((size_t)length + 1);
    if (text == NULL)
        return -1;
    if (length > 0)
        memcpy(text, value, length);
    text[length] = '\0';
    rc = api->dataset_set_string(out, tag, vr, text);
    free(text);
    return rc != CAIRN_OK;
}

/* True for attributes the response sets itself or never returns. */
static int is_handled_apart(cairn_tag tag)
{
    return CAIRN_TAG_ELEMENT(tag) == 0x0000 || tag == CAIRN_TAG_SPECIFIC_CHARACTER_SET ||
           tag == TAG_QUERY_RETRIEVE_LEVEL || tag == TAG_QUERY_RETRIEVE_VIEW ||
           tag == TAG_RETRIEVE_AE_TITLE || tag == TAG_TIMEZONE_OFFSET;
}

/*
 * Adds one requested key. A sequence key the row carries comes back with
 * the row's items; another standard sequence key comes back without
 * items. Sets *unsupported when a standard key has to be left out.
 */
static int add_key(const qr_state *st, const cairn_dataset *attributes, cairn_dataset *out,
                   const cairn_element *requested, cairn_index_level level, int *non_ascii,
                   int *unsupported)
{
    const cairn_host_api *api = st->api;
    cairn_tag tag = api->element_tag(requested);
    const qr_key *key = qr_key_find(tag);
    const cairn_element *stored;

    if (tag == TAG_INSTANCE_AVAILABILITY)
        return api->dataset_set_string(out, tag, CAIRN_VR_CS, "ONLINE") != CAIRN_OK;
    if (key != NULL && (key->returned_levels & (1u << level)) != 0)
        return qr_copy_value(st, attributes, out, tag, key->vr, non_ascii);

    stored = api->dataset_find(attributes, tag);
    if (stored != NULL && api->element_vr(stored) == CAIRN_VR_SQ &&
        api->element_vr(requested) == CAIRN_VR_SQ)
        return qr_copy_sequence_key(st, requested, attributes, out, non_ascii);
    if (stored != NULL && api->element_vr(stored) != CAIRN_VR_SQ)
        return qr_copy_value(st, attributes, out, tag, api->element_vr(stored), non_ascii);
    if (api->element_vr(requested) == CAIRN_VR_SQ && CAIRN_TAG_GROUP(tag) % 2 == 0)
        return api->dataset_set_empty_sequence(out, tag) != CAIRN_OK;

    /* Private attributes may be ignored without a warning (PS3.4 C.4.1.1.3.2). */
    if (CAIRN_TAG_GROUP(tag) % 2 == 0)
        *unsupported = 1;
    return 0;
}

cairn_dataset *qr_find_response(const qr_state *st, const cairn_assoc *assoc,
                                const qr_model *model, const cairn_dataset *request,
                                const cairn_index_row *row, cairn_index_level level,
                                int *unsupported)
{
    const cairn_host_api *api = st->api;
    cairn_dataset *out = api->dataset_create();
    size_t count = api->dataset_count(request);
    int non_ascii = 0;
    int failed = 0;

    if (out == NULL)
        return NULL;

    /* The hierarchical search method returns the Unique Keys of the levels above. */
    for (cairn_index_level above = model->top; above < level; above++) {
        const qr_key *key = qr_key_find(qr_unique_tag(above));

        failed |= qr_copy_value(st, row->attributes, out, key->tag, key->vr, &non_ascii);
    }

    for (size_t i = 0; i < count && !failed; i++) {
        const cairn_element *requested = api->dataset_at(request, i);

        if (is_handled_apart(api->element_tag(requested)))
            continue;
        failed |= add_key(st, row->attributes, out, requested, level, &non_ascii, unsupported);
    }

    failed |= api->dataset_set_string(out, TAG_QUERY_RETRIEVE_LEVEL, CAIRN_VR_CS,
                                      qr_level_name(level)) != CAIRN_OK;
    failed |= api->dataset_set_string(out, TAG_RETRIEVE_AE_TITLE, CAIRN_VR_AE,
                                      api->assoc_called_ae(assoc)) != CAIRN_OK;
    if (non_ascii || api->dataset_find(request, CAIRN_TAG_SPECIFIC_CHARACTER_SET) != NULL)
        failed |= api->dataset_set_string(out, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS,
                                          "ISO_IR 192") != CAIRN_OK;

    if (failed) {
        api->dataset_destroy(out);
        return NULL;
    }
    return out;
}
