/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's commitment_report_received: the Storage Commitment
 * service of an AE hands over an N-EVENT-REPORT-RQ that a backup archive
 * sent on a new association, and the report is applied as on the
 * N-ACTION association.
 */
#include "commit/commit_host.h"

#include <string.h>

#include "commit/commit.h"
#include "dimse/dimse.h"
#include "dimse/dimse_host.h"

#define TAG_EVENT_TYPE_ID DCM_TAG(0x0000, 0x1002)

cairn_status commit_host_report_received(cairn_assoc *assoc, const cairn_message *request,
                                         cairn_reply *reply)
{
    uint32_t event_type = 0;
    uint16_t status = 0;
    char comment[128];

    if (assoc == NULL || request == NULL || reply == NULL || assoc->archive == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (request->command_field != DIMSE_N_EVENT_REPORT_RQ ||
        strcmp(request->sop_class_uid, COMMIT_SOP_CLASS) != 0)
        return CAIRN_ERR_INVALID_ARGUMENT;

    dcm_dataset_get_uint(request->command, TAG_EVENT_TYPE_ID, 0, &event_type);
    if (request->dataset == NULL && request->error[0] != '\0') {
        dimse_host_reply_set_status(reply, 0x0115);
        dimse_host_reply_set_error_comment(reply, "unreadable Event Information");
        log_warn(&assoc->log, "commitment: unreadable report from %s: %s", assoc->calling_ae,
                 request->error);
        return CAIRN_OK;
    }
    commit_apply_report(assoc->archive, &assoc->log, assoc->calling_ae, (uint16_t)event_type,
                        request->dataset, &status, comment, sizeof comment);
    dimse_host_reply_set_status(reply, status);
    if (status != 0x0000)
        dimse_host_reply_set_error_comment(reply, comment);
    return CAIRN_OK;
}
