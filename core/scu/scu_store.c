/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One C-STORE sub-operation: the data set is made ready in the transfer
 * syntax of the chosen presentation context before anything is sent, so a
 * conversion failure leaves the association usable. Then the C-STORE-RQ
 * command, the data set and the wait for the C-STORE-RSP follow.
 *
 * Three ways to get the data set bytes:
 *  - same transfer syntax: the stored bytes, streamed from the file;
 *  - uncompressed to uncompressed: core/dcm parses the file and encodes it
 *    again while it is sent;
 *  - compressed to uncompressed: DCMTK decompresses into a temporary file
 *    in <storage>/tmp/, which is streamed and removed.
 */
#include "scu/scu_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcmtk/transcode.h"
#include "dimse/dimse.h"
#include "metrics/metrics.h"
#include "scu/scu_response.h"

#define TAG_MOVE_ORIGINATOR_AE DCM_TAG(0x0000, 0x1030)
#define TAG_MOVE_ORIGINATOR_MESSAGE_ID DCM_TAG(0x0000, 0x1031)
#define PRIORITY_MEDIUM 0x0000
#define DATASET_PRESENT 0x0000

/* The data set ready to send: exactly one of the three forms is set. */
typedef struct prepared_dataset {
    const scu_source *stored;   /* same transfer syntax: stream these bytes */
    dcm_dataset *parsed;        /* uncompressed: encode in the target syntax */
    scu_source decompressed;    /* compressed: DCMTK's output, streamed */
    char tmp_path[PATH_MAX];    /* non-empty while the DCMTK output exists */
} prepared_dataset;

static cairn_status parse_whole_file(const scu_source *src, prepared_dataset *out,
                                     const log_ctx *log)
{
    dcm_error err;

    /* NOTE: the whole data set, pixel data included, is held in memory here;
     * only the stored-syntax and DCMTK paths stream with bounded memory. */
    if (dcm_file_read_fd(src->fd, NULL, NULL, &out->parsed, NULL, &err, NULL) != DCM_OK) {
        log_error(log, "scu: cannot parse %s for re-encoding: %s", src->path, err.message);
        return CAIRN_ERR_UNSUPPORTED;
    }
    return CAIRN_OK;
}

static cairn_status decompress_to_tmp(const scu_channel *channel, const scu_source *src,
                                      const dcm_ts *target, prepared_dataset *out)
{
    char err[320];
    int fd;

    if (snprintf(out->tmp_path, sizeof out->tmp_path, "%s/tmp/scu-XXXXXX.part",
                 channel->storage_path) >= (int)sizeof out->tmp_path) {
        out->tmp_path[0] = '\0';
        return CAIRN_ERR_UNSUPPORTED;
    }
    fd = mkstemps(out->tmp_path, 5);
    if (fd < 0) {
        log_error(channel->log, "scu: cannot create a temporary file for decompression in "
                  "%s/tmp: %s", channel->storage_path, strerror(errno));
        out->tmp_path[0] = '\0';
        return CAIRN_ERR_UNSUPPORTED;
    }
    close(fd);

    if (dcmtk_transcode_file(src->path, out->tmp_path, target->uid, err, sizeof err) != 0) {
        log_error(channel->log, "scu: cannot convert %s from %s to %s: %s", src->path,
                  src->ts->name, target->name, err);
        return CAIRN_ERR_UNSUPPORTED;
    }
    if (scu_source_open_path(out->tmp_path, &out->decompressed, channel->log) != CAIRN_OK)
        return CAIRN_ERR_UNSUPPORTED;
    if (out->decompressed.ts != target) {
        log_error(channel->log, "scu: DCMTK wrote %s instead of %s for %s",
                  out->decompressed.ts->name, target->name, src->path);
        return CAIRN_ERR_UNSUPPORTED;
    }
    return CAIRN_OK;
}

static cairn_status prepare_dataset(const scu_channel *channel, const scu_source *src,
                                    const dcm_ts *target, prepared_dataset *out)
{
    if (src->ts == target) {
        out->stored = src;
        return CAIRN_OK;
    }
    if (!scu_ts_is_uncompressed(target)) {
        log_error(channel->log, "scu: cannot convert %s to the compressed %s", src->path,
                  target->name);
        return CAIRN_ERR_UNSUPPORTED;
    }
    if (scu_ts_is_uncompressed(src->ts))
        return parse_whole_file(src, out, channel->log);
    return decompress_to_tmp(channel, src, target, out);
}

static void release_dataset(prepared_dataset *p)
{
    dcm_dataset_destroy(p->parsed);
    p->parsed = NULL;
    scu_source_close(&p->decompressed);
    if (p->tmp_path[0] != '\0')
        unlink(p->tmp_path);
    p->tmp_path[0] = '\0';
}

static int send_command(const scu_channel *channel, const scu_store_request *request)
{
    dcm_dataset *cmd = dcm_dataset_create();
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = UL_ERROR;
    int set = 0;

    if (cmd == NULL)
        return UL_ERROR;
    set |= dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                                  request->sop_class_uid);
    set |= dcm_dataset_set_u16(cmd, DIMSE_TAG_COMMAND_FIELD, DIMSE_C_STORE_RQ);
    set |= dcm_dataset_set_u16(cmd, DIMSE_TAG_MESSAGE_ID, request->message_id);
    set |= dcm_dataset_set_u16(cmd, DIMSE_TAG_PRIORITY, PRIORITY_MEDIUM);
    set |= dcm_dataset_set_u16(cmd, DIMSE_TAG_DATASET_TYPE, DATASET_PRESENT);
    set |= dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, DCM_VR_UI,
                                  request->sop_instance_uid);
    if (request->move_originator_ae != NULL) {
        set |= dcm_dataset_set_string(cmd, TAG_MOVE_ORIGINATOR_AE, DCM_VR_AE,
                                      request->move_originator_ae);
        set |= dcm_dataset_set_u16(cmd, TAG_MOVE_ORIGINATOR_MESSAGE_ID,
                                   request->move_originator_message_id);
    }
    if (set != 0 || dimse_encode_command(cmd, &buf, &len) != DCM_OK) {
        log_error(channel->log, "scu: cannot encode the C-STORE-RQ for %s",
                  request->sop_instance_uid);
        goto out;
    }
    rc = ul_write_pdv(channel->ul, request->pctx_id, true, buf, len, true);

out:
    free(buf);
    dcm_dataset_destroy(cmd);
    return rc;
}

static int send_dataset(const scu_channel *channel, const scu_store_request *request,
                        const prepared_dataset *p)
{
    if (p->stored != NULL)
        return scu_stream_file(channel->ul, request->pctx_id, p->stored, channel->log);
    if (p->parsed != NULL)
        return scu_stream_dataset(channel->ul, request->pctx_id, p->parsed, request->pctx_ts,
                                  channel->log);
    return scu_stream_file(channel->ul, request->pctx_id, &p->decompressed, channel->log);
}

cairn_status scu_send_store(const scu_channel *channel, const scu_store_request *request,
                            const scu_source *src, cairn_dimse_status *status)
{
    prepared_dataset p = {.decompressed = {.fd = -1}};
    cairn_status result;
    int rc;

    result = prepare_dataset(channel, src, request->pctx_ts, &p);
    if (result != CAIRN_OK)
        goto out;

    rc = send_command(channel, request);
    if (rc == UL_OK)
        rc = send_dataset(channel, request, &p);
    if (rc != UL_OK) {
        log_error(channel->log, "scu: cannot send the C-STORE-RQ for %s: %s; aborting the "
                  "association", request->sop_instance_uid, ul_strerror(rc));
        ul_abort(channel->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        result = CAIRN_ERR_IO;
        goto out;
    }
    log_debug(channel->log, "scu: sent C-STORE-RQ %u for %s on context %u (%s%s)",
              request->message_id, request->sop_instance_uid, request->pctx_id,
              request->pctx_ts->name, p.stored != NULL ? "" : ", converted");

    result = scu_read_store_response(channel, request->message_id, request->sop_instance_uid,
                                     status);
    if (result == CAIRN_OK) {
        metrics_add(METRIC_INSTANCES_SENT, 1);
        metrics_add(METRIC_BYTES_SENT, src->size);
    }

out:
    release_dataset(&p);
    return result;
}
