/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the Upper Layer PDU codec: every PDU type and user information
 * sub-item survives encode then decode, and a table of malformed PDUs
 * each produces the A-ABORT reason or A-ASSOCIATE-RJ that PS3.8 calls for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ul/ul_pdu.h"

#define VERIFICATION "1.2.840.10008.1.1"
#define CT_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"

static void build_rq(ul_assoc_rq *rq)
{
    static const char *const ts[] = {EXPLICIT_LE, IMPLICIT_LE};
    static const uint8_t info[] = {1, 0, 1};
    static uint8_t user[] = "alice";
    static uint8_t pass[] = "secret";

    memset(rq, 0, sizeof *rq);
    rq->protocol_version = UL_PROTOCOL_VERSION;
    strcpy(rq->called_ae, "CAIRN");
    strcpy(rq->calling_ae, "MODALITY_01");
    strcpy(rq->application_context, UL_DICOM_APPLICATION_CONTEXT);
    assert_int_equal(ul_assoc_rq_add_pctx(rq, 1, VERIFICATION, ts + 1, 1), 0);
    assert_int_equal(ul_assoc_rq_add_pctx(rq, 3, CT_STORAGE, ts, 2), 0);

    ul_user_info_rq *ui = &rq->user_info;
    ui->max_pdu_length = 16384;
    strcpy(ui->implementation_class_uid, "1.2.826.0.1.3680043.9.7433.1");
    strcpy(ui->implementation_version_name, "CAIRN_010");
    ui->async_window = (ul_async_window){true, 5, 3};
    assert_int_equal(ul_assoc_rq_add_role(rq, CT_STORAGE, false, true), 0);

    ui->ext_neg = calloc(1, sizeof *ui->ext_neg);
    ui->ext_neg_count = 1;
    strcpy(ui->ext_neg[0].sop_class_uid, CT_STORAGE);
    ui->ext_neg[0].info = malloc(sizeof info);
    memcpy(ui->ext_neg[0].info, info, sizeof info);
    ui->ext_neg[0].info_len = sizeof info;

    ui->common_ext_neg = calloc(1, sizeof *ui->common_ext_neg);
    ui->common_ext_neg_count = 1;
    strcpy(ui->common_ext_neg[0].sop_class_uid, CT_STORAGE);
    strcpy(ui->common_ext_neg[0].service_class_uid, "1.2.840.10008.4.2");
    ui->common_ext_neg[0].related_sop_classes = calloc(2, sizeof(ul_uid));
    strcpy(ui->common_ext_neg[0].related_sop_classes[0], "1.2.840.10008.5.1.4.1.1.2.1");
    strcpy(ui->common_ext_neg[0].related_sop_classes[1], "1.2.840.10008.5.1.4.1.1.2.2");
    ui->common_ext_neg[0].related_sop_class_count = 2;

    ui->user_identity.present = true;
    ui->user_identity.type = UL_USER_IDENTITY_USERNAME_PASSCODE;
    ui->user_identity.positive_response_requested = true;
    ui->user_identity.primary = malloc(5);
    memcpy(ui->user_identity.primary, user, 5);
    ui->user_identity.primary_len = 5;
    ui->user_identity.secondary = malloc(6);
    memcpy(ui->user_identity.secondary, pass, 6);
    ui->user_identity.secondary_len = 6;
}

static void test_assoc_rq_round_trip(void **state)
{
    ul_assoc_rq rq, back;
    ul_decode_error err;
    uint8_t *pdu;
    size_t len;

    build_rq(&rq);
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), 0);
    assert_int_equal(pdu[0], UL_PDU_ASSOC_RQ);
    assert_int_equal(ul_decode_assoc_rq(pdu, len, &back, &err), 0);

    assert_int_equal(back.protocol_version, 1);
    assert_string_equal(back.called_ae, "CAIRN");
    assert_string_equal(back.calling_ae, "MODALITY_01");
    assert_string_equal(back.application_context, UL_DICOM_APPLICATION_CONTEXT);
    assert_int_equal(back.pctx_count, 2);
    assert_int_equal(back.pctx[0].id, 1);
    assert_string_equal(back.pctx[0].abstract_syntax, VERIFICATION);
    assert_int_equal(back.pctx[0].transfer_syntax_count, 1);
    assert_string_equal(back.pctx[0].transfer_syntaxes[0], IMPLICIT_LE);
    assert_int_equal(back.pctx[1].id, 3);
    assert_int_equal(back.pctx[1].transfer_syntax_count, 2);
    assert_string_equal(back.pctx[1].transfer_syntaxes[0], EXPLICIT_LE);
    assert_string_equal(back.pctx[1].transfer_syntaxes[1], IMPLICIT_LE);

    const ul_user_info_rq *ui = &back.user_info;
    assert_int_equal(ui->max_pdu_length, 16384);
    assert_string_equal(ui->implementation_class_uid, "1.2.826.0.1.3680043.9.7433.1");
    assert_string_equal(ui->implementation_version_name, "CAIRN_010");
    assert_true(ui->async_window.present);
    assert_int_equal(ui->async_window.invoked, 5);
    assert_int_equal(ui->async_window.performed, 3);
    assert_int_equal(ui->role_count, 1);
    assert_string_equal(ui->roles[0].sop_class_uid, CT_STORAGE);
    assert_int_equal(ui->roles[0].scu_role, 0);
    assert_int_equal(ui->roles[0].scp_role, 1);
    assert_int_equal(ui->ext_neg_count, 1);
    assert_int_equal(ui->ext_neg[0].info_len, 3);
    assert_memory_equal(ui->ext_neg[0].info, rq.user_info.ext_neg[0].info, 3);
    assert_int_equal(ui->common_ext_neg_count, 1);
    assert_string_equal(ui->common_ext_neg[0].service_class_uid, "1.2.840.10008.4.2");
    assert_int_equal(ui->common_ext_neg[0].related_sop_class_count, 2);
    assert_string_equal(ui->common_ext_neg[0].related_sop_classes[1],
                        "1.2.840.10008.5.1.4.1.1.2.2");
    assert_true(ui->user_identity.present);
    assert_int_equal(ui->user_identity.type, 2);
    assert_true(ui->user_identity.positive_response_requested);
    assert_int_equal(ui->user_identity.primary_len, 5);
    assert_memory_equal(ui->user_identity.primary, "alice", 5);
    assert_int_equal(ui->user_identity.secondary_len, 6);
    assert_memory_equal(ui->user_identity.secondary, "secret", 6);

    /* Encoding the decoded copy gives the same bytes. */
    uint8_t *again;
    size_t again_len;
    assert_int_equal(ul_encode_assoc_rq(&back, &again, &again_len), 0);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, pdu, len);

    free(again);
    free(pdu);
    ul_assoc_rq_free(&back);
    ul_assoc_rq_free(&rq);
}

static void test_assoc_ac_round_trip(void **state)
{
    ul_assoc_ac ac = {0}, back;
    ul_decode_error err;
    uint8_t *pdu;
    size_t len;

    ac.protocol_version = 1;
    strcpy(ac.called_ae, "CAIRN");
    strcpy(ac.calling_ae, "MODALITY_01");
    strcpy(ac.application_context, UL_DICOM_APPLICATION_CONTEXT);
    assert_int_equal(ul_assoc_ac_add_pctx(&ac, 1, UL_PCTX_ACCEPTANCE, IMPLICIT_LE), 0);
    assert_int_equal(ul_assoc_ac_add_pctx(&ac, 3, UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED, ""),
                     0);
    ac.user_info.max_pdu_length = 0;
    strcpy(ac.user_info.implementation_class_uid, "1.2.3.4");
    strcpy(ac.user_info.implementation_version_name, "V1");
    ac.user_info.async_window = (ul_async_window){true, 1, 1};
    assert_int_equal(ul_assoc_ac_add_role(&ac, CT_STORAGE, true, false), 0);
    ac.user_info.ext_neg = calloc(1, sizeof *ac.user_info.ext_neg);
    ac.user_info.ext_neg_count = 1;
    strcpy(ac.user_info.ext_neg[0].sop_class_uid, CT_STORAGE);
    ac.user_info.ext_neg[0].info = malloc(1);
    ac.user_info.ext_neg[0].info[0] = 1;
    ac.user_info.ext_neg[0].info_len = 1;
    ac.user_info.user_identity.present = true;
    ac.user_info.user_identity.server_response = malloc(4);
    memcpy(ac.user_info.user_identity.server_response, "tick", 4);
    ac.user_info.user_identity.server_response_len = 4;

    assert_int_equal(ul_encode_assoc_ac(&ac, &pdu, &len), 0);
    assert_int_equal(ul_decode_assoc_ac(pdu, len, &back, &err), 0);

    assert_string_equal(back.called_ae, "CAIRN");
    assert_int_equal(back.pctx_count, 2);
    assert_int_equal(back.pctx[0].result, 0);
    assert_string_equal(back.pctx[0].transfer_syntax, IMPLICIT_LE);
    assert_int_equal(back.pctx[1].id, 3);
    assert_int_equal(back.pctx[1].result, 3);
    assert_int_equal(back.user_info.max_pdu_length, 0);
    assert_string_equal(back.user_info.implementation_class_uid, "1.2.3.4");
    assert_string_equal(back.user_info.implementation_version_name, "V1");
    assert_true(back.user_info.async_window.present);
    assert_int_equal(back.user_info.role_count, 1);
    assert_int_equal(back.user_info.roles[0].scu_role, 1);
    assert_int_equal(back.user_info.roles[0].scp_role, 0);
    assert_int_equal(back.user_info.ext_neg_count, 1);
    assert_int_equal(back.user_info.ext_neg[0].info[0], 1);
    assert_true(back.user_info.user_identity.present);
    assert_int_equal(back.user_info.user_identity.server_response_len, 4);
    assert_memory_equal(back.user_info.user_identity.server_response, "tick", 4);

    free(pdu);
    ul_assoc_ac_free(&back);
    ul_assoc_ac_free(&ac);
}

static void test_short_pdus_round_trip(void **state)
{
    uint8_t buf[10];
    ul_decode_error err;
    ul_assoc_rj rj = {UL_REJECT_TRANSIENT, UL_REJECT_SOURCE_PROVIDER_PRESENTATION, 1}, rj_back;
    ul_abort_info ab;

    assert_int_equal(ul_encode_assoc_rj(&rj, buf), 0);
    assert_int_equal(ul_decode_assoc_rj(buf, sizeof buf, &rj_back, &err), 0);
    assert_int_equal(rj_back.result, 2);
    assert_int_equal(rj_back.source, 3);
    assert_int_equal(rj_back.reason, 1);

    ul_encode_abort(UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_INVALID_PARAMETER, buf);
    assert_int_equal(ul_decode_abort(buf, sizeof buf, &ab, &err), 0);
    assert_int_equal(ab.source, 2);
    assert_int_equal(ab.reason, 6);

    ul_encode_release_rq(buf);
    assert_int_equal(buf[0], UL_PDU_RELEASE_RQ);
    assert_int_equal(ul_decode_release(buf, sizeof buf, &err), 0);
    ul_encode_release_rp(buf);
    assert_int_equal(buf[0], UL_PDU_RELEASE_RP);
    assert_int_equal(ul_decode_release(buf, sizeof buf, &err), 0);
}

static void test_p_data_round_trip(void **state)
{
    const uint8_t cmd[] = {1, 2, 3, 4};
    const uint8_t data[] = {9, 8, 7};
    ul_pdv pdvs[2] = {{1, true, true, cmd, sizeof cmd}, {1, false, false, data, sizeof data}};
    ul_decode_error err;
    uint8_t *pdu;
    size_t len;
    size_t offset = 0;
    ul_pdv got;

    assert_int_equal(ul_encode_p_data(pdvs, 2, &pdu, &len), 0);
    assert_int_equal(ul_decode_p_data_check(pdu, len, 16384, NULL, &err), 0);

    assert_true(ul_p_data_next(pdu, len, &offset, &got));
    assert_int_equal(got.pctx_id, 1);
    assert_true(got.command);
    assert_true(got.last);
    assert_int_equal(got.len, 4);
    assert_memory_equal(got.data, cmd, 4);
    assert_true(ul_p_data_next(pdu, len, &offset, &got));
    assert_false(got.command);
    assert_false(got.last);
    assert_memory_equal(got.data, data, 3);
    assert_false(ul_p_data_next(pdu, len, &offset, &got));
    free(pdu);
}

/* Encodes the reference RQ, lets a case alter it, and decodes it. */
typedef void (*mutate_fn)(uint8_t **pdu, size_t *len);

static void set_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void truncate_header(uint8_t **pdu, size_t *len)
{
    *len = 4;
}

static void length_beyond_data(uint8_t **pdu, size_t *len)
{
    set_u32(*pdu + 2, (uint32_t)(*len - 6 + 10));
}

/* The first item after the fixed fields is the application context (10H);
 * make its length overrun the PDU. */
static void inconsistent_item_length(uint8_t **pdu, size_t *len)
{
    (*pdu)[74 + 2] = 0xff;
    (*pdu)[74 + 3] = 0xff;
}

static void unknown_pdu_type(uint8_t **pdu, size_t *len)
{
    (*pdu)[0] = 0x09;
}

static void wrong_pdu_type(uint8_t **pdu, size_t *len)
{
    (*pdu)[0] = UL_PDU_ASSOC_AC;
}

static void protocol_version_2(uint8_t **pdu, size_t *len)
{
    (*pdu)[6] = 0;
    (*pdu)[7] = 2;
}

static void blank_called_ae(uint8_t **pdu, size_t *len)
{
    memset(*pdu + 10, ' ', 16);
}

static void blank_calling_ae(uint8_t **pdu, size_t *len)
{
    memset(*pdu + 26, ' ', 16);
}

/* The application context UID lengthened to 70 characters. */
static void uid_too_long(uint8_t **pdu, size_t *len)
{
    size_t item_len = (size_t)(((*pdu)[76] << 8) | (*pdu)[77]);
    size_t extra = 70 - item_len;
    uint8_t *p = malloc(*len + extra);
    memcpy(p, *pdu, 78 + item_len);
    memset(p + 78 + item_len, '1', extra);
    memcpy(p + 78 + 70, *pdu + 78 + item_len, *len - 78 - item_len);
    p[76] = 0;
    p[77] = 70;
    free(*pdu);
    *pdu = p;
    *len += extra;
    set_u32(p + 2, (uint32_t)(*len - 6));
}

/* First presentation context item: make its ID even. */
static void even_pctx_id(uint8_t **pdu, size_t *len)
{
    size_t app_len = (size_t)(((*pdu)[76] << 8) | (*pdu)[77]);
    size_t pctx = 78 + app_len;
    assert_int_equal((*pdu)[pctx], 0x20);
    (*pdu)[pctx + 4] = 2;
}

/* An AC presentation context item type (21H) inside the RQ. */
static void ac_item_in_rq(uint8_t **pdu, size_t *len)
{
    size_t app_len = (size_t)(((*pdu)[76] << 8) | (*pdu)[77]);
    (*pdu)[78 + app_len] = 0x21;
}

static void test_malformed_rq_table(void **state)
{
    static const struct {
        const char *name;
        mutate_fn mutate;
        bool reject;
        uint8_t abort_reason;
        ul_assoc_rj rj;
    } cases[] = {
        {"truncated header", truncate_header, false, UL_ABORT_REASON_INVALID_PARAMETER, {0}},
        {"length beyond data", length_beyond_data, false, UL_ABORT_REASON_INVALID_PARAMETER,
         {0}},
        {"inconsistent item length", inconsistent_item_length, false,
         UL_ABORT_REASON_INVALID_PARAMETER, {0}},
        {"unknown PDU type", unknown_pdu_type, false, UL_ABORT_REASON_UNRECOGNIZED_PDU, {0}},
        {"AC where RQ expected", wrong_pdu_type, false, UL_ABORT_REASON_UNEXPECTED_PDU, {0}},
        {"UID over 64 characters", uid_too_long, false, UL_ABORT_REASON_INVALID_PARAMETER,
         {0}},
        {"even context ID", even_pctx_id, false, UL_ABORT_REASON_INVALID_PARAMETER, {0}},
        {"AC item in RQ", ac_item_in_rq, false, UL_ABORT_REASON_UNEXPECTED_PARAMETER, {0}},
        {"protocol version 2", protocol_version_2, true, 0, {1, 2, 2}},
        {"blank called AE", blank_called_ae, true, 0, {1, 1, 7}},
        {"blank calling AE", blank_calling_ae, true, 0, {1, 1, 3}},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ul_assoc_rq rq, out;
        ul_decode_error err;
        uint8_t *pdu;
        size_t len;

        build_rq(&rq);
        assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), 0);
        ul_assoc_rq_free(&rq);
        cases[i].mutate(&pdu, &len);

        int r = ul_decode_assoc_rq(pdu, len, &out, &err);
        print_message("case: %s -> %s\n", cases[i].name, err.message);
        assert_int_equal(r, -1);
        assert_int_equal(err.reject, cases[i].reject);
        if (cases[i].reject) {
            assert_int_equal(err.rj.result, cases[i].rj.result);
            assert_int_equal(err.rj.source, cases[i].rj.source);
            assert_int_equal(err.rj.reason, cases[i].rj.reason);
        } else {
            assert_int_equal(err.abort_reason, cases[i].abort_reason);
        }
        assert_true(err.message[0] != '\0');
        assert_null(out.pctx);
        free(pdu);
    }
}

static void test_unknown_sub_item_ignored(void **state)
{
    ul_assoc_rq rq, out;
    ul_decode_error err;
    uint8_t *pdu;
    size_t len;

    memset(&rq, 0, sizeof rq);
    rq.protocol_version = 1;
    strcpy(rq.called_ae, "A");
    strcpy(rq.calling_ae, "B");
    strcpy(rq.application_context, UL_DICOM_APPLICATION_CONTEXT);
    const char *ts = IMPLICIT_LE;
    assert_int_equal(ul_assoc_rq_add_pctx(&rq, 1, VERIFICATION, &ts, 1), 0);
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), 0);

    /* Append an unknown sub-item (type 7FH, 3 bytes) to the user information
     * item, which is last, and fix both lengths. */
    uint8_t *p = realloc(pdu, len + 7);
    const uint8_t extra[] = {0x7f, 0, 0, 3, 'x', 'y', 'z'};
    memcpy(p + len, extra, sizeof extra);
    /* Find the 50H item by walking the items after the fixed fields. */
    size_t pos = 74;
    while (p[pos] != 0x50)
        pos += 4 + (size_t)((p[pos + 2] << 8) | p[pos + 3]);
    size_t ui_len = (size_t)((p[pos + 2] << 8) | p[pos + 3]) + 7;
    p[pos + 2] = (uint8_t)(ui_len >> 8);
    p[pos + 3] = (uint8_t)ui_len;
    len += 7;
    set_u32(p + 2, (uint32_t)(len - 6));

    assert_int_equal(ul_decode_assoc_rq(p, len, &out, &err), 0);
    assert_int_equal(out.pctx_count, 1);
    free(p);
    ul_assoc_rq_free(&out);
    ul_assoc_rq_free(&rq);
}

static void test_malformed_p_data(void **state)
{
    uint8_t big[100];
    memset(big, 0xab, sizeof big);
    ul_pdv pdv = {1, false, true, big, sizeof big};
    ul_decode_error err;
    uint8_t *pdu;
    size_t len;
    bool accepted[256] = {false};
    accepted[1] = true;

    assert_int_equal(ul_encode_p_data(&pdv, 1, &pdu, &len), 0);

    /* PDV longer than the negotiated maximum. */
    assert_int_equal(ul_decode_p_data_check(pdu, len, 64, accepted, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(ul_decode_p_data_check(pdu, len, 106, accepted, &err), 0);

    /* Presentation context that was not accepted. */
    pdu[10] = 3;
    assert_int_equal(ul_decode_p_data_check(pdu, len, 0, accepted, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
    pdu[10] = 1;

    /* PDV item length overrunning the PDU. */
    set_u32(pdu + 6, 200);
    assert_int_equal(ul_decode_p_data_check(pdu, len, 0, accepted, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
    free(pdu);

    /* Zero-length PDV: item length 2, context ID and header only. */
    const uint8_t empty[] = {4, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 2};
    assert_int_equal(ul_decode_p_data_check(empty, sizeof empty, 0, accepted, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);

    /* The encoder refuses an empty PDV too. */
    ul_pdv none = {1, false, true, big, 0};
    assert_int_equal(ul_encode_p_data(&none, 1, &pdu, &len), -1);
}

static void test_malformed_short_pdus(void **state)
{
    ul_decode_error err;
    ul_assoc_rj rj;
    ul_abort_info ab;
    const uint8_t long_release[] = {5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0};
    const uint8_t bad_rj[] = {3, 0, 0, 0, 0, 4, 0, 9, 1, 1};
    const uint8_t short_abort[] = {7, 0, 0, 0, 0, 2, 0, 0};

    assert_int_equal(ul_decode_release(long_release, sizeof long_release, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(ul_decode_assoc_rj(bad_rj, sizeof bad_rj, &rj, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(ul_decode_abort(short_abort, sizeof short_abort, &ab, &err), -1);
    assert_int_equal(err.abort_reason, UL_ABORT_REASON_INVALID_PARAMETER);
}

static void test_encoder_rejects_bad_input(void **state)
{
    ul_assoc_rq rq;
    uint8_t *pdu;
    size_t len;

    build_rq(&rq);
    rq.pctx[1].id = 1; /* duplicate */
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), -1);
    rq.pctx[1].id = 3;
    strcpy(rq.called_ae, "   ");
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), -1);
    ul_assoc_rq_free(&rq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assoc_rq_round_trip),
        cmocka_unit_test(test_assoc_ac_round_trip),
        cmocka_unit_test(test_short_pdus_round_trip),
        cmocka_unit_test(test_p_data_round_trip),
        cmocka_unit_test(test_malformed_rq_table),
        cmocka_unit_test(test_unknown_sub_item_ignored),
        cmocka_unit_test(test_malformed_p_data),
        cmocka_unit_test(test_malformed_short_pdus),
        cmocka_unit_test(test_encoder_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
