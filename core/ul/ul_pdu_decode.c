/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoders of the Upper Layer PDUs (PS3.8 section 9.3). Every length field
 * is checked against the bytes that enclose it before anything is read.
 * Strict where the standard is: fixed lengths, odd and unique presentation
 * context IDs, one abstract syntax, 1..64 transfer syntaxes, UIDs of at
 * most 64 characters. Lenient where peers deviate: item types we do not
 * know are skipped (PS3.8 9.3.1 requires that), UIDs may carry a trailing
 * NUL or space, AE titles may be padded with NULs, reserved fields are not
 * tested, the user information item may be missing.
 */
#include "ul/ul_pdu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounded view of the bytes being decoded. */
typedef struct span {
    const uint8_t *p;
    size_t len;
} span;

__attribute__((format(printf, 3, 4)))
static int fail(ul_decode_error *err, uint8_t reason, const char *fmt, ...)
{
    va_list ap;

    memset(err, 0, sizeof *err);
    err->abort_reason = reason;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int reject(ul_decode_error *err, uint8_t result, uint8_t source, uint8_t reason,
                  const char *message)
{
    memset(err, 0, sizeof *err);
    err->reject = true;
    err->rj.result = result;
    err->rj.source = source;
    err->rj.reason = reason;
    snprintf(err->message, sizeof err->message, "%s", message);
    return -1;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/*
 * Copies a UID of n bytes into dst after dropping trailing NULs and spaces.
 * Returns -1 when it is longer than 64 characters or contains a control
 * character.
 */
static int get_uid(ul_uid dst, const uint8_t *src, size_t n)
{
    while (n > 0 && (src[n - 1] == 0 || src[n - 1] == ' '))
        n--;
    if (n > UL_UID_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (src[i] < 0x20 || src[i] > 0x7e)
            return -1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Copies a 16-byte AE title without its leading and trailing padding. */
static void get_ae_title(char dst[UL_AE_TITLE_MAX + 1], const uint8_t *src)
{
    size_t start = 0;
    size_t end = UL_AE_TITLE_MAX;

    while (start < end && (src[start] == ' ' || src[start] == 0))
        start++;
    while (end > start && (src[end - 1] == ' ' || src[end - 1] == 0))
        end--;
    memcpy(dst, src + start, end - start);
    dst[end - start] = '\0';
}

static bool ae_title_valid(const char *ae)
{
    if (ae[0] == '\0')
        return false;
    for (const char *c = ae; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e || *c == '\\')
            return false;
    }
    return true;
}

/*
 * Reads the item header at *pos of s (type, reserved, 16-bit length) and
 * checks the item fits; sets *item to its content and advances *pos.
 */
static int next_item(span s, size_t *pos, uint8_t *type, uint8_t *second, span *item,
                     const char *where, ul_decode_error *err)
{
    if (s.len - *pos < 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "truncated item header at offset %zu of %s", *pos, where);

    const uint8_t *h = s.p + *pos;
    size_t n = get_u16(h + 2);
    if (n > s.len - *pos - 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "item %02XH of %s has length %zu, beyond the %zu bytes left", h[0],
                    where, n, s.len - *pos - 4);

    *type = h[0];
    *second = h[1];
    item->p = h + 4;
    item->len = n;
    *pos += 4 + n;
    return 0;
}

/* Reads a 16-bit length and a UID of that length at *pos of s. */
static int get_uid_field(span s, size_t *pos, ul_uid dst, const char *what,
                         ul_decode_error *err)
{
    if (s.len - *pos < 2)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER, "truncated %s length", what);

    size_t n = get_u16(s.p + *pos);
    *pos += 2;
    if (n > s.len - *pos)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s length %zu exceeds its sub-item", what, n);
    if (get_uid(dst, s.p + *pos, n) != 0)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s is longer than 64 characters or not printable", what);
    *pos += n;
    return 0;
}

static int get_uid_item(span item, ul_uid dst, const char *what, ul_decode_error *err)
{
    if (get_uid(dst, item.p, item.len) != 0)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s is longer than 64 characters or not printable", what);
    return 0;
}

static uint8_t *dup_bytes(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

static int out_of_memory(ul_decode_error *err)
{
    return fail(err, UL_ABORT_REASON_NOT_SPECIFIED, "out of memory while decoding");
}

/* Checks the PDU header: type, and a length that matches the data exactly. */
static int check_header(const uint8_t *pdu, size_t len, uint8_t type, ul_decode_error *err)
{
    if (len < UL_PDU_HEADER_LEN)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "truncated PDU header: %zu bytes", len);
    if (pdu[0] != type) {
        bool known = pdu[0] >= UL_PDU_ASSOC_RQ && pdu[0] <= UL_PDU_ABORT;
        return fail(err,
                    known ? UL_ABORT_REASON_UNEXPECTED_PDU
                          : UL_ABORT_REASON_UNRECOGNIZED_PDU,
                    "expected %s, got PDU type %02XH", ul_pdu_type_name(type), pdu[0]);
    }

    uint32_t n = get_u32(pdu + 2);
    if (n != len - UL_PDU_HEADER_LEN)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s length %u does not match the %zu bytes received",
                    ul_pdu_type_name(type), n, len - UL_PDU_HEADER_LEN);
    return 0;
}

static int decode_pctx_rq(span item, ul_assoc_rq *rq, bool seen[256], ul_decode_error *err)
{
    if (item.len < 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context item of %zu bytes", item.len);

    uint8_t id = item.p[0];
    if ((id & 1) == 0 || seen[id])
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context ID %u is even or repeated", id);
    if (rq->pctx_count >= UL_PCTX_MAX)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "more than %d presentation contexts", UL_PCTX_MAX);
    seen[id] = true;

    ul_pctx_rq *grown = realloc(rq->pctx, (rq->pctx_count + 1) * sizeof *grown);
    if (!grown)
        return out_of_memory(err);
    rq->pctx = grown;
    ul_pctx_rq *pc = &rq->pctx[rq->pctx_count++];
    memset(pc, 0, sizeof *pc);
    pc->id = id;

    bool have_abstract = false;
    span sub = {item.p + 4, item.len - 4};
    size_t pos = 0;
    while (pos < sub.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(sub, &pos, &type, &second, &v, "presentation context", err) != 0)
            return -1;

        if (type == 0x30) {
            if (have_abstract)
                return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                            "presentation context %u has two abstract syntaxes", id);
            if (get_uid_item(v, pc->abstract_syntax, "abstract syntax", err) != 0)
                return -1;
            have_abstract = true;
        } else if (type == 0x40) {
            if (pc->transfer_syntax_count >= UL_TS_PER_PCTX_MAX)
                return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                            "presentation context %u proposes more than %d transfer syntaxes",
                            id, UL_TS_PER_PCTX_MAX);
            ul_uid *ts = realloc(pc->transfer_syntaxes,
                                 (pc->transfer_syntax_count + 1) * sizeof *ts);
            if (!ts)
                return out_of_memory(err);
            pc->transfer_syntaxes = ts;
            if (get_uid_item(v, ts[pc->transfer_syntax_count], "transfer syntax", err) != 0)
                return -1;
            pc->transfer_syntax_count++;
        }
    }

    if (!have_abstract || pc->transfer_syntax_count == 0)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context %u lacks an abstract or transfer syntax", id);
    return 0;
}

static int decode_pctx_ac(span item, ul_assoc_ac *ac, bool seen[256], ul_decode_error *err)
{
    if (item.len < 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context item of %zu bytes", item.len);

    uint8_t id = item.p[0];
    uint8_t result = item.p[2];
    if (seen[id])
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context ID %u is repeated", id);
    if (result > UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "presentation context %u has result %u", id, result);
    seen[id] = true;

    ul_pctx_ac *grown = realloc(ac->pctx, (ac->pctx_count + 1) * sizeof *grown);
    if (!grown)
        return out_of_memory(err);
    ac->pctx = grown;
    ul_pctx_ac *pc = &ac->pctx[ac->pctx_count++];
    memset(pc, 0, sizeof *pc);
    pc->id = id;
    pc->result = result;

    bool have_ts = false;
    span sub = {item.p + 4, item.len - 4};
    size_t pos = 0;
    while (pos < sub.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(sub, &pos, &type, &second, &v, "presentation context", err) != 0)
            return -1;
        if (type != 0x40)
            continue;
        if (have_ts)
            return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                        "presentation context %u has two transfer syntaxes", id);
        have_ts = true;

        /* PS3.8 9.3.3.2: the value is not tested when the context is rejected. */
        if (get_uid(pc->transfer_syntax, v.p, v.len) != 0) {
            if (result == UL_PCTX_ACCEPTANCE)
                return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                            "transfer syntax of context %u is not a valid UID", id);
            pc->transfer_syntax[0] = '\0';
        }
    }

    if (result == UL_PCTX_ACCEPTANCE && (!have_ts || pc->transfer_syntax[0] == '\0'))
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "accepted presentation context %u lacks a transfer syntax", id);
    return 0;
}

/* Fields shared by the user information items of the RQ and the AC. */
typedef struct user_info_common {
    uint32_t *max_pdu_length;
    char *implementation_class_uid;
    char *implementation_version_name;
    ul_async_window *async_window;
    ul_role_selection **roles;
    size_t *role_count;
    ul_ext_neg **ext_neg;
    size_t *ext_neg_count;
} user_info_common;

static int decode_max_length(span v, uint32_t *out, ul_decode_error *err)
{
    if (v.len != 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "maximum length sub-item of %zu bytes", v.len);
    *out = get_u32(v.p);
    return 0;
}

static int decode_version_name(span v, char *out, ul_decode_error *err)
{
    if (v.len > UL_IMPL_VERSION_MAX)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "implementation version name of %zu bytes, maximum 16", v.len);

    /* Non-printable bytes are replaced so the name is safe to log. */
    for (size_t i = 0; i < v.len; i++)
        out[i] = (v.p[i] >= 0x20 && v.p[i] <= 0x7e) ? (char)v.p[i] : '?';
    out[v.len] = '\0';
    return 0;
}

static int decode_async_window(span v, ul_async_window *out, ul_decode_error *err)
{
    if (v.len != 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "asynchronous operations window sub-item of %zu bytes", v.len);
    out->present = true;
    out->invoked = get_u16(v.p);
    out->performed = get_u16(v.p + 2);
    return 0;
}

static int decode_role(span v, ul_role_selection **roles, size_t *count,
                       ul_decode_error *err)
{
    ul_role_selection r = {0};
    size_t pos = 0;

    if (*count >= UL_PCTX_MAX)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "more than %d role selection sub-items", UL_PCTX_MAX);
    if (get_uid_field(v, &pos, r.sop_class_uid, "role selection SOP class UID", err) != 0)
        return -1;
    if (v.len - pos != 2)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "role selection sub-item for %s has %zu bytes after the UID, expected 2",
                    r.sop_class_uid, v.len - pos);
    /* Values other than 0 and 1 are not defined; any non-zero means 1. */
    r.scu_role = v.p[pos] ? 1 : 0;
    r.scp_role = v.p[pos + 1] ? 1 : 0;

    ul_role_selection *grown = realloc(*roles, (*count + 1) * sizeof *grown);
    if (!grown)
        return out_of_memory(err);
    *roles = grown;
    grown[(*count)++] = r;
    return 0;
}

static int decode_ext_neg(span v, ul_ext_neg **items, size_t *count, ul_decode_error *err)
{
    ul_ext_neg e = {0};
    size_t pos = 0;

    if (*count >= UL_PCTX_MAX)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "more than %d SOP class extended negotiation sub-items", UL_PCTX_MAX);
    if (get_uid_field(v, &pos, e.sop_class_uid, "extended negotiation SOP class UID",
                      err) != 0)
        return -1;

    e.info_len = v.len - pos;
    e.info = dup_bytes(v.p + pos, e.info_len);
    if (!e.info)
        return out_of_memory(err);

    ul_ext_neg *grown = realloc(*items, (*count + 1) * sizeof *grown);
    if (!grown) {
        free(e.info);
        return out_of_memory(err);
    }
    *items = grown;
    grown[(*count)++] = e;
    return 0;
}

/* Decodes sub-items 51H..56H; returns 1 when the type is not one of them. */
static int decode_common_sub_item(uint8_t type, span v, const user_info_common *c,
                                  bool seen[256], ul_decode_error *err)
{
    bool single = type == 0x51 || type == 0x52 || type == 0x53 || type == 0x55;

    if (single && seen[type])
        return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                    "user information sub-item %02XH repeated", type);
    seen[type] = true;

    switch (type) {
    case 0x51:
        return decode_max_length(v, c->max_pdu_length, err);
    case 0x52:
        return get_uid_item(v, c->implementation_class_uid, "implementation class UID", err);
    case 0x53:
        return decode_async_window(v, c->async_window, err);
    case 0x54:
        return decode_role(v, c->roles, c->role_count, err);
    case 0x55:
        return decode_version_name(v, c->implementation_version_name, err);
    case 0x56:
        return decode_ext_neg(v, c->ext_neg, c->ext_neg_count, err);
    default:
        return 1;
    }
}

static int decode_common_ext_neg(span v, ul_user_info_rq *ui, ul_decode_error *err)
{
    ul_common_ext_neg e = {0};
    size_t pos = 0;

    if (ui->common_ext_neg_count >= UL_PCTX_MAX)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "more than %d SOP class common extended negotiation sub-items",
                    UL_PCTX_MAX);
    if (get_uid_field(v, &pos, e.sop_class_uid, "common extended negotiation SOP class UID",
                      err) != 0 ||
        get_uid_field(v, &pos, e.service_class_uid, "service class UID", err) != 0)
        return -1;
    if (v.len - pos < 2)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "truncated related general SOP class length");

    size_t related_len = get_u16(v.p + pos);
    pos += 2;
    if (related_len > v.len - pos)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "related general SOP class identification of %zu bytes exceeds its sub-item",
                    related_len);

    /* Fields after the related classes are reserved for later versions. */
    span related = {v.p + pos, related_len};
    size_t rpos = 0;
    int result = 0;
    while (rpos < related.len) {
        if (e.related_sop_class_count >= UL_TS_PER_PCTX_MAX) {
            result = fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                          "more than %d related general SOP classes", UL_TS_PER_PCTX_MAX);
            goto out;
        }
        ul_uid *grown = realloc(e.related_sop_classes,
                                (e.related_sop_class_count + 1) * sizeof *grown);
        if (!grown) {
            result = out_of_memory(err);
            goto out;
        }
        e.related_sop_classes = grown;
        if (get_uid_field(related, &rpos, grown[e.related_sop_class_count],
                          "related general SOP class UID", err) != 0) {
            result = -1;
            goto out;
        }
        e.related_sop_class_count++;
    }

    ul_common_ext_neg *items = realloc(ui->common_ext_neg,
                                       (ui->common_ext_neg_count + 1) * sizeof *items);
    if (!items) {
        result = out_of_memory(err);
        goto out;
    }
    ui->common_ext_neg = items;
    items[ui->common_ext_neg_count++] = e;
    return 0;

out:
    free(e.related_sop_classes);
    return result;
}

static int decode_user_identity_rq(span v, ul_user_identity_rq *id, ul_decode_error *err)
{
    if (id->present)
        return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                    "user identity sub-item repeated");
    if (v.len < 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "user identity sub-item of %zu bytes", v.len);

    uint8_t type = v.p[0];
    if (type < UL_USER_IDENTITY_USERNAME || type > UL_USER_IDENTITY_JWT)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER, "user identity type %u", type);

    size_t primary_len = get_u16(v.p + 2);
    if (primary_len > v.len - 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "user identity primary field of %zu bytes exceeds its sub-item",
                    primary_len);

    /* Some peers leave out the secondary field length unless they send a
     * passcode; a missing length is read as zero. */
    size_t pos = 4 + primary_len;
    size_t secondary_len = 0;
    if (v.len - pos >= 2) {
        secondary_len = get_u16(v.p + pos);
        pos += 2;
        if (secondary_len > v.len - pos)
            return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                        "user identity secondary field of %zu bytes exceeds its sub-item",
                        secondary_len);
    } else if (v.len != pos || type == UL_USER_IDENTITY_USERNAME_PASSCODE) {
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "user identity sub-item lacks the secondary field length");
    }

    id->primary = dup_bytes(v.p + 4, primary_len);
    id->secondary = dup_bytes(v.p + pos, secondary_len);
    if (!id->primary || !id->secondary) {
        free(id->primary);
        free(id->secondary);
        id->primary = id->secondary = NULL;
        return out_of_memory(err);
    }
    id->present = true;
    id->type = type;
    id->positive_response_requested = v.p[1] != 0;
    id->primary_len = primary_len;
    id->secondary_len = secondary_len;
    return 0;
}

static int decode_user_identity_ac(span v, ul_user_identity_ac *id, ul_decode_error *err)
{
    if (id->present)
        return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                    "user identity sub-item repeated");
    if (v.len < 2 || get_u16(v.p) != v.len - 2)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "user identity server response length does not match its sub-item");

    id->server_response = dup_bytes(v.p + 2, v.len - 2);
    if (!id->server_response)
        return out_of_memory(err);
    id->present = true;
    id->server_response_len = v.len - 2;
    return 0;
}

static int decode_user_info_rq(span item, ul_user_info_rq *ui, ul_decode_error *err)
{
    bool seen[256] = {false};
    user_info_common c = {&ui->max_pdu_length, ui->implementation_class_uid,
                          ui->implementation_version_name, &ui->async_window,
                          &ui->roles, &ui->role_count, &ui->ext_neg, &ui->ext_neg_count};
    size_t pos = 0;

    while (pos < item.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(item, &pos, &type, &second, &v, "user information", err) != 0)
            return -1;

        int r = decode_common_sub_item(type, v, &c, seen, err);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        if (type == 0x57 && decode_common_ext_neg(v, ui, err) != 0)
            return -1;
        if (type == 0x58 && decode_user_identity_rq(v, &ui->user_identity, err) != 0)
            return -1;
        /* Any other sub-item is skipped. */
    }
    return 0;
}

static int decode_user_info_ac(span item, ul_user_info_ac *ui, ul_decode_error *err)
{
    bool seen[256] = {false};
    user_info_common c = {&ui->max_pdu_length, ui->implementation_class_uid,
                          ui->implementation_version_name, &ui->async_window,
                          &ui->roles, &ui->role_count, &ui->ext_neg, &ui->ext_neg_count};
    size_t pos = 0;

    while (pos < item.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(item, &pos, &type, &second, &v, "user information", err) != 0)
            return -1;

        int r = decode_common_sub_item(type, v, &c, seen, err);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        if (type == 0x59 && decode_user_identity_ac(v, &ui->user_identity, err) != 0)
            return -1;
    }
    return 0;
}

/* Fixed part shared by RQ and AC: 68 bytes after the PDU header. */
static int decode_assoc_fixed(const uint8_t *pdu, size_t len, uint8_t type,
                              uint16_t *version, char *called, char *calling,
                              ul_decode_error *err)
{
    if (check_header(pdu, len, type, err) != 0)
        return -1;
    if (len < UL_PDU_HEADER_LEN + 68)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s of %zu bytes is shorter than its fixed fields",
                    ul_pdu_type_name(type), len);

    *version = get_u16(pdu + 6);
    get_ae_title(called, pdu + 10);
    get_ae_title(calling, pdu + 26);
    return 0;
}

static int decode_rq_items(span body, ul_assoc_rq *rq, ul_decode_error *err)
{
    bool seen_pctx[256] = {false};
    bool have_context = false;
    bool have_user_info = false;
    size_t pos = 0;

    while (pos < body.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(body, &pos, &type, &second, &v, "A-ASSOCIATE-RQ", err) != 0)
            return -1;

        switch (type) {
        case 0x10:
            if (have_context)
                return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                            "application context item repeated");
            if (get_uid_item(v, rq->application_context, "application context name", err))
                return -1;
            have_context = true;
            break;
        case 0x20:
            if (decode_pctx_rq(v, rq, seen_pctx, err) != 0)
                return -1;
            break;
        case 0x50:
            if (have_user_info)
                return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                            "user information item repeated");
            if (decode_user_info_rq(v, &rq->user_info, err) != 0)
                return -1;
            have_user_info = true;
            break;
        case 0x21:
            return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                        "A-ASSOCIATE-RQ carries an A-ASSOCIATE-AC presentation context item");
        default:
            break;
        }
    }

    if (!have_context || rq->application_context[0] == '\0')
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "A-ASSOCIATE-RQ lacks an application context name");
    if (rq->pctx_count == 0)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "A-ASSOCIATE-RQ proposes no presentation context");
    return 0;
}

int ul_decode_assoc_rq(const uint8_t *pdu, size_t len, ul_assoc_rq *out,
                       ul_decode_error *err)
{
    memset(out, 0, sizeof *out);
    if (decode_assoc_fixed(pdu, len, UL_PDU_ASSOC_RQ, &out->protocol_version,
                           out->called_ae, out->calling_ae, err) != 0)
        return -1;

    /* Later versions may lay out the rest differently: reject before parsing. */
    if ((out->protocol_version & UL_PROTOCOL_VERSION) == 0)
        return reject(err, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_PROVIDER_ACSE,
                      UL_REJECT_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED,
                      "protocol version not supported");

    span body = {pdu + UL_PDU_HEADER_LEN + 68, len - UL_PDU_HEADER_LEN - 68};
    if (decode_rq_items(body, out, err) != 0)
        goto fail;

    if (!ae_title_valid(out->called_ae)) {
        reject(err, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
               UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED,
               "called AE title is blank or holds invalid characters");
        goto fail;
    }
    if (!ae_title_valid(out->calling_ae)) {
        reject(err, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
               UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED,
               "calling AE title is blank or holds invalid characters");
        goto fail;
    }
    return 0;

fail:
    ul_assoc_rq_free(out);
    return -1;
}

static int decode_ac_items(span body, ul_assoc_ac *ac, ul_decode_error *err)
{
    bool seen_pctx[256] = {false};
    bool have_context = false;
    bool have_user_info = false;
    size_t pos = 0;

    while (pos < body.len) {
        uint8_t type = 0, second = 0;
        span v = {NULL, 0};
        if (next_item(body, &pos, &type, &second, &v, "A-ASSOCIATE-AC", err) != 0)
            return -1;

        switch (type) {
        case 0x10:
            if (have_context)
                return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                            "application context item repeated");
            if (get_uid_item(v, ac->application_context, "application context name", err))
                return -1;
            have_context = true;
            break;
        case 0x21:
            if (decode_pctx_ac(v, ac, seen_pctx, err) != 0)
                return -1;
            break;
        case 0x50:
            if (have_user_info)
                return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                            "user information item repeated");
            if (decode_user_info_ac(v, &ac->user_info, err) != 0)
                return -1;
            have_user_info = true;
            break;
        case 0x20:
            return fail(err, UL_ABORT_REASON_UNEXPECTED_PARAMETER,
                        "A-ASSOCIATE-AC carries an A-ASSOCIATE-RQ presentation context item");
        default:
            break;
        }
    }
    return 0;
}

int ul_decode_assoc_ac(const uint8_t *pdu, size_t len, ul_assoc_ac *out,
                       ul_decode_error *err)
{
    memset(out, 0, sizeof *out);
    if (decode_assoc_fixed(pdu, len, UL_PDU_ASSOC_AC, &out->protocol_version,
                           out->called_ae, out->calling_ae, err) != 0)
        return -1;

    span body = {pdu + UL_PDU_HEADER_LEN + 68, len - UL_PDU_HEADER_LEN - 68};
    if (decode_ac_items(body, out, err) != 0) {
        ul_assoc_ac_free(out);
        return -1;
    }
    return 0;
}

/* The fixed-length PDUs: header plus exactly four bytes. */
static int check_short_pdu(const uint8_t *pdu, size_t len, uint8_t type,
                           ul_decode_error *err)
{
    if (check_header(pdu, len, type, err) != 0)
        return -1;
    if (len != UL_PDU_HEADER_LEN + 4)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "%s of length %zu, expected 4", ul_pdu_type_name(type),
                    len - UL_PDU_HEADER_LEN);
    return 0;
}

int ul_decode_assoc_rj(const uint8_t *pdu, size_t len, ul_assoc_rj *out,
                       ul_decode_error *err)
{
    if (check_short_pdu(pdu, len, UL_PDU_ASSOC_RJ, err) != 0)
        return -1;

    out->result = pdu[7];
    out->source = pdu[8];
    out->reason = pdu[9];
    if (out->result < 1 || out->result > 2 || out->source < 1 || out->source > 3)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "A-ASSOCIATE-RJ with result %u and source %u", out->result,
                    out->source);
    return 0;
}

int ul_decode_abort(const uint8_t *pdu, size_t len, ul_abort_info *out,
                    ul_decode_error *err)
{
    if (check_short_pdu(pdu, len, UL_PDU_ABORT, err) != 0)
        return -1;

    /* Source and reason are reported as received, even reserved values. */
    out->source = pdu[8];
    out->reason = pdu[9];
    return 0;
}

int ul_decode_release(const uint8_t *pdu, size_t len, ul_decode_error *err)
{
    uint8_t type = len > 0 ? pdu[0] : 0;

    if (type != UL_PDU_RELEASE_RP)
        type = UL_PDU_RELEASE_RQ;
    return check_short_pdu(pdu, len, type, err);
}

int ul_decode_p_data_check(const uint8_t *pdu, size_t len, uint32_t max_pdu_length,
                           const bool pctx_accepted[256], ul_decode_error *err)
{
    if (check_header(pdu, len, UL_PDU_P_DATA_TF, err) != 0)
        return -1;

    size_t body_len = len - UL_PDU_HEADER_LEN;
    if (max_pdu_length != 0 && body_len > max_pdu_length)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                    "P-DATA-TF of %zu bytes exceeds the negotiated maximum of %u",
                    body_len, max_pdu_length);
    if (body_len == 0)
        return fail(err, UL_ABORT_REASON_INVALID_PARAMETER, "P-DATA-TF without a PDV");

    const uint8_t *p = pdu + UL_PDU_HEADER_LEN;
    size_t pos = 0;
    while (pos < body_len) {
        if (body_len - pos < 4)
            return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                        "truncated PDV item length at offset %zu", pos);

        uint32_t item_len = get_u32(p + pos);
        if (item_len > body_len - pos - 4)
            return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                        "PDV item of length %u exceeds the %zu bytes left in the P-DATA-TF",
                        item_len, body_len - pos - 4);
        if (item_len <= 2)
            return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                        "PDV item of length %u carries no data", item_len);

        uint8_t id = p[pos + 4];
        if (pctx_accepted && !pctx_accepted[id])
            return fail(err, UL_ABORT_REASON_INVALID_PARAMETER,
                        "PDV for presentation context %u, which is not accepted", id);
        pos += 4 + (size_t)item_len;
    }
    return 0;
}

bool ul_p_data_next(const uint8_t *pdu, size_t len, size_t *offset, ul_pdv *pdv)
{
    size_t pos = UL_PDU_HEADER_LEN + *offset;

    if (len < UL_PDU_HEADER_LEN || pos + 6 > len)
        return false;

    size_t item_len = get_u32(pdu + pos);
    if (item_len < 2 || item_len > len - pos - 4)
        return false;
    pdv->pctx_id = pdu[pos + 4];
    pdv->command = (pdu[pos + 5] & 1) != 0;
    pdv->last = (pdu[pos + 5] & 2) != 0;
    pdv->data = pdu + pos + 6;
    pdv->len = item_len - 2;
    *offset += 4 + item_len;
    return true;
}
