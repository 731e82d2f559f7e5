/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The N-ACTION-RQ of Storage Commitment (PS3.4 J.3.2): validates the
 * Action Information, stores the transaction in the index, answers 0000
 * and leaves the check and the N-EVENT-REPORT for after the response.
 * Invalid requests are answered with a failure status and an Error Comment
 * that names the attribute: 0120 when it is missing, 0106 when its value
 * is invalid, 0123 for an Action Type ID other than 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "commitment.h"

#define STATUS_INVALID_ATTRIBUTE_VALUE 0x0106u
#define STATUS_INVALID_SOP_INSTANCE 0x0117u
#define STATUS_MISSING_ATTRIBUTE 0x0120u
#define STATUS_NO_SUCH_ACTION 0x0123u

/* The failure to answer with, or status 0 when the request is valid. */
typedef struct request_error {
    cairn_dimse_status status;
    char comment[65];
} request_error;

static void fail(request_error *err, cairn_dimse_status status, const char *comment)
{
    err->status = status;
    snprintf(err->comment, sizeof err->comment, "%s", comment);
}

/* Reads a UID attribute of ds into buf; sets err naming attribute when missing or invalid. */
static int read_uid(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag,
                    const char *attribute, char *buf, size_t size, request_error *err)
{
    char comment[65];
    cairn_status st = api->dataset_get_string(ds, tag, 0, buf, size);

    if (st == CAIRN_ERR_NOT_FOUND || (st == CAIRN_OK && buf[0] == '\0')) {
        snprintf(comment, sizeof comment, "%s missing", attribute);
        fail(err, STATUS_MISSING_ATTRIBUTE, comment);
        return -1;
    }
    if (st != CAIRN_OK || !commitment_valid_uid(buf)) {
        snprintf(comment, sizeof comment, "%s is not a valid UID", attribute);
        fail(err, STATUS_INVALID_ATTRIBUTE_VALUE, comment);
        return -1;
    }
    return 0;
}

/* Fills txn->refs from the Referenced SOP Sequence. */
static int read_references(const cairn_host_api *api, const cairn_dataset *ds,
                           commitment_txn *txn, request_error *err)
{
    const cairn_element *seq = api->dataset_find(ds, TAG_REFERENCED_SOP_SEQUENCE);
    size_t count;

    if (seq == NULL) {
        fail(err, STATUS_MISSING_ATTRIBUTE, "Referenced SOP Sequence (0008,1199) missing");
        return -1;
    }
    count = api->element_item_count(seq);
    if (api->element_vr(seq) != CAIRN_VR_SQ || count == 0) {
        fail(err, STATUS_INVALID_ATTRIBUTE_VALUE, "Referenced SOP Sequence (0008,1199) empty");
        return -1;
    }
    if (count > COMMITMENT_MAX_REFERENCES) {
        fail(err, CAIRN_DIMSE_RESOURCE_LIMITATION, "Referenced SOP Sequence has too many items");
        return -1;
    }

    txn->refs = calloc(count, sizeof *txn->refs);
    if (txn->refs == NULL) {
        fail(err, CAIRN_DIMSE_PROCESSING_FAILURE, "out of memory");
        return -1;
    }
    txn->n_refs = count;
    for (size_t i = 0; i < count; i++) {
        const cairn_dataset *item = api->element_item(seq, i);
        commitment_ref *ref = &txn->refs[i];

        if (item == NULL ||
            read_uid(api, item, TAG_REFERENCED_SOP_CLASS_UID,
                     "Referenced SOP Class UID (0008,1150)", ref->sop_class,
                     sizeof ref->sop_class, err) != 0 ||
            read_uid(api, item, TAG_REFERENCED_SOP_INSTANCE_UID,
                     "Referenced SOP Instance UID (0008,1155)", ref->sop_instance,
                     sizeof ref->sop_instance, err) != 0) {
            if (err->status == 0)
                fail(err, STATUS_INVALID_ATTRIBUTE_VALUE, "Referenced SOP Sequence item invalid");
            return -1;
        }
    }
    return 0;
}

/* True when remote is listed in remotes_new_association. */
static bool remote_wants_new_association(const commitment *cm, const char *remote)
{
    for (size_t i = 0; i < cm->n_new_association_remotes; i++) {
        if (strcmp(cm->new_association_remotes[i], remote) == 0)
            return true;
    }
    return cm->report_new_association;
}

/* Parses and checks the request into a new transaction; NULL with err set when invalid. */
static commitment_txn *read_request(commitment *cm, cairn_assoc *assoc,
                                    const cairn_message *request, request_error *err)
{
    const cairn_host_api *api = cm->api;
    const cairn_dataset *info = api->message_dataset(request);
    const char *instance = api->message_sop_instance(request);
    uint32_t action = 0;
    commitment_txn *txn;

    if (api->dataset_get_uint(api->message_command(request), TAG_ACTION_TYPE_ID, 0, &action) !=
            CAIRN_OK || action != 1) {
        fail(err, STATUS_NO_SUCH_ACTION, "Action Type ID must be 1");
        return NULL;
    }
    if (instance == NULL || strcmp(instance, COMMITMENT_SOP_INSTANCE) != 0) {
        fail(err, STATUS_INVALID_SOP_INSTANCE,
             "Requested SOP Instance UID must be 1.2.840.10008.1.20.1.1");
        return NULL;
    }
    if (info == NULL) {
        fail(err, STATUS_MISSING_ATTRIBUTE, api->message_error(request) != NULL
                 ? "Action Information cannot be parsed" : "Action Information missing");
        return NULL;
    }

    txn = calloc(1, sizeof *txn);
    if (txn == NULL) {
        fail(err, CAIRN_DIMSE_PROCESSING_FAILURE, "out of memory");
        return NULL;
    }
    if (read_uid(api, info, TAG_TRANSACTION_UID, "Transaction UID (0008,1195)",
                 txn->transaction_uid, sizeof txn->transaction_uid, err) != 0 ||
        read_references(api, info, txn, err) != 0) {
        commitment_txn_free(txn);
        return NULL;
    }
    snprintf(txn->calling_ae, sizeof txn->calling_ae, "%s", api->assoc_calling_ae(assoc));
    snprintf(txn->called_ae, sizeof txn->called_ae, "%s", api->assoc_called_ae(assoc));
    txn->new_association = remote_wants_new_association(cm, txn->calling_ae);
    return txn;
}

cairn_status commitment_on_n_action(void *state, cairn_assoc *assoc,
                                    const cairn_message *request, cairn_reply *reply)
{
    commitment *cm = state;
    const cairn_host_api *api = cm->api;
    request_error err = {0};
    commitment_txn *txn = read_request(cm, assoc, request, &err);
    char *document = NULL;
    uint32_t token;
    cairn_status st;

    if (txn == NULL) {
        api->log_assoc(cm->self, assoc, CAIRN_LOG_WARN, "N-ACTION-RQ rejected with 0x%04X: %s",
                       err.status, err.comment);
        api->reply_set_status(reply, err.status);
        api->reply_set_error_comment(reply, err.comment);
        return CAIRN_OK;
    }

    txn->owner = cm;
    commitment_load_documents(cm);
    txn->duplicate = !commitment_begin(cm, txn->transaction_uid);
    /* The random part keeps the ids of several nodes on one index apart. */
    if (getrandom(&token, sizeof token, 0) != (ssize_t)sizeof token)
        token = (uint32_t)getpid();
    pthread_mutex_lock(&cm->lock);
    snprintf(txn->id, sizeof txn->id, COMMITMENT_ID_PREFIX "%lld-%08x-%llu", (long long)time(NULL),
             (unsigned)token, (unsigned long long)++cm->serial);
    pthread_mutex_unlock(&cm->lock);
    txn->next_attempt = (int64_t)time(NULL);

    /*
     * The transaction is durable before the N-ACTION-RSP promises a report.
     * Its lease comes first, so that no other node takes the new record.
     */
    commitment_lease_take(cm, txn->id);
    document = commitment_record_format(txn);
    st = document != NULL ? api->archive_document_put(txn->id, document) : CAIRN_ERR_NO_MEMORY;
    free(document);
    if (st != CAIRN_OK) {
        api->log_assoc(cm->self, assoc, CAIRN_LOG_ERROR, "cannot store Storage Commitment "
                       "transaction %s: %s", txn->transaction_uid, cairn_strerror(st));
        if (!txn->duplicate)
            commitment_end(cm, txn->transaction_uid);
        commitment_lease_drop(cm, txn->id);
        commitment_txn_free(txn);
        api->reply_set_status(reply, CAIRN_DIMSE_PROCESSING_FAILURE);
        api->reply_set_error_comment(reply, "cannot store the transaction");
        return CAIRN_OK;
    }

    api->log_assoc(cm->self, assoc, CAIRN_LOG_INFO, "Storage Commitment transaction %s: %zu "
                   "instances%s, report on %s association", txn->transaction_uid, txn->n_refs,
                   txn->duplicate ? ", duplicate Transaction UID in progress" : "",
                   txn->new_association ? "a new" : "the same");
    if (txn->new_association ||
        api->assoc_after_response(assoc, commitment_after_response, txn) != CAIRN_OK)
        commitment_queue_push(cm, txn);
    api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}
