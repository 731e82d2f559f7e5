/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Archive operations of IOCM rejection notes: deletion of an archived
 * instance (index row, then file) and rejection of instances in the
 * index. The storage service reaches both through the host API.
 */
#ifndef CAIRN_ARCHIVE_REJECT_H
#define CAIRN_ARCHIVE_REJECT_H

#include <stddef.h>

#include <cairn/cairn.h>

#include "archive/archive.h"
#include "util/log.h"

/*
 * Deletes one archived instance: its index row first, then its file.
 * CAIRN_ERR_NOT_FOUND when the index does not hold the UID.
 */
cairn_status archive_delete_instance(archive *ar, const char *sop_instance_uid,
                                     const log_ctx *log);

/* Host API entries (see cairn_host_api). */
cairn_status archive_host_delete_instance(cairn_assoc *assoc, const char *sop_instance_uid);
cairn_status archive_host_reject_instances(cairn_assoc *assoc,
                                           const char *const *sop_instance_uids, size_t count,
                                           const char *code, size_t *marked);

#endif
