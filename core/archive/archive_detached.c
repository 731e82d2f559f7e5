/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries that reach the archive without an association (see
 * archive_detached.h). A read-write lock guards the attached archive: each
 * entry holds it for reading during its call, and detaching takes it for
 * writing, so the archive never closes under a call.
 */
#include "archive/archive_detached.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metrics.h"
#include "scu/scu_event.h"
#include "scu/scu_internal.h"

static pthread_rwlock_t attached_lock = PTHREAD_RWLOCK_INITIALIZER;
static archive *attached_archive;
static runtime *attached_runtime;

void archive_detached_attach(archive *ar, runtime *rt)
{
    pthread_rwlock_wrlock(&attached_lock);
    attached_archive = ar;
    attached_runtime = rt;
    pthread_rwlock_unlock(&attached_lock);
}

void archive_detached_detach(void)
{
    pthread_rwlock_wrlock(&attached_lock);
    attached_archive = NULL;
    attached_runtime = NULL;
    pthread_rwlock_unlock(&attached_lock);
}

/* Takes the lock for reading; returns the archive, or NULL (lock released) when detached. */
static archive *acquire_archive(void)
{
    pthread_rwlock_rdlock(&attached_lock);
    if (attached_archive == NULL) {
        pthread_rwlock_unlock(&attached_lock);
        return NULL;
    }
    return attached_archive;
}

static void release_archive(void)
{
    pthread_rwlock_unlock(&attached_lock);
}

archive *archive_detached_acquire(runtime **rt)
{
    archive *ar = acquire_archive();

    if (ar != NULL && rt != NULL)
        *rt = attached_runtime;
    return ar;
}

void archive_detached_release(void)
{
    release_archive();
}

cairn_status archive_host_document_put(const char *id, const char *document)
{
    archive *ar;
    cairn_status st;

    if (id == NULL || document == NULL || id[0] == '\0')
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = acquire_archive();
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    st = archive_index_ops(ar)->job_put(archive_index_db(ar), id, document);
    release_archive();
    return st;
}

cairn_status archive_host_document_delete(const char *id)
{
    archive *ar;
    cairn_status st;

    if (id == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = acquire_archive();
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    st = archive_index_ops(ar)->job_delete(archive_index_db(ar), id);
    release_archive();
    return st;
}

/* Passes on the documents whose id starts with the prefix. */
typedef struct prefix_filter {
    const char *prefix;
    size_t prefix_len;
    cairn_job_fn fn;
    void *arg;
} prefix_filter;

static int filter_one(void *arg, const char *id, const char *document)
{
    prefix_filter *filter = arg;

    if (strncmp(id, filter->prefix, filter->prefix_len) != 0)
        return 0;
    return filter->fn(filter->arg, id, document);
}

cairn_status archive_host_document_list(const char *prefix, cairn_job_fn fn, void *arg)
{
    prefix_filter filter = {.prefix = prefix, .fn = fn, .arg = arg};
    archive *ar;
    cairn_status st;

    if (prefix == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    filter.prefix_len = strlen(prefix);
    ar = acquire_archive();
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    st = archive_index_ops(ar)->job_list(archive_index_db(ar), filter_one, &filter);
    release_archive();
    return st;
}

cairn_status archive_host_index_query(const cairn_index_query *query, cairn_index_row_fn fn,
                                      void *arg)
{
    archive *ar;
    uint64_t started;
    cairn_status st;

    if (query == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = acquire_archive();
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    started = metrics_now_us();
    st = archive_index_ops(ar)->query(archive_index_db(ar), query, fn, arg);
    metrics_index_latency(metrics_now_us() - started);
    release_archive();
    return st;
}

cairn_status archive_host_file_check(const cairn_instance_file *file)
{
    scu_source src;
    archive *ar;
    cairn_status st;

    if (file == NULL || file->path == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    ar = acquire_archive();
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    st = scu_source_open(archive_storage_path(ar), file->path, &src, NULL);
    scu_source_close(&src);
    release_archive();
    return st;
}

cairn_status archive_host_remote_event_report(const char *calling_ae, const char *remote_title,
                                              const char *sop_class, const char *sop_instance,
                                              uint16_t event_type_id,
                                              const cairn_dataset *event_info,
                                              cairn_dimse_status *status)
{
    const cairn_conf *conf;
    log_ctx log = {0};
    cairn_status st;

    if (calling_ae == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (acquire_archive() == NULL)
        return CAIRN_ERR_BUSY;
    snprintf(log.calling_ae, sizeof log.calling_ae, "%s", calling_ae);
    if (remote_title != NULL)
        snprintf(log.called_ae, sizeof log.called_ae, "%s", remote_title);
    conf = runtime_conf_acquire(attached_runtime);
    st = scu_event_report_as(conf, &log, calling_ae, remote_title, sop_class, sop_instance,
                             event_type_id, event_info, status);
    runtime_conf_release(attached_runtime, conf);
    release_archive();
    return st;
}
