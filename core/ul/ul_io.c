/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transport side of an association: blocking socket reads and writes with
 * poll timeouts, the state machine callbacks that send PDUs and close the
 * connection, and the loop that reads one PDU and turns it into its event.
 */
#include "ul/ul_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Maximum body read for A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT. Their
 * length must be 4; the decoder reports any other value as invalid. */
#define SHORT_PDU_LIMIT 64

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Returns 1 when fd is ready, 0 on timeout (0 ms: no limit), -1 on error. */
static int wait_fd(int fd, short events, unsigned timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int r;

    do {
        r = poll(&pfd, 1, timeout_ms ? (int)timeout_ms : -1);
    } while (r < 0 && errno == EINTR);
    return r;
}

static void rearm_quickack(int fd)
{
#ifdef TCP_QUICKACK
    /* Linux leaves quick-ack mode after a while; a peer that uses Nagle's
     * algorithm would then wait for our delayed ACK before sending the
     * rest of a PDU. Setting the option also sends an ACK that is due. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

void ul_io_tune_socket(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rearm_quickack(fd);
}

/*
 * Reads at least min and at most max bytes into buf and stores the count
 * in *got, also on failure. The first byte may take first_timeout_ms,
 * each later read rest_timeout_ms. Returns UL_OK, UL_TIMEOUT or UL_CLOSED.
 * Each read is tried first and poll runs only when no bytes are waiting,
 * which saves a system call per read.
 */
static int recv_at_least(int fd, uint8_t *buf, size_t min, size_t max,
                         unsigned first_timeout_ms, unsigned rest_timeout_ms, size_t *got)
{
    *got = 0;
    while (*got < min) {
        ssize_t r = recv(fd, buf + *got, max - *got, MSG_DONTWAIT);

        if (r > 0) {
            *got += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return UL_CLOSED;
        if (errno == EINTR)
            continue;

        /* Nothing waiting: acknowledge what arrived before blocking. */
        rearm_quickack(fd);
        int w = wait_fd(fd, POLLIN, *got == 0 ? first_timeout_ms : rest_timeout_ms);
        if (w == 0)
            return UL_TIMEOUT;
        if (w < 0)
            return UL_CLOSED;
    }
    return UL_OK;
}

/* Moves up to n bytes read ahead into buf and returns how many. */
static size_t take_ahead(ul_assoc *a, uint8_t *buf, size_t n)
{
    size_t count = a->ahead_len < n ? a->ahead_len : n;

    memcpy(buf, a->ahead + a->ahead_start, count);
    a->ahead_start += count;
    a->ahead_len -= count;
    if (a->ahead_len == 0)
        a->ahead_start = 0;
    return count;
}

/*
 * Reads exactly n bytes, the ones read ahead first. The first byte may take
 * first_timeout_ms, each later read rest_timeout_ms. Returns UL_OK,
 * UL_TIMEOUT (*partial is true when some bytes were read), UL_CLOSED.
 */
static int read_full(ul_assoc *a, uint8_t *buf, size_t n, unsigned first_timeout_ms,
                     unsigned rest_timeout_ms, bool *partial)
{
    size_t got = take_ahead(a, buf, n);
    size_t more = 0;
    int r = UL_OK;

    if (got < n)
        r = recv_at_least(a->fd, buf + got, n - got, n - got,
                          got == 0 ? first_timeout_ms : rest_timeout_ms, rest_timeout_ms, &more);
    *partial = got + more > 0;
    return r;
}

/*
 * Reads a PDU header. The same read takes as much as fits in a->ahead, so
 * a short PDU (C-ECHO, A-RELEASE, most A-ASSOCIATE-RQ) costs one recv(2)
 * instead of two. Returns as read_full() does.
 */
static int read_header(ul_assoc *a, uint8_t *header, unsigned first_timeout_ms,
                       unsigned rest_timeout_ms, bool *partial)
{
    int r = UL_OK;

    if (a->ahead_len < UL_PDU_HEADER_LEN) {
        size_t got = 0;

        memmove(a->ahead, a->ahead + a->ahead_start, a->ahead_len);
        a->ahead_start = 0;
        r = recv_at_least(a->fd, a->ahead + a->ahead_len, UL_PDU_HEADER_LEN - a->ahead_len,
                          sizeof a->ahead - a->ahead_len,
                          a->ahead_len == 0 ? first_timeout_ms : rest_timeout_ms,
                          rest_timeout_ms, &got);
        a->ahead_len += got;
    }
    *partial = a->ahead_len > 0;
    if (r != UL_OK)
        return r;
    take_ahead(a, header, UL_PDU_HEADER_LEN);
    return UL_OK;
}

/*
 * Writes n bytes; poll runs only when the socket's send buffer is full.
 * more adds MSG_MORE: another write follows at once.
 */
static int write_all(int fd, const uint8_t *buf, size_t n, unsigned timeout_ms, bool more)
{
    int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0);
    size_t sent = 0;

    while (sent < n) {
        ssize_t r = send(fd, buf + sent, n - sent, flags);

        if (r > 0) {
            sent += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return UL_CLOSED;
        if (errno == EINTR)
            continue;

        int w = wait_fd(fd, POLLOUT, timeout_ms);
        if (w == 0)
            return UL_TIMEOUT;
        if (w < 0)
            return UL_CLOSED;
    }
    return UL_OK;
}

static int fsm_send_pdu(void *arg, uint8_t type, uint8_t abort_source, uint8_t abort_reason)
{
    ul_assoc *a = arg;
    uint8_t short_pdu[10];
    const uint8_t *data = short_pdu;
    size_t len = sizeof short_pdu;
    bool more = type == UL_PDU_P_DATA_TF && a->more_follows;

    a->more_follows = false;
    switch (type) {
    case UL_PDU_ASSOC_RQ:
    case UL_PDU_ASSOC_AC:
    case UL_PDU_P_DATA_TF:
        data = a->pending;
        len = a->pending_len;
        break;
    case UL_PDU_ASSOC_RJ:
        if (ul_encode_assoc_rj(&a->rj, short_pdu) != 0)
            return -1;
        break;
    case UL_PDU_RELEASE_RQ:
        ul_encode_release_rq(short_pdu);
        break;
    case UL_PDU_RELEASE_RP:
        ul_encode_release_rp(short_pdu);
        break;
    case UL_PDU_ABORT:
        ul_encode_abort(abort_source, abort_reason, short_pdu);
        break;
    default:
        return -1;
    }

    if (a->fd < 0)
        return -1;
    int r = write_all(a->fd, data, len, a->params.dimse_timeout_ms, more);
    if (r != UL_OK) {
        log_error(a->log, "sending %s of %zu bytes failed: %s", ul_pdu_type_name(type), len,
                  ul_strerror(r));
        return -1;
    }
    if (type == UL_PDU_ABORT)
        log_debug(a->log, "sent A-ABORT (source %u, reason %u)", abort_source, abort_reason);
    else if (type == UL_PDU_ASSOC_RJ)
        log_debug(a->log, "sent A-ASSOCIATE-RJ (result %u, source %u, reason %u)",
                  a->rj.result, a->rj.source, a->rj.reason);
    else
        log_debug(a->log, "sent %s (%zu bytes)", ul_pdu_type_name(type), len);
    return 0;
}

static int fsm_open_transport(void *arg)
{
    ul_assoc *a = arg;

    a->fd = ul_io_connect(a->host, a->port, a->params.connect_timeout_ms, a->log,
                          &a->connect_status, &a->connect_errno);
    return a->fd < 0 ? -1 : 0;
}

static void fsm_close_transport(void *arg)
{
    ul_assoc *a = arg;

    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
}

static const ul_fsm_io fsm_io = {
    .send_pdu = fsm_send_pdu,
    .open_transport = fsm_open_transport,
    .close_transport = fsm_close_transport,
};

ul_assoc *ul_assoc_new(int fd, const ul_params *params, bool requestor)
{
    ul_assoc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;

    a->fd = fd;
    a->params = *params;
    a->max_pdu_receive = params->max_pdu_receive ? params->max_pdu_receive
                                                 : UL_DEFAULT_MAX_PDU;
    if (a->max_pdu_receive > UL_MAX_PDU_RECEIVE_LIMIT)
        a->max_pdu_receive = UL_MAX_PDU_RECEIVE_LIMIT;
    if (params->implementation_class_uid)
        snprintf(a->implementation_class_uid, sizeof a->implementation_class_uid, "%s",
                 params->implementation_class_uid);
    if (params->implementation_version_name)
        snprintf(a->implementation_version_name, sizeof a->implementation_version_name,
                 "%s", params->implementation_version_name);
    a->params.implementation_class_uid = a->implementation_class_uid;
    a->params.implementation_version_name = a->implementation_version_name;
    a->log = &a->own_log;

    ul_fsm_init(&a->fsm, &fsm_io, a);
    a->fsm.requestor = requestor;
    if (fd >= 0)
        ul_io_tune_socket(fd);
    return a;
}

int ul_io_connect(const char *host, uint16_t port, unsigned timeout_ms, const log_ctx *log,
                  int *status, int *error_number)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[8];
    int fd = -1;

    *status = UL_CONNECT_FAILED;
    *error_number = 0;
    snprintf(service, sizeof service, "%u", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        log_error(log, "resolving %s failed: %s", host, gai_strerror(gai));
        return -1;
    }

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0)
            continue;

        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, timeout_ms);
            int so_error = 0;
            socklen_t sl = sizeof so_error;
            if (w == 0)
                *status = UL_TIMEOUT;
            if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &sl) == 0 &&
                so_error == 0)
                r = 0;
            else
                errno = w == 0 ? ETIMEDOUT : so_error;
        }
        if (r != 0) {
            *error_number = errno;
            log_debug(log, "connecting to %s port %u failed: %s", host, port,
                      strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }

        /* Back to blocking mode: every wait goes through poll. */
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);

    if (fd < 0) {
        if (*error_number != 0)
            log_error(log, "connection to %s:%u failed: %s", host, port,
                      strerror(*error_number));
        else
            log_error(log, "connection to %s:%u failed", host, port);
        return -1;
    }
    ul_io_tune_socket(fd);
    *status = UL_OK;
    return fd;
}

/* Grows the receive buffer to hold n bytes. */
static int reserve_rbuf(ul_assoc *a, size_t n)
{
    if (n <= a->rbuf_cap)
        return 0;

    uint8_t *p = realloc(a->rbuf, n);
    if (!p)
        return -1;
    a->rbuf = p;
    a->rbuf_cap = n;
    return 0;
}

/* Largest body accepted for a PDU type, 0 for an unknown type. */
static size_t body_limit(const ul_assoc *a, uint8_t type)
{
    switch (type) {
    case UL_PDU_ASSOC_RQ:
    case UL_PDU_ASSOC_AC:
        return UL_ASSOC_PDU_MAX;
    case UL_PDU_P_DATA_TF:
        return a->max_pdu_receive;
    case UL_PDU_ASSOC_RJ:
    case UL_PDU_RELEASE_RQ:
    case UL_PDU_RELEASE_RP:
    case UL_PDU_ABORT:
        return SHORT_PDU_LIMIT;
    default:
        return 0;
    }
}

/* Dispatches Evt19 with an A-ABORT reason; the PDU was not acceptable. */
static int invalid_pdu(ul_assoc *a, uint8_t reason, const char *message)
{
    log_error(a->log, "invalid PDU from peer: %s; aborting (reason %u)", message, reason);
    a->fsm.abort_source = UL_ABORT_SOURCE_PROVIDER;
    a->fsm.abort_reason = reason;
    ul_fsm_dispatch(&a->fsm, UL_EVT19);
    return UL_PROTOCOL_ERROR;
}

static int transport_closed(ul_assoc *a)
{
    ul_fsm_dispatch(&a->fsm, UL_EVT17);
    fsm_close_transport(a);
    return UL_CLOSED;
}

/* A peer's maximum length below 7 leaves no room for a PDV. */
static bool peer_max_ok(uint32_t max)
{
    return max == 0 || max >= 7;
}

/* Decodes the PDU in the receive buffer and returns its event; on a decode
 * failure returns UL_EVT19 with the reason in fsm.abort_reason. */
static ul_event classify(ul_assoc *a, ul_decode_error *err)
{
    const uint8_t *pdu = a->rbuf;
    size_t len = a->rlen;
    ul_state st = a->fsm.state;

    err->message[0] = '\0';
    /* Default for a PDU the state does not expect (AA-1, AA-8). */
    a->fsm.abort_source = UL_ABORT_SOURCE_PROVIDER;
    a->fsm.abort_reason = UL_ABORT_REASON_UNEXPECTED_PDU;

    switch (pdu[0]) {
    case UL_PDU_ASSOC_RQ:
        if (st != UL_STA2)
            return UL_EVT6;
        if (ul_decode_assoc_rq(pdu, len, &a->rq, err) != 0) {
            if (!err->reject)
                break;
            a->rj = err->rj;
            a->fsm.rq_acceptable = false;
            return UL_EVT6;
        }
        if (!peer_max_ok(a->rq.user_info.max_pdu_length)) {
            snprintf(err->message, sizeof err->message, "maximum length %u below 7",
                     a->rq.user_info.max_pdu_length);
            err->abort_reason = UL_ABORT_REASON_INVALID_PARAMETER;
            ul_assoc_rq_free(&a->rq);
            break;
        }
        a->fsm.rq_acceptable = true;
        return UL_EVT6;
    case UL_PDU_ASSOC_AC:
        if (st != UL_STA5)
            return UL_EVT3;
        if (ul_decode_assoc_ac(pdu, len, &a->ac, err) != 0)
            break;
        if (!peer_max_ok(a->ac.user_info.max_pdu_length)) {
            snprintf(err->message, sizeof err->message, "maximum length %u below 7",
                     a->ac.user_info.max_pdu_length);
            err->abort_reason = UL_ABORT_REASON_INVALID_PARAMETER;
            ul_assoc_ac_free(&a->ac);
            break;
        }
        return UL_EVT3;
    case UL_PDU_ASSOC_RJ:
        if (st == UL_STA5 && ul_decode_assoc_rj(pdu, len, &a->rj, err) != 0)
            break;
        return UL_EVT4;
    case UL_PDU_P_DATA_TF:
        if ((st == UL_STA6 || st == UL_STA7) &&
            ul_decode_p_data_check(pdu, len, a->max_pdu_receive, a->pctx_accepted, err) != 0)
            break;
        return UL_EVT10;
    case UL_PDU_RELEASE_RQ:
        if (ul_decode_release(pdu, len, err) != 0)
            break;
        return UL_EVT12;
    case UL_PDU_RELEASE_RP:
        if (ul_decode_release(pdu, len, err) != 0)
            break;
        return UL_EVT13;
    case UL_PDU_ABORT: {
        /* A malformed A-ABORT still ends the association. */
        ul_abort_info info = {0, 0};
        if (ul_decode_abort(pdu, len, &info, err) != 0)
            log_warn(a->log, "malformed A-ABORT: %s", err->message);
        a->fsm.peer_abort_source = info.source;
        log_info(a->log, "peer aborted the association (source %u, reason %u)",
                 info.source, info.reason);
        return UL_EVT16;
    }
    default:
        snprintf(err->message, sizeof err->message, "unknown PDU type %02XH", pdu[0]);
        err->abort_reason = UL_ABORT_REASON_UNRECOGNIZED_PDU;
        break;
    }

    a->fsm.abort_reason = err->abort_reason;
    return UL_EVT19;
}

/* PDV item header: 4-byte length, context ID, message control header. */
#define PDV_HEADER_LEN 6

/* Reads n bytes of a PDU body; a timeout leaves the PDU boundaries lost. */
static int read_body(ul_assoc *a, uint8_t *buf, size_t n)
{
    bool partial = false;
    int r = read_full(a, buf, n, a->params.dimse_timeout_ms, a->params.dimse_timeout_ms,
                      &partial);

    if (r == UL_TIMEOUT)
        a->desynced = true;
    return r;
}

/*
 * Reads the body of a P-DATA-TF whose header is in the receive buffer.
 * When its first PDV item is a data PDV that fills the PDU alone, on an
 * accepted presentation context, the payload goes to a->sink and streamed
 * is set. Any other P-DATA-TF is read whole into the receive buffer and
 * checked by classify as usual. When the sink fails, the rest of the
 * payload is read into the receive buffer and dropped.
 */
static int read_p_data_to_sink(ul_assoc *a, uint32_t body_len)
{
    uint8_t *item = a->rbuf + UL_PDU_HEADER_LEN;
    uint8_t *scratch = item + PDV_HEADER_LEN;
    size_t scratch_len = a->rbuf_cap - UL_PDU_HEADER_LEN - PDV_HEADER_LEN;
    bool dropping = false;

    int r = read_body(a, item, PDV_HEADER_LEN);
    if (r != UL_OK)
        return r;

    uint32_t item_len = ((uint32_t)item[0] << 24) | ((uint32_t)item[1] << 16) |
                        ((uint32_t)item[2] << 8) | item[3];
    bool alone = item_len == body_len - 4 && (item[5] & 1) == 0 && a->pctx_accepted[item[4]];
    if (!alone) {
        r = read_body(a, scratch, body_len - PDV_HEADER_LEN);
        if (r == UL_OK)
            a->rlen = UL_PDU_HEADER_LEN + (size_t)body_len;
        return r;
    }

    size_t left = item_len - 2;
    while (left > 0) {
        uint8_t *dst = NULL;
        size_t room = 0;

        if (!dropping)
            dst = a->sink->reserve(a->sink->arg, &room);
        if (dst == NULL || room == 0) {
            dropping = true;
            dst = scratch;
            room = scratch_len;
        }
        if (room > left)
            room = left;
        r = read_body(a, dst, room);
        if (r != UL_OK)
            return r;
        if (!dropping && a->sink->store(a->sink->arg, room) != 0)
            dropping = true;
        left -= room;
    }
    a->rlen = UL_PDU_HEADER_LEN + PDV_HEADER_LEN;
    a->streamed = true;
    return UL_OK;
}

/* Reads one PDU into the receive buffer, or its data payload into a->sink. */
static int read_pdu(ul_assoc *a, unsigned timeout_ms, ul_decode_error *err)
{
    uint8_t header[UL_PDU_HEADER_LEN];
    bool partial = false;

    a->rlen = 0;
    a->rnext = 0;
    a->streamed = false;
    int r = read_header(a, header, timeout_ms, a->params.dimse_timeout_ms, &partial);
    if (r == UL_TIMEOUT && partial)
        a->desynced = true;
    if (r != UL_OK)
        return r;

    uint32_t body_len = ((uint32_t)header[2] << 24) | ((uint32_t)header[3] << 16) |
                        ((uint32_t)header[4] << 8) | header[5];
    size_t limit = body_limit(a, header[0]);
    if (limit == 0) {
        a->desynced = true;
        snprintf(err->message, sizeof err->message, "unknown PDU type %02XH", header[0]);
        err->abort_reason = UL_ABORT_REASON_UNRECOGNIZED_PDU;
        return UL_PROTOCOL_ERROR;
    }
    if (body_len > limit) {
        a->desynced = true;
        snprintf(err->message, sizeof err->message,
                 "%s of %u bytes exceeds the maximum of %zu", ul_pdu_type_name(header[0]),
                 body_len, limit);
        err->abort_reason = UL_ABORT_REASON_INVALID_PARAMETER;
        return UL_PROTOCOL_ERROR;
    }
    if (reserve_rbuf(a, UL_PDU_HEADER_LEN + (size_t)body_len) != 0)
        return UL_ERROR;

    memcpy(a->rbuf, header, sizeof header);
    if (a->sink != NULL && header[0] == UL_PDU_P_DATA_TF && a->fsm.state == UL_STA6 &&
        body_len >= PDV_HEADER_LEN + UL_SINK_MIN) {
        r = read_p_data_to_sink(a, body_len);
        if (r == UL_OK)
            log_debug(a->log, "received %s (%u bytes%s)", ul_pdu_type_name(header[0]),
                      UL_PDU_HEADER_LEN + body_len, a->streamed ? ", payload to the sink" : "");
        return r;
    }
    r = read_full(a, a->rbuf + UL_PDU_HEADER_LEN, body_len, a->params.dimse_timeout_ms,
                  a->params.dimse_timeout_ms, &partial);
    if (r == UL_TIMEOUT)
        a->desynced = true;
    if (r != UL_OK)
        return r;

    a->rlen = UL_PDU_HEADER_LEN + (size_t)body_len;
    log_debug(a->log, "received %s (%zu bytes)", ul_pdu_type_name(header[0]), a->rlen);
    return UL_OK;
}

int ul_receive_event(ul_assoc *a, unsigned timeout_ms, ul_indication *ind)
{
    ul_decode_error err;
    ul_state before = a->fsm.state;

    *ind = UL_IND_NONE;
    if (a->fd < 0)
        return transport_closed(a);

    int r = read_pdu(a, timeout_ms, &err);
    if (r == UL_TIMEOUT) {
        if (a->fsm.artim_running) {
            log_debug(a->log, "ARTIM timer expired in %s", ul_fsm_state_name(before));
            ul_fsm_dispatch(&a->fsm, UL_EVT18);
            fsm_close_transport(a);
        } else if (a->desynced) {
            invalid_pdu(a, UL_ABORT_REASON_NOT_SPECIFIED, "PDU cut short by a timeout");
        }
        return UL_TIMEOUT;
    }
    if (r == UL_CLOSED)
        return transport_closed(a);
    if (r == UL_PROTOCOL_ERROR)
        return invalid_pdu(a, err.abort_reason, err.message);
    if (r != UL_OK)
        return r;

    /* A streamed P-DATA-TF passed classify's checks in read_p_data_to_sink. */
    ul_event event = a->streamed ? UL_EVT10 : classify(a, &err);
    if (event == UL_EVT19)
        return invalid_pdu(a, err.abort_reason, err.message);

    *ind = ul_fsm_dispatch(&a->fsm, event);
    if (a->fsm.transport_failed)
        return transport_closed(a);
    if (*ind == UL_IND_INVALID)
        return UL_ERROR;
    if (event == UL_EVT16)
        return UL_ABORTED;
    if (event == UL_EVT6 && before == UL_STA2 && !a->fsm.rq_acceptable)
        return UL_REJECTED;
    if (before != UL_STA13 && a->fsm.state == UL_STA13) {
        log_error(a->log, "unexpected %s in %s; aborted", ul_pdu_type_name(a->rbuf[0]),
                  ul_fsm_state_name(before));
        return UL_PROTOCOL_ERROR;
    }
    return UL_OK;
}

/* Reads and drops bytes once PDU boundaries are lost. */
static int discard_bytes(ul_assoc *a, unsigned timeout_ms)
{
    uint8_t scratch[4096];

    if (a->ahead_len > 0) {
        a->ahead_len = 0;
        a->ahead_start = 0;
        return UL_OK;
    }
    int w = wait_fd(a->fd, POLLIN, timeout_ms);
    if (w == 0)
        return UL_TIMEOUT;
    if (w < 0)
        return UL_CLOSED;
    ssize_t r = recv(a->fd, scratch, sizeof scratch, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return UL_OK;
    return r <= 0 ? UL_CLOSED : UL_OK;
}

void ul_wait_for_close(ul_assoc *a)
{
    unsigned artim = a->params.artim_timeout_ms;
    uint64_t deadline = now_ms() + artim;

    while (a->fsm.state == UL_STA13 && a->fd >= 0) {
        unsigned left = 0;
        if (artim) {
            uint64_t now = now_ms();
            if (now >= deadline) {
                ul_fsm_dispatch(&a->fsm, UL_EVT18);
                break;
            }
            left = (unsigned)(deadline - now);
        }

        if (!a->desynced) {
            ul_indication ind;
            ul_receive_event(a, left, &ind);
            continue;
        }
        int r = discard_bytes(a, left);
        if (r == UL_TIMEOUT)
            ul_fsm_dispatch(&a->fsm, UL_EVT18);
        else if (r == UL_CLOSED)
            ul_fsm_dispatch(&a->fsm, UL_EVT17);
    }
    fsm_close_transport(a);
}
