/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Association release: the requestor's A-RELEASE-RQ and wait for the
 * A-RELEASE-RP, including both sides of a release collision (Sta9 to
 * Sta12), and the response to the peer's A-RELEASE-RQ.
 */
#include "ul/ul_internal.h"

int ul_release(ul_assoc *assoc)
{
    ul_assoc *a = assoc;
    ul_indication ind;

    if (ul_fsm_dispatch(&a->fsm, UL_EVT11) == UL_IND_INVALID)
        return UL_ERROR;
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        return UL_CLOSED;
    }
    a->fragment_open = false;
    a->wlen = 0;

    /* Each pass reads one PDU; the peer can send at most a bounded number
     * of PDVs before ARTIM or the RP ends the loop. */
    while (a->fsm.state != UL_STA1) {
        int r = ul_receive_event(a, a->params.artim_timeout_ms, &ind);
        if (r == UL_TIMEOUT) {
            log_error(a->log, "no A-RELEASE-RP within %u ms; aborting",
                      a->params.artim_timeout_ms);
            ul_abort_local(a, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            return UL_TIMEOUT;
        }
        if (r != UL_OK) {
            if (a->fsm.state == UL_STA13)
                ul_wait_for_close(a);
            return r;
        }

        switch (ind) {
        case UL_IND_P_DATA:
            log_warn(a->log, "PDV received while releasing; discarded");
            a->rlen = 0;
            break;
        case UL_IND_RELEASE_COLLISION:
            log_debug(a->log, "release collision, now in %s", ul_fsm_state_name(a->fsm.state));
            /* Requestor side (Sta9): send the RP at once (AR-9), then await
             * the RP in Sta11. Acceptor side (Sta10): await the RP first. */
            if (a->fsm.state == UL_STA9)
                ul_fsm_dispatch(&a->fsm, UL_EVT14);
            break;
        case UL_IND_RELEASE_CONFIRM:
            if (a->fsm.state == UL_STA12) {
                /* AR-4: our RP goes last; wait for the peer to close. */
                ul_fsm_dispatch(&a->fsm, UL_EVT14);
                ul_wait_for_close(a);
            }
            break;
        default:
            break;
        }
        if (a->fsm.transport_failed) {
            ul_fsm_dispatch(&a->fsm, UL_EVT17);
            return UL_CLOSED;
        }
    }
    log_debug(a->log, "association released");
    return UL_OK;
}

int ul_release_respond(ul_assoc *assoc)
{
    ul_assoc *a = assoc;

    if (ul_fsm_dispatch(&a->fsm, UL_EVT14) == UL_IND_INVALID)
        return UL_ERROR;
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        return UL_CLOSED;
    }
    ul_wait_for_close(a);
    log_debug(a->log, "association released by the peer");
    return UL_OK;
}
