/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of Upper Layer associations over real sockets. ul_connect runs
 * against ul_accept on loopback TCP, and ul_accept against hand-made PDUs
 * on a socketpair. Covered: negotiation, rejection, ARTIM expiry, PDV
 * fragmentation both ways with a 4096-byte maximum, release, release
 * collision, abort, and the A-ABORT reason sent for each malformed PDU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ul/ul.h"

#define VERIFICATION "1.2.840.10008.1.1"
#define CT_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define MESSAGE_LEN 20000

static const ul_params params = {
    .max_pdu_receive = 4096,
    .artim_timeout_ms = 2000,
    .dimse_timeout_ms = 2000,
    .idle_timeout_ms = 2000,
    .connect_timeout_ms = 2000,
    .implementation_class_uid = "1.2.826.0.1.3680043.9.7433.1",
    .implementation_version_name = "CAIRN_TEST",
};

/* The acceptor of the sink scenarios announces room for PDVs over UL_SINK_MIN. */
static const ul_params sink_params = {
    .max_pdu_receive = 65536,
    .artim_timeout_ms = 2000,
    .dimse_timeout_ms = 2000,
    .idle_timeout_ms = 2000,
    .connect_timeout_ms = 2000,
    .implementation_class_uid = "1.2.826.0.1.3680043.9.7433.1",
    .implementation_version_name = "CAIRN_TEST",
};

/* Accepts every context with its first transfer syntax, or rejects. */
static int negotiate(void *arg, const ul_assoc_rq *rq, ul_assoc_ac *ac, ul_assoc_rj *rj)
{
    bool reject = arg != NULL;

    if (reject) {
        *rj = (ul_assoc_rj){UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
                            UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED};
        return 1;
    }
    for (size_t i = 0; i < rq->pctx_count; i++) {
        bool known = strcmp(rq->pctx[i].abstract_syntax, CT_STORAGE) == 0 ||
                     strcmp(rq->pctx[i].abstract_syntax, VERIFICATION) == 0;
        if (ul_assoc_ac_add_pctx(ac, rq->pctx[i].id,
                                 known ? UL_PCTX_ACCEPTANCE
                                       : UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED,
                                 rq->pctx[i].transfer_syntaxes[0]) != 0)
            return -1;
    }
    return 0;
}

static void build_rq(ul_assoc_rq *rq)
{
    const char *ts = IMPLICIT_LE;

    memset(rq, 0, sizeof *rq);
    rq->protocol_version = UL_PROTOCOL_VERSION;
    strcpy(rq->called_ae, "CAIRN");
    strcpy(rq->calling_ae, "TESTSCU");
    strcpy(rq->application_context, UL_DICOM_APPLICATION_CONTEXT);
    assert_int_equal(ul_assoc_rq_add_pctx(rq, 1, VERIFICATION, &ts, 1), 0);
    assert_int_equal(ul_assoc_rq_add_pctx(rq, 3, CT_STORAGE, &ts, 1), 0);
    assert_int_equal(ul_assoc_rq_add_pctx(rq, 5, "1.2.3.999", &ts, 1), 0);
}

/* The acceptor thread and what it saw. */
typedef enum scenario {
    SCENARIO_ACCEPT_ONLY,
    SCENARIO_RECEIVE_THEN_SEND, /* read a data set, send it back, wait release */
    SCENARIO_RELEASE_COLLISION,
    SCENARIO_EXPECT_ABORT,
    SCENARIO_READ_TWO, /* read two PDVs and record them */
    SCENARIO_SINK      /* read a data set through a sink, wait release */
} scenario;

typedef struct acceptor {
    int fd;
    void *negotiate_arg;
    scenario what;
    int accept_result;
    int final_result;
    size_t pdv_count;
    size_t max_pdv_len;
    size_t received;
    bool data_ok;
    ul_pdv first, second; /* SCENARIO_READ_TWO; data copied into bytes */
    uint8_t bytes[2];
    /* SCENARIO_SINK: the sink's buffer, its failure point (0: never) and
     * how many PDVs it received in place of the receive buffer. */
    uint8_t piece[3001];
    size_t sink_fail_after;
    size_t sunk_pdvs;
} acceptor;

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

/* Reads one message of MESSAGE_LEN bytes on context 3 and checks it. */
static int read_message(ul_assoc *assoc, acceptor *acc)
{
    ul_pdv pdv;

    acc->data_ok = true;
    for (;;) {
        int r = ul_read_pdv(assoc, &pdv, 2000);
        if (r != UL_OK)
            return r;
        acc->pdv_count++;
        if (pdv.len > acc->max_pdv_len)
            acc->max_pdv_len = pdv.len;
        for (size_t i = 0; i < pdv.len; i++) {
            if (pdv.data[i] != pattern(acc->received + i))
                acc->data_ok = false;
        }
        acc->received += pdv.len;
        if (pdv.pctx_id != 3 || pdv.command)
            acc->data_ok = false;
        if (pdv.last)
            return UL_OK;
    }
}

static uint8_t *sink_reserve(void *arg, size_t *room)
{
    acceptor *acc = arg;

    *room = sizeof acc->piece;
    return acc->piece;
}

/* Checks the bytes against the pattern; fails once sink_fail_after bytes arrived. */
static int sink_store(void *arg, size_t n)
{
    acceptor *acc = arg;

    for (size_t i = 0; i < n; i++) {
        if (acc->piece[i] != pattern(acc->received + i))
            acc->data_ok = false;
    }
    acc->received += n;
    if (acc->sink_fail_after != 0 && acc->received >= acc->sink_fail_after)
        return -1;
    return 0;
}

/* Reads one message on context 3 through a sink of 3001-byte pieces. */
static int read_message_to_sink(ul_assoc *assoc, acceptor *acc)
{
    const ul_pdv_sink sink = {.reserve = sink_reserve, .store = sink_store, .arg = acc};
    ul_pdv pdv;

    acc->data_ok = true;
    for (;;) {
        int r = ul_read_pdv_to(assoc, &pdv, 2000, &sink);
        if (r != UL_OK)
            return r;
        acc->pdv_count++;
        if (pdv.data == NULL) {
            acc->sunk_pdvs++;
        } else {
            for (size_t i = 0; i < pdv.len; i++) {
                if (pdv.data[i] != pattern(acc->received + i))
                    acc->data_ok = false;
            }
            acc->received += pdv.len;
        }
        if (pdv.pctx_id != 3 || pdv.command)
            acc->data_ok = false;
        if (pdv.last)
            return UL_OK;
    }
}

/* Writes one message in chunks of 100 bytes. */
static int write_message(ul_assoc *assoc)
{
    uint8_t chunk[100];

    for (size_t off = 0; off < MESSAGE_LEN; off += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = pattern(off + i);
        int r = ul_write_pdv(assoc, 3, false, chunk, sizeof chunk,
                             off + sizeof chunk >= MESSAGE_LEN);
        if (r != UL_OK)
            return r;
    }
    return UL_OK;
}

static void *acceptor_main(void *arg)
{
    acceptor *acc = arg;
    ul_assoc *assoc = NULL;
    ul_pdv pdv;

    acc->accept_result = ul_accept(acc->fd, acc->what == SCENARIO_SINK ? &sink_params : &params,
                                   negotiate, acc->negotiate_arg, &assoc);
    if (acc->accept_result != UL_OK)
        return NULL;

    switch (acc->what) {
    case SCENARIO_ACCEPT_ONLY:
        acc->final_result = ul_read_pdv(assoc, &pdv, 2000);
        if (acc->final_result == UL_RELEASE_REQUESTED)
            acc->final_result = ul_release_respond(assoc);
        break;
    case SCENARIO_RECEIVE_THEN_SEND:
        acc->final_result = read_message(assoc, acc);
        if (acc->final_result == UL_OK)
            acc->final_result = write_message(assoc);
        if (acc->final_result == UL_OK) {
            acc->final_result = ul_read_pdv(assoc, &pdv, 2000);
            if (acc->final_result == UL_RELEASE_REQUESTED)
                acc->final_result = ul_release_respond(assoc);
        }
        break;
    case SCENARIO_RELEASE_COLLISION:
        /* Wait for the requestor's command, then release at the same time. */
        acc->final_result = ul_read_pdv(assoc, &pdv, 2000);
        if (acc->final_result == UL_OK)
            acc->final_result = ul_release(assoc);
        break;
    case SCENARIO_EXPECT_ABORT:
        acc->final_result = ul_read_pdv(assoc, &pdv, 2000);
        break;
    case SCENARIO_READ_TWO:
        acc->final_result = ul_read_pdv(assoc, &acc->first, 2000);
        if (acc->final_result != UL_OK)
            break;
        acc->bytes[0] = acc->first.data[0];
        acc->final_result = ul_read_pdv(assoc, &acc->second, 2000);
        if (acc->final_result == UL_OK)
            acc->bytes[1] = acc->second.data[0];
        break;
    case SCENARIO_SINK:
        acc->final_result = read_message_to_sink(assoc, acc);
        if (acc->final_result == UL_OK) {
            acc->final_result = ul_read_pdv(assoc, &pdv, 2000);
            if (acc->final_result == UL_RELEASE_REQUESTED)
                acc->final_result = ul_release_respond(assoc);
        }
        break;
    }
    ul_assoc_destroy(assoc);
    return NULL;
}

/* Listens on 127.0.0.1, accepts one connection in a thread. */
typedef struct server {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
    acceptor acc;
} server;

static void *server_main(void *arg)
{
    server *srv = arg;

    srv->acc.fd = accept(srv->listen_fd, NULL, NULL);
    if (srv->acc.fd < 0) {
        srv->acc.accept_result = UL_ERROR;
        return NULL;
    }
    return acceptor_main(&srv->acc);
}

static void server_start(server *srv, scenario what, void *negotiate_arg)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof sin;

    memset(srv, 0, sizeof *srv);
    srv->acc.what = what;
    srv->acc.negotiate_arg = negotiate_arg;
    srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv->listen_fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(srv->listen_fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(srv->listen_fd, 1), 0);
    assert_int_equal(getsockname(srv->listen_fd, (struct sockaddr *)&sin, &sl), 0);
    srv->port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&srv->thread, NULL, server_main, srv), 0);
}

static void server_join(server *srv)
{
    pthread_join(srv->thread, NULL);
    close(srv->listen_fd);
}

static ul_assoc *connect_ok(server *srv)
{
    ul_assoc_rq rq;
    ul_assoc *assoc = NULL;
    ul_assoc_rj rj;

    build_rq(&rq);
    int r = ul_connect("127.0.0.1", srv->port, &params, &rq, &assoc, &rj);
    ul_assoc_rq_free(&rq);
    assert_int_equal(r, UL_OK);
    assert_non_null(assoc);
    return assoc;
}

static void test_negotiation_accept(void **state)
{
    server srv;

    server_start(&srv, SCENARIO_ACCEPT_ONLY, NULL);
    ul_assoc *assoc = connect_ok(&srv);

    const ul_assoc_ac *ac = ul_assoc_accept(assoc);
    assert_int_equal(ac->pctx_count, 3);
    assert_true(ul_assoc_pctx_accepted(assoc, 1));
    assert_true(ul_assoc_pctx_accepted(assoc, 3));
    assert_false(ul_assoc_pctx_accepted(assoc, 5));
    assert_int_equal(ac->user_info.max_pdu_length, 4096);
    assert_string_equal(ac->user_info.implementation_class_uid, params.implementation_class_uid);
    assert_int_equal(ul_assoc_max_pdu_send(assoc), 4096);
    assert_int_equal(ul_assoc_request(assoc)->user_info.max_pdu_length, 4096);

    assert_int_equal(ul_release(assoc), UL_OK);
    ul_assoc_destroy(assoc);
    server_join(&srv);
    assert_int_equal(srv.acc.accept_result, UL_OK);
    assert_int_equal(srv.acc.final_result, UL_OK);
}

static void test_negotiation_reject(void **state)
{
    server srv;
    ul_assoc_rq rq;
    ul_assoc *assoc = NULL;
    ul_assoc_rj rj = {0};

    server_start(&srv, SCENARIO_ACCEPT_ONLY, (void *)1);
    build_rq(&rq);
    int r = ul_connect("127.0.0.1", srv.port, &params, &rq, &assoc, &rj);
    ul_assoc_rq_free(&rq);
    server_join(&srv);

    assert_int_equal(r, UL_REJECTED);
    assert_null(assoc);
    assert_int_equal(rj.result, UL_REJECT_PERMANENT);
    assert_int_equal(rj.source, UL_REJECT_SOURCE_USER);
    assert_int_equal(rj.reason, UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED);
    assert_int_equal(srv.acc.accept_result, UL_REJECTED);
}

static void test_fragmentation_both_ways(void **state)
{
    server srv;
    ul_pdv pdv;
    size_t received = 0;
    size_t pdv_count = 0;
    bool data_ok = true;

    server_start(&srv, SCENARIO_RECEIVE_THEN_SEND, NULL);
    ul_assoc *assoc = connect_ok(&srv);

    assert_int_equal(write_message(assoc), UL_OK);
    for (;;) {
        assert_int_equal(ul_read_pdv(assoc, &pdv, 2000), UL_OK);
        assert_true(pdv.len <= 4096 - 6);
        for (size_t i = 0; i < pdv.len; i++)
            data_ok = data_ok && pdv.data[i] == pattern(received + i);
        received += pdv.len;
        pdv_count++;
        if (pdv.last)
            break;
    }
    assert_int_equal(ul_release(assoc), UL_OK);
    ul_assoc_destroy(assoc);
    server_join(&srv);

    /* 20000 bytes in PDVs of at most 4090 bytes: 5 PDUs each way. */
    assert_int_equal(received, MESSAGE_LEN);
    assert_true(data_ok);
    assert_int_equal(pdv_count, 5);
    assert_int_equal(srv.acc.final_result, UL_OK);
    assert_int_equal(srv.acc.received, MESSAGE_LEN);
    assert_true(srv.acc.data_ok);
    assert_int_equal(srv.acc.pdv_count, 5);
    assert_int_equal(srv.acc.max_pdv_len, 4090);
}

static void test_release_collision(void **state)
{
    server srv;
    const uint8_t command[] = {0, 0, 0, 0};

    server_start(&srv, SCENARIO_RELEASE_COLLISION, NULL);
    ul_assoc *assoc = connect_ok(&srv);

    /* Tell the acceptor to release, then release too without reading. */
    assert_int_equal(ul_write_pdv(assoc, 1, true, command, sizeof command, true), UL_OK);
    int r = ul_release(assoc);
    ul_assoc_destroy(assoc);
    server_join(&srv);

    assert_int_equal(r, UL_OK);
    assert_int_equal(srv.acc.final_result, UL_OK);
}

static void test_abort_reaches_peer(void **state)
{
    server srv;

    server_start(&srv, SCENARIO_EXPECT_ABORT, NULL);
    ul_assoc *assoc = connect_ok(&srv);
    ul_abort(assoc, UL_ABORT_SOURCE_USER, 0);
    ul_assoc_destroy(assoc);
    server_join(&srv);

    assert_int_equal(srv.acc.final_result, UL_ABORTED);
}

static void test_write_checks(void **state)
{
    server srv;
    const uint8_t byte = 1;

    server_start(&srv, SCENARIO_ACCEPT_ONLY, NULL);
    ul_assoc *assoc = connect_ok(&srv);

    assert_int_equal(ul_write_pdv(assoc, 5, false, &byte, 1, true), UL_ERROR);
    assert_int_equal(ul_write_pdv(assoc, 3, false, &byte, 0, true), UL_ERROR);
    assert_int_equal(ul_write_pdv(assoc, 3, false, &byte, 1, false), UL_OK);
    assert_int_equal(ul_write_pdv(assoc, 1, true, &byte, 1, true), UL_ERROR);

    assert_int_equal(ul_release(assoc), UL_OK);
    ul_assoc_destroy(assoc);
    server_join(&srv);
}

/* Hand-made peer on a socketpair: the acceptor runs in a thread. */
typedef struct raw_peer {
    int fd;
    pthread_t thread;
    acceptor acc;
} raw_peer;

static void raw_start(raw_peer *peer, scenario what)
{
    int sv[2];

    memset(peer, 0, sizeof *peer);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peer->fd = sv[0];
    peer->acc.fd = sv[1];
    peer->acc.what = what;
    assert_int_equal(pthread_create(&peer->thread, NULL, acceptor_main, &peer->acc), 0);
}

static void raw_send(raw_peer *peer, const void *data, size_t len)
{
    assert_int_equal(send(peer->fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads one PDU into buf; returns its length, or 0 when closed. */
static size_t raw_read_pdu(raw_peer *peer, uint8_t *buf, size_t cap)
{
    size_t got = 0;
    size_t want = 6;

    while (got < want) {
        struct pollfd pfd = {.fd = peer->fd, .events = POLLIN};
        if (poll(&pfd, 1, 5000) != 1)
            return 0;
        ssize_t r = recv(peer->fd, buf + got, want - got, 0);
        if (r <= 0)
            return 0;
        got += (size_t)r;
        if (got == 6) {
            want = 6 + (((size_t)buf[2] << 24) | ((size_t)buf[3] << 16) |
                        ((size_t)buf[4] << 8) | buf[5]);
            assert_true(want <= cap);
        }
    }
    return got;
}

static void raw_associate(raw_peer *peer)
{
    ul_assoc_rq rq;
    uint8_t *pdu;
    size_t len;
    uint8_t buf[4096];

    build_rq(&rq);
    rq.user_info.max_pdu_length = 4096;
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), 0);
    ul_assoc_rq_free(&rq);
    raw_send(peer, pdu, len);
    free(pdu);
    assert_true(raw_read_pdu(peer, buf, sizeof buf) > 0);
    assert_int_equal(buf[0], UL_PDU_ASSOC_AC);
}

/* Expects an A-ABORT from the acceptor, then closes like a real peer. */
static void raw_expect_abort(raw_peer *peer, uint8_t reason)
{
    uint8_t buf[4096];

    assert_int_equal(raw_read_pdu(peer, buf, sizeof buf), 10);
    assert_int_equal(buf[0], UL_PDU_ABORT);
    assert_int_equal(buf[8], UL_ABORT_SOURCE_PROVIDER);
    assert_int_equal(buf[9], reason);
    close(peer->fd);
    pthread_join(peer->thread, NULL);
}

static void test_artim_expiry(void **state)
{
    raw_peer peer;
    uint8_t buf[16];

    raw_start(&peer, SCENARIO_ACCEPT_ONLY);
    /* Send nothing: ARTIM (2 s) expires and the acceptor closes. */
    assert_int_equal(raw_read_pdu(&peer, buf, sizeof buf), 0);
    pthread_join(peer.thread, NULL);
    close(peer.fd);
    assert_int_equal(peer.acc.accept_result, UL_TIMEOUT);
}

static void test_protocol_version_rejected(void **state)
{
    raw_peer peer;
    ul_assoc_rq rq;
    uint8_t *pdu;
    size_t len;
    uint8_t buf[64];

    raw_start(&peer, SCENARIO_ACCEPT_ONLY);
    build_rq(&rq);
    assert_int_equal(ul_encode_assoc_rq(&rq, &pdu, &len), 0);
    ul_assoc_rq_free(&rq);
    pdu[7] = 2;
    raw_send(&peer, pdu, len);
    free(pdu);

    assert_int_equal(raw_read_pdu(&peer, buf, sizeof buf), 10);
    assert_int_equal(buf[0], UL_PDU_ASSOC_RJ);
    assert_int_equal(buf[7], 1);
    assert_int_equal(buf[8], 2);
    assert_int_equal(buf[9], 2);
    close(peer.fd);
    pthread_join(peer.thread, NULL);
    assert_int_equal(peer.acc.accept_result, UL_REJECTED);
}

static void test_unexpected_pdu_before_rq(void **state)
{
    raw_peer peer;
    uint8_t release[10];

    raw_start(&peer, SCENARIO_ACCEPT_ONLY);
    ul_encode_release_rq(release);
    raw_send(&peer, release, sizeof release);
    raw_expect_abort(&peer, UL_ABORT_REASON_UNEXPECTED_PDU);
    assert_int_equal(peer.acc.accept_result, UL_PROTOCOL_ERROR);
}

static void test_zero_length_pdv_aborts(void **state)
{
    raw_peer peer;
    const uint8_t empty_pdv[] = {4, 0, 0, 0, 0, 6, 0, 0, 0, 2, 3, 2};

    raw_start(&peer, SCENARIO_EXPECT_ABORT);
    raw_associate(&peer);
    raw_send(&peer, empty_pdv, sizeof empty_pdv);
    raw_expect_abort(&peer, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(peer.acc.final_result, UL_PROTOCOL_ERROR);
}

static void test_pdu_over_max_aborts(void **state)
{
    raw_peer peer;
    /* Announces a body of 5000 bytes, more than the 4096 we announced. */
    const uint8_t header[] = {4, 0, 0, 0, 0x13, 0x88, 0, 0, 0x13, 0x84, 3, 2};

    raw_start(&peer, SCENARIO_EXPECT_ABORT);
    raw_associate(&peer);
    raw_send(&peer, header, sizeof header);
    raw_expect_abort(&peer, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(peer.acc.final_result, UL_PROTOCOL_ERROR);
}

static void test_unknown_context_aborts(void **state)
{
    raw_peer peer;
    const uint8_t pdv[] = {4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 5, 2, 0xaa};

    raw_start(&peer, SCENARIO_EXPECT_ABORT);
    raw_associate(&peer);
    raw_send(&peer, pdv, sizeof pdv);
    raw_expect_abort(&peer, UL_ABORT_REASON_INVALID_PARAMETER);
    assert_int_equal(peer.acc.final_result, UL_PROTOCOL_ERROR);
}

static void test_unknown_pdu_type_aborts(void **state)
{
    raw_peer peer;
    const uint8_t unknown[] = {0x0a, 0, 0, 0, 0, 2, 0, 0};

    raw_start(&peer, SCENARIO_EXPECT_ABORT);
    raw_associate(&peer);
    raw_send(&peer, unknown, sizeof unknown);
    raw_expect_abort(&peer, UL_ABORT_REASON_UNRECOGNIZED_PDU);
    assert_int_equal(peer.acc.final_result, UL_PROTOCOL_ERROR);
}

static void test_truncated_pdu_closed(void **state)
{
    raw_peer peer;
    const uint8_t partial[] = {4, 0, 0, 0, 0, 20, 0, 0};

    raw_start(&peer, SCENARIO_EXPECT_ABORT);
    raw_associate(&peer);
    raw_send(&peer, partial, sizeof partial);
    close(peer.fd);
    pthread_join(peer.thread, NULL);
    assert_int_equal(peer.acc.final_result, UL_CLOSED);
}

static void test_two_pdvs_in_one_pdu(void **state)
{
    raw_peer peer;
    const uint8_t two[] = {4, 0, 0, 0, 0, 14, 0, 0, 0, 3, 1, 3, 0x11,
                           0, 0, 0, 3, 3, 2, 0x22};

    raw_start(&peer, SCENARIO_READ_TWO);
    raw_associate(&peer);
    raw_send(&peer, two, sizeof two);
    pthread_join(peer.thread, NULL);
    close(peer.fd);

    assert_int_equal(peer.acc.final_result, UL_OK);
    assert_int_equal(peer.acc.first.pctx_id, 1);
    assert_true(peer.acc.first.command);
    assert_true(peer.acc.first.last);
    assert_int_equal(peer.acc.first.len, 1);
    assert_int_equal(peer.acc.bytes[0], 0x11);
    assert_int_equal(peer.acc.second.pctx_id, 3);
    assert_false(peer.acc.second.command);
    assert_true(peer.acc.second.last);
    assert_int_equal(peer.acc.bytes[1], 0x22);
}

/* Two PDUs in one segment: the header read takes both, the second is
 * then read from what was read ahead. */
static void test_two_pdus_in_one_write(void **state)
{
    raw_peer peer;
    const uint8_t two[] = {4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 1, 3, 0x11,
                           4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 3, 2, 0x22};

    raw_start(&peer, SCENARIO_READ_TWO);
    raw_associate(&peer);
    raw_send(&peer, two, sizeof two);
    pthread_join(peer.thread, NULL);
    close(peer.fd);

    assert_int_equal(peer.acc.final_result, UL_OK);
    assert_int_equal(peer.acc.first.pctx_id, 1);
    assert_true(peer.acc.first.command);
    assert_int_equal(peer.acc.first.len, 1);
    assert_int_equal(peer.acc.bytes[0], 0x11);
    assert_int_equal(peer.acc.second.pctx_id, 3);
    assert_false(peer.acc.second.command);
    assert_int_equal(peer.acc.second.len, 1);
    assert_int_equal(peer.acc.bytes[1], 0x22);
}

/* A data PDV that fills its PDU goes to the sink, split over its pieces. */
static void test_sink_receives_payload(void **state)
{
    server srv;

    (void)state;
    server_start(&srv, SCENARIO_SINK, NULL);
    ul_assoc *assoc = connect_ok(&srv);
    assert_int_equal(write_message(assoc), UL_OK);
    assert_int_equal(ul_release(assoc), UL_OK);
    ul_assoc_destroy(assoc);
    server_join(&srv);

    assert_int_equal(srv.acc.final_result, UL_OK);
    assert_true(srv.acc.data_ok);
    assert_int_equal(srv.acc.received, MESSAGE_LEN);
    assert_int_equal(srv.acc.pdv_count, 1);
    assert_int_equal(srv.acc.sunk_pdvs, 1);
}

/* After the sink fails, the rest of the PDV is dropped and the PDU boundaries hold. */
static void test_sink_failure_drops_rest(void **state)
{
    server srv;

    (void)state;
    server_start(&srv, SCENARIO_SINK, NULL);
    srv.acc.sink_fail_after = 5000;
    ul_assoc *assoc = connect_ok(&srv);
    assert_int_equal(write_message(assoc), UL_OK);
    assert_int_equal(ul_release(assoc), UL_OK);
    ul_assoc_destroy(assoc);
    server_join(&srv);

    assert_int_equal(srv.acc.final_result, UL_OK);
    assert_true(srv.acc.data_ok);
    assert_int_equal(srv.acc.received, 2 * sizeof srv.acc.piece);
    assert_int_equal(srv.acc.sunk_pdvs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation_accept),
        cmocka_unit_test(test_negotiation_reject),
        cmocka_unit_test(test_fragmentation_both_ways),
        cmocka_unit_test(test_release_collision),
        cmocka_unit_test(test_abort_reaches_peer),
        cmocka_unit_test(test_write_checks),
        cmocka_unit_test(test_artim_expiry),
        cmocka_unit_test(test_protocol_version_rejected),
        cmocka_unit_test(test_unexpected_pdu_before_rq),
        cmocka_unit_test(test_zero_length_pdv_aborts),
        cmocka_unit_test(test_pdu_over_max_aborts),
        cmocka_unit_test(test_unknown_context_aborts),
        cmocka_unit_test(test_unknown_pdu_type_aborts),
        cmocka_unit_test(test_truncated_pdu_closed),
        cmocka_unit_test(test_two_pdvs_in_one_pdu),
        cmocka_unit_test(test_two_pdus_in_one_write),
        cmocka_unit_test(test_sink_receives_payload),
        cmocka_unit_test(test_sink_failure_drops_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
