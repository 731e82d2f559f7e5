/* SPDX-License-Identifier: Apache-2.0 */
/*
 * N-EVENT-REPORT requests sent by the archive: on an association a peer
 * opened (assoc_event_report) or on a new one to a configured remote
 * (remote_event_report).
 */
#ifndef CAIRN_SCU_EVENT_H
#define CAIRN_SCU_EVENT_H

#include <cairn/cairn.h>

#include "config/conf.h"
#include "util/log.h"

cairn_status scu_host_assoc_event_report(cairn_assoc *assoc, const char *sop_class,
                                         const char *sop_instance, uint16_t event_type_id,
                                         const cairn_dataset *event_info,
                                         cairn_dimse_status *status);

/*
 * Opens an association from calling_ae to remote_title of conf, sends one
 * N-EVENT-REPORT-RQ with the archive in the SCP role for sop_class, and
 * releases it. Returns as the host API's remote_event_report.
 */
cairn_status scu_event_report_as(const cairn_conf *conf, const log_ctx *log,
                                 const char *calling_ae, const char *remote_title,
                                 const char *sop_class, const char *sop_instance,
                                 uint16_t event_type_id, const cairn_dataset *event_info,
                                 cairn_dimse_status *status);

#endif
