/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command set encoding and the names of DIMSE commands for logs.
 */
#include "dimse/dimse.h"

#include <stdlib.h>

int dimse_encode_command(dcm_dataset *command, uint8_t **out, size_t *len)
{
    const dcm_ts *ts = dcm_ts_find("1.2.840.10008.1.2");
    int rc;

    /* Command sets are always implicit VR little endian with a group length (PS3.7 6.3.1). */
    rc = dcm_dataset_update_group_length(command, 0x0000, ts);
    if (rc != DCM_OK)
        return rc;
    return dcm_encode_buffer(command, ts, out, len);
}

const char *dimse_command_name(uint16_t command_field)
{
    switch (command_field) {
    case DIMSE_C_STORE_RQ: return "C-STORE-RQ";
    case DIMSE_C_GET_RQ: return "C-GET-RQ";
    case DIMSE_C_FIND_RQ: return "C-FIND-RQ";
    case DIMSE_C_MOVE_RQ: return "C-MOVE-RQ";
    case DIMSE_C_ECHO_RQ: return "C-ECHO-RQ";
    case DIMSE_N_EVENT_REPORT_RQ: return "N-EVENT-REPORT-RQ";
    case DIMSE_N_GET_RQ: return "N-GET-RQ";
    case DIMSE_N_SET_RQ: return "N-SET-RQ";
    case DIMSE_N_ACTION_RQ: return "N-ACTION-RQ";
    case DIMSE_N_CREATE_RQ: return "N-CREATE-RQ";
    case DIMSE_N_DELETE_RQ: return "N-DELETE-RQ";
    case DIMSE_C_CANCEL_RQ: return "C-CANCEL-RQ";
    case DIMSE_C_STORE_RQ | DIMSE_RESPONSE_BIT: return "C-STORE-RSP";
    case DIMSE_C_GET_RQ | DIMSE_RESPONSE_BIT: return "C-GET-RSP";
    case DIMSE_C_FIND_RQ | DIMSE_RESPONSE_BIT: return "C-FIND-RSP";
    case DIMSE_C_MOVE_RQ | DIMSE_RESPONSE_BIT: return "C-MOVE-RSP";
    case DIMSE_C_ECHO_RQ | DIMSE_RESPONSE_BIT: return "C-ECHO-RSP";
    case DIMSE_N_EVENT_REPORT_RQ | DIMSE_RESPONSE_BIT: return "N-EVENT-REPORT-RSP";
    case DIMSE_N_GET_RQ | DIMSE_RESPONSE_BIT: return "N-GET-RSP";
    case DIMSE_N_SET_RQ | DIMSE_RESPONSE_BIT: return "N-SET-RSP";
    case DIMSE_N_ACTION_RQ | DIMSE_RESPONSE_BIT: return "N-ACTION-RSP";
    case DIMSE_N_CREATE_RQ | DIMSE_RESPONSE_BIT: return "N-CREATE-RSP";
    case DIMSE_N_DELETE_RQ | DIMSE_RESPONSE_BIT: return "N-DELETE-RSP";
    default: return "unknown command";
    }
}
