/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outgoing association of a query or retrieve job: one presentation
 * context for the Query/Retrieve SOP class, requests sent as a command set
 * and an identifier, and responses read back whole, with a poll every
 * JOBS_POLL_MS so that a cancel or a shutdown is seen while a remote is
 * slow. The association takes one of the remote's max_associations slots,
 * shared with C-MOVE sub-operations and send jobs.
 */
#include "jobs/jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc/assoc.h"
#include "dimse/dimse.h"
#include "scu/scu_internal.h"

/* Waits for a slot of the remote's max_associations while the run goes on. */
static int take_slot(job_run *run, const conf_remote *remote)
{
    while (scu_slot_acquire(remote->title, remote->max_associations) != 0) {
        if (jobs_run_interrupted(run))
            return -1;
        log_info(&run->log, "jobs: all %d associations to %s are in use; job %s waits",
                 remote->max_associations, remote->title, run->job->id);
    }
    return 0;
}

static void describe_reject(job_run *run, const conf_remote *remote, const ul_assoc_rj *rj)
{
    jobs_run_fail(run, "%s at %s port %d rejected the association (result %u, source %u, "
                  "reason %u)%s", remote->title, remote->host, remote->port, rj->result,
                  rj->source, rj->reason,
                  rj->source == UL_REJECT_SOURCE_USER &&
                          rj->reason == UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED
                      ? ": calling AE title not recognized; configure ours at the remote"
                      : "");
}

uint8_t jobs_assoc_open(job_run *run, const char *sop_class, jobs_assoc *out)
{
    static const char *const syntaxes[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
    const conf_remote *remote = conf_find_remote(run->conf, run->job->request.remote);
    ul_assoc_rq rq = {.protocol_version = UL_PROTOCOL_VERSION};
    ul_assoc_rj rj = {0};
    const ul_assoc_ac *ac;
    ul_params params;
    uint8_t result = 0;
    int rc;

    memset(out, 0, sizeof *out);
    out->log = &run->log;
    if (remote == NULL) {
        jobs_run_fail(run, "remote: \"%s\" is not a configured remote AE",
                      run->job->request.remote);
        return 0;
    }
    snprintf(out->remote, sizeof out->remote, "%s", remote->title);
    out->dimse_timeout_ms = (unsigned)run->conf->network.dimse_timeout * 1000u;
    if (take_slot(run, remote) != 0)
        return 0;
    out->slot_held = true;

    snprintf(rq.called_ae, sizeof rq.called_ae, "%s", remote->title);
    snprintf(rq.calling_ae, sizeof rq.calling_ae, "%s", run->log.calling_ae);
    snprintf(rq.application_context, sizeof rq.application_context, "%s",
             UL_DICOM_APPLICATION_CONTEXT);
    if (ul_assoc_rq_add_pctx(&rq, 1, sop_class, syntaxes, 2) != 0) {
        jobs_run_fail(run, "out of memory");
        goto out;
    }

    assoc_ul_params(run->conf, &params);
    rc = ul_connect(remote->host, (uint16_t)remote->port, &params, &rq, &out->ul, &rj);
    if (rc == UL_REJECTED) {
        describe_reject(run, remote, &rj);
        goto out;
    }
    if (rc != UL_OK) {
        jobs_run_fail(run, "cannot open an association to %s at %s port %d: %s",
                      remote->title, remote->host, remote->port, ul_strerror(rc));
        goto out;
    }
    ul_assoc_set_log_ctx(out->ul, &run->log);

    ac = ul_assoc_accept(out->ul);
    for (size_t i = 0; i < ac->pctx_count; i++) {
        if (ac->pctx[i].id == 1 && ac->pctx[i].result == UL_PCTX_ACCEPTANCE)
            out->ts = dcm_ts_find(ac->pctx[i].transfer_syntax);
    }
    if (out->ts == NULL) {
        jobs_run_fail(run, "%s did not accept %s (%s) with explicit or implicit VR little "
                      "endian", remote->title, sop_class, dcm_uid_name(sop_class) != NULL
                                                             ? dcm_uid_name(sop_class)
                                                             : "Query/Retrieve");
        ul_release(out->ul);
        goto out;
    }
    log_info(&run->log, "jobs: association to %s at %s port %d for job %s", remote->title,
             remote->host, remote->port, run->job->id);
    result = 1;

out:
    ul_assoc_rq_free(&rq);
    if (result == 0) {
        ul_assoc_destroy(out->ul);
        out->ul = NULL;
        if (out->slot_held)
            scu_slot_release(out->remote);
        out->slot_held = false;
    }
    return result;
}

int jobs_assoc_send(jobs_assoc *assoc, uint8_t pctx_id, dcm_dataset *command,
                    const dcm_dataset *dataset)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;

    if (dimse_encode_command(command, &bytes, &len) != DCM_OK)
        return -1;
    rc = ul_write_pdv(assoc->ul, pctx_id, true, bytes, len, true);
    free(bytes);
    bytes = NULL;
    if (rc == UL_OK && dataset != NULL) {
        if (dcm_encode_buffer(dataset, assoc->ts, &bytes, &len) != DCM_OK)
            return -1;
        rc = ul_write_pdv(assoc->ul, pctx_id, false, bytes, len, true);
        free(bytes);
    }
    if (rc != UL_OK) {
        log_warn(assoc->log, "jobs: sending to %s failed: %s", assoc->remote, ul_strerror(rc));
        assoc->failed = true;
        return -1;
    }
    return 0;
}

int jobs_assoc_cancel(jobs_assoc *assoc, uint8_t pctx_id, uint16_t message_id)
{
    dcm_dataset *command = dcm_dataset_create();
    int rc = -1;

    if (command != NULL &&
        dcm_dataset_set_u16(command, DIMSE_TAG_COMMAND_FIELD, DIMSE_C_CANCEL_RQ) == DCM_OK &&
        dcm_dataset_set_u16(command, DIMSE_TAG_MESSAGE_ID_RESPONDED, message_id) == DCM_OK &&
        dcm_dataset_set_u16(command, DIMSE_TAG_DATASET_TYPE, DIMSE_NO_DATASET) == DCM_OK)
        rc = jobs_assoc_send(assoc, pctx_id, command, NULL);
    dcm_dataset_destroy(command);
    if (rc == 0)
        assoc->cancel_sent = true;
    return rc;
}

/* Appends one PDV to buf, bounded by max. */
static int append(uint8_t **buf, size_t *len, size_t max, const ul_pdv *pdv)
{
    uint8_t *grown;

    if (pdv->len > max - *len)
        return -1;
    grown = realloc(*buf, *len + pdv->len + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + *len, pdv->data, pdv->len);
    *buf = grown;
    *len += pdv->len;
    return 0;
}

static bool interrupted(job_run *run, const jobs_assoc *assoc)
{
    return assoc->cancel_sent ? jobs_run_stopping(run) : jobs_run_interrupted(run);
}

/* Fails the read: aborts the association and records why. */
static int read_failed(job_run *run, jobs_assoc *assoc, const char *what)
{
    jobs_run_fail(run, "%s (association to %s)", what, assoc->remote);
    if (!assoc->failed)
        ul_abort(assoc->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    assoc->failed = true;
    return JOBS_READ_FAILED;
}

int jobs_assoc_read(job_run *run, jobs_assoc *assoc, uint8_t pctx_id, dcm_dataset **command,
                    dcm_dataset **dataset)
{
    uint8_t *cmd_bytes = NULL, *data_bytes = NULL;
    size_t cmd_len = 0, data_len = 0;
    bool cmd_done = false, want_data = false;
    unsigned waited_ms = 0;
    uint32_t type = DIMSE_NO_DATASET;
    int result = JOBS_READ_FAILED;
    ul_pdv pdv;

    *command = NULL;
    *dataset = NULL;
    for (;;) {
        int rc;

        if (cmd_len == 0 && !cmd_done && interrupted(run, assoc)) {
            result = JOBS_READ_INTERRUPTED;
            goto out;
        }
        rc = ul_read_pdv(assoc->ul, &pdv, JOBS_POLL_MS);
        if (rc == UL_TIMEOUT) {
            waited_ms += JOBS_POLL_MS;
            if (assoc->dimse_timeout_ms != 0 && waited_ms >= assoc->dimse_timeout_ms) {
                result = read_failed(run, assoc, "no response within the DIMSE timeout");
                goto out;
            }
            continue;
        }
        if (rc == UL_RELEASE_REQUESTED) {
            result = read_failed(run, assoc, "the remote requested a release before its "
                                 "final response");
            goto out;
        }
        if (rc != UL_OK) {
            assoc->failed = true;
            jobs_run_fail(run, "the association to %s failed: %s", assoc->remote,
                          ul_strerror(rc));
            goto out;
        }
        waited_ms = 0;
        if (pdv.pctx_id != pctx_id) {
            result = read_failed(run, assoc, "PDV on an unexpected presentation context");
            goto out;
        }

        if (pdv.command) {
            if (cmd_done || append(&cmd_bytes, &cmd_len, DIMSE_MAX_COMMAND_BYTES, &pdv) != 0) {
                result = read_failed(run, assoc, "invalid or oversized command set");
                goto out;
            }
            if (!pdv.last)
                continue;
            cmd_done = true;
            if (dcm_parse_buffer(cmd_bytes, cmd_len, DCM_TS_IMPLICIT_LE, NULL, command,
                                 NULL) != DCM_OK) {
                result = read_failed(run, assoc, "unparsable command set");
                goto out;
            }
            dcm_dataset_get_uint(*command, DIMSE_TAG_DATASET_TYPE, 0, &type);
            want_data = type != DIMSE_NO_DATASET;
            if (!want_data)
                break;
            continue;
        }
        if (!cmd_done || !want_data ||
            append(&data_bytes, &data_len, DIMSE_MAX_DATASET_BYTES, &pdv) != 0) {
            result = read_failed(run, assoc, "unexpected or oversized data set");
            goto out;
        }
        if (pdv.last)
            break;
    }

    if (want_data && dcm_parse_buffer(data_bytes, data_len, assoc->ts, NULL, dataset,
                                      NULL) != DCM_OK) {
        result = read_failed(run, assoc, "unparsable identifier in a response");
        goto out;
    }
    result = JOBS_READ_OK;

out:
    if (result != JOBS_READ_OK) {
        dcm_dataset_destroy(*command);
        *command = NULL;
    }
    free(cmd_bytes);
    free(data_bytes);
    return result;
}

void jobs_assoc_close(jobs_assoc *assoc, bool abort)
{
    int rc;

    if (assoc->ul != NULL) {
        if (abort && !assoc->failed) {
            ul_abort(assoc->ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        } else if (!assoc->failed) {
            rc = ul_release(assoc->ul);
            if (rc != UL_OK)
                log_warn(assoc->log, "jobs: release of the association to %s failed: %s",
                         assoc->remote, ul_strerror(rc));
        }
        ul_assoc_destroy(assoc->ul);
        assoc->ul = NULL;
    }
    if (assoc->slot_held)
        scu_slot_release(assoc->remote);
    assoc->slot_held = false;
}
