/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One accepted connection: its accessors for the serve and reject
 * functions, and its end (close and free) once no thread serves it.
 */
#include "net/net_internal.h"

#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_conn_fd(const net_conn *conn)
{
    return conn->fd;
}

int net_conn_take_fd(net_conn *conn)
{
    net_server *srv = conn->server;
    int fd;

    pthread_mutex_lock(&srv->lock);
    fd = conn->fd;
    conn->fd = -1;
    pthread_mutex_unlock(&srv->lock);
    return fd;
}

uint64_t net_conn_id(const net_conn *conn)
{
    return conn->id;
}

const char *net_conn_peer(const net_conn *conn)
{
    return conn->peer;
}

uint16_t net_conn_peer_port(const net_conn *conn)
{
    return conn->peer_port;
}

uint16_t net_conn_local_port(const net_conn *conn)
{
    return conn->local_port;
}

net_server *net_conn_server(net_conn *conn)
{
    return conn->server;
}

void net_conn_set_busy(net_conn *conn, bool busy)
{
    atomic_store(&conn->busy, busy);

    /*
     * The shutdown path sets stop_requested and then reads busy; this path
     * writes busy and then reads stop_requested. Both are sequentially
     * consistent, so at least one side sees the other and interrupts the
     * read. The fd cannot be closed under us: only this thread closes it.
     */
    if (!busy && atomic_load(&conn->server->stop_requested) && conn->fd >= 0)
        shutdown(conn->fd, SHUT_RD);
}

void net_conn_quickack(net_conn *conn)
{
#ifdef TCP_QUICKACK
    int on = 1;

    if (conn->fd >= 0)
        setsockopt(conn->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#else
    (void)conn;
#endif
}

void net_conn_log_ctx(const net_conn *conn, log_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->assoc_id = conn->id;
}

void net_conn_discard(net_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    free(conn);
}

void net_conn_finish(net_conn *conn)
{
    net_server *srv = conn->server;
    int fd;

    pthread_mutex_lock(&srv->lock);
    net_list_remove(&srv->active, conn);
    fd = conn->fd;
    conn->fd = -1;
    pthread_cond_broadcast(&srv->finished);
    pthread_mutex_unlock(&srv->lock);

    if (fd >= 0)
        close(fd);
    free(conn);
}
