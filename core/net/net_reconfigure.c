/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Changes to a running server: a new set of listening addresses and new
 * limits, applied from any thread while net_server_run() runs (a
 * configuration reload). Connections already accepted are never touched.
 */
#include "net/net_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Wakes the accept loop so that it polls the current listeners. */
static void wake_accept_loop(net_server *srv)
{
    uint64_t increment = 1;
    ssize_t written = write(srv->event_fd, &increment, sizeof increment);

    (void)written;
}

/* Closes the listeners of old that current no longer uses. */
static void close_dropped(const net_listener *old, size_t n_old, const net_listener *current,
                          size_t n_current)
{
    for (size_t i = 0; i < n_old; i++) {
        bool kept = false;

        for (size_t j = 0; j < n_current && !kept; j++)
            kept = current[j].fd == old[i].fd;
        if (kept || old[i].fd < 0)
            continue;
        log_info(NULL, "stopped listening on %s port %u", old[i].addr, (unsigned)old[i].port);
        close(old[i].fd);
    }
}

int net_server_set_listeners(net_server *srv, const net_listen_spec *specs, size_t n_specs)
{
    net_listener *listeners = NULL;
    net_listener *old;
    size_t n = 0;
    size_t n_old;
    int rc;

    if (srv == NULL || (specs == NULL && n_specs > 0))
        return -EINVAL;

    pthread_mutex_lock(&srv->listeners_lock);
    if (atomic_load(&srv->stop_requested)) {
        pthread_mutex_unlock(&srv->listeners_lock);
        return -ECANCELED;
    }

    rc = net_listeners_update(srv->listeners, srv->n_listeners, specs, n_specs, &listeners, &n);
    if (rc != 0) {
        pthread_mutex_unlock(&srv->listeners_lock);
        return rc;
    }
    if (n == 0)
        log_warn(NULL, "no listen address left; no new connection can reach this server");

    old = srv->listeners;
    n_old = srv->n_listeners;
    srv->listeners = listeners;
    srv->n_listeners = n;
    srv->listeners_generation++;
    close_dropped(old, n_old, listeners, n);
    free(old);
    pthread_mutex_unlock(&srv->listeners_lock);

    wake_accept_loop(srv);
    return 0;
}

/* Makes room for max workers; the caller holds srv->lock. */
static int grow_workers(net_server *srv, size_t max)
{
    net_worker **workers, **idle;

    if (max <= srv->worker_capacity)
        return 0;

    workers = realloc(srv->workers, max * sizeof *workers);
    if (workers == NULL)
        return -ENOMEM;
    srv->workers = workers;
    memset(workers + srv->worker_capacity, 0,
           (max - srv->worker_capacity) * sizeof *workers);

    idle = realloc(srv->idle, max * sizeof *idle);
    if (idle == NULL)
        return -ENOMEM;
    srv->idle = idle;
    srv->worker_capacity = max;
    return 0;
}

int net_server_set_limits(net_server *srv, unsigned max_associations, unsigned max_wait_ms)
{
    net_conn *conn;

    if (srv == NULL || max_associations == 0)
        return -EINVAL;

    pthread_mutex_lock(&srv->lock);
    if (grow_workers(srv, max_associations) != 0) {
        pthread_mutex_unlock(&srv->lock);
        log_error(NULL, "out of memory for %u workers; max_associations stays %u",
                  max_associations, srv->limits.max_associations);
        return -ENOMEM;
    }
    srv->limits.max_associations = max_associations;
    srv->limits.max_wait_ms = max_wait_ms;

    /* A higher limit serves connections that wait for a worker at once. */
    while (!srv->draining && srv->n_workers - srv->n_idle < max_associations &&
           (conn = net_list_pop(&srv->queue)) != NULL) {
        net_worker *wake;

        if (!net_pool_dispatch(srv, conn, &wake))
            break;
        if (wake != NULL)
            net_pool_wake(wake);
    }
    pthread_mutex_unlock(&srv->lock);

    /* The accept loop recomputes when waiting connections expire. */
    wake_accept_loop(srv);
    return 0;
}
