/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Upper Layer state transition table of PS3.8 table 9-10, with one
 * function per action of PS3.8 section 9.2.2. Each action returns the
 * indication it issues; the next state it sets is the one the standard
 * names in the action's definition.
 *
 * Deviation: AA-1 sends the source held in fsm->abort_source. The standard
 * labels AA-1 "service-user source", but in Sta2 it answers a malformed or
 * unexpected PDU detected by the service-provider, and the peer learns more
 * from source 2 with a reason. A local A-ABORT request sets source 0.
 */
#include "ul/ul_fsm.h"

#include <stddef.h>

#include "ul/ul_pdu.h"

typedef ul_indication (*ul_action_fn)(ul_fsm *fsm);

typedef struct ul_action {
    const char *name;
    ul_action_fn run;
} ul_action;

static void send_pdu(ul_fsm *fsm, uint8_t type, uint8_t source, uint8_t reason)
{
    if (fsm->io->send_pdu(fsm->io_arg, type, source, reason) != 0)
        fsm->transport_failed = true;
}

static void close_transport(ul_fsm *fsm)
{
    fsm->io->close_transport(fsm->io_arg);
}

/* Association establishment */

static ul_indication ae_1(ul_fsm *fsm)
{
    fsm->state = UL_STA4;
    if (fsm->io->open_transport(fsm->io_arg) != 0)
        fsm->transport_failed = true;
    return UL_IND_NONE;
}

static ul_indication ae_2(ul_fsm *fsm)
{
    fsm->state = UL_STA5;
    send_pdu(fsm, UL_PDU_ASSOC_RQ, 0, 0);
    return UL_IND_NONE;
}

static ul_indication ae_3(ul_fsm *fsm)
{
    fsm->state = UL_STA6;
    return UL_IND_ASSOCIATE_ACCEPTED;
}

static ul_indication ae_4(ul_fsm *fsm)
{
    fsm->state = UL_STA1;
    close_transport(fsm);
    return UL_IND_ASSOCIATE_REJECTED;
}

static ul_indication ae_5(ul_fsm *fsm)
{
    fsm->artim_running = true;
    fsm->state = UL_STA2;
    return UL_IND_NONE;
}

static ul_indication ae_6(ul_fsm *fsm)
{
    fsm->artim_running = false;
    if (fsm->rq_acceptable) {
        fsm->state = UL_STA3;
        return UL_IND_ASSOCIATE;
    }

    send_pdu(fsm, UL_PDU_ASSOC_RJ, 0, 0);
    fsm->artim_running = true;
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

static ul_indication ae_7(ul_fsm *fsm)
{
    fsm->state = UL_STA6;
    send_pdu(fsm, UL_PDU_ASSOC_AC, 0, 0);
    return UL_IND_NONE;
}

static ul_indication ae_8(ul_fsm *fsm)
{
    send_pdu(fsm, UL_PDU_ASSOC_RJ, 0, 0);
    fsm->artim_running = true;
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

/* Data transfer */

static ul_indication dt_1(ul_fsm *fsm)
{
    fsm->state = UL_STA6;
    send_pdu(fsm, UL_PDU_P_DATA_TF, 0, 0);
    return UL_IND_NONE;
}

static ul_indication dt_2(ul_fsm *fsm)
{
    fsm->state = UL_STA6;
    return UL_IND_P_DATA;
}

/* Association release */

static ul_indication ar_1(ul_fsm *fsm)
{
    fsm->state = UL_STA7;
    send_pdu(fsm, UL_PDU_RELEASE_RQ, 0, 0);
    return UL_IND_NONE;
}

static ul_indication ar_2(ul_fsm *fsm)
{
    fsm->state = UL_STA8;
    return UL_IND_RELEASE;
}

static ul_indication ar_3(ul_fsm *fsm)
{
    fsm->state = UL_STA1;
    close_transport(fsm);
    return UL_IND_RELEASE_CONFIRM;
}

static ul_indication ar_4(ul_fsm *fsm)
{
    send_pdu(fsm, UL_PDU_RELEASE_RP, 0, 0);
    fsm->artim_running = true;
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

static ul_indication ar_5(ul_fsm *fsm)
{
    fsm->artim_running = false;
    fsm->state = UL_STA1;
    return UL_IND_NONE;
}

static ul_indication ar_6(ul_fsm *fsm)
{
    fsm->state = UL_STA7;
    return UL_IND_P_DATA;
}

static ul_indication ar_7(ul_fsm *fsm)
{
    fsm->state = UL_STA8;
    send_pdu(fsm, UL_PDU_P_DATA_TF, 0, 0);
    return UL_IND_NONE;
}

static ul_indication ar_8(ul_fsm *fsm)
{
    fsm->state = fsm->requestor ? UL_STA9 : UL_STA10;
    return UL_IND_RELEASE_COLLISION;
}

static ul_indication ar_9(ul_fsm *fsm)
{
    fsm->state = UL_STA11;
    send_pdu(fsm, UL_PDU_RELEASE_RP, 0, 0);
    return UL_IND_NONE;
}

static ul_indication ar_10(ul_fsm *fsm)
{
    fsm->state = UL_STA12;
    return UL_IND_RELEASE_CONFIRM;
}

/* Association abort */

static ul_indication aa_1(ul_fsm *fsm)
{
    send_pdu(fsm, UL_PDU_ABORT, fsm->abort_source, fsm->abort_reason);
    fsm->artim_running = true;
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

static ul_indication aa_2(ul_fsm *fsm)
{
    fsm->artim_running = false;
    fsm->state = UL_STA1;
    close_transport(fsm);
    return UL_IND_NONE;
}

static ul_indication aa_3(ul_fsm *fsm)
{
    fsm->state = UL_STA1;
    close_transport(fsm);
    return fsm->peer_abort_source == UL_ABORT_SOURCE_USER ? UL_IND_ABORT : UL_IND_P_ABORT;
}

static ul_indication aa_4(ul_fsm *fsm)
{
    fsm->state = UL_STA1;
    return UL_IND_P_ABORT;
}

static ul_indication aa_5(ul_fsm *fsm)
{
    fsm->artim_running = false;
    fsm->state = UL_STA1;
    return UL_IND_NONE;
}

static ul_indication aa_6(ul_fsm *fsm)
{
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

static ul_indication aa_7(ul_fsm *fsm)
{
    send_pdu(fsm, UL_PDU_ABORT, UL_ABORT_SOURCE_PROVIDER, fsm->abort_reason);
    fsm->state = UL_STA13;
    return UL_IND_NONE;
}

static ul_indication aa_8(ul_fsm *fsm)
{
    send_pdu(fsm, UL_PDU_ABORT, UL_ABORT_SOURCE_PROVIDER, fsm->abort_reason);
    fsm->artim_running = true;
    fsm->state = UL_STA13;
    return UL_IND_P_ABORT;
}

static const ul_action AE1 = {"AE-1", ae_1}, AE2 = {"AE-2", ae_2}, AE3 = {"AE-3", ae_3},
                       AE4 = {"AE-4", ae_4}, AE5 = {"AE-5", ae_5}, AE6 = {"AE-6", ae_6},
                       AE7 = {"AE-7", ae_7}, AE8 = {"AE-8", ae_8};
static const ul_action DT1 = {"DT-1", dt_1}, DT2 = {"DT-2", dt_2};
static const ul_action AR1 = {"AR-1", ar_1}, AR2 = {"AR-2", ar_2}, AR3 = {"AR-3", ar_3},
                       AR4 = {"AR-4", ar_4}, AR5 = {"AR-5", ar_5}, AR6 = {"AR-6", ar_6},
                       AR7 = {"AR-7", ar_7}, AR8 = {"AR-8", ar_8}, AR9 = {"AR-9", ar_9},
                       AR10 = {"AR-10", ar_10};
static const ul_action AA1 = {"AA-1", aa_1}, AA2 = {"AA-2", aa_2}, AA3 = {"AA-3", aa_3},
                       AA4 = {"AA-4", aa_4}, AA5 = {"AA-5", aa_5}, AA6 = {"AA-6", aa_6},
                       AA7 = {"AA-7", aa_7}, AA8 = {"AA-8", aa_8};

#define NA NULL

/*
 * PS3.8 table 9-10, one row per event, one column per state. An empty cell
 * (NA) is an event that cannot happen in that state.
 */
static const ul_action *const transition_table[UL_EVENT_COUNT][UL_STATE_COUNT] = {
    /*            Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10  Sta11 Sta12 Sta13 */
    /* Evt1  */ {&AE1, NA,   NA,   NA,   NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt2  */ {NA,   NA,   NA,   &AE2, NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt3  */ {NA,   &AA1, &AA8, NA,   &AE3, &AA8, &AA8, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA6},
    /* Evt4  */ {NA,   &AA1, &AA8, NA,   &AE4, &AA8, &AA8, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA6},
    /* Evt5  */ {&AE5, NA,   NA,   NA,   NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt6  */ {NA,   &AE6, &AA8, NA,   &AA8, &AA8, &AA8, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA7},
    /* Evt7  */ {NA,   NA,   &AE7, NA,   NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt8  */ {NA,   NA,   &AE8, NA,   NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt9  */ {NA,   NA,   NA,   NA,   NA,   &DT1, NA,   &AR7, NA,   NA,    NA,   NA,   NA},
    /* Evt10 */ {NA,   &AA1, &AA8, NA,   &AA8, &DT2, &AR6, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA6},
    /* Evt11 */ {NA,   NA,   NA,   NA,   NA,   &AR1, NA,   NA,   NA,   NA,    NA,   NA,   NA},
    /* Evt12 */ {NA,   &AA1, &AA8, NA,   &AA8, &AR2, &AR8, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA6},
    /* Evt13 */ {NA,   &AA1, &AA8, NA,   &AA8, &AA8, &AR3, &AA8, &AA8, &AR10, &AR3, &AA8, &AA6},
    /* Evt14 */ {NA,   NA,   NA,   NA,   NA,   NA,   NA,   &AR4, &AR9, NA,    NA,   &AR4, NA},
    /* Evt15 */ {NA,   NA,   &AA1, &AA2, &AA1, &AA1, &AA1, &AA1, &AA1, &AA1,  &AA1, &AA1, NA},
    /* Evt16 */ {NA,   &AA2, &AA3, NA,   &AA3, &AA3, &AA3, &AA3, &AA3, &AA3,  &AA3, &AA3, &AA2},
    /* Evt17 */ {NA,   &AA5, &AA4, &AA4, &AA4, &AA4, &AA4, &AA4, &AA4, &AA4,  &AA4, &AA4, &AR5},
    /* Evt18 */ {NA,   &AA2, NA,   NA,   NA,   NA,   NA,   NA,   NA,   NA,    NA,   NA,   &AA2},
    /* Evt19 */ {NA,   &AA1, &AA8, NA,   &AA8, &AA8, &AA8, &AA8, &AA8, &AA8,  &AA8, &AA8, &AA7},
};

#undef NA

static const ul_action *lookup(ul_event event, ul_state state)
{
    if (event < UL_EVT1 || event > UL_EVT19 || state < UL_STA1 || state > UL_STA13)
        return NULL;
    return transition_table[event - 1][state - 1];
}

void ul_fsm_init(ul_fsm *fsm, const ul_fsm_io *io, void *io_arg)
{
    *fsm = (ul_fsm){.state = UL_STA1, .io = io, .io_arg = io_arg};
}

ul_indication ul_fsm_dispatch(ul_fsm *fsm, ul_event event)
{
    const ul_action *action = lookup(event, fsm->state);

    if (!action)
        return UL_IND_INVALID;
    return action->run(fsm);
}

const char *ul_fsm_action_name(ul_event event, ul_state state)
{
    const ul_action *action = lookup(event, state);
    return action ? action->name : NULL;
}

const char *ul_fsm_state_name(ul_state state)
{
    static const char *const names[UL_STATE_COUNT] = {
        "Sta1", "Sta2", "Sta3",  "Sta4",  "Sta5",  "Sta6", "Sta7",
        "Sta8", "Sta9", "Sta10", "Sta11", "Sta12", "Sta13"};

    if (state < UL_STA1 || state > UL_STA13)
        return "Sta?";
    return names[state - 1];
}

const char *ul_fsm_event_name(ul_event event)
{
    static const char *const names[UL_EVENT_COUNT] = {
        "Evt1",  "Evt2",  "Evt3",  "Evt4",  "Evt5",  "Evt6",  "Evt7",
        "Evt8",  "Evt9",  "Evt10", "Evt11", "Evt12", "Evt13", "Evt14",
        "Evt15", "Evt16", "Evt17", "Evt18", "Evt19"};

    if (event < UL_EVT1 || event > UL_EVT19)
        return "Evt?";
    return names[event - 1];
}
