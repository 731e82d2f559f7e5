/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C-STORE sender in C. It costs the sending side little CPU, so that on a
 * machine with few CPUs the receiver rather than the sender limits the
 * measured rate. Each data set goes from the page cache to the socket by
 * sendfile(2), and only the command set and the 12-byte PDU and PDV
 * headers are written from user space.
 *
 * Usage: store_send HOST PORT CALLED_AE PATH
 *
 * PATH is a DICOM Part 10 file or a folder of them. A folder's regular
 * files are sent in byte order of their names, all on ONE association, one
 * C-STORE-RQ at a time: the next request goes out once the C-STORE-RSP of
 * the previous one has arrived. Message IDs count up from 1, and start
 * again at 1 after 65535. The File Meta Information of each file gives its
 * SOP Class, SOP Instance and Transfer Syntax UIDs. The association
 * proposes the SOP class and transfer syntax of the first file. A later
 * file with another SOP class or transfer syntax is not sent and counts as
 * failed, and so does a file that is not DICOM Part 10. Data sets go in
 * P-DATA-TF PDUs of the maximum length the receiver announced. PDU layouts
 * follow PS3.8 section 9.3, the C-STORE command set PS3.7 section 9.3.1.
 * The socket sets TCP_NODELAY. HOST is a numeric IPv4 or IPv6 address.
 *
 * Output for a file: "bytes=B seconds=S rate=R", with B the data set bytes,
 * S the seconds from connect to the A-RELEASE-RP and R in MB/s (10^6
 * bytes/s). Output for a folder: "instances=N failed=F bytes=B seconds=S
 * rate=R". N is the number of regular files in the folder, and F the number
 * not stored with status 0000, so warning statuses count as failed too. B
 * is the data set bytes sent, and R the instances stored with status 0000
 * per second. When the association breaks, the files not yet sent count as
 * failed. Exits 0 when every instance was stored with status 0000, 1
 * otherwise, 2 on a usage error.
 *
 * Memory stays bounded: the folder's file names (at most MAX_FOLDER_FILES)
 * and fixed buffers for the File Meta Information and the C-STORE-RSP.
 *
 * Built by bench/run.sh and bench/run_pg.sh with `cc -O2`. It uses only
 * libc and dicom_wire.h from this folder.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
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

/*
 * Bytes read to find the File Meta Information. The first read covers the
 * usual header of a few hundred bytes. A longer header is read again up to
 * META_READ_LIMIT.
 */
#define META_FIRST_READ 4096
#define META_READ_LIMIT 65536

/* Files of a folder beyond this count are rejected, which bounds the name list. */
#define MAX_FOLDER_FILES 1000000

/* Per-file error messages printed before the rest are only counted. */
#define MAX_PRINTED_FAILURES 10

#define UID_SIZE 65
#define IO_TIMEOUT_SECONDS 120

#define C_STORE_RSP 0x8001

typedef struct instance_file {
    int fd;
    char sop_class[UID_SIZE];
    char sop_instance[UID_SIZE];
    char transfer_syntax[UID_SIZE];
    off_t dataset_offset;
    off_t dataset_len;
} instance_file;

/* The files to send: names relative to dir_fd, in sending order. */
typedef struct file_list {
    int dir_fd;          /* AT_FDCWD for a single file */
    const char *folder;  /* prefix for messages, NULL for a single file */
    char **names;
    size_t count;
} file_list;

/* Counts of one run, printed at the end. */
typedef struct send_totals {
    size_t sent;
    size_t stored;
    size_t failed;
    long long bytes;
    size_t printed_failures;
} send_totals;

/* --- messages ---------------------------------------------------------- */

/*
 * Prints a failure of one file, and after MAX_PRINTED_FAILURES of them only
 * counts it, so a folder of bad files does not flood the output.
 */
__attribute__((format(printf, 4, 5)))
static void report_file_failure(send_totals *totals, const file_list *files, const char *name,
                                const char *format, ...)
{
    va_list args;

    totals->failed++;
    totals->printed_failures++;
    if (totals->printed_failures > MAX_PRINTED_FAILURES)
        return;

    fprintf(stderr, "store_send: %s%s%s: ", files->folder ? files->folder : "",
            files->folder ? "/" : "", name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    if (totals->printed_failures == MAX_PRINTED_FAILURES)
        fprintf(stderr, "store_send: further failed files are counted but not printed\n");
}

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

/*
 * Replaces the contents of OUT with the C-STORE-RQ command set in one
 * P-DATA-TF PDU with one PDV. ELEMENTS is scratch space. Both buffers keep
 * their memory between calls, so a folder needs no allocation per file.
 */
static void build_store_rq(wire_buffer *out, wire_buffer *elements, const instance_file *in,
                           uint16_t message_id)
{
    static const uint8_t header_space[12];
    size_t payload;

    elements->len = 0;
    wire_put_uid_element(elements, 0x00000002, in->sop_class);
    wire_put_us_element(elements, 0x00000100, 0x0001); /* C-STORE-RQ */
    wire_put_us_element(elements, 0x00000110, message_id);
    wire_put_us_element(elements, 0x00000700, 0);      /* Priority: medium */
    wire_put_us_element(elements, 0x00000800, 0x0000); /* a data set follows */
    wire_put_uid_element(elements, 0x00001000, in->sop_instance);

    /* The PDU and PDV headers are filled in once the command set's length is known. */
    out->len = 0;
    wire_put_bytes(out, header_space, sizeof header_space);
    wire_put_command_set(out, elements);
    payload = out->len - sizeof header_space;
    out->data[0] = WIRE_P_DATA_TF;
    out->data[1] = 0;
    wire_set_be32(out, 2, payload + 6);
    wire_set_be32(out, 6, payload + 2);
    out->data[10] = PCTX_ID;
    out->data[11] = 0x03; /* the last fragment of a command set */
}

/* --- reading a file ---------------------------------------------------- */

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

enum meta_walk {
    META_DONE,      /* the group ended inside the bytes read */
    META_TRUNCATED, /* the bytes read ended inside the group */
    META_INVALID,   /* an invalid UID */
};

/*
 * Walks the File Meta Information (group 0002, explicit VR little endian
 * after the 128-byte preamble and "DICM") in the GOT bytes of HEAD, stores
 * the three UIDs in IN and sets *END to the offset after the group.
 */
static enum meta_walk walk_meta(const uint8_t *head, size_t got, instance_file *in, size_t *end,
                                uint16_t *bad_element)
{
    size_t at = 132;

    for (;;) {
        if (at + 8 > got)
            return META_TRUNCATED;
        if (wire_get_le16(head + at) != 0x0002)
            break;

        uint16_t element = wire_get_le16(head + at + 2);
        size_t header_len = 8;
        uint32_t value_len = wire_get_le16(head + at + 6);

        if (has_long_length(head + at + 4)) {
            if (at + 12 > got)
                return META_TRUNCATED;
            header_len = 12;
            value_len = wire_get_le32(head + at + 8);
        }
        if (value_len > got - at - header_len)
            return META_TRUNCATED;

        const uint8_t *value = head + at + header_len;
        int bad = 0;
        if (element == 0x0002)
            bad = copy_uid(in->sop_class, value, value_len);
        else if (element == 0x0003)
            bad = copy_uid(in->sop_instance, value, value_len);
        else if (element == 0x0010)
            bad = copy_uid(in->transfer_syntax, value, value_len);
        if (bad) {
            *bad_element = element;
            return META_INVALID;
        }
        at += header_len + value_len;
    }

    *end = at;
    return META_DONE;
}

/*
 * Opens NAME in FILES's folder and reads its File Meta Information for the
 * three UIDs and the offset where the data set starts. On failure it
 * reports why through TOTALS and returns -1 with no file left open.
 */
static int open_instance(const file_list *files, const char *name, instance_file *in,
                         send_totals *totals)
{
    uint8_t head[META_READ_LIMIT];
    enum meta_walk walk;
    uint16_t bad_element = 0;
    struct stat st;
    ssize_t got;
    size_t end = 0;

    memset(in, 0, sizeof *in);
    in->fd = openat(files->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0 || fstat(in->fd, &st) != 0) {
        report_file_failure(totals, files, name, "failed to open: %s", strerror(errno));
        goto fail;
    }

    got = pread(in->fd, head, META_FIRST_READ, 0);
    if (got < 0) {
        report_file_failure(totals, files, name, "read failed: %s", strerror(errno));
        goto fail;
    }
    if (got < 132 || memcmp(head + 128, "DICM", 4) != 0) {
        report_file_failure(totals, files, name, "not a DICOM Part 10 file (no DICM prefix)");
        goto fail;
    }
    walk = walk_meta(head, (size_t)got, in, &end, &bad_element);
    if (walk == META_TRUNCATED && got == META_FIRST_READ) {
        got = pread(in->fd, head, sizeof head, 0);
        if (got < 132) {
            report_file_failure(totals, files, name, "read failed: %s", strerror(errno));
            goto fail;
        }
        walk = walk_meta(head, (size_t)got, in, &end, &bad_element);
    }
    if (walk == META_TRUNCATED && got == META_READ_LIMIT) {
        report_file_failure(totals, files, name, "File Meta Information is longer than "
                            "%d bytes", META_READ_LIMIT);
        goto fail;
    }
    if (walk == META_TRUNCATED) {
        report_file_failure(totals, files, name, "the file ends inside its File Meta "
                            "Information or right after it");
        goto fail;
    }
    if (walk == META_INVALID) {
        report_file_failure(totals, files, name, "invalid UID in (0002,%04X)", bad_element);
        goto fail;
    }

    if (in->sop_class[0] == '\0' || in->sop_instance[0] == '\0' ||
        in->transfer_syntax[0] == '\0') {
        report_file_failure(totals, files, name, "File Meta Information lacks (0002,0002), "
                            "(0002,0003) or (0002,0010)");
        goto fail;
    }
    in->dataset_offset = (off_t)end;
    in->dataset_len = st.st_size - (off_t)end;
    if (in->dataset_len <= 0) {
        report_file_failure(totals, files, name, "no data set after the File Meta Information");
        goto fail;
    }
    return 0;

fail:
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    return -1;
}

/* --- listing a folder -------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(file_list *files)
{
    for (size_t i = 0; i < files->count; i++)
        free(files->names[i]);
    free(files->names);
    files->names = NULL;
    files->count = 0;
}

/*
 * Fills FILES with the regular files of FOLDER (symbolic links to regular
 * files included) sorted by name, and keeps the folder open as dir_fd.
 */
static int list_folder(const char *folder, file_list *files)
{
    size_t capacity = 0;
    struct dirent *entry;
    DIR *dir;

    memset(files, 0, sizeof *files);
    files->folder = folder;
    dir = opendir(folder);
    if (dir == NULL) {
        fprintf(stderr, "store_send: failed to open folder %s: %s\n", folder, strerror(errno));
        return -1;
    }

    for (;;) {
        struct stat st;

        errno = 0;
        entry = readdir(dir);
        if (entry == NULL)
            break;

        if (entry->d_type != DT_REG) {
            if (entry->d_type != DT_UNKNOWN && entry->d_type != DT_LNK)
                continue;
            if (fstatat(dirfd(dir), entry->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
                continue;
        }
        if (files->count == MAX_FOLDER_FILES) {
            fprintf(stderr, "store_send: folder %s has more than %d files; split it\n", folder,
                    MAX_FOLDER_FILES);
            goto fail;
        }
        if (files->count == capacity) {
            size_t grown = capacity ? capacity * 2 : 256;
            char **names = realloc(files->names, grown * sizeof *names);

            if (names == NULL)
                goto out_of_memory;
            files->names = names;
            capacity = grown;
        }
        files->names[files->count] = strdup(entry->d_name);
        if (files->names[files->count] == NULL)
            goto out_of_memory;
        files->count++;
    }
    if (errno != 0) {
        fprintf(stderr, "store_send: failed to read folder %s: %s\n", folder, strerror(errno));
        goto fail;
    }
    if (files->count == 0) {
        fprintf(stderr, "store_send: folder %s has no regular files\n", folder);
        goto fail;
    }

    qsort(files->names, files->count, sizeof *files->names, compare_names);
    files->dir_fd = dup(dirfd(dir));
    if (files->dir_fd < 0) {
        fprintf(stderr, "store_send: failed to keep folder %s open: %s\n", folder,
                strerror(errno));
        goto fail;
    }
    closedir(dir);
    return 0;

out_of_memory:
    fprintf(stderr, "store_send: out of memory listing folder %s\n", folder);
fail:
    free_names(files);
    closedir(dir);
    return -1;
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
 * Sends the command PDU in COMMAND, then the data set as data PDVs, one per
 * P-DATA-TF PDU of at most max_pdu body bytes. The first data PDU header
 * travels in the same send as the command, and every header goes with
 * MSG_MORE, so that each header and its payload leave together. COMMAND is
 * emptied.
 */
static int send_store(int sock, wire_buffer *command, const instance_file *in, uint32_t max_pdu)
{
    size_t payload_max = (size_t)max_pdu - 6;
    off_t offset = in->dataset_offset;
    off_t left = in->dataset_len;

    while (left > 0) {
        size_t n = (off_t)payload_max < left ? payload_max : (size_t)left;
        int last = (off_t)n == left;
        uint8_t header[12];

        header[0] = WIRE_P_DATA_TF;
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

        wire_put_bytes(command, header, sizeof header);
        if (wire_send_all(sock, command->data, command->len, MSG_MORE) != 0 ||
            sendfile_all(sock, in->fd, &offset, n) != 0) {
            fprintf(stderr, "store_send: sending the data set failed: %s\n", strerror(errno));
            return -1;
        }
        command->len = 0;
        left -= (off_t)n;
    }
    return 0;
}

/*
 * Reads P-DATA-TF PDUs until the last command fragment and returns the
 * Status (0000,0900) of the C-STORE-RSP to MESSAGE_ID, or -1 when no such
 * response arrived, after printing why.
 */
static int read_store_status(int sock, uint8_t *body, uint16_t message_id)
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
            if (type == 0x07)
                fprintf(stderr, "store_send: the receiver aborted the association\n");
            else if (type < 0)
                fprintf(stderr, "store_send: reading the C-STORE-RSP failed: %s\n",
                        errno ? strerror(errno) : "connection closed");
            else
                fprintf(stderr, "store_send: expected the C-STORE-RSP, got PDU type %02X\n",
                        (unsigned)type);
            return -1;
        }
        while ((more = wire_next_pdv(body, len, &offset, &pdv)) == 1) {
            if (pdv.data_len > sizeof command - command_len || !(pdv.control & 0x01)) {
                fprintf(stderr, "store_send: invalid PDV in the C-STORE-RSP\n");
                return -1;
            }
            memcpy(command + command_len, pdv.data, pdv.data_len);
            command_len += pdv.data_len;
            last = pdv.control & 0x02;
        }
        if (more < 0) {
            fprintf(stderr, "store_send: invalid PDV length in the C-STORE-RSP\n");
            return -1;
        }
        if (last)
            break;
    }

    int field = wire_command_us(command, command_len, 0x0100);
    int responded_to = wire_command_us(command, command_len, 0x0120);
    int status = wire_command_us(command, command_len, 0x0900);
    if (field != C_STORE_RSP || responded_to != message_id || status < 0) {
        fprintf(stderr, "store_send: expected a C-STORE-RSP to message %u with a status, got "
                "command field %04X responding to %d\n", (unsigned)message_id,
                (unsigned)(field & 0xFFFF), responded_to);
        return -1;
    }
    return status;
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

/* --- the association --------------------------------------------------- */

/*
 * Opens the association that proposes FIRST's SOP class and transfer
 * syntax. Returns the socket and sets *max_pdu, or returns -1.
 */
static int open_association(const char *host, const char *port, const char *called,
                            const instance_file *first, uint32_t *max_pdu)
{
    static uint8_t body[MAX_RECEIVE];
    wire_buffer rq = {0};
    uint32_t len;
    int sock, type;

    build_associate_rq(&rq, called, first);
    sock = connect_to(host, port);
    if (sock < 0)
        goto fail;

    if (wire_send_all(sock, rq.data, rq.len, 0) != 0) {
        fprintf(stderr, "store_send: sending the A-ASSOCIATE-RQ failed: %s\n", strerror(errno));
        goto fail;
    }
    type = read_pdu(sock, body, &len);
    if (type == 0x03) {
        fprintf(stderr, "store_send: the receiver rejected the association with %s "
                "(A-ASSOCIATE-RJ result %u, source %u, reason %u)\n", called,
                len >= 4 ? body[1] : 0, len >= 4 ? body[2] : 0, len >= 4 ? body[3] : 0);
        goto fail;
    }
    if (type != WIRE_ASSOCIATE_AC || wire_read_associate_ac(body, len, PCTX_ID, max_pdu) != 0) {
        fprintf(stderr, "store_send: association with %s failed, or the presentation "
                "context for %s with %s was not accepted\n", called, first->sop_class,
                first->transfer_syntax);
        goto fail;
    }
    if (*max_pdu == 0)
        *max_pdu = UNLIMITED_PDU_LENGTH;
    if (*max_pdu < 256) {
        fprintf(stderr, "store_send: receiver's maximum PDU length %u is too small\n", *max_pdu);
        goto fail;
    }
    free(rq.data);
    return sock;

fail:
    free(rq.data);
    if (sock >= 0)
        close(sock);
    return -1;
}

/*
 * Sends every file of FILES on the open association, one C-STORE at a
 * time, FIRST already open as the first file. Returns 0 when every file
 * was handled and the association is still open, -1 when it broke.
 */
static int send_files(int sock, uint32_t max_pdu, const file_list *files, instance_file *first,
                      send_totals *totals)
{
    static uint8_t body[MAX_RECEIVE];
    wire_buffer command = {0}, elements = {0};
    uint16_t message_id = 1;
    int result = -1;
    size_t i;

    for (i = 0; i < files->count; i++) {
        instance_file next, *in = first;
        const char *name = files->names[i];
        int status;

        if (i > 0) {
            if (open_instance(files, name, &next, totals) != 0)
                continue;
            in = &next;
            if (strcmp(in->sop_class, first->sop_class) != 0 ||
                strcmp(in->transfer_syntax, first->transfer_syntax) != 0) {
                report_file_failure(totals, files, name, "SOP class %s with transfer "
                                    "syntax %s differs from the first file's %s with %s; "
                                    "not sent", in->sop_class, in->transfer_syntax,
                                    first->sop_class, first->transfer_syntax);
                close(in->fd);
                continue;
            }
        }

        build_store_rq(&command, &elements, in, message_id);
        if (command.len - 6 > max_pdu) {
            fprintf(stderr, "store_send: receiver's maximum PDU length %u is too small for "
                    "the command set\n", max_pdu);
            close(in->fd);
            goto done;
        }
        if (send_store(sock, &command, in, max_pdu) != 0) {
            close(in->fd);
            goto done;
        }
        totals->sent++;
        totals->bytes += in->dataset_len;
        close(in->fd);

        status = read_store_status(sock, body, message_id);
        if (status < 0)
            goto done;
        if (status == 0)
            totals->stored++;
        else
            report_file_failure(totals, files, name, "C-STORE-RSP status %04X",
                                (unsigned)status);

        message_id = message_id == UINT16_MAX ? 1 : (uint16_t)(message_id + 1);
    }
    result = 0;

done:
    /* After a break, the file being sent and the ones after it are not stored. */
    if (result != 0)
        totals->failed += files->count - i;
    free(command.data);
    free(elements.data);
    return result;
}

int main(int argc, char **argv)
{
    file_list files = {.dir_fd = AT_FDCWD};
    send_totals totals = {0};
    instance_file first;
    struct stat st;
    char *single_name[1];
    uint32_t max_pdu;
    double start = 0, seconds = 0;
    int sock, folder_mode, released = 0, all_stored;

    if (argc != 5 || strlen(argv[3]) == 0 || strlen(argv[3]) > 16) {
        fprintf(stderr, "usage: store_send HOST PORT CALLED_AE PATH (CALLED_AE: 1 to 16 "
                "characters; PATH: a DICOM Part 10 file or a folder of them)\n");
        return 2;
    }
    if (stat(argv[4], &st) != 0) {
        fprintf(stderr, "store_send: failed to read %s: %s\n", argv[4], strerror(errno));
        return 1;
    }

    folder_mode = S_ISDIR(st.st_mode);
    if (folder_mode) {
        if (list_folder(argv[4], &files) != 0)
            return 1;
    } else {
        single_name[0] = argv[4];
        files.names = single_name;
        files.count = 1;
    }
    if (open_instance(&files, files.names[0], &first, &totals) != 0) {
        fprintf(stderr, "store_send: the first file sets the SOP class and transfer "
                "syntax, so nothing was sent\n");
        totals.failed = files.count;
        goto finish;
    }

    start = wire_now_seconds();
    sock = open_association(argv[1], argv[2], argv[3], &first, &max_pdu);
    if (sock < 0) {
        close(first.fd);
        totals.failed = files.count;
        goto finish;
    }

    if (send_files(sock, max_pdu, &files, &first, &totals) == 0) {
        released = wire_release(sock) == 0;
        if (!released)
            fprintf(stderr, "store_send: no A-RELEASE-RP after the last store\n");
    }
    seconds = wire_now_seconds() - start;
    close(sock);

finish:
    all_stored = released && totals.failed == 0 && totals.stored == files.count;
    if (folder_mode) {
        printf("instances=%zu failed=%zu bytes=%lld seconds=%.3f rate=%.1f\n", files.count,
               totals.failed, totals.bytes, seconds,
               seconds > 0 ? (double)totals.stored / seconds : 0.0);
        free_names(&files);
        close(files.dir_fd);
    } else if (totals.stored == 1 && released) {
        printf("bytes=%lld seconds=%.3f rate=%.1f\n", totals.bytes, seconds,
               (double)totals.bytes / 1e6 / seconds);
    }
    return all_stored ? 0 : 1;
}
