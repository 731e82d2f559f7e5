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
 * Built by bench/run.sh with the system C compiler. It uses only libc and
 * dicom_wire.h from this folder.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dicom_wire.h"

#define VERIFICATION "1.2.840.10008.1.1"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.1"
#define MAX_PDU_BODY 65536

static void build_associate_rq(wire_buffer *b, const char *called)
{
    const wire_association association = {
        .called_ae = called,
        .calling_ae = "BENCHRAW",
        .abstract_syntax = VERIFICATION,
        .transfer_syntax = IMPLICIT_LE,
        .max_pdu_length = 16384,
        .implementation_class = IMPLEMENTATION_CLASS,
    };

    wire_build_associate_rq(b, &association);
}

static void build_echo_rq(wire_buffer *b)
{
    wire_buffer elements = {0}, command = {0};

    wire_put_uid_element(&elements, 0x00000002, VERIFICATION);
    wire_put_us_element(&elements, 0x00000100, 0x0030); /* C-ECHO-RQ */
    wire_put_us_element(&elements, 0x00000110, 1);      /* Message ID */
    wire_put_us_element(&elements, 0x00000800, 0x0101); /* no data set */
    wire_put_command_set(&command, &elements);
    wire_put_p_data(b, 1, &command, 1);
    free(elements.data);
    free(command.data);
}

/* Status (0000,0900) of a C-ECHO-RSP in the first PDV of a P-DATA-TF body, or -1. */
static int echo_status(const uint8_t *body, uint32_t len)
{
    if (len < 6)
        return -1;
    return wire_command_status(body + 6, len - 6);
}

static int one_association(const struct addrinfo *ai, const wire_buffer *rq,
                           const wire_buffer *echo)
{
    static uint8_t body[MAX_PDU_BODY];
    uint32_t len, max_pdu_length;
    int ok = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return 0;
    wire_configure_socket(fd, 10);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        goto out;

    if (wire_send_all(fd, rq->data, rq->len, 0) != 0 ||
        wire_read_pdu(fd, body, sizeof body, &len) != WIRE_ASSOCIATE_AC ||
        wire_read_associate_ac(body, len, 1, &max_pdu_length) != 0)
        goto out;
    if (wire_send_all(fd, echo->data, echo->len, 0) != 0 ||
        wire_read_pdu(fd, body, sizeof body, &len) != WIRE_P_DATA_TF || echo_status(body, len) != 0)
        goto out;
    if (wire_release(fd) != 0)
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
    wire_buffer rq = {0}, echo = {0};
    long ok = 0, failed = 0;
    char line[64];
    int n;

    build_associate_rq(&rq, called);
    build_echo_rq(&echo);
    for (long i = 0; i < count && wire_now_seconds() < deadline; i++) {
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

    start = wire_now_seconds();
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
    double elapsed = wire_now_seconds() - start;

    printf("ok=%ld failed=%ld seconds=%.3f rate=%.1f\n", ok, failed, elapsed, ok / elapsed);
    freeaddrinfo(ai);
    return 0;
}
