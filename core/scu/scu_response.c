/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for the C-STORE-RSP of a sub-operation. On the requesting
 * association of a C-GET, the peer may send a C-CANCEL-RQ for the C-GET
 * meanwhile: it marks that request cancelled and the wait goes on, since
 * the C-STORE still gets its response.
 */
#include "scu/scu_response.h"

#include <stdlib.h>
#include <string.h>

#include "dimse/dimse.h"

#define TAG_ERROR_COMMENT DCM_TAG(0x0000, 0x0902)

/* Reads one whole command set; data PDVs are a protocol error here. */
static cairn_status read_command(const scu_channel *channel, dcm_dataset **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    ul_pdv pdv;
    cairn_status result = CAIRN_ERR_IO;
    int rc;

    *out = NULL;
    buf = malloc(DIMSE_MAX_COMMAND_BYTES);
    if (buf == NULL)
        return CAIRN_ERR_NO_MEMORY;

    for (;;) {
        rc = ul_read_pdv(channel->ul, &pdv, channel->response_timeout_ms);
        if (rc == UL_TIMEOUT) {
            log_error(channel->log, "scu: no C-STORE-RSP within %u ms; aborting the association",
                      channel->response_timeout_ms);
            ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            result = CAIRN_ERR_TIMEOUT;
            goto out;
        }
        if (rc == UL_RELEASE_REQUESTED) {
            log_error(channel->log, "scu: peer requested a release before the C-STORE-RSP; "
                      "aborting the association");
            ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            goto out;
        }
        if (rc != UL_OK) {
            log_error(channel->log, "scu: association failed while waiting for the "
                      "C-STORE-RSP: %s", ul_strerror(rc));
            goto out;
        }
        if (!pdv.command || pdv.len > DIMSE_MAX_COMMAND_BYTES - len) {
            log_error(channel->log, "scu: %s while waiting for the C-STORE-RSP; aborting the "
                      "association", pdv.command ? "command set over 64 KiB" : "data set PDV");
            ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            result = CAIRN_ERR_PARSE;
            goto out;
        }
        memcpy(buf + len, pdv.data, pdv.len);
        len += pdv.len;
        if (pdv.last)
            break;
    }

    if (dcm_parse_buffer(buf, len, DCM_TS_IMPLICIT_LE, NULL, out, NULL) != DCM_OK) {
        log_error(channel->log, "scu: unparsable command set while waiting for the "
                  "C-STORE-RSP; aborting the association");
        ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        result = CAIRN_ERR_PARSE;
        goto out;
    }
    result = CAIRN_OK;

out:
    free(buf);
    return result;
}

/* Marks the C-GET being served when cmd is a C-CANCEL-RQ for it. */
static void note_cancel(const scu_channel *channel, const dcm_dataset *cmd)
{
    uint32_t responded = 0;

    dcm_dataset_get_uint(cmd, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    if (channel->serving != NULL && responded == channel->serving->message_id) {
        log_info(channel->log, "peer cancelled message %u during a C-STORE sub-operation",
                 channel->serving->message_id);
        channel->serving->cancelled = true;
        return;
    }
    log_info(channel->log, "C-CANCEL-RQ for message %u ignored: no such operation in progress",
             responded);
}

/* Returns a protocol failure for an unexpected command: the association is aborted. */
static cairn_status unexpected(const scu_channel *channel, const char *what, uint32_t value)
{
    log_error(channel->log, "scu: %s (%u) while waiting for the C-STORE-RSP; aborting the "
              "association", what, value);
    ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    return CAIRN_ERR_PARSE;
}

cairn_status scu_read_store_response(const scu_channel *channel, uint16_t message_id,
                                     const char *sop_instance_uid, cairn_dimse_status *status)
{
    for (;;) {
        dcm_dataset *cmd = NULL;
        uint32_t field = 0, responded = 0, value = 0;
        char comment[65] = "";
        cairn_status st = read_command(channel, &cmd);

        if (st != CAIRN_OK)
            return st;

        dcm_dataset_get_uint(cmd, DIMSE_TAG_COMMAND_FIELD, 0, &field);
        if (field == DIMSE_C_CANCEL_RQ) {
            note_cancel(channel, cmd);
            dcm_dataset_destroy(cmd);
            continue;
        }
        if (field != (DIMSE_C_STORE_RQ | DIMSE_RESPONSE_BIT)) {
            dcm_dataset_destroy(cmd);
            return unexpected(channel, "unexpected command field", field);
        }

        dcm_dataset_get_uint(cmd, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
        if (responded != message_id) {
            dcm_dataset_destroy(cmd);
            return unexpected(channel, "C-STORE-RSP for another message ID", responded);
        }
        if (dcm_dataset_get_uint(cmd, DIMSE_TAG_STATUS, 0, &value) != DCM_OK) {
            dcm_dataset_destroy(cmd);
            return unexpected(channel, "C-STORE-RSP without a status, message", message_id);
        }
        dcm_dataset_get_string(cmd, TAG_ERROR_COMMENT, 0, comment, sizeof comment);
        dcm_dataset_destroy(cmd);

        *status = (cairn_dimse_status)value;
        if (value != CAIRN_DIMSE_SUCCESS)
            log_warn(channel->log, "scu: C-STORE of %s returned status 0x%04X%s%s",
                     sop_instance_uid, value, comment[0] ? ": " : "", comment);
        return CAIRN_OK;
    }
}
