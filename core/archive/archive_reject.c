/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deletion and rejection of archived instances, as IOCM rejection notes
 * request. A deletion removes the index row before the file, so that no
 * query returns an instance whose file is gone. A crash in between leaves
 * an orphan file, which `cairn check --repair` removes.
 */
#include "archive/archive_reject.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcm/dcm.h"
#include "dimse/dimse_host.h"

/* The relative path of one instance, filled by find_path's listing. */
typedef struct path_lookup {
    char rel[PATH_MAX];
    bool found;
} path_lookup;

static int keep_path(void *arg, const cairn_index_row *row)
{
    path_lookup *lookup = arg;

    if (row->file == NULL || row->file->path == NULL)
        return 0;
    if (snprintf(lookup->rel, sizeof lookup->rel, "%s", row->file->path) <
        (int)sizeof lookup->rel)
        lookup->found = true;
    return 1;
}

/* Looks up the file of sop_instance_uid; CAIRN_ERR_NOT_FOUND when not indexed. */
static cairn_status find_path(archive *ar, const char *sop_instance_uid, path_lookup *lookup)
{
    const cairn_index_ops *ops = archive_index_ops(ar);
    dcm_dataset *filter = dcm_dataset_create();
    cairn_status status;

    memset(lookup, 0, sizeof *lookup);
    if (filter == NULL ||
        dcm_dataset_set_string(filter, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, sop_instance_uid) !=
            DCM_OK) {
        dcm_dataset_destroy(filter);
        return CAIRN_ERR_NO_MEMORY;
    }

    status = ops->list(archive_index_db(ar), CAIRN_LEVEL_INSTANCE, (const cairn_dataset *)filter,
                       keep_path, lookup);
    dcm_dataset_destroy(filter);
    if (status == CAIRN_OK && !lookup->found)
        status = CAIRN_ERR_NOT_FOUND;
    return status;
}

cairn_status archive_delete_instance(archive *ar, const char *sop_instance_uid,
                                     const log_ctx *log)
{
    const cairn_index_ops *ops;
    path_lookup lookup;
    char full[PATH_MAX];
    cairn_status status;

    if (ar == NULL || sop_instance_uid == NULL || sop_instance_uid[0] == '\0')
        return CAIRN_ERR_INVALID_ARGUMENT;
    ops = archive_index_ops(ar);

    status = find_path(ar, sop_instance_uid, &lookup);
    if (status != CAIRN_OK)
        return status;

    status = ops->remove_instance(archive_index_db(ar), sop_instance_uid);
    if (status != CAIRN_OK) {
        if (status != CAIRN_ERR_NOT_FOUND)
            log_error(log, "archive: index did not remove %s: %s", sop_instance_uid,
                      cairn_strerror(status));
        return status;
    }

    /* The path comes from the index, which only ever records paths the archive made. */
    if (lookup.rel[0] == '/' || strstr(lookup.rel, "..") != NULL ||
        snprintf(full, sizeof full, "%s/%s", archive_storage_path(ar), lookup.rel) >=
            (int)sizeof full) {
        log_warn(log, "archive: not deleting file with unexpected path '%s' of %s", lookup.rel,
                 sop_instance_uid);
        return CAIRN_OK;
    }
    if (unlink(full) != 0 && errno != ENOENT)
        log_warn(log, "archive: removed %s from the index but cannot delete %s: %s",
                 sop_instance_uid, full, strerror(errno));
    else
        log_info(log, "archive: deleted %s (%s)", sop_instance_uid, lookup.rel);
    return CAIRN_OK;
}

cairn_status archive_host_delete_instance(cairn_assoc *assoc, const char *sop_instance_uid)
{
    if (assoc == NULL || assoc->archive == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return archive_delete_instance(assoc->archive, sop_instance_uid, &assoc->log);
}

cairn_status archive_host_reject_instances(cairn_assoc *assoc,
                                           const char *const *sop_instance_uids, size_t count,
                                           const char *code, size_t *marked)
{
    const cairn_index_ops *ops;
    cairn_status status;

    if (assoc == NULL || assoc->archive == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    ops = archive_index_ops(assoc->archive);
    status = ops->reject_instances(archive_index_db(assoc->archive), sop_instance_uids, count,
                                   code, marked);
    if (status != CAIRN_OK)
        log_error(&assoc->log, "archive: index did not record the rejection (%s) of %zu "
                  "instance(s): %s", code != NULL ? code : "(no code)", count,
                  cairn_strerror(status));
    return status;
}
