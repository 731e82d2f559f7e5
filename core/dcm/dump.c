/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text dump of a data set in the layout of DCMTK's dcmdump: tag, VR,
 * value, length, VM and keyword on one line, items indented.
 */
#include <inttypes.h>
#include <string.h>

#include "dcm/dataset_internal.h"

#define MAX_SHOWN 64

static uint64_t read_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Formats the start of the value into buf (at most size - 1 bytes). */
static void format_value(const dcm_element *el, char *buf, size_t size)
{
    size_t used = 0;
    unsigned n;

    buf[0] = '\0';
    if (el->deferred) {
        snprintf(buf, size, "(not loaded)");
        return;
    }
    if (!el->value || el->length == 0) {
        snprintf(buf, size, "(no value available)");
        return;
    }

    if (dcm_vr_is_string(el->vr)) {
        size_t len = el->length;

        while (len > 0 && (el->value[len - 1] == ' ' || el->value[len - 1] == '\0'))
            len--;
        used = (size_t)snprintf(buf, size, "[");
        for (size_t i = 0; i < len && used + 6 < size; i++) {
            unsigned char c = el->value[i];

            if (c >= 0x20 && c != 0x7F)
                buf[used++] = (char)c;
            else
                used += (size_t)snprintf(buf + used, size - used, "\\%02x", c);
        }
        if (len > 0 && used + 6 >= size)
            used = size - 6 < used ? size - 6 : used;
        snprintf(buf + used, size - used, "%s]", used + 6 >= size ? "..." : "");
        return;
    }

    switch (el->vr) {
    case DCM_VR_US: case DCM_VR_SS: case DCM_VR_UL: case DCM_VR_SL:
    case DCM_VR_FL: case DCM_VR_FD: case DCM_VR_AT: case DCM_VR_SV: case DCM_VR_UV:
        n = dcm_vr_swap_size(el->vr);
        if (el->vr == DCM_VR_AT)
            n = 4;
        for (size_t off = 0; off + n <= el->length && used + 32 < size; off += n) {
            uint64_t v = read_le(el->value + off, n);
            double d;
            float f;
            int w;

            if (off > 0)
                buf[used++] = '\\';
            if (el->vr == DCM_VR_AT) {
                w = snprintf(buf + used, size - used, "(%04X,%04X)", (unsigned)(v & 0xFFFF),
                             (unsigned)(v >> 16));
            } else if (el->vr == DCM_VR_FL) {
                uint32_t bits = (uint32_t)v;
                memcpy(&f, &bits, 4);
                w = snprintf(buf + used, size - used, "%g", (double)f);
            } else if (el->vr == DCM_VR_FD) {
                memcpy(&d, &v, 8);
                w = snprintf(buf + used, size - used, "%g", d);
            } else if (el->vr == DCM_VR_SS) {
                w = snprintf(buf + used, size - used, "%d", (int16_t)v);
            } else if (el->vr == DCM_VR_SL) {
                w = snprintf(buf + used, size - used, "%d", (int32_t)v);
            } else if (el->vr == DCM_VR_SV) {
                w = snprintf(buf + used, size - used, "%" PRId64, (int64_t)v);
            } else {
                w = snprintf(buf + used, size - used, "%" PRIu64, v);
            }
            used += (size_t)w;
        }
        if (used + 32 >= size)
            snprintf(buf + used, size - used, "...");
        return;
    default:
        break;
    }

    for (size_t i = 0; i < el->length && used + 8 < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%02x", i ? "\\" : "", el->value[i]);
    if (used + 8 >= size)
        snprintf(buf + used, size - used, "...");
}

static void dump_dataset(const dcm_dataset *ds, FILE *out, int indent);

static void dump_element(const dcm_element *el, FILE *out, int indent)
{
    const dcm_dict_entry *entry = dcm_dict_find(el->tag);
    const char *keyword = entry ? entry->keyword : "Unknown Tag & Data";
    char value[MAX_SHOWN + 16];

    if (el->has_items || el->encapsulated) {
        fprintf(out, "%*s(%04x,%04x) %s %s %s # u/l, %u %s\n", indent, "",
                DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag), dcm_vr_name(el->vr),
                el->has_items ? "(Sequence with" : "(PixelSequence",
                el->undefined_length ? "undefined length)" : "explicit length)",
                el->has_items ? (unsigned)el->item_count : 1u, keyword);
        if (el->has_items) {
            for (size_t i = 0; i < el->item_count; i++) {
                fprintf(out, "%*s  (fffe,e000) na (Item with %s length #=%zu)\n", indent, "",
                        el->items[i]->undefined_length ? "undefined" : "explicit",
                        el->items[i]->count);
                dump_dataset(el->items[i], out, indent + 4);
                if (el->items[i]->undefined_length)
                    fprintf(out, "%*s  (fffe,e00d) na (ItemDelimitationItem)\n", indent, "");
            }
        } else {
            for (size_t i = 0; i < el->fragment_count; i++)
                fprintf(out, "%*s  (fffe,e000) pi (fragment) # %u, 1 Item\n", indent, "",
                        el->fragments[i].len);
        }
        if (el->undefined_length)
            fprintf(out, "%*s(fffe,e0dd) na (SequenceDelimitationItem)\n", indent, "");
        return;
    }

    format_value(el, value, sizeof value);
    fprintf(out, "%*s(%04x,%04x) %s %-40s # %4u, %u %s\n", indent, "", DCM_TAG_GROUP(el->tag),
            DCM_TAG_ELEMENT(el->tag), dcm_vr_name(el->vr), value, el->length,
            dcm_element_vm(el), keyword);
}

static void dump_dataset(const dcm_dataset *ds, FILE *out, int indent)
{
    for (size_t i = 0; i < ds->count; i++)
        dump_element(ds->elements[i], out, indent);
}

void dcm_dataset_dump(const dcm_dataset *ds, FILE *out)
{
    if (!ds || !out)
        return;
    dump_dataset(ds, out, 0);
}
