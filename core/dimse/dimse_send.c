/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sending DIMSE responses: the command set, then the data set in the
 * presentation context's transfer syntax.
 */
#include "dimse/dimse.h"

#include <stdlib.h>

#include "assoc/assoc.h"
#include "metrics/metrics.h"
#include "ul/ul.h"

static int build_response_command(const cairn_message *msg, const cairn_reply *reply,
                                   dcm_dataset *cmd)
{
    int rc = 0;

    rc |= dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                                 msg->sop_class_uid);
    rc |= dcm_dataset_set_u16(cmd, DIMSE_TAG_COMMAND_FIELD,
                              (uint16_t)(msg->command_field | DIMSE_RESPONSE_BIT));
    rc |= dcm_dataset_set_u16(cmd, DIMSE_TAG_MESSAGE_ID_RESPONDED, msg->message_id);
    rc |= dcm_dataset_set_u16(cmd, DIMSE_TAG_DATASET_TYPE,
                              reply->dataset ? 0x0001 : DIMSE_NO_DATASET);
    rc |= dcm_dataset_set_u16(cmd, DIMSE_TAG_STATUS, reply->status);
    if (reply->error_comment[0] != '\0')
        rc |= dcm_dataset_set_string(cmd, DIMSE_TAG_ERROR_COMMENT, DCM_VR_LO,
                                     reply->error_comment);
    if (msg->sop_instance_uid[0] != '\0')
        rc |= dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, DCM_VR_UI,
                                     msg->sop_instance_uid);
    for (size_t i = 0; i < reply->field_count; i++)
        rc |= dcm_dataset_set_u16(cmd, reply->fields[i].tag, reply->fields[i].value);
    if (reply->attribute_count > 0) {
        uint8_t at[DIMSE_REPLY_MAX_ATTRIBUTES * 4];

        /* AT values: group then element, each 16-bit little endian. */
        for (size_t i = 0; i < reply->attribute_count; i++) {
            cairn_tag tag = reply->attribute_list[i];

            at[i * 4] = (uint8_t)(tag >> 16);
            at[i * 4 + 1] = (uint8_t)(tag >> 24);
            at[i * 4 + 2] = (uint8_t)tag;
            at[i * 4 + 3] = (uint8_t)(tag >> 8);
        }
        rc |= dcm_dataset_set_bytes(cmd, DCM_TAG(0x0000, 0x1005), DCM_VR_AT, at,
                                    reply->attribute_count * 4);
    }
    return rc == 0 ? 0 : -1;
}

/*
 * Sends one response. With hold_data, the data set's last PDU also goes out
 * with MSG_MORE, so the kernel keeps it until the next response is written
 * or its segment is full.
 * NOTE: unlike other ul_more_follows callers, the next PDU is not ready
 * yet, so a held match waits for as long as the index takes to find the
 * next one. The final response always pushes everything out.
 */
static int send_response(cairn_assoc *assoc, const cairn_message *msg, const cairn_reply *reply,
                         bool hold_data)
{
    dcm_dataset *cmd = dcm_dataset_create();
    uint8_t *buf = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    size_t data_len = 0;
    int result = -1;

    if (cmd == NULL || build_response_command(msg, reply, cmd) != 0)
        goto out;
    if (dimse_encode_command(cmd, &buf, &len) != DCM_OK)
        goto out;

    /* The data set is encoded first, so the command can go out with it in
     * one TCP segment (a C-FIND sends one such pair per match). */
    if (reply->dataset != NULL) {
        const dcm_ts *ts = dcm_ts_find(msg->transfer_syntax_uid);

        if (ts == NULL || dcm_encode_buffer(reply->dataset, ts, &data, &data_len) != DCM_OK)
            goto out;
        if (data_len > 0)
            ul_more_follows(assoc->ul);
    }
    if (ul_write_pdv(assoc->ul, msg->pctx_id, true, buf, len, true) != UL_OK)
        goto out;
    if (reply->dataset != NULL && data_len > 0 && hold_data)
        ul_more_follows(assoc->ul);
    if (reply->dataset != NULL &&
        ul_write_pdv(assoc->ul, msg->pctx_id, false, data, data_len, true) != UL_OK)
        goto out;

    log_debug(&assoc->log, "sent %s, message %u, status 0x%04X%s%s",
              dimse_command_name((uint16_t)(msg->command_field | DIMSE_RESPONSE_BIT)),
              msg->message_id, reply->status, reply->error_comment[0] ? ": " : "",
              reply->error_comment);
    metrics_dimse((uint16_t)(msg->command_field | DIMSE_RESPONSE_BIT), reply->status);
    result = 0;

out:
    free(buf);
    free(data);
    dcm_dataset_destroy(cmd);
    return result;
}

int dimse_send_response(cairn_assoc *assoc, const cairn_message *msg, const cairn_reply *reply)
{
    return send_response(assoc, msg, reply, false);
}

int dimse_send_pending_match(cairn_assoc *assoc, const cairn_message *msg,
                             const cairn_reply *reply)
{
    return send_response(assoc, msg, reply, true);
}
