/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases as host API entries. A plugin or a core service that drains a
 * queue kept in the index (the outbox, storage commitment requests) takes
 * the lease of the queue's key before each pass. Of several nodes on one
 * index, one then drains the queue, and another takes over once that node
 * stops renewing. The owner is this node's node.name.
 */
#ifndef CAIRN_ARCHIVE_LEASE_H
#define CAIRN_ARCHIVE_LEASE_H

#include <stdint.h>

#include <cairn/cairn.h>

/*
 * Takes or renews the lease of key for this node for ttl_ms milliseconds
 * (0: node.lease_seconds). CAIRN_ERR_BUSY while another node holds it,
 * CAIRN_ERR_UNSUPPORTED when the index back end has no leases (the caller
 * then runs as the only node), CAIRN_ERR_BUSY too before the archive opens.
 */
cairn_status archive_host_lease_acquire(const char *key, uint32_t ttl_ms);
/* Gives up the lease of key when this node holds it; CAIRN_ERR_NOT_FOUND otherwise. */
cairn_status archive_host_lease_release(const char *key);
/* Returns node.lease_seconds in milliseconds: renew a lease at least every third of it. */
uint32_t archive_host_lease_ms(void);

#endif
