/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The N-EVENT-REPORT of a checked transaction (PS3.4 J.3.3): Event Type
 * ID 1 when every instance is committed, 2 when any failed. The Event
 * Information echoes the Transaction UID, names the archive's AE title as
 * Retrieve AE Title, lists the committed instances in the Referenced SOP
 * Sequence and, for type 2, the others in the Failed SOP Sequence with
 * their Failure Reason. It goes on the requesting association when that
 * is still open, otherwise on a new one from the same AE title.
 */
#include <stdlib.h>

#include "commitment.h"

static int add_ref(const cairn_host_api *api, cairn_dataset *info, cairn_tag sequence,
                   const commitment_ref *ref)
{
    cairn_dataset *item = api->dataset_append_item(info, sequence);

    if (item == NULL ||
        api->dataset_set_string(item, TAG_REFERENCED_SOP_CLASS_UID, CAIRN_VR_UI,
                                ref->sop_class) != CAIRN_OK ||
        api->dataset_set_string(item, TAG_REFERENCED_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                ref->sop_instance) != CAIRN_OK)
        return -1;
    if (ref->failure != 0 &&
        api->dataset_set_uint(item, TAG_FAILURE_REASON, CAIRN_VR_US, ref->failure) != CAIRN_OK)
        return -1;
    return 0;
}

cairn_dataset *commitment_event_info(const commitment *cm, const commitment_txn *txn,
                                     uint16_t *event_type_id)
{
    const cairn_host_api *api = cm->api;
    cairn_dataset *info = api->dataset_create();
    size_t failed = 0;

    if (info == NULL)
        return NULL;
    if (api->dataset_set_string(info, TAG_TRANSACTION_UID, CAIRN_VR_UI,
                                txn->transaction_uid) != CAIRN_OK ||
        api->dataset_set_string(info, TAG_RETRIEVE_AE_TITLE, CAIRN_VR_AE,
                                txn->called_ae) != CAIRN_OK)
        goto fail;

    for (size_t i = 0; i < txn->n_refs; i++) {
        const commitment_ref *ref = &txn->refs[i];

        if (ref->failure != 0)
            failed++;
        if (add_ref(api, info, ref->failure != 0 ? TAG_FAILED_SOP_SEQUENCE
                                                 : TAG_REFERENCED_SOP_SEQUENCE, ref) != 0)
            goto fail;
    }
    *event_type_id = failed == 0 ? 1 : 2;
    return info;

fail:
    api->dataset_destroy(info);
    return NULL;
}

/* Sends the report on assoc, or on a new association when assoc is NULL. */
static cairn_status deliver(commitment *cm, commitment_txn *txn, cairn_assoc *assoc)
{
    const cairn_host_api *api = cm->api;
    cairn_dimse_status status = 0;
    uint16_t event_type_id = 0;
    cairn_dataset *info;
    cairn_status st;

    if (!txn->checked)
        commitment_check(cm, txn);
    info = commitment_event_info(cm, txn, &event_type_id);
    if (info == NULL)
        return CAIRN_ERR_NO_MEMORY;

    if (assoc != NULL)
        st = api->assoc_event_report(assoc, COMMITMENT_SOP_CLASS, COMMITMENT_SOP_INSTANCE,
                                     event_type_id, info, &status);
    else
        st = api->remote_event_report(txn->called_ae, txn->calling_ae, COMMITMENT_SOP_CLASS,
                                      COMMITMENT_SOP_INSTANCE, event_type_id, info, &status);
    api->dataset_destroy(info);

    if (st == CAIRN_OK && status != CAIRN_DIMSE_SUCCESS) {
        api->log(cm->self, CAIRN_LOG_WARN, "%s answered the N-EVENT-REPORT of Storage "
                 "Commitment transaction %s with status 0x%04X", txn->calling_ae,
                 txn->transaction_uid, status);
        /* NOTE: a failure status is taken as final: the report was received. */
    }
    if (st == CAIRN_OK)
        api->log(cm->self, CAIRN_LOG_INFO, "Storage Commitment transaction %s reported to %s "
                 "(event type %u) on %s association", txn->transaction_uid, txn->calling_ae,
                 event_type_id, assoc != NULL ? "the requesting" : "a new");
    return st;
}

cairn_status commitment_report_on(commitment *cm, commitment_txn *txn, cairn_assoc *assoc)
{
    return deliver(cm, txn, assoc);
}

cairn_status commitment_report_new(commitment *cm, commitment_txn *txn)
{
    return deliver(cm, txn, NULL);
}

void commitment_after_response(void *arg, cairn_assoc *assoc)
{
    commitment_txn *txn = arg;
    commitment *cm = txn->owner;
    cairn_status st;

    if (assoc == NULL) {
        commitment_queue_push(cm, txn);
        return;
    }
    st = commitment_report_on(cm, txn, assoc);
    if (st == CAIRN_OK) {
        commitment_finish(cm, txn);
        return;
    }
    cm->api->log_assoc(cm->self, assoc, CAIRN_LOG_INFO, "the N-EVENT-REPORT of Storage "
                       "Commitment transaction %s could not go on the requesting association "
                       "(%s); it goes on a new association", txn->transaction_uid,
                       cairn_strerror(st));
    commitment_queue_push(cm, txn);
}
