/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DIMSE messages (PS3.7): command sets in implicit VR little endian with
 * their group length, assembled from command and data PDVs, and the
 * responses the core sends back.
 *
 * Memory per association is bounded: a command set may take at most
 * DIMSE_MAX_COMMAND_BYTES, a data set other than a C-STORE's at most
 * DIMSE_MAX_DATASET_BYTES, and a C-STORE data set goes to a temporary file
 * in the archive as its PDVs arrive.
 */
#ifndef CAIRN_DIMSE_H
#define CAIRN_DIMSE_H

#include <stdbool.h>
#include <stdint.h>

#include "dcm/dcm.h"
#include "dimse/dimse_host.h"

#define DIMSE_MAX_COMMAND_BYTES (64u * 1024u)
#define DIMSE_MAX_DATASET_BYTES (16u * 1024u * 1024u)

/* Command Field values of requests; a response sets bit 15 (PS3.7 E.1). */
enum dimse_command_field {
    DIMSE_C_STORE_RQ = 0x0001,
    DIMSE_C_GET_RQ = 0x0010,
    DIMSE_C_FIND_RQ = 0x0020,
    DIMSE_C_MOVE_RQ = 0x0021,
    DIMSE_C_ECHO_RQ = 0x0030,
    DIMSE_N_EVENT_REPORT_RQ = 0x0100,
    DIMSE_N_GET_RQ = 0x0110,
    DIMSE_N_SET_RQ = 0x0120,
    DIMSE_N_ACTION_RQ = 0x0130,
    DIMSE_N_CREATE_RQ = 0x0140,
    DIMSE_N_DELETE_RQ = 0x0150,
    DIMSE_C_CANCEL_RQ = 0x0FFF,
    DIMSE_RESPONSE_BIT = 0x8000
};

/* Command Data Set Type (0000,0800) value meaning "no data set". */
#define DIMSE_NO_DATASET 0x0101u

#define DIMSE_TAG_AFFECTED_SOP_CLASS_UID DCM_TAG(0x0000, 0x0002)
#define DIMSE_TAG_REQUESTED_SOP_CLASS_UID DCM_TAG(0x0000, 0x0003)
#define DIMSE_TAG_COMMAND_FIELD DCM_TAG(0x0000, 0x0100)
#define DIMSE_TAG_MESSAGE_ID DCM_TAG(0x0000, 0x0110)
#define DIMSE_TAG_MESSAGE_ID_RESPONDED DCM_TAG(0x0000, 0x0120)
#define DIMSE_TAG_PRIORITY DCM_TAG(0x0000, 0x0700)
#define DIMSE_TAG_DATASET_TYPE DCM_TAG(0x0000, 0x0800)
#define DIMSE_TAG_STATUS DCM_TAG(0x0000, 0x0900)
#define DIMSE_TAG_ERROR_COMMENT DCM_TAG(0x0000, 0x0902)
#define DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID DCM_TAG(0x0000, 0x1000)
#define DIMSE_TAG_REQUESTED_SOP_INSTANCE_UID DCM_TAG(0x0000, 0x1001)

/* Results of dimse_receive. */
enum dimse_result {
    DIMSE_OK = 0,
    DIMSE_RELEASE_REQUESTED, /* peer asked to release between messages */
    DIMSE_PEER_ABORTED,
    DIMSE_CLOSED,            /* transport closed without A-ABORT */
    DIMSE_IDLE_TIMEOUT,      /* no new message within the idle timeout */
    DIMSE_FAILED             /* protocol error or timeout mid-message; association aborted */
};

/* Settings of the receive path. */
typedef struct dimse_limits {
    unsigned dimse_timeout_ms;
    unsigned idle_timeout_ms;
    unsigned max_sequence_depth;
    /* Called when the first PDV of a message arrives; may be NULL. */
    void (*on_message_start)(void *arg);
    void *on_message_start_arg;
} dimse_limits;

/*
 * Reads one whole request into msg (zeroed by the caller). A C-STORE data
 * set is streamed into a temporary archive file with a PS3.10 header and
 * then parsed for its leading attributes. When the request could be read
 * but not kept (disk full, write error), *local_status is set to the
 * status to answer with and msg->error to the reason.
 */
int dimse_receive(cairn_assoc *assoc, const dimse_limits *limits, cairn_message *msg,
                  cairn_dimse_status *local_status);

/* Releases what a received message owns, including its temporary file. */
void dimse_message_clear(cairn_message *msg);

/* Sends the response to msg built from reply. Returns 0, or -1 when the association failed. */
int dimse_send_response(cairn_assoc *assoc, const cairn_message *msg, const cairn_reply *reply);

/*
 * Sends a pending C-FIND response like dimse_send_response, but lets the
 * kernel hold its bytes until the next response (the final one at the
 * latest) or a full TCP segment pushes them out. The matches of a request
 * then reach the peer in a few segments instead of one per match, which
 * saves a send and a wake-up of the peer per match on loopback. Returns 0,
 * or -1 when the association failed.
 */
int dimse_send_pending_match(cairn_assoc *assoc, const cairn_message *msg,
                             const cairn_reply *reply);

/* Builds a command set; the group length is added by dimse_encode_command. */
int dimse_encode_command(dcm_dataset *command, uint8_t **out, size_t *len);

/* Returns a readable name such as "C-STORE-RQ" for a Command Field. */
const char *dimse_command_name(uint16_t command_field);

#endif
