/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listing of recorded rejections (cairn_index_ops.rejection_list), so
 * that an index can be copied into another back end with its IOCM
 * rejections. One read-only statement.
 */
#include "pgidx.h"

typedef struct rejection_call {
    int (*fn)(void *arg, const char *sop_instance_uid, const char *code);
    void *arg;
} rejection_call;

static cairn_status list_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    rejection_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn,
                                     "SELECT sop_uid, code FROM rejection ORDER BY sop_uid", 0,
                                     NULL, &result);

    if (status != CAIRN_OK)
        return status;
    for (int row = 0; row < PQntuples(result); row++) {
        if (call->fn(call->arg, PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)) != 0)
            break;
    }
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_rejection_list(pgidx_index *index,
                                  int (*fn)(void *arg, const char *sop_instance_uid,
                                            const char *code),
                                  void *arg)
{
    rejection_call call = {.fn = fn, .arg = arg};

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_read(index, "rejection_list", list_body, &call);
}
