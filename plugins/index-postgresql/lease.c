/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases (cairn_index_ops.lease_acquire, lease_release) and the read of one
 * job (job_get), for several cairnd nodes on one database. A lease is one
 * row per key; taking it is a single INSERT ... ON CONFLICT DO UPDATE whose
 * WHERE clause lets the update happen only when the row is expired or
 * already the caller's. PostgreSQL locks the conflicting row and evaluates
 * that clause on its newest version, so two nodes racing for one key never
 * both win. Expiry uses the server's clock_timestamp(), so the nodes'
 * clocks never decide who holds a lease.
 */
#include <stdio.h>
#include <string.h>

#include "pgidx.h"

/* Maximum length of a key or an owner name, in bytes. */
#define MAX_LEASE_TEXT 128

/* Maximum length of a job ID; the core uses 36-character UUIDs. */
#define MAX_JOB_ID_LENGTH 64

typedef struct lease_call {
    const char *values[3];
    char *holder;
    size_t holder_size;
    bool acquired;
    bool found;
    cairn_job_fn fn;
    void *arg;
} lease_call;

static bool text_is_valid(const char *text, size_t max)
{
    size_t length = text != NULL ? strlen(text) : 0;

    return length > 0 && length <= max;
}

static void copy_holder(lease_call *call, const char *owner)
{
    if (call->holder != NULL && call->holder_size > 0)
        snprintf(call->holder, call->holder_size, "%s", owner);
}

static cairn_status acquire_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    lease_call *call = arg;
    PGresult *result = NULL;
    cairn_status status;

    call->acquired = false;
    status = pgidx_exec(backend, conn,
                        "INSERT INTO lease (lease_key, owner, expires_at) VALUES ($1, $2,"
                        " clock_timestamp() + $3::bigint * interval '1 millisecond')"
                        " ON CONFLICT (lease_key) DO UPDATE SET owner = excluded.owner,"
                        " expires_at = excluded.expires_at"
                        " WHERE lease.owner = excluded.owner"
                        " OR lease.expires_at <= clock_timestamp()"
                        " RETURNING owner",
                        3, call->values, &result);
    if (status != CAIRN_OK)
        return status;
    call->acquired = PQntuples(result) == 1;
    PQclear(result);
    if (call->acquired)
        return CAIRN_OK;

    status = pgidx_exec(backend, conn, "SELECT owner FROM lease WHERE lease_key = $1", 1,
                        call->values, &result);
    if (status != CAIRN_OK)
        return status;
    copy_holder(call, PQntuples(result) == 1 ? PQgetvalue(result, 0, 0) : "");
    PQclear(result);
    return CAIRN_OK;
}

static cairn_status release_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    lease_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn,
                                     "DELETE FROM lease WHERE lease_key = $1 AND owner = $2", 2,
                                     call->values, &result);

    /* found stays set from an earlier run whose COMMIT lost its connection. */
    if (status == CAIRN_OK && strcmp(PQcmdTuples(result), "0") != 0)
        call->found = true;
    PQclear(result);
    return status;
}

static cairn_status job_get_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    lease_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn,
                                     "SELECT job_id, document FROM job WHERE job_id = $1", 1,
                                     call->values, &result);

    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) == 1) {
        call->found = true;
        call->fn(call->arg, PQgetvalue(result, 0, 0), PQgetvalue(result, 0, 1));
    }
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_lease_acquire(pgidx_index *index, const char *key, const char *owner,
                                 uint32_t ttl_ms, char *holder, size_t holder_size)
{
    char ttl[16];
    lease_call call = {.values = {key, owner, ttl}, .holder = holder,
                       .holder_size = holder_size};
    cairn_status status;

    if (!text_is_valid(key, MAX_LEASE_TEXT) || !text_is_valid(owner, MAX_LEASE_TEXT) ||
        ttl_ms == 0)
        return CAIRN_ERR_INVALID_ARGUMENT;
    snprintf(ttl, sizeof ttl, "%u", (unsigned)ttl_ms);

    /* A retry after a lost COMMIT finds the lease already ours, which renews it. */
    status = pgidx_transaction(index, "lease_acquire", acquire_body, NULL, &call);
    if (status == CAIRN_OK && !call.acquired)
        return CAIRN_ERR_BUSY;
    return status;
}

cairn_status pgidx_lease_release(pgidx_index *index, const char *key, const char *owner)
{
    lease_call call = {.values = {key, owner, NULL}};
    cairn_status status;

    if (!text_is_valid(key, MAX_LEASE_TEXT) || !text_is_valid(owner, MAX_LEASE_TEXT))
        return CAIRN_ERR_NOT_FOUND;
    status = pgidx_transaction(index, "lease_release", release_body, NULL, &call);
    if (status == CAIRN_OK && !call.found)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}

cairn_status pgidx_job_get(pgidx_index *index, const char *job_id, cairn_job_fn fn, void *arg)
{
    lease_call call = {.values = {job_id, NULL, NULL}, .fn = fn, .arg = arg};
    cairn_status status;

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (!text_is_valid(job_id, MAX_JOB_ID_LENGTH))
        return CAIRN_ERR_NOT_FOUND;
    status = pgidx_read(index, "job_get", job_get_body, &call);
    if (status == CAIRN_OK && !call.found)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}
