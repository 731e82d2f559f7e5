/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Association rate client in C, the same exchange as echo_client.py at a
 * small fraction of its CPU cost per association, so that on a machine
 * with few CPUs the server rather than the client limits the rate.
 *
 * Usage: echo_rate HOST PORT CALLED_AE CLIENTS COUNT SECONDS
 *
 * CLIENTS forked processes each run at most COUNT associations and stop at
 * the SECONDS deadline. Each association sends A-ASSOCIATE-RQ with one
 * presentation context (Verification, Implicit VR Little Endian), one
 * C-ECHO-RQ, then A-RELEASE-RQ, and counts as done only when the context
 * was accepted, the C-ECHO-RSP status is 0000 and A-RELEASE-RP arrived.
 * PDU layouts follow PS3.8 section 9.3, the command set PS3.7 section
 * 9.3.5. Sockets set TCP_NODELAY. HOST is a numeric IPv4 or IPv6 address.
 * Prints "ok=N failed=N seconds=S rate=R" (R in associations/s).
 *
 * Built by bench/run.sh with the system C compiler; it uses only libc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERIFICATION "1.2.840.10008.1.1"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define APPLICATION_CONTEXT "1.2.840.10008.3.1.1.1"
#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.1"
#define MAX_PDU_BODY 65536

typedef struct pdu_buffer {
    uint8_t data[1024];
    size_t len;
} pdu_buffer;

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_bytes(pdu_buffer *b, const void *data, size_t len)
{
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u8(pdu_buffer *b, uint8_t v)
{
    b->data[b->len++] = v;
}

static void put_be16(pdu_buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)(v >> 8));
    put_u8(b, (uint8_t)v);
}

static void put_be32(pdu_buffer *b, uint32_t v)
{
    put_be16(b, (uint16_t)(v >> 16));
    put_be16(b, (uint16_t)v);
}

static void put_le16(pdu_buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)v);
    put_u8(b, (uint8_t)(v >> 8));
}

static void put_le32(pdu_buffer *b, uint32_t v)
{
    put_le16(b, (uint16_t)v);
    put_le16(b, (uint16_t)(v >> 16));
}

/* A sub-item: type, reserved byte, 16-bit length, text value. */
static void put_item(pdu_buffer *b, uint8_t type, const char *text)
{
    put_u8(b, type);
    put_u8(b, 0);
    put_be16(b, (uint16_t)strlen(text));
    put_bytes(b, text, strlen(text));
}

/* Writes the 16-byte AE title field, padded with spaces. */
static void put_ae(pdu_buffer *b, const char *title)
{
    char field[16];
    size_t len = strlen(title);

    memset(field, ' ', sizeof field);
    memcpy(field, title, len < sizeof field ? len : sizeof field);
    put_bytes(b, field, sizeof field);
}

static void build_associate_rq(pdu_buffer *b, const char *called)
{
    size_t length_at, pctx_at, user_at;
    uint8_t reserved[32] = {0};

    put_u8(b, 0x01);
    put_u8(b, 0);
    length_at = b->len;
    put_be32(b, 0);
    put_be16(b, 1); /* protocol version */
    put_be16(b, 0);
    put_ae(b, called);
    put_ae(b, "BENCHRAW");
    put_bytes(b, reserved, sizeof reserved);
    put_item(b, 0x10, APPLICATION_CONTEXT);

    put_u8(b, 0x20);
    put_u8(b, 0);
    pctx_at = b->len;
    put_be16(b, 0);
    put_u8(b, 1); /* presentation context ID */
    put_u8(b, 0);
    put_u8(b, 0);
    put_u8(b, 0);
    put_item(b, 0x30, VERIFICATION);
    put_item(b, 0x40, IMPLICIT_LE);
    b->data[pctx_at] = (uint8_t)((b->len - pctx_at - 2) >> 8);
    b->data[pctx_at + 1] = (uint8_t)(b->len - pctx_at - 2);

    put_u8(b, 0x50);
    put_u8(b, 0);
    user_at = b->len;
    put_be16(b, 0);
    put_u8(b, 0x51);
    put_u8(b, 0);
    put_be16(b, 4);
    put_be32(b, 16384);
    put_item(b, 0x52, IMPLEMENTATION_CLASS);
    b->data[user_at] = (uint8_t)((b->len - user_at - 2) >> 8);
    b->data[user_at + 1] = (uint8_t)(b->len - user_at - 2);

    uint32_t body = (uint32_t)(b->len - length_at - 4);
    b->data[length_at] = (uint8_t)(body >> 24);
    b->data[length_at + 1] = (uint8_t)(body >> 16);
    b->data[length_at + 2] = (uint8_t)(body >> 8);
    b->data[length_at + 3] = (uint8_t)body;
}

/* One implicit VR little endian element of the command set. */
static void put_element(pdu_buffer *b, uint16_t element, const void *value, uint32_t len)
{
    put_le16(b, 0x0000);
    put_le16(b, element);
    put_le32(b, len);
    put_bytes(b, value, len);
}

static void build_echo_rq(pdu_buffer *b)
{
    static const char uid[] = VERIFICATION "\0"; /* padded to even length */
    pdu_buffer rest = {.len = 0};
    uint16_t field = 0x0030, message_id = 1, no_dataset = 0x0101;
    uint32_t group_length;

    put_element(&rest, 0x0002, uid, (uint32_t)(sizeof uid - 1));
    put_element(&rest, 0x0100, &field, 2);
    put_element(&rest, 0x0110, &message_id, 2);
    put_element(&rest, 0x0800, &no_dataset, 2);
    group_length = (uint32_t)rest.len;

    put_u8(b, 0x04);
    put_u8(b, 0);
    put_be32(b, (uint32_t)(4 + 2 + 12 + rest.len));
    put_be32(b, (uint32_t)(2 + 12 + rest.len)); /* PDV item length */
    put_u8(b, 1);                                /* presentation context ID */
    put_u8(b, 0x03);                             /* command, last fragment */
    put_element(b, 0x0000, &group_length, 4);
    put_bytes(b, rest.data, rest.len);
}

static int send_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int fd, uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = recv(fd, data, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one PDU; returns its type, or -1. body holds at most MAX_PDU_BODY bytes. */
static int read_pdu(int fd, uint8_t *body, uint32_t *len)
{
    uint8_t header[6];

    if (recv_all(fd, header, sizeof header) != 0)
        return -1;
    *len = (uint32_t)header[2] << 24 | (uint32_t)header[3] << 16 | (uint32_t)header[4] << 8 |
           header[5];
    if (*len > MAX_PDU_BODY || recv_all(fd, body, *len) != 0)
        return -1;
    return header[0];
}

/* True when the A-ASSOCIATE-AC body accepts presentation context 1. */
static int context_accepted(const uint8_t *body, uint32_t len)
{
    uint32_t offset = 68;

    while (offset + 4 <= len) {
        uint32_t item_len = (uint32_t)body[offset + 2] << 8 | body[offset + 3];

        if (body[offset] == 0x21 && offset + 8 <= len && body[offset + 4] == 1)
            return body[offset + 7] == 0;
        offset += 4 + item_len;
    }
    return 0;
}

/* Status (0000,0900) of a C-ECHO-RSP in one PDV, or -1. */
static int echo_status(const uint8_t *body, uint32_t len)
{
    uint32_t offset = 6;

    while (offset + 8 <= len) {
        uint16_t group = (uint16_t)(body[offset] | body[offset + 1] << 8);
        uint16_t element = (uint16_t)(body[offset + 2] | body[offset + 3] << 8);
        uint32_t value_len = (uint32_t)body[offset + 4] | (uint32_t)body[offset + 5] << 8 |
                             (uint32_t)body[offset + 6] << 16 | (uint32_t)body[offset + 7] << 24;

        if (group == 0 && element == 0x0900 && value_len == 2 && offset + 10 <= len)
            return body[offset + 8] | body[offset + 9] << 8;
        if (value_len > len - offset - 8)
            return -1;
        offset += 8 + value_len;
    }
    return -1;
}

static int one_association(const struct addrinfo *ai, const pdu_buffer *rq,
                           const pdu_buffer *echo)
{
    static const uint8_t release_rq[10] = {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    static uint8_t body[MAX_PDU_BODY];
    struct timeval timeout = {.tv_sec = 10};
    uint32_t len;
    int one = 1, ok = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        goto out;

    if (send_all(fd, rq->data, rq->len) != 0 || read_pdu(fd, body, &len) != 0x02 ||
        !context_accepted(body, len))
        goto out;
    if (send_all(fd, echo->data, echo->len) != 0 || read_pdu(fd, body, &len) != 0x04 ||
        echo_status(body, len) != 0)
        goto out;
    if (send_all(fd, release_rq, sizeof release_rq) != 0 || read_pdu(fd, body, &len) != 0x06)
        goto out;
    ok = 1;

out:
    close(fd);
    return ok;
}

/* One client process: writes "ok failed" to the pipe. */
static void run_client(const struct addrinfo *ai, const char *called, long count,
                       double deadline, int out_fd)
{
    pdu_buffer rq = {.len = 0}, echo = {.len = 0};
    long ok = 0, failed = 0;
    char line[64];
    int n;

    build_associate_rq(&rq, called);
    build_echo_rq(&echo);
    for (long i = 0; i < count && now_seconds() < deadline; i++) {
        if (one_association(ai, &rq, &echo))
            ok++;
        else
            failed++;
    }
    n = snprintf(line, sizeof line, "%ld %ld\n", ok, failed);
    if (write(out_fd, line, (size_t)n) != n)
        _exit(1);
    _exit(0);
}

int main(int argc, char **argv)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    long clients, count, ok = 0, failed = 0;
    double seconds, start;
    int pipe_fd[2];
    FILE *results;

    if (argc != 7) {
        fprintf(stderr, "usage: echo_rate HOST PORT CALLED_AE CLIENTS COUNT SECONDS\n");
        return 2;
    }
    clients = strtol(argv[4], NULL, 10);
    count = strtol(argv[5], NULL, 10);
    seconds = strtod(argv[6], NULL);
    if (clients < 1 || clients > 256 || count < 1 || seconds <= 0 || strlen(argv[3]) > 16) {
        fprintf(stderr, "echo_rate: CLIENTS must be 1..256, COUNT and SECONDS positive, "
                "CALLED_AE at most 16 characters\n");
        return 2;
    }
    if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
        fprintf(stderr, "echo_rate: invalid address %s port %s\n", argv[1], argv[2]);
        return 2;
    }
    if (pipe(pipe_fd) != 0) {
        perror("echo_rate: pipe");
        return 1;
    }

    start = now_seconds();
    for (long i = 0; i < clients; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("echo_rate: fork");
            return 1;
        }
        if (pid == 0) {
            close(pipe_fd[0]);
            run_client(ai, argv[3], count, start + seconds, pipe_fd[1]);
        }
    }
    close(pipe_fd[1]);
    results = fdopen(pipe_fd[0], "r");
    for (long i = 0; i < clients && results != NULL; i++) {
        long client_ok, client_failed;

        if (fscanf(results, "%ld %ld", &client_ok, &client_failed) != 2)
            break;
        ok += client_ok;
        failed += client_failed;
    }
    while (wait(NULL) > 0)
        ;
    double elapsed = now_seconds() - start;

    printf("ok=%ld failed=%ld seconds=%.3f rate=%.1f\n", ok, failed, elapsed, ok / elapsed);
    freeaddrinfo(ai);
    return 0;
}
