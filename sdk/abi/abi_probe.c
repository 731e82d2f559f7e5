/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A shared object that names every type of the plugin SDK in the
 * signature of an exported function. The SDK is headers only, so abidw
 * (libabigail) has nothing to describe until some binary uses the types;
 * check-abi.sh builds this file with debug information and compares what
 * abidw reports against the committed baseline. Types reachable from
 * these (the host API's and the index ops' function pointers, and the
 * structs they take) are described too.
 */
#include <cairn/cairn.h>

#define PROBE CAIRN_EXPORT

PROBE void cairn_abi_plugin(const cairn_plugin_descriptor *descriptor, const cairn_host_api *api,
                            cairn_plugin_entry_fn entry, cairn_plugin_init_fn init,
                            cairn_plugin_shutdown_fn shutdown, cairn_log_level level,
                            cairn_plugin *plugin, cairn_config *config, cairn_outbound *outbound);
PROBE void cairn_abi_service(const cairn_service *service, cairn_dimse_op op,
                             cairn_dimse_handler handler, cairn_extended_negotiation_fn negotiate,
                             cairn_common_extended_negotiation_fn negotiate_common,
                             cairn_store_outcome outcome, cairn_duplicate_policy policy,
                             cairn_assoc *assoc, cairn_message *message, cairn_reply *reply);
PROBE void cairn_abi_index(const cairn_index_ops *ops, const cairn_instance_file *file,
                           const cairn_index_row *row, const cairn_index_query *query,
                           cairn_index_level level, cairn_index_row_fn row_fn, cairn_job_fn job_fn);
PROBE void cairn_abi_dataset(cairn_tag tag, cairn_vr vr, cairn_dataset *dataset,
                             cairn_element *element);
PROBE void cairn_abi_status(cairn_status status, cairn_dimse_status dimse_status);

void cairn_abi_plugin(const cairn_plugin_descriptor *descriptor, const cairn_host_api *api,
                      cairn_plugin_entry_fn entry, cairn_plugin_init_fn init,
                      cairn_plugin_shutdown_fn shutdown, cairn_log_level level,
                      cairn_plugin *plugin, cairn_config *config, cairn_outbound *outbound)
{
    (void)descriptor, (void)api, (void)entry, (void)init, (void)shutdown, (void)level;
    (void)plugin, (void)config, (void)outbound;
}

void cairn_abi_service(const cairn_service *service, cairn_dimse_op op,
                       cairn_dimse_handler handler, cairn_extended_negotiation_fn negotiate,
                       cairn_common_extended_negotiation_fn negotiate_common,
                       cairn_store_outcome outcome, cairn_duplicate_policy policy,
                       cairn_assoc *assoc, cairn_message *message, cairn_reply *reply)
{
    (void)service, (void)op, (void)handler, (void)negotiate, (void)negotiate_common;
    (void)outcome, (void)policy, (void)assoc, (void)message, (void)reply;
}

void cairn_abi_index(const cairn_index_ops *ops, const cairn_instance_file *file,
                     const cairn_index_row *row, const cairn_index_query *query,
                     cairn_index_level level, cairn_index_row_fn row_fn, cairn_job_fn job_fn)
{
    (void)ops, (void)file, (void)row, (void)query, (void)level, (void)row_fn, (void)job_fn;
}

void cairn_abi_dataset(cairn_tag tag, cairn_vr vr, cairn_dataset *dataset, cairn_element *element)
{
    (void)tag, (void)vr, (void)dataset, (void)element;
}

void cairn_abi_status(cairn_status status, cairn_dimse_status dimse_status)
{
    (void)status, (void)dimse_status;
}
