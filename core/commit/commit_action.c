/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Storage Commitment request on an association of its own. It
 * connects from our AE title proposing the Storage Commitment SOP Class
 * with no role item, so we are its SCU. It sends the N-ACTION-RQ (Action
 * Type 1, Transaction UID, Referenced SOP Sequence), reads the N-ACTION-RSP
 * and releases the association. A remote that sends its N-EVENT-REPORT at once on the same
 * association (PS3.4 J.3.3 allows it) gets it applied and answered when it
 * arrives within same_association_wait_ms. Otherwise the release makes the
 * remote report on a new association.
 */
#include "commit/commit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc/assoc.h"
#include "dimse/dimse.h"
#include "scu/scu_internal.h"

#define ACTION_PCTX_ID 1
#define TAG_ACTION_TYPE_ID DCM_TAG(0x0000, 0x1008)
#define TAG_EVENT_TYPE_ID DCM_TAG(0x0000, 0x1002)
#define TAG_REFERENCED_SOP_CLASS_UID DCM_TAG(0x0008, 0x1150)
#define TAG_REFERENCED_SOP_INSTANCE_UID DCM_TAG(0x0008, 0x1155)
#define TAG_TRANSACTION_UID DCM_TAG(0x0008, 0x1195)
#define TAG_REFERENCED_SOP_SEQUENCE DCM_TAG(0x0008, 0x1199)

/* The open association of one request. */
typedef struct action_assoc {
    ul_assoc *ul;
    const log_ctx *log;
    const dcm_ts *ts;
    unsigned dimse_timeout_ms;
    bool broken; /* aborted or closed, so only ul_assoc_destroy remains */
} action_assoc;

/* Appends one PDV to buf, bounded by max. */
static int append(uint8_t **buf, size_t *len, size_t max, const ul_pdv *pdv)
{
    uint8_t *grown;

    if (pdv->len > max - *len)
        return -1;
    grown = realloc(*buf, *len + pdv->len + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + *len, pdv->data, pdv->len);
    *buf = grown;
    *len += pdv->len;
    return 0;
}

/*
 * Reads one message: its command and, when it has one, its data set.
 * first_timeout_ms bounds the wait for the first PDV, the DIMSE timeout
 * the others. Returns UL_OK, UL_TIMEOUT when nothing arrived in time (the
 * association is still usable), UL_RELEASE_REQUESTED, or another failure
 * (the association was aborted or broke).
 */
static int read_message(action_assoc *as, unsigned first_timeout_ms, dcm_dataset **command,
                        dcm_dataset **dataset)
{
    uint8_t *cmd_bytes = NULL, *data_bytes = NULL;
    size_t cmd_len = 0, data_len = 0;
    bool cmd_done = false, want_data = false;
    uint32_t type = DIMSE_NO_DATASET;
    int rc;
    ul_pdv pdv;

    *command = NULL;
    *dataset = NULL;
    for (;;) {
        rc = ul_read_pdv(as->ul, &pdv, cmd_len == 0 && !cmd_done ? first_timeout_ms
                                                                 : as->dimse_timeout_ms);
        if (rc == UL_TIMEOUT && (cmd_len > 0 || cmd_done))
            goto protocol_error;
        if (rc != UL_OK)
            goto out;
        if (pdv.pctx_id != ACTION_PCTX_ID)
            goto protocol_error;

        if (pdv.command) {
            if (cmd_done || append(&cmd_bytes, &cmd_len, DIMSE_MAX_COMMAND_BYTES, &pdv) != 0)
                goto protocol_error;
            if (!pdv.last)
                continue;
            cmd_done = true;
            if (dcm_parse_buffer(cmd_bytes, cmd_len, DCM_TS_IMPLICIT_LE, NULL, command,
                                 NULL) != DCM_OK)
                goto protocol_error;
            dcm_dataset_get_uint(*command, DIMSE_TAG_DATASET_TYPE, 0, &type);
            want_data = type != DIMSE_NO_DATASET;
            if (!want_data)
                break;
            continue;
        }
        if (!cmd_done || !want_data ||
            append(&data_bytes, &data_len, DIMSE_MAX_DATASET_BYTES, &pdv) != 0)
            goto protocol_error;
        if (pdv.last)
            break;
    }
    if (want_data &&
        dcm_parse_buffer(data_bytes, data_len, as->ts, NULL, dataset, NULL) != DCM_OK)
        goto protocol_error;
    rc = UL_OK;
    goto out;

protocol_error:
    log_warn(as->log, "commitment: a message from the remote breaks PS3.7; aborting the "
             "association");
    ul_abort(as->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    rc = UL_PROTOCOL_ERROR;

out:
    if (rc != UL_OK) {
        dcm_dataset_destroy(*command);
        *command = NULL;
        as->broken = rc != UL_TIMEOUT && rc != UL_RELEASE_REQUESTED;
    }
    free(cmd_bytes);
    free(data_bytes);
    return rc;
}

/* Writes a command and, when dataset is not NULL, its data set. */
static int write_message(action_assoc *as, dcm_dataset *command, const dcm_dataset *dataset)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = -1;

    if (dimse_encode_command(command, &bytes, &len) != DCM_OK ||
        ul_write_pdv(as->ul, ACTION_PCTX_ID, true, bytes, len, true) != UL_OK)
        goto out;
    if (dataset != NULL) {
        free(bytes);
        bytes = NULL;
        if (dcm_encode_buffer(dataset, as->ts, &bytes, &len) != DCM_OK ||
            ul_write_pdv(as->ul, ACTION_PCTX_ID, false, bytes, len, true) != UL_OK)
            goto out;
    }
    rc = 0;

out:
    if (rc != 0)
        as->broken = true;
    free(bytes);
    return rc;
}

/* Builds the Action Information: Transaction UID and Referenced SOP Sequence. */
static dcm_dataset *action_information(const commit_batch *batch)
{
    dcm_dataset *info = dcm_dataset_create();
    dcm_element *sequence;

    if (info == NULL ||
        dcm_dataset_set_string(info, TAG_TRANSACTION_UID, DCM_VR_UI, batch->transaction_uid) !=
            DCM_OK)
        goto failed;
    sequence = dcm_dataset_add_sequence(info, TAG_REFERENCED_SOP_SEQUENCE);
    if (sequence == NULL)
        goto failed;
    for (size_t i = 0; i < batch->count; i++) {
        dcm_dataset *item = dcm_element_append_item(sequence);

        if (item == NULL ||
            dcm_dataset_set_string(item, TAG_REFERENCED_SOP_CLASS_UID, DCM_VR_UI,
                                   batch->instances[i].sop_class_uid) != DCM_OK ||
            dcm_dataset_set_string(item, TAG_REFERENCED_SOP_INSTANCE_UID, DCM_VR_UI,
                                   batch->instances[i].sop_instance_uid) != DCM_OK)
            goto failed;
    }
    return info;

failed:
    dcm_dataset_destroy(info);
    return NULL;
}

/* Sends the N-ACTION-RQ and reads its response; 0 with the Status in *status. */
static int exchange_action(action_assoc *as, const commit_batch *batch, uint16_t *status,
                           char *error, size_t error_size)
{
    dcm_dataset *command = dcm_dataset_create(), *info = action_information(batch);
    dcm_dataset *response = NULL, *reply = NULL;
    uint32_t field = 0, responded = 0, value = 0;
    int result = -1, rc;

    if (command == NULL || info == NULL ||
        dcm_dataset_set_string(command, DIMSE_TAG_REQUESTED_SOP_CLASS_UID, DCM_VR_UI,
                               COMMIT_SOP_CLASS) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_COMMAND_FIELD, DIMSE_N_ACTION_RQ) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_MESSAGE_ID, 1) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_DATASET_TYPE, 0x0001) != DCM_OK ||
        dcm_dataset_set_string(command, DIMSE_TAG_REQUESTED_SOP_INSTANCE_UID, DCM_VR_UI,
                               COMMIT_SOP_INSTANCE) != DCM_OK ||
        dcm_dataset_set_u16(command, TAG_ACTION_TYPE_ID, 1) != DCM_OK) {
        snprintf(error, error_size, "out of memory building the N-ACTION-RQ");
        goto out;
    }
    if (write_message(as, command, info) != 0) {
        snprintf(error, error_size, "sending the N-ACTION-RQ failed");
        goto out;
    }

    rc = read_message(as, as->dimse_timeout_ms, &response, &reply);
    if (rc != UL_OK) {
        snprintf(error, error_size, "no N-ACTION-RSP: %s",
                 rc == UL_RELEASE_REQUESTED ? "the remote requested a release" : ul_strerror(rc));
        if (rc == UL_TIMEOUT) {
            ul_abort(as->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            as->broken = true;
        } else if (rc == UL_RELEASE_REQUESTED) {
            ul_release_respond(as->ul);
            as->broken = true;
        }
        goto out;
    }
    dcm_dataset_get_uint(response, DIMSE_TAG_COMMAND_FIELD, 0, &field);
    dcm_dataset_get_uint(response, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    if (field != (DIMSE_N_ACTION_RQ | DIMSE_RESPONSE_BIT) || responded != 1 ||
        dcm_dataset_get_uint(response, DIMSE_TAG_STATUS, 0, &value) != DCM_OK) {
        snprintf(error, error_size, "expected an N-ACTION-RSP with a Status, received %s",
                 dimse_command_name((uint16_t)field));
        ul_abort(as->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        as->broken = true;
        goto out;
    }
    *status = (uint16_t)value;
    result = 0;

out:
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(info);
    dcm_dataset_destroy(response);
    dcm_dataset_destroy(reply);
    return result;
}

/* Sends the N-EVENT-REPORT-RSP to request with status, and comment when it is not empty. */
static void answer_report(action_assoc *as, const dcm_dataset *request, uint16_t status,
                          const char *comment)
{
    dcm_dataset *response = dcm_dataset_create();
    char sop_instance[65] = COMMIT_SOP_INSTANCE;
    uint32_t message_id = 0, event_type = 0;

    dcm_dataset_get_uint(request, DIMSE_TAG_MESSAGE_ID, 0, &message_id);
    dcm_dataset_get_uint(request, TAG_EVENT_TYPE_ID, 0, &event_type);
    dcm_dataset_get_string(request, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, 0, sop_instance,
                           sizeof sop_instance);
    if (response == NULL ||
        dcm_dataset_set_string(response, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                               COMMIT_SOP_CLASS) != DCM_OK ||
        dcm_dataset_set_u16(response, DIMSE_TAG_COMMAND_FIELD,
                            DIMSE_N_EVENT_REPORT_RQ | DIMSE_RESPONSE_BIT) != DCM_OK ||
        dcm_dataset_set_u16(response, DIMSE_TAG_MESSAGE_ID_RESPONDED, (uint16_t)message_id) !=
            DCM_OK ||
        dcm_dataset_set_u16(response, DIMSE_TAG_DATASET_TYPE, DIMSE_NO_DATASET) != DCM_OK ||
        dcm_dataset_set_u16(response, DIMSE_TAG_STATUS, status) != DCM_OK ||
        dcm_dataset_set_string(response, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, DCM_VR_UI,
                               sop_instance) != DCM_OK ||
        dcm_dataset_set_u16(response, TAG_EVENT_TYPE_ID, (uint16_t)event_type) != DCM_OK ||
        (comment[0] != '\0' &&
         dcm_dataset_set_string(response, DIMSE_TAG_ERROR_COMMENT, DCM_VR_LO, comment) !=
             DCM_OK) ||
        write_message(as, response, NULL) != 0)
        log_warn(as->log, "commitment: sending the N-EVENT-REPORT-RSP failed");
    dcm_dataset_destroy(response);
}

/*
 * Waits up to wait_ms for an N-EVENT-REPORT-RQ on the association, then
 * applies it and sends its response. Any other message aborts the
 * association, and a release request of the remote is granted.
 */
static void take_report_on_association(action_assoc *as, archive *ar, const char *remote,
                                       unsigned wait_ms)
{
    dcm_dataset *command = NULL, *info = NULL;
    uint32_t field = 0, event_type = 0;
    uint16_t status;
    char comment[128];
    int rc;

    rc = read_message(as, wait_ms == 0 ? 1 : wait_ms, &command, &info);
    if (rc == UL_RELEASE_REQUESTED) {
        ul_release_respond(as->ul);
        as->broken = true;
        return;
    }
    if (rc != UL_OK)
        return;

    dcm_dataset_get_uint(command, DIMSE_TAG_COMMAND_FIELD, 0, &field);
    if (field != DIMSE_N_EVENT_REPORT_RQ) {
        log_warn(as->log, "commitment: %s sent %s after the N-ACTION-RSP; aborting the "
                 "association", remote, dimse_command_name((uint16_t)field));
        ul_abort(as->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        as->broken = true;
        goto out;
    }
    dcm_dataset_get_uint(command, TAG_EVENT_TYPE_ID, 0, &event_type);
    log_info(as->log, "commitment: N-EVENT-REPORT from %s on the N-ACTION association", remote);
    commit_apply_report(ar, as->log, remote, (uint16_t)event_type, info, &status, comment,
                        sizeof comment);
    answer_report(as, command, status, comment);

out:
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(info);
}

/* Connects from batch->calling_ae to remote proposing Storage Commitment. */
static int connect_remote(const cairn_conf *conf, const conf_remote *remote,
                          const commit_batch *batch, action_assoc *as, char *error,
                          size_t error_size)
{
    static const char *const syntaxes[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
    ul_assoc_rq rq = {.protocol_version = UL_PROTOCOL_VERSION};
    ul_assoc_rj rj = {0};
    ul_params params;
    const char *ts_uid;
    int rc, result = -1;

    snprintf(rq.called_ae, sizeof rq.called_ae, "%s", remote->title);
    snprintf(rq.calling_ae, sizeof rq.calling_ae, "%s", batch->calling_ae);
    snprintf(rq.application_context, sizeof rq.application_context, "%s",
             UL_DICOM_APPLICATION_CONTEXT);
    if (ul_assoc_rq_add_pctx(&rq, ACTION_PCTX_ID, COMMIT_SOP_CLASS, syntaxes, 2) != 0) {
        snprintf(error, error_size, "out of memory");
        goto out;
    }

    assoc_ul_params(conf, &params);
    rc = ul_connect(remote->host, (uint16_t)remote->port, &params, &rq, &as->ul, &rj);
    if (rc == UL_REJECTED) {
        snprintf(error, error_size, "association rejected: %s", scu_reject_reason(&rj));
        as->ul = NULL;
        goto out;
    }
    if (rc != UL_OK) {
        snprintf(error, error_size, "cannot open an association to %s port %d: %s",
                 remote->host, remote->port, ul_strerror(rc));
        as->ul = NULL;
        goto out;
    }
    ul_assoc_set_log_ctx(as->ul, as->log);
    ts_uid = NULL;
    for (size_t i = 0; i < ul_assoc_accept(as->ul)->pctx_count; i++) {
        const ul_pctx_ac *pc = &ul_assoc_accept(as->ul)->pctx[i];

        if (pc->id == ACTION_PCTX_ID && pc->result == UL_PCTX_ACCEPTANCE)
            ts_uid = pc->transfer_syntax;
    }
    as->ts = ts_uid != NULL ? dcm_ts_find(ts_uid) : NULL;
    if (as->ts == NULL) {
        snprintf(error, error_size, "the remote did not accept Storage Commitment Push Model "
                 "with explicit or implicit VR little endian");
        ul_release(as->ul);
        as->broken = true;
        goto out;
    }
    result = 0;

out:
    ul_assoc_rq_free(&rq);
    return result;
}

int commit_action_send(const cairn_conf *conf, archive *ar, const conf_remote *remote,
                       const commit_batch *batch, const log_ctx *log, char *error,
                       size_t error_size)
{
    action_assoc as = {.log = log,
                       .dimse_timeout_ms = (unsigned)conf->network.dimse_timeout * 1000u};
    uint16_t status = 0;
    int result = -1;

    if (scu_slot_acquire(remote->title, remote->max_associations) != 0) {
        snprintf(error, error_size, "all %d associations to %s stayed in use",
                 remote->max_associations, remote->title);
        return -1;
    }
    if (connect_remote(conf, remote, batch, &as, error, error_size) != 0)
        goto out;
    if (exchange_action(&as, batch, &status, error, error_size) != 0)
        goto out;
    if (status != 0x0000) {
        snprintf(error, error_size, "N-ACTION-RSP status 0x%04X", status);
        goto out;
    }
    log_info(log, "commitment: %s accepted the request for %zu instance(s), transaction %s",
             remote->title, batch->count, batch->transaction_uid);
    result = 0;
    take_report_on_association(&as, ar, remote->title,
                               (unsigned)remote->commitment.same_association_wait_ms);

out:
    if (as.ul != NULL && !as.broken && ul_release(as.ul) != UL_OK)
        log_warn(log, "commitment: release of the association to %s failed", remote->title);
    ul_assoc_destroy(as.ul);
    scu_slot_release(remote->title);
    return result;
}
