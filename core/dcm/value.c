/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed access to element values: strings split on backslash (PS3.5 6.4),
 * unsigned integers from binary or IS values, value multiplicity, and the
 * setters that pad values to even length (PS3.5 7.1.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/dataset_internal.h"

/* LT, ST, UT and UR hold a single value that may contain backslashes. */
static bool is_single_valued_text(dcm_vr vr)
{
    return vr == DCM_VR_LT || vr == DCM_VR_ST || vr == DCM_VR_UT || vr == DCM_VR_UR;
}

static bool keeps_leading_spaces(dcm_vr vr)
{
    return vr == DCM_VR_LT || vr == DCM_VR_ST || vr == DCM_VR_UT;
}

/* Finds value `index` of a string element: [*start, *start + *len). */
static int locate_string_value(const dcm_element *el, unsigned index, size_t *start,
                               size_t *len)
{
    const char *text = (const char *)el->value;
    size_t begin = 0, end, total = el->length;
    unsigned current = 0;

    if (el->deferred)
        return DCM_EDEFERRED;
    if (el->has_items || el->encapsulated || !text || total == 0)
        return DCM_ENOTFOUND;

    if (!is_single_valued_text(el->vr)) {
        for (size_t i = 0; i < total && current < index; i++) {
            if (text[i] == '\\') {
                current++;
                begin = i + 1;
            }
        }
    }
    if (current != index)
        return DCM_ENOTFOUND;

    end = begin;
    while (end < total && (is_single_valued_text(el->vr) || text[end] != '\\'))
        end++;

    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\0'))
        end--;
    if (!keeps_leading_spaces(el->vr)) {
        while (begin < end && text[begin] == ' ')
            begin++;
    }
    *start = begin;
    *len = end - begin;
    return DCM_OK;
}

int dcm_element_get_string(const dcm_element *el, unsigned index, char *buf, size_t size)
{
    size_t start, len;
    int rc;

    if (!el || !buf || size == 0)
        return DCM_EINVAL;
    buf[0] = '\0';
    if (!dcm_vr_is_string(el->vr) && el->vr != DCM_VR_UN)
        return DCM_EINVAL;
    rc = locate_string_value(el, index, &start, &len);
    if (rc != DCM_OK)
        return rc;
    if (len >= size)
        return DCM_ERANGE;
    memcpy(buf, el->value + start, len);
    buf[len] = '\0';
    return DCM_OK;
}

int dcm_dataset_get_string(const dcm_dataset *ds, dcm_tag tag, unsigned index, char *buf,
                           size_t size)
{
    const dcm_element *el = dcm_dataset_find(ds, tag);

    if (buf && size > 0)
        buf[0] = '\0';
    if (!el)
        return DCM_ENOTFOUND;
    return dcm_element_get_string(el, index, buf, size);
}

static uint32_t read_le(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

int dcm_element_get_uint(const dcm_element *el, unsigned index, uint32_t *out)
{
    char text[24];
    char *end;
    long long parsed;
    unsigned size;
    int rc;

    if (!el || !out)
        return DCM_EINVAL;
    if (el->deferred)
        return DCM_EDEFERRED;

    if (el->vr == DCM_VR_IS) {
        rc = dcm_element_get_string(el, index, text, sizeof text);
        if (rc != DCM_OK)
            return rc;
        errno = 0;
        parsed = strtoll(text, &end, 10);
        if (end == text || *end != '\0' || errno != 0)
            return DCM_EMALFORMED;
        if (parsed < 0 || parsed > (long long)UINT32_MAX)
            return DCM_ERANGE;
        *out = (uint32_t)parsed;
        return DCM_OK;
    }

    switch (el->vr) {
    case DCM_VR_US: case DCM_VR_SS: size = 2; break;
    case DCM_VR_UL: case DCM_VR_SL: size = 4; break;
    default: return DCM_EINVAL;
    }
    if (!el->value || (uint64_t)(index + 1) * size > el->length)
        return DCM_ENOTFOUND;
    *out = read_le(el->value + (size_t)index * size, size);
    if (el->vr == DCM_VR_SS && (*out & 0x8000u))
        return DCM_ERANGE;
    if (el->vr == DCM_VR_SL && (*out & 0x80000000u))
        return DCM_ERANGE;
    return DCM_OK;
}

int dcm_dataset_get_uint(const dcm_dataset *ds, dcm_tag tag, unsigned index, uint32_t *out)
{
    const dcm_element *el = dcm_dataset_find(ds, tag);

    if (!el)
        return DCM_ENOTFOUND;
    return dcm_element_get_uint(el, index, out);
}

unsigned dcm_element_vm(const dcm_element *el)
{
    unsigned count = 1;

    if (!el)
        return 0;
    if (el->has_items)
        return (unsigned)el->item_count;
    if (el->encapsulated || el->length == 0)
        return el->encapsulated ? 1 : 0;
    if (dcm_vr_is_string(el->vr)) {
        if (is_single_valued_text(el->vr) || !el->value)
            return 1;
        for (uint32_t i = 0; i < el->length; i++)
            count += el->value[i] == '\\';
        return count;
    }
    switch (el->vr) {
    case DCM_VR_AT: return el->length / 4;
    case DCM_VR_US: case DCM_VR_SS: return el->length / 2;
    case DCM_VR_UL: case DCM_VR_SL: case DCM_VR_FL: return el->length / 4;
    case DCM_VR_FD: case DCM_VR_SV: case DCM_VR_UV: return el->length / 8;
    default: return 1;
    }
}

int dcm_dataset_set_bytes(dcm_dataset *ds, dcm_tag tag, dcm_vr vr, const void *data, size_t len)
{
    dcm_element *el;

    if (!ds || (len > 0 && !data) || len >= DCM_UNDEFINED_LENGTH || vr == DCM_VR_SQ)
        return DCM_EINVAL;
    el = dcm_element_new(tag, vr);
    if (!el)
        return DCM_ENOMEM;
    el->length = (uint32_t)len;
    if (len > 0) {
        el->value = malloc(len);
        if (!el->value) {
            dcm_element_free(el);
            return DCM_ENOMEM;
        }
        memcpy(el->value, data, len);
    }
    return dcm_dataset_insert(ds, el);
}

int dcm_dataset_set_string(dcm_dataset *ds, dcm_tag tag, dcm_vr vr, const char *value)
{
    size_t len = value ? strlen(value) : 0;
    char *padded;
    int rc;

    if (!ds || !dcm_vr_is_string(vr) || len >= DCM_UNDEFINED_LENGTH - 1)
        return DCM_EINVAL;
    padded = malloc(len + 2);
    if (!padded)
        return DCM_ENOMEM;
    if (len > 0)
        memcpy(padded, value, len);
    if (len % 2)
        padded[len++] = vr == DCM_VR_UI ? '\0' : ' ';
    rc = dcm_dataset_set_bytes(ds, tag, vr, padded, len);
    free(padded);
    return rc;
}

int dcm_dataset_set_u16(dcm_dataset *ds, dcm_tag tag, uint16_t value)
{
    uint8_t le[2] = {(uint8_t)value, (uint8_t)(value >> 8)};

    return dcm_dataset_set_bytes(ds, tag, DCM_VR_US, le, sizeof le);
}

int dcm_dataset_set_u32(dcm_dataset *ds, dcm_tag tag, uint32_t value)
{
    uint8_t le[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                     (uint8_t)(value >> 24)};

    return dcm_dataset_set_bytes(ds, tag, DCM_VR_UL, le, sizeof le);
}
