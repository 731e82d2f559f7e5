/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Save Manager: a C-STORE SCU that sends instances from the archive.
 * It lists the instances the request names through the index, opens one
 * association with core/scu (each SOP class proposed with its stored
 * transfer syntaxes and, apart, explicit and implicit VR little endian),
 * and sends them one by one; core/scu converts an instance the remote
 * accepts in none of its stored syntax. A cancel stops the job between two
 * C-STOREs.
 */
#include "jobs/jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit/commit.h"
#include "scu/scu_host.h"
#include "scu/scu_outbound.h"

#define TAG_SOP_CLASS_UID DCM_TAG(0x0008, 0x0016)
#define TAG_SOP_INSTANCE_UID DCM_TAG(0x0008, 0x0018)
#define TAG_STUDY_INSTANCE_UID DCM_TAG(0x0020, 0x000D)
#define TAG_SERIES_INSTANCE_UID DCM_TAG(0x0020, 0x000E)

/* One instance to send, copied from its index row. */
typedef struct send_item {
    char sop_class[UL_UID_MAX + 1];
    char sop_instance[UL_UID_MAX + 1];
    char transfer_syntax[UL_UID_MAX + 1];
    char study_uid[UL_UID_MAX + 1];
    char *path;
    uint64_t size;
    bool stored; /* the remote answered Success or a Warning */
} send_item;

typedef struct send_list {
    send_item *items;
    size_t count;
    size_t cap;
    bool failed;
} send_list;

static int add_row(void *arg, const cairn_index_row *row)
{
    send_list *list = arg;
    const dcm_dataset *attributes = (const dcm_dataset *)row->attributes;
    send_item *item;

    if (row->file == NULL || row->file->path == NULL)
        return 0;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        send_item *items = realloc(list->items, cap * sizeof *items);

        if (items == NULL) {
            list->failed = true;
            return 1;
        }
        list->items = items;
        list->cap = cap;
    }
    item = &list->items[list->count];
    memset(item, 0, sizeof *item);
    dcm_dataset_get_string(attributes, TAG_SOP_CLASS_UID, 0, item->sop_class,
                           sizeof item->sop_class);
    dcm_dataset_get_string(attributes, TAG_SOP_INSTANCE_UID, 0, item->sop_instance,
                           sizeof item->sop_instance);
    dcm_dataset_get_string(attributes, TAG_STUDY_INSTANCE_UID, 0, item->study_uid,
                           sizeof item->study_uid);
    snprintf(item->transfer_syntax, sizeof item->transfer_syntax, "%s",
             row->file->transfer_syntax_uid != NULL ? row->file->transfer_syntax_uid : "");
    item->path = strdup(row->file->path);
    item->size = row->file->size;
    if (item->path == NULL) {
        list->failed = true;
        return 1;
    }
    list->count++;
    return 0;
}

static void free_list(send_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    free(list->items);
}

/*
 * Lists the instances matching filter through the index's query, which,
 * unlike list, leaves out instances that a rejection note hid.
 */
static cairn_status query_instances(const cairn_index_ops *ops, void *db,
                                    const dcm_dataset *filter, send_list *list)
{
    cairn_index_query query = {
        .struct_size = sizeof query,
        .level = CAIRN_LEVEL_INSTANCE,
        .keys = (const cairn_dataset *)filter,
        .flags = CAIRN_QUERY_RELATIONAL,
    };

    return ops->query(db, &query, add_row, list);
}

/* Lists the instances of the request: the listed UIDs, else the series or the study. */
static cairn_status collect(job_run *run, send_list *list)
{
    const job_request *req = &run->job->request;
    const cairn_index_ops *ops = archive_index_ops(run->archive);
    void *db = archive_index_db(run->archive);
    dcm_dataset *filter = dcm_dataset_create();
    cairn_status st = CAIRN_OK;
    int rc = DCM_OK;

    if (filter == NULL)
        return CAIRN_ERR_NO_MEMORY;
    if (req->study_uid[0] != '\0')
        rc = dcm_dataset_set_string(filter, TAG_STUDY_INSTANCE_UID, DCM_VR_UI, req->study_uid);
    if (rc == DCM_OK && req->series_uid[0] != '\0')
        rc = dcm_dataset_set_string(filter, TAG_SERIES_INSTANCE_UID, DCM_VR_UI,
                                    req->series_uid);
    if (rc != DCM_OK) {
        st = CAIRN_ERR_NO_MEMORY;
        goto out;
    }

    if (req->n_sop_instance_uids == 0) {
        st = query_instances(ops, db, filter, list);
        goto out;
    }
    for (size_t i = 0; i < req->n_sop_instance_uids && st == CAIRN_OK && !list->failed; i++) {
        if (dcm_dataset_set_string(filter, TAG_SOP_INSTANCE_UID, DCM_VR_UI,
                                   req->sop_instance_uids[i]) != DCM_OK) {
            st = CAIRN_ERR_NO_MEMORY;
            break;
        }
        st = query_instances(ops, db, filter, list);
    }

out:
    dcm_dataset_destroy(filter);
    if (st == CAIRN_OK && list->failed)
        st = CAIRN_ERR_NO_MEMORY;
    return st;
}

/* Opens the association proposing the classes and syntaxes of the list. */
static cairn_status open_outbound(job_run *run, const send_list *list, cairn_outbound **out)
{
    const char **classes = calloc(list->count, sizeof *classes);
    const char **syntaxes = calloc(list->count, sizeof *syntaxes);
    cairn_status st = CAIRN_ERR_NO_MEMORY;

    if (classes != NULL && syntaxes != NULL) {
        for (size_t i = 0; i < list->count; i++) {
            classes[i] = list->items[i].sop_class;
            syntaxes[i] = list->items[i].transfer_syntax;
        }
        do {
            st = scu_outbound_open_as(run->conf, archive_storage_path(run->archive), &run->log,
                                      run->log.calling_ae, run->job->request.remote, classes,
                                      syntaxes, list->count, out);
        } while (st == CAIRN_ERR_LIMIT && !jobs_run_interrupted(run));
    }
    free(classes);
    free(syntaxes);
    return st;
}

/* Sends every instance of list; stops at a cancel or when the association breaks. */
static job_outcome send_all(job_run *run, cairn_outbound *ob, send_list *list,
                            job_progress *progress)
{
    for (size_t i = 0; i < list->count; i++) {
        send_item *item = &list->items[i];
        cairn_instance_file file = {.struct_size = sizeof file,
                                    .path = item->path,
                                    .size = item->size,
                                    .transfer_syntax_uid = item->transfer_syntax};
        cairn_dimse_status status = 0;
        cairn_status st;

        if (jobs_run_interrupted(run))
            return jobs_run_interruption(run);

        st = scu_host_outbound_store(ob, &file, item->sop_class, item->sop_instance, NULL, 0,
                                     &status);
        progress->instances_remaining--;
        progress->bytes_remaining -= item->size;
        if (st == CAIRN_OK && (status == 0x0000 || (status & 0xF000u) == 0xB000u)) {
            progress->instances_done++;
            progress->bytes_done += item->size;
            item->stored = true;
            if (status != 0x0000)
                progress->instances_warning++;
        } else {
            progress->instances_failed++;
            log_warn(&run->log, "jobs: send job %s: %s not stored by %s: %s, status 0x%04X",
                     run->job->id, item->sop_instance, run->job->request.remote,
                     cairn_strerror(st), (unsigned)status);
        }
        jobs_run_progress(run, progress);
        if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED && st != CAIRN_ERR_NOT_FOUND &&
            st != CAIRN_ERR_PARSE)
            return jobs_run_fail(run, "the association to %s failed after %llu of %zu "
                                 "instance(s): %s", run->job->request.remote,
                                 (unsigned long long)progress->instances_done, list->count,
                                 cairn_strerror(st));
    }
    if (progress->instances_failed > 0)
        return jobs_run_fail(run, "%llu of %zu instance(s) were not stored by %s; see the log",
                             (unsigned long long)progress->instances_failed, list->count,
                             run->job->request.remote);
    return JOB_OUTCOME_SUCCEEDED;
}

/*
 * Asks the remote to commit to keeping what it stored, when it is a
 * backup archive (a remote with a `commitment` group). The tracker of
 * core/commit sends the N-ACTION, so the job does not wait for it.
 */
static void request_commitment(job_run *run, const send_list *list)
{
    commit_instance *instances = calloc(list->count, sizeof *instances);
    size_t n = 0;

    if (instances == NULL) {
        log_error(&run->log, "jobs: send job %s: out of memory; no storage commitment is "
                  "requested", run->job->id);
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (!list->items[i].stored)
            continue;
        instances[n].sop_class_uid = list->items[i].sop_class;
        instances[n].sop_instance_uid = list->items[i].sop_instance;
        instances[n].study_instance_uid = list->items[i].study_uid;
        n++;
    }
    commit_request_sent(run->conf, run->archive, run->job->request.remote, run->log.calling_ae,
                        instances, n);
    free(instances);
}

job_outcome jobs_run_send(job_run *run)
{
    send_list list = {0};
    job_progress progress = {.remaining_known = true, .bytes_known = true};
    cairn_outbound *ob = NULL;
    cairn_status st;
    job_outcome outcome;

    st = collect(run, &list);
    if (st != CAIRN_OK) {
        outcome = jobs_run_fail(run, "listing the instances to send failed: %s",
                                cairn_strerror(st));
        goto out;
    }
    if (list.count == 0) {
        outcome = jobs_run_fail(run, "no instance of the archive matches the request");
        goto out;
    }
    for (size_t i = 0; i < list.count; i++)
        progress.bytes_remaining += list.items[i].size;
    progress.instances_remaining = list.count;
    jobs_run_progress(run, &progress);

    st = open_outbound(run, &list, &ob);
    if (st != CAIRN_OK) {
        if (jobs_run_interrupted(run))
            outcome = jobs_run_interruption(run);
        else
            outcome = jobs_run_fail(run, "cannot open an association to %s: %s; see the log",
                                    run->job->request.remote, cairn_strerror(st));
        goto out;
    }
    outcome = send_all(run, ob, &list, &progress);
    scu_host_outbound_close(ob);
    request_commitment(run, &list);

out:
    free_list(&list);
    return outcome;
}
