/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of the control API share: the server state, one request
 * as the handlers see it, the response they fill, and the handlers
 * themselves. Not for use outside core/api.
 */
#ifndef CAIRN_API_INTERNAL_H
#define CAIRN_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"

/* Largest request body accepted, in bytes; larger bodies get 413. */
#define API_MAX_BODY (1024u * 1024u)

struct api_server {
    struct MHD_Daemon *daemon;
    runtime *rt;
    archive *archive;
    const plugin_registry *plugins;
    jobs *jobs;
    char *token;               /* required bearer token, or NULL */
    char *tls_certificate_pem; /* file contents while TLS is on, else NULL */
    char *tls_key_pem;
    time_t started_at;         /* wall clock, for the status */
    struct timespec started;   /* CLOCK_MONOTONIC, for the uptime */
};

/* One request, complete with its body. Strings are borrowed from libmicrohttpd. */
typedef struct api_request {
    api_server *server;
    struct MHD_Connection *connection;
    const char *method;
    const char *path;          /* percent-decoded, without the query string */
    const char *body;          /* NUL-terminated, "" when there is none */
    size_t body_len;
} api_request;

/* The response a handler builds. body is malloc'd. */
typedef struct api_response {
    unsigned status;
    char *body;
    size_t body_len;
    const char *content_type;  /* default application/json */
    const char *allow;         /* Allow header of a 405, or NULL */
    char *location;            /* Location header of a 201 (malloc'd), or NULL */
} api_response;

/* Sets a JSON body and the status; takes the reference to value. Returns 0. */
int api_reply_json(api_response *res, unsigned status, json_t *value);

/* Sets {"error": message} and the status. Returns 0. */
int api_reply_error(api_response *res, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a JSON body already encoded as text (copied). */
int api_reply_raw_json(api_response *res, unsigned status, const char *text);

/* Returns the value of query parameter key, or NULL when absent. */
const char *api_query_param(const api_request *req, const char *key);

/*
 * Fails with 400 naming the first query parameter not in allowed[0..n).
 * Returns 0 when every parameter is allowed, else -1 with res filled.
 */
int api_check_params(const api_request *req, api_response *res, const char *const *allowed,
                     size_t n);

/* Returns a JSON string of text, with bytes that are not valid UTF-8 replaced by U+FFFD. */
json_t *api_json_text(const char *text, size_t len);

/* Routes one request to its handler and fills res. */
void api_route(const api_request *req, api_response *res);

/* Handlers, one per path and method. Each fills res. */
void api_get_status(const api_request *req, api_response *res);
void api_get_metrics(const api_request *req, api_response *res);
void api_get_aes(const api_request *req, api_response *res);
void api_set_ae_enabled(const api_request *req, api_response *res, const char *title,
                        bool enabled);
void api_get_remotes(const api_request *req, api_response *res);
void api_echo_remote(const api_request *req, api_response *res, const char *title);
void api_list_level(const api_request *req, api_response *res, cairn_index_level level);
void api_list_jobs(const api_request *req, api_response *res);
void api_submit_job(const api_request *req, api_response *res);
void api_get_job(const api_request *req, api_response *res, const char *id);
void api_cancel_job(const api_request *req, api_response *res, const char *id);
void api_retry_job(const api_request *req, api_response *res, const char *id);
void api_list_mpps(const api_request *req, api_response *res);
void api_get_mpps(const api_request *req, api_response *res, const char *uid);
void api_list_outbox(const api_request *req, api_response *res);
void api_get_study_commitment(const api_request *req, api_response *res, const char *study_uid);

#endif
