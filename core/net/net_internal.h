/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structures shared by the files of the network server: the server, its
 * connections, workers and listening sockets. Only core/net includes this.
 *
 * Locking: server->lock guards the queues, the active list, the worker
 * and reject-thread state and every net_conn's fd field. A connection is
 * always on exactly one of queue, reject_queue or active (or on none while
 * the accept thread sets it up, or after it is finished).
 */
#ifndef CAIRN_NET_INTERNAL_H
#define CAIRN_NET_INTERNAL_H

#include "net/net.h"
#include "util/log.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

struct net_conn {
    net_server *server;
    int fd;                     /* -1 once taken or closed */
    uint64_t id;
    atomic_bool busy;
    char peer[INET6_ADDRSTRLEN];
    uint16_t peer_port;
    uint16_t local_port;
    struct timespec queued_at;  /* CLOCK_MONOTONIC, set when it waits */
    net_conn *prev;
    net_conn *next;
};

typedef struct net_conn_list {
    net_conn *head;
    net_conn *tail;
    size_t count;
    bool counts_waiting;  /* count is mirrored in the METRIC_ASSOC_WAITING gauge */
} net_conn_list;

typedef struct net_worker {
    net_server *server;
    pthread_t thread;
    pthread_cond_t wake;
    bool on_idle_stack;
    net_conn *conn;             /* assigned connection, NULL when idle */
} net_worker;

typedef struct net_listener {
    int fd;
    char addr[INET6_ADDRSTRLEN + 16]; /* text for log lines, scope included */
    uint16_t port;
    struct sockaddr_storage ss; /* the address as the spec named it */
    socklen_t len;
} net_listener;

struct net_server {
    /* listeners_lock guards the listener array and its generation; the
     * accept thread holds it while it reads or accepts on them. */
    pthread_mutex_t listeners_lock;
    net_listener *listeners;
    size_t n_listeners;
    uint64_t listeners_generation; /* incremented by each change */
    int event_fd;               /* eventfd written by request_shutdown and
                                   by net_server_set_listeners */
    net_limits limits;
    net_conn_fn serve;
    net_reject_fn reject;
    void *arg;
    atomic_bool stop_requested;
    uint64_t next_id;           /* accept thread only */
    struct timespec accept_paused_until; /* accept thread only */
    struct timespec accept_warned_at;    /* accept thread only */

    pthread_mutex_t lock;
    pthread_cond_t finished;    /* broadcast when an active connection ends */
    bool draining;              /* shutdown in progress: take no new work */

    net_worker **workers;       /* worker_capacity slots, allocated as started */
    size_t worker_capacity;     /* >= limits.max_associations */
    size_t n_workers;           /* slots with a running thread */
    net_worker **idle;          /* stack of workers waiting for a connection,
                                   worker_capacity slots */
    size_t n_idle;

    net_conn_list queue;        /* waiting for a worker, oldest first */
    net_conn_list active;       /* being served or rejected */
    net_conn_list reject_queue; /* expired, waiting for a reject thread */

    pthread_t rejecters[NET_REJECT_THREADS];
    size_t n_rejecters;
    size_t n_rejecters_idle;
    pthread_cond_t reject_wake;
};

/* Lists (net_list.c); the caller holds server->lock. */
void net_list_append(net_conn_list *list, net_conn *conn);
void net_list_remove(net_conn_list *list, net_conn *conn);
net_conn *net_list_pop(net_conn_list *list);

/* Listening sockets (net_listen.c). */
int net_listeners_open(const net_listen_spec *specs, size_t n_specs,
                       net_listener **out, size_t *n_out);

/*
 * Builds the listener array for specs, taking over the socket of each
 * address that old[0..n_old) already listens on and opening the others.
 * On failure closes only what it opened and leaves old untouched. Unlike
 * net_listeners_open() it accepts an empty result.
 */
int net_listeners_update(const net_listener *old, size_t n_old,
                         const net_listen_spec *specs, size_t n_specs,
                         net_listener **out, size_t *n_out);
void net_listeners_close(net_listener *listeners, size_t n);

/* Workers and reject threads (net_pool.c); the caller holds server->lock. */

/*
 * Gives conn to an idle worker, to a new worker, or else to the queue
 * (returns false). When an idle worker takes it, *wake is set to that
 * worker, and otherwise to NULL. The caller signals *wake with
 * net_pool_wake() after it unlocks, so that the worker does not wake up
 * only to block on the lock.
 */
bool net_pool_dispatch(net_server *srv, net_conn *conn, net_worker **wake);
void net_pool_wake(net_worker *w);
void net_pool_reject(net_server *srv, net_conn *conn);
void net_pool_wake_all(net_server *srv);
void net_pool_join(net_server *srv);

/* Accepts up to a small batch of connections from one listener and hands
 * each to the pool (net_accept.c); the accept thread only. */
void net_accept_batch(net_server *srv, const net_listener *listener);

/* Stops accepting and ends every connection (net_shutdown.c). */
void net_shutdown_drain(net_server *srv);

/* Closes a connection that no thread serves and frees it; the caller holds
 * server->lock and has taken conn off its list. */
void net_conn_discard(net_conn *conn);

/* Fills a log context with the association id and no AE titles yet. */
void net_conn_log_ctx(const net_conn *conn, log_ctx *ctx);

/* Takes a served connection off the active list, closes and frees it
 * (net_conn.c); the caller does not hold server->lock. */
void net_conn_finish(net_conn *conn);

/* Time from a to b in milliseconds (rounded down) or nanoseconds,
 * negative if b is earlier (net_server.c). */
int64_t net_ms_between(const struct timespec *a, const struct timespec *b);
int64_t net_ns_between(const struct timespec *a, const struct timespec *b);

#endif
