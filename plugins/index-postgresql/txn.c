/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transaction runner. Every call of the index runs its statements
 * through pgidx_transaction (changes, between BEGIN and COMMIT; a body
 * run by pgidx_transaction_begun_by_body sends BEGIN itself) or
 * pgidx_read (one statement, no explicit transaction), which run the
 * body again when that can succeed:
 *
 *   - a serialization failure (40001), a deadlock (40P01), or a race
 *     lost on a unique or foreign key (23505, 23503): the transaction was
 *     rolled back, so it runs again at once, a few times;
 *   - a lost connection before COMMIT was sent: nothing was committed, so
 *     it runs again on a new connection, for up to reconnect_window;
 *   - a lost connection while COMMIT was on its way: the outcome is not
 *     known. The verify function queries the server on a new connection
 *     for the transaction's change. When the change is there the call
 *     succeeds, and otherwise it runs again. The check waits for the
 *     server up to commit_check_window, then the call fails with
 *     CAIRN_ERR_OUTCOME_UNKNOWN, on which the host keeps a stored file
 *     that the index may point to.
 *
 * A body must therefore be safe to run more than once: it resets its
 * outputs when it starts.
 */
#include <stdlib.h>
#include <time.h>

#include "pgidx.h"

/* Runs of a transaction that lost to another one, or lost its COMMIT, before giving up. */
#define MAX_CONFLICT_RUNS 8

/* Pause between attempts to reach a server that went away. */
#define RECONNECT_PAUSE_MS 200

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits a little longer after each conflict, with jitter so that rivals part ways. */
void pgidx_pause_before_retry(int attempt)
{
    int base = 2 << (attempt < 6 ? attempt : 6);

    sleep_ms(base + rand() % (base + 1));
}

/* Runs a constant statement (BEGIN, COMMIT, ROLLBACK). */
static cairn_status run_constant(const pgidx_backend *backend, pgidx_conn *conn,
                                 const char *sql)
{
    return pgidx_exec(backend, conn, sql, 0, NULL, NULL);
}

/*
 * Checks on a fresh connection whether the transaction of an unanswered
 * COMMIT took effect, retrying until the server responds or the window
 * closes.
 */
static cairn_status verify_commit(pgidx_index *index, pgidx_verify_fn verify, void *arg,
                                  int64_t deadline, bool *committed)
{
    const pgidx_backend *backend = index->backend;
    cairn_status status;

    for (;;) {
        pgidx_conn *conn = NULL;

        status = pgidx_pool_take(index, &conn);
        if (status == CAIRN_OK) {
            status = verify(backend, conn, arg, committed);
            pgidx_pool_give_back(index, conn);
            if (status == CAIRN_OK)
                return CAIRN_OK;
        }
        if (now_ms() >= deadline)
            return status;
        sleep_ms(RECONNECT_PAUSE_MS);
    }
}

/* How run() opens its transaction. */
typedef enum run_mode {
    RUN_READ,        /* no explicit transaction */
    RUN_TRANSACTION, /* run() sends BEGIN */
    RUN_BODY_BEGINS, /* the body sends BEGIN first, in a pipeline with its own statements */
} run_mode;

static cairn_status run(pgidx_index *index, const char *what, run_mode mode,
                        pgidx_body_fn body, pgidx_verify_fn verify, void *arg)
{
    const pgidx_backend *backend = index->backend;
    int64_t deadline = now_ms() + backend->reconnect_window_ms;
    int conflicts = 0;
    int lost_commits = 0;
    cairn_status status;

    for (;;) {
        pgidx_conn *conn = NULL;
        pgidx_failure failure;
        bool committing = false;

        status = pgidx_pool_take(index, &conn);
        if (status != CAIRN_OK) {
            if (status == CAIRN_ERR_DATABASE && now_ms() < deadline) {
                sleep_ms(RECONNECT_PAUSE_MS);
                continue;
            }
            return status;
        }

        status = mode == RUN_TRANSACTION ? run_constant(backend, conn, "BEGIN") : CAIRN_OK;
        if (status == CAIRN_OK)
            status = body(backend, conn, arg);
        if (status == CAIRN_OK && mode != RUN_READ) {
            committing = true;
            status = run_constant(backend, conn, "COMMIT");
        }
        if (status == CAIRN_OK) {
            pgidx_pool_give_back(index, conn);
            return CAIRN_OK;
        }

        failure = conn->failure;
        if (PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
            run_constant(backend, conn, "ROLLBACK");
        pgidx_pool_give_back(index, conn);

        if (failure == PGIDX_FAILED_CONNECTION && committing && verify != NULL) {
            bool committed = false;

            status = verify_commit(index, verify, arg,
                                   now_ms() + backend->commit_check_window_ms, &committed);
            if (status != CAIRN_OK) {
                pgidx_log(backend, CAIRN_LOG_ERROR,
                          "index %s: the connection was lost during COMMIT and the server"
                          " did not answer the check for %lld s; its outcome is unknown",
                          what, (long long)(backend->commit_check_window_ms / 1000));
                return CAIRN_ERR_OUTCOME_UNKNOWN;
            }
            if (committed) {
                pgidx_log(backend, CAIRN_LOG_INFO,
                          "index %s: the server committed before the connection was lost",
                          what);
                return CAIRN_OK;
            }

            /*
             * Not committed, and the server is reachable again: run again below
             * within a new reconnect window, or fail with a known outcome.
             */
            status = CAIRN_ERR_DATABASE;
            if (++lost_commits < MAX_CONFLICT_RUNS)
                deadline = now_ms() + backend->reconnect_window_ms;
        }

        if (failure == PGIDX_FAILED_RETRY && ++conflicts < MAX_CONFLICT_RUNS) {
            pgidx_pause_before_retry(conflicts);
            continue;
        }
        if (failure == PGIDX_FAILED_CONNECTION && now_ms() < deadline) {
            pgidx_log(backend, CAIRN_LOG_INFO, "index %s: reconnecting to run it again", what);
            continue;
        }
        if (failure == PGIDX_FAILED_RETRY) {
            pgidx_log(backend, CAIRN_LOG_ERROR, "index %s lost to concurrent changes %d times;"
                      " giving up", what, conflicts);
            return CAIRN_ERR_BUSY;
        }
        return status;
    }
}

cairn_status pgidx_transaction(pgidx_index *index, const char *what, pgidx_body_fn body,
                               pgidx_verify_fn verify, void *arg)
{
    return run(index, what, RUN_TRANSACTION, body, verify, arg);
}

cairn_status pgidx_transaction_begun_by_body(pgidx_index *index, const char *what,
                                             pgidx_body_fn body, pgidx_verify_fn verify,
                                             void *arg)
{
    return run(index, what, RUN_BODY_BEGINS, body, verify, arg);
}

cairn_status pgidx_read(pgidx_index *index, const char *what, pgidx_body_fn body, void *arg)
{
    return run(index, what, RUN_READ, body, NULL, arg);
}
