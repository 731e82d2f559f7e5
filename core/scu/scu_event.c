/* SPDX-License-Identifier: Apache-2.0 */
/*
 * N-EVENT-REPORT requests sent by the archive (PS3.7 10.1.1): the host API's
 * assoc_event_report, on an association a peer opened, and
 * remote_event_report, on an association of its own to a configured remote
 * that proposes the SOP class with an SCP/SCU Role Selection item giving
 * the archive the SCP role (how a Storage Commitment SCP reports when the
 * requesting association has gone, PS3.4 J.3.3). Each call sends one
 * request and waits for its response; the Event Reply, when there is one,
 * is read and dropped.
 */
#include "scu/scu_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc/assoc.h"
#include "config/conf.h"
#include "dimse/dimse.h"
#include "metrics/metrics.h"
#include "scu/scu_internal.h"

#define EVENT_PCTX_ID 1

/* The request to send and where it goes. */
typedef struct event_request {
    struct ul_assoc *ul;
    const log_ctx *log;
    uint8_t pctx_id;
    const dcm_ts *ts;
    uint16_t message_id;
    const char *sop_class;
    const char *sop_instance;
    uint16_t event_type_id;
    const dcm_dataset *event_info;
    unsigned timeout_ms;
} event_request;

/* Returns the accepted context of ul whose abstract syntax is sop_class, or 0. */
static uint8_t find_context(const struct ul_assoc *ul, const char *sop_class, const dcm_ts **ts)
{
    const ul_assoc_rq *rq = ul_assoc_request(ul);
    const ul_assoc_ac *ac = ul_assoc_accept(ul);

    for (size_t i = 0; i < rq->pctx_count; i++) {
        if (strcmp(rq->pctx[i].abstract_syntax, sop_class) != 0)
            continue;
        for (size_t j = 0; j < ac->pctx_count; j++) {
            if (ac->pctx[j].id != rq->pctx[i].id || ac->pctx[j].result != UL_PCTX_ACCEPTANCE)
                continue;
            *ts = dcm_ts_find(ac->pctx[j].transfer_syntax);
            if (*ts != NULL)
                return ac->pctx[j].id;
        }
    }
    return 0;
}

static int write_request(const event_request *req)
{
    dcm_dataset *command = dcm_dataset_create();
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = -1;

    if (command == NULL)
        return -1;
    if (dcm_dataset_set_string(command, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                               req->sop_class) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_COMMAND_FIELD, DIMSE_N_EVENT_REPORT_RQ) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_MESSAGE_ID, req->message_id) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_DATASET_TYPE,
                            req->event_info ? 0x0001 : DIMSE_NO_DATASET) != DCM_OK ||
        dcm_dataset_set_string(command, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, DCM_VR_UI,
                               req->sop_instance) != DCM_OK ||
        dcm_dataset_set_u16(command, DCM_TAG(0x0000, 0x1002), req->event_type_id) != DCM_OK ||
        dimse_encode_command(command, &bytes, &len) != DCM_OK)
        goto out;
    if (ul_write_pdv(req->ul, req->pctx_id, true, bytes, len, true) != UL_OK)
        goto out;

    if (req->event_info != NULL) {
        free(bytes);
        bytes = NULL;
        if (dcm_encode_buffer(req->event_info, req->ts, &bytes, &len) != DCM_OK)
            goto out;
        if (ul_write_pdv(req->ul, req->pctx_id, false, bytes, len, true) != UL_OK)
            goto out;
    }
    rc = 0;

out:
    free(bytes);
    dcm_dataset_destroy(command);
    return rc;
}

/*
 * Reads PDVs until the command set of the response is complete and, when
 * it announces one, its data set too. Returns CAIRN_OK with *command set,
 * CAIRN_ERR_CANCELLED after granting the peer's release, or another
 * failure after which the association is unusable.
 */
static cairn_status read_response(const event_request *req, dcm_dataset **command)
{
    uint8_t *buf = malloc(DIMSE_MAX_COMMAND_BYTES);
    size_t len = 0;
    bool command_done = false, expect_data = false;
    cairn_status st = CAIRN_ERR_IO;
    ul_pdv pdv;
    int rc;

    *command = NULL;
    if (buf == NULL)
        return CAIRN_ERR_NO_MEMORY;

    while (!command_done || expect_data) {
        rc = ul_read_pdv(req->ul, &pdv, req->timeout_ms);
        if (rc == UL_RELEASE_REQUESTED) {
            ul_release_respond(req->ul);
            st = CAIRN_ERR_CANCELLED;
            goto out;
        }
        if (rc == UL_TIMEOUT) {
            ul_abort(req->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            st = CAIRN_ERR_TIMEOUT;
            goto out;
        }
        if (rc != UL_OK)
            goto out;

        if (!pdv.command) {
            /* The Event Reply is not needed; its last fragment ends the message. */
            if (!command_done)
                goto protocol_error;
            if (pdv.last)
                expect_data = false;
            continue;
        }
        if (command_done || pdv.len > DIMSE_MAX_COMMAND_BYTES - len)
            goto protocol_error;
        memcpy(buf + len, pdv.data, pdv.len);
        len += pdv.len;
        if (!pdv.last)
            continue;

        command_done = true;
        if (dcm_parse_buffer(buf, len, DCM_TS_IMPLICIT_LE, NULL, command, NULL) != DCM_OK)
            goto protocol_error;
        {
            uint32_t type = DIMSE_NO_DATASET;

            dcm_dataset_get_uint(*command, DIMSE_TAG_DATASET_TYPE, 0, &type);
            expect_data = type != DIMSE_NO_DATASET;
        }
    }
    st = CAIRN_OK;
    goto out;

protocol_error:
    log_warn(req->log, "scu: the N-EVENT-REPORT-RSP breaks PS3.7; aborting the association");
    ul_abort(req->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    st = CAIRN_ERR_PARSE;

out:
    if (st != CAIRN_OK) {
        dcm_dataset_destroy(*command);
        *command = NULL;
    }
    free(buf);
    return st;
}

/* Sends the request and reads the Status of its response into *status. */
static cairn_status exchange(const event_request *req, cairn_dimse_status *status)
{
    dcm_dataset *command = NULL;
    uint32_t field = 0, responded = 0, value = 0;
    cairn_status st;

    if (write_request(req) != 0) {
        log_warn(req->log, "scu: cannot send the N-EVENT-REPORT-RQ for %s", req->sop_instance);
        return CAIRN_ERR_IO;
    }
    st = read_response(req, &command);
    if (st != CAIRN_OK)
        return st;

    dcm_dataset_get_uint(command, DIMSE_TAG_COMMAND_FIELD, 0, &field);
    dcm_dataset_get_uint(command, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    if (field != (DIMSE_N_EVENT_REPORT_RQ | DIMSE_RESPONSE_BIT) ||
        responded != req->message_id ||
        dcm_dataset_get_uint(command, DIMSE_TAG_STATUS, 0, &value) != DCM_OK) {
        log_warn(req->log, "scu: expected an N-EVENT-REPORT-RSP to message %u with a Status, "
                 "received %s to message %u; aborting the association", req->message_id,
                 dimse_command_name((uint16_t)field), responded);
        ul_abort(req->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        st = CAIRN_ERR_PARSE;
    } else {
        *status = (cairn_dimse_status)value;
        log_debug(req->log, "scu: N-EVENT-REPORT-RSP for %s: status 0x%04X", req->sop_instance,
                  *status);
    }
    dcm_dataset_destroy(command);
    return st;
}

static bool valid_arguments(const char *sop_class, const char *sop_instance,
                            const cairn_dimse_status *status)
{
    return sop_class != NULL && sop_instance != NULL && status != NULL &&
           strlen(sop_class) <= 64 && strlen(sop_instance) <= 64;
}

cairn_status scu_host_assoc_event_report(cairn_assoc *assoc, const char *sop_class,
                                         const char *sop_instance, uint16_t event_type_id,
                                         const cairn_dataset *event_info,
                                         cairn_dimse_status *status)
{
    event_request req = {0};
    cairn_status st;

    if (assoc == NULL || assoc->ul == NULL || !valid_arguments(sop_class, sop_instance, status))
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (assoc->ended)
        return CAIRN_ERR_IO;

    req.pctx_id = find_context(assoc->ul, sop_class, &req.ts);
    if (req.pctx_id == 0)
        return CAIRN_ERR_UNSUPPORTED;
    req.ul = assoc->ul;
    req.log = &assoc->log;
    req.message_id = ++assoc->last_store_message_id;
    if (req.message_id == 0)
        req.message_id = ++assoc->last_store_message_id;
    req.sop_class = sop_class;
    req.sop_instance = sop_instance;
    req.event_type_id = event_type_id;
    req.event_info = (const dcm_dataset *)event_info;
    req.timeout_ms = assoc->conf ? (unsigned)assoc->conf->network.dimse_timeout * 1000u : 0;

    st = exchange(&req, status);
    if (st == CAIRN_ERR_CANCELLED) {
        log_info(&assoc->log, "association released before the N-EVENT-REPORT-RSP");
        metrics_add(METRIC_ASSOC_RELEASED, 1);
        assoc->ended = true;
    } else if (st != CAIRN_OK) {
        metrics_add(METRIC_ASSOC_ABORTED_LOCALLY, 1);
        assoc->ended = true;
    }
    return st;
}

/* Connects to remote proposing sop_class with the archive as SCP. NULL on failure. */
static struct ul_assoc *connect_for_report(const cairn_conf *conf, const conf_remote *remote,
                                           const char *calling_ae, const char *sop_class,
                                           const log_ctx *log)
{
    static const char *const syntaxes[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
    ul_assoc_rq rq = {.protocol_version = UL_PROTOCOL_VERSION};
    ul_assoc_rj rj = {0};
    struct ul_assoc *ul = NULL;
    ul_params params;
    int rc;

    snprintf(rq.called_ae, sizeof rq.called_ae, "%s", remote->title);
    snprintf(rq.calling_ae, sizeof rq.calling_ae, "%s", calling_ae);
    snprintf(rq.application_context, sizeof rq.application_context, "%s",
             UL_DICOM_APPLICATION_CONTEXT);
    if (ul_assoc_rq_add_pctx(&rq, EVENT_PCTX_ID, sop_class, syntaxes, 2) != 0 ||
        ul_assoc_rq_add_role(&rq, sop_class, false, true) != 0)
        goto out;

    assoc_ul_params(conf, &params);
    rc = ul_connect(remote->host, (uint16_t)remote->port, &params, &rq, &ul, &rj);
    if (rc == UL_REJECTED) {
        log_warn(log, "scu: %s at %s port %d rejected the association for an "
                 "N-EVENT-REPORT: %s", remote->title, remote->host, remote->port,
                 scu_reject_reason(&rj));
        goto out;
    }
    if (rc != UL_OK) {
        log_warn(log, "scu: cannot open an association to %s at %s port %d for an "
                 "N-EVENT-REPORT: %s", remote->title, remote->host, remote->port,
                 ul_strerror(rc));
        goto out;
    }
    ul_assoc_set_log_ctx(ul, log);
    if (!ul_assoc_pctx_accepted(ul, EVENT_PCTX_ID)) {
        log_warn(log, "scu: %s accepted the association but not %s with explicit or "
                 "implicit VR little endian", remote->title, sop_class);
        ul_release(ul);
        ul_assoc_destroy(ul);
        ul = NULL;
    }
    /* NOTE: a peer that leaves the role item out of its answer is taken to accept the SCP role. */

out:
    ul_assoc_rq_free(&rq);
    return ul;
}

cairn_status scu_event_report_as(const cairn_conf *conf, const log_ctx *log,
                                 const char *calling_ae, const char *remote_title,
                                 const char *sop_class, const char *sop_instance,
                                 uint16_t event_type_id, const cairn_dataset *event_info,
                                 cairn_dimse_status *status)
{
    const conf_remote *remote;
    event_request req = {0};
    cairn_status st;

    if (conf == NULL || calling_ae == NULL || remote_title == NULL ||
        !valid_arguments(sop_class, sop_instance, status))
        return CAIRN_ERR_INVALID_ARGUMENT;
    remote = conf_find_remote(conf, remote_title);
    if (remote == NULL) {
        log_warn(log, "scu: remote AE \"%s\" is not configured (remotes)", remote_title);
        return CAIRN_ERR_NOT_FOUND;
    }
    if (scu_slot_acquire(remote->title, remote->max_associations) != 0)
        return CAIRN_ERR_LIMIT;

    req.ul = connect_for_report(conf, remote, calling_ae, sop_class, log);
    if (req.ul == NULL) {
        st = CAIRN_ERR_REFUSED;
        goto out;
    }
    req.log = log;
    req.pctx_id = find_context(req.ul, sop_class, &req.ts);
    req.message_id = 1;
    req.sop_class = sop_class;
    req.sop_instance = sop_instance;
    req.event_type_id = event_type_id;
    req.event_info = (const dcm_dataset *)event_info;
    req.timeout_ms = (unsigned)conf->network.dimse_timeout * 1000u;

    st = req.pctx_id != 0 ? exchange(&req, status) : CAIRN_ERR_REFUSED;
    if (st == CAIRN_OK && ul_release(req.ul) != UL_OK)
        log_warn(log, "scu: release of the association to %s after the N-EVENT-REPORT failed",
                 remote->title);

out:
    ul_assoc_destroy(req.ul);
    scu_slot_release(remote->title);
    return st;
}
