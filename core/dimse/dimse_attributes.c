/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's reply_set_attribute_list: the Attribute Identifier List
 * (0000,1005) that failure statuses such as 0106 (invalid attribute value)
 * and 0120 (missing attribute) carry in N-CREATE and N-SET responses.
 */
#include "dimse/dimse_host.h"

#include <string.h>

cairn_status dimse_host_reply_set_attribute_list(cairn_reply *reply, const cairn_tag *tags,
                                                size_t count)
{
    if (reply == NULL || (count > 0 && tags == NULL))
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (count > DIMSE_REPLY_MAX_ATTRIBUTES)
        return CAIRN_ERR_LIMIT;

    if (count > 0)
        memcpy(reply->attribute_list, tags, count * sizeof tags[0]);
    reply->attribute_count = count;
    return CAIRN_OK;
}
