/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's data set entries. An SDK cairn_dataset is a core
 * dcm_dataset and a cairn_element a dcm_element, so most entries are casts
 * around core/dcm. What needs more than a cast: SDK VR codes are the two
 * letters of the VR and are mapped to dcm_vr by name, DCM_E* codes become
 * cairn_status values, and dataset_get_utf8 finds the data set's Specific
 * Character Set.
 */
#include "plugin/plugin_internal.h"

#include <stdlib.h>
#include <string.h>

#include "dcm/dcm.h"

static const dcm_dataset *core_dataset(const cairn_dataset *dataset)
{
    return (const dcm_dataset *)dataset;
}

static dcm_dataset *core_dataset_mut(cairn_dataset *dataset)
{
    return (dcm_dataset *)dataset;
}

static const dcm_element *core_element(const cairn_element *element)
{
    return (const dcm_element *)element;
}

/* DCM_VR_UNKNOWN for a code that names no VR. */
static dcm_vr vr_to_core(cairn_vr vr)
{
    uint32_t code = (uint32_t)vr;

    if (code > 0xFFFFu)
        return DCM_VR_UNKNOWN;
    return dcm_vr_from_chars((char)(code >> 8), (char)(code & 0xFFu));
}

static cairn_vr vr_from_core(dcm_vr vr)
{
    const char *name;

    if (vr == DCM_VR_UNKNOWN)
        return CAIRN_VR_UNKNOWN;
    name = dcm_vr_name(vr);
    if (name == NULL || name[0] == '?' || name[1] == '\0')
        return CAIRN_VR_UNKNOWN;
    return (cairn_vr)CAIRN_VR_CODE((unsigned char)name[0], (unsigned char)name[1]);
}

/* Maps a DCM_E* code; range_status is what DCM_ERANGE means to the caller. */
static cairn_status status_from_dcm(int code, cairn_status range_status)
{
    switch (code) {
    case DCM_OK: return CAIRN_OK;
    case DCM_EINVAL: return CAIRN_ERR_INVALID_ARGUMENT;
    case DCM_ENOMEM: return CAIRN_ERR_NO_MEMORY;
    case DCM_EIO: return CAIRN_ERR_IO;
    case DCM_EMALFORMED: return CAIRN_ERR_PARSE;
    case DCM_ETRUNCATED: return CAIRN_ERR_PARSE;
    case DCM_ENOTFOUND: return CAIRN_ERR_NOT_FOUND;
    case DCM_ERANGE: return range_status;
    case DCM_EUNSUPPORTED: return CAIRN_ERR_UNSUPPORTED;
    case DCM_EDEFERRED: return CAIRN_ERR_UNSUPPORTED;
    default: return CAIRN_ERR_INTERNAL;
    }
}

cairn_dataset *plugin_dataset_create(void)
{
    return (cairn_dataset *)dcm_dataset_create();
}

void plugin_dataset_destroy(cairn_dataset *dataset)
{
    dcm_dataset_destroy(core_dataset_mut(dataset));
}

size_t plugin_dataset_count(const cairn_dataset *dataset)
{
    return dataset != NULL ? dcm_dataset_count(core_dataset(dataset)) : 0;
}

const cairn_element *plugin_dataset_at(const cairn_dataset *dataset, size_t index)
{
    if (dataset == NULL)
        return NULL;
    return (const cairn_element *)dcm_dataset_at(core_dataset(dataset), index);
}

const cairn_element *plugin_dataset_find(const cairn_dataset *dataset, cairn_tag tag)
{
    if (dataset == NULL)
        return NULL;
    return (const cairn_element *)dcm_dataset_find(core_dataset(dataset), (dcm_tag)tag);
}

cairn_tag plugin_element_tag(const cairn_element *element)
{
    return element != NULL ? (cairn_tag)dcm_element_tag(core_element(element)) : 0;
}

cairn_vr plugin_element_vr(const cairn_element *element)
{
    if (element == NULL)
        return CAIRN_VR_UNKNOWN;
    return vr_from_core(dcm_element_vr(core_element(element)));
}

uint32_t plugin_element_length(const cairn_element *element)
{
    return element != NULL ? dcm_element_length(core_element(element)) : 0;
}

const uint8_t *plugin_element_value(const cairn_element *element)
{
    return element != NULL ? dcm_element_value(core_element(element)) : NULL;
}

size_t plugin_element_item_count(const cairn_element *element)
{
    return element != NULL ? dcm_element_item_count(core_element(element)) : 0;
}

const cairn_dataset *plugin_element_item(const cairn_element *element, size_t index)
{
    if (element == NULL)
        return NULL;
    return (const cairn_dataset *)dcm_element_item(core_element(element), index);
}

cairn_status plugin_dataset_get_string(const cairn_dataset *dataset, cairn_tag tag,
                                       unsigned index, char *buf, size_t size)
{
    if (dataset == NULL || buf == NULL || size == 0)
        return CAIRN_ERR_INVALID_ARGUMENT;

    return status_from_dcm(dcm_dataset_get_string(core_dataset(dataset), (dcm_tag)tag, index,
                                                  buf, size),
                           CAIRN_ERR_TOO_SMALL);
}

/*
 * Copies the Specific Character Set value of dataset into a new string, or
 * stores NULL when the data set has none (the default repertoire).
 * NOTE: a sequence item has no link to the data set that holds it, so an
 * item without its own (0008,0005) is read in the default repertoire rather
 * than in its parent's character set.
 */
static cairn_status copy_charset(const dcm_dataset *dataset, char **charset)
{
    const dcm_element *element = dcm_dataset_find(dataset, DCM_TAG_SPECIFIC_CHARACTER_SET);
    const uint8_t *value;
    uint32_t length;

    *charset = NULL;
    if (element == NULL)
        return CAIRN_OK;

    value = dcm_element_value(element);
    length = dcm_element_length(element);
    if (value == NULL || length == 0 || length == DCM_UNDEFINED_LENGTH)
        return CAIRN_OK;

    *charset = strndup((const char *)value, length);
    return *charset != NULL ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
}

cairn_status plugin_dataset_get_utf8(const cairn_dataset *dataset, cairn_tag tag, char **value)
{
    const dcm_element *element;
    const uint8_t *bytes;
    char *charset = NULL;
    uint32_t length;
    dcm_vr vr;
    cairn_status result;

    if (dataset == NULL || value == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *value = NULL;

    element = dcm_dataset_find(core_dataset(dataset), (dcm_tag)tag);
    if (element == NULL)
        return CAIRN_ERR_NOT_FOUND;
    vr = dcm_element_vr(element);
    if (!dcm_vr_is_string(vr))
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (dcm_element_is_deferred(element))
        return CAIRN_ERR_UNSUPPORTED;

    /* Padding is not part of the value: trailing spaces, and NULs after a UI. */
    bytes = dcm_element_value(element);
    length = bytes != NULL ? dcm_element_length(element) : 0;
    while (length > 0 && (bytes[length - 1] == ' ' || bytes[length - 1] == '\0'))
        length--;

    result = copy_charset(core_dataset(dataset), &charset);
    if (result != CAIRN_OK)
        goto out;

    result = status_from_dcm(dcm_charset_to_utf8(charset, length > 0 ? (const char *)bytes : "",
                                                 length, vr, value),
                             CAIRN_ERR_INVALID_ARGUMENT);

out:
    free(charset);
    return result;
}

cairn_status plugin_dataset_get_uint(const cairn_dataset *dataset, cairn_tag tag,
                                     unsigned index, uint32_t *value)
{
    if (dataset == NULL || value == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    return status_from_dcm(dcm_dataset_get_uint(core_dataset(dataset), (dcm_tag)tag, index,
                                                value),
                           CAIRN_ERR_INVALID_ARGUMENT);
}

cairn_status plugin_dataset_set_string(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                       const char *value)
{
    dcm_vr core_vr = vr_to_core(vr);

    if (dataset == NULL || value == NULL || !dcm_vr_is_string(core_vr))
        return CAIRN_ERR_INVALID_ARGUMENT;

    return status_from_dcm(dcm_dataset_set_string(core_dataset_mut(dataset), (dcm_tag)tag,
                                                  core_vr, value),
                           CAIRN_ERR_INVALID_ARGUMENT);
}

cairn_status plugin_dataset_set_uint(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                     uint32_t value)
{
    int rc;

    if (dataset == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (vr == CAIRN_VR_US) {
        if (value > 0xFFFFu)
            return CAIRN_ERR_INVALID_ARGUMENT;
        rc = dcm_dataset_set_u16(core_dataset_mut(dataset), (dcm_tag)tag, (uint16_t)value);
    } else if (vr == CAIRN_VR_UL) {
        rc = dcm_dataset_set_u32(core_dataset_mut(dataset), (dcm_tag)tag, value);
    } else {
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    return status_from_dcm(rc, CAIRN_ERR_INVALID_ARGUMENT);
}

cairn_status plugin_dataset_set_bytes(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                      const void *value, size_t length)
{
    dcm_vr core_vr = vr_to_core(vr);

    if (dataset == NULL || (value == NULL && length > 0) || core_vr == DCM_VR_UNKNOWN ||
        core_vr == DCM_VR_SQ)
        return CAIRN_ERR_INVALID_ARGUMENT;

    return status_from_dcm(dcm_dataset_set_bytes(core_dataset_mut(dataset), (dcm_tag)tag,
                                                 core_vr, value, length),
                           CAIRN_ERR_INVALID_ARGUMENT);
}

cairn_status plugin_dataset_remove(cairn_dataset *dataset, cairn_tag tag)
{
    if (dataset == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    return status_from_dcm(dcm_dataset_remove(core_dataset_mut(dataset), (dcm_tag)tag),
                           CAIRN_ERR_INVALID_ARGUMENT);
}

cairn_dataset *plugin_dataset_append_item(cairn_dataset *dataset, cairn_tag tag)
{
    dcm_dataset *core = core_dataset_mut(dataset);
    dcm_element *sequence;

    if (dataset == NULL)
        return NULL;

    sequence = dcm_dataset_find(core, (dcm_tag)tag);
    if (sequence == NULL)
        sequence = dcm_dataset_add_sequence(core, (dcm_tag)tag);
    else if (dcm_element_vr(sequence) != DCM_VR_SQ)
        return NULL;
    if (sequence == NULL)
        return NULL;

    return (cairn_dataset *)dcm_element_append_item(sequence);
}

cairn_status plugin_dataset_set_empty_sequence(cairn_dataset *dataset, cairn_tag tag)
{
    if (dataset == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (dcm_dataset_add_sequence(core_dataset_mut(dataset), (dcm_tag)tag) == NULL)
        return CAIRN_ERR_NO_MEMORY;
    return CAIRN_OK;
}
