/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing a C-STORE data set to the Upper Layer with bounded memory: from
 * an archived file, in chunks read with pread, or from an encoder callback
 * whose output is collected into a chunk buffer. The last chunk carries the
 * "last fragment" bit, so a chunk is held back until it is known whether
 * more bytes follow.
 */
#include "scu/scu_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool scu_ts_is_uncompressed(const dcm_ts *ts)
{
    return ts != NULL && !ts->encapsulated;
}

int scu_stream_file(struct ul_assoc *ul, uint8_t pctx_id, const scu_source *src,
                    const log_ctx *log)
{
    uint8_t *buf = malloc(SCU_CHUNK_BYTES);
    uint64_t offset = src->dataset_offset;
    int rc = UL_ERROR;

    if (buf == NULL)
        return UL_ERROR;

    while (offset < src->size) {
        uint64_t remaining = src->size - offset;
        size_t want = remaining < SCU_CHUNK_BYTES ? (size_t)remaining : SCU_CHUNK_BYTES;
        ssize_t got = pread(src->fd, buf, want, (off_t)offset);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            log_error(log, "scu: cannot read %s at offset %llu: %s", src->path,
                      (unsigned long long)offset, got < 0 ? strerror(errno) : "file shrank");
            rc = UL_ERROR;
            goto out;
        }
        offset += (uint64_t)got;
        rc = ul_write_pdv(ul, pctx_id, false, buf, (size_t)got, offset >= src->size);
        if (rc != UL_OK)
            goto out;
    }
    rc = UL_OK;

out:
    free(buf);
    return rc;
}

/* Collects encoder output and passes full chunks on, holding the latest back. */
typedef struct chunk_writer {
    struct ul_assoc *ul;
    uint8_t pctx_id;
    uint8_t *buf;
    size_t used;
    int ul_status;
} chunk_writer;

static int chunk_write(void *ctx, const void *data, size_t len)
{
    chunk_writer *w = ctx;
    const uint8_t *p = data;

    while (len > 0) {
        size_t room;

        /* A full chunk goes out only now, when more bytes are known to follow it. */
        if (w->used == SCU_CHUNK_BYTES) {
            w->ul_status = ul_write_pdv(w->ul, w->pctx_id, false, w->buf, w->used, false);
            if (w->ul_status != UL_OK)
                return -1;
            w->used = 0;
        }
        room = SCU_CHUNK_BYTES - w->used;
        if (room > len)
            room = len;
        memcpy(w->buf + w->used, p, room);
        w->used += room;
        p += room;
        len -= room;
    }
    return 0;
}

int scu_stream_dataset(struct ul_assoc *ul, uint8_t pctx_id, const dcm_dataset *ds,
                       const dcm_ts *ts, const log_ctx *log)
{
    chunk_writer w = {.ul = ul, .pctx_id = pctx_id, .ul_status = UL_OK};
    int rc;

    w.buf = malloc(SCU_CHUNK_BYTES);
    if (w.buf == NULL)
        return UL_ERROR;

    rc = dcm_write_dataset(ds, ts, chunk_write, &w);
    if (rc != DCM_OK) {
        if (w.ul_status == UL_OK) {
            log_error(log, "scu: cannot encode the data set in %s: %s", ts->name,
                      dcm_strerror(rc));
            w.ul_status = UL_ERROR;
        }
        goto out;
    }
    if (w.used == 0) {
        log_error(log, "scu: the data set is empty");
        w.ul_status = UL_ERROR;
        goto out;
    }
    w.ul_status = ul_write_pdv(ul, pctx_id, false, w.buf, w.used, true);

out:
    free(w.buf);
    return w.ul_status;
}
