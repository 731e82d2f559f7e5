/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Background writer of a large temporary instance file. A direct (O_DIRECT)
 * write blocks until the disk has the bytes, so the receiving thread hands
 * full buffers to a thread of this file and goes on reading the network
 * into the next buffer. Memory is bounded: a fixed ring of aligned buffers,
 * and the receiver waits when every buffer is queued.
 */
#ifndef CAIRN_ARCHIVE_WRITER_H
#define CAIRN_ARCHIVE_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct archive_writer archive_writer;

/*
 * Starts a writer of count buffers of buffer_size bytes, each aligned to
 * align, whose first queued buffer goes to fd at offset. Returns NULL with
 * errno set when memory or the thread cannot be had.
 */
archive_writer *archive_writer_start(int fd, uint64_t offset, size_t buffer_size,
                                     size_t align, unsigned count);

/* Returns the buffer to fill next, waiting while every buffer is queued. */
uint8_t *archive_writer_next(archive_writer *w);

/*
 * Queues len bytes of the buffer returned by the last archive_writer_next,
 * to be written right after the bytes queued before. Returns 0, or -1 with
 * errno set when an earlier write failed; nothing is written after a
 * failure.
 */
int archive_writer_queue(archive_writer *w, size_t len);

/* Waits until every queued buffer is written; returns 0 or -1 with the
 * errno of the first failed write. */
int archive_writer_drain(archive_writer *w);

/* Stops the thread after the write in progress and frees the buffers. NULL is fine. */
void archive_writer_stop(archive_writer *w);

#endif
