/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outgoing C-STORE associations opened by the core itself rather than on
 * behalf of an association: the send jobs of core/jobs. They share the
 * per-remote max_associations slots of the host API's outbound_open.
 */
#ifndef CAIRN_SCU_OUTBOUND_H
#define CAIRN_SCU_OUTBOUND_H

#include <cairn/cairn.h>

#include "config/conf.h"
#include "util/log.h"

/*
 * Opens an association from calling_ae to the remote titled remote_title,
 * proposing contexts for count instances as the host API's outbound_open
 * does. Files named later by scu_host_outbound_store are relative to
 * storage_path. log may be NULL; it is copied. Send with
 * scu_host_outbound_store and close with scu_host_outbound_close.
 * Returns CAIRN_OK, CAIRN_ERR_NOT_FOUND (no such remote), CAIRN_ERR_LIMIT
 * (every slot stayed busy for SCU_SLOT_WAIT_SECONDS), CAIRN_ERR_REFUSED,
 * CAIRN_ERR_NO_MEMORY or CAIRN_ERR_INVALID_ARGUMENT.
 */
cairn_status scu_outbound_open_as(const cairn_conf *conf, const char *storage_path,
                                  const log_ctx *log, const char *calling_ae,
                                  const char *remote_title, const char *const *sop_classes,
                                  const char *const *transfer_syntaxes, size_t count,
                                  cairn_outbound **out);

#endif
