/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instance part of `cairnd --copy-index-from`. The listing of the
 * source index runs on the calling thread and queues each instance's file
 * row. COPY_WORKERS threads take the rows, read each file again and store
 * it in the target index. Stores that wait at the same time share the
 * target's commits (the PostgreSQL back end groups them), which a single
 * thread, waiting for one COMMIT per instance, cannot do. The queue is
 * bounded, so memory does not grow with the size of the archive.
 */
#include "archive/archive_copy_internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/dcm.h"
#include "util/log.h"

/* Threads that read files and store them in the target index. */
#define COPY_WORKERS 8

/* File rows waiting for a worker at most. */
#define QUEUE_SIZE 256

/* Instances between two progress lines. */
#define PROGRESS_EVERY 1000

/* The file row of one source instance, copied out of the listing callback. */
typedef struct copy_item {
    char *path; /* relative to the storage folder; one allocation with the texts below */
    const char *transfer_syntax_uid;
    const char *calling_ae;
    uint64_t size;
    int64_t received_at_us;
} copy_item;

typedef struct copy_pool {
    const char *storage;
    const cairn_index_ops *dst;
    void *dst_db;
    uint64_t total;

    pthread_mutex_t lock;
    pthread_cond_t queued;  /* an item was queued, or the listing ended */
    pthread_cond_t has_room; /* an item left the queue */
    copy_item items[QUEUE_SIZE];
    size_t head, count;
    bool listing_done;
    uint64_t finished; /* items a worker is done with */
    copy_counts *counts;
} copy_pool;

/* Returns true when rel is a relative path inside the storage folder. */
static bool path_is_safe(const char *rel)
{
    return rel != NULL && rel[0] != '\0' && rel[0] != '/' && strstr(rel, "..") == NULL;
}

/* Copies file's three texts into one allocation; false when out of memory. */
static bool item_fill(copy_item *item, const cairn_instance_file *file)
{
    const char *syntax = file->transfer_syntax_uid ? file->transfer_syntax_uid : "";
    const char *calling = file->calling_ae ? file->calling_ae : "";
    size_t path_len = strlen(file->path) + 1;
    size_t syntax_len = strlen(syntax) + 1;
    size_t calling_len = strlen(calling) + 1;
    char *text = malloc(path_len + syntax_len + calling_len);

    if (text == NULL)
        return false;
    memcpy(text, file->path, path_len);
    memcpy(text + path_len, syntax, syntax_len);
    memcpy(text + path_len + syntax_len, calling, calling_len);
    *item = (copy_item){
        .path = text,
        .transfer_syntax_uid = file->transfer_syntax_uid ? text + path_len : NULL,
        .calling_ae = file->calling_ae ? text + path_len + syntax_len : NULL,
        .size = file->size,
        .received_at_us = file->received_at_us,
    };
    return true;
}

/* The result of copying one instance. */
typedef enum copy_result { COPY_STORED, COPY_PRESENT, COPY_FAILED } copy_result;

/* Reads the file of item and stores it in the target index. */
static copy_result copy_one(const copy_pool *pool, const copy_item *item)
{
    dcm_read_options opt = {.stop_at = DCM_TAG(0x7FE0, 0x0010)};
    dcm_dataset *meta = NULL, *ds = NULL;
    char path[PATH_MAX];
    cairn_instance_file file;
    cairn_store_outcome outcome = CAIRN_STORE_STORED;
    char *replaced = NULL;
    copy_result result = COPY_FAILED;
    cairn_status st;

    if (snprintf(path, sizeof path, "%s/%s", pool->storage, item->path) >= (int)sizeof path) {
        log_error(NULL, "copy-index: path of %s is too long; its instance is skipped",
                  item->path);
        return COPY_FAILED;
    }
    if (dcm_file_read(path, &opt, &meta, &ds, NULL, NULL) != DCM_OK || ds == NULL) {
        log_error(NULL, "copy-index: cannot read %s; its instance is skipped", path);
        goto out;
    }

    file = (cairn_instance_file){
        .struct_size = sizeof file,
        .path = item->path,
        .size = item->size,
        .transfer_syntax_uid = item->transfer_syntax_uid,
        .received_at_us = item->received_at_us,
        .calling_ae = item->calling_ae,
    };
    st = pool->dst->store_instance(pool->dst_db, (const cairn_dataset *)ds, &file,
                                   CAIRN_DUPLICATE_KEEP, &outcome, &replaced);
    if (st != CAIRN_OK)
        log_error(NULL, "copy-index: the target index did not take %s: %s", path,
                  cairn_strerror(st));
    else
        result = outcome == CAIRN_STORE_STORED ? COPY_STORED : COPY_PRESENT;
    free(replaced);

out:
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
    return result;
}

/* Counts one instance as done, with a progress line every PROGRESS_EVERY; pool->lock is held. */
static void note_finished(copy_pool *pool, copy_result result)
{
    if (result == COPY_STORED)
        pool->counts->stored++;
    else if (result == COPY_PRESENT)
        pool->counts->present++;
    else
        pool->counts->failed++;
    pool->finished++;
    if (pool->finished % PROGRESS_EVERY == 0) {
        printf("instances: %llu of %llu\n", (unsigned long long)pool->finished,
               (unsigned long long)pool->total);
        fflush(stdout);
    }
}

/* Takes items off the queue until the listing has ended and the queue is empty. */
static void *copy_worker(void *arg)
{
    copy_pool *pool = arg;

    for (;;) {
        copy_item item;
        copy_result result;

        pthread_mutex_lock(&pool->lock);
        while (pool->count == 0 && !pool->listing_done)
            pthread_cond_wait(&pool->queued, &pool->lock);
        if (pool->count == 0) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        item = pool->items[pool->head];
        pool->head = (pool->head + 1) % QUEUE_SIZE;
        pool->count--;
        pthread_cond_signal(&pool->has_room);
        pthread_mutex_unlock(&pool->lock);

        result = copy_one(pool, &item);
        free(item.path);

        pthread_mutex_lock(&pool->lock);
        note_finished(pool, result);
        pthread_mutex_unlock(&pool->lock);
    }
}

/* The listing callback: queues the row's file, waiting while the queue is full. */
static int queue_instance(void *arg, const cairn_index_row *row)
{
    copy_pool *pool = arg;
    copy_item item;

    pthread_mutex_lock(&pool->lock);
    pool->counts->seen++;
    if (row->file == NULL || !path_is_safe(row->file->path)) {
        log_error(NULL, "copy-index: instance row %llu has no usable file path; skipped",
                  (unsigned long long)pool->counts->seen);
        note_finished(pool, COPY_FAILED);
        pthread_mutex_unlock(&pool->lock);
        return 0;
    }
    if (!item_fill(&item, row->file)) {
        log_error(NULL, "copy-index: out of memory at instance row %llu; skipped",
                  (unsigned long long)pool->counts->seen);
        note_finished(pool, COPY_FAILED);
        pthread_mutex_unlock(&pool->lock);
        return 0;
    }
    while (pool->count == QUEUE_SIZE)
        pthread_cond_wait(&pool->has_room, &pool->lock);
    pool->items[(pool->head + pool->count) % QUEUE_SIZE] = item;
    pool->count++;
    pthread_cond_signal(&pool->queued);
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

cairn_status copy_instances(const copy_source *source, const cairn_index_ops *dst, void *dst_db,
                            copy_counts *counts)
{
    copy_pool pool = {
        .storage = source->storage,
        .dst = dst,
        .dst_db = dst_db,
        .total = source->total,
        .counts = counts,
    };
    pthread_t threads[COPY_WORKERS];
    int started = 0;
    cairn_status st;

    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.queued, NULL);
    pthread_cond_init(&pool.has_room, NULL);
    while (started < COPY_WORKERS &&
           pthread_create(&threads[started], NULL, copy_worker, &pool) == 0)
        started++;

    if (started == 0) {
        log_error(NULL, "copy-index: cannot start a worker thread");
        st = CAIRN_ERR_NO_MEMORY;
    } else {
        st = source->ops->list(source->db, CAIRN_LEVEL_INSTANCE, NULL, queue_instance, &pool);
    }

    /* The workers empty the queue before they end, also after a failed listing. */
    pthread_mutex_lock(&pool.lock);
    pool.listing_done = true;
    pthread_cond_broadcast(&pool.queued);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);

    pthread_cond_destroy(&pool.has_room);
    pthread_cond_destroy(&pool.queued);
    pthread_mutex_destroy(&pool.lock);
    return st;
}
