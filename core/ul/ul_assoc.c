/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The association object: accessors, the setup of data transfer once the
 * association is established, abort, and destruction.
 */
#include "ul/ul_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ul_strerror(int status)
{
    switch (status) {
    case UL_OK:
        return "success";
    case UL_RELEASE_REQUESTED:
        return "release requested by the peer";
    case UL_ERROR:
        return "local error";
    case UL_REJECTED:
        return "association rejected";
    case UL_ABORTED:
        return "association aborted by the peer";
    case UL_TIMEOUT:
        return "timed out";
    case UL_CLOSED:
        return "connection closed";
    case UL_CONNECT_FAILED:
        return "TCP connection failed";
    case UL_PROTOCOL_ERROR:
        return "protocol error";
    default:
        return "unknown status";
    }
}

const ul_assoc_rq *ul_assoc_request(const ul_assoc *assoc)
{
    return &assoc->rq;
}

const ul_assoc_ac *ul_assoc_accept(const ul_assoc *assoc)
{
    return &assoc->ac;
}

uint32_t ul_assoc_max_pdu_send(const ul_assoc *assoc)
{
    return assoc->max_pdu_send;
}

bool ul_assoc_pctx_accepted(const ul_assoc *assoc, uint8_t pctx_id)
{
    return assoc->pctx_accepted[pctx_id];
}

void ul_assoc_set_log_ctx(ul_assoc *assoc, const log_ctx *ctx)
{
    assoc->log = ctx ? ctx : &assoc->own_log;
}

int ul_assoc_setup_transfer(ul_assoc *a, uint32_t peer_max_pdu)
{
    bool proposed[256] = {false};

    for (size_t i = 0; i < a->rq.pctx_count; i++)
        proposed[a->rq.pctx[i].id] = true;
    /* Only contexts we proposed count, whatever else the AC lists. */
    for (size_t i = 0; i < a->ac.pctx_count; i++) {
        const ul_pctx_ac *pc = &a->ac.pctx[i];
        if (pc->result == UL_PCTX_ACCEPTANCE && proposed[pc->id])
            a->pctx_accepted[pc->id] = true;
    }

    a->max_pdu_send = peer_max_pdu;
    if (peer_max_pdu == 0 || peer_max_pdu > UL_SEND_PDU_CAP)
        a->max_pdu_send = UL_SEND_PDU_CAP;
    if (a->params.max_pdu_send != 0 && a->params.max_pdu_send < a->max_pdu_send)
        a->max_pdu_send = a->params.max_pdu_send;

    free(a->wbuf);
    a->wbuf = malloc(UL_PDU_HEADER_LEN + (size_t)a->max_pdu_send);
    a->wlen = 0;
    a->fragment_open = false;
    if (!a->wbuf)
        return -1;

    /* Shrink a buffer grown for a large A-ASSOCIATE-RQ. */
    size_t want = UL_PDU_HEADER_LEN + (size_t)a->max_pdu_receive;
    uint8_t *r = realloc(a->rbuf, want);
    if (!r)
        return -1;
    a->rbuf = r;
    a->rbuf_cap = want;
    a->rlen = 0;
    a->rnext = 0;

    snprintf(a->own_log.calling_ae, sizeof a->own_log.calling_ae, "%s", a->rq.calling_ae);
    snprintf(a->own_log.called_ae, sizeof a->own_log.called_ae, "%s", a->rq.called_ae);
    log_debug(a->log, "association established: max PDU received %u, sent %u, %zu of %zu "
              "presentation contexts accepted", a->max_pdu_receive, a->max_pdu_send,
              a->ac.pctx_count, a->rq.pctx_count);
    return 0;
}

void ul_abort_local(ul_assoc *a, uint8_t source, uint8_t reason)
{
    a->fsm.abort_source = source;
    a->fsm.abort_reason = reason;
    /* Sta1, Sta2 and Sta13 have no A-ABORT request action: close, or keep
     * waiting for the peer to close. */
    if (ul_fsm_dispatch(&a->fsm, UL_EVT15) == UL_IND_INVALID && a->fsm.state != UL_STA13) {
        if (a->fd >= 0)
            close(a->fd);
        a->fd = -1;
        a->fsm.state = UL_STA1;
        return;
    }
    ul_wait_for_close(a);
}

void ul_abort(ul_assoc *assoc, uint8_t source, uint8_t reason)
{
    if (!assoc || assoc->fd < 0)
        return;

    log_info(assoc->log, "aborting the association (source %u, reason %u)", source, reason);
    ul_abort_local(assoc, source, reason);
}

void ul_assoc_destroy(ul_assoc *assoc)
{
    if (!assoc)
        return;

    if (assoc->fd >= 0)
        close(assoc->fd);
    ul_assoc_rq_free(&assoc->rq);
    ul_assoc_ac_free(&assoc->ac);
    free(assoc->rbuf);
    free(assoc->wbuf);
    free(assoc);
}
