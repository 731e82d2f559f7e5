/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DICOM upper layer code shared by the libc-only benchmark programs
 * echo_rate.c, find_rate.c, store_send.c and null_scp.c. It contains a
 * growing byte buffer with big- and little-endian writers, the
 * A-ASSOCIATE-RQ with one presentation context and the A-ASSOCIATE-AC
 * check, P-DATA-TF PDUs with one PDV, Implicit VR Little Endian command
 * elements, and socket I/O of whole PDUs with length checks.
 *
 * Header only, so each program still builds with one `cc -O2` line. PDU
 * layouts follow PS3.8 section 9.3, command sets PS3.7 section 9.3.
 * Unused static inline functions draw no warning.
 */
#ifndef BENCH_DICOM_WIRE_H
#define BENCH_DICOM_WIRE_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#define WIRE_APPLICATION_CONTEXT "1.2.840.10008.3.1.1.1"

/* PDU types (PS3.8 section 9.3). */
#define WIRE_ASSOCIATE_RQ 0x01
#define WIRE_ASSOCIATE_AC 0x02
#define WIRE_P_DATA_TF 0x04
#define WIRE_RELEASE_RQ 0x05
#define WIRE_RELEASE_RP 0x06

/* Bytes of an A-ASSOCIATE-RQ or -AC body before its variable items. */
#define WIRE_ASSOCIATE_FIXED_LEN 68

/* A byte buffer that grows on the heap. Start it as {0} and free data after use. */
typedef struct wire_buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
} wire_buffer;

static inline double wire_now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- writing ----------------------------------------------------------- */

/* Appends LEN bytes, and exits with status 2 when memory runs out. */
static inline void wire_put_bytes(wire_buffer *b, const void *data, size_t len)
{
    if (len > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap - b->len < len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (b->data == NULL) {
            perror("realloc");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static inline void wire_put_u8(wire_buffer *b, uint8_t v)
{
    wire_put_bytes(b, &v, 1);
}

static inline void wire_put_be16(wire_buffer *b, uint16_t v)
{
    uint8_t bytes[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    wire_put_bytes(b, bytes, sizeof bytes);
}

static inline void wire_put_be32(wire_buffer *b, uint32_t v)
{
    wire_put_be16(b, (uint16_t)(v >> 16));
    wire_put_be16(b, (uint16_t)v);
}

static inline void wire_put_le16(wire_buffer *b, uint16_t v)
{
    uint8_t bytes[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

    wire_put_bytes(b, bytes, sizeof bytes);
}

static inline void wire_put_le32(wire_buffer *b, uint32_t v)
{
    wire_put_le16(b, (uint16_t)v);
    wire_put_le16(b, (uint16_t)(v >> 16));
}

/* Overwrites a 16-bit length written earlier at AT, once it is known. */
static inline void wire_set_be16(wire_buffer *b, size_t at, size_t v)
{
    b->data[at] = (uint8_t)(v >> 8);
    b->data[at + 1] = (uint8_t)v;
}

static inline void wire_set_be32(wire_buffer *b, size_t at, size_t v)
{
    wire_set_be16(b, at, v >> 16);
    wire_set_be16(b, at + 2, v & 0xFFFF);
}

/* An item with a text value: type, reserved byte, 16-bit length, value. */
static inline void wire_put_text_item(wire_buffer *b, uint8_t type, const char *text)
{
    wire_put_u8(b, type);
    wire_put_u8(b, 0);
    wire_put_be16(b, (uint16_t)strlen(text));
    wire_put_bytes(b, text, strlen(text));
}

/* The 16-byte AE title field, padded with spaces. */
static inline void wire_put_ae(wire_buffer *b, const char *title)
{
    char field[16];
    size_t len = strlen(title);

    memset(field, ' ', sizeof field);
    memcpy(field, title, len < sizeof field ? len : sizeof field);
    wire_put_bytes(b, field, sizeof field);
}

/* What an A-ASSOCIATE-RQ with one presentation context (ID 1) proposes. */
typedef struct wire_association {
    const char *called_ae;
    const char *calling_ae;
    const char *abstract_syntax;
    const char *transfer_syntax;
    uint32_t max_pdu_length;  /* the Maximum Length Received offered */
    const char *implementation_class;
} wire_association;

static inline void wire_build_associate_rq(wire_buffer *b, const wire_association *a)
{
    static const uint8_t reserved[32];
    size_t length_at, context_at, user_at;

    wire_put_u8(b, WIRE_ASSOCIATE_RQ);
    wire_put_u8(b, 0);
    length_at = b->len;
    wire_put_be32(b, 0);
    wire_put_be16(b, 1); /* protocol version */
    wire_put_be16(b, 0);
    wire_put_ae(b, a->called_ae);
    wire_put_ae(b, a->calling_ae);
    wire_put_bytes(b, reserved, sizeof reserved);
    wire_put_text_item(b, 0x10, WIRE_APPLICATION_CONTEXT);

    wire_put_u8(b, 0x20);
    wire_put_u8(b, 0);
    context_at = b->len;
    wire_put_be16(b, 0);
    wire_put_u8(b, 1); /* presentation context ID */
    wire_put_u8(b, 0);
    wire_put_u8(b, 0);
    wire_put_u8(b, 0);
    wire_put_text_item(b, 0x30, a->abstract_syntax);
    wire_put_text_item(b, 0x40, a->transfer_syntax);
    wire_set_be16(b, context_at, b->len - context_at - 2);

    wire_put_u8(b, 0x50);
    wire_put_u8(b, 0);
    user_at = b->len;
    wire_put_be16(b, 0);
    wire_put_u8(b, 0x51);
    wire_put_u8(b, 0);
    wire_put_be16(b, 4);
    wire_put_be32(b, a->max_pdu_length);
    wire_put_text_item(b, 0x52, a->implementation_class);
    wire_set_be16(b, user_at, b->len - user_at - 2);

    wire_set_be32(b, length_at, b->len - length_at - 4);
}

/* The tag and 32-bit value length of an Implicit VR Little Endian element. */
static inline void wire_put_element_header(wire_buffer *b, uint32_t tag, uint32_t len)
{
    wire_put_le16(b, (uint16_t)(tag >> 16));
    wire_put_le16(b, (uint16_t)tag);
    wire_put_le32(b, len);
}

static inline void wire_put_element(wire_buffer *b, uint32_t tag, const void *value, uint32_t len)
{
    wire_put_element_header(b, tag, len);
    wire_put_bytes(b, value, len);
}

/* A UI value padded with one NUL to even length (PS3.5 section 9.1). */
static inline void wire_put_uid_element(wire_buffer *b, uint32_t tag, const char *uid)
{
    size_t len = strlen(uid);

    wire_put_element_header(b, tag, (uint32_t)(len + (len & 1)));
    wire_put_bytes(b, uid, len);
    if (len & 1)
        wire_put_u8(b, 0);
}

static inline void wire_put_us_element(wire_buffer *b, uint32_t tag, uint16_t value)
{
    wire_put_element_header(b, tag, 2);
    wire_put_le16(b, value);
}

/* Appends (0000,0000) Command Group Length and then the command ELEMENTS. */
static inline void wire_put_command_set(wire_buffer *b, const wire_buffer *elements)
{
    wire_put_element_header(b, 0x00000000, 4);
    wire_put_le32(b, (uint32_t)elements->len);
    wire_put_bytes(b, elements->data, elements->len);
}

/*
 * Appends a P-DATA-TF PDU with PAYLOAD as one PDV of CONTEXT_ID. The PDV is
 * the last fragment of a command set when IS_COMMAND, else of a data set.
 */
static inline void wire_put_p_data(wire_buffer *b, uint8_t context_id, const wire_buffer *payload,
                                   int is_command)
{
    wire_put_u8(b, WIRE_P_DATA_TF);
    wire_put_u8(b, 0);
    wire_put_be32(b, (uint32_t)(payload->len + 6));
    wire_put_be32(b, (uint32_t)(payload->len + 2)); /* PDV item length */
    wire_put_u8(b, context_id);
    wire_put_u8(b, is_command ? 0x03 : 0x02);
    wire_put_bytes(b, payload->data, payload->len);
}

/* --- reading ----------------------------------------------------------- */

static inline uint16_t wire_get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t wire_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t wire_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One presentation data value item of a P-DATA-TF PDU. */
typedef struct wire_pdv {
    uint32_t item_length; /* the received PDV item length, also set when it is invalid */
    uint8_t context_id;
    uint8_t control;      /* bit 0: command, bit 1: last fragment */
    const uint8_t *data;
    uint32_t data_len;
} wire_pdv;

/*
 * Reads the PDV item at *OFFSET of a P-DATA-TF body of LEN bytes and
 * advances *OFFSET past it. Returns 1 for a PDV, 0 when fewer than 6 bytes
 * are left, -1 when the item length is below 2 or runs past LEN.
 */
static inline int wire_next_pdv(const uint8_t *body, uint32_t len, uint32_t *offset, wire_pdv *pdv)
{
    uint32_t at = *offset;

    if (at + 6 > len)
        return 0;
    pdv->item_length = wire_get_be32(body + at);
    if (pdv->item_length < 2 || pdv->item_length > len - at - 4)
        return -1;
    pdv->context_id = body[at + 4];
    pdv->control = body[at + 5];
    pdv->data = body + at + 6;
    pdv->data_len = pdv->item_length - 2;
    *offset = at + 4 + pdv->item_length;
    return 1;
}

/*
 * Checks an A-ASSOCIATE-AC body. Returns 0 when it accepts presentation
 * context CONTEXT_ID, and -1 when it rejects or omits that context or an
 * item runs past LEN. Sets *max_pdu_length to the peer's Maximum Length
 * Received, or to 0 when absent (0 also means no limit).
 */
static inline int wire_read_associate_ac(const uint8_t *body, uint32_t len, uint8_t context_id,
                                         uint32_t *max_pdu_length)
{
    uint32_t offset = WIRE_ASSOCIATE_FIXED_LEN;
    int accepted = 0;

    *max_pdu_length = 0;
    while (offset + 4 <= len) {
        uint8_t type = body[offset];
        uint32_t item_len = wire_get_be16(body + offset + 2);

        if (item_len > len - offset - 4)
            return -1;

        /* Presentation context item: ID, reserved, result/reason, reserved. */
        if (type == 0x21 && item_len >= 4 && body[offset + 4] == context_id)
            accepted = body[offset + 6] == 0;

        if (type == 0x50) {
            uint32_t sub = offset + 4, end = offset + 4 + item_len;

            while (sub + 4 <= end) {
                uint32_t sub_len = wire_get_be16(body + sub + 2);

                if (sub_len > end - sub - 4)
                    return -1;
                if (body[sub] == 0x51 && sub_len == 4)
                    *max_pdu_length = wire_get_be32(body + sub + 4);
                sub += 4 + sub_len;
            }
        }
        offset += 4 + item_len;
    }
    return accepted ? 0 : -1;
}

/*
 * Returns the US value of element (0000,ELEMENT) of a complete command set,
 * or -1 when it is missing or malformed.
 */
static inline int wire_command_us(const uint8_t *command, size_t len, uint16_t element)
{
    size_t offset = 0;

    while (offset + 8 <= len) {
        uint16_t group = wire_get_le16(command + offset);
        uint16_t found = wire_get_le16(command + offset + 2);
        uint32_t value_len = wire_get_le32(command + offset + 4);

        if (value_len > len - offset - 8)
            return -1;
        if (group == 0 && found == element)
            return value_len == 2 ? wire_get_le16(command + offset + 8) : -1;
        offset += 8 + value_len;
    }
    return -1;
}

/* Returns the Status (0000,0900) of a complete command set, or -1 when missing or malformed. */
static inline int wire_command_status(const uint8_t *command, size_t len)
{
    return wire_command_us(command, len, 0x0900);
}

/* --- sockets ----------------------------------------------------------- */

/* Sets TCP_NODELAY and send and receive timeouts of SECONDS. */
static inline void wire_configure_socket(int fd, long seconds)
{
    struct timeval timeout = {.tv_sec = seconds};
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

/* Sends (SENDING) or receives exactly LEN bytes, retrying after EINTR. */
static inline int wire_transfer_all(int fd, uint8_t *data, size_t len, int flags, int sending)
{
    while (len > 0) {
        ssize_t n = sending ? send(fd, data, len, MSG_NOSIGNAL | flags)
                            : recv(fd, data, len, flags);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static inline int wire_send_all(int fd, const uint8_t *data, size_t len, int flags)
{
    return wire_transfer_all(fd, (uint8_t *)data, len, flags, 1);
}

static inline int wire_recv_all(int fd, uint8_t *data, size_t len)
{
    return wire_transfer_all(fd, data, len, 0, 0);
}

/* Reads a 6-byte PDU header and stores the PDU type and the body length. */
static inline int wire_read_pdu_header(int fd, uint8_t *type, uint32_t *len)
{
    uint8_t header[6];

    if (wire_recv_all(fd, header, sizeof header) != 0)
        return -1;
    *type = header[0];
    *len = wire_get_be32(header + 2);
    return 0;
}

/*
 * Reads one PDU whose body fits in MAX bytes of BODY. Returns its type, or
 * -1 when the connection failed or the body is longer than MAX.
 */
static inline int wire_read_pdu(int fd, uint8_t *body, uint32_t max, uint32_t *len)
{
    uint8_t type;

    if (wire_read_pdu_header(fd, &type, len) != 0 || *len > max ||
        wire_recv_all(fd, body, *len) != 0)
        return -1;
    return type;
}

/* Sends A-RELEASE-RQ. Returns 0 once A-RELEASE-RP arrived, -1 otherwise. */
static inline int wire_release(int fd)
{
    static const uint8_t release_rq[10] = {WIRE_RELEASE_RQ, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    uint8_t body[4];
    uint32_t len;

    if (wire_send_all(fd, release_rq, sizeof release_rq, 0) != 0)
        return -1;
    return wire_read_pdu(fd, body, sizeof body, &len) == WIRE_RELEASE_RP ? 0 : -1;
}

#endif
