/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases of jobs, for several nodes on one index: the key of a job's
 * lease, taking and giving it back through the index, and the reread of
 * one kept job after a claim. See jobs_lease in jobs_internal.h.
 */
#include "jobs/jobs_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "job:" plus a job ID of at most 64 bytes. */
#define LEASE_KEY_SIZE 72

void jobs_lease_init(jobs_lease *lease, const cairn_conf *conf, archive *ar)
{
    memset(lease, 0, sizeof *lease);
    lease->ops = archive_index_ops(ar);
    lease->db = archive_index_db(ar);
    snprintf(lease->node, sizeof lease->node, "%s",
             conf->node.name != NULL ? conf->node.name : "local");
    lease->ttl_ms = (uint32_t)(conf->node.lease_seconds > 0 ? conf->node.lease_seconds
                                                             : CONF_NODE_LEASE_DEFAULT) * 1000u;
    lease->enabled = lease->ops->struct_size >= offsetof(cairn_index_ops, lease_release) +
                                                sizeof lease->ops->lease_release &&
                     lease->ops->lease_acquire != NULL && lease->ops->lease_release != NULL &&
                     lease->ops->job_get != NULL;
}

static int lease_key(const char *job_id, char key[LEASE_KEY_SIZE])
{
    return snprintf(key, LEASE_KEY_SIZE, "job:%s", job_id) >= LEASE_KEY_SIZE ? -1 : 0;
}

cairn_status jobs_lease_take(const jobs_lease *lease, const char *job_id, char *holder,
                             size_t holder_size)
{
    char key[LEASE_KEY_SIZE];

    if (!lease->enabled)
        return CAIRN_OK;
    if (lease_key(job_id, key) != 0)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return lease->ops->lease_acquire(lease->db, key, lease->node, lease->ttl_ms, holder,
                                     holder_size);
}

void jobs_lease_give_back(const jobs_lease *lease, const char *job_id)
{
    char key[LEASE_KEY_SIZE];
    cairn_status st;

    if (!lease->enabled || lease_key(job_id, key) != 0)
        return;
    st = lease->ops->lease_release(lease->db, key, lease->node);
    if (st != CAIRN_OK && st != CAIRN_ERR_NOT_FOUND)
        log_warn(NULL, "jobs: releasing the lease of job %s failed: %s; it expires in %u ms",
                 job_id, cairn_strerror(st), (unsigned)lease->ttl_ms);
}

uint64_t jobs_document_hash(const char *document)
{
    uint64_t hash = 14695981039346656037ull; /* FNV-1a, 64 bits */

    for (const unsigned char *p = (const unsigned char *)document; *p != '\0'; p++) {
        hash ^= *p;
        hash *= 1099511628211ull;
    }
    return hash;
}

typedef struct read_call {
    job *job;
    uint64_t hash;
    char error[256];
} read_call;

static int keep_document(void *arg, const char *job_id, const char *document)
{
    read_call *call = arg;

    if (jobs_record_load(job_id, document, &call->job, call->error, sizeof call->error) != 0)
        call->job = NULL;
    call->hash = jobs_document_hash(document);
    return 1;
}

cairn_status jobs_lease_read(const jobs_lease *lease, const char *job_id, job **out,
                             uint64_t *hash)
{
    read_call call = {0};
    cairn_status st;

    *out = NULL;
    if (!lease->enabled)
        return CAIRN_ERR_UNSUPPORTED;
    st = lease->ops->job_get(lease->db, job_id, keep_document, &call);
    if (st != CAIRN_OK)
        return st;
    if (call.job == NULL) {
        log_warn(NULL, "jobs: job %s kept in the index cannot be read: %s", job_id, call.error);
        return CAIRN_ERR_PARSE;
    }
    *out = call.job;
    *hash = call.hash;
    return CAIRN_OK;
}
