/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit of instance files. Before the index may record an instance,
 * its bytes, its inode and its folder entries must be durable. A
 * fdatasync of the file and a fsync of its folder per instance cost two
 * disk cache flushes and several synchronous metadata writes each, so with
 * several associations storing at once the disk, not the CPU, limits the
 * ingest rate.
 *
 * Here a commit that has written and linked its file registers as a
 * waiter. When no sync is running, it becomes the leader: it takes every
 * waiter registered so far as its batch and runs one sync on its own
 * thread, so a single association never hands work to another thread.
 * Waiters that register while a sync runs form the next batch, because
 * that sync may have passed their files already. When the sync returns,
 * every member of the batch gets its result, and one of the next batch's
 * waiters becomes the next leader. A batch of one runs the caller's own
 * per-file sync instead (fdatasync of the file and fsync of its folder in
 * the archive), which costs the same two disk cache flushes without the
 * writeback of the whole file system.
 *
 * The sync is syncfs(2) on the storage root. It writes the data, inodes
 * and folder blocks of everything dirty on that file system, and reports
 * writeback errors recorded on the file system since the previous call
 * (Linux 5.8 and later). A failed sync fails every instance of its batch.
 * On ext4 without a journal, syncfs issues its disk cache flush before it
 * waits for the last metadata writes (fs/sync.c sync_filesystem: sync_fs,
 * then sync_blockdev), so a fdatasync of the root follows as a second
 * flush. The cost of syncfs is that it also writes what other programs
 * dirtied on the same file system, which docs/configuration.md describes
 * under storage.
 */
#include "archive/archive_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* One caller of archive_sync_wait, on its stack until its batch is done. */
typedef struct sync_waiter {
    struct sync_waiter *next;
    int result;
    uint64_t batch;
    bool done;
} sync_waiter;

struct archive_sync {
    pthread_mutex_t lock;
    pthread_cond_t finished;
    sync_waiter *pending;   /* registered after the running sync started */
    unsigned pending_count;
    bool running;
    uint64_t batches;       /* syncs started so far */
    archive_sync_fn sync_fn;
    void *arg;
};

archive_sync *archive_sync_create(archive_sync_fn sync_fn, void *arg)
{
    archive_sync *sync = calloc(1, sizeof *sync);

    if (sync == NULL)
        return NULL;
    if (pthread_mutex_init(&sync->lock, NULL) != 0) {
        free(sync);
        return NULL;
    }
    if (pthread_cond_init(&sync->finished, NULL) != 0) {
        pthread_mutex_destroy(&sync->lock);
        free(sync);
        return NULL;
    }
    sync->sync_fn = sync_fn;
    sync->arg = arg;
    return sync;
}

void archive_sync_destroy(archive_sync *sync)
{
    if (sync == NULL)
        return;

    pthread_cond_destroy(&sync->finished);
    pthread_mutex_destroy(&sync->lock);
    free(sync);
}

/*
 * Runs one sync for every pending waiter, with the lock held on entry and
 * on return. The lock is released while the sync runs.
 */
static void lead_batch(archive_sync *sync, archive_sync_fn solo_fn, void *solo_arg)
{
    sync_waiter *batch = sync->pending;
    unsigned count = sync->pending_count;
    uint64_t number = ++sync->batches;
    int result;

    sync->pending = NULL;
    sync->pending_count = 0;
    sync->running = true;
    pthread_mutex_unlock(&sync->lock);

    if (count == 1 && solo_fn != NULL)
        result = solo_fn(solo_arg);
    else
        result = sync->sync_fn(sync->arg);
    if (result != 0)
        log_error(NULL, "archive: storage sync %llu failed: %s; the %u instance(s) waiting for "
                  "it are not stored", (unsigned long long)number, strerror(result), count);

    pthread_mutex_lock(&sync->lock);
    for (sync_waiter *waiter = batch; waiter != NULL; waiter = waiter->next) {
        waiter->result = result;
        waiter->batch = number;
        waiter->done = true;
    }
    sync->running = false;
    pthread_cond_broadcast(&sync->finished);
}

int archive_sync_wait(archive_sync *sync, archive_sync_fn solo_fn, void *solo_arg,
                      uint64_t *batch)
{
    sync_waiter self = {0};

    pthread_mutex_lock(&sync->lock);
    self.next = sync->pending;
    sync->pending = &self;
    sync->pending_count++;

    /* Either a batch that contains self finishes, or self leads the next one. */
    while (!self.done) {
        if (!sync->running)
            lead_batch(sync, solo_fn, solo_arg);
        else
            pthread_cond_wait(&sync->finished, &sync->lock);
    }
    pthread_mutex_unlock(&sync->lock);

    if (batch != NULL)
        *batch = self.batch;
    return self.result;
}

unsigned archive_sync_waiting(archive_sync *sync)
{
    unsigned count;

    pthread_mutex_lock(&sync->lock);
    count = sync->pending_count;
    pthread_mutex_unlock(&sync->lock);
    return count;
}

int archive_sync_storage(void *arg)
{
    int root_fd = *(const int *)arg;

    if (syncfs(root_fd) != 0)
        return errno;
    if (fdatasync(root_fd) != 0)
        return errno;
    return 0;
}
