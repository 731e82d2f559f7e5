/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Query Manager: a C-FIND SCU. It sends one C-FIND-RQ with the
 * request's keys as the identifier, collects the pending responses'
 * identifiers as JSON objects (attribute keyword, or tag as 8 hexadecimal
 * digits, to the value as UTF-8 text) and keeps them as the job's result.
 * After max_results matches, or when the job is cancelled, it sends a
 * C-CANCEL-RQ and waits for the final response.
 */
#include "jobs/jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dimse/dimse.h"

#define TAG_QUERY_RETRIEVE_LEVEL DCM_TAG(0x0008, 0x0052)
#define TAG_PATIENT_ID DCM_TAG(0x0010, 0x0020)
#define TAG_STUDY_INSTANCE_UID DCM_TAG(0x0020, 0x000D)
#define TAG_SERIES_INSTANCE_UID DCM_TAG(0x0020, 0x000E)
#define TAG_SOP_INSTANCE_UID DCM_TAG(0x0008, 0x0018)

#define STATUS_CANCELLED 0xFE00u
#define STATUS_PENDING 0xFF00u
#define STATUS_PENDING_WARNING 0xFF01u

/* The unique key of a level, added as a return key when the request lacks it. */
static dcm_tag level_unique_key(const char *level, dcm_vr *vr)
{
    *vr = DCM_VR_UI;
    if (strcmp(level, "PATIENT") == 0) {
        *vr = DCM_VR_LO;
        return TAG_PATIENT_ID;
    }
    if (strcmp(level, "STUDY") == 0)
        return TAG_STUDY_INSTANCE_UID;
    if (strcmp(level, "SERIES") == 0)
        return TAG_SERIES_INSTANCE_UID;
    return TAG_SOP_INSTANCE_UID;
}

static bool is_ascii(const char *text)
{
    for (; *text != '\0'; text++) {
        if ((unsigned char)*text > 0x7F)
            return false;
    }
    return true;
}

static dcm_dataset *build_identifier(const job_request *req)
{
    dcm_dataset *ds = dcm_dataset_create();
    bool ascii = true;
    dcm_tag unique;
    dcm_vr vr;
    int rc;

    if (ds == NULL)
        return NULL;
    rc = dcm_dataset_set_string(ds, TAG_QUERY_RETRIEVE_LEVEL, DCM_VR_CS, req->level);
    for (size_t i = 0; rc == DCM_OK && i < req->n_keys; i++) {
        rc = dcm_dataset_set_string(ds, req->keys[i].tag, req->keys[i].vr, req->keys[i].value);
        ascii = ascii && is_ascii(req->keys[i].value);
    }
    unique = level_unique_key(req->level, &vr);
    if (rc == DCM_OK && dcm_dataset_find(ds, unique) == NULL)
        rc = dcm_dataset_set_string(ds, unique, vr, "");
    if (rc == DCM_OK && !ascii)
        rc = dcm_dataset_set_string(ds, DCM_TAG_SPECIFIC_CHARACTER_SET, DCM_VR_CS, "ISO_IR 192");
    if (rc != DCM_OK) {
        dcm_dataset_destroy(ds);
        return NULL;
    }
    return ds;
}

static dcm_dataset *build_command(const char *sop_class, uint16_t message_id)
{
    dcm_dataset *cmd = dcm_dataset_create();

    if (cmd == NULL)
        return NULL;
    if (dcm_dataset_set_string(cmd, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI, sop_class) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_COMMAND_FIELD, DIMSE_C_FIND_RQ) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_MESSAGE_ID, message_id) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_PRIORITY, 0) ||
        dcm_dataset_set_u16(cmd, DIMSE_TAG_DATASET_TYPE, 0x0000)) {
        dcm_dataset_destroy(cmd);
        return NULL;
    }
    return cmd;
}

/* Adds the text value of el, converted to UTF-8, without its padding. */
static void add_text(jobs_buf *buf, const dcm_element *el, const char *charset)
{
    const uint8_t *value = dcm_element_value(el);
    uint32_t len = dcm_element_length(el);
    char *text = NULL;
    size_t n;

    if (value == NULL || len == 0 || len == DCM_UNDEFINED_LENGTH) {
        jobs_buf_add(buf, "\"\"");
        return;
    }
    if (dcm_charset_to_utf8(charset, (const char *)value, len, dcm_element_vr(el), &text) !=
        DCM_OK) {
        jobs_buf_add(buf, "null");
        return;
    }
    n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\0'))
        text[--n] = '\0';
    jobs_buf_add_string(buf, text);
    free(text);
}

/* Copies the whole (0008,0005) value, every term, as dcm_charset_to_utf8 expects it. */
static void read_charset(const dcm_dataset *ds, char *out, size_t size)
{
    const dcm_element *cs = dcm_dataset_find(ds, DCM_TAG_SPECIFIC_CHARACTER_SET);

    out[0] = '\0';
    if (cs != NULL && dcm_element_value(cs) != NULL && dcm_element_length(cs) < size) {
        memcpy(out, dcm_element_value(cs), dcm_element_length(cs));
        out[dcm_element_length(cs)] = '\0';
    }
}

/* Appends one identifier as a JSON object. */
static void add_match(jobs_buf *buf, const dcm_dataset *ds)
{
    char charset[256];
    bool first = true;

    read_charset(ds, charset, sizeof charset);

    jobs_buf_add(buf, "{");
    for (size_t i = 0; i < dcm_dataset_count(ds); i++) {
        const dcm_element *el = dcm_dataset_at(ds, i);
        dcm_tag tag = dcm_element_tag(el);
        dcm_vr vr = dcm_element_vr(el);
        const dcm_dict_entry *entry;
        uint32_t number;

        if (DCM_TAG_GROUP(tag) <= 0x0002 || tag == DCM_TAG_SPECIFIC_CHARACTER_SET)
            continue;
        if (!first)
            jobs_buf_add(buf, ",");
        first = false;
        entry = dcm_dict_find(tag);
        if (entry != NULL && entry->keyword != NULL && entry->keyword[0] != '\0' &&
            !(entry->flags & DCM_DICT_REPEATING))
            jobs_buf_add_string(buf, entry->keyword);
        else
            jobs_buf_addf(buf, "\"%08X\"", (unsigned)tag);
        jobs_buf_add(buf, ":");

        if (vr == DCM_VR_SQ || dcm_element_is_deferred(el))
            jobs_buf_add(buf, "null");
        else if (dcm_vr_is_string(vr))
            add_text(buf, el, charset[0] ? charset : NULL);
        else if ((vr == DCM_VR_US || vr == DCM_VR_UL) && dcm_element_get_uint(el, 0, &number) == 0)
            jobs_buf_addf(buf, "%u", number);
        else
            jobs_buf_add(buf, "null");
    }
    jobs_buf_add(buf, "}");
}

job_outcome jobs_run_query(job_run *run)
{
    const job_request *req = &run->job->request;
    const char *sop_class = jobs_model_find_sop_class(req->model);
    jobs_assoc assoc;
    dcm_dataset *command = NULL, *identifier = NULL;
    jobs_buf result = {0};
    job_progress progress = {0};
    bool truncated = false, cancelled_by_user = false;
    job_outcome outcome = JOB_OUTCOME_FAILED;
    uint8_t pctx;

    pctx = jobs_assoc_open(run, sop_class, &assoc);
    if (pctx == 0)
        return jobs_run_interrupted(run) ? jobs_run_interruption(run) : JOB_OUTCOME_FAILED;

    identifier = build_identifier(req);
    command = build_command(sop_class, 1);
    if (identifier == NULL || command == NULL) {
        outcome = jobs_run_fail(run, "out of memory");
        goto out;
    }
    if (jobs_assoc_send(&assoc, pctx, command, identifier) != 0) {
        outcome = jobs_run_fail(run, "sending the C-FIND-RQ to %s failed", req->remote);
        goto out;
    }
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(identifier);
    command = identifier = NULL;

    jobs_buf_add(&result, "[");
    for (;;) {
        uint32_t field = 0, status = 0;
        char comment[65] = "";
        int rc = jobs_assoc_read(run, &assoc, pctx, &command, &identifier);

        if (rc == JOBS_READ_INTERRUPTED) {
            if (jobs_run_stopping(run)) {
                outcome = JOB_OUTCOME_STOPPED;
                goto out;
            }
            cancelled_by_user = true;
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
        if (field != (DIMSE_C_FIND_RQ | DIMSE_RESPONSE_BIT)) {
            outcome = jobs_run_fail(run, "%s sent %s (0x%04X) in place of a C-FIND-RSP",
                                    req->remote, dimse_command_name((uint16_t)field), field);
            assoc.failed = true;
            goto out;
        }
        if (status == STATUS_PENDING || status == STATUS_PENDING_WARNING) {
            if (identifier != NULL && progress.instances_done < req->max_results) {
                if (progress.instances_done > 0)
                    jobs_buf_add(&result, ",");
                add_match(&result, identifier);
                progress.instances_done++;
                jobs_run_progress(run, &progress);
            } else if (identifier != NULL) {
                truncated = true;
            }
            if (progress.instances_done >= req->max_results && !assoc.cancel_sent &&
                jobs_assoc_cancel(&assoc, pctx, 1) != 0)
                goto out;
        } else if (status == 0x0000 || status == STATUS_CANCELLED) {
            jobs_buf_add(&result, "]");
            if (result.failed) {
                outcome = jobs_run_fail(run, "out of memory for the matches");
                goto out;
            }
            truncated = truncated || (status == STATUS_CANCELLED && !cancelled_by_user);
            jobs_run_set_result(run, jobs_buf_take(&result), truncated);
            outcome = cancelled_by_user ? JOB_OUTCOME_CANCELLED : JOB_OUTCOME_SUCCEEDED;
            log_info(&run->log, "jobs: query job %s: %llu match(es)%s", run->job->id,
                     (unsigned long long)progress.instances_done,
                     truncated ? ", more not kept (max_results)" : "");
            goto out;
        } else {
            outcome = jobs_run_fail(run, "%s answered the C-FIND with status 0x%04X%s%s",
                                    req->remote, status, comment[0] ? ": " : "", comment);
            goto out;
        }
        dcm_dataset_destroy(command);
        dcm_dataset_destroy(identifier);
        command = identifier = NULL;
    }

out:
    jobs_assoc_close(&assoc, outcome == JOB_OUTCOME_STOPPED);
    dcm_dataset_destroy(command);
    dcm_dataset_destroy(identifier);
    jobs_buf_free(&result);
    return outcome;
}
