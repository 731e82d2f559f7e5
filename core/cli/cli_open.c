/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening the archive index for the tool: load the configuration, load
 * only the index plugin it names and open the index of its storage folder
 * through the plugin's ops table. The tool skips archive_open because that
 * removes the leftovers in <storage>/tmp, which `cairn check` must see.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/log.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cairn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * Marks every plugin except the index plugin as disabled in the loaded
 * configuration. The tool needs only the index, and the service plugins
 * may need resources (ports, peers) that are not there while cairnd runs.
 */
static void keep_only_index_plugin(cairn_conf *conf)
{
    for (size_t i = 0; i < conf->n_plugins; i++) {
        if (strcmp(conf->plugins[i].name, conf->index_plugin) != 0)
            conf->plugins[i].enabled = false;
    }
}

int cli_archive_open(const char *config_path, cli_archive *archive)
{
    char err[1024];
    const plugin_index *index;
    struct stat st;
    cairn_status status;

    memset(archive, 0, sizeof(*archive));

    if (conf_load(config_path, &archive->conf, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto fail;
    }

    /* Plugin loading logs at info level, but the tool shows only warnings and errors. */
    if (archive->conf->log_level > LOG_LVL_WARN)
        log_set_level(LOG_LVL_WARN);
    else
        log_set_level((enum log_level)archive->conf->log_level);

    keep_only_index_plugin(archive->conf);
    if (plugin_registry_load(archive->conf, &archive->plugins) != 0) {
        cli_error("%s: index.plugin: plugin '%s' failed to load; see the lines above",
                  archive->conf->path, archive->conf->index_plugin);
        goto fail;
    }
    index = plugin_find_index(archive->plugins, archive->conf->index_plugin);
    if (index == NULL) {
        cli_error("%s: index.plugin: plugin '%s' registered no index back end",
                  archive->conf->path, archive->conf->index_plugin);
        goto fail;
    }
    archive->ops = &index->ops;

    /* A missing folder means cairnd never ran here, and opening would create an empty index. */
    archive->storage_path = realpath(archive->conf->storage_path, NULL);
    if (archive->storage_path == NULL || stat(archive->storage_path, &st) != 0) {
        cli_error("storage folder %s: %s (storage.path in %s)", archive->conf->storage_path,
                  strerror(errno), archive->conf->path);
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("storage folder %s is not a folder (storage.path in %s)",
                  archive->storage_path, archive->conf->path);
        goto fail;
    }

    status = archive->ops->open(index->backend_state, archive->storage_path, &archive->db);
    if (status != CAIRN_OK) {
        archive->db = NULL;
        cli_error("index back end '%s' failed to open the index of %s: %s", archive->ops->name,
                  archive->storage_path, cairn_strerror(status));
        goto fail;
    }
    return 0;

fail:
    cli_archive_close(archive);
    return -1;
}

void cli_archive_close(cli_archive *archive)
{
    if (archive->db != NULL)
        archive->ops->close(archive->db);
    plugin_registry_destroy(archive->plugins);
    conf_destroy(archive->conf);
    free(archive->storage_path);
    memset(archive, 0, sizeof(*archive));
}
