/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host entries a handler uses while it still runs: sending pending
 * responses (C-FIND matches, C-MOVE and C-GET progress), adding and
 * removing command fields, and noticing a C-CANCEL-RQ without blocking.
 */
#include "dimse/dimse.h"

#include <stdlib.h>
#include <string.h>

#include "assoc/assoc.h"
#include "ul/ul.h"

cairn_status dimse_host_reply_set_command_uint(cairn_reply *reply, cairn_tag tag, uint32_t value)
{
    if (reply == NULL || DCM_TAG_GROUP(tag) != 0x0000 || value > 0xFFFF)
        return CAIRN_ERR_INVALID_ARGUMENT;

    for (size_t i = 0; i < reply->field_count; i++) {
        if (reply->fields[i].tag == tag) {
            reply->fields[i].value = (uint16_t)value;
            return CAIRN_OK;
        }
    }
    if (reply->field_count == DIMSE_REPLY_MAX_FIELDS)
        return CAIRN_ERR_LIMIT;
    reply->fields[reply->field_count].tag = tag;
    reply->fields[reply->field_count].value = (uint16_t)value;
    reply->field_count++;
    return CAIRN_OK;
}

cairn_status dimse_host_reply_remove_command_field(cairn_reply *reply, cairn_tag tag)
{
    if (reply == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    for (size_t i = 0; i < reply->field_count; i++) {
        if (reply->fields[i].tag != tag)
            continue;
        memmove(&reply->fields[i], &reply->fields[i + 1],
                (reply->field_count - i - 1) * sizeof reply->fields[0]);
        reply->field_count--;
        return CAIRN_OK;
    }
    return CAIRN_ERR_NOT_FOUND;
}

cairn_status dimse_host_reply_send_pending(cairn_reply *reply, cairn_dimse_status status,
                                          cairn_dataset *identifier)
{
    cairn_reply pending;
    cairn_message *msg;
    int rc;

    if (reply == NULL || reply->request == NULL) {
        dcm_dataset_destroy((dcm_dataset *)identifier);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    msg = reply->request;
    if (msg->failed) {
        dcm_dataset_destroy((dcm_dataset *)identifier);
        return CAIRN_ERR_IO;
    }

    /* A pending response shares the command fields set so far, not the final status. */
    pending = *reply;
    pending.status = status;
    pending.error_comment[0] = '\0';
    pending.dataset = (dcm_dataset *)identifier;

    /* C-FIND matches come one after the other, while the progress of a
     * C-MOVE or C-GET must reach the peer when it is sent. */
    if (msg->command_field == DIMSE_C_FIND_RQ)
        rc = dimse_send_pending_match(msg->assoc, msg, &pending);
    else
        rc = dimse_send_response(msg->assoc, msg, &pending);
    dcm_dataset_destroy(pending.dataset);
    if (rc != 0) {
        msg->failed = true;
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

/* Reads one whole command that the peer sent while a handler runs. */
static dcm_dataset *read_interleaved_command(cairn_assoc *assoc, unsigned timeout_ms)
{
    uint8_t buf[1024];
    size_t len = 0;
    ul_pdv pdv;
    dcm_dataset *cmd = NULL;

    for (;;) {
        if (ul_read_pdv(assoc->ul, &pdv, timeout_ms) != UL_OK)
            return NULL;
        if (!pdv.command || pdv.len > sizeof buf - len)
            return NULL;
        memcpy(buf + len, pdv.data, pdv.len);
        len += pdv.len;
        if (pdv.last)
            break;
    }
    if (dcm_parse_buffer(buf, len, dcm_ts_find("1.2.840.10008.1.2"), NULL, &cmd, NULL) != DCM_OK)
        return NULL;
    return cmd;
}

int dimse_host_message_cancelled(const cairn_message *message)
{
    /* The message belongs to the host; the plugin only has a const view of it. */
    cairn_message *msg = (cairn_message *)message;
    cairn_assoc *assoc;
    dcm_dataset *cmd;
    uint32_t field = 0, responded = 0;

    if (msg == NULL || msg->assoc == NULL)
        return 0;
    if (msg->cancelled || msg->failed)
        return 1;

    assoc = msg->assoc;
    if (!ul_input_pending(assoc->ul))
        return 0;

    /* With one operation at a time, the only request a peer may send now is C-CANCEL-RQ. */
    cmd = read_interleaved_command(assoc, 10000);
    if (cmd == NULL ||
        dcm_dataset_get_uint(cmd, DIMSE_TAG_COMMAND_FIELD, 0, &field) != DCM_OK ||
        field != DIMSE_C_CANCEL_RQ) {
        log_warn(&assoc->log, "unexpected input while message %u is served; aborting the "
                 "association", msg->message_id);
        ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_UNEXPECTED_PDU);
        msg->failed = true;
        dcm_dataset_destroy(cmd);
        return 1;
    }

    dcm_dataset_get_uint(cmd, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    dcm_dataset_destroy(cmd);
    if (responded != msg->message_id) {
        log_info(&assoc->log, "C-CANCEL-RQ for message %u ignored while serving message %u",
                 responded, msg->message_id);
        return 0;
    }
    log_info(&assoc->log, "peer cancelled message %u", msg->message_id);
    msg->cancelled = true;
    return 1;
}

cairn_status dimse_host_assoc_extended_negotiation(const cairn_assoc *assoc, const char *sop_class,
                                                   const uint8_t **info, size_t *length)
{
    const ul_assoc_ac *ac;

    if (assoc == NULL || sop_class == NULL || info == NULL || length == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    ac = ul_assoc_accept(assoc->ul);
    for (size_t i = 0; i < ac->user_info.ext_neg_count; i++) {
        if (strcmp(ac->user_info.ext_neg[i].sop_class_uid, sop_class) == 0) {
            *info = ac->user_info.ext_neg[i].info;
            *length = ac->user_info.ext_neg[i].info_len;
            return CAIRN_OK;
        }
    }
    return CAIRN_ERR_NOT_FOUND;
}
