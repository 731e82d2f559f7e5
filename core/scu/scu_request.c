/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DIMSE requests with a data set built in memory, sent on an outgoing
 * association: the host API's outbound_accepts and outbound_request
 * (N-CREATE, N-SET and C-STORE, used by the data router to forward MPPS
 * and to send study notifications). Each call sends one request and waits
 * for its response; a data set in the response is read and dropped.
 */
#include "scu/scu_request.h"

#include <stdlib.h>
#include <string.h>

#include "dimse/dimse.h"
#include "scu/scu_internal.h"

int scu_host_outbound_accepts(const cairn_outbound *ob, const char *sop_class)
{
    const dcm_ts *ts = NULL;

    if (ob == NULL || ob->ul == NULL || sop_class == NULL || ob->failed)
        return 0;
    return scu_choose_context(ob->ul, sop_class, DCM_TS_EXPLICIT_LE, &ts) != 0;
}

static dcm_dataset *build_command(cairn_dimse_op op, const char *sop_class,
                                  const char *sop_instance, uint16_t message_id)
{
    dcm_dataset *command = dcm_dataset_create();
    bool set = op == CAIRN_OP_N_SET;
    int rc = 0;

    if (command == NULL)
        return NULL;
    rc |= dcm_dataset_set_string(command, set ? DIMSE_TAG_REQUESTED_SOP_CLASS_UID
                                              : DIMSE_TAG_AFFECTED_SOP_CLASS_UID,
                                 DCM_VR_UI, sop_class);
    rc |= dcm_dataset_set_u16(command, DIMSE_TAG_COMMAND_FIELD, (uint16_t)op);
    rc |= dcm_dataset_set_u16(command, DIMSE_TAG_MESSAGE_ID, message_id);
    if (op == CAIRN_OP_C_STORE)
        rc |= dcm_dataset_set_u16(command, DIMSE_TAG_PRIORITY, 0);
    rc |= dcm_dataset_set_u16(command, DIMSE_TAG_DATASET_TYPE, 0x0001);
    if (sop_instance != NULL)
        rc |= dcm_dataset_set_string(command, set ? DIMSE_TAG_REQUESTED_SOP_INSTANCE_UID
                                                  : DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID,
                                     DCM_VR_UI, sop_instance);
    if (rc != 0) {
        dcm_dataset_destroy(command);
        return NULL;
    }
    return command;
}

/* Marks the association failed, aborting it, and returns status. */
static cairn_status abort_with(cairn_outbound *ob, cairn_status status, const char *why)
{
    log_warn(&ob->log, "scu: %s; aborting the association to %s", why, ob->remote_title);
    ul_abort(ob->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    ob->failed = true;
    return status;
}

/* Reads the response command set (dropping any data set after it) into *command. */
static cairn_status read_response(cairn_outbound *ob, dcm_dataset **command)
{
    uint8_t *buf = malloc(DIMSE_MAX_COMMAND_BYTES);
    bool command_done = false, expect_data = false;
    cairn_status st = CAIRN_ERR_IO;
    size_t len = 0;
    ul_pdv pdv;
    int rc;

    *command = NULL;
    if (buf == NULL)
        return CAIRN_ERR_NO_MEMORY;

    while (!command_done || expect_data) {
        rc = ul_read_pdv(ob->ul, &pdv, ob->response_timeout_ms);
        if (rc == UL_TIMEOUT) {
            st = abort_with(ob, CAIRN_ERR_TIMEOUT, "no response in time");
            goto out;
        }
        if (rc == UL_RELEASE_REQUESTED) {
            st = abort_with(ob, CAIRN_ERR_IO, "the peer requested a release before responding");
            goto out;
        }
        if (rc != UL_OK) {
            log_warn(&ob->log, "scu: association to %s failed while waiting for a response: %s",
                     ob->remote_title, ul_strerror(rc));
            ob->failed = true;
            goto out;
        }
        if (!pdv.command) {
            if (!command_done) {
                st = abort_with(ob, CAIRN_ERR_PARSE, "a data set PDV came before the response");
                goto out;
            }
            if (pdv.last)
                expect_data = false;
            continue;
        }
        if (command_done || pdv.len > DIMSE_MAX_COMMAND_BYTES - len) {
            st = abort_with(ob, CAIRN_ERR_PARSE, "the response command set is invalid");
            goto out;
        }
        memcpy(buf + len, pdv.data, pdv.len);
        len += pdv.len;
        if (!pdv.last)
            continue;

        command_done = true;
        if (dcm_parse_buffer(buf, len, DCM_TS_IMPLICIT_LE, NULL, command, NULL) != DCM_OK) {
            st = abort_with(ob, CAIRN_ERR_PARSE, "the response command set cannot be parsed");
            goto out;
        }
        {
            uint32_t type = DIMSE_NO_DATASET;

            dcm_dataset_get_uint(*command, DIMSE_TAG_DATASET_TYPE, 0, &type);
            expect_data = type != DIMSE_NO_DATASET;
        }
    }
    st = CAIRN_OK;

out:
    if (st != CAIRN_OK) {
        dcm_dataset_destroy(*command);
        *command = NULL;
    }
    free(buf);
    return st;
}

cairn_status scu_host_outbound_request(cairn_outbound *ob, cairn_dimse_op op,
                                       const char *sop_class, const char *sop_instance,
                                       const cairn_dataset *dataset, cairn_dimse_status *status)
{
    dcm_dataset *command = NULL, *response = NULL;
    const dcm_ts *ts = NULL;
    uint32_t field = 0, responded = 0, value = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint16_t message_id;
    uint8_t pctx_id;
    cairn_status st;

    if (ob == NULL || sop_class == NULL || dataset == NULL || status == NULL ||
        strlen(sop_class) > 64 || (sop_instance != NULL && strlen(sop_instance) > 64) ||
        (op != CAIRN_OP_N_CREATE && op != CAIRN_OP_N_SET && op != CAIRN_OP_C_STORE) ||
        (op != CAIRN_OP_N_CREATE && sop_instance == NULL))
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (ob->failed)
        return CAIRN_ERR_IO;

    pctx_id = scu_choose_context(ob->ul, sop_class, DCM_TS_EXPLICIT_LE, &ts);
    if (pctx_id == 0)
        return CAIRN_ERR_UNSUPPORTED;
    message_id = ++ob->last_message_id;
    if (message_id == 0)
        message_id = ++ob->last_message_id;

    command = build_command(op, sop_class, sop_instance, message_id);
    if (command == NULL || dimse_encode_command(command, &bytes, &len) != DCM_OK) {
        st = CAIRN_ERR_NO_MEMORY;
        goto out;
    }
    if (ul_write_pdv(ob->ul, pctx_id, true, bytes, len, true) != UL_OK ||
        scu_stream_dataset(ob->ul, pctx_id, (const dcm_dataset *)dataset, ts, &ob->log) != UL_OK) {
        log_warn(&ob->log, "scu: cannot send %s to %s", dimse_command_name((uint16_t)op),
                 ob->remote_title);
        ob->failed = true;
        st = CAIRN_ERR_IO;
        goto out;
    }

    st = read_response(ob, &response);
    if (st != CAIRN_OK)
        goto out;
    dcm_dataset_get_uint(response, DIMSE_TAG_COMMAND_FIELD, 0, &field);
    dcm_dataset_get_uint(response, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    if (field != ((uint32_t)op | DIMSE_RESPONSE_BIT) || responded != message_id ||
        dcm_dataset_get_uint(response, DIMSE_TAG_STATUS, 0, &value) != DCM_OK) {
        st = abort_with(ob, CAIRN_ERR_PARSE, "the response does not answer the request");
        goto out;
    }
    *status = (cairn_dimse_status)value;
    log_debug(&ob->log, "scu: %s to %s: status 0x%04X", dimse_command_name((uint16_t)op),
              ob->remote_title, *status);

out:
    free(bytes);
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(response);
    return st;
}
