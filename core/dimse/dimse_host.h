/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The association, request and reply objects behind the SDK's opaque
 * cairn_assoc, cairn_message and cairn_reply handles, and the host API
 * entries that read and fill them.
 */
#ifndef CAIRN_DIMSE_HOST_H
#define CAIRN_DIMSE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#include "dcm/dcm.h"
#include "util/log.h"

struct archive;
struct archive_tmp;
struct ul_assoc;
struct conf_ae;
struct cairn_conf;

/* An accepted association as services see it. Lives on its worker thread. */
struct cairn_assoc {
    uint64_t id;
    log_ctx log;
    char peer_address[64];
    char calling_ae[17];
    char called_ae[17];
    struct ul_assoc *ul;
    const struct conf_ae *ae;
    struct archive *archive;
    const struct cairn_conf *conf;   /* the daemon's configuration (remotes, timeouts) */
    cairn_message *serving;          /* the request whose handler runs now, or NULL */
    uint16_t last_store_message_id;  /* Message ID of the last request we sent on it */
    /* Work a handler scheduled with assoc_after_response, run after its response. */
    void (*after_response)(void *arg, cairn_assoc *assoc);
    void *after_response_arg;
    bool ended;                      /* a release was granted outside the serving loop */
};

/* A received request. command and dataset are owned by the message. */
struct cairn_message {
    cairn_assoc *assoc;
    uint8_t pctx_id;
    uint16_t command_field;
    uint16_t message_id;
    dcm_dataset *command;
    dcm_dataset *dataset;            /* NULL when absent or unparsable */
    char error[256];                 /* non-empty when the data set failed to parse */
    const char *transfer_syntax_uid; /* static string from the transfer syntax table */
    char sop_class_uid[65];
    char sop_instance_uid[65];
    struct archive_tmp *tmp;         /* C-STORE only: the received file */
    bool cancelled;                  /* a C-CANCEL-RQ for this message arrived */
    bool failed;                     /* the association failed while serving it */
};

/* Most US fields a handler may add to a response command set. */
#define DIMSE_REPLY_MAX_FIELDS 8

/* Most tags in a response's Attribute Identifier List. */
#define DIMSE_REPLY_MAX_ATTRIBUTES 32

/* The response a handler builds. dataset is owned by the reply. */
struct cairn_reply {
    cairn_dimse_status status;
    char error_comment[65];
    dcm_dataset *dataset;
    cairn_message *request;          /* the request answered, for pending responses */
    struct {
        cairn_tag tag;
        uint16_t value;
    } fields[DIMSE_REPLY_MAX_FIELDS];
    size_t field_count;
    cairn_tag attribute_list[DIMSE_REPLY_MAX_ATTRIBUTES]; /* Attribute Identifier List (0000,1005) */
    size_t attribute_count;
};

uint64_t dimse_host_assoc_id(const cairn_assoc *assoc);
const char *dimse_host_assoc_calling_ae(const cairn_assoc *assoc);
const char *dimse_host_assoc_called_ae(const cairn_assoc *assoc);
const char *dimse_host_assoc_peer_address(const cairn_assoc *assoc);
const log_ctx *dimse_host_assoc_log_ctx(const cairn_assoc *assoc);
int dimse_host_remote_exists(const cairn_assoc *assoc, const char *remote_title);

const cairn_dataset *dimse_host_message_command(const cairn_message *message);
const cairn_dataset *dimse_host_message_dataset(const cairn_message *message);
const char *dimse_host_message_error(const cairn_message *message);
const char *dimse_host_message_transfer_syntax(const cairn_message *message);
const char *dimse_host_message_sop_class(const cairn_message *message);
const char *dimse_host_message_sop_instance(const cairn_message *message);

void dimse_host_reply_set_status(cairn_reply *reply, cairn_dimse_status status);
void dimse_host_reply_set_error_comment(cairn_reply *reply, const char *comment);
cairn_status dimse_host_reply_set_dataset(cairn_reply *reply, cairn_dataset *dataset);

cairn_status dimse_host_reply_send_pending(cairn_reply *reply, cairn_dimse_status status,
                                          cairn_dataset *identifier);
cairn_status dimse_host_reply_set_command_uint(cairn_reply *reply, cairn_tag tag, uint32_t value);
cairn_status dimse_host_reply_set_attribute_list(cairn_reply *reply, const cairn_tag *tags,
                                                size_t count);
cairn_status dimse_host_reply_remove_command_field(cairn_reply *reply, cairn_tag tag);
int dimse_host_message_cancelled(const cairn_message *message);
cairn_status dimse_host_assoc_after_response(cairn_assoc *assoc,
                                             void (*fn)(void *arg, cairn_assoc *assoc),
                                             void *arg);
cairn_status dimse_host_assoc_extended_negotiation(const cairn_assoc *assoc, const char *sop_class,
                                                   const uint8_t **info, size_t *length);

cairn_status archive_host_query(cairn_assoc *assoc, const cairn_index_query *query,
                                cairn_index_row_fn fn, void *arg);

cairn_status archive_host_store(cairn_assoc *assoc, const cairn_message *request,
                                cairn_duplicate_policy policy, cairn_store_outcome *outcome);

#endif
