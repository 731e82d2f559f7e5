/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Load Manager: a C-MOVE SCU with the Study Root model whose move
 * destination is one of our AEs, so that the instances arrive over a new
 * association and go through the storage plugin into the archive. The
 * pending responses' sub-operation counts are the job's progress. A retrieve
 * of listed instances leaves out those already in the index, which makes a
 * resumed or retried job cheap.
 */
#include "jobs/jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dimse/dimse.h"
#include "runtime/runtime.h"

#define STUDY_ROOT_MOVE "1.2.840.10008.5.1.4.1.2.2.2"

#define TAG_MOVE_DESTINATION DCM_TAG(0x0000, 0x0600)
#define TAG_REMAINING DCM_TAG(0x0000, 0x1020)
#define TAG_COMPLETED DCM_TAG(0x0000, 0x1021)
#define TAG_FAILED DCM_TAG(0x0000, 0x1022)
#define TAG_WARNING DCM_TAG(0x0000, 0x1023)
#define TAG_QUERY_RETRIEVE_LEVEL DCM_TAG(0x0008, 0x0052)
#define TAG_SOP_INSTANCE_UID DCM_TAG(0x0008, 0x0018)
#define TAG_STUDY_INSTANCE_UID DCM_TAG(0x0020, 0x000D)
#define TAG_SERIES_INSTANCE_UID DCM_TAG(0x0020, 0x000E)

#define STATUS_SUBOPERATIONS_FAILED 0xB000u
#define STATUS_CANCELLED 0xFE00u
#define STATUS_PENDING 0xFF00u
#define STATUS_DESTINATION_UNKNOWN 0xA801u

static int count_row(void *arg, const cairn_index_row *row)
{
    (void)row;
    (*(size_t *)arg)++;
    return 1;
}

/* True when the index holds this SOP Instance UID. */
static bool in_archive(archive *ar, const char *sop_uid)
{
    const cairn_index_ops *ops = archive_index_ops(ar);
    dcm_dataset *filter = dcm_dataset_create();
    size_t rows = 0;

    if (filter == NULL ||
        dcm_dataset_set_string(filter, TAG_SOP_INSTANCE_UID, DCM_VR_UI, sop_uid) != DCM_OK) {
        dcm_dataset_destroy(filter);
        return false;
    }
    ops->list(archive_index_db(ar), CAIRN_LEVEL_INSTANCE, (const cairn_dataset *)filter,
              count_row, &rows);
    dcm_dataset_destroy(filter);
    return rows > 0;
}

/*
 * Joins the listed UIDs not yet in the archive with backslashes (a list of
 * UIDs, PS3.4 C.2.2.2.2). *missing is how many there are.
 */
static char *missing_instances(job_run *run, size_t *missing)
{
    const job_request *req = &run->job->request;
    jobs_buf list = {0};

    *missing = 0;
    for (size_t i = 0; i < req->n_sop_instance_uids; i++) {
        if (in_archive(run->archive, req->sop_instance_uids[i]))
            continue;
        if (*missing > 0)
            jobs_buf_add(&list, "\\");
        jobs_buf_add(&list, req->sop_instance_uids[i]);
        (*missing)++;
    }
    return jobs_buf_take(&list);
}

static dcm_dataset *build_identifier(const job_request *req, const char *sop_list)
{
    dcm_dataset *ds = dcm_dataset_create();
    int rc;

    if (ds == NULL)
        return NULL;
    rc = dcm_dataset_set_string(ds, TAG_QUERY_RETRIEVE_LEVEL, DCM_VR_CS, req->level);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(ds, TAG_STUDY_INSTANCE_UID, DCM_VR_UI, req->study_uid);
    if (rc == DCM_OK && strcmp(req->level, "STUDY") != 0)
        rc = dcm_dataset_set_string(ds, TAG_SERIES_INSTANCE_UID, DCM_VR_UI, req->series_uid);
    if (rc == DCM_OK && sop_list != NULL)
        rc = dcm_dataset_set_string(ds, TAG_SOP_INSTANCE_UID, DCM_VR_UI, sop_list);
    if (rc != DCM_OK) {
        dcm_dataset_destroy(ds);
        return NULL;
    }
    return ds;
}

static dcm_dataset *build_command(const char *destination)
{
    dcm_dataset *cmd = dcm_dataset_create();

    if (cmd == NULL)
        return NULL;
    if (dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                               STUDY_ROOT_MOVE) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_COMMAND_FIELD, DIMSE_C_MOVE_RQ) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_MESSAGE_ID, 1) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_PRIORITY, 0) ||
        dcm_dataset_set_string(cmd, TAG_MOVE_DESTINATION, DCM_VR_AE, destination) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_DATASET_TYPE, 0x0000)) {
        dcm_dataset_destroy(cmd);
        return NULL;
    }
    return cmd;
}

/* Reads the sub-operation counts of a C-MOVE-RSP into progress. */
static void read_counts(const dcm_dataset *cmd, job_progress *progress)
{
    uint32_t value;

    if (dcm_dataset_get_uint(cmd, TAG_REMAINING, 0, &value) == DCM_OK) {
        progress->instances_remaining = value;
        progress->remaining_known = true;
    } else {
        progress->remaining_known = false;
    }
    if (dcm_dataset_get_uint(cmd, TAG_COMPLETED, 0, &value) == DCM_OK)
        progress->instances_done = value;
    if (dcm_dataset_get_uint(cmd, TAG_FAILED, 0, &value) == DCM_OK)
        progress->instances_failed = value;
    if (dcm_dataset_get_uint(cmd, TAG_WARNING, 0, &value) == DCM_OK)
        progress->instances_warning = value;
}

/* Turns the final C-MOVE-RSP into the outcome. */
static job_outcome final_status(job_run *run, uint32_t status, const char *comment,
                                const job_progress *progress, bool cancel_sent)
{
    const job_request *req = &run->job->request;
    const char *separator = comment[0] ? ": " : "";

    if (status == 0x0000)
        return JOB_OUTCOME_SUCCEEDED;
    if (status == STATUS_CANCELLED && cancel_sent)
        return JOB_OUTCOME_CANCELLED;
    if (status == STATUS_SUBOPERATIONS_FAILED)
        return jobs_run_fail(run, "%s completed %llu sub-operation(s), %llu failed and %llu "
                             "had warnings (status 0xB000)%s%s", req->remote,
                             (unsigned long long)progress->instances_done,
                             (unsigned long long)progress->instances_failed,
                             (unsigned long long)progress->instances_warning, separator,
                             comment);
    if (status == STATUS_DESTINATION_UNKNOWN)
        return jobs_run_fail(run, "%s does not know the move destination %s (status 0xA801); "
                             "configure %s with our host and port at the remote",
                             req->remote, req->destination, req->destination);
    return jobs_run_fail(run, "%s answered the C-MOVE with status 0x%04X%s%s", req->remote,
                         status, separator, comment);
}

job_outcome jobs_run_retrieve(job_run *run)
{
    const job_request *req = &run->job->request;
    jobs_assoc assoc = {0};
    dcm_dataset *command = NULL, *identifier = NULL;
    job_progress progress = {0}, counts = {0};
    uint64_t already; /* listed instances found in the archive before the C-MOVE */
    char *sop_list = NULL;
    job_outcome outcome = JOB_OUTCOME_FAILED;
    uint8_t pctx = 0;

    if (!runtime_ae_enabled(run->rt, req->destination))
        return jobs_run_fail(run, "destination: AE %s is disabled or no longer configured; "
                             "enable it to receive the instances", req->destination);

    if (req->n_sop_instance_uids > 0) {
        size_t missing = 0;

        sop_list = missing_instances(run, &missing);
        if (sop_list == NULL)
            return jobs_run_fail(run, "out of memory");
        progress.instances_done = req->n_sop_instance_uids - missing;
        if (missing == 0) {
            log_info(&run->log, "jobs: retrieve job %s: every listed instance is already in "
                     "the archive", run->job->id);
            jobs_run_progress(run, &progress);
            free(sop_list);
            return JOB_OUTCOME_SUCCEEDED;
        }
    }

    pctx = jobs_assoc_open(run, STUDY_ROOT_MOVE, &assoc);
    if (pctx == 0) {
        free(sop_list);
        return jobs_run_interrupted(run) ? jobs_run_interruption(run) : JOB_OUTCOME_FAILED;
    }
    identifier = build_identifier(req, sop_list);
    command = build_command(req->destination);
    if (identifier == NULL || command == NULL) {
        outcome = jobs_run_fail(run, "out of memory");
        goto out;
    }
    if (jobs_assoc_send(&assoc, pctx, command, identifier) != 0) {
        outcome = jobs_run_fail(run, "sending the C-MOVE-RQ to %s failed", req->remote);
        goto out;
    }
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(identifier);
    command = identifier = NULL;

    already = progress.instances_done;
    for (;;) {
        uint32_t field = 0, status = 0;
        char comment[65] = "";
        int rc = jobs_assoc_read(run, &assoc, pctx, &command, &identifier);

        if (rc == JOBS_READ_INTERRUPTED) {
            if (jobs_run_stopping(run)) {
                outcome = JOB_OUTCOME_STOPPED;
                goto out;
            }
            if (jobs_assoc_cancel(&assoc, pctx, 1) != 0) {
                outcome = JOB_OUTCOME_CANCELLED;
                goto out;
            }
            continue;
        }
        if (rc != JOBS_READ_OK)
            goto out;

        dcm_dataset_get_uint(command, DIMSE_TAG_COMMAND_FIELD, 0, &field);
        dcm_dataset_get_uint(command, DIMSE_TAG_STATUS, 0, &status);
        dcm_dataset_get_string(command, DIMSE_TAG_ERROR_COMMENT, 0, comment, sizeof comment);
        if (field != (DIMSE_C_MOVE_RQ | DIMSE_RESPONSE_BIT)) {
            outcome = jobs_run_fail(run, "%s sent %s (0x%04X) in place of a C-MOVE-RSP",
                                    req->remote, dimse_command_name((uint16_t)field), field);
            assoc.failed = true;
            goto out;
        }
        read_counts(command, &counts);
        progress = counts;
        progress.instances_done += already;
        jobs_run_progress(run, &progress);
        if (status != STATUS_PENDING) {
            outcome = final_status(run, status, comment, &progress, assoc.cancel_sent);
            goto out;
        }
        dcm_dataset_destroy(command);
        dcm_dataset_destroy(identifier);
        command = identifier = NULL;
    }

out:
    if (pctx != 0)
        jobs_assoc_close(&assoc, outcome == JOB_OUTCOME_STOPPED);
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(identifier);
    free(sop_list);
    return outcome;
}
