/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data set encoder (PS3.5 chapter 7, A.4, A.5). Sequences and items keep
 * the length form they were read with; defined lengths are computed from
 * the content. Values are swapped to big endian on output when the
 * transfer syntax asks for it.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dcm/dataset_internal.h"

#define CHUNK_SIZE (64u * 1024u)

typedef struct encoding {
    bool explicit_vr;
    bool big_endian;
} encoding;

typedef struct writer {
    dcm_write_fn fn;
    void *ctx;
} writer;

static const encoding implicit_le = {false, false};

static encoding item_encoding(const dcm_element *el, encoding e)
{
    /* UN of undefined length holds an implicit VR little endian sequence. */
    return el->vr == DCM_VR_UN ? implicit_le : e;
}

static uint64_t dataset_size(const dcm_dataset *ds, encoding e);

static uint64_t header_size(const dcm_element *el, encoding e)
{
    if (e.explicit_vr && dcm_vr_has_long_length(el->vr == DCM_VR_UNKNOWN ? DCM_VR_UN : el->vr))
        return 12;
    return 8;
}

/* Encoded size of the value of el (without its header or delimiter). */
static uint64_t value_size(const dcm_element *el, encoding e)
{
    uint64_t size = 0;

    if (el->has_items) {
        encoding ie = item_encoding(el, e);

        for (size_t i = 0; i < el->item_count; i++) {
            size += 8 + dataset_size(el->items[i], ie);
            if (el->items[i]->undefined_length)
                size += 8;
        }
        return size;
    }
    if (el->encapsulated) {
        for (size_t i = 0; i < el->fragment_count; i++)
            size += 8 + (uint64_t)el->fragments[i].len;
        return size;
    }
    return el->length;
}

/* Encoded size of the element including delimiters. */
static uint64_t element_size(const dcm_element *el, encoding e)
{
    uint64_t size = header_size(el, e) + value_size(el, e);

    if ((el->has_items && el->undefined_length) || el->encapsulated)
        size += 8;
    return size;
}

static uint64_t dataset_size(const dcm_dataset *ds, encoding e)
{
    uint64_t size = 0;

    for (size_t i = 0; i < ds->count; i++)
        size += element_size(ds->elements[i], e);
    return size;
}

static void put16(uint8_t *b, uint16_t v, bool big_endian)
{
    if (big_endian) {
        b[0] = (uint8_t)(v >> 8);
        b[1] = (uint8_t)v;
    } else {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
    }
}

static void put32(uint8_t *b, uint32_t v, bool big_endian)
{
    if (big_endian) {
        put16(b, (uint16_t)(v >> 16), true);
        put16(b + 2, (uint16_t)v, true);
    } else {
        put16(b, (uint16_t)v, false);
        put16(b + 2, (uint16_t)(v >> 16), false);
    }
}

/* Writes a tag followed by a 32-bit length, the form of items and
 * delimiters in every encoding. */
static int write_tag_length(writer *w, dcm_tag tag, uint32_t length, encoding e)
{
    uint8_t b[8];

    put16(b, DCM_TAG_GROUP(tag), e.big_endian);
    put16(b + 2, DCM_TAG_ELEMENT(tag), e.big_endian);
    put32(b + 4, length, e.big_endian);
    return w->fn(w->ctx, b, sizeof b) == 0 ? DCM_OK : DCM_EIO;
}

static int write_header(writer *w, const dcm_element *el, uint32_t length, encoding e)
{
    dcm_vr vr = el->vr == DCM_VR_UNKNOWN ? DCM_VR_UN : el->vr;
    const char *name = dcm_vr_name(vr);
    uint8_t b[12];

    if (!e.explicit_vr)
        return write_tag_length(w, el->tag, length, e);

    put16(b, DCM_TAG_GROUP(el->tag), e.big_endian);
    put16(b + 2, DCM_TAG_ELEMENT(el->tag), e.big_endian);
    b[4] = (uint8_t)name[0];
    b[5] = (uint8_t)name[1];
    if (dcm_vr_has_long_length(vr)) {
        b[6] = 0;
        b[7] = 0;
        put32(b + 8, length, e.big_endian);
        return w->fn(w->ctx, b, 12) == 0 ? DCM_OK : DCM_EIO;
    }
    if (length > 0xFFFFu)
        return DCM_ERANGE; /* cannot be encoded in the 16-bit length field */
    put16(b + 6, (uint16_t)length, e.big_endian);
    return w->fn(w->ctx, b, 8) == 0 ? DCM_OK : DCM_EIO;
}

static int write_value(writer *w, const dcm_element *el, encoding e)
{
    unsigned swap = dcm_vr_swap_size(el->vr);
    uint8_t chunk[4096];

    if (el->length == 0)
        return DCM_OK;
    if (!e.big_endian || swap == 1)
        return w->fn(w->ctx, el->value, el->length) == 0 ? DCM_OK : DCM_EIO;

    /* Swap a copy, in chunks that hold whole numbers. */
    for (size_t done = 0; done < el->length;) {
        size_t n = el->length - done < sizeof chunk ? el->length - done : sizeof chunk;

        memcpy(chunk, el->value + done, n);
        dcm_swap_bytes(chunk, n, swap);
        if (w->fn(w->ctx, chunk, n) != 0)
            return DCM_EIO;
        done += n;
    }
    return DCM_OK;
}

static int write_dataset(writer *w, const dcm_dataset *ds, encoding e);

static int write_element(writer *w, const dcm_element *el, encoding e)
{
    uint64_t size;
    int rc;

    if (el->deferred)
        return DCM_EDEFERRED;

    if (el->has_items) {
        encoding ie = item_encoding(el, e);

        size = value_size(el, e);
        if (!el->undefined_length && size >= DCM_UNDEFINED_LENGTH)
            return DCM_ERANGE;
        rc = write_header(w, el, el->undefined_length ? DCM_UNDEFINED_LENGTH : (uint32_t)size, e);
        for (size_t i = 0; rc == DCM_OK && i < el->item_count; i++) {
            const dcm_dataset *item = el->items[i];
            uint64_t item_size = dataset_size(item, ie);

            if (!item->undefined_length && item_size >= DCM_UNDEFINED_LENGTH)
                return DCM_ERANGE;
            rc = write_tag_length(w, DCM_TAG_ITEM,
                                  item->undefined_length ? DCM_UNDEFINED_LENGTH
                                                         : (uint32_t)item_size, ie);
            if (rc == DCM_OK)
                rc = write_dataset(w, item, ie);
            if (rc == DCM_OK && item->undefined_length)
                rc = write_tag_length(w, DCM_TAG_ITEM_DELIMITATION, 0, ie);
        }
        if (rc == DCM_OK && el->undefined_length)
            rc = write_tag_length(w, DCM_TAG_SEQUENCE_DELIMITATION, 0, e);
        return rc;
    }

    if (el->encapsulated) {
        rc = write_header(w, el, DCM_UNDEFINED_LENGTH, e);
        for (size_t i = 0; rc == DCM_OK && i < el->fragment_count; i++) {
            rc = write_tag_length(w, DCM_TAG_ITEM, el->fragments[i].len, e);
            if (rc == DCM_OK && el->fragments[i].len > 0 &&
                w->fn(w->ctx, el->fragments[i].data, el->fragments[i].len) != 0)
                rc = DCM_EIO;
        }
        if (rc == DCM_OK)
            rc = write_tag_length(w, DCM_TAG_SEQUENCE_DELIMITATION, 0, e);
        return rc;
    }

    rc = write_header(w, el, el->length, e);
    if (rc == DCM_OK)
        rc = write_value(w, el, e);
    return rc;
}

static int write_dataset(writer *w, const dcm_dataset *ds, encoding e)
{
    for (size_t i = 0; i < ds->count; i++) {
        int rc = write_element(w, ds->elements[i], e);

        if (rc != DCM_OK)
            return rc;
    }
    return DCM_OK;
}

/* Compresses what it receives with raw deflate and forwards the output. */
typedef struct deflater {
    z_stream zs;
    dcm_write_fn fn;
    void *ctx;
    uint8_t out[CHUNK_SIZE];
} deflater;

static int deflate_pump(deflater *d, int flush)
{
    int zrc;

    do {
        d->zs.next_out = d->out;
        d->zs.avail_out = sizeof d->out;
        zrc = deflate(&d->zs, flush);
        if (zrc == Z_STREAM_ERROR)
            return DCM_EIO;
        if (sizeof d->out - d->zs.avail_out > 0 &&
            d->fn(d->ctx, d->out, sizeof d->out - d->zs.avail_out) != 0)
            return DCM_EIO;
    } while (d->zs.avail_out == 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
    return DCM_OK;
}

static int deflate_write(void *ctx, const void *data, size_t len)
{
    deflater *d = ctx;
    const uint8_t *p = data;

    while (len > 0) {
        size_t n = len > UINT32_MAX ? UINT32_MAX : len;

        d->zs.next_in = (Bytef *)p;
        d->zs.avail_in = (uInt)n;
        if (deflate_pump(d, Z_NO_FLUSH) != DCM_OK)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static int write_deflated(const dcm_dataset *ds, dcm_write_fn fn, void *ctx)
{
    encoding e = {true, false};
    deflater *d = calloc(1, sizeof *d);
    writer w;
    int rc;

    if (!d)
        return DCM_ENOMEM;
    if (deflateInit2(&d->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(d);
        return DCM_ENOMEM;
    }
    d->fn = fn;
    d->ctx = ctx;
    w.fn = deflate_write;
    w.ctx = d;

    rc = write_dataset(&w, ds, e);
    if (rc == DCM_OK) {
        d->zs.next_in = NULL;
        d->zs.avail_in = 0;
        rc = deflate_pump(d, Z_FINISH);
    }

    deflateEnd(&d->zs);
    free(d);
    return rc;
}

int dcm_write_dataset(const dcm_dataset *ds, const dcm_ts *ts, dcm_write_fn fn, void *ctx)
{
    encoding e;
    writer w = {fn, ctx};

    if (!ds || !ts || !fn)
        return DCM_EINVAL;
    if (ts->deflated)
        return write_deflated(ds, fn, ctx);
    e.explicit_vr = ts->explicit_vr;
    e.big_endian = ts->big_endian;
    return write_dataset(&w, ds, e);
}

typedef struct growing_buffer {
    uint8_t *data;
    size_t len, cap;
} growing_buffer;

static int buffer_append(void *ctx, const void *data, size_t len)
{
    growing_buffer *b = ctx;

    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *grown;

        while (cap - b->len < len) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int dcm_encode_buffer(const dcm_dataset *ds, const dcm_ts *ts, uint8_t **out, size_t *len)
{
    growing_buffer b = {0};
    int rc;

    if (!out || !len)
        return DCM_EINVAL;
    *out = NULL;
    *len = 0;
    rc = dcm_write_dataset(ds, ts, buffer_append, &b);
    if (rc == DCM_EIO)
        rc = DCM_ENOMEM; /* the only failure of buffer_append */
    if (rc != DCM_OK) {
        free(b.data);
        return rc;
    }
    *out = b.data;
    *len = b.len;
    return DCM_OK;
}

int dcm_dataset_update_group_length(dcm_dataset *ds, uint16_t group, const dcm_ts *ts)
{
    encoding e;
    uint64_t size = 0;

    if (!ds || !ts)
        return DCM_EINVAL;
    e.explicit_vr = ts->explicit_vr;
    e.big_endian = ts->big_endian;
    for (size_t i = 0; i < ds->count; i++) {
        const dcm_element *el = ds->elements[i];

        if (DCM_TAG_GROUP(el->tag) == group && DCM_TAG_ELEMENT(el->tag) != 0)
            size += element_size(el, e);
    }
    if (size > UINT32_MAX)
        return DCM_ERANGE;
    return dcm_dataset_set_u32(ds, DCM_TAG(group, 0x0000), (uint32_t)size);
}
