/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network server's life: creation, the accept loop and its timers,
 * the shutdown request and destruction. The accept loop polls every
 * listener, an eventfd written by net_server_request_shutdown() and the
 * connections waiting for a worker, so that it notices peers that give up
 * while waiting and connections whose max_wait_ms has run out.
 */
#include "net/net_internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* net_server_request_shutdown() runs in signal handlers. */
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "atomic_bool must be lock-free");

int64_t net_ns_between(const struct timespec *a, const struct timespec *b)
{
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

int64_t net_ms_between(const struct timespec *a, const struct timespec *b)
{
    return net_ns_between(a, b) / 1000000LL;
}

static int init_sync(net_server *srv)
{
    pthread_condattr_t attr;
    int rc;

    rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&srv->finished, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return rc;

    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->listeners_lock, NULL);
    pthread_cond_init(&srv->reject_wake, NULL);
    return 0;
}

int net_server_create(const net_listen_spec *specs, size_t n_specs,
                      const net_limits *limits, net_conn_fn serve,
                      net_reject_fn reject, void *arg, net_server **out)
{
    net_server *srv = NULL;
    int result = 0;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (specs == NULL && n_specs > 0) || limits == NULL || serve == NULL) {
        log_error(NULL, "net_server_create: out, limits, serve or specs is NULL");
        return -EINVAL;
    }
    if (limits->max_associations == 0) {
        log_error(NULL, "max_associations is 0; at least one worker is needed");
        return -EINVAL;
    }

    srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return -ENOMEM;
    srv->event_fd = -1;
    srv->limits = *limits;
    srv->serve = serve;
    srv->reject = reject;
    srv->arg = arg;
    srv->next_id = 1;
    srv->queue.counts_waiting = true;
    atomic_init(&srv->stop_requested, false);

    result = -init_sync(srv);
    if (result != 0) {
        free(srv);
        return result;
    }

    srv->workers = calloc(limits->max_associations, sizeof *srv->workers);
    srv->idle = calloc(limits->max_associations, sizeof *srv->idle);
    if (srv->workers == NULL || srv->idle == NULL) {
        log_error(NULL, "out of memory for %u workers", limits->max_associations);
        result = -ENOMEM;
        goto out;
    }
    srv->worker_capacity = limits->max_associations;

    srv->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->event_fd < 0) {
        result = -errno;
        log_error(NULL, "creating the shutdown eventfd failed: %s", strerror(errno));
        goto out;
    }

    result = net_listeners_open(specs, n_specs, &srv->listeners, &srv->n_listeners);

out:
    if (result != 0) {
        net_server_destroy(srv);
        return result;
    }
    *out = srv;
    return 0;
}

void net_server_request_shutdown(net_server *srv)
{
    int saved_errno = errno;
    uint64_t increment = 1;
    ssize_t written;

    atomic_store(&srv->stop_requested, true);
    written = write(srv->event_fd, &increment, sizeof increment);
    (void)written;
    errno = saved_errno;
}

bool net_server_stopping(const net_server *srv)
{
    return atomic_load(&srv->stop_requested);
}

/* The listener array may change on another thread; the lock is not part
 * of the server's observable state, so const callers may take it. */
size_t net_server_listener_count(const net_server *srv)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&srv->listeners_lock;
    size_t n;

    pthread_mutex_lock(lock);
    n = srv->n_listeners;
    pthread_mutex_unlock(lock);
    return n;
}

uint16_t net_server_listener_port(const net_server *srv, size_t i)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&srv->listeners_lock;
    uint16_t port;

    pthread_mutex_lock(lock);
    port = i < srv->n_listeners ? srv->listeners[i].port : 0;
    pthread_mutex_unlock(lock);
    return port;
}

/* Returns the poll timeout in ms: until the oldest waiting connection
 * expires or accepting resumes, -1 for neither. The caller holds the lock. */
static int next_timeout(const net_server *srv, const struct timespec *now, bool paused)
{
    int64_t timeout_ns = -1;

    if (srv->queue.head != NULL) {
        int64_t waited = net_ns_between(&srv->queue.head->queued_at, now);

        timeout_ns = (int64_t)srv->limits.max_wait_ms * 1000000LL - waited;
    }
    if (paused) {
        int64_t pause = net_ns_between(now, &srv->accept_paused_until);

        if (timeout_ns < 0 || pause < timeout_ns)
            timeout_ns = pause;
    }

    if (timeout_ns < 0)
        return srv->queue.head != NULL || paused ? 0 : -1;
    if (timeout_ns / 1000000LL >= INT_MAX)
        return INT_MAX;
    return (int)((timeout_ns + 999999LL) / 1000000LL);
}

/* Sends connections that waited max_wait_ms to the reject threads. */
static void expire_waiting(net_server *srv)
{
    struct timespec now;
    int64_t max_wait_ns;
    net_conn *conn;

    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&srv->lock);
    max_wait_ns = (int64_t)srv->limits.max_wait_ms * 1000000LL;
    while ((conn = srv->queue.head) != NULL &&
           net_ns_between(&conn->queued_at, &now) >= max_wait_ns) {
        log_ctx ctx;

        net_list_remove(&srv->queue, conn);
        net_conn_log_ctx(conn, &ctx);
        log_warn(&ctx, "no worker free for %u ms (max_associations %u); rejecting "
                 "the association from %s as transient, local limit exceeded",
                 srv->limits.max_wait_ms, srv->limits.max_associations, conn->peer);
        net_pool_reject(srv, conn);
    }
    pthread_mutex_unlock(&srv->lock);
}

/* Drops a waiting connection whose peer hung up, found by association id
 * because a worker may have taken and freed it since the poll. */
static void drop_if_waiting(net_server *srv, uint64_t id)
{
    pthread_mutex_lock(&srv->lock);
    for (net_conn *conn = srv->queue.head; conn != NULL; conn = conn->next) {
        log_ctx ctx;

        if (conn->id != id)
            continue;
        net_list_remove(&srv->queue, conn);
        net_conn_log_ctx(conn, &ctx);
        log_debug(&ctx, "peer %s closed the connection while waiting for a worker",
                  conn->peer);
        net_conn_discard(conn);
        break;
    }
    pthread_mutex_unlock(&srv->lock);
}

/* The poll set: listeners, then the eventfd, then waiting connections. */
typedef struct poll_set {
    struct pollfd *fds;
    uint64_t *ids;              /* association id of each waiting connection */
    size_t capacity;
    size_t n;
    size_t n_listeners;         /* listeners polled, before the eventfd */
    uint64_t generation;        /* listeners_generation when filled */
} poll_set;

/* Fills the poll set and returns the timeout for poll(). The caller holds
 * listeners_lock. */
static int fill_poll_set(net_server *srv, poll_set *set)
{
    struct timespec now;
    size_t fixed = srv->n_listeners + 1;
    bool paused;
    int timeout;

    clock_gettime(CLOCK_MONOTONIC, &now);
    paused = net_ns_between(&now, &srv->accept_paused_until) > 0;
    set->generation = srv->listeners_generation;

    pthread_mutex_lock(&srv->lock);
    if (fixed + srv->queue.count > set->capacity) {
        size_t want = (fixed + srv->queue.count) * 2;
        struct pollfd *fds = realloc(set->fds, want * sizeof *fds);
        uint64_t *ids;

        if (fds != NULL)
            set->fds = fds;
        ids = fds != NULL ? realloc(set->ids, want * sizeof *ids) : NULL;
        if (ids != NULL) {
            set->ids = ids;
            set->capacity = want;
        }
    }

    /* Listeners added at run time may not fit when the set could not grow;
     * the ones left out are polled once memory allows. */
    set->n_listeners = srv->n_listeners < set->capacity ? srv->n_listeners : set->capacity - 1;
    for (size_t i = 0; i < set->n_listeners; i++) {
        set->fds[i].fd = paused ? -1 : srv->listeners[i].fd;
        set->fds[i].events = POLLIN;
    }
    set->fds[set->n_listeners].fd = srv->event_fd;
    set->fds[set->n_listeners].events = POLLIN;
    set->n = set->n_listeners + 1;

    /* POLLRDHUP without POLLIN: an A-ASSOCIATE-RQ waiting to be read must
     * not wake the loop, only a peer that hung up. If the set could not
     * grow, the connections left out are still expired on time. */
    for (net_conn *conn = srv->queue.head; conn != NULL && set->n < set->capacity;
         conn = conn->next) {
        set->fds[set->n].fd = conn->fd;
        set->fds[set->n].events = POLLRDHUP;
        set->ids[set->n] = conn->id;
        set->n++;
    }

    timeout = next_timeout(srv, &now, paused);
    pthread_mutex_unlock(&srv->lock);
    return timeout;
}

int net_server_run(net_server *srv)
{
    poll_set set = {0};
    int result = 0;

    set.capacity = srv->n_listeners + 1 + 16;
    set.fds = calloc(set.capacity, sizeof *set.fds);
    set.ids = calloc(set.capacity, sizeof *set.ids);
    if (set.fds == NULL || set.ids == NULL) {
        log_error(NULL, "out of memory for the accept loop; shutting down");
        result = -ENOMEM;
        goto out;
    }

    while (!atomic_load(&srv->stop_requested)) {
        int timeout, rc;

        pthread_mutex_lock(&srv->listeners_lock);
        timeout = fill_poll_set(srv, &set);
        pthread_mutex_unlock(&srv->listeners_lock);

        rc = poll(set.fds, set.n, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error(NULL, "poll in the accept loop failed: %s; retrying in 100 ms",
                      strerror(errno));
            usleep(100000);
            continue;
        }
        if (rc <= 0) {
            expire_waiting(srv);
            continue;
        }

        /* The eventfd means a shutdown request or a new set of listeners. */
        if (set.fds[set.n_listeners].revents != 0) {
            uint64_t count;
            ssize_t got = read(srv->event_fd, &count, sizeof count);

            (void)got;
            continue;
        }

        for (size_t i = set.n_listeners + 1; i < set.n; i++) {
            if (set.fds[i].revents != 0)
                drop_if_waiting(srv, set.ids[i]);
        }
        expire_waiting(srv);

        /* Descriptors of a replaced set may have been closed and reused. */
        pthread_mutex_lock(&srv->listeners_lock);
        for (size_t i = 0; i < set.n_listeners && set.generation == srv->listeners_generation;
             i++) {
            if (set.fds[i].revents & POLLIN)
                net_accept_batch(srv, &srv->listeners[i]);
        }
        pthread_mutex_unlock(&srv->listeners_lock);
    }

out:
    atomic_store(&srv->stop_requested, true);
    net_shutdown_drain(srv);
    free(set.fds);
    free(set.ids);
    return result;
}

void net_server_destroy(net_server *srv)
{
    if (srv == NULL)
        return;

    if (srv->listeners != NULL)
        net_listeners_close(srv->listeners, srv->n_listeners);
    if (srv->event_fd >= 0)
        close(srv->event_fd);
    if (srv->workers != NULL) {
        for (size_t i = 0; i < srv->worker_capacity; i++) {
            if (srv->workers[i] == NULL)
                continue;
            pthread_cond_destroy(&srv->workers[i]->wake);
            free(srv->workers[i]);
        }
    }
    free(srv->workers);
    free(srv->idle);
    pthread_cond_destroy(&srv->reject_wake);
    pthread_cond_destroy(&srv->finished);
    pthread_mutex_destroy(&srv->listeners_lock);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
