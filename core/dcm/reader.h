/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte reader under the parser: a memory buffer or a file descriptor read
 * through a fixed 64 KiB buffer, optionally inflated (raw deflate, PS3.5
 * A.5). Positions are offsets in the decoded stream: file offsets for an
 * uncompressed descriptor, offsets from the start of the inflated data for
 * a deflated one.
 */
#ifndef CAIRN_DCM_READER_H
#define CAIRN_DCM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define DCM_READER_BUFFER_SIZE (64u * 1024u)
#define DCM_READER_UNKNOWN_SIZE UINT64_MAX

typedef struct dcm_reader {
    /* memory source (mem != NULL) */
    const uint8_t *mem;
    size_t mem_len;
    size_t mem_pos;
    /* descriptor source */
    int fd;
    uint64_t fd_pos;      /* next raw offset to read */
    uint64_t fd_size;     /* file size, or DCM_READER_UNKNOWN_SIZE */
    uint8_t *raw;         /* compressed input buffer (deflated descriptor only) */
    /* decoded bytes waiting to be consumed (all modes but plain memory) */
    uint8_t *buf;
    size_t buf_len;
    size_t buf_pos;
    /* inflate */
    bool deflated;
    bool z_ready;
    bool z_end;
    z_stream zs;
    /* position of the next byte to consume in the decoded stream */
    uint64_t pos;
    bool io_error;
} dcm_reader;

int dcm_reader_open_memory(dcm_reader *r, const void *data, size_t len, bool deflated);
int dcm_reader_open_fd(dcm_reader *r, int fd, uint64_t offset, bool deflated);
void dcm_reader_close(dcm_reader *r);

/* Makes n (<= 64) bytes available without consuming them. Returns
 * DCM_ETRUNCATED when the stream ends first, DCM_EIO or DCM_EMALFORMED
 * when reading or inflating fails. */
int dcm_reader_peek(dcm_reader *r, size_t n, const uint8_t **bytes);
int dcm_reader_read(dcm_reader *r, void *dst, size_t n);
int dcm_reader_skip(dcm_reader *r, uint64_t n);
/* True when no byte is left; false as well after an I/O error, which the
 * next read reports. */
bool dcm_reader_at_end(dcm_reader *r);
/* Bytes left in the stream, or DCM_READER_UNKNOWN_SIZE when not known
 * in advance (deflated data, pipes). */
uint64_t dcm_reader_remaining(const dcm_reader *r);

#endif
