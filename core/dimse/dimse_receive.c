/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receiving one DIMSE request: command PDVs into a bounded buffer, then
 * the data set either into memory (bounded) or, for C-STORE, straight into
 * a temporary archive file that is parsed afterwards for its leading
 * attributes.
 */
#include "dimse/dimse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "assoc/assoc.h"
#include "ul/ul.h"

/* Values longer than this are not loaded when a C-STORE data set is parsed. */
#define STORE_MAX_VALUE_LOAD (64u * 1024u)

typedef struct byte_buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
} byte_buffer;

static int buffer_append(byte_buffer *b, const uint8_t *data, size_t len, size_t limit)
{
    if (len > limit - b->len)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;

        while (cap < b->len + len)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        p = realloc(b->data, cap);
        if (p == NULL)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

/* Maps what the Upper Layer returned inside a message to a dimse_result. */
static int mid_message_failure(cairn_assoc *assoc, int ul_rc, const char *what)
{
    switch (ul_rc) {
    case UL_ABORTED:
        log_info(&assoc->log, "peer aborted the association during %s", what);
        return DIMSE_PEER_ABORTED;
    case UL_CLOSED:
        log_warn(&assoc->log, "peer closed the connection during %s", what);
        return DIMSE_CLOSED;
    case UL_TIMEOUT:
        log_warn(&assoc->log, "DIMSE timeout during %s; aborting", what);
        ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
        return DIMSE_FAILED;
    case UL_RELEASE_REQUESTED:
        log_warn(&assoc->log, "peer requested release during %s; aborting", what);
        ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_UNEXPECTED_PDU);
        return DIMSE_FAILED;
    default:
        return DIMSE_FAILED;
    }
}

static int protocol_failure(cairn_assoc *assoc, const char *why)
{
    log_warn(&assoc->log, "%s; aborting the association", why);
    ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_UNEXPECTED_PARAMETER);
    return DIMSE_FAILED;
}

static int read_command(cairn_assoc *assoc, const dimse_limits *limits, byte_buffer *cmd,
                        uint8_t *pctx_id)
{
    ul_pdv pdv;
    int rc;
    bool first = true;

    for (;;) {
        rc = ul_read_pdv(assoc->ul, &pdv, first ? limits->idle_timeout_ms : limits->dimse_timeout_ms);
        if (rc != UL_OK) {
            if (!first)
                return mid_message_failure(assoc, rc, "a command");
            if (rc == UL_RELEASE_REQUESTED)
                return DIMSE_RELEASE_REQUESTED;
            if (rc == UL_ABORTED)
                return DIMSE_PEER_ABORTED;
            if (rc == UL_CLOSED)
                return DIMSE_CLOSED;
            if (rc == UL_TIMEOUT)
                return DIMSE_IDLE_TIMEOUT;
            return DIMSE_FAILED;
        }

        if (first && limits->on_message_start != NULL)
            limits->on_message_start(limits->on_message_start_arg);
        if (!pdv.command)
            return protocol_failure(assoc, "data PDV received where a command was expected");
        if (!first && pdv.pctx_id != *pctx_id)
            return protocol_failure(assoc, "command fragments on different presentation contexts");
        *pctx_id = pdv.pctx_id;
        first = false;

        if (buffer_append(cmd, pdv.data, pdv.len, DIMSE_MAX_COMMAND_BYTES) != 0)
            return protocol_failure(assoc, "command set larger than 64 KiB");
        if (pdv.last)
            return DIMSE_OK;
    }
}

static int parse_command(cairn_assoc *assoc, const byte_buffer *cmd, cairn_message *msg,
                         uint16_t *dataset_type)
{
    dcm_error err = {0};
    uint32_t value;

    if (dcm_parse_buffer(cmd->data, cmd->len, dcm_ts_find("1.2.840.10008.1.2"), NULL,
                         &msg->command, &err) != DCM_OK) {
        log_warn(&assoc->log, "command set cannot be parsed: %s", err.message);
        return -1;
    }
    if (dcm_dataset_get_uint(msg->command, DIMSE_TAG_COMMAND_FIELD, 0, &value) != DCM_OK) {
        log_warn(&assoc->log, "command set has no Command Field (0000,0100)");
        return -1;
    }
    msg->command_field = (uint16_t)value;
    if (dcm_dataset_get_uint(msg->command, DIMSE_TAG_MESSAGE_ID, 0, &value) == DCM_OK)
        msg->message_id = (uint16_t)value;
    *dataset_type = DIMSE_NO_DATASET;
    if (dcm_dataset_get_uint(msg->command, DIMSE_TAG_DATASET_TYPE, 0, &value) == DCM_OK)
        *dataset_type = (uint16_t)value;

    if (dcm_dataset_get_string(msg->command, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, 0,
                               msg->sop_class_uid, sizeof msg->sop_class_uid) != DCM_OK)
        dcm_dataset_get_string(msg->command, DIMSE_TAG_REQUESTED_SOP_CLASS_UID, 0,
                               msg->sop_class_uid, sizeof msg->sop_class_uid);
    if (dcm_dataset_get_string(msg->command, DIMSE_TAG_AFFECTED_SOP_INSTANCE_UID, 0,
                               msg->sop_instance_uid, sizeof msg->sop_instance_uid) != DCM_OK)
        dcm_dataset_get_string(msg->command, DIMSE_TAG_REQUESTED_SOP_INSTANCE_UID, 0,
                               msg->sop_instance_uid, sizeof msg->sop_instance_uid);
    return 0;
}

static int tmp_write_cb(void *ctx, const void *data, size_t len)
{
    return archive_tmp_write(ctx, data, len);
}

/* The temporary file as the destination of data PDVs, and its first write error. */
typedef struct store_sink {
    archive_tmp *tmp;
    int write_errno;
} store_sink;

static uint8_t *sink_reserve(void *arg, size_t *room)
{
    store_sink *sink = arg;
    uint8_t *space;

    if (sink->write_errno != 0)
        return NULL;
    space = archive_tmp_space(sink->tmp, room);
    if (space == NULL)
        sink->write_errno = errno ? errno : ENOMEM;
    return space;
}

static int sink_store(void *arg, size_t n)
{
    store_sink *sink = arg;

    if (archive_tmp_advance(sink->tmp, n) != 0) {
        sink->write_errno = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

/*
 * Reads the data PDVs of a C-STORE into a temporary file. Large PDVs go
 * from the socket straight into the file's buffer (ul_read_pdv_to). A
 * write failure does not stop the reading: the rest of the message is
 * drained so the peer can be answered with a status instead of an abort.
 */
static int receive_store_dataset(cairn_assoc *assoc, const dimse_limits *limits,
                                 cairn_message *msg, cairn_dimse_status *local_status)
{
    dcm_dataset *meta = NULL;
    uint64_t dataset_offset;
    store_sink sink = {0};
    ul_pdv_sink to_file = {.reserve = sink_reserve, .store = sink_store, .arg = &sink};
    int write_errno;
    ul_pdv pdv;
    int rc;

    msg->tmp = archive_tmp_create(assoc->archive, msg->sop_instance_uid, &assoc->log);
    sink.tmp = msg->tmp;
    if (msg->tmp == NULL)
        sink.write_errno = errno ? errno : EIO;

    if (msg->tmp != NULL) {
        meta = dcm_meta_create(msg->sop_class_uid, msg->sop_instance_uid,
                               msg->transfer_syntax_uid, assoc->calling_ae);
        if (meta == NULL || dcm_meta_write(meta, tmp_write_cb, msg->tmp) != DCM_OK)
            sink.write_errno = errno ? errno : EIO;
        dcm_dataset_destroy(meta);
    }
    dataset_offset = msg->tmp ? archive_tmp_size(msg->tmp) : 0;

    for (;;) {
        rc = ul_read_pdv_to(assoc->ul, &pdv, limits->dimse_timeout_ms,
                            sink.write_errno == 0 ? &to_file : NULL);
        if (rc != UL_OK)
            return mid_message_failure(assoc, rc, "a C-STORE data set");
        if (pdv.command || pdv.pctx_id != msg->pctx_id)
            return protocol_failure(assoc, "unexpected PDV inside a C-STORE data set");

        /* pdv.data is NULL when the payload already went to the file. */
        if (pdv.data != NULL && sink.write_errno == 0 &&
            archive_tmp_write(msg->tmp, pdv.data, pdv.len) != 0)
            sink.write_errno = errno;
        if (pdv.last)
            break;
    }

    write_errno = sink.write_errno;

    if (write_errno == 0 && archive_tmp_flush(msg->tmp) != 0)
        write_errno = errno;
    if (write_errno != 0) {
        *local_status = CAIRN_DIMSE_STORE_OUT_OF_RESOURCES;
        snprintf(msg->error, sizeof msg->error, "cannot write instance: %s",
                 strerror(write_errno));
        log_error(&assoc->log, "C-STORE of %s: %s", msg->sop_instance_uid, msg->error);
        return DIMSE_OK;
    }

    /* Walk the whole data set to catch truncation; load only small values. */
    dcm_read_options opt = {
        .max_value_load = STORE_MAX_VALUE_LOAD,
        .stop_at = 0,
        .max_depth = limits->max_sequence_depth,
    };
    dcm_error err = {0};
    const dcm_ts *ts = dcm_ts_find(msg->transfer_syntax_uid);
    const uint8_t *whole = archive_tmp_contents(msg->tmp);
    int parsed;

    /* A small instance is parsed from memory, and a large one is read back from its file. */
    if (whole != NULL) {
        parsed = dcm_parse_buffer(whole + dataset_offset,
                                  (size_t)(archive_tmp_size(msg->tmp) - dataset_offset), ts, &opt,
                                  &msg->dataset, &err);

        /* Report file offsets, as when the file is read back. Inflated data has its own. */
        if (parsed != DCM_OK && ts != NULL && !ts->deflated)
            err.offset += dataset_offset;
    } else {
        parsed = dcm_parse_fd(archive_tmp_fd(msg->tmp), dataset_offset, ts, &opt, &msg->dataset,
                              &err);
    }
    if (parsed != DCM_OK) {
        snprintf(msg->error, sizeof msg->error, "data set cannot be parsed at byte %llu: %.160s",
                 (unsigned long long)err.offset, err.message);
        msg->dataset = NULL;
    }
    return DIMSE_OK;
}

static int receive_memory_dataset(cairn_assoc *assoc, const dimse_limits *limits,
                                  cairn_message *msg)
{
    byte_buffer data = {0};
    ul_pdv pdv;
    int rc;
    dcm_error err = {0};
    dcm_read_options opt = {.max_depth = limits->max_sequence_depth};

    for (;;) {
        rc = ul_read_pdv(assoc->ul, &pdv, limits->dimse_timeout_ms);
        if (rc != UL_OK) {
            free(data.data);
            return mid_message_failure(assoc, rc, "a data set");
        }
        if (pdv.command || pdv.pctx_id != msg->pctx_id) {
            free(data.data);
            return protocol_failure(assoc, "unexpected PDV inside a data set");
        }
        if (buffer_append(&data, pdv.data, pdv.len, DIMSE_MAX_DATASET_BYTES) != 0) {
            free(data.data);
            return protocol_failure(assoc, "data set larger than 16 MiB");
        }
        if (pdv.last)
            break;
    }

    if (dcm_parse_buffer(data.data, data.len, dcm_ts_find(msg->transfer_syntax_uid), &opt,
                         &msg->dataset, &err) != DCM_OK) {
        snprintf(msg->error, sizeof msg->error, "data set cannot be parsed at byte %llu: %.160s",
                 (unsigned long long)err.offset, err.message);
        msg->dataset = NULL;
    }
    free(data.data);
    return DIMSE_OK;
}

int dimse_receive(cairn_assoc *assoc, const dimse_limits *limits, cairn_message *msg,
                  cairn_dimse_status *local_status)
{
    byte_buffer cmd = {0};
    uint16_t dataset_type;
    int rc;

    *local_status = 0;
    msg->assoc = assoc;

    rc = read_command(assoc, limits, &cmd, &msg->pctx_id);
    if (rc != DIMSE_OK)
        goto out;

    if (parse_command(assoc, &cmd, msg, &dataset_type) != 0) {
        rc = protocol_failure(assoc, "invalid command set");
        goto out;
    }
    msg->transfer_syntax_uid = assoc_pctx_transfer_syntax(assoc, msg->pctx_id);
    if (msg->transfer_syntax_uid == NULL) {
        rc = protocol_failure(assoc, "command on a presentation context that was not accepted");
        goto out;
    }
    log_debug(&assoc->log, "received %s, message %u, context %u",
              dimse_command_name(msg->command_field), msg->message_id, msg->pctx_id);

    if (dataset_type == DIMSE_NO_DATASET)
        goto out;
    if (msg->command_field == DIMSE_C_STORE_RQ)
        rc = receive_store_dataset(assoc, limits, msg, local_status);
    else
        rc = receive_memory_dataset(assoc, limits, msg);

out:
    free(cmd.data);
    return rc;
}

void dimse_message_clear(cairn_message *msg)
{
    dcm_dataset_destroy(msg->command);
    dcm_dataset_destroy(msg->dataset);
    archive_tmp_discard(msg->tmp);
    memset(msg, 0, sizeof *msg);
}
