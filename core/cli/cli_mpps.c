/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn mpps [UID]` and `cairn outbox`: the data router's Modality
 * Performed Procedure Steps (GET /v1/mpps, GET /v1/mpps/{uid}) and the
 * DIMSE messages still waiting for their destination (GET /v1/outbox).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

static const cli_column step_columns[] = {
    {NULL, "SOP INSTANCE UID", CLI_VALUE_TEXT}, {NULL, "STATUS", CLI_VALUE_TEXT},
    {NULL, "MODALITY", CLI_VALUE_TEXT},         {NULL, "START", CLI_VALUE_TEXT},
    {NULL, "CALLING AE", CLI_VALUE_TEXT},       {NULL, "STUDY INSTANCE UID", CLI_VALUE_TEXT},
};

static const cli_column series_columns[] = {
    {NULL, "SERIES INSTANCE UID", CLI_VALUE_TEXT},
    {NULL, "DESCRIPTION", CLI_VALUE_TEXT},
    {NULL, "INSTANCES", CLI_VALUE_TEXT},
};

static const cli_column message_columns[] = {
    {NULL, "ID", CLI_VALUE_TEXT},       {NULL, "KIND", CLI_VALUE_TEXT},
    {NULL, "DESTINATION", CLI_VALUE_TEXT}, {NULL, "GROUP", CLI_VALUE_TEXT},
    {NULL, "ATTEMPTS", CLI_VALUE_TEXT}, {NULL, "NEXT ATTEMPT", CLI_VALUE_TEXT},
    {NULL, "LAST ERROR", CLI_VALUE_TEXT},
};

static const char *text_of(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));

    return text != NULL ? text : "";
}

/* Prints rows of array with one value per key (integers as decimal text). */
static int print_table(const cli_column *columns, size_t n, const json_t *array,
                       const char *const *keys)
{
    cli_table *table = cli_table_create(columns, n, stdout);
    const json_t *row;
    size_t i;
    int rc = 0;

    if (table == NULL)
        return -1;
    json_array_foreach(array, i, row) {
        char numbers[8][24];
        const char *values[8];

        for (size_t k = 0; k < n && k < 8; k++) {
            const json_t *value = json_object_get(row, keys[k]);

            if (json_is_integer(value)) {
                snprintf(numbers[k], sizeof numbers[k], "%lld",
                         (long long)json_integer_value(value));
                values[k] = numbers[k];
            } else {
                values[k] = text_of(row, keys[k]);
            }
        }
        if (cli_table_add(table, values) != 0)
            rc = -1;
    }
    if (cli_table_finish(table) != 0)
        rc = -1;
    cli_table_destroy(table);
    return rc;
}

static int show_step(const json_t *step)
{
    static const char *const series_keys[] = {"uid", "description", "instances"};
    static const struct {
        const char *label;
        const char *key;
        bool detail;
    } fields[] = {
        {"SOP Instance UID", "sop_instance_uid", false}, {"Status", "status", false},
        {"Study Instance UID", "study_instance_uid", false}, {"Modality", "modality", false},
        {"Start", "start", false},                      {"End", "end_datetime", true},
        {"PPS ID", "pps_id", true},                     {"Description", "description", true},
        {"Patient", "patient_name", true},              {"Patient ID", "patient_id", true},
        {"Calling AE", "calling_ae", false},            {"Station AE", "station_ae", true},
        {"Created", "created_at", false},               {"Updated", "updated_at", false},
    };
    const json_t *details = json_object_get(step, "details");

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        printf("%-20s %s\n", fields[i].label,
               text_of(fields[i].detail ? details : step, fields[i].key));
    if (json_array_size(json_object_get(details, "series")) == 0)
        return 0;
    printf("\n");
    return print_table(series_columns, 3, json_object_get(details, "series"), series_keys);
}

int cli_mpps(cli_api *api, const char *uid, bool json)
{
    static const char *const step_keys[] = {"sop_instance_uid", "status", "modality", "start",
                                            "calling_ae", "study_instance_uid"};
    json_t *reply = NULL;
    char *escaped = NULL, *path = NULL;
    int rc = CLI_EXIT_FAILURE;

    if (uid != NULL) {
        escaped = cli_api_escape(api, uid);
        if (escaped == NULL || asprintf(&path, "/v1/mpps/%s", escaped) < 0) {
            path = NULL;
            cli_error("out of memory");
            goto out;
        }
    }
    if (cli_api_call(api, "GET", path != NULL ? path : "/v1/mpps?limit=1000", NULL, &reply,
                     NULL) != 0)
        goto out;
    if (json) {
        cli_print_json(reply);
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (uid != NULL) {
        rc = show_step(reply) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        goto out;
    }
    if (json_array_size(json_object_get(reply, "mpps")) == 0) {
        printf("No MPPS steps.\n");
        rc = CLI_EXIT_OK;
        goto out;
    }
    rc = print_table(step_columns, 6, json_object_get(reply, "mpps"), step_keys) == 0
             ? CLI_EXIT_OK : CLI_EXIT_FAILURE;

out:
    json_decref(reply);
    free(path);
    free(escaped);
    return rc;
}

int cli_outbox(cli_api *api, bool json)
{
    static const char *const keys[] = {"id", "kind", "destination", "group", "attempts",
                                       "next_attempt_at", "last_error"};
    json_t *reply = NULL;
    int rc = CLI_EXIT_FAILURE;

    if (cli_api_call(api, "GET", "/v1/outbox?limit=1000", NULL, &reply, NULL) != 0)
        goto out;
    if (json) {
        cli_print_json(reply);
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (json_array_size(json_object_get(reply, "messages")) == 0) {
        printf("The outbox is empty.\n");
        rc = CLI_EXIT_OK;
        goto out;
    }
    rc = print_table(message_columns, 7, json_object_get(reply, "messages"), keys) == 0
             ? CLI_EXIT_OK : CLI_EXIT_FAILURE;

out:
    json_decref(reply);
    return rc;
}
