/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a reload may not change. The plugins are loaded once at start-up
 * and the archive is opened once, so a reloaded file must keep the
 * `plugins` group (every member and setting), plugin_directory,
 * index.plugin and storage.path exactly as the daemon started with them.
 * The control API also starts once, so the `api` group may not change
 * either. Groups are compared setting by setting in the libconfig trees,
 * which is why this file reads the configuration module's internal
 * header.
 */
#include "runtime/runtime_internal.h"

#include <stdio.h>
#include <string.h>

#include "config/conf_internal.h"

#define RESTART_ADVICE "a reload cannot change it; restart cairnd to apply it"

/* Writes "FILE:LINE: KEY: message" for setting at (or the file alone). */
static int restart_error(const cairn_conf *next, const config_setting_t *at, const char *key,
                         const char *what, char *err, size_t errlen)
{
    const char *file = next->path;

    if (at != NULL && config_setting_source_file(at) != NULL)
        file = config_setting_source_file(at);
    if (at != NULL && config_setting_source_line(at) > 0)
        snprintf(err, errlen, "%s:%u: %s: %s; " RESTART_ADVICE, file,
                 config_setting_source_line(at), key, what);
    else
        snprintf(err, errlen, "%s: %s: %s; " RESTART_ADVICE, file, key, what);
    return -1;
}

static const config_setting_t *lookup(const cairn_conf *conf, const char *path)
{
    return config_lookup(&conf->internal->cfg, path);
}

static int normalized_type(const config_setting_t *s)
{
    int type = config_setting_type(s);

    return type == CONFIG_TYPE_INT64 ? CONFIG_TYPE_INT : type;
}

static bool same_scalar(const config_setting_t *a, const config_setting_t *b)
{
    switch (normalized_type(a)) {
    case CONFIG_TYPE_INT:
        return config_setting_get_int64(a) == config_setting_get_int64(b);
    case CONFIG_TYPE_FLOAT:
        return config_setting_get_float(a) == config_setting_get_float(b);
    case CONFIG_TYPE_BOOL:
        return config_setting_get_bool(a) == config_setting_get_bool(b);
    case CONFIG_TYPE_STRING:
        return strcmp(config_setting_get_string(a), config_setting_get_string(b)) == 0;
    default:
        return false;
    }
}

static void child_path(char *buf, size_t size, const char *parent, const config_setting_t *child,
                       unsigned index)
{
    if (config_setting_name(child) != NULL)
        snprintf(buf, size, "%s.%s", parent, config_setting_name(child));
    else
        snprintf(buf, size, "%s[%u]", parent, index);
}

/*
 * Compares the trees a (started) and b (next) and reports the first
 * difference as a restart error at the setting of b where it shows.
 */
static int compare_settings(const cairn_conf *next, const config_setting_t *a,
                            const config_setting_t *b, const char *path, char *err,
                            size_t errlen)
{
    char sub[CONF_PATH_MAX];
    int type = normalized_type(a);
    int n_a, n_b;

    if (type != normalized_type(b))
        return restart_error(next, b, path, "its type changed", err, errlen);
    if (type != CONFIG_TYPE_GROUP && type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return same_scalar(a, b) ? 0
                                 : restart_error(next, b, path, "its value changed", err, errlen);

    n_a = config_setting_length(a);
    n_b = config_setting_length(b);

    if (type != CONFIG_TYPE_GROUP) {
        if (n_a != n_b)
            return restart_error(next, b, path, "its number of entries changed", err, errlen);
        for (int i = 0; i < n_a; i++) {
            const config_setting_t *ea = config_setting_get_elem(a, (unsigned)i);
            const config_setting_t *eb = config_setting_get_elem(b, (unsigned)i);

            child_path(sub, sizeof sub, path, eb, (unsigned)i);
            if (compare_settings(next, ea, eb, sub, err, errlen) != 0)
                return -1;
        }
        return 0;
    }

    /* Groups: the same members by name, in any order. */
    for (int i = 0; i < n_b; i++) {
        const config_setting_t *eb = config_setting_get_elem(b, (unsigned)i);
        const config_setting_t *ea = config_setting_get_member(a, config_setting_name(eb));

        child_path(sub, sizeof sub, path, eb, (unsigned)i);
        if (ea == NULL)
            return restart_error(next, eb, sub, "it was added", err, errlen);
        if (compare_settings(next, ea, eb, sub, err, errlen) != 0)
            return -1;
    }
    for (int i = 0; i < n_a; i++) {
        const config_setting_t *ea = config_setting_get_elem(a, (unsigned)i);

        if (config_setting_get_member(b, config_setting_name(ea)) == NULL) {
            child_path(sub, sizeof sub, path, ea, (unsigned)i);
            return restart_error(next, b, sub, "it was removed", err, errlen);
        }
    }
    return 0;
}

/* Compares the top-level group name of both files, setting by setting. */
static int compare_group(const cairn_conf *started, const cairn_conf *next, const char *name,
                         char *err, size_t errlen)
{
    const config_setting_t *a = lookup(started, name);
    const config_setting_t *b = lookup(next, name);

    if (a == NULL && b == NULL)
        return 0;
    if (a == NULL)
        return restart_error(next, b, name, "the group was added", err, errlen);
    if (b == NULL)
        return restart_error(next, NULL, name, "the group was removed", err, errlen);
    return compare_settings(next, a, b, name, err, errlen);
}

/* Compares one string setting of both configurations, by value after conf_load(). */
static int compare_string(const cairn_conf *next, const char *key, const char *a, const char *b,
                          char *err, size_t errlen)
{
    if (strcmp(a, b) == 0)
        return 0;
    return restart_error(next, lookup(next, key), key, "its value changed", err, errlen);
}

int runtime_check_restart_settings(const cairn_conf *started, const cairn_conf *next,
                                   char *err, size_t errlen)
{
    if (compare_group(started, next, "plugins", err, errlen) != 0 ||
        compare_group(started, next, "api", err, errlen) != 0)
        return -1;
    if (compare_string(next, "plugin_directory", started->plugin_directory,
                       next->plugin_directory, err, errlen) != 0)
        return -1;
    if (compare_string(next, "index.plugin", started->index_plugin, next->index_plugin, err,
                       errlen) != 0)
        return -1;
    if (compare_string(next, "storage.sync", started->storage_sync, next->storage_sync, err,
                       errlen) != 0)
        return -1;
    return compare_string(next, "storage.path", started->storage_path, next->storage_path, err,
                          errlen);
}

int runtime_check_ae_plugins(const cairn_conf *started, const cairn_conf *next, char *err,
                             size_t errlen)
{
    for (size_t i = 0; i < next->n_aes; i++) {
        const conf_ae *ae = &next->aes[i];

        /* conf_load() lets a disabled AE name a disabled plugin. */
        if (!ae->enabled)
            continue;
        for (size_t j = 0; j < ae->n_plugins; j++) {
            const conf_plugin *plugin = conf_find_plugin(started, ae->plugins[j]);

            if (plugin != NULL && plugin->enabled)
                continue;
            snprintf(err, errlen,
                     "%s:%d: aes[%zu].plugins: plugin '%s' is not loaded; enable it in "
                     "`plugins` and restart cairnd to serve it",
                     next->path, ae->line, i, ae->plugins[j]);
            return -1;
        }
    }
    return 0;
}
