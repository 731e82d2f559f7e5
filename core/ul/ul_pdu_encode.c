/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoders of the Upper Layer PDUs (PS3.8 section 9.3). Items and sub-items
 * are written into a growing buffer; their 16-bit length fields are patched
 * once the content is known. An encoder refuses values the standard does
 * not allow, so a PDU we send never needs the peer's leniency.
 */
#include "ul/ul_pdu.h"

#include <stdlib.h>
#include <string.h>

/* A growing output buffer; after a failure every write is ignored. */
typedef struct wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed;
} wbuf;

static bool wbuf_reserve(wbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra <= b->cap)
        return true;

    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void put_bytes(wbuf *b, const void *src, size_t n)
{
    if (n == 0 || !wbuf_reserve(b, n))
        return;
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static void put_u8(wbuf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_u16(wbuf *b, uint16_t v)
{
    uint8_t be[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(b, be, 2);
}

static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                     (uint8_t)v};
    put_bytes(b, be, 4);
}

/* Starts an item with a 16-bit length; returns where the length goes. */
static size_t item_begin(wbuf *b, uint8_t type, uint8_t second_byte)
{
    put_u8(b, type);
    put_u8(b, second_byte);
    size_t at = b->len;
    put_u16(b, 0);
    return at;
}

static void item_end(wbuf *b, size_t length_at)
{
    if (b->failed)
        return;

    size_t n = b->len - length_at - 2;
    if (n > 0xffff) {
        b->failed = true;
        return;
    }
    b->data[length_at] = (uint8_t)(n >> 8);
    b->data[length_at + 1] = (uint8_t)n;
}

static bool uid_ok(const char *uid)
{
    size_t n = strnlen(uid, UL_UID_MAX + 1);
    return n > 0 && n <= UL_UID_MAX;
}

/* A UID sub-item (application context 10H, abstract 30H, transfer 40H...). */
static void put_uid_item(wbuf *b, uint8_t type, const char *uid)
{
    if (!uid_ok(uid)) {
        b->failed = true;
        return;
    }
    size_t at = item_begin(b, type, 0);
    put_bytes(b, uid, strlen(uid));
    item_end(b, at);
}

/* A UID preceded by its 16-bit length, as inside sub-items 54H..57H. */
static void put_uid_field(wbuf *b, const char *uid)
{
    if (!uid_ok(uid)) {
        b->failed = true;
        return;
    }
    put_u16(b, (uint16_t)strlen(uid));
    put_bytes(b, uid, strlen(uid));
}

static void put_ae_title(wbuf *b, const char *ae)
{
    size_t n = strnlen(ae, UL_AE_TITLE_MAX + 1);
    if (n == 0 || n > UL_AE_TITLE_MAX || strspn(ae, " ") == n) {
        b->failed = true;
        return;
    }
    char padded[UL_AE_TITLE_MAX];
    memset(padded, ' ', sizeof padded);
    memcpy(padded, ae, n);
    put_bytes(b, padded, sizeof padded);
}

/* Protocol version, reserved, called and calling AE, 32 reserved bytes. */
static void put_assoc_header(wbuf *b, uint16_t version, const char *called,
                             const char *calling)
{
    static const uint8_t zeros[32];

    put_u16(b, version);
    put_u16(b, 0);
    put_ae_title(b, called);
    put_ae_title(b, calling);
    put_bytes(b, zeros, sizeof zeros);
}

static void put_common_user_info(wbuf *b, uint32_t max_pdu, const char *impl_uid,
                                 const char *impl_version,
                                 const ul_async_window *async,
                                 const ul_role_selection *roles, size_t role_count)
{
    if (max_pdu) {
        size_t at = item_begin(b, 0x51, 0);
        put_u32(b, max_pdu);
        item_end(b, at);
    }
    if (impl_uid[0])
        put_uid_item(b, 0x52, impl_uid);
    if (async->present) {
        size_t at = item_begin(b, 0x53, 0);
        put_u16(b, async->invoked);
        put_u16(b, async->performed);
        item_end(b, at);
    }
    for (size_t i = 0; i < role_count; i++) {
        size_t at = item_begin(b, 0x54, 0);
        put_uid_field(b, roles[i].sop_class_uid);
        put_u8(b, roles[i].scu_role ? 1 : 0);
        put_u8(b, roles[i].scp_role ? 1 : 0);
        item_end(b, at);
    }
    size_t version_len = strnlen(impl_version, UL_IMPL_VERSION_MAX + 1);
    if (version_len > UL_IMPL_VERSION_MAX) {
        b->failed = true;
    } else if (version_len > 0) {
        size_t at = item_begin(b, 0x55, 0);
        put_bytes(b, impl_version, version_len);
        item_end(b, at);
    }
}

static void put_ext_neg(wbuf *b, const ul_ext_neg *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t at = item_begin(b, 0x56, 0);
        put_uid_field(b, items[i].sop_class_uid);
        put_bytes(b, items[i].info, items[i].info_len);
        item_end(b, at);
    }
}

static void put_common_ext_neg(wbuf *b, const ul_common_ext_neg *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        /* Sub-item version 0 sits in the second byte. */
        size_t at = item_begin(b, 0x57, 0);
        put_uid_field(b, items[i].sop_class_uid);
        put_uid_field(b, items[i].service_class_uid);
        size_t related_at = b->len;
        put_u16(b, 0);
        for (size_t j = 0; j < items[i].related_sop_class_count; j++)
            put_uid_field(b, items[i].related_sop_classes[j]);
        item_end(b, related_at);
        item_end(b, at);
    }
}

static void put_user_identity_rq(wbuf *b, const ul_user_identity_rq *id)
{
    if (!id->present)
        return;
    if (id->type < 1 || id->type > 5 || id->primary_len > 0xffff ||
        id->secondary_len > 0xffff) {
        b->failed = true;
        return;
    }

    size_t at = item_begin(b, 0x58, 0);
    put_u8(b, id->type);
    put_u8(b, id->positive_response_requested ? 1 : 0);
    put_u16(b, (uint16_t)id->primary_len);
    put_bytes(b, id->primary, id->primary_len);
    put_u16(b, (uint16_t)id->secondary_len);
    put_bytes(b, id->secondary, id->secondary_len);
    item_end(b, at);
}

static void put_user_identity_ac(wbuf *b, const ul_user_identity_ac *id)
{
    if (!id->present)
        return;
    if (id->server_response_len > 0xffff) {
        b->failed = true;
        return;
    }

    size_t at = item_begin(b, 0x59, 0);
    put_u16(b, (uint16_t)id->server_response_len);
    put_bytes(b, id->server_response, id->server_response_len);
    item_end(b, at);
}

/* Starts a PDU; the 32-bit length is patched by pdu_finish(). */
static void pdu_begin(wbuf *b, uint8_t type)
{
    put_u8(b, type);
    put_u8(b, 0);
    put_u32(b, 0);
}

static int pdu_finish(wbuf *b, uint8_t **out, size_t *len)
{
    if (b->failed || b->len - UL_PDU_HEADER_LEN > 0xffffffffu) {
        free(b->data);
        *out = NULL;
        *len = 0;
        return -1;
    }

    uint32_t n = (uint32_t)(b->len - UL_PDU_HEADER_LEN);
    b->data[2] = (uint8_t)(n >> 24);
    b->data[3] = (uint8_t)(n >> 16);
    b->data[4] = (uint8_t)(n >> 8);
    b->data[5] = (uint8_t)n;
    *out = b->data;
    *len = b->len;
    return 0;
}

static bool pctx_id_ok(uint8_t id, bool seen[256])
{
    if ((id & 1) == 0 || seen[id])
        return false;
    seen[id] = true;
    return true;
}

int ul_encode_assoc_rq(const ul_assoc_rq *rq, uint8_t **out, size_t *len)
{
    wbuf b = {0};
    bool seen[256] = {false};

    pdu_begin(&b, UL_PDU_ASSOC_RQ);
    put_assoc_header(&b, rq->protocol_version, rq->called_ae, rq->calling_ae);
    put_uid_item(&b, 0x10, rq->application_context);

    if (rq->pctx_count == 0 || rq->pctx_count > UL_PCTX_MAX)
        b.failed = true;
    for (size_t i = 0; i < rq->pctx_count && !b.failed; i++) {
        const ul_pctx_rq *pc = &rq->pctx[i];

        if (!pctx_id_ok(pc->id, seen) || pc->transfer_syntax_count == 0 ||
            pc->transfer_syntax_count > UL_TS_PER_PCTX_MAX) {
            b.failed = true;
            break;
        }
        size_t at = item_begin(&b, 0x20, 0);
        put_u8(&b, pc->id);
        put_u8(&b, 0);
        put_u8(&b, 0);
        put_u8(&b, 0);
        put_uid_item(&b, 0x30, pc->abstract_syntax);
        for (size_t j = 0; j < pc->transfer_syntax_count; j++)
            put_uid_item(&b, 0x40, pc->transfer_syntaxes[j]);
        item_end(&b, at);
    }

    const ul_user_info_rq *ui = &rq->user_info;
    size_t at = item_begin(&b, 0x50, 0);
    put_common_user_info(&b, ui->max_pdu_length, ui->implementation_class_uid,
                         ui->implementation_version_name, &ui->async_window,
                         ui->roles, ui->role_count);
    put_ext_neg(&b, ui->ext_neg, ui->ext_neg_count);
    put_common_ext_neg(&b, ui->common_ext_neg, ui->common_ext_neg_count);
    put_user_identity_rq(&b, &ui->user_identity);
    item_end(&b, at);

    return pdu_finish(&b, out, len);
}

int ul_encode_assoc_ac(const ul_assoc_ac *ac, uint8_t **out, size_t *len)
{
    wbuf b = {0};
    bool seen[256] = {false};

    pdu_begin(&b, UL_PDU_ASSOC_AC);
    put_assoc_header(&b, ac->protocol_version, ac->called_ae, ac->calling_ae);
    put_uid_item(&b, 0x10, ac->application_context);

    if (ac->pctx_count > UL_PCTX_MAX)
        b.failed = true;
    for (size_t i = 0; i < ac->pctx_count && !b.failed; i++) {
        const ul_pctx_ac *pc = &ac->pctx[i];

        if (!pctx_id_ok(pc->id, seen) || pc->result > UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED) {
            b.failed = true;
            break;
        }
        size_t at = item_begin(&b, 0x21, 0);
        put_u8(&b, pc->id);
        put_u8(&b, 0);
        put_u8(&b, pc->result);
        put_u8(&b, 0);
        /* The transfer syntax sub-item is always sent; PS3.8 says its value
         * is not tested when the context is rejected. */
        if (pc->result == UL_PCTX_ACCEPTANCE) {
            put_uid_item(&b, 0x40, pc->transfer_syntax);
        } else {
            size_t ts_at = item_begin(&b, 0x40, 0);
            put_bytes(&b, pc->transfer_syntax, strnlen(pc->transfer_syntax, UL_UID_MAX));
            item_end(&b, ts_at);
        }
        item_end(&b, at);
    }

    const ul_user_info_ac *ui = &ac->user_info;
    size_t at = item_begin(&b, 0x50, 0);
    put_common_user_info(&b, ui->max_pdu_length, ui->implementation_class_uid,
                         ui->implementation_version_name, &ui->async_window,
                         ui->roles, ui->role_count);
    put_ext_neg(&b, ui->ext_neg, ui->ext_neg_count);
    put_user_identity_ac(&b, &ui->user_identity);
    item_end(&b, at);

    return pdu_finish(&b, out, len);
}

/* The four fixed-length PDUs: header, length 4, then four bytes. */
static void put_short_pdu(uint8_t buf[10], uint8_t type, uint8_t b7, uint8_t b8,
                          uint8_t b9, uint8_t b10)
{
    const uint8_t pdu[10] = {type, 0, 0, 0, 0, 4, b7, b8, b9, b10};
    memcpy(buf, pdu, sizeof pdu);
}

int ul_encode_assoc_rj(const ul_assoc_rj *rj, uint8_t buf[10])
{
    if (rj->result < 1 || rj->result > 2 || rj->source < 1 || rj->source > 3)
        return -1;
    put_short_pdu(buf, UL_PDU_ASSOC_RJ, 0, rj->result, rj->source, rj->reason);
    return 0;
}

void ul_encode_release_rq(uint8_t buf[10])
{
    put_short_pdu(buf, UL_PDU_RELEASE_RQ, 0, 0, 0, 0);
}

void ul_encode_release_rp(uint8_t buf[10])
{
    put_short_pdu(buf, UL_PDU_RELEASE_RP, 0, 0, 0, 0);
}

void ul_encode_abort(uint8_t source, uint8_t reason, uint8_t buf[10])
{
    put_short_pdu(buf, UL_PDU_ABORT, 0, 0, source, reason);
}

int ul_encode_p_data(const ul_pdv *pdvs, size_t count, uint8_t **out, size_t *len)
{
    wbuf b = {0};

    pdu_begin(&b, UL_PDU_P_DATA_TF);
    for (size_t i = 0; i < count; i++) {
        if (pdvs[i].len == 0 || pdvs[i].len > 0xffffffffu - 2) {
            b.failed = true;
            break;
        }
        put_u32(&b, (uint32_t)(pdvs[i].len + 2));
        put_u8(&b, pdvs[i].pctx_id);
        put_u8(&b, (uint8_t)((pdvs[i].command ? 1 : 0) | (pdvs[i].last ? 2 : 0)));
        put_bytes(&b, pdvs[i].data, pdvs[i].len);
    }
    return pdu_finish(&b, out, len);
}

const char *ul_pdu_type_name(uint8_t type)
{
    switch (type) {
    case UL_PDU_ASSOC_RQ:
        return "A-ASSOCIATE-RQ";
    case UL_PDU_ASSOC_AC:
        return "A-ASSOCIATE-AC";
    case UL_PDU_ASSOC_RJ:
        return "A-ASSOCIATE-RJ";
    case UL_PDU_P_DATA_TF:
        return "P-DATA-TF";
    case UL_PDU_RELEASE_RQ:
        return "A-RELEASE-RQ";
    case UL_PDU_RELEASE_RP:
        return "A-RELEASE-RP";
    case UL_PDU_ABORT:
        return "A-ABORT";
    default:
        return "unknown";
    }
}
