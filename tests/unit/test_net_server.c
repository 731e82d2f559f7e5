/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the network server over loopback: serving, delaying and
 * rejecting connections when the pool is full, dropping peers that give
 * up while waiting, IPv6, graceful shutdown and bind errors. Each server
 * runs net_server_run() on its own thread; every wait is bounded by a
 * receive timeout or a timed join.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "util/log.h"

/* Upper bound of any single wait in these tests. */
enum { WAIT_LIMIT_MS = 5000 };

typedef struct fixture {
    net_server *srv;
    pthread_t thread;
    int run_result;
    uint16_t port;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned hold_ms;           /* time echo_serve is busy per byte */
    bool release;               /* lets hold_serve return */
    unsigned started;
    unsigned served;
    unsigned rejected;
    unsigned active;
    unsigned max_active;
    uint64_t ids[16];
    unsigned n_ids;
    char peer[64];
    uint16_t peer_port;
    uint16_t local_port;
    struct timespec idle_end;   /* when shutdown_serve's idle read ended */
    struct timespec busy_end;   /* when shutdown_serve's busy handler ended */
} fixture;

static void now_mono(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;

    now_mono(&now);
    return (long)((now.tv_sec - start->tv_sec) * 1000 +
                  (now.tv_nsec - start->tv_nsec) / 1000000);
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void set_timeout(int fd, unsigned ms)
{
    struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
}

static void fixture_destroy(fixture *f)
{
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->lock);
}

/* Waits until *counter reaches want; false after WAIT_LIMIT_MS. */
static bool wait_count(fixture *f, const unsigned *counter, unsigned want)
{
    struct timespec start;
    bool reached;

    now_mono(&start);
    pthread_mutex_lock(&f->lock);
    while (*counter < want && ms_since(&start) < WAIT_LIMIT_MS) {
        pthread_mutex_unlock(&f->lock);
        sleep_ms(5);
        pthread_mutex_lock(&f->lock);
    }
    reached = *counter >= want;
    pthread_mutex_unlock(&f->lock);
    return reached;
}

static void record_conn(fixture *f, net_conn *conn)
{
    pthread_mutex_lock(&f->lock);
    if (f->n_ids < sizeof f->ids / sizeof f->ids[0])
        f->ids[f->n_ids++] = net_conn_id(conn);
    snprintf(f->peer, sizeof f->peer, "%s", net_conn_peer(conn));
    f->peer_port = net_conn_peer_port(conn);
    f->local_port = net_conn_local_port(conn);
    f->active++;
    if (f->active > f->max_active)
        f->max_active = f->active;
    pthread_mutex_unlock(&f->lock);
}

/* Reads one byte, stays busy hold_ms, echoes it. */
static void echo_serve(void *arg, net_conn *conn)
{
    fixture *f = arg;
    int fd = net_conn_fd(conn);
    char byte;

    set_timeout(fd, WAIT_LIMIT_MS);
    if (recv(fd, &byte, 1, 0) != 1)
        return;

    net_conn_set_busy(conn, true);
    record_conn(f, conn);
    sleep_ms(f->hold_ms);
    send(fd, &byte, 1, MSG_NOSIGNAL);

    pthread_mutex_lock(&f->lock);
    f->active--;
    f->served++;
    pthread_mutex_unlock(&f->lock);
    net_conn_set_busy(conn, false);
}

/* Echoes one byte, then keeps its worker until released or stopping. */
static void hold_serve(void *arg, net_conn *conn)
{
    fixture *f = arg;
    int fd = net_conn_fd(conn);
    struct timespec start;
    char byte;

    set_timeout(fd, WAIT_LIMIT_MS);
    if (recv(fd, &byte, 1, 0) != 1)
        return;
    record_conn(f, conn);
    send(fd, &byte, 1, MSG_NOSIGNAL);

    now_mono(&start);
    pthread_mutex_lock(&f->lock);
    f->served++;
    while (!f->release && !net_server_stopping(net_conn_server(conn)) &&
           ms_since(&start) < WAIT_LIMIT_MS) {
        pthread_mutex_unlock(&f->lock);
        sleep_ms(5);
        pthread_mutex_lock(&f->lock);
    }
    f->active--;
    pthread_mutex_unlock(&f->lock);
}

/*
 * Serves messages of one byte like a DICOM handler: idle while it waits
 * for the next byte, busy 300 ms per byte, and it returns when a read
 * ends, recording when.
 */
static void shutdown_serve(void *arg, net_conn *conn)
{
    fixture *f = arg;
    int fd = net_conn_fd(conn);
    bool was_busy = false;
    char byte;

    set_timeout(fd, WAIT_LIMIT_MS);
    pthread_mutex_lock(&f->lock);
    f->started++;
    pthread_mutex_unlock(&f->lock);

    for (;;) {
        net_conn_set_busy(conn, false);
        if (recv(fd, &byte, 1, 0) != 1)
            break;
        net_conn_set_busy(conn, true);
        was_busy = true;
        pthread_mutex_lock(&f->lock);
        f->active++;
        pthread_mutex_unlock(&f->lock);
        sleep_ms(300);
        send(fd, &byte, 1, MSG_NOSIGNAL);
        if (net_server_stopping(net_conn_server(conn)))
            break;
    }

    pthread_mutex_lock(&f->lock);
    now_mono(was_busy ? &f->busy_end : &f->idle_end);
    pthread_mutex_unlock(&f->lock);
}

static void count_reject(void *arg, net_conn *conn)
{
    fixture *f = arg;
    int fd = net_conn_fd(conn);
    char byte;

    /* Read the request first, as a real reject function does; closing with
     * unread data would send a reset that may discard the reply. */
    set_timeout(fd, WAIT_LIMIT_MS);
    if (recv(fd, &byte, 1, 0) != 1)
        return;
    pthread_mutex_lock(&f->lock);
    f->rejected++;
    pthread_mutex_unlock(&f->lock);
    send(fd, "R", 1, MSG_NOSIGNAL);
}

static void *run_thread(void *arg)
{
    fixture *f = arg;

    f->run_result = net_server_run(f->srv);
    return NULL;
}

/* Creates a server on bind with a kernel-chosen port and runs it. */
static int start_server(fixture *f, const char *bind, const net_limits *limits,
                        net_conn_fn serve)
{
    net_listen_spec spec = {bind, 0};
    int rc;

    rc = net_server_create(&spec, 1, limits, serve, count_reject, f, &f->srv);
    if (rc != 0)
        return rc;
    f->port = net_server_listener_port(f->srv, 0);
    return pthread_create(&f->thread, NULL, run_thread, f);
}

/* Requests shutdown and joins the run thread; false if it took longer
 * than WAIT_LIMIT_MS. */
static bool stop_server(fixture *f)
{
    struct timespec deadline;
    int rc;

    net_server_request_shutdown(f->srv);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_LIMIT_MS / 1000;
    rc = pthread_timedjoin_np(f->thread, NULL, &deadline);
    if (rc != 0)
        return false;
    net_server_destroy(f->srv);
    f->srv = NULL;
    return true;
}

static int connect_to(int family, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        inet_pton(AF_INET, addr, &sin->sin_addr);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &sin6->sin6_addr);
        len = sizeof *sin6;
    }

    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    set_timeout(fd, WAIT_LIMIT_MS);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends one byte and returns the byte received, or -1 (closed, timeout). */
static int exchange(int fd, char byte)
{
    char reply;

    if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1)
        return -1;
    if (recv(fd, &reply, 1, 0) != 1)
        return -1;
    return (unsigned char)reply;
}

static uint16_t local_port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Returns a port that was free a moment ago on addr, or 0. */
static uint16_t free_port(int family, const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t len;
    uint16_t port = 0;
    int fd;

    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
        len = sizeof(struct sockaddr_in);
    } else {
        inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
        len = sizeof(struct sockaddr_in6);
    }

    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (bind(fd, (struct sockaddr *)&ss, len) == 0)
        port = local_port_of(fd);
    close(fd);
    return port;
}

static bool have_ipv6_loopback(void)
{
    return free_port(AF_INET6, "::1") != 0;
}

static void test_serves_sequential_connections(void **state)
{
    net_limits limits = {4, 1000, 1000};
    fixture f;
    uint16_t client_port = 0;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, echo_serve), 0);
    assert_int_not_equal(f.port, 0);

    for (int i = 0; i < 10; i++) {
        int fd = connect_to(AF_INET, "127.0.0.1", f.port);

        assert_true(fd >= 0);
        client_port = local_port_of(fd);
        assert_int_equal(exchange(fd, 'a' + i), 'a' + i);
        close(fd);
    }

    assert_true(stop_server(&f));
    assert_int_equal(f.run_result, 0);
    assert_int_equal(f.served, 10);
    assert_int_equal(f.rejected, 0);
    assert_int_equal(f.n_ids, 10);
    for (unsigned i = 0; i < f.n_ids; i++)
        assert_int_equal(f.ids[i], i + 1);
    assert_string_equal(f.peer, "127.0.0.1");
    assert_int_equal(f.peer_port, client_port);
    assert_int_equal(f.local_port, f.port);
    fixture_destroy(&f);
}

static void test_full_pool_delays_not_rejects(void **state)
{
    net_limits limits = {2, 4000, 1000};
    int fds[6];
    struct timespec start;
    long elapsed;
    fixture f;

    fixture_init(&f);
    f.hold_ms = 150;
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, echo_serve), 0);

    now_mono(&start);
    for (int i = 0; i < 6; i++) {
        fds[i] = connect_to(AF_INET, "127.0.0.1", f.port);
        assert_true(fds[i] >= 0);
        assert_int_equal(send(fds[i], "d", 1, MSG_NOSIGNAL), 1);
    }
    for (int i = 0; i < 6; i++) {
        char reply = 0;

        assert_int_equal(recv(fds[i], &reply, 1, 0), 1);
        assert_int_equal(reply, 'd');
        close(fds[i]);
    }
    elapsed = ms_since(&start);

    assert_true(stop_server(&f));
    assert_int_equal(f.served, 6);
    assert_int_equal(f.rejected, 0);
    assert_true(f.max_active <= 2);
    /* Six clients, two workers, 150 ms each: at least three rounds. */
    assert_true(elapsed >= 3 * 150 - 20);
    assert_true(elapsed < 4000);
    fixture_destroy(&f);
}

static void test_many_clients_all_served(void **state)
{
    enum { CLIENTS = 40 };
    net_limits limits = {4, 4000, 1000};
    int fds[CLIENTS];
    fixture f;

    fixture_init(&f);
    f.hold_ms = 10;
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, echo_serve), 0);

    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = connect_to(AF_INET, "127.0.0.1", f.port);
        assert_true(fds[i] >= 0);
        assert_int_equal(send(fds[i], "m", 1, MSG_NOSIGNAL), 1);
    }
    for (int i = 0; i < CLIENTS; i++) {
        char reply = 0;

        assert_int_equal(recv(fds[i], &reply, 1, 0), 1);
        assert_int_equal(reply, 'm');
        close(fds[i]);
    }

    assert_true(stop_server(&f));
    assert_int_equal(f.served, CLIENTS);
    assert_int_equal(f.rejected, 0);
    assert_true(f.max_active <= 4);
    fixture_destroy(&f);
}

static void test_expired_wait_goes_to_reject(void **state)
{
    net_limits limits = {1, 200, 1000};
    struct timespec start;
    int holder;
    int waiter;
    long waited;
    fixture f;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, hold_serve), 0);

    holder = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(holder >= 0);
    assert_int_equal(exchange(holder, 'h'), 'h');

    now_mono(&start);
    waiter = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(waiter >= 0);
    assert_int_equal(exchange(waiter, 'w'), 'R');
    waited = ms_since(&start);
    assert_true(waited >= 180);
    assert_true(waited < 2000);

    pthread_mutex_lock(&f.lock);
    f.release = true;
    pthread_mutex_unlock(&f.lock);
    assert_true(stop_server(&f));
    assert_int_equal(f.rejected, 1);
    assert_int_equal(f.served, 1);
    close(holder);
    close(waiter);
    fixture_destroy(&f);
}

static void test_waiting_peer_close_dropped(void **state)
{
    net_limits limits = {1, 300, 1000};
    int holder;
    int quitter;
    fixture f;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, hold_serve), 0);

    holder = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(holder >= 0);
    assert_int_equal(exchange(holder, 'h'), 'h');

    quitter = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(quitter >= 0);
    sleep_ms(50);
    close(quitter);

    /* Past max_wait: a connection still waiting would have been rejected. */
    sleep_ms(600);
    pthread_mutex_lock(&f.lock);
    assert_int_equal(f.rejected, 0);
    f.release = true;
    pthread_mutex_unlock(&f.lock);

    assert_true(stop_server(&f));
    assert_int_equal(f.rejected, 0);
    assert_int_equal(f.served, 1);
    close(holder);
    fixture_destroy(&f);
}

static void test_waiting_closed_at_shutdown(void **state)
{
    net_limits limits = {1, 4000, 1000};
    struct timespec start;
    char byte;
    int holder;
    int waiter;
    fixture f;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, hold_serve), 0);

    holder = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(holder >= 0);
    assert_int_equal(exchange(holder, 'h'), 'h');
    waiter = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(waiter >= 0);
    sleep_ms(50);

    now_mono(&start);
    assert_true(stop_server(&f));
    assert_int_equal(recv(waiter, &byte, 1, 0), 0);
    assert_true(ms_since(&start) < 1000);
    assert_int_equal(f.rejected, 0);
    assert_int_equal(f.served, 1);
    close(holder);
    close(waiter);
    fixture_destroy(&f);
}

static void test_ipv6_loopback_served(void **state)
{
    net_limits limits = {2, 1000, 1000};
    int fd;
    fixture f;

    if (!have_ipv6_loopback())
        skip();

    fixture_init(&f);
    assert_int_equal(start_server(&f, "::1", &limits, echo_serve), 0);
    fd = connect_to(AF_INET6, "::1", f.port);
    assert_true(fd >= 0);
    assert_int_equal(exchange(fd, '6'), '6');
    close(fd);

    assert_true(stop_server(&f));
    assert_int_equal(f.served, 1);
    assert_string_equal(f.peer, "::1");
    assert_int_equal(f.local_port, f.port);
    fixture_destroy(&f);
}

static void test_shutdown_wakes_idle_waits_busy(void **state)
{
    net_limits limits = {4, 2000, 2000};
    struct timespec requested;
    struct timespec joined;
    int idle_fd;
    int busy_fd;
    char byte = 0;
    fixture f;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, shutdown_serve), 0);

    idle_fd = connect_to(AF_INET, "127.0.0.1", f.port);
    busy_fd = connect_to(AF_INET, "127.0.0.1", f.port);
    assert_true(idle_fd >= 0);
    assert_true(busy_fd >= 0);
    assert_true(wait_count(&f, &f.started, 2));
    assert_int_equal(send(busy_fd, "b", 1, MSG_NOSIGNAL), 1);
    assert_true(wait_count(&f, &f.active, 1));

    now_mono(&requested);
    assert_true(stop_server(&f));
    now_mono(&joined);

    /* The idle handler's read ended at once, the busy one sent its reply. */
    assert_true(ms_between(&requested, &f.idle_end) < 150);
    assert_int_equal(recv(busy_fd, &byte, 1, 0), 1);
    assert_int_equal(byte, 'b');
    assert_true(ms_between(&requested, &f.busy_end) >= 100);
    assert_true(ms_between(&requested, &joined) < 1500);
    assert_int_equal(recv(idle_fd, &byte, 1, 0), 0);
    close(idle_fd);
    close(busy_fd);
    fixture_destroy(&f);
}

static void test_bind_port_in_use_fails(void **state)
{
    net_limits limits = {1, 1000, 1000};
    struct sockaddr_in sin;
    net_listen_spec spec = {"127.0.0.1", 0};
    net_server *srv = (net_server *)&spec;
    int holder;

    holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(holder >= 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    assert_int_equal(bind(holder, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(holder, 1), 0);
    spec.port = local_port_of(holder);

    assert_int_equal(net_server_create(&spec, 1, &limits, echo_serve, NULL, NULL, &srv),
                     -EADDRINUSE);
    assert_null(srv);
    close(holder);
}

static void test_invalid_address_fails(void **state)
{
    net_limits limits = {1, 1000, 1000};
    net_listen_spec spec = {"not-an-address", 104};
    net_listen_spec no_addr = {NULL, 104};
    net_limits no_workers = {0, 1000, 1000};
    net_server *srv = NULL;

    assert_int_equal(net_server_create(&spec, 1, &limits, echo_serve, NULL, NULL, &srv),
                     -EINVAL);
    assert_null(srv);
    assert_int_equal(net_server_create(&no_addr, 1, &limits, echo_serve, NULL, NULL, &srv),
                     -EINVAL);
    assert_int_equal(net_server_create(&spec, 1, &no_workers, echo_serve, NULL, NULL, &srv),
                     -EINVAL);
    assert_int_equal(net_server_create(&spec, 0, &limits, echo_serve, NULL, NULL, &srv),
                     -EINVAL);
}

static void test_duplicate_specs_bound_once(void **state)
{
    net_limits limits = {1, 1000, 1000};
    uint16_t port = free_port(AF_INET, "127.0.0.1");
    net_listen_spec specs[3] = {{"127.0.0.1", port}, {"127.0.0.1", port}, {"localhost", port}};
    net_server *srv = NULL;

    assert_int_not_equal(port, 0);
    assert_int_equal(net_server_create(specs, 3, &limits, echo_serve, NULL, NULL, &srv), 0);
    /* localhost adds ::1 where the host has IPv6. */
    assert_int_equal(net_server_listener_count(srv), have_ipv6_loopback() ? 2 : 1);
    assert_int_equal(net_server_listener_port(srv, 0), port);
    assert_int_equal(net_server_listener_port(srv, 5), 0);
    net_server_destroy(srv);
}

static void test_any_v4_and_v6_share_port(void **state)
{
    net_limits limits = {1, 1000, 1000};
    uint16_t port;
    net_listen_spec specs[2];
    net_server *srv = NULL;

    if (!have_ipv6_loopback())
        skip();
    port = free_port(AF_INET, "0.0.0.0");
    assert_int_not_equal(port, 0);
    specs[0] = (net_listen_spec){"0.0.0.0", port};
    specs[1] = (net_listen_spec){"[::]", port};

    assert_int_equal(net_server_create(specs, 2, &limits, echo_serve, NULL, NULL, &srv), 0);
    assert_int_equal(net_server_listener_count(srv), 2);
    net_server_destroy(srv);
}

static net_server *signal_target;

static void on_sigusr1(int sig)
{
    (void)sig;
    net_server_request_shutdown(signal_target);
}

static void test_signal_handler_stops_run(void **state)
{
    net_limits limits = {2, 1000, 1000};
    struct sigaction sa;
    struct sigaction old;
    fixture f;

    fixture_init(&f);
    assert_int_equal(start_server(&f, "127.0.0.1", &limits, echo_serve), 0);
    signal_target = f.srv;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);

    assert_true(stop_server(&f));
    assert_int_equal(f.run_result, 0);
    sigaction(SIGUSR1, &old, NULL);
    fixture_destroy(&f);
}

static void test_shutdown_before_run_returns(void **state)
{
    net_limits limits = {1, 1000, 1000};
    net_listen_spec spec = {"127.0.0.1", 0};
    net_server *srv = NULL;
    struct timespec start;

    assert_int_equal(net_server_create(&spec, 1, &limits, echo_serve, NULL, NULL, &srv), 0);
    assert_false(net_server_stopping(srv));
    net_server_request_shutdown(srv);
    assert_true(net_server_stopping(srv));

    now_mono(&start);
    assert_int_equal(net_server_run(srv), 0);
    assert_true(ms_since(&start) < 500);
    net_server_destroy(srv);
    net_server_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serves_sequential_connections),
        cmocka_unit_test(test_full_pool_delays_not_rejects),
        cmocka_unit_test(test_many_clients_all_served),
        cmocka_unit_test(test_expired_wait_goes_to_reject),
        cmocka_unit_test(test_waiting_peer_close_dropped),
        cmocka_unit_test(test_waiting_closed_at_shutdown),
        cmocka_unit_test(test_ipv6_loopback_served),
        cmocka_unit_test(test_shutdown_wakes_idle_waits_busy),
        cmocka_unit_test(test_bind_port_in_use_fails),
        cmocka_unit_test(test_invalid_address_fails),
        cmocka_unit_test(test_duplicate_specs_bound_once),
        cmocka_unit_test(test_any_v4_and_v6_share_port),
        cmocka_unit_test(test_signal_handler_stops_run),
        cmocka_unit_test(test_shutdown_before_run_returns),
    };

    log_set_level(LOG_LVL_DEBUG);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
