/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graceful shutdown of the network server: stop accepting, close the
 * connections still waiting, interrupt the reads of idle associations at
 * once and of busy ones after shutdown_timeout_ms, then join every thread.
 */
#include "net/net_internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* Time between interrupting reads (SHUT_RD) and also interrupting writes
 * (SHUT_RDWR) of associations that did not end after the timeout. */
enum { WRITE_GRACE_MS = 1000 };

static void close_waiting(net_conn_list *list, const char *waited_for)
{
    net_conn *conn;

    while ((conn = net_list_pop(list)) != NULL) {
        log_ctx ctx;

        net_conn_log_ctx(conn, &ctx);
        log_info(&ctx, "closing connection from %s while it waited for %s: "
                 "the server is shutting down", conn->peer, waited_for);
        net_conn_discard(conn);
    }
}

/* Calls shutdown(how) on the active connections; only the idle ones when
 * idle_only is set. The caller holds the lock, so no fd is closed meanwhile. */
static void interrupt_active(net_server *srv, bool idle_only, int how)
{
    for (net_conn *conn = srv->active.head; conn != NULL; conn = conn->next) {
        if (conn->fd < 0 || (idle_only && atomic_load(&conn->busy)))
            continue;
        shutdown(conn->fd, how);
    }
}

/* Waits until no connection is active or timeout_ms passed; the caller
 * holds the lock. */
static void wait_active(net_server *srv, unsigned timeout_ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    while (srv->active.count > 0) {
        if (pthread_cond_timedwait(&srv->finished, &srv->lock, &deadline) == ETIMEDOUT)
            break;
    }
}

void net_shutdown_drain(net_server *srv)
{
    pthread_mutex_lock(&srv->listeners_lock);
    for (size_t i = 0; i < srv->n_listeners; i++) {
        if (srv->listeners[i].fd >= 0)
            close(srv->listeners[i].fd);
        srv->listeners[i].fd = -1;
    }
    pthread_mutex_unlock(&srv->listeners_lock);

    pthread_mutex_lock(&srv->lock);
    log_info(NULL, "shutting down: stopped accepting; %zu associations active, "
             "%zu waiting for a worker", srv->active.count, srv->queue.count);

    srv->draining = true;
    close_waiting(&srv->queue, "a worker");
    close_waiting(&srv->reject_queue, "a reject thread");
    net_pool_wake_all(srv);

    /* stop_requested is already set, so an association marked idle from
     * now on interrupts its own read (net_conn_set_busy). */
    interrupt_active(srv, true, SHUT_RD);
    wait_active(srv, srv->limits.shutdown_timeout_ms);

    if (srv->active.count > 0) {
        log_warn(NULL, "%zu associations still busy %u ms after the shutdown request; "
                 "interrupting their reads",
                 srv->active.count, srv->limits.shutdown_timeout_ms);
        interrupt_active(srv, false, SHUT_RD);
        wait_active(srv, WRITE_GRACE_MS);
    }
    if (srv->active.count > 0) {
        log_warn(NULL, "%zu associations still open %d ms later; "
                 "interrupting their writes too",
                 srv->active.count, WRITE_GRACE_MS);
        interrupt_active(srv, false, SHUT_RDWR);
    }
    pthread_mutex_unlock(&srv->lock);

    net_pool_join(srv);
    log_info(NULL, "network server stopped");
}
