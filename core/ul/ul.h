/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DICOM Upper Layer associations (PS3.8) over a blocking TCP socket: accept
 * or request an association, exchange PDVs, release or abort. Every PDU in
 * and out goes through the state machine of ul_fsm.h. One association is
 * used by one thread at a time; different associations are independent.
 */
#ifndef CAIRN_UL_H
#define CAIRN_UL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ul/ul_pdu.h"
#include "util/log.h"

/* Return codes of the association functions. */
enum ul_status {
    UL_OK = 0,
    UL_RELEASE_REQUESTED = 1, /* the peer sent A-RELEASE-RQ */
    UL_ERROR = -1,            /* invalid argument or call in the wrong state,
                                 out of memory, local socket failure */
    UL_REJECTED = -2,         /* the association was rejected (either side) */
    UL_ABORTED = -3,          /* the peer sent A-ABORT */
    UL_TIMEOUT = -4,          /* a timer expired */
    UL_CLOSED = -5,           /* the transport connection closed or failed */
    UL_PROTOCOL_ERROR = -6,   /* the peer broke PS3.8; A-ABORT already sent */
    UL_CONNECT_FAILED = -7    /* ul_connect: no TCP connection. errno is the
                                 connect error, or 0 when the host name did
                                 not resolve */
};

/* Returns a short English description of a ul_status value. */
const char *ul_strerror(int status);

/* max_pdu_receive used when ul_params leaves it 0. */
#define UL_DEFAULT_MAX_PDU 16384u
/* Largest max_pdu_receive honored: it sizes the receive buffer. */
#define UL_MAX_PDU_RECEIVE_LIMIT (16u * 1024u * 1024u)
/* Largest P-DATA-TF we send, whatever the peer announces (0 included). */
#define UL_SEND_PDU_CAP (1024u * 1024u)

/* Timeouts are in milliseconds; 0 means no limit. */
typedef struct ul_params {
    uint32_t max_pdu_receive;  /* the maximum length we announce; 0: default */
    uint32_t max_pdu_send;     /* cap on the PDUs we send; 0: the peer's maximum */
    unsigned artim_timeout_ms; /* wait for A-ASSOCIATE-RQ, -AC/RJ, -RELEASE-RP
                                  and for the peer to close after RJ, RP, abort */
    unsigned dimse_timeout_ms; /* wait for the rest of a PDU once it started,
                                  and for a send to progress */
    unsigned idle_timeout_ms;  /* wait between messages; the caller passes it
                                  to ul_read_pdv */
    unsigned connect_timeout_ms;
    const char *implementation_class_uid;    /* copied */
    const char *implementation_version_name; /* copied; may be NULL */
} ul_params;

typedef struct ul_assoc ul_assoc;

/*
 * Decides on an A-ASSOCIATE-RQ. ac arrives filled with the RQ's AE titles
 * and application context, our maximum length and implementation names,
 * and no presentation context. Returns 0 to accept (the callback appends
 * one answer per proposed context, with ul_assoc_ac_add_pctx; contexts left
 * out are answered "no reason"), 1 to reject (rj filled), or -1 to abort.
 * The callback must not change ac->user_info.max_pdu_length.
 */
typedef int (*ul_negotiate_fn)(void *arg, const ul_assoc_rq *rq, ul_assoc_ac *ac,
                               ul_assoc_rj *rj);

/*
 * Runs the acceptor side on a connected socket: waits up to the ARTIM
 * timeout for the A-ASSOCIATE-RQ, answers malformed or unexpected PDUs with
 * A-ABORT (service-provider source and the reason) or A-ASSOCIATE-RJ,
 * calls negotiate, and sends the A-ASSOCIATE-AC or -RJ. Takes ownership of
 * fd, which is closed on failure. Returns UL_OK with *out set, or
 * UL_REJECTED, UL_ABORTED, UL_TIMEOUT (ARTIM expired), UL_CLOSED,
 * UL_PROTOCOL_ERROR, UL_ERROR (negotiate returned -1, or a local failure).
 */
int ul_accept(int fd, const ul_params *params, ul_negotiate_fn negotiate, void *arg,
              ul_assoc **out);

/*
 * Runs the requestor side: connects to host:port (IPv4 or IPv6, within the
 * connect timeout), sends rq with our maximum length and, where rq leaves
 * them empty, our implementation names, and waits up to the ARTIM timeout
 * for the answer. Returns UL_OK with *out set; UL_REJECTED with *rj_out
 * filled (when not NULL); UL_CONNECT_FAILED with errno set when the TCP
 * connection could not be opened; UL_TIMEOUT, UL_CLOSED (the connection
 * closed before the A-ASSOCIATE-AC or -RJ), UL_ABORTED, UL_PROTOCOL_ERROR or UL_ERROR
 * otherwise.
 */
int ul_connect(const char *host, uint16_t port, const ul_params *params,
               const ul_assoc_rq *rq, ul_assoc **out, ul_assoc_rj *rj_out);

/* The negotiated RQ and AC, owned by the association. */
const ul_assoc_rq *ul_assoc_request(const ul_assoc *assoc);
const ul_assoc_ac *ul_assoc_accept(const ul_assoc *assoc);
/* Largest P-DATA-TF length we send: the peer's maximum, capped. */
uint32_t ul_assoc_max_pdu_send(const ul_assoc *assoc);
/* True when the presentation context ID was accepted. */
bool ul_assoc_pctx_accepted(const ul_assoc *assoc, uint8_t pctx_id);
/* ctx is retained, not copied: it must outlive the association. */
void ul_assoc_set_log_ctx(ul_assoc *assoc, const log_ctx *ctx);

/*
 * Returns the next PDV. pdv->data points into the association's receive
 * buffer (at most our announced maximum) and stays valid until the next
 * call. timeout_ms bounds the wait for the next PDU to start (0: no limit).
 * Returns UL_OK; UL_RELEASE_REQUESTED (answer with ul_release_respond);
 * UL_TIMEOUT (nothing arrived; the association is still usable unless a
 * PDU was cut short, which aborts it); UL_ABORTED; UL_CLOSED;
 * UL_PROTOCOL_ERROR (A-ABORT sent: PDU over our maximum, inconsistent or
 * empty PDV item, presentation context not accepted, unexpected or unknown
 * PDU); UL_ERROR.
 */
int ul_read_pdv(ul_assoc *assoc, ul_pdv *pdv, unsigned timeout_ms);

/* Smallest PDV payload that ul_read_pdv_to hands to a sink. */
#define UL_SINK_MIN 4096u

/*
 * Destination of data PDV payloads for ul_read_pdv_to. reserve returns
 * where the next bytes go and sets *room (at least 1) to how many fit
 * there. store then reports that n bytes were written there. When reserve
 * returns NULL or store returns -1, the rest of the PDV is read and
 * dropped, so the sink must record why.
 */
typedef struct ul_pdv_sink {
    uint8_t *(*reserve)(void *arg, size_t *room);
    int (*store)(void *arg, size_t n);
    void *arg;
} ul_pdv_sink;

/*
 * Like ul_read_pdv, but a data PDV of at least UL_SINK_MIN bytes that
 * fills its P-DATA-TF alone goes from the socket straight into sink,
 * without a copy through the receive buffer. pdv->data is then NULL and
 * pdv->len the payload's length. Other PDVs come back as from
 * ul_read_pdv, with the data in the receive buffer. sink may be NULL.
 */
int ul_read_pdv_to(ul_assoc *assoc, ul_pdv *pdv, unsigned timeout_ms, const ul_pdv_sink *sink);

/*
 * Returns true when ul_read_pdv would find input at once: a PDV left in
 * the last PDU, or bytes waiting on the socket. Never blocks.
 */
bool ul_input_pending(ul_assoc *assoc);

/*
 * Marks the next P-DATA-TF as followed at once by another, such as a
 * command by its data set. The next PDU then goes out with MSG_MORE, so
 * the kernel can send both in one TCP segment and the peer wakes once.
 * The PDU after it pushes both out, so call this only when that second
 * PDU is ready to be written.
 */
void ul_more_follows(ul_assoc *assoc);

/*
 * Appends len bytes to the current command or data set of pctx_id. Bytes
 * are buffered into P-DATA-TF PDUs of the peer's maximum length; a full PDU
 * is sent when more bytes follow, and last marks the final fragment and
 * sends what remains. Returns UL_OK, UL_CLOSED, UL_TIMEOUT, or UL_ERROR
 * (context not accepted, a message of another context or kind still open,
 * an empty message, or the state does not allow P-DATA).
 */
int ul_write_pdv(ul_assoc *assoc, uint8_t pctx_id, bool command, const void *data,
                 size_t len, bool last);

/*
 * Requestor-side release: sends A-RELEASE-RQ and waits up to the ARTIM
 * timeout for A-RELEASE-RP, answering a release collision as table 9-10
 * prescribes. PDVs that arrive meanwhile are discarded. Returns UL_OK when
 * released (the transport is closed), or an error status.
 */
int ul_release(ul_assoc *assoc);

/* Answers the peer's A-RELEASE-RQ and waits for it to close the transport. */
int ul_release_respond(ul_assoc *assoc);

/* Sends A-ABORT and waits up to the ARTIM timeout for the peer to close. */
void ul_abort(ul_assoc *assoc, uint8_t source, uint8_t reason);

/* Closes the socket and frees the association; NULL is allowed. */
void ul_assoc_destroy(ul_assoc *assoc);

#endif
