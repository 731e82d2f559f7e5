/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn commitment STUDY_UID`: the storage commitment cairnd requested of
 * its backup archives for one study, from GET
 * /v1/studies/{StudyInstanceUID}/commitment. Prints one table row per
 * remote with its counts and, with --instances, a table of the instances
 * with their state, attempts, Failure Reason and note.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

static const cli_column remote_columns[] = {
    {NULL, "REMOTE", CLI_VALUE_TEXT},    {NULL, "COMMITTED", CLI_VALUE_TEXT},
    {NULL, "PENDING", CLI_VALUE_TEXT},   {NULL, "FAILED", CLI_VALUE_TEXT},
    {NULL, "TOTAL", CLI_VALUE_TEXT},
};

static const cli_column instance_columns[] = {
    {NULL, "REMOTE", CLI_VALUE_TEXT},  {NULL, "SOP INSTANCE UID", CLI_VALUE_TEXT},
    {NULL, "STATE", CLI_VALUE_TEXT},   {NULL, "ATTEMPTS", CLI_VALUE_TEXT},
    {NULL, "REASON", CLI_VALUE_TEXT},  {NULL, "UPDATED", CLI_VALUE_TEXT},
    {NULL, "NOTE", CLI_VALUE_TEXT},
};

static const char *text_of(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));

    return text != NULL ? text : "";
}

static int print_remotes(const json_t *remotes)
{
    cli_table *table = cli_table_create(remote_columns, 5, stdout);
    const json_t *remote;
    size_t i;
    int rc = 0;

    if (table == NULL)
        return -1;
    json_array_foreach(remotes, i, remote) {
        char counts[4][24];
        const char *values[5];
        static const char *const keys[] = {"committed", "pending", "failed", "total"};

        values[0] = text_of(remote, "remote");
        for (size_t k = 0; k < 4; k++) {
            snprintf(counts[k], sizeof counts[k], "%lld",
                     (long long)json_integer_value(json_object_get(remote, keys[k])));
            values[k + 1] = counts[k];
        }
        if (cli_table_add(table, values) != 0)
            rc = -1;
    }
    if (cli_table_finish(table) != 0)
        rc = -1;
    cli_table_destroy(table);
    return rc;
}

static int print_instances(const json_t *remotes)
{
    cli_table *table = cli_table_create(instance_columns, 7, stdout);
    const json_t *remote, *instance;
    size_t i, j;
    int rc = 0;

    if (table == NULL)
        return -1;
    json_array_foreach(remotes, i, remote) {
        json_array_foreach(json_object_get(remote, "instances"), j, instance) {
            char attempts[24];
            const char *values[7];

            snprintf(attempts, sizeof attempts, "%lld",
                     (long long)json_integer_value(json_object_get(instance, "attempts")));
            values[0] = text_of(remote, "remote");
            values[1] = text_of(instance, "sop_instance_uid");
            values[2] = text_of(instance, "state");
            values[3] = attempts;
            values[4] = text_of(instance, "failure_reason");
            values[5] = text_of(instance, "updated_at");
            values[6] = text_of(instance, "note");
            if (cli_table_add(table, values) != 0)
                rc = -1;
        }
    }
    if (cli_table_finish(table) != 0)
        rc = -1;
    cli_table_destroy(table);
    return rc;
}

int cli_commitment(cli_api *api, const cli_job_args *args)
{
    json_t *reply = NULL;
    const json_t *remotes;
    char *escaped = cli_api_escape(api, args->study_uid);
    char *path = NULL;
    int rc = CLI_EXIT_FAILURE;

    if (escaped == NULL || asprintf(&path, "/v1/studies/%s/commitment%s", escaped,
                                    args->instances ? "?instances=true" : "") < 0) {
        path = NULL;
        cli_error("out of memory");
        goto out;
    }
    if (cli_api_call(api, "GET", path, NULL, &reply, NULL) != 0)
        goto out;
    if (args->json) {
        cli_print_json(reply);
        rc = CLI_EXIT_OK;
        goto out;
    }

    remotes = json_object_get(reply, "remotes");
    if (json_array_size(remotes) == 0) {
        printf("No storage commitment was requested for study %s.\n", args->study_uid);
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (print_remotes(remotes) != 0 ||
        (args->instances && (printf("\n") < 0 || print_instances(remotes) != 0))) {
        cli_error("out of memory writing the tables");
        goto out;
    }
    rc = CLI_EXIT_OK;

out:
    json_decref(reply);
    free(path);
    free(escaped);
    return rc;
}
