/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal declarations of the PostgreSQL index plugin: the back end
 * settings, the connection pool, the transaction runner that retries
 * serialization failures, deadlocks and lost connections, the attributes
 * of one instance as the index keeps them, and the functions the plugin's
 * files share. Nothing here is seen by the host.
 */
#ifndef PGIDX_H
#define PGIDX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "cairn/plugin.h"
#include "idxtext.h"
#include "seqidx.h"

/* Settings read in init; one per loaded plugin. */
typedef struct pgidx_backend {
    cairn_plugin *self;
    const cairn_host_api *api;
    char *conninfo;      /* the `conninfo` setting, or NULL */
    const char *host;    /* borrowed from the configuration; NULL when unset */
    const char *port;
    const char *dbname;
    const char *user;
    char *password;      /* first line of password_file, or NULL */
    char port_text[8];
    int pool_size;
    int statement_timeout_ms;
    int connect_timeout_s;
    int reconnect_window_ms; /* how long one call waits for the server to come back */
    int64_t commit_check_window_ms; /* how long the check of an unanswered COMMIT waits */
    bool migrate_at_start;
} pgidx_backend;

/* Statements every connection prepares once, by name, when first used. */
typedef enum pgidx_stmt_id {
    PGIDX_LOCK_UID,
    PGIDX_FIND_INSTANCE,
    PGIDX_INSERT_PATIENT,
    PGIDX_FIND_PATIENT,
    PGIDX_INSERT_STUDY,
    PGIDX_FIND_STUDY,
    PGIDX_INSERT_SERIES,
    PGIDX_FIND_SERIES,
    PGIDX_INSERT_INSTANCE,
    PGIDX_INSERT_FILED_INSTANCE,
    PGIDX_DELETE_INSTANCE,
    PGIDX_PRUNE_SERIES,
    PGIDX_PRUNE_STUDY,
    PGIDX_PRUNE_PATIENT,
    PGIDX_CHECK_STORED,
    PGIDX_SEQUENCE_KEPT,
    PGIDX_SEQUENCES_KEPT_BY_KEY,
    PGIDX_STMT_COUNT
} pgidx_stmt_id;

/* How the last statement on a connection failed. */
typedef enum pgidx_failure {
    PGIDX_FAILED_NOT,
    PGIDX_FAILED_RETRY,      /* serialization failure, deadlock, lost race: run it again */
    PGIDX_FAILED_CONNECTION, /* the connection is gone */
    PGIDX_FAILED_OTHER,
} pgidx_failure;

/* One server connection of the pool. */
typedef struct pgidx_conn {
    PGconn *pg;
    uint64_t prepared; /* bit per pgidx_stmt_id prepared on this connection */
    pgidx_failure failure;
    char sqlstate[6];
    struct pgidx_conn *next_idle;
} pgidx_conn;

typedef struct pgidx_store_job pgidx_store_job;

/* An opened index: the handle open() returns. */
typedef struct pgidx_index {
    const pgidx_backend *backend;
    pthread_mutex_t lock;
    pthread_cond_t released; /* a connection went back to the pool */
    pgidx_conn *idle;
    int open_count; /* connections open or being opened */

    /* The store queue of batch.c, guarded by lock. */
    pgidx_store_job *queue_head;
    pgidx_store_job *queue_tail;
    int runners; /* batches being run */
} pgidx_index;

/*
 * One instance's index values. Text is UTF-8 with padding removed, never
 * NULL (empty when absent); the numbers are -1 when absent.
 */
typedef struct pgidx_record {
    char *charset;
    char *patient_name;
    char *patient_name_folded;
    char *patient_name_groups[3]; /* case-folded component groups; "" without '=' */
    char *patient_id;
    char *issuer;
    char *birth_date;
    char *sex;
    char *study_uid;
    char *study_date;
    char *study_time;
    char *study_time_key; /* normalised HHMMSS.FFFFFF, "" when absent or invalid */
    char *accession_number;
    char *study_id;
    char *referring_physician;
    char *referring_physician_folded;
    char *study_description;
    char *series_uid;
    char *modality;
    int64_t series_number;
    char *series_description;
    char *sop_uid;
    char *sop_class_uid;
    int64_t instance_number;
    char *path;
    uint64_t size;
    char *transfer_syntax;
    int64_t received_at_us;
    char *calling_ae;
    seqidx_set sequences; /* kept sequences (seqidx.h) */
} pgidx_record;

/* Logs through the host with the plugin's name. */
#define pgidx_log(backend, level, ...) \
    ((backend)->api->log((backend)->self, (level), __VA_ARGS__))

/* index.c: the table registered with the host */
extern const cairn_index_ops pgidx_ops;

/* conn.c: connections, the pool and statements */
cairn_status pgidx_conn_open(const pgidx_backend *backend, pgidx_conn **out);
void pgidx_conn_close(pgidx_conn *conn);
cairn_status pgidx_pool_take(pgidx_index *index, pgidx_conn **out);
void pgidx_pool_give_back(pgidx_index *index, pgidx_conn *conn);
void pgidx_pool_close(pgidx_index *index);
cairn_status pgidx_exec(const pgidx_backend *backend, pgidx_conn *conn, const char *sql,
                        int count, const char *const *values, PGresult **result);
cairn_status pgidx_exec_fixed(const pgidx_backend *backend, pgidx_conn *conn,
                              pgidx_stmt_id id, int count, const char *const *values,
                              PGresult **result);
cairn_status pgidx_prepare(const pgidx_backend *backend, pgidx_conn *conn, pgidx_stmt_id id,
                           char name[16]);
cairn_status pgidx_result_failed(const pgidx_backend *backend, pgidx_conn *conn,
                                 const PGresult *result, const char *what);
int64_t pgidx_int(const PGresult *result, int row, int column);

/* pipeline.c: one statement of a pipeline; sql NULL runs the fixed statement id */
typedef struct pgidx_piped {
    const char *sql; /* SQL text without parameters */
    pgidx_stmt_id id;
    int count;
    const char *const *values;
    PGresult **result; /* receives the result when not NULL */
} pgidx_piped;

/* Statements one pipeline may hold. */
#define PGIDX_PIPELINE_MAX 10

cairn_status pgidx_exec_pipeline(const pgidx_backend *backend, pgidx_conn *conn,
                                 const pgidx_piped *stmts, int count);

/*
 * txn.c: runs body(conn, arg) inside one transaction, with retries. When
 * a COMMIT loses its connection, verify (may be NULL) checks on a fresh
 * connection whether the transaction committed, and sets *committed if so.
 */
typedef cairn_status (*pgidx_body_fn)(const pgidx_backend *backend, pgidx_conn *conn,
                                      void *arg);
typedef cairn_status (*pgidx_verify_fn)(const pgidx_backend *backend, pgidx_conn *conn,
                                        void *arg, bool *committed);
cairn_status pgidx_transaction(pgidx_index *index, const char *what, pgidx_body_fn body,
                               pgidx_verify_fn verify, void *arg);
cairn_status pgidx_transaction_begun_by_body(pgidx_index *index, const char *what,
                                             pgidx_body_fn body, pgidx_verify_fn verify,
                                             void *arg);
cairn_status pgidx_read(pgidx_index *index, const char *what, pgidx_body_fn body, void *arg);
void pgidx_pause_before_retry(int attempt);

/* schema.c */
cairn_status pgidx_schema_check(const pgidx_backend *backend, pgidx_conn *conn, bool migrate);
int pgidx_schema_version(void);

/* record.c */
cairn_status pgidx_record_read(const pgidx_backend *backend, const cairn_dataset *attributes,
                               const cairn_instance_file *file, pgidx_record *record);
void pgidx_record_free(pgidx_record *record);
bool pgidx_uid_is_valid(const char *uid);
char *pgidx_strdup(const char *text);
void pgidx_utf8_clean(char *text);


/* One store request and its result; lives on the waiting caller's stack. */
struct pgidx_store_job {
    const pgidx_record *record;
    cairn_duplicate_policy policy;
    bool want_replaced_path;

    cairn_status status;
    cairn_store_outcome outcome;
    char *replaced_path; /* host alloc */
    bool lost_race;      /* rolled back by a retryable failure: run it again */
    int conflicts;       /* batches this job was rolled back from so far */
    char txid[24];       /* first job of a batch: its transaction id, "" until known */
    bool done;
    pthread_cond_t wake; /* signalled when done, or when the caller is to run the next batch */
    pgidx_store_job *next;
};

/* write.c: store and remove */
cairn_status pgidx_store(pgidx_index *index, const pgidx_record *record,
                         cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                         char **replaced_path);
cairn_status pgidx_store_run(const pgidx_backend *backend, pgidx_conn *conn,
                             pgidx_store_job *job, const char *const *prefix, int prefix_count,
                             char txid[24]);
cairn_status pgidx_store_check(const pgidx_backend *backend, pgidx_conn *conn,
                               const pgidx_store_job *job, bool *committed);
cairn_status pgidx_remove(pgidx_index *index, const char *sop_uid);

/* batch.c: group commit of the stores that wait at the same time */
void pgidx_batch_submit(pgidx_index *index, pgidx_store_job *job);

/*
 * seq_store.c: the kept sequences of one store; owners[level] is the row
 * id of each level. kept, when not NULL, is a result of
 * PGIDX_SEQUENCES_KEPT_BY_KEY read in this transaction, and saves the
 * first look-up of each sequence.
 */
cairn_status pgidx_seq_store(const pgidx_backend *backend, pgidx_conn *conn,
                             const seqidx_set *set, const char *const owners[5],
                             const PGresult *kept);

/* rows.c: adds to row the items of a seq_GGGGEEEE column; other columns are ignored */
cairn_status pgidx_seq_add_column(const pgidx_backend *backend, cairn_dataset *row,
                                  const PGresult *result, int row_number, int column);

/* rows.c: the columns of a listed or queried row and their delivery */
typedef struct query_sql query_sql;
void pgidx_row_columns(query_sql *sql, cairn_index_level level, bool query);
cairn_status pgidx_deliver_row(const pgidx_backend *backend, const PGresult *result, int row,
                               cairn_index_level level, cairn_index_row_fn fn, void *arg,
                               int *stop);
cairn_status pgidx_stream_rows(const pgidx_backend *backend, pgidx_conn *conn,
                               const query_sql *sql, cairn_index_level level,
                               cairn_index_row_fn fn, void *arg, bool *delivered);
extern const char *const pgidx_level_order[];

/* list.c */
cairn_status pgidx_list(pgidx_index *index, cairn_index_level level,
                        const cairn_dataset *filter, cairn_index_row_fn fn, void *arg);
cairn_status pgidx_count(pgidx_index *index, cairn_index_level level, uint64_t *count);

/* query.c */
cairn_status pgidx_query(pgidx_index *index, const cairn_index_query *query,
                         cairn_index_row_fn fn, void *arg);

/* jobs.c */
cairn_status pgidx_job_put(pgidx_index *index, const char *job_id, const char *document);
cairn_status pgidx_job_delete(pgidx_index *index, const char *job_id);
cairn_status pgidx_job_list(pgidx_index *index, cairn_job_fn fn, void *arg);

/* lease.c: leases of several nodes, and the read of one job */
cairn_status pgidx_lease_acquire(pgidx_index *index, const char *key, const char *owner,
                                 uint32_t ttl_ms, char *holder, size_t holder_size);
cairn_status pgidx_lease_release(pgidx_index *index, const char *key, const char *owner);
cairn_status pgidx_job_get(pgidx_index *index, const char *job_id, cairn_job_fn fn, void *arg);

/* rejections.c */
cairn_status pgidx_rejection_list(pgidx_index *index,
                                  int (*fn)(void *arg, const char *sop_instance_uid,
                                            const char *code),
                                  void *arg);

/* reject.c */
cairn_status pgidx_reject(pgidx_index *index, const char *const *sop_uids, size_t count,
                          const char *code, size_t *marked);

/* mpps.c, outbox.c, commitment.c: the tables of the data router and the commitment SCU */
cairn_status pgidx_mpps_put(pgidx_index *index, const cairn_mpps_step *step, int create);
cairn_status pgidx_mpps_get(pgidx_index *index, const char *sop_uid, cairn_mpps_fn fn,
                            void *arg);
cairn_status pgidx_mpps_list(pgidx_index *index, const cairn_mpps_filter *filter,
                             cairn_mpps_fn fn, void *arg);
cairn_status pgidx_outbox_add(pgidx_index *index, const cairn_outbox_message *message,
                              uint64_t *id);
cairn_status pgidx_outbox_update(pgidx_index *index, uint64_t id, uint32_t attempts,
                                 int64_t next_attempt_at_us, const char *last_error);
cairn_status pgidx_outbox_delete(pgidx_index *index, uint64_t id);
cairn_status pgidx_outbox_list(pgidx_index *index, const char *kind_prefix, cairn_outbox_fn fn,
                               void *arg);
cairn_status pgidx_commitment_put(pgidx_index *index, const cairn_commitment *rows,
                                  size_t count);
cairn_status pgidx_commitment_report(pgidx_index *index, const char *transaction_uid,
                                     const cairn_commitment *results, size_t count,
                                     size_t *updated);
cairn_status pgidx_commitment_list(pgidx_index *index, const cairn_commitment_filter *filter,
                                   cairn_commitment_fn fn, void *arg);

#endif
