/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Storage Commitment N-EVENT-REPORT received by the archive as SCU
 * (PS3.4 J.3.3): its Event Information is checked as hostile input and
 * applied to the index through commitment_report. Only rows still pending
 * under the report's Transaction UID change, so a late or repeated report
 * cannot undo a newer result.
 */
#include "commit/commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_REFERENCED_SOP_CLASS_UID DCM_TAG(0x0008, 0x1150)
#define TAG_REFERENCED_SOP_INSTANCE_UID DCM_TAG(0x0008, 0x1155)
#define TAG_TRANSACTION_UID DCM_TAG(0x0008, 0x1195)
#define TAG_FAILURE_REASON DCM_TAG(0x0008, 0x1197)
#define TAG_FAILED_SOP_SEQUENCE DCM_TAG(0x0008, 0x1198)
#define TAG_REFERENCED_SOP_SEQUENCE DCM_TAG(0x0008, 0x1199)

/* N-EVENT-REPORT-RSP statuses (PS3.7 10.1.1.1.8). */
#define STATUS_SUCCESS 0x0000u
#define STATUS_PROCESSING_FAILURE 0x0110u
#define STATUS_NO_SUCH_EVENT_TYPE 0x0113u
#define STATUS_INVALID_ARGUMENT 0x0115u

/* The results of one report, with the UIDs they point at. */
typedef struct report_results {
    cairn_commitment *rows;
    char (*uids)[65];
    size_t count;
    size_t cap;
} report_results;

static bool valid_uid(const char *uid)
{
    size_t length = strlen(uid);

    if (length == 0 || length > 64 || uid[0] == '.' || uid[length - 1] == '.')
        return false;
    for (size_t i = 0; i < length; i++) {
        if ((uid[i] < '0' || uid[i] > '9') && uid[i] != '.')
            return false;
        if (uid[i] == '.' && uid[i + 1] == '.')
            return false;
    }
    return true;
}

/* Appends the instances of sequence tag with state, each failed item with its Failure Reason. */
static int add_items(report_results *results, const dcm_dataset *event_info, dcm_tag tag,
                     cairn_commitment_state state, int64_t now, char *comment,
                     size_t comment_size)
{
    const dcm_element *sequence = dcm_dataset_find(event_info, tag);
    size_t items = sequence != NULL ? dcm_element_item_count(sequence) : 0;

    if (items > COMMIT_MAX_REFERENCES * 10u - results->count) {
        snprintf(comment, comment_size, "more than %u references", COMMIT_MAX_REFERENCES * 10u);
        return -1;
    }
    if (results->count + items > results->cap) {
        size_t cap = results->count + items;
        cairn_commitment *rows = realloc(results->rows, cap * sizeof *rows);
        char(*uids)[65];

        if (rows == NULL)
            return -1;
        results->rows = rows;
        uids = realloc(results->uids, cap * sizeof *uids);
        if (uids == NULL)
            return -1;
        results->uids = uids;
        results->cap = cap;
    }

    for (size_t i = 0; i < items; i++) {
        const dcm_dataset *item = dcm_element_item(sequence, i);
        cairn_commitment *row = &results->rows[results->count];
        char *uid = results->uids[results->count];
        uint32_t reason = 0;

        if (item == NULL ||
            dcm_dataset_get_string(item, TAG_REFERENCED_SOP_INSTANCE_UID, 0, uid, 65) != DCM_OK ||
            !valid_uid(uid)) {
            snprintf(comment, comment_size, "item %zu of (%04X,%04X) has no valid SOP "
                     "Instance UID", i + 1, DCM_TAG_GROUP(tag), DCM_TAG_ELEMENT(tag));
            return -1;
        }
        if (state == CAIRN_COMMITMENT_FAILED &&
            dcm_dataset_get_uint(item, TAG_FAILURE_REASON, 0, &reason) != DCM_OK)
            reason = STATUS_PROCESSING_FAILURE; /* Failure Reason is type 1; 0110 is the generic one */
        /* NOTE: the item's Referenced SOP Class UID is not compared with the requested one. */
        memset(row, 0, sizeof *row);
        row->struct_size = sizeof *row;
        row->state = state;
        row->sop_instance_uid = uid;
        row->failure_reason = reason;
        row->note = state == CAIRN_COMMITMENT_COMMITTED ? "" : "reported as failed";
        row->updated_at_us = now;
        results->count++;
    }
    return 0;
}

/* Fixes the row pointers after the arrays stopped moving. */
static void link_uids(report_results *results)
{
    for (size_t i = 0; i < results->count; i++)
        results->rows[i].sop_instance_uid = results->uids[i];
}

void commit_apply_report(archive *ar, const log_ctx *log, const char *reporter,
                         uint16_t event_type_id, const dcm_dataset *event_info,
                         uint16_t *rsp_status, char *comment, size_t comment_size)
{
    const cairn_index_ops *ops = archive_index_ops(ar);
    report_results results = {0};
    char transaction_uid[65] = "";
    size_t updated = 0, failed = 0;
    int64_t now = commit_now_us();
    cairn_status st;

    *rsp_status = STATUS_PROCESSING_FAILURE;
    comment[0] = '\0';
    if (event_type_id != COMMIT_EVENT_ALL_COMMITTED && event_type_id != COMMIT_EVENT_SOME_FAILED) {
        *rsp_status = STATUS_NO_SUCH_EVENT_TYPE;
        snprintf(comment, comment_size, "Event Type ID %u is not 1 or 2", event_type_id);
        goto out;
    }
    if (event_info == NULL ||
        dcm_dataset_get_string(event_info, TAG_TRANSACTION_UID, 0, transaction_uid,
                               sizeof transaction_uid) != DCM_OK ||
        !valid_uid(transaction_uid)) {
        *rsp_status = STATUS_INVALID_ARGUMENT;
        snprintf(comment, comment_size, "missing or invalid Transaction UID");
        goto out;
    }
    if (add_items(&results, event_info, TAG_REFERENCED_SOP_SEQUENCE, CAIRN_COMMITMENT_COMMITTED,
                  now, comment, comment_size) != 0 ||
        add_items(&results, event_info, TAG_FAILED_SOP_SEQUENCE, CAIRN_COMMITMENT_FAILED, now,
                  comment, comment_size) != 0) {
        *rsp_status = comment[0] != '\0' ? STATUS_INVALID_ARGUMENT : STATUS_PROCESSING_FAILURE;
        if (comment[0] == '\0')
            snprintf(comment, comment_size, "out of memory");
        goto out;
    }
    link_uids(&results);
    for (size_t i = 0; i < results.count; i++)
        failed += results.rows[i].state == CAIRN_COMMITMENT_FAILED;

    if (ops->struct_size < offsetof(cairn_index_ops, commitment_list) + sizeof ops->commitment_list ||
        ops->commitment_report == NULL) {
        snprintf(comment, comment_size, "the index cannot keep storage commitment");
        goto out;
    }
    st = ops->commitment_report(archive_index_db(ar), transaction_uid, results.rows,
                                results.count, &updated);
    if (st == CAIRN_ERR_NOT_FOUND) {
        snprintf(comment, comment_size, "unknown Transaction UID");
        goto out;
    }
    if (st != CAIRN_OK) {
        log_error(log, "commitment: recording the report of %s for transaction %s failed: %s",
                  reporter, transaction_uid, cairn_strerror(st));
        snprintf(comment, comment_size, "the report could not be recorded");
        goto out;
    }
    log_info(log, "commitment: %s reported transaction %s: %zu committed, %zu failed, %zu "
             "pending instance(s) updated", reporter, transaction_uid, results.count - failed,
             failed, updated);
    *rsp_status = STATUS_SUCCESS;
    commit_wake();

out:
    if (*rsp_status != STATUS_SUCCESS && comment[0] != '\0')
        log_warn(log, "commitment: report from %s for transaction %s rejected: %s", reporter,
                 transaction_uid[0] != '\0' ? transaction_uid : "(none)", comment);
    free(results.rows);
    free(results.uids);
}
