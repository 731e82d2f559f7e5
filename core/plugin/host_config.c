/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's configuration entries: typed getters over the plugin's
 * conf_section. A bad value is logged once here, as
 * "NAME: FILE:LINE: plugins.NAME.KEY: message", and reaches the plugin as
 * CAIRN_ERR_CONFIG, so the plugin need not log it again.
 */
#include "plugin/plugin_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

/* Room for one "FILE:LINE: PATH.KEY: message" line. */
#define CONFIG_ERROR_MAX 512

static cairn_status config_error(const cairn_config *config, const char *err)
{
    const char *name = config->owner != NULL ? plugin_name(config->owner) : "plugin";

    log_error(NULL, "%s: %s", name, err);
    return CAIRN_ERR_CONFIG;
}

cairn_status plugin_config_get_string(const cairn_config *config, const char *key,
                                      const char *def, const char **value)
{
    char err[CONFIG_ERROR_MAX];

    if (config == NULL || key == NULL || value == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (conf_section_get_string(config->section, key, def, value, err, sizeof err) != 0)
        return config_error(config, err);
    return CAIRN_OK;
}

cairn_status plugin_config_get_int(const cairn_config *config, const char *key, int64_t def,
                                   int64_t min, int64_t max, int64_t *value)
{
    char err[CONFIG_ERROR_MAX];
    long long result;

    if (config == NULL || key == NULL || value == NULL || min > max)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (conf_section_get_int(config->section, key, (long long)def, (long long)min,
                             (long long)max, &result, err, sizeof err) != 0)
        return config_error(config, err);

    *value = (int64_t)result;
    return CAIRN_OK;
}

cairn_status plugin_config_get_bool(const cairn_config *config, const char *key, int def,
                                    int *value)
{
    char err[CONFIG_ERROR_MAX];
    bool result;

    if (config == NULL || key == NULL || value == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (conf_section_get_bool(config->section, key, def != 0, &result, err, sizeof err) != 0)
        return config_error(config, err);

    *value = result ? 1 : 0;
    return CAIRN_OK;
}

cairn_status plugin_config_get_path(const cairn_config *config, const char *key,
                                    const char *def, char **value)
{
    char err[CONFIG_ERROR_MAX];
    const char *text;

    if (config == NULL || key == NULL || value == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *value = NULL;

    if (conf_section_get_string(config->section, key, def, &text, err, sizeof err) != 0)
        return config_error(config, err);
    if (text == NULL)
        return CAIRN_OK;

    if (text[0] == '\0') {
        conf_section_format_error(config->section, key, err, sizeof err,
                                  "the path is empty; give a file or folder name");
        return config_error(config, err);
    }

    *value = conf_resolve_path(config->conf, text);
    return *value != NULL ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
}

cairn_status plugin_config_get_string_list(const cairn_config *config, const char *key,
                                           const char *const **values, size_t *count)
{
    char err[CONFIG_ERROR_MAX];
    const char **items = NULL;
    size_t n = 0;

    if (config == NULL || key == NULL || values == NULL || count == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *values = NULL;
    *count = 0;

    if (conf_section_get_string_list(config->section, key, &items, &n, err, sizeof err) != 0)
        return config_error(config, err);

    *values = items;
    *count = n;
    return CAIRN_OK;
}

/* Serialises the first filling of a group list's handles. */
static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;

cairn_status plugin_config_get_groups(const cairn_config *config, const char *key,
                                      const cairn_config *const **groups, size_t *count)
{
    char err[CONFIG_ERROR_MAX];
    conf_section *const *sections = NULL;
    void **slot = NULL;
    size_t n = 0;
    cairn_status status = CAIRN_OK;

    if (config == NULL || key == NULL || groups == NULL || count == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    *groups = NULL;
    *count = 0;

    if (conf_section_get_groups(config->section, key, &sections, &n, &slot, err,
                                sizeof err) != 0)
        return config_error(config, err);
    if (sections == NULL)
        return CAIRN_OK;

    /* The handles live in the section's slot: one cairn_config per group, then their pointers. */
    pthread_mutex_lock(&groups_lock);
    if (*slot == NULL) {
        size_t handles = n > 0 ? n : 1;
        char *block = calloc(handles, sizeof(cairn_config) + sizeof(cairn_config *));

        if (block == NULL) {
            status = CAIRN_ERR_NO_MEMORY;
        } else {
            cairn_config *items = (cairn_config *)(void *)block;
            const cairn_config **pointers =
                (const cairn_config **)(void *)(block + handles * sizeof(cairn_config));

            for (size_t i = 0; i < n; i++) {
                items[i] = (cairn_config){.section = sections[i], .conf = config->conf,
                                          .owner = config->owner};
                pointers[i] = &items[i];
            }
            *slot = block;
        }
    }
    if (status == CAIRN_OK) {
        size_t handles = n > 0 ? n : 1;

        *groups = (const cairn_config *const *)(void *)((char *)*slot +
                                                        handles * sizeof(cairn_config));
        *count = n;
    }
    pthread_mutex_unlock(&groups_lock);
    return status;
}

cairn_status plugin_config_check_keys(const cairn_config *config, const char *const *allowed,
                                      size_t allowed_count)
{
    char err[CONFIG_ERROR_MAX];

    if (config == NULL || (allowed == NULL && allowed_count > 0))
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (conf_section_check_keys(config->section, allowed, allowed_count, err, sizeof err) != 0)
        return config_error(config, err);
    return CAIRN_OK;
}

cairn_status plugin_config_error(const cairn_config *config, const char *key, const char *fmt,
                                 ...)
{
    char message[CONFIG_ERROR_MAX];
    char err[CONFIG_ERROR_MAX];
    va_list ap;

    if (config == NULL || fmt == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    conf_section_format_error(config->section, key, err, sizeof err, "%s", message);
    return config_error(config, err);
}

int plugin_config_is_string(const cairn_config *config, const char *key)
{
    if (config == NULL || key == NULL)
        return 0;
    return conf_section_is_string(config->section, key) ? 1 : 0;
}

int plugin_config_remote_exists(const cairn_config *config, const char *title)
{
    if (config == NULL || config->conf == NULL || title == NULL)
        return 0;
    return conf_find_remote(config->conf, title) != NULL ? 1 : 0;
}
