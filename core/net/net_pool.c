/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool and the reject threads. The accept thread hands a
 * connection to an idle worker, starts a new worker while fewer than
 * max_associations exist, or else appends the connection to the FIFO
 * queue. A worker that finishes takes the oldest queued connection before
 * it goes idle, so delayed connections are served in arrival order.
 * Connections that waited too long go to a small set of reject threads.
 */
#include "net/net_internal.h"
#include "util/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Starts a thread with every blockable signal blocked, so that signals
 * meant for the process reach the caller's threads, not ours. */
static int start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all;
    sigset_t old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Returns the oldest queued connection for a worker that just became free,
 * or NULL. The caller holds the lock. */
static net_conn *take_queued(net_server *srv, int64_t *waited_ms)
{
    struct timespec now;
    net_conn *conn;

    if (srv->draining || atomic_load(&srv->stop_requested))
        return NULL;

    /* The calling worker is busy still; after a lowered max_associations
     * it goes idle instead while too many others are busy. */
    if (srv->n_workers - srv->n_idle > srv->limits.max_associations)
        return NULL;

    conn = net_list_pop(&srv->queue);
    if (conn == NULL)
        return NULL;

    net_list_append(&srv->active, conn);
    clock_gettime(CLOCK_MONOTONIC, &now);
    *waited_ms = net_ms_between(&conn->queued_at, &now);
    return conn;
}

static void *worker_main(void *opaque)
{
    net_worker *w = opaque;
    net_server *srv = w->server;

    pthread_mutex_lock(&srv->lock);
    for (;;) {
        net_conn *conn;
        int64_t waited_ms = -1;

        while (w->conn == NULL && !srv->draining) {
            if (!w->on_idle_stack) {
                w->on_idle_stack = true;
                srv->idle[srv->n_idle++] = w;
            }
            pthread_cond_wait(&w->wake, &srv->lock);
        }
        if (w->conn == NULL)
            break;

        conn = w->conn;
        pthread_mutex_unlock(&srv->lock);

        srv->serve(srv->arg, conn);
        net_conn_finish(conn);

        pthread_mutex_lock(&srv->lock);
        w->conn = take_queued(srv, &waited_ms);
        if (w->conn != NULL) {
            log_ctx ctx;

            net_conn_log_ctx(w->conn, &ctx);
            log_info(&ctx, "got a worker after waiting %lld ms", (long long)waited_ms);
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* Returns the worker of slot n_workers, allocated on first use; NULL when
 * memory runs out. The caller holds the lock. */
static net_worker *new_worker(net_server *srv)
{
    net_worker *w = srv->workers[srv->n_workers];

    if (w != NULL)
        return w;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->server = srv;
    pthread_cond_init(&w->wake, NULL);
    srv->workers[srv->n_workers] = w;
    return w;
}

bool net_pool_dispatch(net_server *srv, net_conn *conn, net_worker **wake)
{
    net_worker *w = NULL;

    *wake = NULL;
    /* Workers left over from a higher max_associations stay idle. */
    if (srv->n_workers - srv->n_idle >= srv->limits.max_associations) {
        net_list_append(&srv->queue, conn);
        return false;
    }

    if (srv->n_idle > 0) {
        w = srv->idle[--srv->n_idle];
        w->on_idle_stack = false;
        w->conn = conn;
        net_list_append(&srv->active, conn);
        *wake = w;
        return true;
    }

    if (srv->n_workers < srv->limits.max_associations) {
        int rc;

        w = new_worker(srv);
        if (w == NULL) {
            log_error(NULL, "out of memory for worker %zu of %u; the connection waits "
                      "for a running worker", srv->n_workers + 1,
                      srv->limits.max_associations);
            net_list_append(&srv->queue, conn);
            return false;
        }
        w->conn = conn;
        net_list_append(&srv->active, conn);
        rc = start_thread(&w->thread, worker_main, w);
        if (rc == 0) {
            srv->n_workers++;
            return true;
        }

        net_list_remove(&srv->active, conn);
        w->conn = NULL;
        log_error(NULL, "cannot start worker thread %zu of %u: %s; "
                  "the connection waits for a running worker",
                  srv->n_workers + 1, srv->limits.max_associations, strerror(rc));
    }

    net_list_append(&srv->queue, conn);
    return false;
}

/* Signalling without the lock is safe: the worker checks w->conn under the
 * lock before it waits, and its condition variable lives until
 * net_server_destroy(). A late signal is a spurious wake-up. */
void net_pool_wake(net_worker *w)
{
    pthread_cond_signal(&w->wake);
}

static void *rejecter_main(void *opaque)
{
    net_server *srv = opaque;

    pthread_mutex_lock(&srv->lock);
    for (;;) {
        net_conn *conn;

        while (srv->reject_queue.count == 0 && !srv->draining) {
            srv->n_rejecters_idle++;
            pthread_cond_wait(&srv->reject_wake, &srv->lock);
            srv->n_rejecters_idle--;
        }
        conn = net_list_pop(&srv->reject_queue);
        if (conn == NULL)
            break;

        net_list_append(&srv->active, conn);
        pthread_mutex_unlock(&srv->lock);

        srv->reject(srv->arg, conn);
        net_conn_finish(conn);

        pthread_mutex_lock(&srv->lock);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

void net_pool_reject(net_server *srv, net_conn *conn)
{
    log_ctx ctx;

    net_conn_log_ctx(conn, &ctx);
    if (srv->reject == NULL || srv->reject_queue.count >= NET_REJECT_QUEUE_MAX) {
        log_warn(&ctx, "closing connection from %s without A-ASSOCIATE-RJ: %s",
                 conn->peer,
                 srv->reject == NULL ? "no reject function"
                                     : "too many connections are being rejected");
        net_conn_discard(conn);
        return;
    }

    net_list_append(&srv->reject_queue, conn);
    if (srv->n_rejecters_idle > 0) {
        pthread_cond_signal(&srv->reject_wake);
        return;
    }
    if (srv->n_rejecters < NET_REJECT_THREADS) {
        int rc = start_thread(&srv->rejecters[srv->n_rejecters], rejecter_main, srv);

        if (rc == 0) {
            srv->n_rejecters++;
            return;
        }
        log_error(NULL, "cannot start reject thread: %s", strerror(rc));
    }

    /* With no reject thread at all, no thread would ever take it off the
     * queue. */
    if (srv->n_rejecters == 0) {
        net_list_remove(&srv->reject_queue, conn);
        log_warn(&ctx, "closing connection from %s without A-ASSOCIATE-RJ: "
                 "no reject thread", conn->peer);
        net_conn_discard(conn);
    }
}

void net_pool_wake_all(net_server *srv)
{
    while (srv->n_idle > 0) {
        net_worker *w = srv->idle[--srv->n_idle];

        w->on_idle_stack = false;
        pthread_cond_signal(&w->wake);
    }
    pthread_cond_broadcast(&srv->reject_wake);
}

void net_pool_join(net_server *srv)
{
    for (size_t i = 0; i < srv->n_workers; i++)
        pthread_join(srv->workers[i]->thread, NULL);
    for (size_t i = 0; i < srv->n_rejecters; i++)
        pthread_join(srv->rejecters[i], NULL);
    srv->n_workers = 0;
    srv->n_rejecters = 0;
}
