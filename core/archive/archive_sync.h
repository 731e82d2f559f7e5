/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit of instance files: one file system sync that covers every
 * commit registered before it started. See archive_sync.c for the reasons.
 */
#ifndef CAIRN_ARCHIVE_SYNC_H
#define CAIRN_ARCHIVE_SYNC_H

#include <stdint.h>

typedef struct archive_sync archive_sync;

/* The sync that one batch shares: returns 0, or an errno value on failure. */
typedef int (*archive_sync_fn)(void *arg);

/*
 * Creates a barrier whose batches run sync_fn(arg) on the thread of their
 * first waiter. The archive passes archive_sync_storage with the storage
 * root's descriptor, and the unit test passes its own function.
 */
archive_sync *archive_sync_create(archive_sync_fn sync_fn, void *arg);
void archive_sync_destroy(archive_sync *sync);

/*
 * Waits for a sync that starts after this call, running it on the calling
 * thread when none is in progress. Returns that sync's result (0 or an
 * errno value), which every waiter of the same batch gets. When the
 * caller's batch contains only the caller and solo_fn is not NULL, the
 * batch runs solo_fn(solo_arg) in place of the shared sync, so solo_fn
 * must make the caller's own commit durable. When batch is not NULL it
 * receives the sync's number, counted from 1.
 */
int archive_sync_wait(archive_sync *sync, archive_sync_fn solo_fn, void *solo_arg,
                      uint64_t *batch);

/* Returns how many callers wait for the next sync (for tests). */
unsigned archive_sync_waiting(archive_sync *sync);

/*
 * Makes everything written on the file system of the storage root durable
 * (arg points to that descriptor, an int): syncfs(2), then fdatasync(2)
 * of the root as a disk cache flush. Returns 0 or an errno value.
 */
int archive_sync_storage(void *arg);

#endif
