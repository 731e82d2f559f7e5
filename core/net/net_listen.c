/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listening sockets: turns each (bind address, port) spec into socket
 * addresses, drops duplicates and binds one non-blocking socket per
 * address. A failure names the address and port and suggests what to check.
 */
#include "net/net_internal.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { LISTEN_BACKLOG = 128 };

/* One resolved address; "localhost" gives two. */
typedef struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    bool optional;              /* ::1 of "localhost": skipped without IPv6 */
} listen_addr;

static int parse_literal(const char *text, uint16_t port, listen_addr *out)
{
    char host[INET6_ADDRSTRLEN + 32];
    size_t len = strlen(text);
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    int rc;

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof host)
        return -EINVAL;
    memcpy(host, text, len);
    host[len] = '\0';

    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || res == NULL || res->ai_addrlen > sizeof out->ss) {
        if (res != NULL)
            freeaddrinfo(res);
        return -EINVAL;
    }

    memset(out, 0, sizeof *out);
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    if (out->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
    freeaddrinfo(res);
    return 0;
}

/* Fills out[0..1] and returns how many addresses the spec names, or
 * -EINVAL. */
static int resolve_spec(const net_listen_spec *spec, listen_addr out[2])
{
    if (spec->bind == NULL) {
        log_error(NULL, "listen address missing for port %u; "
                  "use an IP address, \"0.0.0.0\", \"::\" or \"localhost\"",
                  (unsigned)spec->port);
        return -EINVAL;
    }

    if (strcmp(spec->bind, "localhost") == 0) {
        if (parse_literal("127.0.0.1", spec->port, &out[0]) != 0 ||
            parse_literal("::1", spec->port, &out[1]) != 0)
            return -EINVAL;
        out[1].optional = true;
        return 2;
    }

    if (parse_literal(spec->bind, spec->port, &out[0]) != 0) {
        log_error(NULL, "invalid listen address \"%s\" (port %u): "
                  "use an IPv4 or IPv6 address, or \"localhost\"",
                  spec->bind, (unsigned)spec->port);
        return -EINVAL;
    }
    return 1;
}

static bool same_addr(const listen_addr *a, const listen_addr *b)
{
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static void format_addr(const listen_addr *a, char *buf, size_t size)
{
    if (getnameinfo((const struct sockaddr *)&a->ss, a->len, buf, (socklen_t)size,
                    NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, size, "?");
}

static const char *bind_hint(int err)
{
    switch (err) {
    case EADDRINUSE:
        return "another process, or an overlapping listen entry such as "
               "0.0.0.0 on the same port, holds it; stop it or change the port";
    case EACCES:
        return "ports below 1024 need root or CAP_NET_BIND_SERVICE";
    case EADDRNOTAVAIL:
        return "no interface of this host has that address";
    case EAFNOSUPPORT:
        return "this host has no support for that address family";
    default:
        return "check the listen address and port";
    }
}

/* Opens one listening socket; returns its fd or a negative errno value. */
static int open_listener(const listen_addr *a, const char *text, uint16_t port)
{
    int fd;
    int on = 1;
    int err;

    fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = errno;
        goto fail;
    }
    /* Accepted sockets inherit TCP_NODELAY on Linux. Without it, peers that
     * leave Nagle's algorithm on stall about 40 ms per message against
     * delayed ACKs. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        (a->ss.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
        bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        err = errno;
        goto fail;
    }
    return fd;

fail:
    if (fd >= 0)
        close(fd);
    if (a->optional && (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)) {
        log_warn(NULL, "not listening on %s port %u: %s; continuing without it",
                 text, (unsigned)port, strerror(err));
    } else {
        log_error(NULL, "cannot listen on %s port %u: %s; %s", text, (unsigned)port,
                  strerror(err), bind_hint(err));
    }
    return -err;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Resolves every spec into addrs (room for 2 per spec), without duplicates. */
static int resolve_all(const net_listen_spec *specs, size_t n_specs, listen_addr *addrs,
                       size_t *n_addrs)
{
    *n_addrs = 0;
    for (size_t i = 0; i < n_specs; i++) {
        listen_addr found[2];
        int n = resolve_spec(&specs[i], found);

        if (n < 0)
            return n;
        for (int k = 0; k < n; k++) {
            bool duplicate = false;

            for (size_t j = 0; j < *n_addrs && !duplicate; j++)
                duplicate = same_addr(&addrs[j], &found[k]);
            if (!duplicate)
                addrs[(*n_addrs)++] = found[k];
        }
    }
    return 0;
}

static const net_listener *find_listener(const net_listener *list, size_t n,
                                         const listen_addr *a)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i].fd >= 0 && list[i].len == a->len && memcmp(&list[i].ss, &a->ss, a->len) == 0)
            return &list[i];
    }
    return NULL;
}

/* Closes the sockets of listeners[0..n) that old does not own, and frees the array. */
static void close_new(net_listener *listeners, size_t n, const net_listener *old, size_t n_old)
{
    for (size_t i = 0; i < n; i++) {
        bool reused = false;

        for (size_t j = 0; j < n_old && !reused; j++)
            reused = old[j].fd == listeners[i].fd;
        if (!reused && listeners[i].fd >= 0)
            close(listeners[i].fd);
    }
    free(listeners);
}

int net_listeners_update(const net_listener *old, size_t n_old,
                         const net_listen_spec *specs, size_t n_specs,
                         net_listener **out, size_t *n_out)
{
    listen_addr *addrs = NULL;
    net_listener *listeners = NULL;
    size_t n_addrs = 0;
    size_t n_open = 0;
    int result = 0;

    addrs = calloc(n_specs * 2 + 1, sizeof *addrs);
    listeners = calloc(n_specs * 2 + 1, sizeof *listeners);
    if (addrs == NULL || listeners == NULL) {
        result = -ENOMEM;
        goto out;
    }
    result = resolve_all(specs, n_specs, addrs, &n_addrs);
    if (result != 0)
        goto out;

    for (size_t i = 0; i < n_addrs; i++) {
        net_listener *l = &listeners[n_open];
        const net_listener *existing = find_listener(old, n_old, &addrs[i]);
        uint16_t port = ntohs(addrs[i].ss.ss_family == AF_INET
                                  ? ((struct sockaddr_in *)&addrs[i].ss)->sin_port
                                  : ((struct sockaddr_in6 *)&addrs[i].ss)->sin6_port);
        int fd;

        if (existing != NULL) {
            *l = *existing;
            n_open++;
            continue;
        }

        format_addr(&addrs[i], l->addr, sizeof l->addr);
        fd = open_listener(&addrs[i], l->addr, port);
        if (fd < 0 && addrs[i].optional && (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL))
            continue;
        if (fd < 0) {
            result = fd;
            goto out;
        }
        l->fd = fd;
        l->port = bound_port(fd);
        l->ss = addrs[i].ss;
        l->len = addrs[i].len;
        n_open++;
        log_info(NULL, "listening on %s port %u", l->addr, (unsigned)l->port);
    }

    *out = listeners;
    *n_out = n_open;
    listeners = NULL;

out:
    if (listeners != NULL)
        close_new(listeners, n_open, old, n_old);
    free(addrs);
    return result;
}

int net_listeners_open(const net_listen_spec *specs, size_t n_specs,
                       net_listener **out, size_t *n_out)
{
    int result = net_listeners_update(NULL, 0, specs, n_specs, out, n_out);

    if (result == 0 && *n_out == 0) {
        log_error(NULL, "no listen address configured; add at least one (address, port)");
        net_listeners_close(*out, 0);
        *out = NULL;
        return -EINVAL;
    }
    return result;
}

void net_listeners_close(net_listener *listeners, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (listeners[i].fd >= 0)
            close(listeners[i].fd);
    }
    free(listeners);
}
