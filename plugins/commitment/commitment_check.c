/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commitment check: each referenced instance must be in the index
 * (rejected instances never match a query), with the SOP Class UID the
 * request names, and its file must open as a PS3.10 file. Failure Reasons:
 * 0112 when the instance is not archived, 0119 when its SOP Class differs,
 * 0110 when the index or the file cannot be read, 0131 for every instance
 * of a request whose Transaction UID was already in progress.
 */
#include <string.h>

#include "commitment.h"

/* What the query found for one SOP Instance UID. */
typedef struct lookup {
    const cairn_host_api *api;
    size_t matches;
    char sop_class[65];
    cairn_status file_status;
} lookup;

static int on_row(void *arg, const cairn_index_row *row)
{
    lookup *found = arg;

    found->matches++;
    found->sop_class[0] = '\0';
    if (found->api->dataset_get_string(row->attributes, CAIRN_TAG_SOP_CLASS_UID, 0,
                                       found->sop_class, sizeof found->sop_class) != CAIRN_OK)
        found->sop_class[0] = '\0';
    found->file_status = row->file != NULL ? found->api->archive_file_check(row->file)
                                           : CAIRN_ERR_NOT_FOUND;
    return 1;
}

static uint16_t check_one(commitment *cm, const commitment_ref *ref)
{
    const cairn_host_api *api = cm->api;
    cairn_dataset *keys = api->dataset_create();
    cairn_index_query query = {
        .struct_size = sizeof query,
        .level = CAIRN_LEVEL_INSTANCE,
        .flags = CAIRN_QUERY_RELATIONAL,
        .max_matches = 2,
    };
    lookup found = {.api = api};
    cairn_status st;

    if (keys == NULL)
        return COMMITMENT_FAILURE_PROCESSING;
    if (api->dataset_set_string(keys, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                ref->sop_instance) != CAIRN_OK ||
        api->dataset_set_string(keys, CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, "") != CAIRN_OK) {
        api->dataset_destroy(keys);
        return COMMITMENT_FAILURE_PROCESSING;
    }
    query.keys = keys;
    st = api->archive_index_query(&query, on_row, &found);
    api->dataset_destroy(keys);

    if (st != CAIRN_OK) {
        api->log(cm->self, CAIRN_LOG_WARN, "cannot look up %s in the index: %s",
                 ref->sop_instance, cairn_strerror(st));
        return COMMITMENT_FAILURE_PROCESSING;
    }
    if (found.matches == 0)
        return COMMITMENT_FAILURE_NO_SUCH_OBJECT;
    if (strcmp(found.sop_class, ref->sop_class) != 0)
        return COMMITMENT_FAILURE_CLASS_INSTANCE_CONFLICT;
    if (found.file_status != CAIRN_OK) {
        api->log(cm->self, CAIRN_LOG_WARN, "the file of archived instance %s cannot be read: %s",
                 ref->sop_instance, cairn_strerror(found.file_status));
        return COMMITMENT_FAILURE_PROCESSING;
    }
    return 0;
}

void commitment_check(commitment *cm, commitment_txn *txn)
{
    size_t failed = 0;

    for (size_t i = 0; i < txn->n_refs; i++) {
        txn->refs[i].failure = txn->duplicate ? COMMITMENT_FAILURE_DUPLICATE_TRANSACTION
                                              : check_one(cm, &txn->refs[i]);
        if (txn->refs[i].failure != 0)
            failed++;
    }
    txn->checked = true;
    cm->api->log(cm->self, CAIRN_LOG_INFO, "Storage Commitment transaction %s checked: %zu of "
                 "%zu instances committed", txn->transaction_uid, txn->n_refs - failed,
                 txn->n_refs);
}
