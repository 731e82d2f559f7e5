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
 * Built by bench/run.sh with the system C compiler; it uses only libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define APPLICATION_CONTEXT "1.2.840.10008.3.1.1.1"
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

typedef struct byte_buffer {
    uint8_t data[4096];
    size_t len;
} byte_buffer;

typedef struct instance_file {
    int fd;
    char sop_class[UID_SIZE];
    char sop_instance[UID_SIZE];
    char transfer_syntax[UID_SIZE];
    off_t dataset_offset;
    off_t dataset_len;
} instance_file;

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- building PDUs ----------------------------------------------------- */

static void put_bytes(byte_buffer *b, const void *data, size_t len)
{
    if (len > sizeof b->data - b->len) {
        fprintf(stderr, "store_send: internal buffer too small\n");
        exit(1);
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u8(byte_buffer *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_be16(byte_buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)(v >> 8));
    put_u8(b, (uint8_t)v);
}

static void put_be32(byte_buffer *b, uint32_t v)
{
    put_be16(b, (uint16_t)(v >> 16));
    put_be16(b, (uint16_t)v);
}

static void put_le16(byte_buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)v);
    put_u8(b, (uint8_t)(v >> 8));
}

static void put_le32(byte_buffer *b, uint32_t v)
{
    put_le16(b, (uint16_t)v);
    put_le16(b, (uint16_t)(v >> 16));
}

static void set_be16(byte_buffer *b, size_t at, size_t value)
{
    b->data[at] = (uint8_t)(value >> 8);
    b->data[at + 1] = (uint8_t)value;
}

static void set_be32(byte_buffer *b, size_t at, size_t value)
{
    b->data[at] = (uint8_t)(value >> 24);
    b->data[at + 1] = (uint8_t)(value >> 16);
    b->data[at + 2] = (uint8_t)(value >> 8);
    b->data[at + 3] = (uint8_t)value;
}

/* A sub-item with a text value: type, reserved byte, 16-bit length, value. */
static void put_item(byte_buffer *b, uint8_t type, const char *text)
{
    put_u8(b, type);
    put_u8(b, 0);
    put_be16(b, (uint16_t)strlen(text));
    put_bytes(b, text, strlen(text));
}

/* The 16-byte AE title field, padded with spaces. */
static void put_ae(byte_buffer *b, const char *title)
{
    char field[16];
    size_t len = strlen(title);

    memset(field, ' ', sizeof field);
    memcpy(field, title, len < sizeof field ? len : sizeof field);
    put_bytes(b, field, sizeof field);
}

static void build_associate_rq(byte_buffer *b, const char *called, const instance_file *in)
{
    static const uint8_t reserved[32];
    size_t pctx_at, user_at;

    put_u8(b, 0x01);
    put_u8(b, 0);
    put_be32(b, 0); /* PDU length, set below */
    put_be16(b, 1); /* protocol version */
    put_be16(b, 0);
    put_ae(b, called);
    put_ae(b, "STORESEND");
    put_bytes(b, reserved, sizeof reserved);
    put_item(b, 0x10, APPLICATION_CONTEXT);

    put_u8(b, 0x20);
    put_u8(b, 0);
    pctx_at = b->len;
    put_be16(b, 0);
    put_u8(b, PCTX_ID);
    put_u8(b, 0);
    put_u8(b, 0);
    put_u8(b, 0);
    put_item(b, 0x30, in->sop_class);
    put_item(b, 0x40, in->transfer_syntax);
    set_be16(b, pctx_at, b->len - pctx_at - 2);

    put_u8(b, 0x50);
    put_u8(b, 0);
    user_at = b->len;
    put_be16(b, 0);
    put_u8(b, 0x51);
    put_u8(b, 0);
    put_be16(b, 4);
    put_be32(b, MAX_RECEIVE);
    put_item(b, 0x52, IMPLEMENTATION_CLASS);
    set_be16(b, user_at, b->len - user_at - 2);

    set_be32(b, 2, b->len - 6);
}

/* One implicit VR little endian element of the command set. */
static void put_element(byte_buffer *b, uint16_t element, const void *value, uint32_t len)
{
    put_le16(b, 0x0000);
    put_le16(b, element);
    put_le32(b, len);
    put_bytes(b, value, len);
}

/* A UID value padded with one NUL to even length. */
static void put_uid_element(byte_buffer *b, uint16_t element, const char *uid)
{
    char value[UID_SIZE + 1];
    size_t len = strlen(uid);

    memcpy(value, uid, len);
    value[len] = '\0';
    put_element(b, element, value, (uint32_t)(len + (len & 1)));
}

static void put_us_element(byte_buffer *b, uint16_t element, uint16_t value)
{
    uint8_t bytes[2] = {(uint8_t)value, (uint8_t)(value >> 8)};

    put_element(b, element, bytes, 2);
}

/* The C-STORE-RQ command set in one P-DATA-TF PDU with one PDV. */
static void build_store_rq(byte_buffer *b, const instance_file *in)
{
    byte_buffer rest = {.len = 0};
    uint8_t group_length[4];

    put_uid_element(&rest, 0x0002, in->sop_class);
    put_us_element(&rest, 0x0100, 0x0001); /* C-STORE-RQ */
    put_us_element(&rest, 0x0110, 1);      /* Message ID */
    put_us_element(&rest, 0x0700, 0);      /* Priority: medium */
    put_us_element(&rest, 0x0800, 0x0000); /* a data set follows */
    put_uid_element(&rest, 0x1000, in->sop_instance);
    group_length[0] = (uint8_t)rest.len;
    group_length[1] = (uint8_t)(rest.len >> 8);
    group_length[2] = (uint8_t)(rest.len >> 16);
    group_length[3] = (uint8_t)(rest.len >> 24);

    put_u8(b, 0x04);
    put_u8(b, 0);
    put_be32(b, (uint32_t)(4 + 2 + 12 + rest.len));
    put_be32(b, (uint32_t)(2 + 12 + rest.len)); /* PDV item length */
    put_u8(b, PCTX_ID);
    put_u8(b, 0x03); /* command, last fragment */
    put_element(b, 0x0000, group_length, 4);
    put_bytes(b, rest.data, rest.len);
}

/* --- reading the file -------------------------------------------------- */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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

    while (at + 8 <= (size_t)got && le16(head + at) == 0x0002) {
        uint16_t element = le16(head + at + 2);
        size_t header_len = 8;
        uint32_t value_len = le16(head + at + 6);

        if (has_long_length(head + at + 4)) {
            if (at + 12 > (size_t)got)
                break;
            header_len = 12;
            value_len = le32(head + at + 8);
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

static int send_all(int fd, const uint8_t *data, size_t len, int flags)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | flags);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

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

/* Reads one PDU into body (at most MAX_RECEIVE bytes); returns its type, or -1. */
static int read_pdu(int fd, uint8_t *body, uint32_t *len)
{
    uint8_t header[6];

    if (recv_all(fd, header, sizeof header) != 0)
        return -1;
    *len = (uint32_t)header[2] << 24 | (uint32_t)header[3] << 16 | (uint32_t)header[4] << 8 |
           header[5];
    if (*len > MAX_RECEIVE) {
        fprintf(stderr, "store_send: PDU of type %02X with %u bytes is longer than %d\n",
                header[0], *len, MAX_RECEIVE);
        return -1;
    }
    if (recv_all(fd, body, *len) != 0)
        return -1;
    return header[0];
}

/*
 * Checks the A-ASSOCIATE-AC body: the presentation context must be
 * accepted. Sets *max_pdu to the receiver's Maximum Length Received.
 */
static int read_associate_ac(const uint8_t *body, uint32_t len, uint32_t *max_pdu)
{
    uint32_t offset = 68; /* protocol version, reserved, two AE titles, 32 reserved */
    int accepted = 0;

    *max_pdu = 0;
    while (offset + 4 <= len) {
        uint8_t type = body[offset];
        uint32_t item_len = (uint32_t)body[offset + 2] << 8 | body[offset + 3];

        if (item_len > len - offset - 4)
            return -1;
        if (type == 0x21 && item_len >= 4 && body[offset + 4] == PCTX_ID)
            accepted = body[offset + 6] == 0;
        if (type == 0x50) {
            uint32_t sub = offset + 4, end = offset + 4 + item_len;

            while (sub + 4 <= end) {
                uint32_t sub_len = (uint32_t)body[sub + 2] << 8 | body[sub + 3];

                if (sub_len > end - sub - 4)
                    return -1;
                if (body[sub] == 0x51 && sub_len == 4)
                    *max_pdu = (uint32_t)body[sub + 4] << 24 | (uint32_t)body[sub + 5] << 16 |
                               (uint32_t)body[sub + 6] << 8 | body[sub + 7];
                sub += 4 + sub_len;
            }
        }
        offset += 4 + item_len;
    }
    return accepted ? 0 : -1;
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

        if (send_all(sock, header, sizeof header, MSG_MORE) != 0 ||
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
        int last = 0;

        if (type != 0x04) {
            fprintf(stderr, "store_send: expected the C-STORE-RSP, got PDU type %d\n", type);
            return -1;
        }
        while (offset + 6 <= len) {
            uint32_t item_len = (uint32_t)body[offset] << 24 | (uint32_t)body[offset + 1] << 16 |
                                (uint32_t)body[offset + 2] << 8 | body[offset + 3];
            uint8_t control = body[offset + 5];

            if (item_len < 2 || item_len > len - offset - 4 ||
                item_len - 2 > sizeof command - command_len || !(control & 0x01))
                return -1;
            memcpy(command + command_len, body + offset + 6, item_len - 2);
            command_len += item_len - 2;
            last = control & 0x02;
            offset += 4 + item_len;
        }
        if (last)
            break;
    }

    for (size_t at = 0; at + 8 <= command_len;) {
        uint16_t group = le16(command + at);
        uint16_t element = le16(command + at + 2);
        uint32_t value_len = le32(command + at + 4);

        if (value_len > command_len - at - 8)
            return -1;
        if (group == 0 && element == 0x0900 && value_len == 2)
            return le16(command + at + 8);
        at += 8 + value_len;
    }
    return -1;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    struct timeval timeout = {.tv_sec = IO_TIMEOUT_SECONDS};
    int one = 1, fd;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "store_send: invalid address %s port %s\n", host, port);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
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
    static const uint8_t release_rq[10] = {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    static uint8_t body[MAX_RECEIVE];
    byte_buffer rq = {.len = 0}, store = {.len = 0};
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

    start = now_seconds();
    sock = connect_to(argv[1], argv[2]);
    if (sock < 0)
        return 1;

    if (send_all(sock, rq.data, rq.len, 0) != 0 || read_pdu(sock, body, &len) != 0x02 ||
        read_associate_ac(body, len, &max_pdu) != 0) {
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

    if (send_all(sock, store.data, store.len, MSG_MORE) != 0 ||
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
    if (send_all(sock, release_rq, sizeof release_rq, 0) != 0 ||
        read_pdu(sock, body, &len) != 0x06) {
        fprintf(stderr, "store_send: no A-RELEASE-RP after the store\n");
        return 1;
    }
    seconds = now_seconds() - start;
    close(sock);
    close(in.fd);

    printf("bytes=%lld seconds=%.3f rate=%.1f\n", (long long)in.dataset_len, seconds,
           (double)in.dataset_len / 1e6 / seconds);
    return 0;
}
