/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox lease. With several cairnd nodes on one index every node
 * runs a delivery thread, but only the one holding the lease
 * "router:outbox" sends, so each message goes out from one node. The
 * holder renews the lease at every third of its length. The others try to
 * take it every second, so one of them takes over once the holder stops
 * renewing. A node that stalls longer than the lease while sending may
 * overlap with its successor for that one message, so delivery is at
 * least once.
 */
#include "router.h"

#define OUTBOX_LEASE_KEY "router:outbox"

static bool host_has_leases(const router *rt)
{
    return CAIRN_HOST_HAS(rt->api, archive_lease_ms) && rt->api->archive_lease_acquire != NULL;
}

int64_t router_lease_check_us(router *rt)
{
    if (!host_has_leases(rt))
        return 3600 * (int64_t)1000000;
    return (int64_t)rt->api->archive_lease_ms() * 1000 / 3;
}

bool router_outbox_leased(router *rt)
{
    int64_t now_us = router_now_us();
    cairn_status st;

    if (!host_has_leases(rt))
        return true;
    if (rt->outbox_leased && now_us - rt->lease_renewed_us < router_lease_check_us(rt))
        return true;

    st = rt->api->archive_lease_acquire(OUTBOX_LEASE_KEY, 0);
    if (st == CAIRN_OK || st == CAIRN_ERR_UNSUPPORTED) {
        if (!rt->outbox_leased && st == CAIRN_OK)
            rt->api->log(rt->self, CAIRN_LOG_INFO, "this node now delivers the outbox");
        rt->outbox_leased = true;
        rt->lease_renewed_us = now_us;
        return true;
    }
    if (rt->outbox_leased)
        rt->api->log(rt->self, CAIRN_LOG_WARN, "another node delivers the outbox now (%s)",
                     cairn_strerror(st));
    rt->outbox_leased = false;
    return false;
}

void router_outbox_lease_release(router *rt)
{
    if (!host_has_leases(rt) || !rt->outbox_leased)
        return;
    rt->api->archive_lease_release(OUTBOX_LEASE_KEY);
    rt->outbox_leased = false;
}
