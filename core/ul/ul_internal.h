/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The association object shared by the files of core/ul: transport I/O
 * (ul_io.c), establishment (ul_accept.c, ul_connect.c), data transfer
 * (ul_data.c) and release and abort (ul_release.c).
 */
#ifndef CAIRN_UL_INTERNAL_H
#define CAIRN_UL_INTERNAL_H

#include "ul/ul.h"
#include "ul/ul_fsm.h"

/* Bytes a PDU header read may take from the socket: room for a C-ECHO-RQ,
 * an A-RELEASE-RQ and a usual A-ASSOCIATE-RQ with their headers. */
#define UL_READ_AHEAD 1024

struct ul_assoc {
    int fd;
    ul_fsm fsm;
    ul_params params;
    ul_uid implementation_class_uid;
    char implementation_version_name[UL_IMPL_VERSION_MAX + 1];

    const log_ctx *log;
    log_ctx own_log; /* used until ul_assoc_set_log_ctx */

    ul_assoc_rq rq;
    ul_assoc_ac ac;
    ul_assoc_rj rj; /* received, or to send */
    bool pctx_accepted[256];
    uint32_t max_pdu_receive; /* announced */
    uint32_t max_pdu_send;    /* effective, capped at UL_SEND_PDU_CAP */

    /* Requestor: where AE-1 connects, and why it failed. */
    const char *host;
    uint16_t port;
    int connect_status;
    int connect_errno; /* with UL_CONNECT_FAILED: errno of the last attempt, 0 if unresolved */

    /* Content of the next A-ASSOCIATE-RQ/AC or P-DATA-TF that the state
     * machine sends. */
    const uint8_t *pending;
    size_t pending_len;

    /* Receive buffer: one whole PDU, and the next PDV offset in it. */
    uint8_t *rbuf;
    size_t rbuf_cap;
    size_t rlen;
    size_t rnext;
    /* Bytes received past the last read, at ahead[ahead_start..+ahead_len):
     * a header read takes up to sizeof ahead, reads consume these first. */
    uint8_t ahead[UL_READ_AHEAD];
    size_t ahead_start;
    size_t ahead_len;
    /* PDU boundaries are lost (PDU cut short or skipped): only raw reads. */
    bool desynced;
    /* Destination of data PDV payloads during ul_read_pdv_to, or NULL.
     * When streamed is true, the last PDU's payload went to the sink and
     * rbuf contains only its PDU and PDV item headers. */
    const ul_pdv_sink *sink;
    bool streamed;

    /* Send buffer: one P-DATA-TF with at most one open PDV item. */
    uint8_t *wbuf;
    size_t wlen;
    bool fragment_open;
    uint8_t fragment_pctx;
    bool fragment_command;
    /* The next P-DATA-TF goes out with MSG_MORE (ul_more_follows). */
    bool more_follows;
};

ul_assoc *ul_assoc_new(int fd, const ul_params *params, bool requestor);

/*
 * Reads one PDU, turns it into its event (Evt3, 4, 6, 10, 12, 13, 16, 17,
 * 18 or 19) and runs it through the state machine. timeout_ms bounds the
 * wait for the PDU to start. Returns UL_OK with *ind; UL_TIMEOUT;
 * UL_CLOSED; UL_ABORTED; UL_REJECTED (A-ASSOCIATE-RQ not acceptable, RJ
 * sent); UL_PROTOCOL_ERROR (A-ABORT sent); UL_ERROR.
 */
int ul_receive_event(ul_assoc *a, unsigned timeout_ms, ul_indication *ind);

/* Waits in Sta13 until the peer closes or ARTIM expires, then closes. */
void ul_wait_for_close(ul_assoc *a);

/* Sends a local A-ABORT request (Evt15) and waits in Sta13. */
void ul_abort_local(ul_assoc *a, uint8_t source, uint8_t reason);

/* Connects to host:port within timeout_ms; returns the fd, or -1 with
 * *status set to UL_TIMEOUT or UL_CONNECT_FAILED and *error_number to
 * the connect errno (0 when host did not resolve). */
int ul_io_connect(const char *host, uint16_t port, unsigned timeout_ms,
                  const log_ctx *log, int *status, int *error_number);

/* Sets TCP_NODELAY (and ignores sockets that are not TCP). */
void ul_io_tune_socket(int fd);

/* Applies the negotiated result: accepted contexts and buffer sizes. */
int ul_assoc_setup_transfer(ul_assoc *a, uint32_t peer_max_pdu);

#endif
