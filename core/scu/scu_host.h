/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries that send archived instances: over an outgoing
 * association to a configured remote AE (C-MOVE sub-operations and later
 * forwarding), or back on the requesting association (C-GET).
 */
#ifndef CAIRN_SCU_HOST_H
#define CAIRN_SCU_HOST_H

#include <cairn/cairn.h>

cairn_status scu_host_outbound_open(cairn_assoc *origin, const char *remote_title,
                                    const char *const *sop_classes,
                                    const char *const *transfer_syntaxes, size_t count,
                                    cairn_outbound **out);
cairn_status scu_host_outbound_store(cairn_outbound *outbound, const cairn_instance_file *file,
                                     const char *sop_class_uid, const char *sop_instance_uid,
                                     const char *move_originator_ae,
                                     uint16_t move_originator_message_id,
                                     cairn_dimse_status *status);
void scu_host_outbound_close(cairn_outbound *outbound);
cairn_status scu_host_assoc_store(cairn_assoc *assoc, const cairn_instance_file *file,
                                  const char *sop_class_uid, const char *sop_instance_uid,
                                  cairn_dimse_status *status);

#endif
