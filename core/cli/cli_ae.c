/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn ae`: lists the AEs of the running daemon with their run-time
 * state, and enables or disables one of them (GET /v1/aes, POST
 * /v1/aes/{title}/enable and /disable). A disabled AE rejects new
 * associations until it is enabled again, cairnd restarts or a reload
 * changes its `enabled` key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

/* Writes the names of the AE's plugins, separated by commas, into out. */
static void plugin_names(const json_t *ae, char *out, size_t outlen)
{
    size_t i;
    size_t used = 0;
    const json_t *plugin;

    out[0] = '\0';
    json_array_foreach(json_object_get(ae, "plugins"), i, plugin) {
        const char *name = json_string_value(json_object_get(plugin, "name"));

        if (name != NULL && used < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", i > 0 ? "," : "", name);
    }
}

static const char *yes_no(const json_t *value)
{
    return json_is_true(value) ? "yes" : "no";
}

static int list_aes(cli_api *api, bool json)
{
    static const cli_column columns[] = {
        {NULL, "TITLE", CLI_VALUE_TEXT},   {NULL, "PORT", CLI_VALUE_TEXT},
        {NULL, "BIND", CLI_VALUE_TEXT},    {NULL, "ENABLED", CLI_VALUE_TEXT},
        {NULL, "IN FILE", CLI_VALUE_TEXT}, {NULL, "PLUGINS", CLI_VALUE_TEXT},
    };
    json_t *reply = NULL;
    const json_t *aes;
    const json_t *ae;
    cli_table *table;
    size_t i;
    int rc = CLI_EXIT_FAILURE;

    if (cli_api_call(api, "GET", "/v1/aes", NULL, &reply, NULL) != 0)
        return CLI_EXIT_FAILURE;
    aes = json_object_get(reply, "aes");
    if (!json_is_array(aes)) {
        cli_error("GET /v1/aes returned no \"aes\" array");
        goto out;
    }
    if (json) {
        cli_print_json(aes);
        rc = CLI_EXIT_OK;
        goto out;
    }

    table = cli_table_create(columns, sizeof columns / sizeof columns[0], stdout);
    if (table == NULL)
        goto out;
    rc = CLI_EXIT_OK;
    json_array_foreach(aes, i, ae) {
        const char *title = json_string_value(json_object_get(ae, "title"));
        const char *bind = json_string_value(json_object_get(ae, "bind"));
        char port[16];
        char plugins[256];
        const char *values[6];

        snprintf(port, sizeof port, "%lld", (long long)json_integer_value(json_object_get(ae,
                                                                                      "port")));
        plugin_names(ae, plugins, sizeof plugins);
        values[0] = title != NULL ? title : "";
        values[1] = port;
        values[2] = bind != NULL ? bind : "";
        values[3] = yes_no(json_object_get(ae, "enabled"));
        values[4] = yes_no(json_object_get(ae, "configured_enabled"));
        values[5] = plugins;
        if (cli_table_add(table, values) != 0)
            rc = CLI_EXIT_FAILURE;
    }
    if (cli_table_finish(table) != 0)
        rc = CLI_EXIT_FAILURE;
    cli_table_destroy(table);

out:
    json_decref(reply);
    return rc;
}

static int set_enabled(cli_api *api, const char *action, const char *title, bool json)
{
    char *escaped = cli_api_escape(api, title);
    char path[256];
    json_t *ae = NULL;

    if (escaped == NULL)
        return CLI_EXIT_FAILURE;
    snprintf(path, sizeof path, "/v1/aes/%s/%s", escaped, action);
    free(escaped);
    if (cli_api_call(api, "POST", path, NULL, &ae, NULL) != 0)
        return CLI_EXIT_FAILURE;

    if (json)
        cli_print_json(ae);
    else
        printf("AE %s is %s\n", title, json_is_true(json_object_get(ae, "enabled")) ? "enabled"
                                                                                  : "disabled");
    json_decref(ae);
    return CLI_EXIT_OK;
}

int cli_ae(cli_api *api, const char *action, const char *title, bool json)
{
    if (strcmp(action, "list") == 0)
        return list_aes(api, json);
    return set_enabled(api, action, title, json);
}
