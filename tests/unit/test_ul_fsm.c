/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the Upper Layer state machine. Every cell of the table is
 * compared with a second transcription of PS3.8 table 9-10. Runs of events
 * through a recording transport cover establishment, data, release,
 * release collision on both sides, and aborts for unexpected PDUs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ul/ul_fsm.h"
#include "ul/ul_pdu.h"

/* PS3.8 table 9-10, rows Evt1..Evt19, columns Sta1..Sta13; "" is empty. */
static const char *const expected[UL_EVENT_COUNT][UL_STATE_COUNT] = {
    {"AE-1", "", "", "", "", "", "", "", "", "", "", "", ""},
    {"", "", "", "AE-2", "", "", "", "", "", "", "", "", ""},
    {"", "AA-1", "AA-8", "", "AE-3", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"},
    {"", "AA-1", "AA-8", "", "AE-4", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"},
    {"AE-5", "", "", "", "", "", "", "", "", "", "", "", ""},
    {"", "AE-6", "AA-8", "", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-7"},
    {"", "", "AE-7", "", "", "", "", "", "", "", "", "", ""},
    {"", "", "AE-8", "", "", "", "", "", "", "", "", "", ""},
    {"", "", "", "", "", "DT-1", "", "AR-7", "", "", "", "", ""},
    {"", "AA-1", "AA-8", "", "AA-8", "DT-2", "AR-6", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"},
    {"", "", "", "", "", "AR-1", "", "", "", "", "", "", ""},
    {"", "AA-1", "AA-8", "", "AA-8", "AR-2", "AR-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"},
    {"", "AA-1", "AA-8", "", "AA-8", "AA-8", "AR-3", "AA-8", "AA-8", "AR-10", "AR-3", "AA-8", "AA-6"},
    {"", "", "", "", "", "", "", "AR-4", "AR-9", "", "", "AR-4", ""},
    {"", "", "AA-1", "AA-2", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", ""},
    {"", "AA-2", "AA-3", "", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-2"},
    {"", "AA-5", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AR-5"},
    {"", "AA-2", "", "", "", "", "", "", "", "", "", "", "AA-2"},
    {"", "AA-1", "AA-8", "", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-7"},
};

/* What the actions asked of the transport. */
typedef struct recorder {
    uint8_t sent[16];
    uint8_t abort_source[16];
    uint8_t abort_reason[16];
    int sent_count;
    int opened;
    int closed;
} recorder;

static int rec_send(void *arg, uint8_t type, uint8_t source, uint8_t reason)
{
    recorder *r = arg;
    if (r->sent_count < 16) {
        r->sent[r->sent_count] = type;
        r->abort_source[r->sent_count] = source;
        r->abort_reason[r->sent_count] = reason;
        r->sent_count++;
    }
    return 0;
}

static int rec_open(void *arg)
{
    ((recorder *)arg)->opened++;
    return 0;
}

static void rec_close(void *arg)
{
    ((recorder *)arg)->closed++;
}

static const ul_fsm_io rec_io = {rec_send, rec_open, rec_close};

static void start(ul_fsm *fsm, recorder *rec, ul_state state, bool requestor)
{
    memset(rec, 0, sizeof *rec);
    ul_fsm_init(fsm, &rec_io, rec);
    fsm->state = state;
    fsm->requestor = requestor;
}

static void test_table_matches_standard(void **state)
{
    for (int e = UL_EVT1; e <= UL_EVT19; e++) {
        for (int s = UL_STA1; s <= UL_STA13; s++) {
            const char *got = ul_fsm_action_name((ul_event)e, (ul_state)s);
            const char *want = expected[e - 1][s - 1];
            if (want[0] == '\0') {
                if (got)
                    fail_msg("Evt%d Sta%d: expected empty, got %s", e, s, got);
            } else if (!got || strcmp(got, want) != 0) {
                fail_msg("Evt%d Sta%d: expected %s, got %s", e, s, want, got ? got : "empty");
            }
        }
    }
}

static void test_acceptor_establishment(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA1, false);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT5), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA2);
    assert_true(fsm.artim_running);

    fsm.rq_acceptable = true;
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT6), UL_IND_ASSOCIATE);
    assert_int_equal(fsm.state, UL_STA3);
    assert_false(fsm.artim_running);

    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT7), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA6);
    assert_int_equal(rec.sent_count, 1);
    assert_int_equal(rec.sent[0], UL_PDU_ASSOC_AC);
}

static void test_acceptor_rejects_unacceptable_rq(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA2, false);
    fsm.rq_acceptable = false;
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT6), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA13);
    assert_true(fsm.artim_running);
    assert_int_equal(rec.sent[0], UL_PDU_ASSOC_RJ);

    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT18), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA1);
    assert_int_equal(rec.closed, 1);
}

static void test_artim_expiry_in_sta2(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA2, false);
    fsm.artim_running = true;
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT18), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA1);
    assert_false(fsm.artim_running);
    assert_int_equal(rec.closed, 1);
    assert_int_equal(rec.sent_count, 0);
}

static void test_requestor_establishment(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA1, true);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT1), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA4);
    assert_int_equal(rec.opened, 1);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT2), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA5);
    assert_int_equal(rec.sent[0], UL_PDU_ASSOC_RQ);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT3), UL_IND_ASSOCIATE_ACCEPTED);
    assert_int_equal(fsm.state, UL_STA6);

    start(&fsm, &rec, UL_STA5, true);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT4), UL_IND_ASSOCIATE_REJECTED);
    assert_int_equal(fsm.state, UL_STA1);
    assert_int_equal(rec.closed, 1);
}

static void test_data_and_normal_release(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA6, true);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT9), UL_IND_NONE);
    assert_int_equal(rec.sent[0], UL_PDU_P_DATA_TF);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT10), UL_IND_P_DATA);
    assert_int_equal(fsm.state, UL_STA6);

    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT11), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA7);
    assert_int_equal(rec.sent[1], UL_PDU_RELEASE_RQ);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT10), UL_IND_P_DATA);
    assert_int_equal(fsm.state, UL_STA7);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT13), UL_IND_RELEASE_CONFIRM);
    assert_int_equal(fsm.state, UL_STA1);
    assert_int_equal(rec.closed, 1);

    /* The other side: A-RELEASE-RQ received, P-DATA still allowed (AR-7). */
    start(&fsm, &rec, UL_STA6, false);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT12), UL_IND_RELEASE);
    assert_int_equal(fsm.state, UL_STA8);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT9), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA8);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT14), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA13);
    assert_int_equal(rec.sent[1], UL_PDU_RELEASE_RP);
    assert_true(fsm.artim_running);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT17), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA1);
}

static void test_release_collision_requestor(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA6, true);
    ul_fsm_dispatch(&fsm, UL_EVT11);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT12), UL_IND_RELEASE_COLLISION);
    assert_int_equal(fsm.state, UL_STA9);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT14), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA11);
    assert_int_equal(rec.sent[1], UL_PDU_RELEASE_RP);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT13), UL_IND_RELEASE_CONFIRM);
    assert_int_equal(fsm.state, UL_STA1);
    assert_int_equal(rec.closed, 1);
}

static void test_release_collision_acceptor(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA6, false);
    ul_fsm_dispatch(&fsm, UL_EVT11);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT12), UL_IND_RELEASE_COLLISION);
    assert_int_equal(fsm.state, UL_STA10);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT13), UL_IND_RELEASE_CONFIRM);
    assert_int_equal(fsm.state, UL_STA12);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT14), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA13);
    assert_int_equal(rec.sent[1], UL_PDU_RELEASE_RP);
    assert_true(fsm.artim_running);
    assert_int_equal(rec.closed, 0);
}

static void test_unexpected_pdu_in_sta2_is_aa1(void **state)
{
    static const ul_event pdu_events[] = {UL_EVT3, UL_EVT4, UL_EVT10, UL_EVT12, UL_EVT13,
                                          UL_EVT19};

    for (size_t i = 0; i < sizeof pdu_events / sizeof pdu_events[0]; i++) {
        ul_fsm fsm;
        recorder rec;

        start(&fsm, &rec, UL_STA2, false);
        fsm.abort_source = UL_ABORT_SOURCE_PROVIDER;
        fsm.abort_reason = UL_ABORT_REASON_UNEXPECTED_PDU;
        assert_int_equal(ul_fsm_dispatch(&fsm, pdu_events[i]), UL_IND_NONE);
        assert_int_equal(fsm.state, UL_STA13);
        assert_true(fsm.artim_running);
        assert_int_equal(rec.sent_count, 1);
        assert_int_equal(rec.sent[0], UL_PDU_ABORT);
        assert_int_equal(rec.abort_source[0], UL_ABORT_SOURCE_PROVIDER);
        assert_int_equal(rec.abort_reason[0], UL_ABORT_REASON_UNEXPECTED_PDU);
    }
}

static void test_invalid_pdu_is_aa8_in_each_state(void **state)
{
    static const ul_state states[] = {UL_STA3, UL_STA5, UL_STA6, UL_STA7, UL_STA8,
                                       UL_STA9, UL_STA10, UL_STA11, UL_STA12};

    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        ul_fsm fsm;
        recorder rec;

        start(&fsm, &rec, states[i], false);
        fsm.abort_reason = UL_ABORT_REASON_INVALID_PARAMETER;
        assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT19), UL_IND_P_ABORT);
        assert_int_equal(fsm.state, UL_STA13);
        assert_true(fsm.artim_running);
        assert_int_equal(rec.sent[0], UL_PDU_ABORT);
        assert_int_equal(rec.abort_source[0], UL_ABORT_SOURCE_PROVIDER);
        assert_int_equal(rec.abort_reason[0], UL_ABORT_REASON_INVALID_PARAMETER);

        /* An A-ASSOCIATE-RQ is never expected once past Sta2. */
        start(&fsm, &rec, states[i], false);
        fsm.abort_reason = UL_ABORT_REASON_UNEXPECTED_PDU;
        assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT6), UL_IND_P_ABORT);
        assert_int_equal(fsm.state, UL_STA13);
        assert_int_equal(rec.abort_reason[0], UL_ABORT_REASON_UNEXPECTED_PDU);
    }
}

static void test_sta13_ignores_or_aborts(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA13, false);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT10), UL_IND_NONE);
    assert_int_equal(rec.sent_count, 0);
    assert_int_equal(fsm.state, UL_STA13);

    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT19), UL_IND_NONE);
    assert_int_equal(rec.sent[0], UL_PDU_ABORT);
    assert_int_equal(fsm.state, UL_STA13);

    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT16), UL_IND_NONE);
    assert_int_equal(fsm.state, UL_STA1);
    assert_int_equal(rec.closed, 1);
}

static void test_peer_abort_indications(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA6, false);
    fsm.peer_abort_source = UL_ABORT_SOURCE_USER;
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT16), UL_IND_ABORT);
    assert_int_equal(fsm.state, UL_STA1);

    start(&fsm, &rec, UL_STA6, false);
    fsm.peer_abort_source = UL_ABORT_SOURCE_PROVIDER;
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT16), UL_IND_P_ABORT);

    start(&fsm, &rec, UL_STA6, false);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT17), UL_IND_P_ABORT);
    assert_int_equal(fsm.state, UL_STA1);
}

static void test_empty_cell_keeps_state(void **state)
{
    ul_fsm fsm;
    recorder rec;

    start(&fsm, &rec, UL_STA7, true);
    assert_int_equal(ul_fsm_dispatch(&fsm, UL_EVT9), UL_IND_INVALID);
    assert_int_equal(fsm.state, UL_STA7);
    assert_int_equal(rec.sent_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_standard),
        cmocka_unit_test(test_acceptor_establishment),
        cmocka_unit_test(test_acceptor_rejects_unacceptable_rq),
        cmocka_unit_test(test_artim_expiry_in_sta2),
        cmocka_unit_test(test_requestor_establishment),
        cmocka_unit_test(test_data_and_normal_release),
        cmocka_unit_test(test_release_collision_requestor),
        cmocka_unit_test(test_release_collision_acceptor),
        cmocka_unit_test(test_unexpected_pdu_in_sta2_is_aa1),
        cmocka_unit_test(test_invalid_pdu_is_aa8_in_each_state),
        cmocka_unit_test(test_sta13_ignores_or_aborts),
        cmocka_unit_test(test_peer_abort_indications),
        cmocka_unit_test(test_empty_cell_keeps_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
