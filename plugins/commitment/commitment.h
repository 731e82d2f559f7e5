/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage Commitment Push Model SCP (PS3.4 annex J): the transaction a
 * peer's N-ACTION-RQ starts, and the functions the files of this plugin
 * share. A transaction is kept in the index as a document ("commitment:"
 * id) from before the N-ACTION-RSP until its N-EVENT-REPORT has been
 * answered, so that a restart resumes its delivery.
 */
#ifndef COMMITMENT_H
#define COMMITMENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#define COMMITMENT_SOP_CLASS "1.2.840.10008.1.20.1"
#define COMMITMENT_SOP_INSTANCE "1.2.840.10008.1.20.1.1"
#define COMMITMENT_ID_PREFIX "commitment:"

/* Maximum number of references in one N-ACTION-RQ; more get status 0213. */
#define COMMITMENT_MAX_REFERENCES 100000u

/* Failure Reason (0008,1197) values (PS3.3 C.14.1.1). */
#define COMMITMENT_FAILURE_PROCESSING 0x0110u
#define COMMITMENT_FAILURE_NO_SUCH_OBJECT 0x0112u
#define COMMITMENT_FAILURE_CLASS_INSTANCE_CONFLICT 0x0119u
#define COMMITMENT_FAILURE_DUPLICATE_TRANSACTION 0x0131u

#define TAG_RETRIEVE_AE_TITLE CAIRN_TAG(0x0008, 0x0054)
#define TAG_REFERENCED_SOP_CLASS_UID CAIRN_TAG(0x0008, 0x1150)
#define TAG_REFERENCED_SOP_INSTANCE_UID CAIRN_TAG(0x0008, 0x1155)
#define TAG_TRANSACTION_UID CAIRN_TAG(0x0008, 0x1195)
#define TAG_FAILURE_REASON CAIRN_TAG(0x0008, 0x1197)
#define TAG_FAILED_SOP_SEQUENCE CAIRN_TAG(0x0008, 0x1198)
#define TAG_REFERENCED_SOP_SEQUENCE CAIRN_TAG(0x0008, 0x1199)
#define TAG_ACTION_TYPE_ID CAIRN_TAG(0x0000, 0x1008)

/* One referenced instance and, once checked, its Failure Reason (0: committed). */
typedef struct commitment_ref {
    char sop_class[65];
    char sop_instance[65];
    uint16_t failure;
} commitment_ref;

/* One Storage Commitment request. */
typedef struct commitment_txn {
    struct commitment_txn *next;     /* in the delivery queue */
    struct commitment *owner;
    char id[96];                     /* document id: COMMITMENT_ID_PREFIX, time, random, serial */
    char transaction_uid[65];
    char calling_ae[17];             /* the requestor, where the report goes */
    char called_ae[17];              /* our AE title: the report's calling AE and Retrieve AE */
    bool new_association;            /* report on a new association from the start */
    bool duplicate;                  /* another request with this Transaction UID was in progress */
    bool checked;                    /* failure of every reference is known */
    unsigned attempts;               /* failed deliveries so far */
    int64_t next_attempt;            /* Unix time in seconds of the next delivery */
    commitment_ref *refs;
    size_t n_refs;
} commitment_txn;

/* The plugin's state. */
typedef struct commitment {
    const cairn_host_api *api;
    cairn_plugin *self;
    bool report_new_association;     /* report = "new-association" */
    char **new_association_remotes;  /* remotes_new_association */
    size_t n_new_association_remotes;
    unsigned max_attempts;

    pthread_mutex_t load_lock;       /* guards documents_loaded and the loading itself */
    bool documents_loaded;           /* the records of the last run are in the queue */

    pthread_mutex_t lock;            /* guards everything below */
    pthread_cond_t wake;
    commitment_txn *queue;           /* transactions waiting for delivery by the retry thread */
    char **in_progress;              /* Transaction UIDs not yet reported */
    size_t n_in_progress, cap_in_progress;
    uint64_t serial;
    bool stopping;
    pthread_t thread;
    bool thread_started;
    char **owned;                    /* record ids whose lease this node holds */
    size_t n_owned, cap_owned;
    bool leases_unsupported;         /* the index has no leases: this node is the only one */
    int64_t leases_checked;          /* seconds: the last commitment_lease_pass */
} commitment;

void commitment_txn_free(commitment_txn *txn);

/* commitment_request.c: the N-ACTION-RQ handler. */
cairn_status commitment_on_n_action(void *state, cairn_assoc *assoc,
                                    const cairn_message *request, cairn_reply *reply);

/* commitment_check.c: sets the failure of every reference from the archive. */
void commitment_check(commitment *cm, commitment_txn *txn);

/* commitment_report.c: the Event Information and its delivery. */
cairn_dataset *commitment_event_info(const commitment *cm, const commitment_txn *txn,
                                     uint16_t *event_type_id);
cairn_status commitment_report_on(commitment *cm, commitment_txn *txn, cairn_assoc *assoc);
cairn_status commitment_report_new(commitment *cm, commitment_txn *txn);
/* An assoc_after_response function: checks txn and reports on assoc, or queues it. */
void commitment_after_response(void *arg, cairn_assoc *assoc);

/* commitment_record.c: the document kept in the index. */
char *commitment_record_format(const commitment_txn *txn);
commitment_txn *commitment_record_parse(const char *id, const char *document);
bool commitment_valid_uid(const char *uid);

/* commitment_queue.c: the retry thread and the in-progress Transaction UIDs. */
/*
 * Queues the transactions the last run left, once: the retry thread and
 * the first N-ACTION, whichever comes first, so that a record written by
 * this run is never loaded as one of the last run. False while the
 * archive is not open yet.
 */
bool commitment_load_documents(commitment *cm);
/* An archive_document_list callback: queues one kept record whose lease this node can take. */
int commitment_queue_load(void *arg, const char *id, const char *document);
int commitment_queue_start(commitment *cm);
void commitment_queue_stop(commitment *cm);
void commitment_queue_push(commitment *cm, commitment_txn *txn);
bool commitment_begin(commitment *cm, const char *transaction_uid);
void commitment_end(commitment *cm, const char *transaction_uid);
/* Retires a reported transaction: deletes its document and frees it. */
void commitment_finish(commitment *cm, commitment_txn *txn);

/*
 * commitment_lease.c: with several nodes on one index, the node holding
 * the lease "commitment-report:<record id>" delivers that report.
 * commitment_lease_take takes or renews it and notes the id as this
 * node's; false when another node holds it. commitment_lease_drop gives
 * it up. commitment_lease_pass, run by the retry thread at least every
 * commitment_lease_interval seconds, renews the leases, forgets queued
 * records another node took, and queues records whose node stopped.
 */
bool commitment_lease_take(commitment *cm, const char *id);
void commitment_lease_drop(commitment *cm, const char *id);
bool commitment_lease_owned(commitment *cm, const char *id);
int64_t commitment_lease_interval(commitment *cm);
void commitment_lease_pass(commitment *cm);

#endif
