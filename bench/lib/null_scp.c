/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Null responder for the association-rate cases: the cheapest response a
 * server can give to associate, C-ECHO, release. It is not a DICOM server.
 * It accepts only the Verification SOP Class, checks little and stores
 * nothing. bench/run.sh runs it as a floor, the rate that no server can
 * beat on this machine with the same client.
 *
 * Usage: null_scp PORT
 *
 * Listens on 127.0.0.1 only. One thread serves every connection with
 * level-triggered epoll and non-blocking sockets, and makes one read per
 * readiness event and one write per response. What it receives, and
 * what it does:
 *   A-ASSOCIATE-RQ: sends A-ASSOCIATE-AC, which accepts each context whose
 *     abstract syntax is Verification (1.2.840.10008.1.1) with the first
 *     offered transfer syntax, and rejects the others (abstract syntax not
 *     supported);
 *   P-DATA-TF carrying a C-ECHO-RQ command: sends C-ECHO-RSP, status 0000;
 *   A-RELEASE-RQ: sends A-RELEASE-RP, and closes once the peer closes;
 *   anything else, or a PDU it cannot parse: closes the connection.
 * PDU layouts follow PS3.8 section 9.3, the C-ECHO command set PS3.7
 * section 9.3.5; the command set is Implicit VR Little Endian whatever
 * the transfer syntax.
 *
 * Built by bench/run.sh with the system C compiler. It uses only libc and
 * dicom_wire.h from this folder.
 * Stop it with SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dicom_wire.h"

#define VERIFICATION "1.2.840.10008.1.1"
#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.2"

/* Largest PDU read: an A-ASSOCIATE-RQ of a usual client and a C-ECHO-RQ
 * fit with room to spare. A larger PDU closes the connection. */
#define BUFFER_SIZE 16384
#define MAX_EVENTS 64
#define MAX_CONTEXTS 128

typedef struct connection {
    int fd;
    size_t len;                 /* bytes in data */
    uint8_t echo_context;       /* context of the C-ECHO being read */
    uint8_t data[BUFFER_SIZE];
} connection;

/* True when the UID value (possibly padded with one NUL) equals uid. */
static int uid_equals(const uint8_t *value, size_t len, const char *uid)
{
    size_t uid_len = strlen(uid);

    if (len > 0 && value[len - 1] == '\0')
        len--;
    return len == uid_len && memcmp(value, uid, len) == 0;
}

/*
 * Appends the presentation context result item (type 21H) for the
 * proposed context item body[0..len). Returns -1 when the item is
 * malformed.
 */
static int put_context_result(wire_buffer *out, const uint8_t *body, size_t len)
{
    const uint8_t *syntax = NULL;
    size_t syntax_len = 0;
    int verification = 0;
    size_t at = 4;
    size_t item_at;

    if (len < 4)
        return -1;
    while (at + 4 <= len) {
        uint8_t type = body[at];
        size_t sub_len = wire_get_be16(body + at + 2);

        if (sub_len > len - at - 4)
            return -1;
        if (type == 0x30)
            verification = uid_equals(body + at + 4, sub_len, VERIFICATION);
        else if (type == 0x40 && syntax == NULL) {
            syntax = body + at + 4;
            syntax_len = sub_len;
        }
        at += 4 + sub_len;
    }
    if (syntax == NULL || syntax_len > 64)
        return -1;

    wire_put_u8(out, 0x21);
    wire_put_u8(out, 0);
    item_at = out->len;
    wire_put_be16(out, 0);
    wire_put_u8(out, body[0]);   /* presentation context ID */
    wire_put_u8(out, 0);
    wire_put_u8(out, verification ? 0 : 3); /* 0 acceptance, 3 abstract syntax not supported */
    wire_put_u8(out, 0);
    wire_put_u8(out, 0x40);
    wire_put_u8(out, 0);
    wire_put_be16(out, (uint16_t)syntax_len);
    wire_put_bytes(out, syntax, syntax_len);
    wire_set_be16(out, item_at, out->len - item_at - 2);
    return 0;
}

/* Builds the A-ASSOCIATE-AC for the A-ASSOCIATE-RQ pdu[0..len). */
static int build_associate_ac(const uint8_t *pdu, size_t len, wire_buffer *out)
{
    static const uint8_t reserved[32];
    size_t at = 6 + 68;
    size_t user_at;
    int contexts = 0;

    if (len < at)
        return -1;

    wire_put_u8(out, 0x02);
    wire_put_u8(out, 0);
    wire_put_bytes(out, "\0\0\0\0", 4); /* PDU length, set below */
    wire_put_be16(out, 1);              /* protocol version */
    wire_put_be16(out, 0);
    wire_put_bytes(out, pdu + 10, 32);  /* called and calling AE titles, as received */
    wire_put_bytes(out, reserved, sizeof reserved);
    wire_put_text_item(out, 0x10, WIRE_APPLICATION_CONTEXT);

    while (at + 4 <= len) {
        uint8_t type = pdu[at];
        size_t item_len = wire_get_be16(pdu + at + 2);

        if (item_len > len - at - 4)
            return -1;
        if (type == 0x20) {
            if (++contexts > MAX_CONTEXTS || put_context_result(out, pdu + at + 4, item_len) != 0)
                return -1;
        }
        at += 4 + item_len;
    }

    wire_put_u8(out, 0x50);
    wire_put_u8(out, 0);
    user_at = out->len;
    wire_put_be16(out, 0);
    wire_put_u8(out, 0x51);          /* maximum length received: 16 KiB */
    wire_put_u8(out, 0);
    wire_put_be16(out, 4);
    wire_put_bytes(out, "\0\0\x40\0", 4);
    wire_put_text_item(out, 0x52, IMPLEMENTATION_CLASS);
    wire_set_be16(out, user_at, out->len - user_at - 2);
    wire_set_be32(out, 2, out->len - 6);
    return 0;
}

/*
 * Builds the C-ECHO-RSP when the P-DATA-TF pdu[0..len) ends a C-ECHO-RQ
 * command. Returns 1 when a response is ready, 0 when the command goes on
 * in a later PDU, -1 for anything this responder does not handle.
 * Fragments before the last one are skipped without being kept, since
 * only the Message ID matters and it is in the last fragment of any
 * command set a client sends in fewer than BUFFER_SIZE bytes.
 */
static int build_echo_rsp(connection *c, const uint8_t *pdu, size_t len, wire_buffer *out)
{
    static wire_buffer elements, command; /* reused, so kept for the process lifetime */
    uint32_t offset = 0;
    wire_pdv pdv;
    int message_id = -1;
    int last = 0, more;

    /* PDV items start after the 6-byte PDU header. */
    while ((more = wire_next_pdv(pdu + 6, (uint32_t)(len - 6), &offset, &pdv)) == 1) {
        if ((pdv.control & 0x01) == 0)
            return -1;          /* a data set: C-ECHO has none */
        c->echo_context = pdv.context_id;
        last = (pdv.control & 0x02) != 0;

        for (size_t e = 0; e + 8 <= pdv.data_len;) {
            uint16_t group = wire_get_le16(pdv.data + e);
            uint16_t element = wire_get_le16(pdv.data + e + 2);
            uint32_t element_len = wire_get_le32(pdv.data + e + 4);

            if (element_len > pdv.data_len - e - 8)
                break;
            if (group == 0 && element == 0x0100 && element_len == 2 &&
                wire_get_le16(pdv.data + e + 8) != 0x0030)
                return -1;      /* not a C-ECHO-RQ */
            if (group == 0 && element == 0x0110 && element_len == 2)
                message_id = wire_get_le16(pdv.data + e + 8);
            e += 8 + element_len;
        }
    }
    if (more < 0)
        return -1;
    if (!last)
        return 0;
    if (message_id < 0)
        return -1;

    elements.len = 0;
    command.len = 0;
    /* Affected SOP Class UID, Command Field (C-ECHO-RSP), Message ID Being
     * Responded To, Command Data Set Type (no data set), Status (success). */
    wire_put_uid_element(&elements, 0x00000002, VERIFICATION);
    wire_put_us_element(&elements, 0x00000100, 0x8030);
    wire_put_us_element(&elements, 0x00000120, (uint16_t)message_id);
    wire_put_us_element(&elements, 0x00000800, 0x0101);
    wire_put_us_element(&elements, 0x00000900, 0x0000);
    wire_put_command_set(&command, &elements);
    wire_put_p_data(out, c->echo_context, &command, 1);
    return 1;
}

/* Returns 0 to go on, -1 to close the connection. */
static int respond_to_pdu(connection *c, const uint8_t *pdu, size_t len, wire_buffer *out)
{
    static const uint8_t release_rp[10] = {0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0};

    switch (pdu[0]) {
    case 0x01:
        return build_associate_ac(pdu, len, out);
    case 0x04:
        return build_echo_rsp(c, pdu, len, out) < 0 ? -1 : 0;
    case 0x05:
        wire_put_bytes(out, release_rp, sizeof release_rp);
        return 0;
    default:
        return -1;
    }
}

/* Reads what is waiting and responds to every complete PDU with one write.
 * Returns -1 when the connection should close. */
static int serve_readable(connection *c)
{
    static wire_buffer out;
    size_t at = 0;
    ssize_t n = recv(c->fd, c->data + c->len, sizeof c->data - c->len, 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    c->len += (size_t)n;

    out.len = 0;
    while (c->len - at >= 6) {
        size_t pdu_len = 6 + (size_t)wire_get_be32(c->data + at + 2);

        if (pdu_len > sizeof c->data)
            return -1;
        if (c->len - at < pdu_len)
            break;
        if (out.len > BUFFER_SIZE / 2)
            return -1;          /* more pipelined requests than this responder buffers */
        if (respond_to_pdu(c, c->data + at, pdu_len, &out) != 0)
            return -1;
        at += pdu_len;
    }
    memmove(c->data, c->data + at, c->len - at);
    c->len -= at;

    if (out.len > 0 && send(c->fd, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len)
        return -1;              /* a full send buffer is not expected for these sizes */
    return 0;
}

static int open_listener(const char *port_text)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    int on = 1;
    int fd;

    if (end == port_text || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "null_scp: invalid port %s; use 1-65535\n", port_text);
        return -1;
    }
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0) {
        fprintf(stderr, "null_scp: cannot listen on 127.0.0.1 port %ld: %s\n", port,
                strerror(errno));
        return -1;
    }
    return fd;
}

static void accept_one(int epoll_fd, int listen_fd)
{
    struct epoll_event event = {.events = EPOLLIN};
    connection *c;
    int on = 1;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    c = malloc(sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->len = 0;
    c->echo_context = 0;
    event.data.ptr = c;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        close(fd);
        free(c);
    }
}

int main(int argc, char **argv)
{
    struct epoll_event events[MAX_EVENTS];
    struct epoll_event listen_event = {.events = EPOLLIN, .data.ptr = NULL};
    int listen_fd, epoll_fd;

    if (argc != 2) {
        fprintf(stderr, "usage: null_scp PORT\n");
        return 2;
    }
    listen_fd = open_listener(argv[1]);
    if (listen_fd < 0)
        return 1;
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0) {
        perror("null_scp: epoll");
        return 1;
    }

    for (;;) {
        int n = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("null_scp: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            connection *c = events[i].data.ptr;

            if (c == NULL) {
                accept_one(epoll_fd, listen_fd);
                continue;
            }
            if (serve_readable(c) != 0) {
                close(c->fd);   /* also removes it from the epoll set */
                free(c);
            }
        }
    }
}
