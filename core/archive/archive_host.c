/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's archive_store: the storage service hands back the request
 * it was given and the core commits the received file.
 */
#include "archive/archive.h"
#include "dimse/dimse_host.h"

cairn_status archive_host_store(cairn_assoc *assoc, const cairn_message *request,
                                cairn_duplicate_policy policy, cairn_store_outcome *outcome)
{
    /* The message belongs to the host; the plugin only holds a const view of it. */
    cairn_message *msg = (cairn_message *)request;
    archive_tmp *tmp;

    if (assoc == NULL || msg == NULL || outcome == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (msg->tmp == NULL || msg->dataset == NULL || assoc->archive == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    tmp = msg->tmp;
    msg->tmp = NULL;
    return archive_commit(assoc->archive, tmp, msg->dataset, msg->sop_instance_uid,
                          msg->transfer_syntax_uid, assoc->calling_ae, policy, outcome,
                          &assoc->log);
}
