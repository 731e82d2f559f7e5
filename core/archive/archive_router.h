/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries of the data router that reach the archive and the
 * remotes without an association (see plugin.h for their contracts).
 */
#ifndef CAIRN_ARCHIVE_ROUTER_H
#define CAIRN_ARCHIVE_ROUTER_H

#include <cairn/cairn.h>

cairn_status archive_host_mpps_put(const cairn_mpps_step *step, int create);
cairn_status archive_host_mpps_get(const char *sop_instance_uid, cairn_mpps_fn fn, void *arg);
cairn_status archive_host_mpps_list(const cairn_mpps_filter *filter, cairn_mpps_fn fn,
                                    void *arg);
cairn_status archive_host_outbox_add(const cairn_outbox_message *message, uint64_t *id);
cairn_status archive_host_outbox_update(uint64_t id, uint32_t attempts,
                                        int64_t next_attempt_at_us, const char *last_error);
cairn_status archive_host_outbox_delete(uint64_t id);
cairn_status archive_host_outbox_list(const char *kind_prefix, cairn_outbox_fn fn, void *arg);
cairn_status archive_host_remote_open(const char *calling_ae, const char *remote_title,
                                      const char *const *sop_classes, size_t count,
                                      cairn_outbound **out);

#endif
