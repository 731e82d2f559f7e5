/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index-sqlite plugin: Cairn's embedded archive index, a SQLite
 * database in WAL mode. init reads the plugin's settings and registers the
 * index back end; the database itself is opened when the host calls open.
 *
 * Settings (all optional):
 *   path          database file; relative to the configuration file's
 *                 folder. Default: index.sqlite in the storage folder.
 *   busy_timeout  milliseconds a connection waits for a lock (10000).
 *   synchronous   "full" (default): every commit is on disk when a store
 *                 returns. "normal": faster, but the last commits can be
 *                 lost on power failure (not on a crash of cairnd).
 *   max_batch     maximum number of stores and removals one write
 *                 transaction commits together (1000). 1 turns group
 *                 commit off.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

static cairn_status read_settings(sqlidx_backend *backend, const cairn_config *config)
{
    static const char *const allowed[] = {"path", "busy_timeout", "synchronous", "max_batch"};
    const cairn_host_api *api = backend->api;
    const char *synchronous = NULL;
    int64_t number = 0;
    cairn_status status;

    status = api->config_check_keys(config, allowed, sizeof(allowed) / sizeof(allowed[0]));
    if (status != CAIRN_OK)
        return status;

    status = api->config_get_path(config, "path", NULL, &backend->path);
    if (status != CAIRN_OK)
        return status;

    status = api->config_get_int(config, "busy_timeout", 10000, 0, 3600000, &number);
    if (status != CAIRN_OK)
        return status;
    backend->busy_timeout_ms = (int)number;

    status = api->config_get_int(config, "max_batch", 1000, 1, 100000, &number);
    if (status != CAIRN_OK)
        return status;
    backend->max_batch = (int)number;

    status = api->config_get_string(config, "synchronous", "full", &synchronous);
    if (status != CAIRN_OK)
        return status;
    if (strcmp(synchronous, "full") == 0) {
        backend->synchronous_full = true;
    } else if (strcmp(synchronous, "normal") == 0) {
        backend->synchronous_full = false;
    } else {
        sqlidx_log(backend, CAIRN_LOG_ERROR,
                   "plugins.index-sqlite.synchronous: invalid value \"%s\"; use \"full\" or"
                   " \"normal\"",
                   synchronous);
        return CAIRN_ERR_CONFIG;
    }
    return CAIRN_OK;
}

static void plugin_shutdown(void *state)
{
    sqlidx_backend *backend = state;

    if (backend == NULL)
        return;
    if (backend->path != NULL)
        backend->api->free(backend->path);
    free(backend);
}

static cairn_status plugin_init(cairn_plugin *self, const cairn_host_api *api,
                                const cairn_config *config, void **state)
{
    sqlidx_backend *backend;
    cairn_status status;

    if (!CAIRN_HOST_HAS(api, register_index) || !CAIRN_HOST_HAS(api, dataset_get_utf8))
        return CAIRN_ERR_ABI;

    backend = calloc(1, sizeof(*backend));
    if (backend == NULL)
        return CAIRN_ERR_NO_MEMORY;
    backend->self = self;
    backend->api = api;

    status = read_settings(backend, config);
    if (status == CAIRN_OK && sqlite3_threadsafe() == 0) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "the SQLite library was built without threads");
        status = CAIRN_ERR_UNSUPPORTED;
    }
    if (status == CAIRN_OK)
        status = api->register_index(self, &sqlidx_ops, backend);
    if (status != CAIRN_OK) {
        plugin_shutdown(backend);
        return status;
    }

    *state = backend;
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "index-sqlite",
    "1.0.0",
    "Embedded archive index in a SQLite database",
    plugin_init,
    plugin_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
