/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries of leases; see archive_lease.h.
 */
#include "archive/archive_lease.h"

#include <stddef.h>
#include <stdio.h>

#include "archive/archive_detached.h"
#include "config/conf.h"

/* Node name of a daemon without a node group, as conf_load never leaves it NULL. */
#define FALLBACK_NODE "local"

/* Copies node.name and node.lease_seconds of the configuration in force. */
static void read_node(runtime *rt, char *name, size_t size, uint32_t *lease_ms)
{
    const cairn_conf *conf = runtime_conf_acquire(rt);

    snprintf(name, size, "%s", conf->node.name != NULL ? conf->node.name : FALLBACK_NODE);
    *lease_ms = (uint32_t)(conf->node.lease_seconds > 0 ? conf->node.lease_seconds
                                                        : CONF_NODE_LEASE_DEFAULT) * 1000u;
    runtime_conf_release(rt, conf);
}

/* Returns true when ops has the lease entries. */
static bool has_leases(const cairn_index_ops *ops)
{
    return ops->struct_size >= offsetof(cairn_index_ops, lease_release) +
                                   sizeof ops->lease_release &&
           ops->lease_acquire != NULL && ops->lease_release != NULL;
}

cairn_status archive_host_lease_acquire(const char *key, uint32_t ttl_ms)
{
    runtime *rt = NULL;
    archive *ar;
    char node[CONF_NODE_NAME_MAX + 1];
    uint32_t lease_ms;
    cairn_status st;

    if (key == NULL || key[0] == '\0')
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = archive_detached_acquire(&rt);
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    if (!has_leases(archive_index_ops(ar))) {
        archive_detached_release();
        return CAIRN_ERR_UNSUPPORTED;
    }
    read_node(rt, node, sizeof node, &lease_ms);
    st = archive_index_ops(ar)->lease_acquire(archive_index_db(ar), key, node,
                                              ttl_ms != 0 ? ttl_ms : lease_ms, NULL, 0);
    archive_detached_release();
    return st;
}

cairn_status archive_host_lease_release(const char *key)
{
    runtime *rt = NULL;
    archive *ar;
    char node[CONF_NODE_NAME_MAX + 1];
    uint32_t lease_ms;
    cairn_status st;

    if (key == NULL || key[0] == '\0')
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = archive_detached_acquire(&rt);
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    if (!has_leases(archive_index_ops(ar))) {
        archive_detached_release();
        return CAIRN_ERR_UNSUPPORTED;
    }
    read_node(rt, node, sizeof node, &lease_ms);
    st = archive_index_ops(ar)->lease_release(archive_index_db(ar), key, node);
    archive_detached_release();
    return st;
}

uint32_t archive_host_lease_ms(void)
{
    runtime *rt = NULL;
    char node[CONF_NODE_NAME_MAX + 1];
    uint32_t lease_ms = CONF_NODE_LEASE_DEFAULT * 1000u;

    if (archive_detached_acquire(&rt) == NULL)
        return lease_ms;
    read_node(rt, node, sizeof node, &lease_ms);
    archive_detached_release();
    return lease_ms;
}
