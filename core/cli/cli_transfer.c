/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn retrieve` and `cairn send`: submit a retrieve job (C-MOVE from a
 * remote AE into the archive) or a send job (C-STORE from the archive to
 * a remote AE), and with --wait follow it to its end with a progress bar.
 * Without --wait they print the new job's id and return at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

/* Returns true when the AE object of GET /v1/aes hosts the storage plugin. */
static bool hosts_storage(const json_t *ae)
{
    size_t i;
    const json_t *plugin;

    json_array_foreach(json_object_get(ae, "plugins"), i, plugin) {
        const char *name = json_string_value(json_object_get(plugin, "name"));

        if (name != NULL && strcmp(name, "storage") == 0)
            return true;
    }
    return false;
}

/*
 * Picks the default move destination: the first enabled AE that hosts the
 * storage plugin. Returns a malloc'd title, or NULL after printing why.
 */
static char *default_destination(cli_api *api)
{
    json_t *reply = NULL;
    size_t i;
    const json_t *ae;
    char *title = NULL;

    if (cli_api_call(api, "GET", "/v1/aes", NULL, &reply, NULL) != 0)
        return NULL;
    json_array_foreach(json_object_get(reply, "aes"), i, ae) {
        const char *name = json_string_value(json_object_get(ae, "title"));

        if (name != NULL && json_is_true(json_object_get(ae, "enabled")) && hosts_storage(ae)) {
            title = strdup(name);
            break;
        }
    }
    json_decref(reply);
    if (title == NULL)
        cli_error("no enabled AE of cairnd hosts the storage plugin: give the move destination "
                  "with --destination AE");
    return title;
}

static json_t *transfer_request(const char *kind, const cli_job_args *args,
                                const char *destination)
{
    json_t *request = json_pack("{s:s, s:s, s:s}", "kind", kind, "remote", args->remote,
                                "study_uid", args->study_uid);
    json_t *instances;

    if (request == NULL)
        return NULL;
    if (destination != NULL)
        json_object_set_new(request, "destination", json_string(destination));
    if (args->calling_ae != NULL)
        json_object_set_new(request, "calling_ae", json_string(args->calling_ae));
    if (args->series_uid != NULL)
        json_object_set_new(request, "series_uid", json_string(args->series_uid));
    if (args->n_instances > 0) {
        instances = json_array();
        for (size_t i = 0; i < args->n_instances; i++)
            json_array_append_new(instances, json_string(args->instance_uids[i]));
        json_object_set_new(request, "sop_instance_uids", instances);
    }
    return request;
}

/* Prints the end of a job that --wait followed, and returns the exit code. */
static int report_end(const json_t *record, const char *kind, bool json)
{
    const char *id = json_string_value(json_object_get(record, "id"));
    const char *error = json_string_value(json_object_get(record, "error"));
    bool succeeded = strcmp(cli_job_state(record), "succeeded") == 0;
    char progress[160];

    if (json) {
        cli_print_json(record);
        return succeeded ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    }
    cli_format_progress(record, progress, sizeof progress);
    if (succeeded) {
        printf("%s job %s succeeded%s%s\n", kind, id != NULL ? id : "",
               progress[0] != '\0' ? ": " : "", progress);
        return CLI_EXIT_OK;
    }
    cli_error("%s job %s %s: %s", kind, id != NULL ? id : "", cli_job_state(record),
              error != NULL ? error : "no reason given");
    return CLI_EXIT_FAILURE;
}

int cli_transfer(cli_api *api, const char *kind, const cli_job_args *args)
{
    bool retrieve = strcmp(kind, "retrieve") == 0;
    char *destination = NULL;
    json_t *request = NULL;
    json_t *created = NULL;
    json_t *record = NULL;
    const char *id;
    cli_progress_style style;
    int rc = CLI_EXIT_FAILURE;

    if (retrieve) {
        destination = args->destination != NULL ? strdup(args->destination)
                                                : default_destination(api);
        if (destination == NULL)
            goto out;
    }
    request = transfer_request(kind, args, destination);
    if (request == NULL || cli_api_call(api, "POST", "/v1/jobs", request, &created, NULL) != 0)
        goto out;
    id = json_string_value(json_object_get(created, "id"));
    if (id == NULL) {
        cli_error("POST /v1/jobs returned a job record without an id");
        goto out;
    }

    if (!args->wait) {
        if (args->json)
            cli_print_json(created);
        else
            printf("%s job %s queued; follow it with: cairn jobs show %s --wait\n", kind, id, id);
        rc = CLI_EXIT_OK;
        goto out;
    }

    style = args->json ? CLI_PROGRESS_NONE : cli_progress_style_for_stdout();
    if (cli_job_wait(api, id, style, args->timeout_seconds, &record) != 0)
        goto out;
    rc = report_end(record, kind, args->json);

out:
    json_decref(record);
    json_decref(created);
    json_decref(request);
    free(destination);
    return rc;
}
