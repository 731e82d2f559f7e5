/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive index interface. An index back end (SQLite, PostgreSQL) is a
 * plugin that registers one cairn_index_ops table with the host's
 * register_index; the core's archive and the cairn tool then talk to it only
 * through this table, so a new back end needs no change to the core or to
 * the service plugins.
 *
 * The index holds four levels (patient, study, series, instance). A patient
 * is identified by Patient ID plus Issuer of Patient ID. Text values are
 * kept normalised to UTF-8 for matching.
 *
 * Threading: every function of an opened index may be called from several
 * threads at once. store_instance returns only once its row is durable.
 */
#ifndef CAIRN_INDEX_H
#define CAIRN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/dataset.h"
#include "cairn/service.h"
#include "cairn/status.h"
#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* Levels of the information model. Since SDK 1.0. */
typedef enum cairn_index_level {
    CAIRN_LEVEL_PATIENT = 1,
    CAIRN_LEVEL_STUDY = 2,
    CAIRN_LEVEL_SERIES = 3,
    CAIRN_LEVEL_INSTANCE = 4,
    CAIRN_LEVEL_SENTINEL_ = 0x7fffffff
} cairn_index_level;

/*
 * Where and how one instance is kept. Strings are borrowed for the call
 * that passes the struct. Since SDK 1.0.
 */
typedef struct cairn_instance_file {
    uint32_t struct_size;            /* sizeof(cairn_instance_file) */
    uint32_t reserved;               /* zero */
    const char *path;                /* relative to storage.path */
    uint64_t size;                   /* bytes of the PS3.10 file */
    const char *transfer_syntax_uid; /* as received and stored */
    int64_t received_at_us;          /* microseconds since the Unix epoch, UTC */
    const char *calling_ae;          /* calling AE title of the C-STORE */
} cairn_instance_file;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_instance_file) == 48, "cairn_instance_file layout is ABI");
#endif

/*
 * One row of a listing. attributes holds the level's attributes as data
 * elements with UTF-8 text (as if Specific Character Set were ISO_IR 192),
 * including the unique keys of every level above and, where they apply, the
 * related counts (0020,1200) to (0020,1209), Modalities in Study and SOP
 * Classes in Study. file is set at instance level only. Both are borrowed
 * for the callback. Since SDK 1.0.
 */
typedef struct cairn_index_row {
    uint32_t struct_size;
    cairn_index_level level;
    const cairn_dataset *attributes;
    const cairn_instance_file *file;
} cairn_index_row;

/* Called once per row; returning non-zero stops the listing early. */
typedef int (*cairn_index_row_fn)(void *arg, const cairn_index_row *row);

/*
 * Called once per kept job by job_list, with its ID and JSON document,
 * both borrowed for the call. Returning non-zero stops the listing early.
 * Since SDK 1.0.
 */
typedef int (*cairn_job_fn)(void *arg, const char *job_id, const char *document);

/* Flags of a cairn_index_query. */
/* Unique keys of the levels above may be absent (PS3.4 C.4.1.2.2). */
#define CAIRN_QUERY_RELATIONAL 0x1u
/* DA and TM keys of one attribute pair match as one date-time (PS3.4 C.2.2.2.5.1). */
#define CAIRN_QUERY_COMBINED_DATETIME 0x2u
/* Person names match case-sensitively; by default case is ignored. */
#define CAIRN_QUERY_PN_CASE_SENSITIVE 0x4u

/*
 * A query on the index (PS3.4 C.2.2.2 matching). keys is the C-FIND
 * Identifier as received, in its own Specific Character Set: each key
 * with a value is a matching key (single value, list of UIDs, wildcard
 * with * and ?, range a-b, -b, a- on DA, TM and DT, sequence matching
 * with one item), and every other key is universal. Keys the back end
 * does not keep match universally. Since SDK 1.0.
 */
typedef struct cairn_index_query {
    uint32_t struct_size;        /* sizeof(cairn_index_query) */
    cairn_index_level level;     /* the Query/Retrieve Level */
    const cairn_dataset *keys;   /* borrowed for the call */
    uint32_t flags;              /* CAIRN_QUERY_* */
    uint32_t reserved;           /* zero */
    uint64_t max_matches;        /* 0: no limit; beyond it the query fails with CAIRN_ERR_LIMIT */
} cairn_index_query;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_index_query) == 32, "cairn_index_query layout is ABI");
#endif

/*
 * One Modality Performed Procedure Step (PS3.4 F.7) as the index keeps it.
 * The index stores the searchable values in columns and document (UTF-8
 * text, a JSON object) as opaque text. Text is UTF-8 without padding, ""
 * when absent, never NULL. Strings are borrowed for the call. Since SDK 1.0.
 */
typedef struct cairn_mpps_step {
    uint32_t struct_size;           /* sizeof(cairn_mpps_step) */
    uint32_t reserved;              /* zero */
    const char *sop_instance_uid;   /* the step's SOP Instance UID: the key */
    const char *status;             /* IN PROGRESS, COMPLETED or DISCONTINUED */
    const char *study_instance_uid; /* first Study Instance UID of the Scheduled Step Attributes Sequence */
    const char *modality;
    const char *start_datetime;     /* Performed Procedure Step Start Date and Time as YYYYMMDDHHMMSS */
    const char *calling_ae;         /* AE title of the modality that created the step */
    int64_t created_at_us;          /* microseconds since the Unix epoch, UTC */
    int64_t updated_at_us;
    const char *document;
} cairn_mpps_step;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_mpps_step) == 80, "cairn_mpps_step layout is ABI");
#endif

/* Called once per step, borrowed for the call; non-zero stops early. Since SDK 1.0. */
typedef int (*cairn_mpps_fn)(void *arg, const cairn_mpps_step *step);

/*
 * Filter of mpps_list. A NULL or empty string matches every step, and
 * any other string must equal its column. The exceptions are start_from
 * and start_to: they bound start_datetime inclusively, compared as text,
 * so a prefix such as "20260101" works as a lower bound. Since SDK 1.0.
 */
typedef struct cairn_mpps_filter {
    uint32_t struct_size; /* sizeof(cairn_mpps_filter) */
    uint32_t reserved;    /* zero */
    const char *study_instance_uid;
    const char *modality;
    const char *status;
    const char *start_from;
    const char *start_to;
    uint64_t max_rows;    /* 0: no limit; the newest steps come first */
} cairn_mpps_filter;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_mpps_filter) == 56, "cairn_mpps_filter layout is ABI");
#endif

/*
 * One message waiting in the outbox, the persistent queue of DIMSE
 * messages the archive sends to remote AEs (forwarded MPPS, study
 * notifications). Messages with the same destination and group_key are
 * delivered in id order, so a sender retries only the first of a group.
 * Strings are borrowed for the call. Since SDK 1.0.
 */
typedef struct cairn_outbox_message {
    uint32_t struct_size;       /* sizeof(cairn_outbox_message) */
    uint32_t attempts;          /* failed deliveries so far */
    uint64_t id;                /* assigned by outbox_add, increasing */
    const char *kind;           /* what the payload is, chosen by the sender, e.g. "mpps-n-create" */
    const char *destination;    /* remote AE title */
    const char *calling_ae;     /* calling AE title of the association that carries it */
    const char *group_key;      /* ordering group, e.g. a SOP Instance UID */
    const char *document;       /* payload, opaque text */
    const char *last_error;     /* why the last delivery failed; "" before any */
    int64_t created_at_us;      /* microseconds since the Unix epoch, UTC */
    int64_t next_attempt_at_us; /* not to be sent before */
} cairn_outbox_message;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_outbox_message) == 80, "cairn_outbox_message layout is ABI");
#endif

/* Called once per outbox message, borrowed for the call; non-zero stops early. Since SDK 1.0. */
typedef int (*cairn_outbox_fn)(void *arg, const cairn_outbox_message *message);

/* Storage commitment state of one instance at one remote AE. Since SDK 1.0. */
typedef enum cairn_commitment_state {
    CAIRN_COMMITMENT_PENDING = 0,   /* not requested yet, or requested with no report yet */
    CAIRN_COMMITMENT_COMMITTED = 1, /* the remote reported that it keeps the instance */
    CAIRN_COMMITMENT_FAILED = 2,    /* the remote reported a failure, or sent no report in time */
    CAIRN_COMMITMENT_STATE_SENTINEL_ = 0x7fffffff
} cairn_commitment_state;

/*
 * The state of one Storage Commitment the archive requested of a remote
 * AE (the archive as Storage Commitment SCU, PS3.4 J): one instance at one
 * remote, keyed by remote_ae and sop_instance_uid. Text is never NULL ("" when
 * unknown); strings are borrowed for the call. Since SDK 1.0.
 */
typedef struct cairn_commitment {
    uint32_t struct_size;           /* sizeof(cairn_commitment) */
    cairn_commitment_state state;
    const char *remote_ae;          /* the remote asked to commit */
    const char *sop_instance_uid;
    const char *sop_class_uid;
    const char *study_instance_uid;
    const char *calling_ae;         /* archive AE title that sends the N-ACTION and gets the report */
    const char *transaction_uid;    /* Transaction UID of the latest N-ACTION */
    const char *note;               /* what a pending row waits for, or why it failed */
    int64_t requested_at_us;        /* latest N-ACTION attempt, microseconds since the epoch */
    int64_t due_at_us;              /* pending: when to ask again */
    int64_t updated_at_us;          /* latest change */
    uint32_t attempts;              /* N-ACTIONs tried */
    uint32_t failure_reason;        /* failed: Failure Reason (0008,1197), 0 when none came */
} cairn_commitment;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_commitment) == 96, "cairn_commitment layout is ABI");
#endif

/* Called once per row, borrowed for the call; non-zero stops early. Since SDK 1.0. */
typedef int (*cairn_commitment_fn)(void *arg, const cairn_commitment *row);

/*
 * Selects rows for commitment_list. A NULL or empty string matches every
 * row; otherwise the column must equal it. Since SDK 1.0.
 */
typedef struct cairn_commitment_filter {
    uint32_t struct_size;           /* sizeof(cairn_commitment_filter) */
    int32_t state;                  /* a cairn_commitment_state, or -1 for every state */
    const char *remote_ae;
    const char *study_instance_uid;
    const char *transaction_uid;
    int64_t due_before_us;          /* non-zero: only rows with due_at_us <= it */
    uint64_t max_rows;              /* 0: no limit */
} cairn_commitment_filter;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_commitment_filter) == 48, "cairn_commitment_filter layout is ABI");
#endif

/*
 * An index back end. The host copies the table. Set struct_size to
 * sizeof(cairn_index_ops). Entries are only ever appended. Since SDK 1.0.
 */
typedef struct cairn_index_ops {
    uint32_t struct_size;
    uint32_t reserved; /* zero */

    /* Back end name for logs, e.g. "sqlite". */
    const char *name;

    /*
     * Opens the index, creating or migrating its schema. backend_state is
     * the pointer given to register_index. storage_path is the archive's
     * storage folder (absolute), where a file-based back end may keep its
     * database. On success *db is the index handle for every other call.
     */
    cairn_status (*open)(void *backend_state, const char *storage_path, void **db);

    /* Closes an index opened by open. NULL does nothing. */
    void (*close)(void *db);

    /*
     * Records one instance. attributes are the leading attributes of the
     * data set (everything before Pixel Data) in their received character
     * set; file says where it is kept. With a SOP Instance UID already in
     * the index, policy decides, and *outcome says what was done. When the
     * outcome is CAIRN_STORE_REPLACED and replaced_path is not NULL,
     * *replaced_path receives the relative path of the file that is no
     * longer referenced, allocated with the host's alloc (the caller frees
     * it with the host's free). Returns only when the change is durable.
     * Returns CAIRN_ERR_OUTCOME_UNKNOWN when the back end cannot tell
     * whether the row was committed (its connection was lost during the
     * COMMIT and the server stayed unreachable): the host then keeps the
     * file, so that no row ever names a removed file.
     */
    cairn_status (*store_instance)(void *db, const cairn_dataset *attributes,
                                   const cairn_instance_file *file,
                                   cairn_duplicate_policy policy,
                                   cairn_store_outcome *outcome, char **replaced_path);

    /*
     * Removes one instance and updates the counts of its series, study and
     * patient, dropping levels left empty. CAIRN_ERR_NOT_FOUND if absent.
     */
    cairn_status (*remove_instance)(void *db, const char *sop_instance_uid);

    /*
     * Lists the rows of one level that match filter. filter may be NULL
     * (every row) or a data set of keys: each non-empty value must equal
     * the row's value exactly. Rows come in a stable order (patient ID,
     * study date, series number, instance number, then UID).
     */
    cairn_status (*list)(void *db, cairn_index_level level, const cairn_dataset *filter,
                         cairn_index_row_fn fn, void *arg);

    /* Counts the rows of one level. */
    cairn_status (*count)(void *db, cairn_index_level level, uint64_t *count);

    /*
     * Runs a query and calls fn once per matching row, with the same row
     * contents as list. Instances marked rejected never match. All the
     * matching happens in the back end, in a bounded number of statements
     * whatever the number of rows. When more than max_matches rows match,
     * returns CAIRN_ERR_LIMIT before calling fn at all.
     */
    cairn_status (*query)(void *db, const cairn_index_query *query, cairn_index_row_fn fn,
                          void *arg);

    /*
     * Jobs of the Query, Load and Save Managers, kept so that they outlive
     * a restart. The index stores each document as an opaque UTF-8 text
     * (a JSON object) under its job ID and never looks inside it.
     */

    /* Inserts the job or replaces its document. Returns once the change is durable. */
    cairn_status (*job_put)(void *db, const char *job_id, const char *document);

    /* Removes one job. CAIRN_ERR_NOT_FOUND if absent. */
    cairn_status (*job_delete)(void *db, const char *job_id);

    /* Calls fn once per kept job, oldest first (by first job_put). */
    cairn_status (*job_list)(void *db, cairn_job_fn fn, void *arg);

    /*
     * Rejects instances, as an IOCM rejection note (a Key Object Selection
     * document with a rejection code) requests. Each of the count SOP Instance UIDs is recorded
     * with code (a Code Value such as "113001") as rejected whether or not
     * the index holds it; the instances it holds are marked rejected at
     * once, and one stored later under a recorded UID is marked rejected as
     * it arrives. A rejected instance never matches query() and leaves the
     * instance counts of its series, study and patient. UIDs that are not
     * valid UIDs are skipped. Returns once the change is durable; *marked
     * (when not NULL) receives the number of held instances newly marked.
     * Since SDK 1.0.
     */
    cairn_status (*reject_instances)(void *db, const char *const *sop_instance_uids,
                                     size_t count, const char *code, size_t *marked);

    /*
     * Stores a Modality Performed Procedure Step. With create non-zero the
     * step must be new (CAIRN_ERR_EXISTS when its SOP Instance UID is
     * kept already, checked and inserted atomically); otherwise it replaces
     * the kept step (CAIRN_ERR_NOT_FOUND when there is none), keeping its
     * created_at_us. Returns once the change is durable. Since SDK 1.0.
     */
    cairn_status (*mpps_put)(void *db, const cairn_mpps_step *step, int create);

    /* Calls fn once with the step sop_instance_uid; CAIRN_ERR_NOT_FOUND when absent. Since SDK 1.0. */
    cairn_status (*mpps_get)(void *db, const char *sop_instance_uid, cairn_mpps_fn fn, void *arg);

    /*
     * Calls fn once per step that matches filter (NULL: every step), newest
     * start_datetime first, then by SOP Instance UID. Since SDK 1.0.
     */
    cairn_status (*mpps_list)(void *db, const cairn_mpps_filter *filter, cairn_mpps_fn fn,
                              void *arg);

    /*
     * Appends a message to the outbox; the index ignores message->id and
     * attempts and stores *id, larger than every id given before. Returns
     * once the change is durable. Since SDK 1.0.
     */
    cairn_status (*outbox_add)(void *db, const cairn_outbox_message *message, uint64_t *id);

    /*
     * Records a failed delivery of message id: its attempt count, the time
     * of the next try and the error. CAIRN_ERR_NOT_FOUND when absent.
     * Since SDK 1.0.
     */
    cairn_status (*outbox_update)(void *db, uint64_t id, uint32_t attempts,
                                  int64_t next_attempt_at_us, const char *last_error);

    /* Removes message id once delivered or given up; CAIRN_ERR_NOT_FOUND when absent. Since SDK 1.0. */
    cairn_status (*outbox_delete)(void *db, uint64_t id);

    /*
     * Calls fn once per message whose kind starts with kind_prefix (NULL or
     * "": every message), in id order. Since SDK 1.0.
     */
    cairn_status (*outbox_list)(void *db, const char *kind_prefix, cairn_outbox_fn fn, void *arg);
    /*
     * Storage commitment asked of remote AEs. Inserts each row or replaces
     * the row with the same remote_ae and sop_instance_uid, all rows in one
     * transaction. Returns once the change is durable. Since SDK 1.0.
     */
    cairn_status (*commitment_put)(void *db, const cairn_commitment *rows, size_t count);

    /*
     * Applies an N-EVENT-REPORT: for each result, the PENDING row whose
     * transaction_uid is transaction_uid and whose sop_instance_uid is the
     * result's takes the result's state, failure_reason, note and
     * updated_at_us (other fields of results are ignored), all in one
     * transaction. *updated (when not NULL) receives the number of rows
     * changed. CAIRN_ERR_NOT_FOUND when no row has that transaction_uid.
     * Returns once the change is durable. Since SDK 1.0.
     */
    cairn_status (*commitment_report)(void *db, const char *transaction_uid,
                                      const cairn_commitment *results, size_t count,
                                      size_t *updated);

    /*
     * Calls fn once per row that matches filter (NULL: every row), ordered
     * by remote_ae, transaction_uid, then sop_instance_uid. Since SDK 1.0.
     */
    cairn_status (*commitment_list)(void *db, const cairn_commitment_filter *filter,
                                    cairn_commitment_fn fn, void *arg);

    /*
     * Brings the back end's schema to the newest version it supports and
     * returns; `cairnd --migrate` calls it, without opening the index.
     * backend_state and storage_path are as for open. A back end whose
     * open() always migrates may leave it NULL: `cairnd --migrate` then
     * opens and closes the index. Since SDK 1.0.
     */
    cairn_status (*migrate)(void *backend_state, const char *storage_path);

    /*
     * Calls fn once with the kept job job_id and its document, read from
     * the database (several nodes may share it). CAIRN_ERR_NOT_FOUND when
     * absent. Since SDK 1.0.
     */
    cairn_status (*job_get)(void *db, const char *job_id, cairn_job_fn fn, void *arg);

    /*
     * Leases: at most one owner (a node name) at a time holds the lease of
     * a key such as "job:<id>", so that work several nodes could do is done
     * by one, and taken over once its owner stops renewing. Takes the lease
     * of key for owner until ttl_ms milliseconds from now by the back end's
     * clock (for a shared database its server's clock, so the nodes' clocks
     * do not matter). Succeeds when no owner holds the lease, when it expired,
     * or when owner holds it already (the call then renews it), checked
     * and written atomically. CAIRN_ERR_BUSY when another owner holds a
     * lease that has not expired; holder (when not NULL) then receives its
     * name, truncated to holder_size. Keys and owners are at most 128 bytes.
     * Returns once the change is durable. Since SDK 1.0.
     */
    cairn_status (*lease_acquire)(void *db, const char *key, const char *owner, uint32_t ttl_ms,
                                  char *holder, size_t holder_size);

    /*
     * Gives up the lease of key when owner holds it, so that another node
     * may take it at once. CAIRN_ERR_NOT_FOUND when owner holds no lease of
     * key (it never did, or it expired and another owner took it).
     * Since SDK 1.0.
     */
    cairn_status (*lease_release)(void *db, const char *key, const char *owner);

    /*
     * Calls fn once per SOP Instance UID recorded by reject_instances,
     * with its code, in UID order, both borrowed for the call; non-zero
     * from fn stops early. Copying an index into another back end uses it.
     * Since SDK 1.0.
     */
    cairn_status (*rejection_list)(void *db,
                                   int (*fn)(void *arg, const char *sop_instance_uid,
                                             const char *code),
                                   void *arg);
} cairn_index_ops;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_index_ops) == 8 + 27 * 8, "cairn_index_ops layout is ABI");
#endif

CAIRN_EXTERN_C_END

#endif
