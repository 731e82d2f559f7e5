/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accepting connections: sets the socket options every association needs,
 * records the peer, gives the connection its association id and hands it
 * to the worker pool. Runs on the accept thread only.
 */
#include "net/net_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections taken from one listener before the others get a turn. */
enum { ACCEPT_BATCH = 32 };

/* Pause after accept() fails for lack of descriptors or memory, and the
 * minimum time between two warnings about it. */
enum { ACCEPT_PAUSE_MS = 100, ACCEPT_WARN_INTERVAL_MS = 10000 };

/*
 * Linux copies TCP_NODELAY from the listening socket (net_listen.c sets
 * it) to each accepted one, which saves a system call per association.
 * Elsewhere it is set here. TCP_QUICKACK is left to the serve function,
 * because the Upper Layer sets it on every socket it is given.
 */
static void set_socket_options(int fd, const log_ctx *ctx)
{
#ifdef __linux__
    (void)fd;
    (void)ctx;
#else
    int on = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        log_warn(ctx, "setting TCP_NODELAY failed: %s", strerror(errno));
#endif
}

static void record_peer(net_conn *conn, const struct sockaddr_storage *ss)
{
    const void *addr;

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        addr = &sin6->sin6_addr;
        conn->peer_port = ntohs(sin6->sin6_port);
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        addr = &sin->sin_addr;
        conn->peer_port = ntohs(sin->sin_port);
    }
    if (inet_ntop(ss->ss_family, addr, conn->peer, sizeof conn->peer) == NULL)
        strcpy(conn->peer, "?");
}

static void accept_conn(net_server *srv, const net_listener *listener, int fd,
                        const struct sockaddr_storage *ss)
{
    net_conn *conn;
    log_ctx ctx;
    bool dispatched;
    net_worker *wake;
    size_t waiting;
    net_limits limits;

    conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        log_error(NULL, "out of memory for a new connection on %s port %u; closing it",
                  listener->addr, (unsigned)listener->port);
        close(fd);
        return;
    }
    conn->server = srv;
    conn->fd = fd;
    conn->id = srv->next_id++;
    atomic_init(&conn->busy, false);
    conn->local_port = listener->port;
    record_peer(conn, ss);
    clock_gettime(CLOCK_MONOTONIC, &conn->queued_at);
    net_conn_log_ctx(conn, &ctx);

    set_socket_options(fd, &ctx);
    log_debug(&ctx, "accepted connection from %s port %u on %s port %u",
              conn->peer, (unsigned)conn->peer_port, listener->addr,
              (unsigned)listener->port);

    /* After the unlock a worker may already have finished and freed conn. */
    pthread_mutex_lock(&srv->lock);
    dispatched = net_pool_dispatch(srv, conn, &wake);
    waiting = srv->queue.count;
    limits = srv->limits;
    pthread_mutex_unlock(&srv->lock);

    if (wake != NULL)
        net_pool_wake(wake);

    if (!dispatched)
        log_info(&ctx, "delayed: every worker is busy (max_associations %u); "
                 "waiting up to %u ms, number %zu in the queue",
                 limits.max_associations, limits.max_wait_ms, waiting);
}

static void pause_accepting(net_server *srv, const net_listener *listener, int err)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    srv->accept_paused_until = now;
    srv->accept_paused_until.tv_nsec += (long)ACCEPT_PAUSE_MS * 1000000L;
    if (srv->accept_paused_until.tv_nsec >= 1000000000L) {
        srv->accept_paused_until.tv_sec++;
        srv->accept_paused_until.tv_nsec -= 1000000000L;
    }

    if ((srv->accept_warned_at.tv_sec == 0 && srv->accept_warned_at.tv_nsec == 0) ||
        net_ms_between(&srv->accept_warned_at, &now) >= ACCEPT_WARN_INTERVAL_MS) {
        srv->accept_warned_at = now;
        log_warn(NULL, "accepting on %s port %u failed: %s; pausing accepts for %d ms "
                 "(raise the open-files limit if this repeats; "
                 "this warning is shown at most every %d s)",
                 listener->addr, (unsigned)listener->port, strerror(err),
                 ACCEPT_PAUSE_MS, ACCEPT_WARN_INTERVAL_MS / 1000);
    }
}

/* Returns true when the accept loop should try again at once. */
static bool accept_failed(net_server *srv, const net_listener *listener, int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return false;

    /* The connection went away before we took it, or Linux reports a
     * network error pending on it: the next one may be fine. */
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;

    default:
        pause_accepting(srv, listener, err);
        return false;
    }
}

void net_accept_batch(net_server *srv, const net_listener *listener)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd;

        memset(&ss, 0, sizeof ss);
        fd = accept4(listener->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (accept_failed(srv, listener, errno))
                continue;
            return;
        }
        accept_conn(srv, listener, fd, &ss);
    }
}
