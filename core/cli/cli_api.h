/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `cairn` commands that drive a running cairnd through its control
 * API (docs/api.md): the HTTP client, the job commands (query, retrieve,
 * send, jobs), the AE commands and C-ECHO. Each command returns a
 * CLI_EXIT_* code after printing its output to stdout and its errors to
 * stderr.
 */
#ifndef CAIRN_CLI_API_H
#define CAIRN_CLI_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Where the API is, from the command line; NULL members come from the configuration. */
typedef struct cli_api_options {
    const char *url;     /* --api: base URL such as http://127.0.0.1:8104 */
    const char *token;   /* --token, else $CAIRN_API_TOKEN, else api.token */
    const char *ca_file; /* --cacert: PEM file of the certificates to trust */
    bool insecure;       /* --insecure: skip the check of the server's certificate */
} cli_api_options;

/* A client of one cairnd's control API. Opaque. */
typedef struct cli_api cli_api;

/*
 * Creates a client. Without options->url, reads the `api` group of the
 * configuration at config_path: https when api.tls_certificate is set,
 * trusting that certificate. Prints what failed and returns NULL on error.
 */
cli_api *cli_api_create(const cli_api_options *options, const char *config_path);
void cli_api_destroy(cli_api *api);

/* Returns the base URL, for messages. */
const char *cli_api_url(const cli_api *api);

/*
 * Sends one request. path starts with "/v1/". body (may be NULL) is sent
 * as JSON. On a 2xx response stores the parsed JSON body in *reply (caller
 * decrefs) and returns 0. Otherwise prints the failure (the API's error
 * message with the HTTP status, or why the API could not be reached) and
 * returns -1. *status gets the HTTP status, 0 when there was no answer;
 * status may be NULL.
 */
int cli_api_call(cli_api *api, const char *method, const char *path, json_t *body,
                 json_t **reply, long *status);

/* Returns segment percent-encoded for a path (malloc'd), or NULL when out of memory. */
char *cli_api_escape(cli_api *api, const char *segment);

/* Prints value as indented JSON on stdout, followed by a newline. */
void cli_print_json(const json_t *value);

/* Job commands ------------------------------------------------------------ */

/* Everything the job commands take from the command line. */
typedef struct cli_job_args {
    const char *remote;
    const char *calling_ae;
    bool json;
    /* query */
    const char *model;         /* patient, study or patient-study; NULL for the default */
    const char *level;         /* NULL for the model's default */
    const char **keys;         /* KEY=VALUE or KEY, as given */
    size_t n_keys;
    long max_results;          /* 0 for the default */
    bool no_default_keys;
    /* retrieve and send */
    const char *study_uid;
    const char *series_uid;
    const char **instance_uids;
    size_t n_instances;
    const char *destination;   /* retrieve: the move destination, one of our AEs */
    bool wait;
    unsigned timeout_seconds;  /* 0 waits for as long as the job runs */
    /* commitment */
    bool instances;            /* list each instance, not only the counts */
} cli_job_args;

int cli_query(cli_api *api, const cli_job_args *args);
/* kind is "retrieve" or "send". */
int cli_transfer(cli_api *api, const char *kind, const cli_job_args *args);
int cli_echo(cli_api *api, const cli_job_args *args);

/* action is list, show, cancel or retry; id is NULL for list. */
int cli_jobs(cli_api *api, const char *action, const char *id, const cli_job_args *args);

/* Prints the storage commitment of study args->study_uid at the backup archives (cli_commitment.c). */
int cli_commitment(cli_api *api, const cli_job_args *args);

/* Prints the data router's MPPS steps, or step uid when not NULL (cli_mpps.c). */
int cli_mpps(cli_api *api, const char *uid, bool json);
/* Prints the messages waiting in the outbox with their last error (cli_mpps.c). */
int cli_outbox(cli_api *api, bool json);

/* action is list, enable or disable; title is NULL for list. */
int cli_ae(cli_api *api, const char *action, const char *title, bool json);

/* Prints a job record as "label: value" lines (cli_jobs.c). */
void cli_print_job(const json_t *record);

/* Waiting for a job (cli_wait.c) ----------------------------------------- */

/* How a wait shows the job's progress. */
typedef enum cli_progress_style {
    CLI_PROGRESS_NONE,
    CLI_PROGRESS_BAR,   /* one line redrawn in place, for a terminal */
    CLI_PROGRESS_LINES  /* a line when the counts change, at most one a second */
} cli_progress_style;

/*
 * Polls the job until it succeeds, fails or is cancelled, showing its
 * progress in style. Stops early on SIGINT, SIGTERM or after
 * timeout_seconds (0: no limit), saying that the job goes on. Returns 0
 * with the final record in *record, or -1 after printing why it stopped.
 */
int cli_job_wait(cli_api *api, const char *id, cli_progress_style style,
                 unsigned timeout_seconds, json_t **record);

/* Returns CLI_PROGRESS_BAR when stdout is a terminal, else CLI_PROGRESS_LINES. */
cli_progress_style cli_progress_style_for_stdout(void);

/* Writes "12/30 instances, 6.0 MiB of 15.0 MiB" for a job record's progress. */
void cli_format_progress(const json_t *record, char *out, size_t outlen);

/* Returns the job's state, or "" when the record has none. */
const char *cli_job_state(const json_t *record);

#endif
