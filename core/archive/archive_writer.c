/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Background writer of a large temporary instance file: a ring of aligned
 * buffers that the receiving thread fills and one thread writes to the
 * file with pwrite(2). See archive_writer.h.
 */
#include "archive/archive_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct archive_writer {
    int fd;
    unsigned count;
    uint8_t **buffers;
    size_t *lengths;
    uint64_t *offsets;
    uint64_t next_offset;   /* where the next queued buffer goes */
    unsigned head;          /* the buffer being filled */
    unsigned tail;          /* the next buffer to write */
    unsigned queued;        /* buffers queued or being written */
    int error;              /* errno of the first failed write, or 0 */
    bool stopping;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* queued, error or stopping changed */
    pthread_t thread;
};

/*
 * Writes len bytes at offset. A file system that rejects a direct write
 * with EINVAL gets the same bytes, and the rest of the file, through the
 * page cache.
 */
static int pwrite_all(int fd, const uint8_t *data, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, (off_t)offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL) {
            int flags = fcntl(fd, F_GETFL);

            if (flags < 0 || !(flags & O_DIRECT) || fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0)
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    archive_writer *w = arg;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->queued == 0 && !w->stopping)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->queued == 0)
            break;

        /* After a failure or a stop the rest is dropped: the file is not used. */
        unsigned slot = w->tail;
        bool failed = w->error != 0 || w->stopping;

        /* The buffer stays ours until queued drops, so the lock can go. */
        pthread_mutex_unlock(&w->lock);
        int err = 0;
        if (!failed && pwrite_all(w->fd, w->buffers[slot], w->lengths[slot], w->offsets[slot]) != 0)
            err = errno ? errno : EIO;
        pthread_mutex_lock(&w->lock);

        if (err != 0 && w->error == 0)
            w->error = err;
        w->tail = (w->tail + 1) % w->count;
        w->queued--;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void free_writer(archive_writer *w)
{
    for (unsigned i = 0; i < w->count; i++)
        free(w->buffers[i]);
    free(w->buffers);
    free(w->lengths);
    free(w->offsets);
    free(w);
}

archive_writer *archive_writer_start(int fd, uint64_t offset, size_t buffer_size,
                                     size_t align, unsigned count)
{
    archive_writer *w = calloc(1, sizeof *w);
    sigset_t all, old;
    int rc;

    if (w == NULL)
        return NULL;
    w->fd = fd;
    w->count = count;
    w->next_offset = offset;
    w->buffers = calloc(count, sizeof *w->buffers);
    w->lengths = calloc(count, sizeof *w->lengths);
    w->offsets = calloc(count, sizeof *w->offsets);
    if (w->buffers == NULL || w->lengths == NULL || w->offsets == NULL)
        goto fail;
    for (unsigned i = 0; i < count; i++) {
        rc = posix_memalign((void **)&w->buffers[i], align, buffer_size);
        if (rc != 0) {
            w->buffers[i] = NULL;
            errno = rc;
            goto fail;
        }
    }

    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);

    /* Signals go to the daemon's other threads, as for every worker. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
        errno = rc;
        goto fail;
    }
    return w;

fail:
    free_writer(w);
    return NULL;
}

uint8_t *archive_writer_next(archive_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->queued == w->count)
        pthread_cond_wait(&w->changed, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return w->buffers[w->head];
}

int archive_writer_queue(archive_writer *w, size_t len)
{
    int err;

    pthread_mutex_lock(&w->lock);
    err = w->error;
    if (err == 0) {
        w->lengths[w->head] = len;
        w->offsets[w->head] = w->next_offset;
        w->next_offset += len;
        w->head = (w->head + 1) % w->count;
        w->queued++;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);

    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int archive_writer_drain(archive_writer *w)
{
    int err;

    pthread_mutex_lock(&w->lock);
    while (w->queued > 0)
        pthread_cond_wait(&w->changed, &w->lock);
    err = w->error;
    pthread_mutex_unlock(&w->lock);

    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

void archive_writer_stop(archive_writer *w)
{
    if (w == NULL)
        return;

    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);

    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    free_writer(w);
}
