/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sending archived instances. TODO: outgoing associations and C-GET
 * sub-operations are not implemented yet; every entry reports
 * CAIRN_ERR_UNSUPPORTED so a caller fails cleanly.
 */
#include "scu/scu_host.h"

cairn_status scu_host_outbound_open(cairn_assoc *origin, const char *remote_title,
                                    const char *const *sop_classes,
                                    const char *const *transfer_syntaxes, size_t count,
                                    cairn_outbound **out)
{
    (void)origin;
    (void)remote_title;
    (void)sop_classes;
    (void)transfer_syntaxes;
    (void)count;
    *out = NULL;
    return CAIRN_ERR_UNSUPPORTED;
}

cairn_status scu_host_outbound_store(cairn_outbound *outbound, const cairn_instance_file *file,
                                     const char *sop_class_uid, const char *sop_instance_uid,
                                     const char *move_originator_ae,
                                     uint16_t move_originator_message_id,
                                     cairn_dimse_status *status)
{
    (void)outbound;
    (void)file;
    (void)sop_class_uid;
    (void)sop_instance_uid;
    (void)move_originator_ae;
    (void)move_originator_message_id;
    (void)status;
    return CAIRN_ERR_UNSUPPORTED;
}

void scu_host_outbound_close(cairn_outbound *outbound)
{
    (void)outbound;
}

cairn_status scu_host_assoc_store(cairn_assoc *assoc, const cairn_instance_file *file,
                                  const char *sop_class_uid, const char *sop_instance_uid,
                                  cairn_dimse_status *status)
{
    (void)assoc;
    (void)file;
    (void)sop_class_uid;
    (void)sop_instance_uid;
    (void)status;
    return CAIRN_ERR_UNSUPPORTED;
}
