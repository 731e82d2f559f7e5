/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal declarations of the SQLite index plugin: the back end settings,
 * an opened index, a connection with its cache of prepared statements, the
 * attributes of one instance as the index keeps them, and the functions
 * the plugin's files share. Nothing here is seen by the host.
 */
#ifndef SQLIDX_H
#define SQLIDX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cairn/plugin.h"
#include "idxtext.h"
#include "seqidx.h"

/* Settings read in init; one per loaded plugin. */
typedef struct sqlidx_backend {
    cairn_plugin *self;
    const cairn_host_api *api;
    char *path;          /* database file from the `path` setting, or NULL */
    int busy_timeout_ms; /* how long a connection waits for a lock */
    bool synchronous_full;
    int max_batch; /* stores per write transaction; 1 disables group commit */
} sqlidx_backend;

/* Statements of the writer connection, prepared once and kept. */
typedef enum sqlidx_stmt_id {
    SQLIDX_UPSERT_PATIENT,
    SQLIDX_FIND_STUDY,
    SQLIDX_INSERT_STUDY,
    SQLIDX_FILL_STUDY,
    SQLIDX_FIND_SERIES,
    SQLIDX_INSERT_SERIES,
    SQLIDX_FILL_SERIES,
    SQLIDX_FIND_INSTANCE,
    SQLIDX_INSERT_INSTANCE,
    SQLIDX_DELETE_INSTANCE,
    SQLIDX_PRUNE_SERIES,
    SQLIDX_PRUNE_STUDY,
    SQLIDX_PRUNE_PATIENT,
    SQLIDX_APPLY_REJECTION,
    SQLIDX_BEGIN,
    SQLIDX_COMMIT,
    SQLIDX_ROLLBACK,
    SQLIDX_SAVEPOINT,
    SQLIDX_RELEASE,
    SQLIDX_ROLLBACK_TO,
    SQLIDX_COUNT_PATIENTS,
    SQLIDX_COUNT_STUDIES,
    SQLIDX_COUNT_SERIES,
    SQLIDX_COUNT_INSTANCES,
    SQLIDX_STMT_COUNT
} sqlidx_stmt_id;

/* Listing statements a connection keeps, keyed by level and filter keys. */
#define SQLIDX_LIST_CACHE_SIZE 16

/* Query statements a connection keeps, keyed by their text (query.c). */
#define SQLIDX_QUERY_CACHE_SIZE 16

/* One SQLite connection and its prepared statements. */
typedef struct sqlidx_conn {
    sqlite3 *db;
    sqlite3_stmt *fixed[SQLIDX_STMT_COUNT];
    struct {
        uint64_t key;
        sqlite3_stmt *stmt;
    } list_cache[SQLIDX_LIST_CACHE_SIZE];
    unsigned list_next; /* slot the next new listing statement takes */
    struct {
        char *text;
        sqlite3_stmt *stmt;
    } query_cache[SQLIDX_QUERY_CACHE_SIZE];
    unsigned query_next; /* slot the next new query statement takes */
    struct sqlidx_conn *next_free;
} sqlidx_conn;

/*
 * One instance's index values. Text is UTF-8 with padding removed, never
 * NULL (empty when absent); the numbers are -1 when absent.
 */
typedef struct sqlidx_record {
    char *charset;
    char *patient_name;
    char *patient_name_folded; /* case-folded whole value, for matching */
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
    char *study_description;
    char *series_uid;
    char *modality;
    int64_t series_number;
    char *series_description;
    char *sop_uid;
    char *sop_class_uid;
    int64_t instance_number;
    /* From the cairn_instance_file. */
    char *path;
    uint64_t size;
    char *transfer_syntax;
    int64_t received_at_us;
    char *calling_ae;
    seqidx_set sequences; /* kept sequences (seqidx.h) */
} sqlidx_record;

typedef struct sqlidx_writer sqlidx_writer;

/* An opened index: the handle open() returns. */
typedef struct sqlidx_index {
    const sqlidx_backend *backend;
    char *db_path;
    sqlidx_writer *writer;
    pthread_mutex_t pool_lock;
    sqlidx_conn *free_readers; /* idle reader connections */
    unsigned idle_count;
} sqlidx_index;

/* Logs through the host with the plugin's name. */
#define sqlidx_log(backend, level, ...) \
    ((backend)->api->log((backend)->self, (level), __VA_ARGS__))

/* index.c: the table registered with the host */
extern const cairn_index_ops sqlidx_ops;

/* conn.c */
cairn_status sqlidx_conn_open(const sqlidx_backend *backend, const char *path, bool writer,
                              sqlidx_conn **out);
void sqlidx_conn_close(sqlidx_conn *conn);
sqlite3_stmt *sqlidx_conn_fixed(const sqlidx_backend *backend, sqlidx_conn *conn,
                                sqlidx_stmt_id id);
sqlite3_stmt *sqlidx_conn_cached(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 uint64_t key, const char *sql);
sqlite3_stmt *sqlidx_conn_query(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *sql);
cairn_status sqlidx_run(const sqlidx_backend *backend, sqlidx_conn *conn, sqlidx_stmt_id id);
cairn_status sqlidx_status_from_sqlite(int rc);

/* schema.c */
cairn_status sqlidx_schema_migrate(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   const char *path);

/* record.c */
cairn_status sqlidx_record_read(const sqlidx_backend *backend, const cairn_dataset *attributes,
                                const cairn_instance_file *file, sqlidx_record *record);
void sqlidx_record_free(sqlidx_record *record);
bool sqlidx_uid_is_valid(const char *uid);
char *sqlidx_strdup(const char *text);

/* write.c: the statements of one store or removal, inside a transaction */
cairn_status sqlidx_write_store(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const sqlidx_record *record, cairn_duplicate_policy policy,
                                cairn_store_outcome *outcome, char **replaced_path);
cairn_status sqlidx_write_remove(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 const char *sop_uid);

/* seq_store.c: the kept sequences of one store; owners[level] is the row id of each level */
cairn_status sqlidx_seq_store(const sqlidx_backend *backend, sqlidx_conn *conn,
                              const seqidx_set *set, const int64_t owners[5]);

/* writer.c: the writer thread and its group commit */
cairn_status sqlidx_writer_start(const sqlidx_backend *backend, const char *path,
                                 sqlidx_writer **out);
void sqlidx_writer_stop(sqlidx_writer *writer);
cairn_status sqlidx_writer_store(sqlidx_writer *writer, const sqlidx_record *record,
                                 cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                                 char **replaced_path);
cairn_status sqlidx_writer_remove(sqlidx_writer *writer, const char *sop_uid);


/* list.c */
cairn_status sqlidx_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                         cairn_index_level level, const cairn_dataset *filter,
                         cairn_index_row_fn fn, void *arg);
bool sqlidx_row_columns(cairn_index_level level, bool query, char *buf, size_t size);
/* Adds to row the values of the columns after the row's own, from first on. */
typedef cairn_status (*sqlidx_row_extra_fn)(void *arg, cairn_dataset *row, sqlite3_stmt *stmt,
                                            int first);
cairn_status sqlidx_deliver_row(const sqlidx_backend *backend, sqlite3_stmt *stmt,
                                cairn_index_level level, sqlidx_row_extra_fn extra,
                                void *extra_arg, cairn_index_row_fn fn, void *arg, int *stop);

/* jobs.c: the job table, on any connection */
cairn_status sqlidx_job_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                            const char *job_id, const char *document);
cairn_status sqlidx_job_delete(const sqlidx_backend *backend, sqlidx_conn *conn,
                               const char *job_id);
cairn_status sqlidx_job_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                             cairn_job_fn fn, void *arg);

/* lease.c */
cairn_status sqlidx_lease_acquire(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const char *key, const char *owner, uint32_t ttl_ms,
                                  char *holder, size_t holder_size);
cairn_status sqlidx_lease_release(const sqlidx_backend *backend, sqlidx_conn *conn,
                                  const char *key, const char *owner);
cairn_status sqlidx_job_get(const sqlidx_backend *backend, sqlidx_conn *conn,
                            const char *job_id, cairn_job_fn fn, void *arg);

/* rejections.c */
cairn_status sqlidx_rejection_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   int (*fn)(void *arg, const char *sop_instance_uid,
                                             const char *code),
                                   void *arg);

/* reject.c: rejection notes, on a reader connection */
cairn_status sqlidx_reject(const sqlidx_backend *backend, sqlidx_conn *conn,
                           const char *const *sop_uids, size_t count, const char *code,
                           size_t *marked);

/* mpps.c: Modality Performed Procedure Steps, on a reader connection */
cairn_status sqlidx_mpps_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                             const cairn_mpps_step *step, int create);
cairn_status sqlidx_mpps_get(const sqlidx_backend *backend, sqlidx_conn *conn,
                             const char *sop_uid, cairn_mpps_fn fn, void *arg);
cairn_status sqlidx_mpps_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                              const cairn_mpps_filter *filter, cairn_mpps_fn fn, void *arg);

/* outbox.c: messages waiting for delivery, on a reader connection */
cairn_status sqlidx_outbox_add(const sqlidx_backend *backend, sqlidx_conn *conn,
                               const cairn_outbox_message *message, uint64_t *id);
cairn_status sqlidx_outbox_update(const sqlidx_backend *backend, sqlidx_conn *conn, uint64_t id,
                                  uint32_t attempts, int64_t next_attempt_at_us,
                                  const char *last_error);
cairn_status sqlidx_outbox_delete(const sqlidx_backend *backend, sqlidx_conn *conn, uint64_t id);
cairn_status sqlidx_outbox_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                const char *kind_prefix, cairn_outbox_fn fn, void *arg);

/* commitment.c: Storage Commitment asked of remote AEs, on a reader connection */
cairn_status sqlidx_commitment_put(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   const cairn_commitment *rows, size_t count);
cairn_status sqlidx_commitment_report(const sqlidx_backend *backend, sqlidx_conn *conn,
                                      const char *transaction_uid,
                                      const cairn_commitment *results, size_t count,
                                      size_t *updated);
cairn_status sqlidx_commitment_list(const sqlidx_backend *backend, sqlidx_conn *conn,
                                    const cairn_commitment_filter *filter,
                                    cairn_commitment_fn fn, void *arg);

/* query.c */
cairn_status sqlidx_query(const sqlidx_backend *backend, sqlidx_conn *conn,
                          const cairn_index_query *query, cairn_index_row_fn fn, void *arg);

/* fold.c: the SQL functions of every connection */
cairn_status sqlidx_register_functions(sqlite3 *db);

#endif
