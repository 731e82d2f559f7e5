/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job record: its JSON document, returned by the control API and kept
 * in the index, and the way back from a kept document to a job at start.
 */
#include "jobs/jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {
    [JOB_QUEUED] = "queued",       [JOB_RUNNING] = "running", [JOB_SUCCEEDED] = "succeeded",
    [JOB_FAILED] = "failed",       [JOB_CANCELLED] = "cancelled",
};

const char *jobs_state_name(job_state state)
{
    return state_names[state];
}

void jobs_format_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t seconds = (time_t)t;

    gmtime_r(&seconds, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_time(jobs_buf *buf, const char *name, int64_t t)
{
    char text[32];

    jobs_buf_addf(buf, ",\"%s\":", name);
    if (t == 0) {
        jobs_buf_add(buf, "null");
        return;
    }
    jobs_format_time(t, text);
    jobs_buf_add_string(buf, text);
}

static void add_progress(jobs_buf *buf, const job *j)
{
    const job_progress *p = &j->progress;

    jobs_buf_addf(buf, ",\"progress\":{\"instances_done\":%llu",
                  (unsigned long long)p->instances_done);
    if (p->remaining_known)
        jobs_buf_addf(buf, ",\"instances_remaining\":%llu",
                      (unsigned long long)p->instances_remaining);
    else
        jobs_buf_add(buf, ",\"instances_remaining\":null");
    jobs_buf_addf(buf, ",\"instances_failed\":%llu,\"instances_warning\":%llu",
                  (unsigned long long)p->instances_failed,
                  (unsigned long long)p->instances_warning);
    if (p->bytes_known)
        jobs_buf_addf(buf, ",\"bytes_done\":%llu,\"bytes_remaining\":%llu}",
                      (unsigned long long)p->bytes_done, (unsigned long long)p->bytes_remaining);
    else
        jobs_buf_add(buf, ",\"bytes_done\":null,\"bytes_remaining\":null}");
}

char *jobs_record_format(const job *j)
{
    jobs_buf buf = {0};

    jobs_buf_add(&buf, "{\"id\":");
    jobs_buf_add_string(&buf, j->id);
    jobs_buf_addf(&buf, ",\"kind\":\"%s\",\"state\":\"%s\",\"request\":", jobs_kind_name(j->kind),
                  jobs_state_name(j->state));
    jobs_buf_add_json(&buf, j->request_json);
    add_time(&buf, "created", j->created);
    add_time(&buf, "started", j->started);
    add_time(&buf, "finished", j->finished);
    jobs_buf_addf(&buf, ",\"attempts\":%u", j->attempts);
    jobs_buf_add(&buf, ",\"node\":");
    jobs_buf_add_string(&buf, j->node[0] != '\0' ? j->node : NULL);
    add_progress(&buf, j);
    jobs_buf_add(&buf, ",\"error\":");
    jobs_buf_add_string(&buf, j->state == JOB_FAILED || j->error[0] ? j->error : NULL);
    if (j->kind == JOB_QUERY) {
        jobs_buf_add(&buf, ",\"result\":");
        jobs_buf_add(&buf, j->result != NULL ? j->result : "null");
        jobs_buf_addf(&buf, ",\"truncated\":%s", j->truncated ? "true" : "false");
    }
    jobs_buf_add(&buf, "}");
    return jobs_buf_take(&buf);
}

/* Reads "YYYY-MM-DDTHH:MM:SSZ"; null or absent gives 0. */
static int read_time(const jobs_json *doc, const char *name, int64_t *out)
{
    const jobs_json *v = jobs_json_get(doc, name);
    struct tm tm = {0};
    const char *end;

    *out = 0;
    if (v == NULL || v->type == JOBS_JSON_NULL)
        return 0;
    if (v->type != JOBS_JSON_STRING)
        return -1;
    end = strptime(v->string, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static uint64_t read_count(const jobs_json *progress, const char *name, bool *known)
{
    const jobs_json *v = jobs_json_get(progress, name);

    if (v == NULL || v->type != JOBS_JSON_NUMBER || v->number < 0) {
        if (known != NULL)
            *known = false;
        return 0;
    }
    return (uint64_t)v->number;
}

static void read_progress(const jobs_json *doc, job_progress *p)
{
    const jobs_json *progress = jobs_json_get(doc, "progress");
    bool known = true;

    p->instances_done = read_count(progress, "instances_done", NULL);
    p->instances_failed = read_count(progress, "instances_failed", NULL);
    p->instances_warning = read_count(progress, "instances_warning", NULL);
    p->instances_remaining = read_count(progress, "instances_remaining", &known);
    p->remaining_known = known;
    known = true;
    p->bytes_done = read_count(progress, "bytes_done", &known);
    p->bytes_remaining = read_count(progress, "bytes_remaining", &known);
    p->bytes_known = known;
}

static int read_state(const jobs_json *doc, job_state *state)
{
    const jobs_json *v = jobs_json_get(doc, "state");

    if (v == NULL || v->type != JOBS_JSON_STRING)
        return -1;
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp(v->string, state_names[i]) == 0) {
            *state = (job_state)i;
            return 0;
        }
    }
    return -1;
}

static int load(const char *job_id, const jobs_json *doc, job *j, char *err, size_t errlen)
{
    const jobs_json *request = jobs_json_get(doc, "request");
    const jobs_json *v;
    jobs_buf buf = {0};

    snprintf(j->id, sizeof j->id, "%s", job_id);
    if (read_state(doc, &j->state) != 0) {
        snprintf(err, errlen, "state: missing or unknown");
        return -1;
    }
    if (request == NULL || jobs_request_parse(request, NULL, &j->request, err, errlen) != 0)
        return -1;
    j->kind = j->request.kind;

    /* Keep the request as it was submitted. */
    jobs_buf_add_json(&buf, request);
    if (buf.failed || jobs_json_parse(buf.data, &j->request_json, err, errlen) != 0) {
        jobs_buf_free(&buf);
        return -1;
    }
    jobs_buf_free(&buf);

    if (read_time(doc, "created", &j->created) != 0 ||
        read_time(doc, "started", &j->started) != 0 ||
        read_time(doc, "finished", &j->finished) != 0) {
        snprintf(err, errlen, "created, started or finished: invalid time");
        return -1;
    }
    read_progress(doc, &j->progress);
    v = jobs_json_get(doc, "attempts");
    if (v != NULL && v->type == JOBS_JSON_NUMBER && v->number >= 0 && v->number < 1e9)
        j->attempts = (unsigned)v->number;
    v = jobs_json_get(doc, "error");
    if (v != NULL && v->type == JOBS_JSON_STRING)
        snprintf(j->error, sizeof j->error, "%s", v->string);
    v = jobs_json_get(doc, "node");
    if (v != NULL && v->type == JOBS_JSON_STRING)
        snprintf(j->node, sizeof j->node, "%s", v->string);
    v = jobs_json_get(doc, "truncated");
    j->truncated = v != NULL && v->type == JOBS_JSON_BOOL && v->boolean;

    v = jobs_json_get(doc, "result");
    if (v != NULL && v->type == JOBS_JSON_ARRAY) {
        jobs_buf_add_json(&buf, v);
        j->result = jobs_buf_take(&buf);
        if (j->result == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int jobs_record_load(const char *job_id, const char *document, job **out, char *err,
                     size_t errlen)
{
    jobs_json *doc = NULL;
    job *j;
    int result = -1;

    *out = NULL;
    j = calloc(1, sizeof *j);
    if (j == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (jobs_json_parse(document, &doc, err, errlen) != 0)
        goto out;
    if (doc->type != JOBS_JSON_OBJECT) {
        snprintf(err, errlen, "the document is not a JSON object");
        goto out;
    }
    result = load(job_id, doc, j, err, errlen);

out:
    jobs_json_free(doc);
    if (result != 0) {
        jobs_record_free(j);
        return -1;
    }
    *out = j;
    return 0;
}

void jobs_record_free(job *j)
{
    if (j == NULL)
        return;
    jobs_json_free(j->request_json);
    jobs_request_free(&j->request);
    free(j->result);
    free(j);
}
