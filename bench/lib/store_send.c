/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Large-instance C-STORE sender in C. It costs the sending side little CPU,
 * so that on a machine with few CPUs the receiver rather than the sender
 * limits the measured rate. The data set goes from the page cache to the
 * socket by sendfile(2), and only the 12-byte PDU and PDV headers are
 * written from user space.
 *
 * Usage: store_send HOST PORT CALLED_AE FILE
 *
 * FILE is a DICOM Part 10 file. Its File Meta Information gives the SOP
 * Class, SOP Instance and Transfer Syntax UIDs. The sender opens one
 * association that proposes that SOP class with that transfer syntax, sends
 * the data set that follows the meta header as one C-STORE-RQ in P-DATA-TF
 * PDUs of the maximum length the receiver announced, waits for the
 * C-STORE-RSP, checks that its status is 0000, and releases the association.
 * PDU layouts follow PS3.8 section 9.3, the C-STORE command set PS3.7 section
 * 9.3.1. The socket sets TCP_NODELAY. HOST is a numeric IPv4 or IPv6 address.
 *
 * Prints "bytes=N seconds=S rate=R": N data set bytes, S seconds from
 * connect to the A-RELEASE-RP, R in MB/s (10^6 bytes/s). Exits 0 when the
 * instance was stored with status 0000, 1 otherwise.
 *
 * Built by bench/run.sh with the system C compiler. It uses only libc and
 * dicom_wire.h from this folder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dicom_wire.h"

#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.2"
#define PCTX_ID 1

/* Maximum length of the PDU bodies this sender accepts, enough for a C-STORE-RSP. */
#define MAX_RECEIVE 65536

/* PDU length used when the receiver announces 0 (no limit). */
#define UNLIMITED_PDU_LENGTH (4u * 1024u * 1024u)

/* Bytes of the file read to find the File Meta Information. */
#define META_READ_LIMIT 65536

#define UID_SIZE 65
#define IO_TIMEOUT_SECONDS 120

typedef struct instance_file {
    int fd;
    char sop_class[UID_SIZE];
    char sop_instance[UID_SIZE];
    char transfer_syntax[UID_SIZE];
    off_t dataset_offset;
    off_t dataset_len;
} instance_file;

/* --- building PDUs ----------------------------------------------------- */

static void build_associate_rq(wire_buffer *b, const char *called, const instance_file *in)
{
    const wire_association association = {
        .called_ae = called,
        .calling_ae = "STORESEND",
        .abstract_syntax = in->sop_class,
        .transfer_syntax = in->transfer_syntax,
        .max_pdu_length = MAX_RECEIVE,
        .implementation_class = IMPLEMENTATION_CLASS,
    };

    wire_build_associate_rq(b, &association);
}

/* The C-STORE-RQ command set in one P-DATA-TF PDU with one PDV. */
static void build_store_rq(wire_buffer *b, const instance_file *in)
{
    wire_buffer elements = {0}, command = {0};

    wire_put_uid_element(&elements, 0x00000002, in->sop_class);
    wire_put_us_element(&elements, 0x00000100, 0x0001); /* C-STORE-RQ */
    wire_put_us_element(&elements, 0x00000110, 1);      /* Message ID */
    wire_put_us_element(&elements, 0x00000700, 0);      /* Priority: medium */
    wire_put_us_element(&elements, 0x00000800, 0x0000); /* a data set follows */
    wire_put_uid_element(&elements, 0x00001000, in->sop_instance);
    wire_put_command_set(&command, &elements);
    wire_put_p_data(b, PCTX_ID, &command, 1);
    free(elements.data);
    free(command.data);
}

/* --- reading the file -------------------------------------------------- */

/* Explicit VRs whose length field is 4 bytes after 2 reserved ones (PS3.5 7.1.2). */
static int has_long_length(const uint8_t *vr)
{
    static const char *const long_vrs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                           "SV", "UC", "UN", "UR", "UT", "UV"};

    for (size_t i = 0; i < sizeof long_vrs / sizeof long_vrs[0]; i++) {
        if (memcmp(vr, long_vrs[i], 2) == 0)
            return 1;
    }
    return 0;
}

/* Copies a UI value without its trailing NUL or space padding. */
static int copy_uid(char *out, const uint8_t *value, uint32_t len)
{
    while (len > 0 && (value[len - 1] == '\0' || value[len - 1] == ' '))
        len--;
    if (len == 0 || len >= UID_SIZE)
        return -1;
    memcpy(out, value, len);
    out[len] = '\0';
    return 0;
}

/*
 * Opens FILE and walks its File Meta Information (group 0002, explicit VR
 * little endian after the 128-byte preamble and "DICM") for the three UIDs
 * and the offset where the data set starts.
 */
static int open_instance(const char *path, instance_file *in)
{
    uint8_t head[META_READ_LIMIT];
    struct stat st;
    ssize_t got;
    size_t at = 132;

    memset(in, 0, sizeof *in);
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0 || fstat(in->fd, &st) != 0) {
        fprintf(stderr, "store_send: failed to open %s: %s\n", path, strerror(errno));
        return -1;
    }
    got = pread(in->fd, head, sizeof head, 0);
    if (got < 132 || memcmp(head + 128, "DICM", 4) != 0) {
        fprintf(stderr, "store_send: %s is not a DICOM Part 10 file (no DICM prefix)\n", path);
        return -1;
    }

    while (at + 8 <= (size_t)got && wire_get_le16(head + at) == 0x0002) {
        uint16_t element = wire_get_le16(head + at + 2);
        size_t header_len = 8;
        uint32_t value_len = wire_get_le16(head + at + 6);

        if (has_long_length(head + at + 4)) {
            if (at + 12 > (size_t)got)
                break;
            header_len = 12;
            value_len = wire_get_le32(head + at + 8);
        }
        if (value_len > (size_t)got - at - header_len) {
            fprintf(stderr, "store_send: %s: File Meta Information element (0002,%04X) "
                    "runs past the first %d bytes\n", path, element, META_READ_LIMIT);
            return -1;
        }

        const uint8_t *value = head + at + header_len;
        int bad = 0;
        if (element == 0x0002)
            bad = copy_uid(in->sop_class, value, value_len);
        else if (element == 0x0003)
            bad = copy_uid(in->sop_instance, value, value_len);
        else if (element == 0x0010)
            bad = copy_uid(in->transfer_syntax, value, value_len);
        if (bad) {
            fprintf(stderr, "store_send: %s: invalid UID in (0002,%04X)\n", path, element);
            return -1;
        }
        at += header_len + value_len;
    }

    if (in->sop_class[0] == '\0' || in->sop_instance[0] == '\0' ||
        in->transfer_syntax[0] == '\0') {
        fprintf(stderr, "store_send: %s: File Meta Information lacks (0002,0002), (0002,0003) "
                "or (0002,0010)\n", path);
        return -1;
    }
    in->dataset_offset = (off_t)at;
    in->dataset_len = st.st_size - (off_t)at;
    if (in->dataset_len <= 0) {
        fprintf(stderr, "store_send: %s has no data set after its File Meta Information\n",
                path);
        return -1;
    }
    return 0;
}

/* --- the socket -------------------------------------------------------- */

/* Sends len bytes of file_fd from *offset, which advances. */
static int sendfile_all(int sock, int file_fd, off_t *offset, size_t len)
{
    while (len > 0) {
        ssize_t n = sendfile(sock, file_fd, offset, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one PDU into body (at most MAX_RECEIVE bytes); returns its type, or -1. */
static int read_pdu(int fd, uint8_t *body, uint32_t *len)
{
    uint8_t type;

    if (wire_read_pdu_header(fd, &type, len) != 0)
        return -1;
    if (*len > MAX_RECEIVE) {
        fprintf(stderr, "store_send: PDU of type %02X with %u bytes is longer than %d\n",
                type, *len, MAX_RECEIVE);
        return -1;
    }
    if (wire_recv_all(fd, body, *len) != 0)
        return -1;
    return type;
}

/*
 * Sends the data set as data PDVs, one per P-DATA-TF PDU of at most
 * max_pdu body bytes. The headers go with MSG_MORE so that each header and
 * its payload leave together.
 */
static int send_dataset(int sock, const instance_file *in, uint32_t max_pdu)
{
    size_t payload_max = (size_t)max_pdu - 6;
    off_t offset = in->dataset_offset;
    off_t left = in->dataset_len;

    while (left > 0) {
        size_t n = (off_t)payload_max < left ? payload_max : (size_t)left;
        int last = (off_t)n == left;
        uint8_t header[12];

        header[0] = 0x04;
        header[1] = 0;
        header[2] = (uint8_t)((n + 6) >> 24);
        header[3] = (uint8_t)((n + 6) >> 16);
        header[4] = (uint8_t)((n + 6) >> 8);
        header[5] = (uint8_t)(n + 6);
        header[6] = (uint8_t)((n + 2) >> 24);
        header[7] = (uint8_t)((n + 2) >> 16);
        header[8] = (uint8_t)((n + 2) >> 8);
        header[9] = (uint8_t)(n + 2);
        header[10] = PCTX_ID;
        header[11] = last ? 0x02 : 0x00; /* a data set PDV, marked last on the final one */

        if (wire_send_all(sock, header, sizeof header, MSG_MORE) != 0 ||
            sendfile_all(sock, in->fd, &offset, n) != 0) {
            fprintf(stderr, "store_send: sending the data set failed: %s\n", strerror(errno));
            return -1;
        }
        left -= (off_t)n;
    }
    return 0;
}

/*
 * Reads P-DATA-TF PDUs until the last command fragment and returns the
 * Status (0000,0900) of the C-STORE-RSP, or -1.
 */
static int read_store_status(int sock, uint8_t *body)
{
    static uint8_t command[MAX_RECEIVE];
    size_t command_len = 0;
    uint32_t len;

    for (;;) {
        int type = read_pdu(sock, body, &len);
        uint32_t offset = 0;
        wire_pdv pdv;
        int last = 0, more;

        if (type != WIRE_P_DATA_TF) {
            fprintf(stderr, "store_send: expected the C-STORE-RSP, got PDU type %d\n", type);
            return -1;
        }
        while ((more = wire_next_pdv(body, len, &offset, &pdv)) == 1) {
            if (pdv.data_len > sizeof command - command_len || !(pdv.control & 0x01))
                return -1;
            memcpy(command + command_len, pdv.data, pdv.data_len);
            command_len += pdv.data_len;
            last = pdv.control & 0x02;
        }
        if (more < 0)
            return -1;
        if (last)
            break;
    }

    return wire_command_status(command, command_len);
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    int fd;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "store_send: invalid address %s port %s\n", host, port);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        wire_configure_socket(fd, IO_TIMEOUT_SECONDS);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            fprintf(stderr, "store_send: connecting to %s port %s failed: %s\n", host, port,
                    strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

int main(int argc, char **argv)
{
    static uint8_t body[MAX_RECEIVE];
    wire_buffer rq = {0}, store = {0};
    instance_file in;
    uint32_t len, max_pdu;
    double start, seconds;
    int sock, status;

    if (argc != 5 || strlen(argv[3]) == 0 || strlen(argv[3]) > 16) {
        fprintf(stderr, "usage: store_send HOST PORT CALLED_AE FILE (CALLED_AE: 1 to 16 "
                "characters)\n");
        return 2;
    }
    if (open_instance(argv[4], &in) != 0)
        return 1;
    build_associate_rq(&rq, argv[3], &in);
    build_store_rq(&store, &in);

    start = wire_now_seconds();
    sock = connect_to(argv[1], argv[2]);
    if (sock < 0)
        return 1;

    if (wire_send_all(sock, rq.data, rq.len, 0) != 0 ||
        read_pdu(sock, body, &len) != WIRE_ASSOCIATE_AC ||
        wire_read_associate_ac(body, len, PCTX_ID, &max_pdu) != 0) {
        fprintf(stderr, "store_send: association with %s rejected, or the presentation "
                "context for %s with %s was not accepted\n", argv[3], in.sop_class,
                in.transfer_syntax);
        return 1;
    }
    if (max_pdu == 0)
        max_pdu = UNLIMITED_PDU_LENGTH;
    if (max_pdu < 7 || store.len - 6 > max_pdu) {
        fprintf(stderr, "store_send: receiver's maximum PDU length %u is too small\n", max_pdu);
        return 1;
    }

    if (wire_send_all(sock, store.data, store.len, MSG_MORE) != 0 ||
        send_dataset(sock, &in, max_pdu) != 0)
        return 1;
    status = read_store_status(sock, body);
    if (status < 0) {
        fprintf(stderr, "store_send: no valid C-STORE-RSP received\n");
        return 1;
    }
    if (status != 0) {
        fprintf(stderr, "store_send: C-STORE-RSP status %04X\n", (unsigned)status);
        return 1;
    }
    if (wire_release(sock) != 0) {
        fprintf(stderr, "store_send: no A-RELEASE-RP after the store\n");
        return 1;
    }
    seconds = wire_now_seconds() - start;
    close(sock);
    close(in.fd);

    printf("bytes=%lld seconds=%.3f rate=%.1f\n", (long long)in.dataset_len, seconds,
           (double)in.dataset_len / 1e6 / seconds);
    return 0;
}
