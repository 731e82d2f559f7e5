/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data set parser (PS3.5 chapter 7 and A.4). It checks the whole structure
 * even where values are skipped: every value must fit in the data and in
 * its enclosing item, items and delimiters must sit where the standard
 * puts them, and nesting is bounded. Values are stored little endian.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/dataset_internal.h"
#include "dcm/parse_internal.h"
#include "dcm/reader.h"
#include "util/log.h"

#define DEFAULT_MAX_DEPTH 16
#define NO_LIMIT UINT64_MAX

typedef struct encoding {
    bool explicit_vr;
    bool big_endian;
} encoding;

typedef struct parser {
    dcm_reader *rd;
    dcm_read_options opt;
    dcm_error *err;
    bool meta_group_only; /* stop at the first top-level tag outside group 0002 */
} parser;

typedef struct header {
    dcm_tag tag;
    dcm_vr vr;
    uint32_t length;
    unsigned size; /* bytes of tag, VR and length fields */
} header;

static int fail(parser *p, int code, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parser *p, int code, uint64_t offset, const char *fmt, ...)
{
    va_list ap;

    if (p->err && p->err->code == 0) {
        p->err->code = code;
        p->err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Reports a reader failure at the current position. */
static int fail_read(parser *p, int rc, const char *what)
{
    if (rc == DCM_ETRUNCATED)
        return fail(p, rc, p->rd->pos, "data ends inside %s", what);
    if (rc == DCM_EMALFORMED)
        return fail(p, rc, p->rd->pos, "invalid deflate data while reading %s", what);
    if (rc == DCM_ENOMEM)
        return fail(p, rc, p->rd->pos, "out of memory while reading %s", what);
    return fail(p, rc, p->rd->pos, "read failed while reading %s", what);
}

static uint16_t get16(const uint8_t *b, bool big_endian)
{
    return big_endian ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t get32(const uint8_t *b, bool big_endian)
{
    if (big_endian)
        return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static dcm_tag get_tag(const uint8_t *b, bool big_endian)
{
    return DCM_TAG(get16(b, big_endian), get16(b + 2, big_endian));
}

/* The VR implicit VR encoding implies for a tag (PS3.5 A.1). */
static dcm_vr implicit_vr(dcm_tag tag)
{
    const dcm_dict_entry *entry = dcm_dict_find(tag);

    if (!entry || entry->vr == DCM_VR_UNKNOWN)
        return DCM_VR_UN;
    if ((entry->flags & DCM_DICT_MULTI_VR) && entry->vr == DCM_VR_OB)
        return DCM_VR_OW; /* OB or OW data is OW in implicit VR */
    return entry->vr;
}

/* Reads the tag, VR and length of the next element or item. Item and
 * delimitation tags have no VR in either encoding (PS3.5 7.5). */
static int read_header(parser *p, encoding e, header *h)
{
    const uint8_t *b;
    uint64_t at = p->rd->pos;
    int rc;

    rc = dcm_reader_peek(p->rd, 8, &b);
    if (rc != DCM_OK)
        return fail_read(p, rc, "an element header");
    h->tag = get_tag(b, e.big_endian);

    if (DCM_TAG_GROUP(h->tag) == 0xFFFE || !e.explicit_vr) {
        h->vr = DCM_TAG_GROUP(h->tag) == 0xFFFE ? DCM_VR_UNKNOWN : implicit_vr(h->tag);
        h->length = get32(b + 4, e.big_endian);
        h->size = 8;
        return dcm_reader_skip(p->rd, 8);
    }

    h->vr = dcm_vr_from_chars((char)b[4], (char)b[5]);
    if (h->vr == DCM_VR_UNKNOWN)
        return fail(p, DCM_EMALFORMED, at,
                    "invalid VR bytes 0x%02X 0x%02X in element (%04X,%04X)", b[4], b[5],
                    DCM_TAG_GROUP(h->tag), DCM_TAG_ELEMENT(h->tag));
    if (!dcm_vr_has_long_length(h->vr)) {
        h->length = get16(b + 6, e.big_endian);
        h->size = 8;
        return dcm_reader_skip(p->rd, 8);
    }

    rc = dcm_reader_peek(p->rd, 12, &b);
    if (rc != DCM_OK)
        return fail_read(p, rc, "an element header");
    h->length = get32(b + 8, e.big_endian);
    h->size = 12;
    return dcm_reader_skip(p->rd, 12);
}

/* Checks that `length` bytes from the current position fit in the data
 * and inside `limit`, the end of the enclosing defined-length item. */
static int check_fits(parser *p, uint64_t length, uint64_t limit, dcm_tag tag)
{
    uint64_t remaining = dcm_reader_remaining(p->rd);

    if (remaining != DCM_READER_UNKNOWN_SIZE && length > remaining)
        return fail(p, DCM_ETRUNCATED, p->rd->pos,
                    "value length %llu of (%04X,%04X) exceeds the %llu bytes left in the data",
                    (unsigned long long)length, DCM_TAG_GROUP(tag), DCM_TAG_ELEMENT(tag),
                    (unsigned long long)remaining);
    if (limit != NO_LIMIT && p->rd->pos + length > limit)
        return fail(p, DCM_EMALFORMED, p->rd->pos,
                    "value length %llu of (%04X,%04X) crosses the end of its item or "
                    "sequence at offset %llu",
                    (unsigned long long)length, DCM_TAG_GROUP(tag), DCM_TAG_ELEMENT(tag),
                    (unsigned long long)limit);
    return DCM_OK;
}

/* Reads `length` bytes into a new buffer. When the size of the data is not
 * known in advance (deflate, pipes) the buffer grows as bytes arrive, so a
 * forged length cannot make it allocate more than the data holds. */
static int read_value(parser *p, uint32_t length, uint8_t **out, dcm_tag tag)
{
    size_t have = 0, cap;
    uint8_t *buf = NULL;
    int rc;

    *out = NULL;
    if (length == 0)
        return DCM_OK;
    cap = dcm_reader_remaining(p->rd) == DCM_READER_UNKNOWN_SIZE && length > (1u << 20)
              ? (1u << 20)
              : length;
    buf = malloc(cap);
    if (!buf)
        return fail(p, DCM_ENOMEM, p->rd->pos, "out of memory for %u bytes of (%04X,%04X)",
                    length, DCM_TAG_GROUP(tag), DCM_TAG_ELEMENT(tag));
    while (have < length) {
        size_t chunk;

        if (have == cap) {
            size_t grown_cap = cap * 2 < length ? cap * 2 : length;
            uint8_t *grown = realloc(buf, grown_cap);

            if (!grown) {
                free(buf);
                return fail(p, DCM_ENOMEM, p->rd->pos, "out of memory for %u bytes", length);
            }
            buf = grown;
            cap = grown_cap;
        }
        chunk = cap - have;
        rc = dcm_reader_read(p->rd, buf + have, chunk);
        if (rc != DCM_OK) {
            free(buf);
            return fail_read(p, rc, "an element value");
        }
        have += chunk;
    }
    *out = buf;
    return DCM_OK;
}

static int parse_items(parser *p, encoding e, dcm_element *el, uint64_t limit,
                       unsigned depth);
static int parse_dataset(parser *p, encoding e, dcm_dataset *ds, uint64_t limit,
                         bool defined, unsigned depth);

/* Parses the fragments of encapsulated pixel data (PS3.5 A.4). */
static int parse_fragments(parser *p, encoding e, dcm_element *el, uint64_t limit)
{
    uint64_t total = 0;
    header h;
    int rc;

    for (;;) {
        uint64_t at = p->rd->pos;
        uint8_t *data = NULL;

        rc = read_header(p, e, &h);
        if (rc != DCM_OK)
            return rc;
        if (h.tag == DCM_TAG_SEQUENCE_DELIMITATION) {
            if (h.length != 0)
                log_warn(NULL, "sequence delimitation item at offset %llu has length %u, "
                               "expected 0", (unsigned long long)at, h.length);
            return DCM_OK;
        }
        if (h.tag != DCM_TAG_ITEM)
            return fail(p, DCM_EMALFORMED, at,
                        "expected an item tag (FFFE,E000) in encapsulated pixel data, found "
                        "(%04X,%04X)", DCM_TAG_GROUP(h.tag), DCM_TAG_ELEMENT(h.tag));
        if (h.length == DCM_UNDEFINED_LENGTH)
            return fail(p, DCM_EMALFORMED, at,
                        "pixel data fragment with undefined length");
        rc = check_fits(p, h.length, limit, el->tag);
        if (rc != DCM_OK)
            return rc;

        total += h.length;
        if (!el->deferred && p->opt.max_value_load > 0 && total > p->opt.max_value_load) {
            /* Too large to keep: drop what was loaded and skip the rest. */
            for (size_t i = 0; i < el->fragment_count; i++)
                free(el->fragments[i].data);
            el->fragment_count = 0;
            el->deferred = true;
        }
        if (el->deferred) {
            rc = dcm_reader_skip(p->rd, h.length);
            if (rc != DCM_OK)
                return fail_read(p, rc, "a pixel data fragment");
            continue;
        }
        rc = read_value(p, h.length, &data, el->tag);
        if (rc != DCM_OK)
            return rc;
        rc = dcm_element_add_fragment(el, data, h.length);
        if (rc != DCM_OK)
            return fail(p, rc, at, "out of memory for pixel data fragments");
    }
}

static int parse_value(parser *p, encoding e, dcm_element *el, uint64_t limit,
                       unsigned depth)
{
    uint64_t at = p->rd->pos;
    uint64_t seq_limit;
    encoding item_encoding = e;
    int rc;

    if (el->length == DCM_UNDEFINED_LENGTH) {
        el->undefined_length = true;
        if (el->tag == DCM_TAG_PIXEL_DATA && el->vr != DCM_VR_SQ) {
            if (!e.explicit_vr)
                el->vr = DCM_VR_OB; /* encapsulated pixel data is OB (PS3.5 A.4) */
            return parse_fragments(p, e, el, limit);
        }
        if (el->vr == DCM_VR_UN) {
            /* An unknown VR with undefined length holds a sequence encoded
             * in implicit VR little endian (PS3.5 6.2.2). */
            item_encoding.explicit_vr = false;
            item_encoding.big_endian = false;
        } else if (el->vr != DCM_VR_SQ) {
            return fail(p, DCM_EMALFORMED, at,
                        "undefined length on element (%04X,%04X) of VR %s, which is "
                        "neither a sequence nor pixel data",
                        DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag), dcm_vr_name(el->vr));
        }
        el->has_items = true;
        return parse_items(p, item_encoding, el, limit, depth);
    }

    rc = check_fits(p, el->length, limit, el->tag);
    if (rc != DCM_OK)
        return rc;

    if (el->vr == DCM_VR_SQ) {
        seq_limit = p->rd->pos + el->length;
        el->has_items = true;
        rc = parse_items(p, e, el, seq_limit, depth);
        if (rc == DCM_OK && p->rd->pos != seq_limit)
            rc = fail(p, DCM_EMALFORMED, p->rd->pos,
                      "sequence (%04X,%04X) ends at offset %llu, not at its length",
                      DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag),
                      (unsigned long long)p->rd->pos);
        return rc;
    }

    if (el->length % 2)
        log_warn(NULL, "element (%04X,%04X) at offset %llu has odd length %u; reading it "
                       "anyway", DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag),
                 (unsigned long long)at, el->length);

    if (p->opt.max_value_load > 0 && el->length > p->opt.max_value_load) {
        el->deferred = true;
        rc = dcm_reader_skip(p->rd, el->length);
        return rc == DCM_OK ? DCM_OK : fail_read(p, rc, "an element value");
    }
    rc = read_value(p, el->length, &el->value, el->tag);
    if (rc == DCM_OK && e.big_endian && el->value)
        dcm_swap_bytes(el->value, el->length, dcm_vr_swap_size(el->vr));
    return rc;
}

/* Parses the items of a sequence until its length or its delimiter. */
static int parse_items(parser *p, encoding e, dcm_element *el, uint64_t limit,
                       unsigned depth)
{
    bool defined = !el->undefined_length;
    header h;
    int rc;

    if (depth + 1 > p->opt.max_depth)
        return fail(p, DCM_EMALFORMED, p->rd->pos,
                    "sequence (%04X,%04X) nested deeper than the bound of %u levels",
                    DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag), p->opt.max_depth);

    for (;;) {
        uint64_t at = p->rd->pos;
        dcm_dataset *item;

        if (defined && at == limit)
            return DCM_OK;
        if (!defined && limit != NO_LIMIT && at >= limit)
            return fail(p, DCM_EMALFORMED, at,
                        "sequence (%04X,%04X) of undefined length has no delimitation item "
                        "before the end of its enclosing item",
                        DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag));
        rc = read_header(p, e, &h);
        if (rc != DCM_OK)
            return rc;

        if (h.tag == DCM_TAG_SEQUENCE_DELIMITATION) {
            if (defined)
                return fail(p, DCM_EMALFORMED, at,
                            "sequence delimitation item inside sequence (%04X,%04X) of "
                            "defined length", DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag));
            if (h.length != 0)
                log_warn(NULL, "sequence delimitation item at offset %llu has length %u, "
                               "expected 0", (unsigned long long)at, h.length);
            return DCM_OK;
        }
        if (h.tag != DCM_TAG_ITEM)
            return fail(p, DCM_EMALFORMED, at,
                        "expected an item tag (FFFE,E000) in sequence (%04X,%04X), found "
                        "(%04X,%04X)", DCM_TAG_GROUP(el->tag), DCM_TAG_ELEMENT(el->tag),
                        DCM_TAG_GROUP(h.tag), DCM_TAG_ELEMENT(h.tag));

        item = dcm_dataset_create();
        if (!item)
            return fail(p, DCM_ENOMEM, at, "out of memory for a sequence item");
        rc = dcm_element_add_item(el, item);
        if (rc != DCM_OK)
            return fail(p, rc, at, "out of memory for a sequence item");

        if (h.length == DCM_UNDEFINED_LENGTH) {
            item->undefined_length = true;
            rc = parse_dataset(p, e, item, limit, false, depth + 1);
        } else {
            item->undefined_length = false;
            rc = check_fits(p, h.length, limit, h.tag);
            if (rc == DCM_OK)
                rc = parse_dataset(p, e, item, p->rd->pos + h.length, true, depth + 1);
        }
        if (rc != DCM_OK)
            return rc;
    }
}

/* Parses elements until the end of a defined-length item (defined), the
 * item delimiter of an undefined-length item, or the end of the data for
 * the top level (depth 0). */
static int parse_dataset(parser *p, encoding e, dcm_dataset *ds, uint64_t limit,
                         bool defined, unsigned depth)
{
    dcm_tag previous = 0;
    header h;
    int rc;

    for (;;) {
        uint64_t at = p->rd->pos;
        const uint8_t *b;
        dcm_element *el;
        dcm_tag tag;

        if (defined && at == limit)
            return DCM_OK;
        if (!defined && limit != NO_LIMIT && at >= limit)
            return fail(p, DCM_EMALFORMED, at,
                        "item of undefined length has no item delimitation item before the "
                        "end of its sequence");
        if (depth == 0 && dcm_reader_at_end(p->rd))
            return DCM_OK;

        rc = dcm_reader_peek(p->rd, 4, &b);
        if (rc != DCM_OK)
            return fail_read(p, rc, "an element tag");
        tag = get_tag(b, e.big_endian);
        if (depth == 0 && p->opt.stop_at != 0 && tag >= p->opt.stop_at)
            return DCM_OK;
        if (depth == 0 && p->meta_group_only && DCM_TAG_GROUP(tag) != 0x0002)
            return DCM_OK;

        rc = read_header(p, e, &h);
        if (rc != DCM_OK)
            return rc;

        if (h.tag == DCM_TAG_ITEM_DELIMITATION) {
            if (depth == 0 || defined)
                return fail(p, DCM_EMALFORMED, at,
                            "item delimitation item outside an item of undefined length");
            if (h.length != 0)
                log_warn(NULL, "item delimitation item at offset %llu has length %u, "
                               "expected 0", (unsigned long long)at, h.length);
            return DCM_OK;
        }
        if (h.tag == DCM_TAG_ITEM || h.tag == DCM_TAG_SEQUENCE_DELIMITATION)
            return fail(p, DCM_EMALFORMED, at,
                        "%s outside a sequence",
                        h.tag == DCM_TAG_ITEM ? "item tag (FFFE,E000)"
                                              : "sequence delimitation item");

        if (ds->count > 0 && h.tag <= previous)
            log_warn(NULL, "element (%04X,%04X) at offset %llu is %s; keeping the last one",
                     DCM_TAG_GROUP(h.tag), DCM_TAG_ELEMENT(h.tag), (unsigned long long)at,
                     h.tag == previous ? "repeated" : "out of ascending tag order");
        previous = h.tag;

        el = dcm_element_new(h.tag, h.vr);
        if (!el)
            return fail(p, DCM_ENOMEM, at, "out of memory for an element");
        el->length = h.length;
        el->offset = p->rd->pos;
        rc = dcm_dataset_insert(ds, el);
        if (rc != DCM_OK)
            return fail(p, rc, at, "out of memory for an element");
        rc = parse_value(p, e, el, limit, depth);
        if (rc != DCM_OK)
            return rc;
    }
}

int dcm_parse_reader(dcm_reader *rd, const dcm_ts *ts, const dcm_read_options *opt,
                     bool meta_group_only, dcm_dataset **out, dcm_error *err)
{
    parser p = {.rd = rd, .err = err, .meta_group_only = meta_group_only};
    encoding e;
    dcm_dataset *ds;
    int rc;

    if (opt)
        p.opt = *opt;
    if (p.opt.max_depth == 0)
        p.opt.max_depth = DEFAULT_MAX_DEPTH;
    e.explicit_vr = ts->explicit_vr;
    e.big_endian = ts->big_endian;

    ds = dcm_dataset_create();
    if (!ds)
        return fail(&p, DCM_ENOMEM, 0, "out of memory for a data set");
    rc = parse_dataset(&p, e, ds, NO_LIMIT, false, 0);
    if (rc != DCM_OK) {
        dcm_dataset_destroy(ds);
        return rc;
    }
    *out = ds;
    return DCM_OK;
}

static void clear_error(dcm_error *err)
{
    if (err) {
        err->code = 0;
        err->message[0] = '\0';
        err->offset = 0;
    }
}

static int reject(dcm_error *err, int code, const char *message)
{
    if (err) {
        err->code = code;
        err->offset = 0;
        snprintf(err->message, sizeof err->message, "%s", message);
    }
    return code;
}

int dcm_parse_buffer(const void *data, size_t len, const dcm_ts *ts,
                     const dcm_read_options *opt, dcm_dataset **out, dcm_error *err)
{
    dcm_reader rd;
    int rc;

    clear_error(err);
    if (!out || !ts || (!data && len > 0))
        return reject(err, DCM_EINVAL, "invalid argument: data, ts and out are required");
    *out = NULL;
    rc = dcm_reader_open_memory(&rd, data, len, ts->deflated);
    if (rc == DCM_OK)
        rc = dcm_parse_reader(&rd, ts, opt, false, out, err);
    else
        reject(err, rc, "cannot set up the reader (out of memory)");
    dcm_reader_close(&rd);
    return rc;
}

int dcm_parse_fd(int fd, uint64_t offset, const dcm_ts *ts, const dcm_read_options *opt,
                 dcm_dataset **out, dcm_error *err)
{
    dcm_reader rd;
    int rc;

    clear_error(err);
    if (!out || !ts || fd < 0)
        return reject(err, DCM_EINVAL, "invalid argument: fd, ts and out are required");
    *out = NULL;
    rc = dcm_reader_open_fd(&rd, fd, offset, ts->deflated);
    if (rc == DCM_OK)
        rc = dcm_parse_reader(&rd, ts, opt, false, out, err);
    else
        reject(err, rc, "cannot set up the reader (out of memory)");
    dcm_reader_close(&rd);
    return rc;
}
