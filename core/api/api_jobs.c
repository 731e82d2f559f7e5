/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jobs paths: list, submit, read, cancel and retry, passed to
 * core/jobs. Job records are the JSON documents core/jobs makes. This
 * file only checks that the request body is one JSON object and turns the
 * outcome into an HTTP status: 400 for a request core/jobs rejects, 404
 * for an unknown job, 409 for a job in the wrong state.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum length of a job id in a path. */
#define JOB_ID_MAX 64

/* Returns false after a 503 when the daemon runs without a job runner. */
static bool have_jobs(const api_request *req, api_response *res)
{
    if (req->server->jobs != NULL)
        return true;
    api_reply_error(res, MHD_HTTP_SERVICE_UNAVAILABLE, "the job runner is not running");
    return false;
}

/* Returns false after a 404 when id cannot name a job. */
static bool valid_job_id(api_response *res, const char *id)
{
    size_t len = strlen(id);

    for (size_t i = 0; i < len && len <= JOB_ID_MAX; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\')
            len = JOB_ID_MAX + 1;
    }
    if (len > 0 && len <= JOB_ID_MAX)
        return true;
    api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown job \"%.64s\"", id);
    return false;
}

/* Sends the JSON text that a jobs_* call returned, after checking that it parses. */
static void reply_document(api_response *res, unsigned status, char *text, const char *what)
{
    json_error_t error;
    json_t *value = text != NULL ? json_loads(text, JSON_DECODE_ANY, &error) : NULL;

    free(text);
    if (value == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "the job runner returned no "
                        "valid JSON for %s", what);
        return;
    }
    api_reply_json(res, status, value);
}

void api_list_jobs(const api_request *req, api_response *res)
{
    json_error_t error;
    char *text;
    json_t *list;

    if (!have_jobs(req, res) || api_check_params(req, res, NULL, 0) != 0)
        return;
    text = jobs_list_json(req->server->jobs);
    list = text != NULL ? json_loads(text, 0, &error) : NULL;
    free(text);
    if (!json_is_array(list)) {
        json_decref(list);
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "the job runner returned no job "
                        "list");
        return;
    }
    api_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "jobs", list));
}

void api_submit_job(const api_request *req, api_response *res)
{
    json_error_t error;
    json_t *request;
    char *id = NULL;
    char err[512] = "";
    char location[16 + JOB_ID_MAX];

    if (!have_jobs(req, res))
        return;
    request = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (request == NULL) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "request body is not valid JSON: line %d "
                        "column %d: %s", error.line, error.column, error.text);
        return;
    }
    if (!json_is_object(request)) {
        json_decref(request);
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "request body must be a JSON object");
        return;
    }
    json_decref(request);

    if (jobs_submit(req->server->jobs, req->body, &id, err, sizeof err) != 0 || id == NULL) {
        free(id);
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "%s", err[0] != '\0' ? err :
                        "the job runner rejected the request");
        return;
    }

    snprintf(location, sizeof location, "/v1/jobs/%.*s", JOB_ID_MAX, id);
    res->location = strdup(location);
    reply_document(res, MHD_HTTP_CREATED, jobs_get_json(req->server->jobs, id), "the new job");
    free(id);
}

void api_get_job(const api_request *req, api_response *res, const char *id)
{
    char *text;

    if (!have_jobs(req, res) || !valid_job_id(res, id))
        return;
    text = jobs_get_json(req->server->jobs, id);
    if (text == NULL) {
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown job \"%s\"", id);
        return;
    }
    reply_document(res, MHD_HTTP_OK, text, "the job");
}

/* Runs cancel or retry. A job that exists but cannot change state gets 409. */
static void change_job(const api_request *req, api_response *res, const char *id,
                       int (*change)(jobs *, const char *, char *, size_t))
{
    jobs *js = req->server->jobs;
    char err[512] = "";
    char *text;

    if (!have_jobs(req, res) || !valid_job_id(res, id))
        return;
    if (change(js, id, err, sizeof err) == 0) {
        reply_document(res, MHD_HTTP_OK, jobs_get_json(js, id), "the job");
        return;
    }

    text = jobs_get_json(js, id);
    if (text == NULL) {
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown job \"%s\"", id);
        return;
    }
    free(text);
    api_reply_error(res, MHD_HTTP_CONFLICT, "%s", err[0] != '\0' ? err :
                    "the job cannot change state now");
}

void api_cancel_job(const api_request *req, api_response *res, const char *id)
{
    change_job(req, res, id, jobs_cancel);
}

void api_retry_job(const api_request *req, api_response *res, const char *id)
{
    change_job(req, res, id, jobs_retry);
}
