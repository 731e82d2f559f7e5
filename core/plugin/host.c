/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API table every plugin receives in init. Each entry points at a
 * core function: memory here, logging, configuration, registration and data
 * sets in the other host_*.c files of this folder, associations, requests,
 * replies and the archive in core/dimse. The order of the initialisers
 * follows struct cairn_host_api, and every entry is filled.
 */
#include "plugin/plugin_internal.h"

#include <stdlib.h>

#include "archive/archive_detached.h"
#include "archive/archive_lease.h"
#include "archive/archive_reject.h"
#include "archive/archive_router.h"
#include "commit/commit_host.h"
#include "dimse/dimse_host.h"
#include "scu/scu_event.h"
#include "scu/scu_host.h"
#include "scu/scu_request.h"

static void *host_alloc(size_t size)
{
    return malloc(size);
}

static void host_free(void *ptr)
{
    free(ptr);
}

static const cairn_host_api host_api = {
    .struct_size = sizeof(cairn_host_api),
    .abi_major = CAIRN_SDK_ABI_MAJOR,
    .abi_minor = CAIRN_SDK_ABI_MINOR,

    .alloc = host_alloc,
    .free = host_free,

    .log = plugin_host_log,
    .log_assoc = plugin_host_log_assoc,

    .config_get_string = plugin_config_get_string,
    .config_get_int = plugin_config_get_int,
    .config_get_bool = plugin_config_get_bool,
    .config_get_path = plugin_config_get_path,
    .config_check_keys = plugin_config_check_keys,

    .register_service = plugin_register_service,
    .register_index = plugin_register_index,

    .dataset_create = plugin_dataset_create,
    .dataset_destroy = plugin_dataset_destroy,
    .dataset_count = plugin_dataset_count,
    .dataset_at = plugin_dataset_at,
    .dataset_find = plugin_dataset_find,
    .element_tag = plugin_element_tag,
    .element_vr = plugin_element_vr,
    .element_length = plugin_element_length,
    .element_value = plugin_element_value,
    .element_item_count = plugin_element_item_count,
    .element_item = plugin_element_item,
    .dataset_get_string = plugin_dataset_get_string,
    .dataset_get_utf8 = plugin_dataset_get_utf8,
    .dataset_get_uint = plugin_dataset_get_uint,
    .dataset_set_string = plugin_dataset_set_string,
    .dataset_set_uint = plugin_dataset_set_uint,
    .dataset_set_bytes = plugin_dataset_set_bytes,
    .dataset_remove = plugin_dataset_remove,
    .dataset_append_item = plugin_dataset_append_item,

    .assoc_id = dimse_host_assoc_id,
    .assoc_calling_ae = dimse_host_assoc_calling_ae,
    .assoc_called_ae = dimse_host_assoc_called_ae,
    .assoc_peer_address = dimse_host_assoc_peer_address,

    .message_command = dimse_host_message_command,
    .message_dataset = dimse_host_message_dataset,
    .message_error = dimse_host_message_error,
    .message_transfer_syntax = dimse_host_message_transfer_syntax,
    .message_sop_class = dimse_host_message_sop_class,
    .message_sop_instance = dimse_host_message_sop_instance,

    .reply_set_status = dimse_host_reply_set_status,
    .reply_set_error_comment = dimse_host_reply_set_error_comment,
    .reply_set_dataset = dimse_host_reply_set_dataset,

    .archive_store = archive_host_store,

    .archive_query = archive_host_query,
    .reply_send_pending = dimse_host_reply_send_pending,
    .reply_set_command_uint = dimse_host_reply_set_command_uint,
    .message_cancelled = dimse_host_message_cancelled,
    .assoc_extended_negotiation = dimse_host_assoc_extended_negotiation,
    .outbound_open = scu_host_outbound_open,
    .outbound_store = scu_host_outbound_store,
    .outbound_close = scu_host_outbound_close,
    .assoc_store = scu_host_assoc_store,

    .dataset_set_empty_sequence = plugin_dataset_set_empty_sequence,
    .reply_remove_command_field = dimse_host_reply_remove_command_field,
    .remote_exists = dimse_host_remote_exists,

    .archive_delete_instance = archive_host_delete_instance,
    .archive_reject_instances = archive_host_reject_instances,

    .config_get_string_list = plugin_config_get_string_list,

    .archive_document_put = archive_host_document_put,
    .archive_document_delete = archive_host_document_delete,
    .archive_document_list = archive_host_document_list,
    .archive_index_query = archive_host_index_query,
    .archive_file_check = archive_host_file_check,
    .assoc_after_response = dimse_host_assoc_after_response,
    .assoc_event_report = scu_host_assoc_event_report,
    .remote_event_report = archive_host_remote_event_report,

    .reply_set_attribute_list = dimse_host_reply_set_attribute_list,
    .dataset_encode = plugin_dataset_encode,
    .dataset_decode = plugin_dataset_decode,
    .subscribe_instance_stored = plugin_subscribe_instance_stored,
    .archive_mpps_put = archive_host_mpps_put,
    .archive_mpps_get = archive_host_mpps_get,
    .archive_mpps_list = archive_host_mpps_list,
    .archive_outbox_add = archive_host_outbox_add,
    .archive_outbox_update = archive_host_outbox_update,
    .archive_outbox_delete = archive_host_outbox_delete,
    .archive_outbox_list = archive_host_outbox_list,
    .remote_open = archive_host_remote_open,
    .outbound_accepts = scu_host_outbound_accepts,
    .outbound_request = scu_host_outbound_request,

    .config_get_groups = plugin_config_get_groups,
    .commitment_report_received = commit_host_report_received,

    .archive_lease_acquire = archive_host_lease_acquire,
    .archive_lease_release = archive_host_lease_release,
    .archive_lease_ms = archive_host_lease_ms,

    .config_error = plugin_config_error,
    .config_is_string = plugin_config_is_string,
    .config_remote_exists = plugin_config_remote_exists,
};

const cairn_host_api *plugin_host_api(void)
{
    return &host_api;
}
