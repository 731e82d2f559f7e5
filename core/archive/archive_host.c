/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's archive_store: the storage service hands back the request
 * it was given and the core commits the received file.
 */
#include "archive/archive.h"
#include "dimse/dimse_host.h"
#include "metrics/metrics.h"

cairn_status archive_host_store(cairn_assoc *assoc, const cairn_message *request,
                                cairn_duplicate_policy policy, cairn_store_outcome *outcome)
{
    /* The message belongs to the host; the plugin only has a const view of it. */
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

cairn_status archive_host_query(cairn_assoc *assoc, const cairn_index_query *query,
                                cairn_index_row_fn fn, void *arg)
{
    const cairn_index_ops *ops;
    uint64_t started;
    cairn_status status;

    if (assoc == NULL || assoc->archive == NULL || query == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    ops = archive_index_ops(assoc->archive);
    if (ops->query == NULL)
        return CAIRN_ERR_UNSUPPORTED;

    /* NOTE: the time includes fn, which for C-FIND sends each match to the peer. */
    started = metrics_now_us();
    status = ops->query(archive_index_db(assoc->archive), query, fn, arg);
    metrics_index_latency(metrics_now_us() - started);
    return status;
}
