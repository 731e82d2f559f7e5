/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn echo`: requests cairnd to send a C-ECHO to one of its configured
 * remotes, through POST /v1/remotes/{title}/echo, so that the echo leaves
 * from the daemon's host with its calling AE title, as its jobs do. The
 * remote is first looked up in GET /v1/remotes, so an unknown title is
 * reported with the list of configured ones. A failed echo is reported
 * with the API's message and HTTP status (502 rejected or unreachable,
 * 504 timed out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

/* Returns the remote's object from GET /v1/remotes (a new reference), or NULL after printing why. */
static json_t *find_remote(cli_api *api, const char *title)
{
    json_t *reply = NULL;
    json_t *found = NULL;
    const json_t *remote;
    char names[512] = "";
    size_t used = 0;
    size_t i;

    if (cli_api_call(api, "GET", "/v1/remotes", NULL, &reply, NULL) != 0)
        return NULL;
    json_array_foreach(json_object_get(reply, "remotes"), i, remote) {
        const char *name = json_string_value(json_object_get(remote, "title"));

        if (name == NULL)
            continue;
        if (strcmp(name, title) == 0) {
            found = json_incref((json_t *)remote);
            break;
        }
        if (used < sizeof names)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     used > 0 ? ", " : "", name);
    }
    json_decref(reply);
    if (found == NULL)
        cli_error("unknown remote \"%s\": the configured remotes are %s", title,
                  names[0] != '\0' ? names : "none (add one to `remotes` in the configuration)");
    return found;
}

/* Prints one line from the remote's entry and the echo reply; members the reply lacks are left out. */
static void print_success(const char *title, const json_t *remote, const json_t *reply)
{
    const char *host = json_string_value(json_object_get(remote, "host"));
    const char *calling_ae = json_string_value(json_object_get(reply, "calling_ae"));
    const json_t *milliseconds = json_object_get(reply, "milliseconds");

    printf("C-ECHO to %s (%s port %lld)", title, host != NULL ? host : "?",
           (long long)json_integer_value(json_object_get(remote, "port")));
    if (calling_ae != NULL)
        printf(" from %s", calling_ae);
    printf(" succeeded");
    if (json_is_integer(milliseconds))
        printf(" in %lld ms", (long long)json_integer_value(milliseconds));
    printf("\n");
}

int cli_echo(cli_api *api, const cli_job_args *args)
{
    json_t *remote = find_remote(api, args->remote);
    json_t *body = NULL;
    json_t *reply = NULL;
    char *escaped = NULL;
    char path[256];
    int rc = CLI_EXIT_FAILURE;

    if (remote == NULL)
        return CLI_EXIT_FAILURE;
    escaped = cli_api_escape(api, args->remote);
    body = json_object();
    if (escaped == NULL || body == NULL)
        goto out;
    if (args->calling_ae != NULL)
        json_object_set_new(body, "calling_ae", json_string(args->calling_ae));
    snprintf(path, sizeof path, "/v1/remotes/%s/echo", escaped);

    if (cli_api_call(api, "POST", path, body, &reply, NULL) != 0)
        goto out;
    if (args->json)
        cli_print_json(reply);
    else
        print_success(args->remote, remote, reply);
    rc = CLI_EXIT_OK;

out:
    json_decref(reply);
    json_decref(body);
    free(escaped);
    json_decref(remote);
    return rc;
}
