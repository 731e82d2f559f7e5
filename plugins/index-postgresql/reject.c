/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn_index_ops.reject_instances: what an IOCM rejection note does to
 * the index. Every UID the note names goes into the rejection table, and
 * the instances already in the index are marked rejected; an instance
 * stored later under a recorded UID is marked as it is inserted
 * (write.c). Each UID is locked like a store of it is, so a note and a
 * store of the same instance never miss each other. The whole note is
 * one transaction.
 */
#include <string.h>

#include "pgidx.h"

/* Maximum length of a code: a Code Value (SH) has at most 16 characters. */
#define MAX_CODE_LENGTH 16

/* One note: its UIDs, its code and how many held instances it marked. */
typedef struct reject_call {
    const char *const *sop_uids;
    size_t count;
    const char *code;
    size_t marked;
} reject_call;

static cairn_status reject_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    reject_call *call = arg;
    cairn_status status = CAIRN_OK;

    call->marked = 0;
    for (size_t i = 0; i < call->count && status == CAIRN_OK; i++) {
        const char *values[2] = {call->sop_uids[i], call->code};
        PGresult *result = NULL;

        if (values[0] == NULL || !pgidx_uid_is_valid(values[0]))
            continue;
        status = pgidx_exec_fixed(backend, conn, PGIDX_LOCK_UID, 1, values, NULL);
        if (status == CAIRN_OK)
            status = pgidx_exec(backend, conn,
                                "INSERT INTO rejection (sop_uid, code) VALUES ($1, $2)"
                                " ON CONFLICT (sop_uid) DO UPDATE SET code = excluded.code",
                                2, values, NULL);
        if (status == CAIRN_OK)
            status = pgidx_exec(backend, conn,
                                "UPDATE instance SET rejected = true"
                                " WHERE sop_uid = $1 AND NOT rejected",
                                1, values, &result);
        if (status == CAIRN_OK)
            call->marked += strcmp(PQcmdTuples(result), "0") != 0 ? 1 : 0;
        PQclear(result);
    }
    return status;
}

cairn_status pgidx_reject(pgidx_index *index, const char *const *sop_uids, size_t count,
                          const char *code, size_t *marked)
{
    reject_call call = {.sop_uids = sop_uids, .count = count, .code = code};
    cairn_status status;

    if (marked != NULL)
        *marked = 0;
    if ((sop_uids == NULL && count > 0) || code == NULL || code[0] == '\0' ||
        strlen(code) > MAX_CODE_LENGTH)
        return CAIRN_ERR_INVALID_ARGUMENT;

    status = pgidx_transaction(index, "rejection", reject_body, NULL, &call);
    if (status == CAIRN_OK && marked != NULL)
        *marked = call.marked;
    return status;
}
