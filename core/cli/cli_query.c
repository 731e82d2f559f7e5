/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn query`: submits a query job (C-FIND by cairnd to a remote AE),
 * waits for it, and prints the matches as a table with one column per
 * returned attribute, or the job record with --json. Unless
 * --no-default-keys is given, it requests a few common attributes of the
 * query level as return keys, so that a bare `cairn query PACS` lists
 * readable rows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

/* Maximum number of table columns; further attributes appear only with --json. */
#define MAX_COLUMNS 64

/* Bytes of a value shown in the table; --json shows values whole. */
#define MAX_CELL 256

/* Return keys asked for by default, by level. */
static const char *const patient_keys[] = {"PatientName", "PatientID", "PatientBirthDate",
                                           "PatientSex", NULL};
static const char *const study_root_study_keys[] = {"PatientName", "PatientID", "StudyDate",
                                                    "AccessionNumber", "StudyDescription",
                                                    "ModalitiesInStudy", "StudyInstanceUID",
                                                    NULL};
/* The Patient Root models keep patient attributes at the PATIENT level only. */
static const char *const study_keys[] = {"StudyDate", "AccessionNumber", "StudyDescription",
                                         "StudyInstanceUID", NULL};
static const char *const series_keys[] = {"Modality", "SeriesNumber", "SeriesDescription",
                                          "SeriesInstanceUID", NULL};
static const char *const image_keys[] = {"InstanceNumber", "SOPClassUID", "SOPInstanceUID",
                                         NULL};

/* Returns the default return keys for the model and level the job will use. */
static const char *const *default_keys(const char *model, const char *level)
{
    bool study_root = model == NULL || strcmp(model, "study") == 0;

    if (level == NULL)
        level = study_root ? "STUDY" : "PATIENT";
    if (strcmp(level, "PATIENT") == 0)
        return patient_keys;
    if (strcmp(level, "STUDY") == 0)
        return study_root ? study_root_study_keys : study_keys;
    if (strcmp(level, "SERIES") == 0)
        return series_keys;
    if (strcmp(level, "IMAGE") == 0)
        return image_keys;
    return NULL;
}

/* Returns true for "gggg,eeee" (8 hexadecimal digits around a comma). */
static bool is_bare_tag(const char *key)
{
    if (strlen(key) != 9 || key[4] != ',')
        return false;
    for (size_t i = 0; i < 9; i++) {
        if (i != 4 && !isxdigit((unsigned char)key[i]))
            return false;
    }
    return true;
}

/* Adds one -k KEY=VALUE (or KEY, a return key) to keys. */
static int add_key(json_t *keys, const char *given)
{
    const char *equals = strchr(given, '=');
    size_t name_len = equals != NULL ? (size_t)(equals - given) : strlen(given);
    char name[80];

    if (name_len == 0 || name_len >= sizeof name - 2) {
        cli_error("invalid -k \"%s\": expected KEYWORD=VALUE or TAG=VALUE, for example "
                  "PatientName=SMITH* or 00100020=123", given);
        return -1;
    }
    memcpy(name, given, name_len);
    name[name_len] = '\0';
    if (is_bare_tag(name)) {
        memmove(name + 1, name, name_len + 1);
        name[0] = '(';
        strcat(name, ")");
    }
    if (json_object_get(keys, name) != NULL) {
        cli_error("-k %s is given twice", name);
        return -1;
    }
    return json_object_set_new(keys, name, json_string(equals != NULL ? equals + 1 : ""));
}

/* Builds the query job request from the command line. */
static json_t *query_request(const cli_job_args *args)
{
    json_t *request = json_pack("{s:s, s:s}", "kind", "query", "remote", args->remote);
    json_t *keys = json_object();
    const char *const *defaults = args->no_default_keys ? NULL : default_keys(args->model,
                                                                               args->level);

    if (request == NULL || keys == NULL)
        goto fail;
    for (size_t i = 0; i < args->n_keys; i++) {
        if (add_key(keys, args->keys[i]) != 0)
            goto fail;
    }
    for (size_t i = 0; defaults != NULL && defaults[i] != NULL; i++) {
        if (json_object_get(keys, defaults[i]) == NULL)
            json_object_set_new(keys, defaults[i], json_string(""));
    }

    if (args->model != NULL)
        json_object_set_new(request, "model", json_string(args->model));
    if (args->level != NULL)
        json_object_set_new(request, "level", json_string(args->level));
    if (args->calling_ae != NULL)
        json_object_set_new(request, "calling_ae", json_string(args->calling_ae));
    if (args->max_results > 0)
        json_object_set_new(request, "max_results", json_integer(args->max_results));
    json_object_set_new(request, "keys", keys);
    return request;

fail:
    json_decref(keys);
    json_decref(request);
    return NULL;
}

/* Writes a match's value as table text into out. */
static void value_text(const json_t *value, char *out, size_t outlen)
{
    char *dumped;

    if (value == NULL || json_is_null(value)) {
        out[0] = '\0';
    } else if (json_is_string(value)) {
        snprintf(out, outlen, "%s", json_string_value(value));
    } else if (json_is_integer(value)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(value));
    } else {
        dumped = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, outlen, "%s", dumped != NULL ? dumped : "");
        free(dumped);
    }
}

/* Collects the table columns: every returned keyword, in the order it first appears. */
static size_t collect_columns(const json_t *matches, cli_column *columns)
{
    size_t n = 0;
    size_t i;
    const json_t *match;
    const char *key;
    const json_t *value;

    json_array_foreach(matches, i, match) {
        json_object_foreach((json_t *)match, key, value) {
            bool seen = false;

            (void)value;
            /* Both have the same value on every row, so they are left out of the table. */
            if (strcmp(key, "QueryRetrieveLevel") == 0 || strcmp(key, "SpecificCharacterSet") == 0)
                continue;
            for (size_t c = 0; c < n && !seen; c++)
                seen = strcmp(columns[c].header, key) == 0;
            if (seen || n == MAX_COLUMNS)
                continue;
            columns[n].key = NULL;
            columns[n].header = key;
            columns[n].kind = CLI_VALUE_TEXT;
            n++;
        }
    }
    return n;
}

static int print_matches(const json_t *record)
{
    const json_t *matches = json_object_get(record, "result");
    cli_column columns[MAX_COLUMNS];
    size_t n_columns;
    cli_table *table;
    size_t i;
    const json_t *match;
    int rc = CLI_EXIT_OK;

    if (!json_is_array(matches)) {
        cli_error("the query job record has no \"result\" array");
        return CLI_EXIT_FAILURE;
    }
    n_columns = collect_columns(matches, columns);
    if (n_columns == 0) {
        puts("(no matches)");
        return CLI_EXIT_OK;
    }

    table = cli_table_create(columns, n_columns, stdout);
    if (table == NULL)
        return CLI_EXIT_FAILURE;
    json_array_foreach(matches, i, match) {
        char texts[MAX_COLUMNS][MAX_CELL];
        const char *values[MAX_COLUMNS];

        for (size_t c = 0; c < n_columns; c++) {
            value_text(json_object_get(match, columns[c].header), texts[c], sizeof texts[c]);
            values[c] = texts[c];
        }
        if (cli_table_add(table, values) != 0)
            rc = CLI_EXIT_FAILURE;
    }
    if (cli_table_finish(table) != 0)
        rc = CLI_EXIT_FAILURE;
    cli_table_destroy(table);

    if (json_is_true(json_object_get(record, "truncated")))
        cli_error("the matches stop at %zu: the remote had more (raise --max-results)",
                  json_array_size(matches));
    return rc;
}

int cli_query(cli_api *api, const cli_job_args *args)
{
    json_t *request = query_request(args);
    json_t *created = NULL;
    json_t *record = NULL;
    const char *id;
    int rc = CLI_EXIT_FAILURE;

    if (request == NULL)
        return CLI_EXIT_FAILURE;
    if (cli_api_call(api, "POST", "/v1/jobs", request, &created, NULL) != 0)
        goto out;
    id = json_string_value(json_object_get(created, "id"));
    if (id == NULL) {
        cli_error("POST /v1/jobs returned a job record without an id");
        goto out;
    }
    if (cli_job_wait(api, id, CLI_PROGRESS_NONE, args->timeout_seconds, &record) != 0)
        goto out;

    if (args->json) {
        cli_print_json(record);
        rc = strcmp(cli_job_state(record), "succeeded") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        goto out;
    }
    if (strcmp(cli_job_state(record), "succeeded") != 0) {
        const char *error = json_string_value(json_object_get(record, "error"));

        cli_error("query job %s %s: %s", id, cli_job_state(record),
                  error != NULL ? error : "no reason given");
        goto out;
    }
    rc = print_matches(record);

out:
    json_decref(record);
    json_decref(created);
    json_decref(request);
    return rc;
}
