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
 * compiler; it uses only libc and dicom_wire.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dicom_wire.h"

#define FIND_STUDY_ROOT "1.2.840.10008.5.1.4.1.2.2.1"
#define IMPLICIT_LE "1.2.840.10008.1.2"
#define IMPLEMENTATION_CLASS "1.2.826.0.1.3680043.10.999.1"
#define MAX_PDU_BODY (1u << 20) /* the maximum PDU length this client offers */
#define MAX_COMMAND 65536       /* a response command set longer than this is invalid */
#define MAX_ELEMENTS 64
#define MAX_REQUESTS 1000000

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

static void build_associate_rq(wire_buffer *b, const char *called)
{
    const wire_association association = {
        .called_ae = called,
        .calling_ae = "BENCHFIND",
        .abstract_syntax = FIND_STUDY_ROOT,
        .transfer_syntax = IMPLICIT_LE,
        .max_pdu_length = MAX_PDU_BODY,
        .implementation_class = IMPLEMENTATION_CLASS,
    };

    wire_build_associate_rq(b, &association);
}

/* A text value padded to even length: UIDs with NUL, the rest with a space. */
static void put_text_element(wire_buffer *b, uint32_t tag, const char *value)
{
    int is_uid = tag == 0x00080016 || tag == 0x00080018 || tag == 0x0020000D ||
                 tag == 0x0020000E;
    size_t len = strlen(value);

    wire_put_element_header(b, tag, (uint32_t)(len + len % 2));
    wire_put_bytes(b, value, len);
    if (len % 2)
        wire_put_u8(b, is_uid ? 0 : ' ');
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
static int build_identifier(wire_buffer *b, const char *level, char **keys, int key_count)
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

/* Encodes C-FIND-RQ number MESSAGE_ID and its identifier as two P-DATA-TF PDUs. */
static void build_find_rq(wire_buffer *b, const wire_buffer *identifier, uint16_t message_id)
{
    wire_buffer elements = {0}, command = {0};

    wire_put_uid_element(&elements, 0x00000002, FIND_STUDY_ROOT);
    wire_put_us_element(&elements, 0x00000100, 0x0020); /* C-FIND-RQ */
    wire_put_us_element(&elements, 0x00000110, message_id);
    wire_put_us_element(&elements, 0x00000700, 0);      /* Priority: medium */
    wire_put_us_element(&elements, 0x00000800, 0x0000); /* a data set follows */
    wire_put_command_set(&command, &elements);

    b->len = 0;
    wire_put_p_data(b, 1, &command, 1);
    wire_put_p_data(b, 1, identifier, 0);
    free(elements.data);
    free(command.data);
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
        wire_pdv pdv;
        int type = wire_read_pdu(fd, body, MAX_PDU_BODY, &len);
        int more;

        if (type != WIRE_P_DATA_TF) {
            fprintf(stderr, "find_rate: PDU type %d instead of P-DATA-TF\n", type);
            return -1;
        }
        while ((more = wire_next_pdv(body, len, &offset, &pdv)) == 1) {
            int status;

            if (!(pdv.control & 0x01))
                continue;

            if (command_len + pdv.data_len > sizeof command) {
                fprintf(stderr, "find_rate: response command set over %d bytes\n", MAX_COMMAND);
                return -1;
            }
            memcpy(command + command_len, pdv.data, pdv.data_len);
            command_len += pdv.data_len;
            if (!(pdv.control & 0x02))
                continue;

            status = wire_command_status(command, command_len);
            command_len = 0;
            if (status == 0xFF00 || status == 0xFF01) {
                (*pending)++;
                continue;
            }
            return status < 0 ? -1 : status;
        }
        if (more < 0) {
            fprintf(stderr, "find_rate: invalid PDV length %u\n", pdv.item_length);
            return -1;
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
    wire_buffer rq = {0};
    uint32_t len, max_pdu_length;
    uint8_t type = 0;
    int fd = -1, rc;

    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "find_rate: invalid address %s port %s: %s\n", host, port,
                gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    wire_configure_socket(fd, 60);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "find_rate: connect to %s port %s failed: %s\n", host, port,
                strerror(errno));
        goto fail;
    }

    build_associate_rq(&rq, called);
    if (wire_send_all(fd, rq.data, rq.len, 0) != 0 || wire_read_pdu_header(fd, &type, &len) != 0)
        goto fail;
    if (type != WIRE_ASSOCIATE_AC || len > sizeof body || wire_recv_all(fd, body, len) != 0 ||
        wire_read_associate_ac(body, len, 1, &max_pdu_length) != 0) {
        fprintf(stderr, "find_rate: association or Study Root FIND context rejected"
                        " (PDU type 0x%02x)\n", type);
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
    wire_buffer identifier = {0}, request = {0};
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

    deadline = wire_now_seconds() + seconds;
    for (long n = 0; n < warmup + count && wire_now_seconds() < deadline; n++) {
        double start, elapsed;
        int status;

        build_find_rq(&request, &identifier, (uint16_t)(n % 65535 + 1));
        start = wire_now_seconds();
        if (wire_send_all(fd, request.data, request.len, 0) != 0) {
            fprintf(stderr, "find_rate: send failed: %s\n", strerror(errno));
            break;
        }
        status = read_responses(fd, body, &pending);
        elapsed = wire_now_seconds() - start;
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
    wire_release(fd);

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
