/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requestor side of association establishment: Evt1 (AE-1 opens the
 * transport), Evt2 (AE-2 sends the A-ASSOCIATE-RQ), then Sta5 until the
 * A-ASSOCIATE-AC or -RJ arrives.
 */
#include "ul/ul_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Encodes the RQ as sent: our maximum length, and our implementation names
 * where the caller left them empty. The association keeps a decoded copy.
 */
static int prepare_request(ul_assoc *a, const ul_assoc_rq *rq, uint8_t **pdu, size_t *len)
{
    ul_assoc_rq sent = *rq;
    ul_decode_error err;

    sent.user_info.max_pdu_length = a->max_pdu_receive;
    if (sent.user_info.implementation_class_uid[0] == '\0')
        memcpy(sent.user_info.implementation_class_uid, a->implementation_class_uid,
               sizeof sent.user_info.implementation_class_uid);
    if (sent.user_info.implementation_version_name[0] == '\0')
        memcpy(sent.user_info.implementation_version_name, a->implementation_version_name,
               sizeof sent.user_info.implementation_version_name);

    if (ul_encode_assoc_rq(&sent, pdu, len) != 0) {
        log_error(a->log, "cannot encode the A-ASSOCIATE-RQ from %s to %s: check AE titles, "
                  "UIDs and presentation context IDs", rq->calling_ae, rq->called_ae);
        return -1;
    }
    if (ul_decode_assoc_rq(*pdu, *len, &a->rq, &err) != 0) {
        log_error(a->log, "the A-ASSOCIATE-RQ we built is invalid: %s", err.message);
        free(*pdu);
        *pdu = NULL;
        return -1;
    }
    return 0;
}

int ul_connect(const char *host, uint16_t port, const ul_params *params,
               const ul_assoc_rq *rq, ul_assoc **out, ul_assoc_rj *rj_out)
{
    uint8_t *pdu = NULL;
    size_t len = 0;
    ul_indication ind;
    int result = UL_ERROR;
    int connect_errno = 0;

    *out = NULL;
    ul_assoc *a = ul_assoc_new(-1, params, true);
    if (!a)
        return UL_ERROR;
    a->host = host;
    a->port = port;
    snprintf(a->own_log.calling_ae, sizeof a->own_log.calling_ae, "%s", rq->calling_ae);
    snprintf(a->own_log.called_ae, sizeof a->own_log.called_ae, "%s", rq->called_ae);
    if (prepare_request(a, rq, &pdu, &len) != 0)
        goto fail;

    /* Evt1, AE-1: open the transport connection. */
    ul_fsm_dispatch(&a->fsm, UL_EVT1);
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        result = a->connect_status;
        connect_errno = a->connect_errno;
        goto fail;
    }

    /* Evt2, AE-2: send the A-ASSOCIATE-RQ. */
    a->pending = pdu;
    a->pending_len = len;
    ul_fsm_dispatch(&a->fsm, UL_EVT2);
    a->pending = NULL;
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        result = UL_CLOSED;
        goto fail;
    }

    result = ul_receive_event(a, params->artim_timeout_ms, &ind);
    if (result == UL_TIMEOUT) {
        log_error(a->log, "no A-ASSOCIATE-AC or -RJ from %s port %u within %u ms; aborting",
                  host, port, params->artim_timeout_ms);
        ul_abort_local(a, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        goto fail;
    }
    if (result == UL_OK && ind == UL_IND_ASSOCIATE_REJECTED) {
        log_info(a->log, "association rejected by %s (result %u, source %u, reason %u)",
                 host, a->rj.result, a->rj.source, a->rj.reason);
        if (rj_out)
            *rj_out = a->rj;
        result = UL_REJECTED;
        goto fail;
    }
    if (result != UL_OK || ind != UL_IND_ASSOCIATE_ACCEPTED) {
        if (a->fsm.state == UL_STA13)
            ul_wait_for_close(a);
        if (result == UL_OK)
            result = UL_PROTOCOL_ERROR;
        goto fail;
    }

    if (ul_assoc_setup_transfer(a, a->ac.user_info.max_pdu_length) != 0) {
        ul_abort_local(a, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
        result = UL_ERROR;
        goto fail;
    }
    free(pdu);
    *out = a;
    return UL_OK;

fail:
    free(pdu);
    ul_assoc_destroy(a);
    if (result == UL_CONNECT_FAILED)
        errno = connect_errno;
    return result;
}
