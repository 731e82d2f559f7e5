/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries on associations, requests and replies. They only read
 * or fill the structs of dimse_host.h, or read the configuration; the
 * association loop owns them.
 */
#include "dimse/dimse_host.h"

#include <stdio.h>
#include <string.h>

#include "config/conf.h"

uint64_t dimse_host_assoc_id(const cairn_assoc *assoc)
{
    return assoc ? assoc->id : 0;
}

const char *dimse_host_assoc_calling_ae(const cairn_assoc *assoc)
{
    return assoc ? assoc->calling_ae : NULL;
}

const char *dimse_host_assoc_called_ae(const cairn_assoc *assoc)
{
    return assoc ? assoc->called_ae : NULL;
}

const char *dimse_host_assoc_peer_address(const cairn_assoc *assoc)
{
    return assoc ? assoc->peer_address : NULL;
}

const log_ctx *dimse_host_assoc_log_ctx(const cairn_assoc *assoc)
{
    return assoc ? &assoc->log : NULL;
}

int dimse_host_remote_exists(const cairn_assoc *assoc, const char *remote_title)
{
    if (assoc == NULL || assoc->conf == NULL || remote_title == NULL)
        return 0;
    return conf_find_remote(assoc->conf, remote_title) != NULL;
}

const cairn_dataset *dimse_host_message_command(const cairn_message *message)
{
    return message ? (const cairn_dataset *)message->command : NULL;
}

const cairn_dataset *dimse_host_message_dataset(const cairn_message *message)
{
    return message ? (const cairn_dataset *)message->dataset : NULL;
}

const char *dimse_host_message_error(const cairn_message *message)
{
    if (message == NULL || message->error[0] == '\0')
        return NULL;
    return message->error;
}

const char *dimse_host_message_transfer_syntax(const cairn_message *message)
{
    return message ? message->transfer_syntax_uid : NULL;
}

const char *dimse_host_message_sop_class(const cairn_message *message)
{
    return message ? message->sop_class_uid : NULL;
}

const char *dimse_host_message_sop_instance(const cairn_message *message)
{
    if (message == NULL || message->sop_instance_uid[0] == '\0')
        return NULL;
    return message->sop_instance_uid;
}

void dimse_host_reply_set_status(cairn_reply *reply, cairn_dimse_status status)
{
    if (reply != NULL)
        reply->status = status;
}

void dimse_host_reply_set_error_comment(cairn_reply *reply, const char *comment)
{
    if (reply == NULL)
        return;

    /* Error Comment is LO: at most 64 characters, no backslash. */
    snprintf(reply->error_comment, sizeof reply->error_comment, "%s", comment ? comment : "");
    for (char *p = reply->error_comment; *p; p++) {
        if (*p == '\\' || (unsigned char)*p < 0x20)
            *p = ' ';
    }
}

cairn_status dimse_host_reply_set_dataset(cairn_reply *reply, cairn_dataset *dataset)
{
    if (reply == NULL || dataset == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    dcm_dataset_destroy(reply->dataset);
    reply->dataset = (dcm_dataset *)dataset;
    return CAIRN_OK;
}

cairn_status dimse_host_assoc_after_response(cairn_assoc *assoc,
                                             void (*fn)(void *arg, cairn_assoc *assoc),
                                             void *arg)
{
    if (assoc == NULL || fn == NULL || assoc->serving == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    assoc->after_response = fn;
    assoc->after_response_arg = arg;
    return CAIRN_OK;
}
