/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's assoc_store: C-STORE sub-operations of a C-GET, sent back
 * on the requesting association. The requestor must have proposed the SCP
 * role for the SOP class, and our A-ASSOCIATE-AC must have granted it. Message IDs come from a counter of the association.
 * A C-CANCEL-RQ that arrives while a C-STORE-RSP is awaited marks the
 * C-GET request being served as cancelled (message_cancelled sees it).
 */
#include "scu/scu_host.h"

#include <string.h>

#include "archive/archive.h"
#include "config/conf.h"
#include "scu/scu_internal.h"

/* True when the A-ASSOCIATE-AC gave the requestor the SCP role for sop_class. */
static bool requestor_is_scp(const struct ul_assoc *ul, const char *sop_class)
{
    const ul_assoc_ac *ac = ul_assoc_accept(ul);

    for (size_t i = 0; i < ac->user_info.role_count; i++) {
        if (strcmp(ac->user_info.roles[i].sop_class_uid, sop_class) == 0)
            return ac->user_info.roles[i].scp_role != 0;
    }
    return false;
}

cairn_status scu_host_assoc_store(cairn_assoc *assoc, const cairn_instance_file *file,
                                  const char *sop_class_uid, const char *sop_instance_uid,
                                  cairn_dimse_status *status)
{
    scu_channel channel;
    scu_store_request request = {0};
    scu_source src;
    const char *storage_path;
    cairn_status st;

    if (assoc == NULL || assoc->ul == NULL || file == NULL || file->path == NULL ||
        sop_class_uid == NULL || sop_instance_uid == NULL || status == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (assoc->serving != NULL && assoc->serving->failed)
        return CAIRN_ERR_IO;
    if (!requestor_is_scp(assoc->ul, sop_class_uid)) {
        log_warn(&assoc->log, "scu: the requestor did not take the SCP role for %s; %s not "
                 "sent", sop_class_uid, sop_instance_uid);
        return CAIRN_ERR_UNSUPPORTED;
    }

    storage_path = assoc->archive ? archive_storage_path(assoc->archive)
                   : assoc->conf ? assoc->conf->storage_path : NULL;
    st = scu_source_open(storage_path, file->path, &src, &assoc->log);
    if (st != CAIRN_OK)
        return st;

    request.pctx_id = scu_choose_context(assoc->ul, sop_class_uid, src.ts, &request.pctx_ts);
    if (request.pctx_id == 0) {
        log_warn(&assoc->log, "scu: no accepted presentation context for %s can carry %s "
                 "(stored as %s)", sop_class_uid, sop_instance_uid, src.ts->name);
        st = CAIRN_ERR_UNSUPPORTED;
        goto out;
    }
    request.sop_class_uid = sop_class_uid;
    request.sop_instance_uid = sop_instance_uid;
    request.message_id = ++assoc->last_store_message_id;
    if (request.message_id == 0)
        request.message_id = ++assoc->last_store_message_id;

    channel = (scu_channel){
        .ul = assoc->ul,
        .log = &assoc->log,
        .storage_path = storage_path,
        .response_timeout_ms = assoc->conf ? (unsigned)assoc->conf->network.dimse_timeout * 1000u
                                           : 0,
        .serving = assoc->serving,
    };
    st = scu_send_store(&channel, &request, &src, status);

    /* The association is gone: the C-GET gets no final response. */
    if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED && assoc->serving != NULL)
        assoc->serving->failed = true;

out:
    scu_source_close(&src);
    return st;
}
