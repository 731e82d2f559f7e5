/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C-FIND latency client in C. It sends the same requests as qr_client.py's
 * find mode but spends a few microseconds per response instead of tens, so
 * the measured round trip is the server's and not the client's.
 *
 * Usage: find_rate HOST PORT CALLED_AE LEVEL WARMUP COUNT SECONDS KEY=VALUE...
 *
 * Opens one association with one presentation context (Study Root Query/
 * Retrieve FIND, Implicit VR Little Endian). Sends WARMUP untimed C-FIND
 * requests, then at most COUNT timed ones, one after the other and each
 * with the same identifier, and stops early when SECONDS run out. A round trip runs from
 * sending the request to reading the final response, every pending response
 * and its identifier read. LEVEL is STUDY, SERIES or IMAGE. KEY is one of
 * the attribute keywords in the table below or a tag written as GGGGEEEE in
 * hex. The identifier also carries the level's usual return keys, empty.
 * Prints "ok=N failed=N matches=N median_ms=M p99_ms=P min_ms=A max_ms=B",
 * where matches counts the pending responses of the last request; a request
 * whose pending count differs from the first one's counts as failed.
 *
 * PDU layouts follow PS3.8 section 9.3, the C-FIND command set PS3.7
 * section 9.1.2 and 9.3.2. The socket sets TCP_NODELAY. HOST is a numeric
 * IPv4 or IPv6 address. Built by bench/run_qr.sh with the system C
 * compiler; it uses only libc.
 */
#define _GNU_SOURCE
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
#include <time.h>
#include <unistd.h>

#define FIND_STUDY_ROOT "1.2.840.10008.5.1.4.1.2.2.1"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define APPLICATION_CONTEXT "1.2.840.10008.3.1.1.1"
#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.1"
#define MAX_PDU_BODY (1u << 20) /* the maximum PDU length this client offers */
#define MAX_COMMAND 65536       /* a response command set longer than this is invalid */
#define MAX_ELEMENTS 64
#define MAX_REQUESTS 1000000

typedef struct buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
} buffer;

typedef struct keyword {
    const char *name;
    uint32_t tag;
} keyword;

typedef struct query_element {
    uint32_t tag;
    const char *value;
} query_element;

static const keyword KEYWORDS[] = {
    {"SpecificCharacterSet", 0x00080005}, {"SOPClassUID", 0x00080016},
    {"SOPInstanceUID", 0x00080018},       {"StudyDate", 0x00080020},
    {"StudyTime", 0x00080030},            {"AccessionNumber", 0x00080050},
    {"ModalitiesInStudy", 0x00080061},    {"Modality", 0x00080060},
    {"StudyDescription", 0x00081030},     {"SeriesDescription", 0x0008103E},
    {"PatientName", 0x00100010},          {"PatientID", 0x00100020},
    {"PatientBirthDate", 0x00100030},     {"PatientSex", 0x00100040},
    {"StudyInstanceUID", 0x0020000D},     {"SeriesInstanceUID", 0x0020000E},
    {"StudyID", 0x00200010},              {"SeriesNumber", 0x00200011},
    {"InstanceNumber", 0x00200013},
};

/* The empty return keys of each level, the same as qr_client.py's. */
static const uint32_t STUDY_KEYS[] = {0x00080020, 0x00080030, 0x00080050, 0x00081030,
                                      0x00100010, 0x00100020, 0x0020000D, 0x00200010, 0};
static const uint32_t SERIES_KEYS[] = {0x00080060, 0x0020000D, 0x0020000E, 0x00200011, 0};
static const uint32_t IMAGE_KEYS[] = {0x00080016, 0x00080018, 0x0020000D, 0x0020000E,
                                      0x00200013, 0};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_bytes(buffer *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (b->data == NULL) {
            perror("find_rate: realloc");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u8(buffer *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_be16(buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)(v >> 8));
    put_u8(b, (uint8_t)v);
}

static void put_be32(buffer *b, uint32_t v)
{
    put_be16(b, (uint16_t)(v >> 16));
    put_be16(b, (uint16_t)v);
}

static void put_le16(buffer *b, uint16_t v)
{
    put_u8(b, (uint8_t)v);
    put_u8(b, (uint8_t)(v >> 8));
}

static void put_le32(buffer *b, uint32_t v)
{
    put_le16(b, (uint16_t)v);
    put_le16(b, (uint16_t)(v >> 16));
}

static void set_be16(buffer *b, size_t at, size_t v)
{
    b->data[at] = (uint8_t)(v >> 8);
    b->data[at + 1] = (uint8_t)v;
}

static void set_be32(buffer *b, size_t at, size_t v)
{
    set_be16(b, at, v >> 16);
    set_be16(b, at + 2, v & 0xFFFF);
}

/* A sub-item of A-ASSOCIATE-RQ: type, reserved byte, 16-bit length, text. */
static void put_item(buffer *b, uint8_t type, const char *text)
{
    put_u8(b, type);
    put_u8(b, 0);
    put_be16(b, (uint16_t)strlen(text));
    put_bytes(b, text, strlen(text));
}

/* Writes a 16-byte AE title field, padded with spaces. */
static void put_ae(buffer *b, const char *title)
{
    char field[16];
    size_t len = strlen(title);

    memset(field, ' ', sizeof field);
    memcpy(field, title, len < sizeof field ? len : sizeof field);
    put_bytes(b, field, sizeof field);
}

static void build_associate_rq(buffer *b, const char *called)
{
    uint8_t reserved[32] = {0};
    size_t length_at, context_at, user_at;

    put_u8(b, 0x01);
    put_u8(b, 0);
    length_at = b->len;
    put_be32(b, 0);
    put_be16(b, 1); /* protocol version */
    put_be16(b, 0);
    put_ae(b, called);
    put_ae(b, "BENCHFIND");
    put_bytes(b, reserved, sizeof reserved);
    put_item(b, 0x10, APPLICATION_CONTEXT);

    put_u8(b, 0x20);
    put_u8(b, 0);
    context_at = b->len;
    put_be16(b, 0);
    put_u8(b, 1); /* presentation context ID */
    put_u8(b, 0);
    put_u8(b, 0);
    put_u8(b, 0);
    put_item(b, 0x30, FIND_STUDY_ROOT);
    put_item(b, 0x40, IMPLICIT_LE);
    set_be16(b, context_at, b->len - context_at - 2);

    put_u8(b, 0x50);
    put_u8(b, 0);
    user_at = b->len;
    put_be16(b, 0);
    put_u8(b, 0x51);
    put_u8(b, 0);
    put_be16(b, 4);
    put_be32(b, MAX_PDU_BODY);
    put_item(b, 0x52, IMPLEMENTATION_CLASS);
    set_be16(b, user_at, b->len - user_at - 2);

    set_be32(b, length_at, b->len - length_at - 4);
}

/* One implicit VR little endian element: tag, 32-bit length, value. */
static void put_element(buffer *b, uint32_t tag, const void *value, uint32_t len)
{
    put_le16(b, (uint16_t)(tag >> 16));
    put_le16(b, (uint16_t)tag);
    put_le32(b, len);
    put_bytes(b, value, len);
}

/* A text value padded to even length: UIDs with NUL, the rest with a space. */
static void put_text_element(buffer *b, uint32_t tag, const char *value)
{
    int is_uid = tag == 0x00080016 || tag == 0x00080018 || tag == 0x0020000D ||
                 tag == 0x0020000E;
    size_t len = strlen(value);

    put_le16(b, (uint16_t)(tag >> 16));
    put_le16(b, (uint16_t)tag);
    put_le32(b, (uint32_t)(len + len % 2));
    put_bytes(b, value, len);
    if (len % 2)
        put_u8(b, is_uid ? 0 : ' ');
}

/* Adds or replaces one element of the identifier. Returns -1 when the list is full. */
static int set_query_element(query_element *list, size_t *count, uint32_t tag,
                             const char *value)
{
    for (size_t i = 0; i < *count; i++) {
        if (list[i].tag == tag) {
            list[i].value = value;
            return 0;
        }
    }
    if (*count == MAX_ELEMENTS)
        return -1;
    list[*count].tag = tag;
    list[*count].value = value;
    (*count)++;
    return 0;
}

static int compare_elements(const void *a, const void *b)
{
    uint32_t x = ((const query_element *)a)->tag, y = ((const query_element *)b)->tag;

    return x < y ? -1 : x > y;
}

/* Returns the tag of KEYWORD or of a GGGGEEEE hex tag, or 0 when unknown. */
static uint32_t parse_tag(const char *name)
{
    char *end;
    unsigned long tag;

    for (size_t i = 0; i < sizeof KEYWORDS / sizeof KEYWORDS[0]; i++)
        if (strcmp(KEYWORDS[i].name, name) == 0)
            return KEYWORDS[i].tag;
    if (strlen(name) != 8)
        return 0;
    tag = strtoul(name, &end, 16);
    return *end == '\0' ? (uint32_t)tag : 0;
}

/* Encodes the identifier of LEVEL with the KEY=VALUE arguments, in tag order. */
static int build_identifier(buffer *b, const char *level, char **keys, int key_count)
{
    const uint32_t *returns;
    query_element list[MAX_ELEMENTS];
    size_t count = 0;
    int non_ascii = 0;

    if (strcmp(level, "STUDY") == 0)
        returns = STUDY_KEYS;
    else if (strcmp(level, "SERIES") == 0)
        returns = SERIES_KEYS;
    else if (strcmp(level, "IMAGE") == 0)
        returns = IMAGE_KEYS;
    else {
        fprintf(stderr, "find_rate: invalid level %s, expected STUDY, SERIES or IMAGE\n", level);
        return -1;
    }

    set_query_element(list, &count, 0x00080052, level);
    for (size_t i = 0; returns[i] != 0; i++)
        set_query_element(list, &count, returns[i], "");
    for (int i = 0; i < key_count; i++) {
        char *equals = strchr(keys[i], '=');
        uint32_t tag;

        if (equals == NULL) {
            fprintf(stderr, "find_rate: invalid key %s, expected KEY=VALUE\n", keys[i]);
            return -1;
        }
        *equals = '\0';
        tag = parse_tag(keys[i]);
        if (tag == 0) {
            fprintf(stderr, "find_rate: unknown key %s, expected a keyword or a GGGGEEEE tag\n", keys[i]);
            return -1;
        }
        if (set_query_element(list, &count, tag, equals + 1) != 0) {
            fprintf(stderr, "find_rate: too many keys, the maximum is %d\n", MAX_ELEMENTS);
            return -1;
        }
        for (const char *c = equals + 1; *c; c++)
            non_ascii |= (unsigned char)*c > 127;
    }
    if (non_ascii)
        set_query_element(list, &count, 0x00080005, "ISO_IR 192");

    qsort(list, count, sizeof list[0], compare_elements);
    for (size_t i = 0; i < count; i++)
        put_text_element(b, list[i].tag, list[i].value);
    return 0;
}

/* Wraps PAYLOAD in a P-DATA-TF with one PDV of context 1, last fragment. */
static void put_p_data(buffer *b, const buffer *payload, int is_command)
{
    put_u8(b, 0x04);
    put_u8(b, 0);
    put_be32(b, (uint32_t)(payload->len + 6));
    put_be32(b, (uint32_t)(payload->len + 2));
    put_u8(b, 1);
    put_u8(b, is_command ? 0x03 : 0x02);
    put_bytes(b, payload->data, payload->len);
}

/* Encodes C-FIND-RQ number MESSAGE_ID and its identifier as two P-DATA-TF PDUs. */
static void build_find_rq(buffer *b, const buffer *identifier, uint16_t message_id)
{
    static const char uid[] = FIND_STUDY_ROOT "\0"; /* padded to even length */
    buffer rest = {0}, command = {0};
    uint16_t field = 0x0020, priority = 0, dataset_present = 0x0000;
    uint32_t group_length;

    put_element(&rest, 0x00000002, uid, (uint32_t)(sizeof uid - 1));
    put_element(&rest, 0x00000100, &field, 2);
    put_element(&rest, 0x00000110, &message_id, 2);
    put_element(&rest, 0x00000700, &priority, 2);
    put_element(&rest, 0x00000800, &dataset_present, 2);
    group_length = (uint32_t)rest.len;
    put_element(&command, 0x00000000, &group_length, 4);
    put_bytes(&command, rest.data, rest.len);

    b->len = 0;
    put_p_data(b, &command, 1);
    put_p_data(b, identifier, 0);
    free(rest.data);
    free(command.data);
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

/* Reads one PDU into body (MAX_PDU_BODY bytes). Returns its type, or -1 on failure. */
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

/* The Status (0000,0900) of a complete command set, or -1 when absent. */
static int command_status(const uint8_t *command, size_t len)
{
    size_t offset = 0;

    while (offset + 8 <= len) {
        uint16_t group = (uint16_t)(command[offset] | command[offset + 1] << 8);
        uint16_t element = (uint16_t)(command[offset + 2] | command[offset + 3] << 8);
        uint32_t value_len = (uint32_t)command[offset + 4] | (uint32_t)command[offset + 5] << 8 |
                             (uint32_t)command[offset + 6] << 16 |
                             (uint32_t)command[offset + 7] << 24;

        if (value_len > len - offset - 8)
            return -1;
        if (group == 0 && element == 0x0900 && value_len == 2)
            return command[offset + 8] | command[offset + 9] << 8;
        offset += 8 + value_len;
    }
    return -1;
}

/*
 * Reads the responses to one C-FIND-RQ up to the final one. Stores the
 * number of pending responses (status FF00 or FF01) in *pending and
 * returns the final status, or -1 when the association failed. Identifier
 * fragments are read and dropped.
 */
static int read_responses(int fd, uint8_t *body, long *pending)
{
    static uint8_t command[MAX_COMMAND];
    size_t command_len = 0;
    uint32_t len;

    *pending = 0;
    for (;;) {
        uint32_t offset = 0;
        int type = read_pdu(fd, body, &len);

        if (type != 0x04) {
            fprintf(stderr, "find_rate: PDU type %d instead of P-DATA-TF\n", type);
            return -1;
        }
        while (offset + 6 <= len) {
            uint32_t pdv_len = (uint32_t)body[offset] << 24 | (uint32_t)body[offset + 1] << 16 |
                               (uint32_t)body[offset + 2] << 8 | body[offset + 3];
            uint8_t control = body[offset + 5];
            uint32_t data_len;
            int status;

            if (pdv_len < 2 || pdv_len > len - offset - 4) {
                fprintf(stderr, "find_rate: invalid PDV length %u\n", pdv_len);
                return -1;
            }
            data_len = pdv_len - 2;
            offset += 4 + pdv_len;
            if (!(control & 0x01))
                continue;

            if (command_len + data_len > sizeof command) {
                fprintf(stderr, "find_rate: response command set over %d bytes\n", MAX_COMMAND);
                return -1;
            }
            memcpy(command + command_len, body + offset - data_len, data_len);
            command_len += data_len;
            if (!(control & 0x02))
                continue;

            status = command_status(command, command_len);
            command_len = 0;
            if (status == 0xFF00 || status == 0xFF01) {
                (*pending)++;
                continue;
            }
            return status < 0 ? -1 : status;
        }
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The nearest-rank value at FRACTION of the sorted VALUES. */
static double percentile(const double *values, long count, double fraction)
{
    long index = (long)(fraction * (double)(count - 1) + 0.5);

    return values[index < count ? index : count - 1];
}

static int open_association(const char *host, const char *port, const char *called)
{
    static uint8_t body[512];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai;
    struct timeval timeout = {.tv_sec = 60};
    buffer rq = {0};
    uint8_t header[6];
    uint32_t len;
    int one = 1, fd = -1, rc;

    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "find_rate: invalid address %s port %s: %s\n", host, port,
                gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "find_rate: connect to %s port %s failed: %s\n", host, port,
                strerror(errno));
        goto fail;
    }

    build_associate_rq(&rq, called);
    if (send_all(fd, rq.data, rq.len) != 0 || recv_all(fd, header, sizeof header) != 0)
        goto fail;
    len = (uint32_t)header[2] << 24 | (uint32_t)header[3] << 16 | (uint32_t)header[4] << 8 |
          header[5];
    if (header[0] != 0x02 || len > sizeof body || recv_all(fd, body, len) != 0 ||
        !context_accepted(body, len)) {
        fprintf(stderr, "find_rate: association or Study Root FIND context rejected"
                        " (PDU type 0x%02x)\n", header[0]);
        goto fail;
    }
    free(rq.data);
    freeaddrinfo(ai);
    return fd;

fail:
    if (fd >= 0)
        close(fd);
    free(rq.data);
    freeaddrinfo(ai);
    return -1;
}

int main(int argc, char **argv)
{
    static const uint8_t release_rq[10] = {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    buffer identifier = {0}, request = {0};
    uint8_t *body = NULL;
    double *times = NULL, deadline, seconds;
    long warmup, count, ok = 0, failed = 0, first_pending = -1, pending = 0;
    int fd = -1, exit_code = 1;

    if (argc < 8) {
        fprintf(stderr, "usage: find_rate HOST PORT CALLED_AE LEVEL WARMUP COUNT SECONDS"
                        " KEY=VALUE...\n");
        return 2;
    }
    warmup = strtol(argv[5], NULL, 10);
    count = strtol(argv[6], NULL, 10);
    seconds = strtod(argv[7], NULL);
    if (warmup < 0 || count < 1 || count > MAX_REQUESTS || seconds <= 0) {
        fprintf(stderr, "find_rate: WARMUP must be >= 0, COUNT 1 to %d, SECONDS > 0\n",
                MAX_REQUESTS);
        return 2;
    }
    if (build_identifier(&identifier, argv[4], argv + 8, argc - 8) != 0)
        return 2;

    body = malloc(MAX_PDU_BODY);
    times = malloc((size_t)count * sizeof *times);
    if (body == NULL || times == NULL) {
        perror("find_rate: malloc");
        goto out;
    }
    fd = open_association(argv[1], argv[2], argv[3]);
    if (fd < 0)
        goto out;

    deadline = now_seconds() + seconds;
    for (long n = 0; n < warmup + count && now_seconds() < deadline; n++) {
        double start, elapsed;
        int status;

        build_find_rq(&request, &identifier, (uint16_t)(n % 65535 + 1));
        start = now_seconds();
        if (send_all(fd, request.data, request.len) != 0) {
            fprintf(stderr, "find_rate: send failed: %s\n", strerror(errno));
            break;
        }
        status = read_responses(fd, body, &pending);
        elapsed = now_seconds() - start;
        if (status < 0)
            break;
        if (first_pending < 0)
            first_pending = pending;
        if (n < warmup)
            continue;
        if (status != 0 || pending != first_pending) {
            fprintf(stderr, "find_rate: final status %04X after %ld matches (first request: %ld)\n",
                    (unsigned)status, pending, first_pending);
            failed++;
            continue;
        }
        times[ok++] = elapsed * 1000.0;
    }
    if (send_all(fd, release_rq, sizeof release_rq) == 0) {
        uint32_t len;

        read_pdu(fd, body, &len);
    }

    if (ok == 0) {
        printf("ok=0 failed=%ld matches=0 median_ms=0 p99_ms=0 min_ms=0 max_ms=0\n", failed);
        goto out;
    }
    qsort(times, (size_t)ok, sizeof *times, compare_doubles);
    printf("ok=%ld failed=%ld matches=%ld median_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f\n",
           ok, failed, pending, percentile(times, ok, 0.5), percentile(times, ok, 0.99),
           times[0], times[ok - 1]);
    exit_code = failed == 0 ? 0 : 1;

out:
    if (fd >= 0)
        close(fd);
    free(body);
    free(times);
    free(identifier.data);
    free(request.data);
    return exit_code;
}
