/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job table (cairn_index_ops.job_put, job_delete, job_list): the
 * documents of the Query, Load and Save Managers' jobs, kept as opaque
 * text under their job IDs, oldest first by the sequence of their first
 * put. Each call is one statement in its own transaction.
 */
#include <string.h>

#include "pgidx.h"

/* Maximum length of a job ID; the core uses 36-character UUIDs. */
#define MAX_JOB_ID_LENGTH 64

static bool job_id_is_valid(const char *job_id)
{
    size_t length = job_id != NULL ? strlen(job_id) : 0;

    return length > 0 && length <= MAX_JOB_ID_LENGTH;
}

/* One job call: its values and, for a listing, where the jobs go. */
typedef struct job_call {
    const char *values[2];
    cairn_job_fn fn;
    void *arg;
    bool found;
} job_call;

static cairn_status put_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    job_call *call = arg;

    return pgidx_exec(backend, conn,
                      "INSERT INTO job (job_id, document) VALUES ($1, $2)"
                      " ON CONFLICT (job_id) DO UPDATE SET document = excluded.document",
                      2, call->values, NULL);
}

static cairn_status delete_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    job_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn, "DELETE FROM job WHERE job_id = $1", 1,
                                     call->values, &result);

    /* found stays set from an earlier run whose COMMIT lost its connection. */
    if (status == CAIRN_OK && strcmp(PQcmdTuples(result), "0") != 0)
        call->found = true;
    PQclear(result);
    return status;
}

static cairn_status list_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    job_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn,
                                     "SELECT job_id, document FROM job ORDER BY seq", 0, NULL,
                                     &result);

    if (status != CAIRN_OK)
        return status;
    for (int row = 0; row < PQntuples(result); row++) {
        if (call->fn(call->arg, PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)) != 0)
            break;
    }
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_job_put(pgidx_index *index, const char *job_id, const char *document)
{
    job_call call = {.values = {job_id, document}};

    if (!job_id_is_valid(job_id) || document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_transaction(index, "job_put", put_body, NULL, &call);
}

cairn_status pgidx_job_delete(pgidx_index *index, const char *job_id)
{
    job_call call = {.values = {job_id, NULL}};
    cairn_status status;

    if (!job_id_is_valid(job_id))
        return CAIRN_ERR_NOT_FOUND;
    status = pgidx_transaction(index, "job_delete", delete_body, NULL, &call);
    if (status == CAIRN_OK && !call.found)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}

cairn_status pgidx_job_list(pgidx_index *index, cairn_job_fn fn, void *arg)
{
    job_call call = {.fn = fn, .arg = arg};

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_read(index, "job_list", list_body, &call);
}
