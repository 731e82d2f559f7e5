/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP server of cairnd. It listens on one socket per configured
 * (bind address, port), accepts connections on the thread that calls
 * net_server_run() and hands each one to a worker from a bounded pool.
 * When every worker is busy a connection waits in a FIFO queue (delayed,
 * as PS3.8 allows) for up to max_wait_ms. After that it goes to the reject
 * function, which sends A-ASSOCIATE-RJ. A waiting connection whose peer
 * closes (or shuts down its sending side) is dropped. What runs on a connection (the
 * DICOM Upper Layer) is the caller's serve function; this module only owns
 * sockets and threads.
 *
 * Threads: worker threads are created on demand, up to max_associations,
 * and stay until shutdown. Up to NET_REJECT_THREADS further threads run the
 * reject function. Every thread the server creates blocks all asynchronous
 * signals, so SIGTERM and SIGINT reach the caller's threads.
 */
#ifndef CAIRN_NET_H
#define CAIRN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net_server net_server;
typedef struct net_conn net_conn;

/* Maximum number of threads that run the reject function at once. */
#define NET_REJECT_THREADS 2

/* Maximum number of expired connections waiting for a reject thread. Beyond
 * it a connection is closed without an A-ASSOCIATE-RJ. */
#define NET_REJECT_QUEUE_MAX 64

/*
 * One listening address. bind is an IPv4 or IPv6 literal ("0.0.0.0", "::",
 * "127.0.0.1", "::1", "fe80::1%eth0", with or without [brackets]) or
 * "localhost", which listens on both 127.0.0.1 and ::1 (::1 only where the
 * host has IPv6). With port 0 the kernel chooses a free port, which
 * net_server_listener_port() then returns.
 */
typedef struct net_listen_spec {
    const char *bind;
    uint16_t port;
} net_listen_spec;

typedef struct net_limits {
    unsigned max_associations;    /* workers, so simultaneous associations; >= 1 */
    unsigned max_wait_ms;         /* time a connection waits for a worker */
    unsigned shutdown_timeout_ms; /* time busy connections get after a shutdown request */
} net_limits;

/*
 * Serves one connection on a worker thread. The server closes the socket
 * after the function returns unless the function took it with
 * net_conn_take_fd(). conn is valid until the function returns.
 */
typedef void (*net_conn_fn)(void *arg, net_conn *conn);

/*
 * Rejects a connection that waited max_wait_ms without a free worker: the
 * function reads the A-ASSOCIATE-RQ and sends A-ASSOCIATE-RJ. Runs on a reject thread,
 * never on the accept thread, and the server closes the socket afterwards
 * just as for net_conn_fn.
 */
typedef void (*net_reject_fn)(void *arg, net_conn *conn);

/*
 * Creates a server listening on every spec. Identical addresses (after
 * "localhost" is expanded) are bound once. IPv6 sockets are IPv6-only, so
 * "::" and "0.0.0.0" can share a port. Sockets use SO_REUSEADDR and a
 * backlog of 128. No thread is started here.
 *
 * serve is required. reject may be NULL, and then an expired connection is
 * closed without an A-ASSOCIATE-RJ. arg is passed to both and must outlive the
 * server.
 *
 * Returns 0 and stores the server in *out, or a negative errno value:
 * -EINVAL for a bad argument or address, or the socket(), bind() or
 * listen() error of the first address that failed (-EADDRINUSE for a port
 * in use). Each failure is logged at error level with the address and port,
 * so the caller need not repeat the detail.
 */
int net_server_create(const net_listen_spec *specs, size_t n_specs,
                      const net_limits *limits, net_conn_fn serve,
                      net_reject_fn reject, void *arg, net_server **out);

/*
 * Accepts connections until net_server_request_shutdown() is called, then
 * shuts down gracefully:
 *   1. closes the listening sockets;
 *   2. closes the connections still waiting for a worker or a reject thread;
 *   3. calls shutdown(fd, SHUT_RD) on every idle connection (see
 *      net_conn_set_busy), so its handler's blocking read returns 0;
 *   4. waits up to shutdown_timeout_ms for busy connections to finish, then
 *      calls shutdown(fd, SHUT_RD) on those left, and one second later
 *      shutdown(fd, SHUT_RDWR) on any still open;
 *   5. joins every thread it created and returns.
 * Step 5 waits for handlers without a time limit, so a handler must return
 * once its reads and writes fail.
 *
 * Call it once, from one thread. Returns 0, or -ENOMEM if the accept loop
 * could not allocate its poll set (the server is then shut down at once).
 */
int net_server_run(net_server *srv);

/*
 * Asks net_server_run() to stop. Async-signal-safe, so a SIGTERM or SIGINT
 * handler may call it, and callable from any thread, before or during
 * net_server_run(). Calls after the first have no further effect.
 */
void net_server_request_shutdown(net_server *srv);

/*
 * Listens on specs from now on, as net_server_create() would: addresses
 * already open keep their socket, new ones are opened, and sockets no
 * spec names any more are closed. Connections already accepted on a
 * closed socket go on. Callable from any thread, before or while
 * net_server_run() runs; calls are serialized. An empty set is allowed
 * (logged as a warning). Returns 0, a negative errno value as
 * net_server_create() does (the old set then stays in force), or
 * -ECANCELED after a shutdown request.
 */
int net_server_set_listeners(net_server *srv, const net_listen_spec *specs, size_t n_specs);

/*
 * Changes max_associations and max_wait_ms for connections from now on;
 * shutdown_timeout_ms keeps its value. A lower max_associations lets the
 * associations above it finish and queues new connections until fewer run;
 * a higher one starts serving waiting connections at once. Callable from
 * any thread. Returns 0, -EINVAL for max_associations 0, or -ENOMEM.
 */
int net_server_set_limits(net_server *srv, unsigned max_associations, unsigned max_wait_ms);

/* Returns true once a shutdown has been requested. Handlers check it after
 * each message and end the association when it is set. */
bool net_server_stopping(const net_server *srv);

/* Number of listening sockets, after deduplication and "localhost". */
size_t net_server_listener_count(const net_server *srv);

/* Port of listening socket i (in the order the specs bound them), which is
 * the kernel's choice for a spec with port 0. Returns 0 if i is out of
 * range. */
uint16_t net_server_listener_port(const net_server *srv, size_t i);

/*
 * Closes the listening sockets and frees the server. Call it only when
 * net_server_run() has returned or was never called. NULL does nothing.
 */
void net_server_destroy(net_server *srv);

/* The connected socket (blocking, close-on-exec, TCP_NODELAY), or -1 after
 * net_conn_take_fd(). */
int net_conn_fd(const net_conn *conn);

/*
 * Takes the socket from the server: it will neither close it nor shut it
 * down at shutdown. Returns the fd, which the caller now closes, or -1 if
 * it was taken already.
 */
int net_conn_take_fd(net_conn *conn);

/* Association id: 1 for the first accepted connection, then increasing. */
uint64_t net_conn_id(const net_conn *conn);

/* Peer address without the port, e.g. "127.0.0.1" or "::1". */
const char *net_conn_peer(const net_conn *conn);
uint16_t net_conn_peer_port(const net_conn *conn);

/* Local port the peer connected to, which identifies the listener. */
uint16_t net_conn_local_port(const net_conn *conn);

/*
 * Marks the connection busy (a DICOM message is in progress) or idle
 * (between messages, waiting for the next PDU). A connection starts idle.
 * At shutdown an idle connection's reads are interrupted at once and a busy
 * one gets shutdown_timeout_ms. Marking a connection idle after a shutdown
 * request interrupts its reads at once too. Call it only from the thread
 * serving the connection.
 */
void net_conn_set_busy(net_conn *conn, bool busy);

/* Re-arms TCP_QUICKACK, which Linux clears after it sends a delayed ACK;
 * call it after each read. Does nothing on other systems. */
void net_conn_quickack(net_conn *conn);

net_server *net_conn_server(net_conn *conn);

#endif
