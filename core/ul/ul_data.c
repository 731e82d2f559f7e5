/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data transfer (Sta6). PDVs are read one by one out of the P-DATA-TF in
 * the receive buffer. Written bytes fill a P-DATA-TF of the peer's maximum
 * length, which is sent when it is full and more bytes follow, or at the
 * last fragment. A PDU we send carries one PDV item, never an empty one.
 */
#include <poll.h>

#include "ul/ul_internal.h"

#include <string.h>

/* PDV item header: 4-byte length, context ID, message control header. */
#define PDV_HEADER_LEN 6

int ul_read_pdv_to(ul_assoc *assoc, ul_pdv *pdv, unsigned timeout_ms, const ul_pdv_sink *sink)
{
    ul_assoc *a = assoc;

    a->sink = sink;
    int r = ul_read_pdv(a, pdv, timeout_ms);
    a->sink = NULL;
    return r;
}

int ul_read_pdv(ul_assoc *assoc, ul_pdv *pdv, unsigned timeout_ms)
{
    ul_assoc *a = assoc;

    if (a->rlen > 0 && a->rbuf[0] == UL_PDU_P_DATA_TF &&
        ul_p_data_next(a->rbuf, a->rlen, &a->rnext, pdv))
        return UL_OK;
    a->rlen = 0;

    switch (a->fsm.state) {
    case UL_STA6:
        break;
    case UL_STA8:
        return UL_RELEASE_REQUESTED;
    case UL_STA1:
    case UL_STA13:
        return UL_CLOSED;
    default:
        return UL_ERROR;
    }

    ul_indication ind;
    int r = ul_receive_event(a, timeout_ms, &ind);
    if (r != UL_OK) {
        if (a->fsm.state == UL_STA13)
            ul_wait_for_close(a);
        return r;
    }
    if (ind == UL_IND_RELEASE) {
        log_debug(a->log, "peer requested release");
        return UL_RELEASE_REQUESTED;
    }
    if (ind == UL_IND_P_DATA && a->streamed) {
        const uint8_t *item = a->rbuf + UL_PDU_HEADER_LEN;

        pdv->pctx_id = item[4];
        pdv->command = false;
        pdv->last = (item[5] & 2) != 0;
        pdv->data = NULL;
        pdv->len = (((size_t)item[0] << 24) | ((size_t)item[1] << 16) | ((size_t)item[2] << 8) |
                    item[3]) - 2;
        a->rlen = 0;
        a->streamed = false;
        return UL_OK;
    }
    if (ind == UL_IND_P_DATA && ul_p_data_next(a->rbuf, a->rlen, &a->rnext, pdv))
        return UL_OK;
    return UL_ERROR;
}

bool ul_input_pending(ul_assoc *assoc)
{
    ul_assoc *a = assoc;
    struct pollfd pfd = {.fd = a->fd, .events = POLLIN};
    size_t next = a->rnext;
    ul_pdv pdv;

    if (a->rlen > 0 && a->rbuf[0] == UL_PDU_P_DATA_TF &&
        ul_p_data_next(a->rbuf, a->rlen, &next, &pdv))
        return true;
    if (a->ahead_len > 0)
        return true;
    return a->fd >= 0 && poll(&pfd, 1, 0) > 0;
}

void ul_more_follows(ul_assoc *assoc)
{
    assoc->more_follows = true;
}

/* Sends the P-DATA-TF in the send buffer (Evt9: DT-1 or AR-7). */
static int flush_pdu(ul_assoc *a, bool last)
{
    size_t item_len = a->wlen - UL_PDU_HEADER_LEN - 4;
    size_t body_len = a->wlen - UL_PDU_HEADER_LEN;
    uint8_t *p = a->wbuf;

    p[0] = UL_PDU_P_DATA_TF;
    p[1] = 0;
    p[2] = (uint8_t)(body_len >> 24);
    p[3] = (uint8_t)(body_len >> 16);
    p[4] = (uint8_t)(body_len >> 8);
    p[5] = (uint8_t)body_len;
    p[6] = (uint8_t)(item_len >> 24);
    p[7] = (uint8_t)(item_len >> 16);
    p[8] = (uint8_t)(item_len >> 8);
    p[9] = (uint8_t)item_len;
    p[10] = a->fragment_pctx;
    p[11] = (uint8_t)((a->fragment_command ? 1 : 0) | (last ? 2 : 0));

    a->pending = a->wbuf;
    a->pending_len = a->wlen;
    ul_indication ind = ul_fsm_dispatch(&a->fsm, UL_EVT9);
    a->pending = NULL;
    a->wlen = 0;
    if (ind == UL_IND_INVALID)
        return UL_ERROR;
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        return UL_CLOSED;
    }
    return UL_OK;
}

int ul_write_pdv(ul_assoc *assoc, uint8_t pctx_id, bool command, const void *data,
                 size_t len, bool last)
{
    ul_assoc *a = assoc;
    const uint8_t *src = data;
    size_t capacity = UL_PDU_HEADER_LEN + (size_t)a->max_pdu_send;

    if (!a->wbuf || !a->pctx_accepted[pctx_id] ||
        (a->fsm.state != UL_STA6 && a->fsm.state != UL_STA8)) {
        a->more_follows = false;
        return UL_ERROR;
    }
    if (a->fragment_open && (a->fragment_pctx != pctx_id || a->fragment_command != command)) {
        log_error(a->log, "PDV for context %u written while a %s of context %u is open",
                  pctx_id, a->fragment_command ? "command" : "data set", a->fragment_pctx);
        a->more_follows = false;
        return UL_ERROR;
    }

    while (len > 0) {
        /* The buffer is full and more bytes follow: send it as a middle
         * fragment. Waiting until then keeps the last fragment non-empty. */
        if (a->fragment_open && a->wlen == capacity) {
            int r = flush_pdu(a, false);
            if (r != UL_OK)
                return r;
        }
        if (a->wlen == 0) {
            a->wlen = UL_PDU_HEADER_LEN + PDV_HEADER_LEN;
            a->fragment_open = true;
            a->fragment_pctx = pctx_id;
            a->fragment_command = command;
        }

        size_t n = capacity - a->wlen;
        if (n > len)
            n = len;
        memcpy(a->wbuf + a->wlen, src, n);
        a->wlen += n;
        src += n;
        len -= n;
    }

    if (!last)
        return UL_OK;
    if (!a->fragment_open) {
        log_error(a->log, "empty %s for context %u not sent", command ? "command" : "data set",
                  pctx_id);
        return UL_ERROR;
    }
    a->fragment_open = false;
    return flush_pdu(a, true);
}
