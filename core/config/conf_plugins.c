/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `plugins` group: one group per plugin, named by the plugin. The core
 * reads only `enabled` and `file`; every other key belongs to the plugin,
 * which reads and checks it through the conf_section made here.
 */
#include "config/conf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_plugin(const conf_report *report, cairn_conf *conf,
                       const config_setting_t *group, conf_plugin *plugin)
{
    const char *name = config_setting_name(group);
    char path[CONF_PATH_MAX];
    const char *file;

    conf_join_path(path, sizeof path, "plugins", name);
    plugin->line = (int)config_setting_source_line(group);
    if (!config_setting_is_group(group))
        return conf_error(report, group, path, "expected a group { ... }, got %s",
                          conf_type_name(config_setting_type(group)));

    plugin->name = strdup(name);
    if (plugin->name == NULL)
        return conf_error(report, group, path, "out of memory");

    if (conf_read_bool(report, group, path, "enabled", true, &plugin->enabled) != 0 ||
        conf_read_string(report, group, path, "file", NULL, &file) != 0)
        return -1;

    if (file != NULL) {
        char file_path[CONF_PATH_MAX];

        conf_join_path(file_path, sizeof file_path, path, "file");
        if (file[0] == '\0')
            return conf_error(report, config_setting_get_member(group, "file"), file_path,
                              "the file name is empty");
        plugin->file = conf_resolve_path(conf, file);
        if (plugin->file == NULL)
            return conf_error(report, group, path, "out of memory");
    }

    plugin->settings = conf_section_create(group, config_setting_source_file(group), path);
    if (plugin->settings == NULL)
        return conf_error(report, group, path, "out of memory");
    return 0;
}

int conf_load_plugins(const conf_report *report, cairn_conf *conf,
                      const config_setting_t *root)
{
    const config_setting_t *plugins;
    int length;

    if (conf_read_group(report, root, "", "plugins", &plugins) != 0)
        return -1;
    if (plugins == NULL)
        return 0;

    length = config_setting_length(plugins);
    if (length == 0)
        return 0;

    conf->plugins = calloc((size_t)length, sizeof *conf->plugins);
    if (conf->plugins == NULL)
        return conf_error(report, plugins, "plugins", "out of memory");

    for (int i = 0; i < length; i++) {
        conf_plugin *plugin = &conf->plugins[i];

        conf->n_plugins++;
        if (load_plugin(report, conf, config_setting_get_elem(plugins, (unsigned int)i),
                        plugin) != 0)
            return -1;
    }
    return 0;
}
