/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index-postgresql plugin: Cairn's archive index in a PostgreSQL
 * database, for large archives and for several cairnd nodes sharing one
 * database. init reads the settings and registers the back end; the
 * server is first contacted when the host calls open.
 *
 * Settings (all optional; libpq's PG* environment variables and defaults
 * fill what is left unset):
 *   conninfo           a libpq connection string or URI
 *   host, port, dbname, user
 *                      override the same parts of conninfo
 *   password_file      file whose first line is the password; relative to
 *                      the configuration file's folder
 *   pool_size          server connections at most (16)
 *   statement_timeout  milliseconds one statement may run (30000; 0: none)
 *   connect_timeout    seconds one connection attempt may take (5)
 *   reconnect_window   seconds a call keeps trying to reach a server that
 *                      went away before it fails (10; 0: fail at once)
 *   commit_check_window
 *                      seconds the check of a COMMIT left without a reply
 *                      keeps trying to reach the server (60)
 *   migrate_at_start   migrate an older schema when cairnd starts (true);
 *                      when false, run `cairnd --migrate` after upgrades
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* Reads the first line of the password file; the file should be private to cairnd. */
static cairn_status read_password(pgidx_backend *backend, const char *path)
{
    char line[1024];
    FILE *file = fopen(path, "r");
    size_t length;

    if (file == NULL) {
        pgidx_log(backend, CAIRN_LOG_ERROR, "plugins.index-postgresql.password_file: cannot"
                  " open %s", path);
        return CAIRN_ERR_CONFIG;
    }
    if (fgets(line, sizeof(line), file) == NULL)
        line[0] = '\0';
    fclose(file);

    length = strcspn(line, "\r\n");
    line[length] = '\0';
    backend->password = strdup(line);
    memset(line, 0, sizeof(line));
    return backend->password != NULL ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
}

/* Reads an optional text setting; NULL when unset or empty. */
static cairn_status optional_text(const pgidx_backend *backend, const cairn_config *config,
                                  const char *key, const char **value)
{
    cairn_status status = backend->api->config_get_string(config, key, NULL, value);

    if (status == CAIRN_OK && *value != NULL && (*value)[0] == '\0')
        *value = NULL;
    return status;
}

static cairn_status read_settings(pgidx_backend *backend, const cairn_config *config)
{
    static const char *const allowed[] = {
        "conninfo", "host", "port", "dbname", "user", "password_file", "pool_size",
        "statement_timeout", "connect_timeout", "reconnect_window", "commit_check_window",
        "migrate_at_start",
    };
    const cairn_host_api *api = backend->api;
    const char *conninfo = NULL;
    char *password_file = NULL;
    int64_t number = 0;
    int flag = 1;
    cairn_status status;

    status = api->config_check_keys(config, allowed, sizeof(allowed) / sizeof(allowed[0]));
    if (status == CAIRN_OK)
        status = optional_text(backend, config, "conninfo", &conninfo);
    if (status == CAIRN_OK && conninfo != NULL) {
        backend->conninfo = strdup(conninfo);
        if (backend->conninfo == NULL)
            status = CAIRN_ERR_NO_MEMORY;
    }
    if (status == CAIRN_OK)
        status = optional_text(backend, config, "host", &backend->host);
    if (status == CAIRN_OK)
        status = optional_text(backend, config, "dbname", &backend->dbname);
    if (status == CAIRN_OK)
        status = optional_text(backend, config, "user", &backend->user);
    if (status == CAIRN_OK)
        status = api->config_get_int(config, "port", 0, 0, 65535, &number);
    if (status == CAIRN_OK && number > 0) {
        snprintf(backend->port_text, sizeof(backend->port_text), "%d", (int)number);
        backend->port = backend->port_text;
    }
    if (status == CAIRN_OK)
        status = api->config_get_path(config, "password_file", NULL, &password_file);
    if (status == CAIRN_OK && password_file != NULL)
        status = read_password(backend, password_file);
    if (password_file != NULL)
        api->free(password_file);
    if (status != CAIRN_OK)
        return status;

    status = api->config_get_int(config, "pool_size", 16, 1, 1000, &number);
    if (status != CAIRN_OK)
        return status;
    backend->pool_size = (int)number;
    status = api->config_get_int(config, "statement_timeout", 30000, 0, 86400000, &number);
    if (status != CAIRN_OK)
        return status;
    backend->statement_timeout_ms = (int)number;
    status = api->config_get_int(config, "connect_timeout", 5, 1, 3600, &number);
    if (status != CAIRN_OK)
        return status;
    backend->connect_timeout_s = (int)number;
    status = api->config_get_int(config, "reconnect_window", 10, 0, 3600, &number);
    if (status != CAIRN_OK)
        return status;
    backend->reconnect_window_ms = (int)number * 1000;
    status = api->config_get_int(config, "commit_check_window", 60, 1, 86400, &number);
    if (status != CAIRN_OK)
        return status;
    backend->commit_check_window_ms = (int64_t)number * 1000;
    status = api->config_get_bool(config, "migrate_at_start", 1, &flag);
    if (status != CAIRN_OK)
        return status;
    backend->migrate_at_start = flag != 0;
    return CAIRN_OK;
}

static void plugin_shutdown(void *state)
{
    pgidx_backend *backend = state;

    if (backend == NULL)
        return;
    free(backend->conninfo);
    if (backend->password != NULL) {
        memset(backend->password, 0, strlen(backend->password));
        free(backend->password);
    }
    free(backend);
}

static cairn_status plugin_init(cairn_plugin *self, const cairn_host_api *api,
                                const cairn_config *config, void **state)
{
    pgidx_backend *backend;
    cairn_status status;

    if (!CAIRN_HOST_HAS(api, register_index) || !CAIRN_HOST_HAS(api, dataset_get_utf8))
        return CAIRN_ERR_ABI;

    backend = calloc(1, sizeof(*backend));
    if (backend == NULL)
        return CAIRN_ERR_NO_MEMORY;
    backend->self = self;
    backend->api = api;

    status = read_settings(backend, config);
    if (status == CAIRN_OK && PQisthreadsafe() == 0) {
        pgidx_log(backend, CAIRN_LOG_ERROR, "the libpq library was built without threads");
        status = CAIRN_ERR_UNSUPPORTED;
    }
    if (status == CAIRN_OK)
        status = api->register_index(self, &pgidx_ops, backend);
    if (status != CAIRN_OK) {
        plugin_shutdown(backend);
        return status;
    }

    *state = backend;
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "index-postgresql",
    "1.0.0",
    "Archive index in a PostgreSQL database",
    plugin_init,
    plugin_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
