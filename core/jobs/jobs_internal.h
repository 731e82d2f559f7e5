/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations shared by the files of core/jobs: a parsed request, one
 * job and its record, the run of a job as the managers see it, the
 * outgoing DIMSE association of the query and retrieve managers, and the
 * three managers themselves.
 */
#ifndef CAIRN_JOBS_INTERNAL_H
#define CAIRN_JOBS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"
#include "config/conf.h"
#include "dcm/dcm.h"
#include "jobs/jobs.h"
#include "jobs/jobs_json.h"
#include "ul/ul.h"
#include "util/log.h"

/* Matches a query job keeps in its record when the request sets no max_results. */
#define JOBS_DEFAULT_MAX_RESULTS 1000
#define JOBS_MAX_RESULTS_LIMIT 100000
/* SOP Instance UIDs one retrieve or send request may list. */
#define JOBS_MAX_SOP_INSTANCE_UIDS 10000
/* Milliseconds between two checks for a cancel while waiting for a response. */
#define JOBS_POLL_MS 200

typedef enum job_kind { JOB_QUERY, JOB_RETRIEVE, JOB_SEND } job_kind;

typedef enum job_state {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_SUCCEEDED,
    JOB_FAILED,
    JOB_CANCELLED
} job_state;

/* Query/Retrieve information models a query may use. */
typedef enum job_model { JOB_MODEL_PATIENT, JOB_MODEL_STUDY, JOB_MODEL_PATIENT_STUDY } job_model;

/* One key of a query: a matching key when value is non-empty, else a return key. */
typedef struct job_key {
    dcm_tag tag;
    dcm_vr vr;
    char *value;
} job_key;

/* A validated request. */
typedef struct job_request {
    job_kind kind;
    char remote[UL_AE_TITLE_MAX + 1];
    char calling_ae[UL_AE_TITLE_MAX + 1]; /* "" until the default is chosen at run time */
    /* query */
    job_model model;
    char level[8]; /* PATIENT, STUDY, SERIES or IMAGE */
    job_key *keys;
    size_t n_keys;
    size_t max_results;
    /* retrieve */
    char destination[UL_AE_TITLE_MAX + 1];
    /* retrieve and send */
    char study_uid[UL_UID_MAX + 1];
    char series_uid[UL_UID_MAX + 1];
    char **sop_instance_uids;
    size_t n_sop_instance_uids;
} job_request;

/*
 * Validates a request and fills req. With conf, the remote must be
 * configured and destination and calling_ae must be our AEs; without it
 * (a job loaded from the index) only the syntax is checked. Returns 0, or
 * -1 with err naming the member and the bad value.
 */
int jobs_request_parse(const jobs_json *json, const cairn_conf *conf, job_request *req,
                       char *err, size_t errlen);
void jobs_request_free(job_request *req);
const char *jobs_kind_name(job_kind kind);
const char *jobs_model_find_sop_class(job_model model);

/* Progress counters; a *_known flag false means the value is written as null. */
typedef struct job_progress {
    uint64_t instances_done;
    uint64_t instances_remaining;
    uint64_t instances_failed;
    uint64_t instances_warning;
    uint64_t bytes_done;
    uint64_t bytes_remaining;
    bool remaining_known;
    bool bytes_known;
} job_progress;

/* One job, owned by the runner's list. */
typedef struct job {
    char id[37];
    job_kind kind;
    job_state state;
    jobs_json *request_json; /* as submitted */
    job_request request;
    int64_t created;  /* seconds since the Unix epoch; 0: not yet */
    int64_t started;
    int64_t finished;
    job_progress progress;
    char error[512];
    char *result;     /* query: JSON array of the matches, or NULL */
    bool truncated;   /* query: more matches than max_results arrived */
    unsigned attempts; /* runs started, restarts included */
    bool cancel_requested;
    int64_t last_saved_ms;
    char node[CONF_NODE_NAME_MAX + 1]; /* node that ran it last; "" before any run */
    bool local_run;    /* a worker of this node runs it */
    bool claiming;     /* a worker of this node is taking its lease */
    bool elsewhere;    /* another node held its lease at the last try */
    bool lease_lost;   /* another node took the lease while this node ran it */
    uint64_t doc_hash; /* hash of the document last saved or read from the index */
    struct job *next;
} job;

/* Writes the JSON record of j (the caller frees it), or NULL when out of memory. */
char *jobs_record_format(const job *j);
/* Rebuilds a job from its kept document; -1 with err when it cannot be read. */
int jobs_record_load(const char *job_id, const char *document, job **out, char *err,
                     size_t errlen);
void jobs_record_free(job *j);
const char *jobs_state_name(job_state state);
/* Formats t as ISO 8601 UTC ("2024-01-31T12:00:00Z"). */
void jobs_format_time(int64_t t, char out[32]);

/*
 * Leases of jobs among the nodes that share one index (jobs_lease.c). A
 * worker takes the lease "job:<id>" before it runs a job, the runner
 * renews it while the job runs, and another node may take the job over
 * once the lease expires. enabled is false when the back end has no leases.
 */
typedef struct jobs_lease {
    const cairn_index_ops *ops;
    void *db;
    char node[CONF_NODE_NAME_MAX + 1];
    uint32_t ttl_ms;
    bool enabled;
} jobs_lease;

/* Fills lease from the configuration in force and the archive's index. */
void jobs_lease_init(jobs_lease *lease, const cairn_conf *conf, archive *ar);
/* Takes or renews the lease of job_id: CAIRN_OK, CAIRN_ERR_BUSY (holder names the owner), or an error. */
cairn_status jobs_lease_take(const jobs_lease *lease, const char *job_id, char *holder,
                             size_t holder_size);
/* Gives up the lease of job_id; a lease already lost is no error. */
void jobs_lease_give_back(const jobs_lease *lease, const char *job_id);
/*
 * Reads the kept document of job_id from the index into *out (a new job),
 * with *hash set to the document's hash. Returns CAIRN_OK,
 * CAIRN_ERR_NOT_FOUND, or another error.
 */
cairn_status jobs_lease_read(const jobs_lease *lease, const char *job_id, job **out,
                             uint64_t *hash);
/* Returns a 64-bit hash of a job document, to notice changes made by other nodes. */
uint64_t jobs_document_hash(const char *document);

/* How a run ended. */
typedef enum job_outcome {
    JOB_OUTCOME_SUCCEEDED,
    JOB_OUTCOME_FAILED,    /* the run wrote the reason */
    JOB_OUTCOME_CANCELLED,
    JOB_OUTCOME_STOPPED    /* the daemon stops: the job resumes at the next start */
} job_outcome;

/* The job a manager runs, with the configuration in force and the archive. */
typedef struct job_run {
    struct jobs *runner;
    runtime *rt;
    job *job;
    const cairn_conf *conf;
    archive *archive;
    log_ctx log;
    char error[512]; /* the reason of JOB_OUTCOME_FAILED */
} job_run;

/* True once the job was cancelled or the daemon stops. */
bool jobs_run_interrupted(job_run *run);
/* True once the daemon stops. */
bool jobs_run_stopping(job_run *run);
/* The outcome of an interrupted run: cancelled or stopped. */
job_outcome jobs_run_interruption(job_run *run);
/* Replaces the job's progress; it is saved at most once a second. */
void jobs_run_progress(job_run *run, const job_progress *progress);
/* Sets the matches of a query job (takes ownership of result_json). */
void jobs_run_set_result(job_run *run, char *result_json, bool truncated);
/* Records the failure reason and returns JOB_OUTCOME_FAILED. */
job_outcome jobs_run_fail(job_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An outgoing association of the query and retrieve managers. */
typedef struct jobs_assoc {
    ul_assoc *ul;
    const log_ctx *log;
    char remote[UL_AE_TITLE_MAX + 1];
    unsigned dimse_timeout_ms;
    uint16_t last_message_id;
    const dcm_ts *ts; /* accepted transfer syntax of the one presentation context */
    bool slot_held;
    bool cancel_sent; /* after a C-CANCEL-RQ only a stop interrupts a read */
    bool failed;      /* aborted or broken: only close remains */
} jobs_assoc;

/*
 * Opens an association to the remote proposing sop_class with explicit
 * and implicit VR little endian, waiting for a slot of its
 * max_associations while the run is not interrupted. Returns the accepted
 * presentation context ID (1), or 0 with run->error set.
 */
uint8_t jobs_assoc_open(job_run *run, const char *sop_class, jobs_assoc *out);
/* Sends a command and, when dataset is not NULL, its data set. -1 when the association failed. */
int jobs_assoc_send(jobs_assoc *assoc, uint8_t pctx_id, dcm_dataset *command,
                    const dcm_dataset *dataset);
/* Sends a C-CANCEL-RQ for message_id. */
int jobs_assoc_cancel(jobs_assoc *assoc, uint8_t pctx_id, uint16_t message_id);

/* Results of jobs_assoc_read. */
enum jobs_read_result {
    JOBS_READ_OK = 0,
    JOBS_READ_INTERRUPTED = 1, /* nothing arrived before the run was interrupted */
    JOBS_READ_FAILED = -1      /* run->error has the reason; the association is unusable */
};

/*
 * Reads one response: its command and, when present, its data set
 * (NULL otherwise). Waits up to the DIMSE timeout in steps of
 * JOBS_POLL_MS, returning JOBS_READ_INTERRUPTED between messages once the
 * run is interrupted (after a C-CANCEL-RQ was sent: once the daemon stops).
 */
int jobs_assoc_read(job_run *run, jobs_assoc *assoc, uint8_t pctx_id, dcm_dataset **command,
                    dcm_dataset **dataset);
/* Releases (or, when failed or abort is set, aborts) and frees the association. */
void jobs_assoc_close(jobs_assoc *assoc, bool abort);

/* The managers. */
job_outcome jobs_run_query(job_run *run);
job_outcome jobs_run_retrieve(job_run *run);
job_outcome jobs_run_send(job_run *run);

#endif
