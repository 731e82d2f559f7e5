/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte reader for the parser. Memory stays bounded whatever the input
 * size: a descriptor is read through one 64 KiB buffer (plus one for
 * compressed input when inflating), and skips use lseek, or inflate and
 * discard for deflated data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcm/dcm.h"
#include "dcm/reader.h"

int dcm_reader_open_memory(dcm_reader *r, const void *data, size_t len, bool deflated)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->mem = data ? data : (const uint8_t *)"";
    r->mem_len = data ? len : 0;
    if (!deflated)
        return DCM_OK;

    r->deflated = true;
    r->buf = malloc(DCM_READER_BUFFER_SIZE);
    if (!r->buf)
        return DCM_ENOMEM;
    if (inflateInit2(&r->zs, -MAX_WBITS) != Z_OK)
        return DCM_ENOMEM;
    r->z_ready = true;
    r->zs.next_in = (Bytef *)r->mem;
    r->zs.avail_in = (uInt)(r->mem_len > UINT32_MAX ? UINT32_MAX : r->mem_len);
    r->mem_pos = r->zs.avail_in;
    return DCM_OK;
}

int dcm_reader_open_fd(dcm_reader *r, int fd, uint64_t offset, bool deflated)
{
    struct stat st;

    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->fd_pos = offset;
    r->fd_size = DCM_READER_UNKNOWN_SIZE;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        r->fd_size = (uint64_t)st.st_size;
    r->pos = deflated ? 0 : offset;
    r->buf = malloc(DCM_READER_BUFFER_SIZE);
    if (!r->buf)
        return DCM_ENOMEM;
    if (!deflated)
        return DCM_OK;

    r->deflated = true;
    r->raw = malloc(DCM_READER_BUFFER_SIZE);
    if (!r->raw)
        return DCM_ENOMEM;
    if (inflateInit2(&r->zs, -MAX_WBITS) != Z_OK)
        return DCM_ENOMEM;
    r->z_ready = true;
    return DCM_OK;
}

void dcm_reader_close(dcm_reader *r)
{
    if (r->z_ready)
        inflateEnd(&r->zs);
    free(r->buf);
    free(r->raw);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

static bool plain_memory(const dcm_reader *r)
{
    return r->mem && !r->deflated;
}

/* Reads raw bytes from the descriptor at fd_pos; 0 at end of file. */
static ssize_t read_raw(dcm_reader *r, uint8_t *dst, size_t n)
{
    ssize_t got;

    do {
        got = pread(r->fd, dst, n, (off_t)r->fd_pos);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        r->io_error = true;
        return -1;
    }
    r->fd_pos += (uint64_t)got;
    return got;
}

/* Appends decoded bytes to buf after moving the unread ones to its start.
 * Returns the number of bytes added (0 at end of stream) or an error. */
static int refill(dcm_reader *r, size_t *added)
{
    size_t unread = r->buf_len - r->buf_pos;
    size_t room;
    ssize_t got;
    int zrc;

    *added = 0;
    if (r->buf_pos > 0) {
        memmove(r->buf, r->buf + r->buf_pos, unread);
        r->buf_pos = 0;
        r->buf_len = unread;
    }
    room = DCM_READER_BUFFER_SIZE - r->buf_len;
    if (room == 0)
        return DCM_OK;

    if (!r->deflated) {
        got = read_raw(r, r->buf + r->buf_len, room);
        if (got < 0)
            return DCM_EIO;
        r->buf_len += (size_t)got;
        *added = (size_t)got;
        return DCM_OK;
    }

    while (*added == 0 && !r->z_end) {
        if (r->zs.avail_in == 0 && !r->mem) {
            got = read_raw(r, r->raw, DCM_READER_BUFFER_SIZE);
            if (got < 0)
                return DCM_EIO;
            r->zs.next_in = r->raw;
            r->zs.avail_in = (uInt)got;
        }
        if (r->zs.avail_in == 0)
            return DCM_ETRUNCATED; /* compressed data ends before the deflate end marker */

        r->zs.next_out = r->buf + r->buf_len;
        r->zs.avail_out = (uInt)room;
        zrc = inflate(&r->zs, Z_NO_FLUSH);
        *added = room - r->zs.avail_out;
        r->buf_len += *added;
        if (zrc == Z_STREAM_END)
            r->z_end = true;
        else if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return DCM_EMALFORMED;
        else if (zrc == Z_BUF_ERROR && *added == 0 && r->zs.avail_in > 0)
            return DCM_EMALFORMED;
    }
    return DCM_OK;
}

int dcm_reader_peek(dcm_reader *r, size_t n, const uint8_t **bytes)
{
    size_t added;
    int rc;

    if (plain_memory(r)) {
        if (r->mem_len - r->mem_pos < n)
            return DCM_ETRUNCATED;
        *bytes = r->mem + r->mem_pos;
        return DCM_OK;
    }
    while (r->buf_len - r->buf_pos < n) {
        rc = refill(r, &added);
        if (rc != DCM_OK)
            return rc;
        if (added == 0)
            return DCM_ETRUNCATED;
    }
    *bytes = r->buf + r->buf_pos;
    return DCM_OK;
}

int dcm_reader_read(dcm_reader *r, void *dst, size_t n)
{
    uint8_t *out = dst;
    size_t added;
    int rc;

    if (plain_memory(r)) {
        if (r->mem_len - r->mem_pos < n)
            return DCM_ETRUNCATED;
        memcpy(out, r->mem + r->mem_pos, n);
        r->mem_pos += n;
        r->pos += n;
        return DCM_OK;
    }
    while (n > 0) {
        size_t avail = r->buf_len - r->buf_pos;
        size_t take = avail < n ? avail : n;

        if (take > 0) {
            memcpy(out, r->buf + r->buf_pos, take);
            r->buf_pos += take;
            r->pos += take;
            out += take;
            n -= take;
            continue;
        }
        rc = refill(r, &added);
        if (rc != DCM_OK)
            return rc;
        if (added == 0)
            return DCM_ETRUNCATED;
    }
    return DCM_OK;
}

int dcm_reader_skip(dcm_reader *r, uint64_t n)
{
    size_t avail, added;
    int rc;

    if (plain_memory(r)) {
        if (r->mem_len - r->mem_pos < n)
            return DCM_ETRUNCATED;
        r->mem_pos += (size_t)n;
        r->pos += n;
        return DCM_OK;
    }

    avail = r->buf_len - r->buf_pos;
    if (n <= avail) {
        r->buf_pos += (size_t)n;
        r->pos += n;
        return DCM_OK;
    }
    r->buf_pos = r->buf_len;
    r->pos += avail;
    n -= avail;

    /* An uncompressed regular file: move the read offset. */
    if (!r->deflated && r->fd_size != DCM_READER_UNKNOWN_SIZE) {
        if (r->fd_pos > r->fd_size || r->fd_size - r->fd_pos < n)
            return DCM_ETRUNCATED;
        r->fd_pos += n;
        r->pos += n;
        return DCM_OK;
    }

    /* Otherwise decode and discard. */
    while (n > 0) {
        avail = r->buf_len - r->buf_pos;
        if (avail == 0) {
            rc = refill(r, &added);
            if (rc != DCM_OK)
                return rc;
            if (added == 0)
                return DCM_ETRUNCATED;
            continue;
        }
        if (avail > n)
            avail = (size_t)n;
        r->buf_pos += avail;
        r->pos += avail;
        n -= avail;
    }
    return DCM_OK;
}

bool dcm_reader_at_end(dcm_reader *r)
{
    const uint8_t *unused;

    return dcm_reader_peek(r, 1, &unused) == DCM_ETRUNCATED;
}

uint64_t dcm_reader_remaining(const dcm_reader *r)
{
    if (plain_memory(r))
        return r->mem_len - r->mem_pos;
    if (r->deflated || r->fd_size == DCM_READER_UNKNOWN_SIZE)
        return DCM_READER_UNKNOWN_SIZE;
    return (r->fd_size > r->fd_pos ? r->fd_size - r->fd_pos : 0) + (r->buf_len - r->buf_pos);
}
