/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Acceptor side of association establishment: Sta2 (awaiting the
 * A-ASSOCIATE-RQ under ARTIM), Sta3 (the local user decides), then AE-7 to
 * Sta6 or AE-8 to Sta13.
 */
#include "ul/ul_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void log_request(const ul_assoc *a)
{
    const ul_assoc_rq *rq = &a->rq;

    log_debug(a->log, "A-ASSOCIATE-RQ from %s to %s: max PDU %u, implementation %s %s, "
              "%zu presentation contexts", rq->calling_ae, rq->called_ae,
              rq->user_info.max_pdu_length, rq->user_info.implementation_class_uid,
              rq->user_info.implementation_version_name, rq->pctx_count);
    for (size_t i = 0; i < rq->pctx_count; i++)
        log_debug(a->log, "  context %u: %s with %zu transfer syntaxes, first %s",
                  rq->pctx[i].id, rq->pctx[i].abstract_syntax,
                  rq->pctx[i].transfer_syntax_count, rq->pctx[i].transfer_syntaxes[0]);
}

/* Fills what the A-ASSOCIATE-AC copies from the RQ and from our settings. */
static void prefill_ac(const ul_assoc *a, ul_assoc_ac *ac)
{
    memset(ac, 0, sizeof *ac);
    ac->protocol_version = UL_PROTOCOL_VERSION;
    memcpy(ac->called_ae, a->rq.called_ae, sizeof ac->called_ae);
    memcpy(ac->calling_ae, a->rq.calling_ae, sizeof ac->calling_ae);
    memcpy(ac->application_context, a->rq.application_context,
           sizeof ac->application_context);
    ac->user_info.max_pdu_length = a->max_pdu_receive;
    memcpy(ac->user_info.implementation_class_uid, a->implementation_class_uid,
           sizeof ac->user_info.implementation_class_uid);
    memcpy(ac->user_info.implementation_version_name, a->implementation_version_name,
           sizeof ac->user_info.implementation_version_name);
}

/* PS3.8 requires a result for every proposed context; add those left out. */
static int complete_ac(const ul_assoc_rq *rq, ul_assoc_ac *ac)
{
    for (size_t i = 0; i < rq->pctx_count; i++) {
        bool answered = false;
        for (size_t j = 0; j < ac->pctx_count && !answered; j++)
            answered = ac->pctx[j].id == rq->pctx[i].id;
        if (!answered && ul_assoc_ac_add_pctx(ac, rq->pctx[i].id, UL_PCTX_NO_REASON, "") != 0)
            return -1;
    }
    return 0;
}

/* Sta3: calls the negotiate callback and sends AC (Evt7) or RJ (Evt8). */
static int respond(ul_assoc *a, ul_negotiate_fn negotiate, void *arg)
{
    ul_assoc_ac ac;
    ul_assoc_rj rj = {UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER, UL_REJECT_USER_NO_REASON};
    uint8_t *pdu = NULL;
    size_t len = 0;
    int result = UL_ERROR;

    prefill_ac(a, &ac);
    int decision = negotiate(arg, &a->rq, &ac, &rj);

    if (decision == 1) {
        a->rj = rj;
        log_info(a->log, "rejecting association from %s (result %u, source %u, reason %u)",
                 a->rq.calling_ae, rj.result, rj.source, rj.reason);
        ul_fsm_dispatch(&a->fsm, UL_EVT8);
        ul_wait_for_close(a);
        result = UL_REJECTED;
        goto out;
    }
    if (decision != 0) {
        log_error(a->log, "association negotiation failed; aborting");
        ul_abort_local(a, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        goto out;
    }

    ac.user_info.max_pdu_length = a->max_pdu_receive;
    if (complete_ac(&a->rq, &ac) != 0 || ul_encode_assoc_ac(&ac, &pdu, &len) != 0) {
        log_error(a->log, "cannot encode the A-ASSOCIATE-AC; aborting");
        ul_abort_local(a, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
        goto out;
    }

    a->pending = pdu;
    a->pending_len = len;
    ul_fsm_dispatch(&a->fsm, UL_EVT7);
    a->pending = NULL;
    if (a->fsm.transport_failed) {
        ul_fsm_dispatch(&a->fsm, UL_EVT17);
        result = UL_CLOSED;
        goto out;
    }

    a->ac = ac;
    memset(&ac, 0, sizeof ac);
    if (ul_assoc_setup_transfer(a, a->rq.user_info.max_pdu_length) != 0) {
        ul_abort_local(a, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
        goto out;
    }
    result = UL_OK;

out:
    free(pdu);
    ul_assoc_ac_free(&ac);
    return result;
}

int ul_accept(int fd, const ul_params *params, ul_negotiate_fn negotiate, void *arg,
              ul_assoc **out)
{
    ul_indication ind;
    int result;

    *out = NULL;
    ul_assoc *a = ul_assoc_new(fd, params, false);
    if (!a) {
        close(fd);
        return UL_ERROR;
    }

    /* Evt5, AE-5: the transport connection is open, ARTIM starts. */
    ul_fsm_dispatch(&a->fsm, UL_EVT5);
    result = ul_receive_event(a, params->artim_timeout_ms, &ind);
    if (result == UL_TIMEOUT)
        log_info(a->log, "no A-ASSOCIATE-RQ within %u ms; connection closed",
                 params->artim_timeout_ms);
    if (result != UL_OK || ind != UL_IND_ASSOCIATE) {
        if (a->fsm.state == UL_STA13)
            ul_wait_for_close(a);
        if (result == UL_OK)
            result = UL_PROTOCOL_ERROR;
        goto fail;
    }

    snprintf(a->own_log.calling_ae, sizeof a->own_log.calling_ae, "%s", a->rq.calling_ae);
    snprintf(a->own_log.called_ae, sizeof a->own_log.called_ae, "%s", a->rq.called_ae);
    log_request(a);

    result = respond(a, negotiate, arg);
    if (result != UL_OK)
        goto fail;
    *out = a;
    return UL_OK;

fail:
    ul_assoc_destroy(a);
    return result;
}
