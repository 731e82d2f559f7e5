/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the C-STORE-RSP to the C-STORE-RQ of a sub-operation.
 */
#ifndef CAIRN_SCU_RESPONSE_H
#define CAIRN_SCU_RESPONSE_H

#include "scu/scu_internal.h"

/*
 * Waits for the C-STORE-RSP to message_id and stores its Status in
 * *status. A C-CANCEL-RQ that arrives first marks channel->serving when it
 * names that request. Returns CAIRN_OK; CAIRN_ERR_TIMEOUT, CAIRN_ERR_PARSE
 * (both abort the association) or CAIRN_ERR_IO when it failed.
 */
cairn_status scu_read_store_response(const scu_channel *channel, uint16_t message_id,
                                     const char *sop_instance_uid, cairn_dimse_status *status);

#endif
