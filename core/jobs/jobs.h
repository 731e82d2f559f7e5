/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outgoing work as persistent jobs: query a remote AE (C-FIND SCU), load
 * from it into the archive (C-MOVE SCU with a Cairn AE as destination),
 * send from the archive to it (C-STORE SCU). Jobs are kept in the index,
 * so they survive a restart: a job that was running resumes or is marked
 * failed with the reason. Requests and job records are JSON documents;
 * docs/api.md describes their fields.
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef CAIRN_JOBS_H
#define CAIRN_JOBS_H

#include <stddef.h>

#include "archive/archive.h"
#include "runtime/runtime.h"

typedef struct jobs jobs;

/*
 * Starts the job runner: loads the jobs kept in the archive's index and
 * resumes or fails those a previous run left running.
 */
int jobs_create(runtime *rt, archive *ar, jobs **out);

/* Stops the runner; running jobs are left to resume at the next start. NULL is fine. */
void jobs_destroy(jobs *js);

/*
 * Queues the job that request_json describes. On success *job_id (malloc'd)
 * names it. On failure returns -1 and err names the bad field or value.
 */
int jobs_submit(jobs *js, const char *request_json, char **job_id, char *err, size_t errlen);

/* Returns the JSON record of one job (malloc'd), or NULL when there is no such job. */
char *jobs_get_json(jobs *js, const char *job_id);

/* Returns a JSON array of every job's record (malloc'd), newest first. */
char *jobs_list_json(jobs *js);

/* Cancels a queued or running job. -1 with err when absent or already finished. */
int jobs_cancel(jobs *js, const char *job_id, char *err, size_t errlen);

/* Queues a failed or cancelled job again. -1 with err when absent or not retryable. */
int jobs_retry(jobs *js, const char *job_id, char *err, size_t errlen);

#endif
