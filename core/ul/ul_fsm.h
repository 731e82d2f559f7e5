/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DICOM Upper Layer state machine of PS3.8 section 9.2: states Sta1 to
 * Sta13, events Evt1 to Evt19 and the actions of the state transition table
 * (table 9-10). The machine does no I/O itself: its actions call back into
 * the association layer to send a PDU or to open or close the transport,
 * and return the indication primitive they issue to the local user.
 */
#ifndef CAIRN_UL_FSM_H
#define CAIRN_UL_FSM_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ul_state {
    UL_STA1 = 1,  /* Idle */
    UL_STA2,      /* Transport connection open, awaiting A-ASSOCIATE-RQ PDU */
    UL_STA3,      /* Awaiting local A-ASSOCIATE response primitive */
    UL_STA4,      /* Awaiting transport connection opening to complete */
    UL_STA5,      /* Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU */
    UL_STA6,      /* Association established, ready for data transfer */
    UL_STA7,      /* Awaiting A-RELEASE-RP PDU */
    UL_STA8,      /* Awaiting local A-RELEASE response primitive */
    UL_STA9,      /* Release collision requestor side, awaiting A-RELEASE response */
    UL_STA10,     /* Release collision acceptor side, awaiting A-RELEASE-RP PDU */
    UL_STA11,     /* Release collision requestor side, awaiting A-RELEASE-RP PDU */
    UL_STA12,     /* Release collision acceptor side, awaiting A-RELEASE response */
    UL_STA13      /* Awaiting transport connection close indication */
} ul_state;

#define UL_STATE_COUNT 13

typedef enum ul_event {
    UL_EVT1 = 1, /* A-ASSOCIATE request (local user) */
    UL_EVT2,     /* Transport connect confirmation (local transport service) */
    UL_EVT3,     /* A-ASSOCIATE-AC PDU received */
    UL_EVT4,     /* A-ASSOCIATE-RJ PDU received */
    UL_EVT5,     /* Transport connection indication (local transport service) */
    UL_EVT6,     /* A-ASSOCIATE-RQ PDU received */
    UL_EVT7,     /* A-ASSOCIATE response primitive (accept) */
    UL_EVT8,     /* A-ASSOCIATE response primitive (reject) */
    UL_EVT9,     /* P-DATA request primitive */
    UL_EVT10,    /* P-DATA-TF PDU received */
    UL_EVT11,    /* A-RELEASE request primitive */
    UL_EVT12,    /* A-RELEASE-RQ PDU received */
    UL_EVT13,    /* A-RELEASE-RP PDU received */
    UL_EVT14,    /* A-RELEASE response primitive */
    UL_EVT15,    /* A-ABORT request primitive */
    UL_EVT16,    /* A-ABORT PDU received */
    UL_EVT17,    /* Transport connection closed indication */
    UL_EVT18,    /* ARTIM timer expired */
    UL_EVT19     /* Unrecognized or invalid PDU received */
} ul_event;

#define UL_EVENT_COUNT 19

/* The primitive an action issues to the local user. */
typedef enum ul_indication {
    UL_IND_NONE = 0,
    UL_IND_ASSOCIATE,          /* AE-6: A-ASSOCIATE indication */
    UL_IND_ASSOCIATE_ACCEPTED, /* AE-3: A-ASSOCIATE confirmation (accept) */
    UL_IND_ASSOCIATE_REJECTED, /* AE-4: A-ASSOCIATE confirmation (reject) */
    UL_IND_P_DATA,             /* DT-2, AR-6: P-DATA indication */
    UL_IND_RELEASE,            /* AR-2: A-RELEASE indication */
    UL_IND_RELEASE_COLLISION,  /* AR-8: A-RELEASE indication (collision) */
    UL_IND_RELEASE_CONFIRM,    /* AR-3, AR-10: A-RELEASE confirmation */
    UL_IND_ABORT,              /* AA-3: A-ABORT indication (peer user) */
    UL_IND_P_ABORT,            /* AA-3, AA-4, AA-8: A-P-ABORT indication */
    UL_IND_INVALID             /* the table has no action for this event here */
} ul_indication;

/* What the actions need from the association layer. */
typedef struct ul_fsm_io {
    /* Sends one PDU; the association layer holds the content of the
     * A-ASSOCIATE-RQ/AC/RJ and P-DATA-TF PDUs, and the machine supplies
     * the source and reason of an A-ABORT. Returns 0, or -1 when the
     * transport failed. */
    int (*send_pdu)(void *arg, uint8_t pdu_type, uint8_t abort_source,
                    uint8_t abort_reason);
    /* AE-1: opens the transport connection; returns 0 or -1. */
    int (*open_transport)(void *arg);
    void (*close_transport)(void *arg);
} ul_fsm_io;

typedef struct ul_fsm {
    ul_state state;
    bool requestor;     /* association-requestor side (AR-8) */
    bool artim_running; /* ARTIM timer armed: the wait in Sta2 and Sta13 */
    bool transport_failed; /* a send or open callback failed */

    /* Inputs of actions, set by the caller before the event: */
    bool rq_acceptable;          /* AE-6: the A-ASSOCIATE-RQ passed our checks */
    uint8_t peer_abort_source;   /* AA-3: source of the A-ABORT PDU received */
    uint8_t abort_source;        /* AA-1: source of the A-ABORT we send */
    uint8_t abort_reason;        /* AA-1, AA-7, AA-8: reason of the A-ABORT */

    const ul_fsm_io *io;
    void *io_arg;
} ul_fsm;

void ul_fsm_init(ul_fsm *fsm, const ul_fsm_io *io, void *io_arg);

/*
 * Runs the action of table 9-10 for event in the current state and moves
 * to the next state. Returns the indication issued, or UL_IND_INVALID
 * (state unchanged) when the table cell is empty.
 */
ul_indication ul_fsm_dispatch(ul_fsm *fsm, ul_event event);

/* Name of the action in the table cell ("AE-1"...), or NULL when empty. */
const char *ul_fsm_action_name(ul_event event, ul_state state);
const char *ul_fsm_state_name(ul_state state);
const char *ul_fsm_event_name(ul_event event);

#endif
