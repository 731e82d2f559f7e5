/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several statements in one round trip, with libpq's pipeline mode
 * (libpq 14 or later). The server runs them in order, each with its own
 * snapshot as when sent one by one, so each statement finds the changes
 * and locks of the ones before it. Once one fails, the server skips the
 * rest up to the pipeline's sync point. The first failure is classified
 * on the connection as for a single statement (conn.c).
 *
 * A connection that cannot leave pipeline mode (it broke halfway) is
 * closed when it goes back to the pool.
 */
#include "pgidx.h"

/* Sends every statement and the sync point; returns false when libpq could not queue one. */
static bool send_all(pgidx_conn *conn, const pgidx_piped *stmts, int count,
                     char names[][16])
{
    for (int i = 0; i < count; i++) {
        int sent;

        if (stmts[i].sql != NULL)
            sent = PQsendQueryParams(conn->pg, stmts[i].sql, 0, NULL, NULL, NULL, NULL, 0);
        else
            sent = PQsendQueryPrepared(conn->pg, names[i], stmts[i].count, stmts[i].values, NULL,
                                       NULL, 0);
        if (!sent)
            return false;
    }
    return PQpipelineSync(conn->pg) == 1;
}

/* Reads the result of statement i and the NULL that ends it; keeps the first failure. */
static cairn_status read_result(const pgidx_backend *backend, pgidx_conn *conn,
                                const pgidx_piped *stmt, cairn_status status)
{
    PGresult *result = PQgetResult(conn->pg);
    ExecStatusType state;

    if (result == NULL)
        return status != CAIRN_OK ? status
                                  : pgidx_result_failed(backend, conn, NULL, "statement");

    state = PQresultStatus(result);
    if (state == PGRES_COMMAND_OK || state == PGRES_TUPLES_OK) {
        if (status == CAIRN_OK && stmt->result != NULL) {
            *stmt->result = result;
            result = NULL;
        }
    } else if (state != PGRES_PIPELINE_ABORTED && status == CAIRN_OK) {
        status = pgidx_result_failed(backend, conn, result, "statement");
    }
    PQclear(result);

    /* Each statement's results end with a NULL. */
    result = PQgetResult(conn->pg);
    PQclear(result);
    return status;
}

/*
 * Runs count statements (at most PGIDX_PIPELINE_MAX) in one round trip.
 * Results go where stmts[i].result points, all of them only on success.
 */
cairn_status pgidx_exec_pipeline(const pgidx_backend *backend, pgidx_conn *conn,
                                 const pgidx_piped *stmts, int count)
{
    char names[PGIDX_PIPELINE_MAX][16];
    cairn_status status = CAIRN_OK;
    PGresult *sync;

    if (count < 1 || count > PGIDX_PIPELINE_MAX)
        return CAIRN_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < count; i++) {
        if (stmts[i].result != NULL)
            *stmts[i].result = NULL;
        if (stmts[i].sql == NULL && (status = pgidx_prepare(backend, conn, stmts[i].id,
                                                            names[i])) != CAIRN_OK)
            return status;
    }

    if (!PQenterPipelineMode(conn->pg))
        return pgidx_result_failed(backend, conn, NULL, "pipeline");
    if (!send_all(conn, stmts, count, names))
        return pgidx_result_failed(backend, conn, NULL, "pipeline");

    for (int i = 0; i < count; i++) {
        status = read_result(backend, conn, &stmts[i], status);
        if (PQstatus(conn->pg) != CONNECTION_OK)
            break;
    }
    if (PQstatus(conn->pg) != CONNECTION_OK) {
        if (status == CAIRN_OK)
            status = pgidx_result_failed(backend, conn, NULL, "statement");
        goto out;
    }

    sync = PQgetResult(conn->pg);
    if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
        if (status == CAIRN_OK)
            status = pgidx_result_failed(backend, conn, sync, "pipeline");
    }
    PQclear(sync);
    if (!PQexitPipelineMode(conn->pg) && status == CAIRN_OK)
        status = pgidx_result_failed(backend, conn, NULL, "pipeline");
    if (status == CAIRN_OK)
        conn->failure = PGIDX_FAILED_NOT;

out:
    if (status != CAIRN_OK) {
        for (int i = 0; i < count; i++) {
            if (stmts[i].result != NULL) {
                PQclear(*stmts[i].result);
                *stmts[i].result = NULL;
            }
        }
    }
    return status;
}
