/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn jobs`: lists the jobs of the daemon, shows one job record, and
 * cancels or retries a job, through /v1/jobs. The records are those that
 * docs/jobs.md describes; --json prints them as the API returns them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

static const char *text_member(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));

    return text != NULL ? text : "";
}

/* Writes one line of the job list. */
static int add_job_row(cli_table *table, const json_t *record)
{
    const json_t *request = json_object_get(record, "request");
    char progress[160];
    const char *values[7];

    cli_format_progress(record, progress, sizeof progress);
    values[0] = text_member(record, "id");
    values[1] = text_member(record, "kind");
    values[2] = cli_job_state(record);
    values[3] = text_member(request, "remote");
    values[4] = text_member(record, "created");
    values[5] = progress;
    values[6] = text_member(record, "error");
    return cli_table_add(table, values);
}

static int list_jobs(cli_api *api, bool json)
{
    static const cli_column columns[] = {
        {NULL, "ID", CLI_VALUE_TEXT},      {NULL, "KIND", CLI_VALUE_TEXT},
        {NULL, "STATE", CLI_VALUE_TEXT},   {NULL, "REMOTE", CLI_VALUE_TEXT},
        {NULL, "CREATED", CLI_VALUE_TEXT}, {NULL, "PROGRESS", CLI_VALUE_TEXT},
        {NULL, "ERROR", CLI_VALUE_TEXT},
    };
    json_t *reply = NULL;
    const json_t *jobs;
    cli_table *table;
    size_t i;
    json_t *record;
    int rc = CLI_EXIT_FAILURE;

    if (cli_api_call(api, "GET", "/v1/jobs", NULL, &reply, NULL) != 0)
        return CLI_EXIT_FAILURE;
    jobs = json_object_get(reply, "jobs");
    if (!json_is_array(jobs)) {
        cli_error("GET /v1/jobs returned no \"jobs\" array");
        goto out;
    }
    if (json) {
        cli_print_json(jobs);
        rc = CLI_EXIT_OK;
        goto out;
    }

    table = cli_table_create(columns, sizeof columns / sizeof columns[0], stdout);
    if (table == NULL)
        goto out;
    rc = CLI_EXIT_OK;
    json_array_foreach(jobs, i, record) {
        if (add_job_row(table, record) != 0)
            rc = CLI_EXIT_FAILURE;
    }
    if (cli_table_finish(table) != 0)
        rc = CLI_EXIT_FAILURE;
    cli_table_destroy(table);

out:
    json_decref(reply);
    return rc;
}

/* Prints "  key: value" for a string member that is set. */
static void print_field(const char *label, const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));

    if (text != NULL && text[0] != '\0')
        printf("%-10s %s\n", label, text);
}

void cli_print_job(const json_t *record)
{
    const json_t *request = json_object_get(record, "request");
    const json_t *result = json_object_get(record, "result");
    const json_t *attempts = json_object_get(record, "attempts");
    char progress[160];
    char *request_text;

    print_field("id:", record, "id");
    print_field("kind:", record, "kind");
    print_field("state:", record, "state");
    print_field("remote:", request, "remote");
    request_text = json_dumps(request, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (request_text != NULL)
        printf("%-10s %s\n", "request:", request_text);
    free(request_text);
    print_field("created:", record, "created");
    print_field("started:", record, "started");
    print_field("finished:", record, "finished");
    if (json_is_integer(attempts))
        printf("%-10s %lld\n", "attempts:", (long long)json_integer_value(attempts));
    cli_format_progress(record, progress, sizeof progress);
    if (progress[0] != '\0')
        printf("%-10s %s\n", "progress:", progress);
    if (json_is_array(result))
        printf("%-10s %zu%s\n", "matches:", json_array_size(result),
               json_is_true(json_object_get(record, "truncated")) ? " (truncated)" : "");
    print_field("error:", record, "error");
}

/* Runs show, cancel or retry on one job. */
static int act_on_job(cli_api *api, const char *action, const char *id, const cli_job_args *args)
{
    char *escaped = cli_api_escape(api, id);
    char path[256];
    json_t *record = NULL;
    int rc;

    if (escaped == NULL)
        return CLI_EXIT_FAILURE;
    if (strcmp(action, "show") == 0)
        snprintf(path, sizeof path, "/v1/jobs/%s", escaped);
    else
        snprintf(path, sizeof path, "/v1/jobs/%s/%s", escaped, action);
    free(escaped);

    if (strcmp(action, "show") == 0 && args->wait)
        rc = cli_job_wait(api, id, args->json ? CLI_PROGRESS_NONE : cli_progress_style_for_stdout(),
                          args->timeout_seconds, &record);
    else
        rc = cli_api_call(api, strcmp(action, "show") == 0 ? "GET" : "POST", path, NULL, &record,
                          NULL);
    if (rc != 0)
        return CLI_EXIT_FAILURE;

    if (args->json)
        cli_print_json(record);
    else
        cli_print_job(record);

    /* After a wait, the exit status is 0 only when the job succeeded, for scripts. */
    rc = CLI_EXIT_OK;
    if (args->wait && strcmp(action, "show") == 0 &&
        strcmp(cli_job_state(record), "succeeded") != 0)
        rc = CLI_EXIT_FAILURE;
    json_decref(record);
    return rc;
}

int cli_jobs(cli_api *api, const char *action, const char *id, const cli_job_args *args)
{
    if (strcmp(action, "list") == 0)
        return list_jobs(api, args->json);
    return act_on_job(api, action, id, args);
}
