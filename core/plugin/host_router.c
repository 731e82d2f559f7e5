/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries for the data router that live in core/plugin:
 * subscribe_instance_stored, and dataset_encode and dataset_decode, which
 * let a plugin keep a data set as bytes (explicit VR little endian) in
 * the index and rebuild it later.
 */
#include "plugin/plugin_internal.h"

#include "archive/archive_events.h"
#include "dcm/dcm.h"
#include "util/log.h"

cairn_status plugin_subscribe_instance_stored(cairn_plugin *self, cairn_instance_stored_fn fn,
                                              void *arg)
{
    if (self == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (!self->in_init) {
        log_error(NULL, "%s: subscribe_instance_stored called outside init", self->name);
        return CAIRN_ERR_UNSUPPORTED;
    }
    return archive_events_subscribe(self, fn, arg);
}

cairn_status plugin_dataset_encode(const cairn_dataset *dataset, uint8_t **bytes, size_t *length)
{
    if (dataset == NULL || bytes == NULL || length == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *bytes = NULL;
    *length = 0;
    if (dcm_encode_buffer((const dcm_dataset *)dataset, DCM_TS_EXPLICIT_LE, bytes, length) !=
        DCM_OK)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return CAIRN_OK;
}

cairn_status plugin_dataset_decode(const uint8_t *bytes, size_t length, cairn_dataset **dataset)
{
    dcm_dataset *parsed = NULL;

    if (bytes == NULL || dataset == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *dataset = NULL;
    if (dcm_parse_buffer(bytes, length, DCM_TS_EXPLICIT_LE, NULL, &parsed, NULL) != DCM_OK)
        return CAIRN_ERR_PARSE;
    *dataset = (cairn_dataset *)parsed;
    return CAIRN_OK;
}
