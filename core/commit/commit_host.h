/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API entry of core/commit: reports to the Storage Commitment
 * SCU that a plugin's service received.
 */
#ifndef CAIRN_COMMIT_HOST_H
#define CAIRN_COMMIT_HOST_H

#include <cairn/cairn.h>

cairn_status commit_host_report_received(cairn_assoc *assoc, const cairn_message *request,
                                         cairn_reply *reply);

#endif
