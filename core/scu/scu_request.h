/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests with an in-memory data set on an outgoing association: the
 * host API's outbound_accepts and outbound_request.
 */
#ifndef CAIRN_SCU_REQUEST_H
#define CAIRN_SCU_REQUEST_H

#include <cairn/cairn.h>

int scu_host_outbound_accepts(const cairn_outbound *outbound, const char *sop_class);
cairn_status scu_host_outbound_request(cairn_outbound *outbound, cairn_dimse_op op,
                                       const char *sop_class, const char *sop_instance,
                                       const cairn_dataset *dataset, cairn_dimse_status *status);

#endif
