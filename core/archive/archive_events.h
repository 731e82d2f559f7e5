/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugins that follow what the archive stores: the host API's
 * subscribe_instance_stored, and the call archive_commit makes once an
 * instance is durable in the index.
 */
#ifndef CAIRN_ARCHIVE_EVENTS_H
#define CAIRN_ARCHIVE_EVENTS_H

#include <cairn/cairn.h>

/* Most subscriptions at once, across all plugins. */
#define ARCHIVE_EVENTS_MAX 16

/* Adds fn(arg) for owner. CAIRN_ERR_LIMIT beyond ARCHIVE_EVENTS_MAX. */
cairn_status archive_events_subscribe(const void *owner, cairn_instance_stored_fn fn, void *arg);
/* Removes every subscription of owner. */
void archive_events_unsubscribe(const void *owner);
/* Calls every subscriber with the instance just recorded. */
void archive_events_instance_stored(const cairn_dataset *attributes,
                                    const cairn_instance_file *file);

#endif
