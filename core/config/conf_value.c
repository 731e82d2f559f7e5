/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed access to libconfig settings with uniform errors. Each reader
 * either stores a checked value or writes "FILE:LINE: PATH: message" naming
 * the file and line libconfig recorded for the setting. Used both by the
 * loader for the core's keys and by conf_section for plugin settings.
 */
#include "config/conf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int conf_verror(const conf_report *report, const config_setting_t *at,
                const char *path, const char *fmt, va_list ap)
{
    char message[512];
    const char *file = report->file;
    unsigned int line = 0;

    if (report->err == NULL || report->errlen == 0)
        return -1;

    if (at != NULL) {
        if (config_setting_source_file(at) != NULL)
            file = config_setting_source_file(at);
        line = config_setting_source_line(at);
    }
    if (file == NULL)
        file = "(config)";

    vsnprintf(message, sizeof message, fmt, ap);

    if (line > 0 && path != NULL && path[0] != '\0')
        snprintf(report->err, report->errlen, "%s:%u: %s: %s", file, line, path, message);
    else if (line > 0)
        snprintf(report->err, report->errlen, "%s:%u: %s", file, line, message);
    else if (path != NULL && path[0] != '\0')
        snprintf(report->err, report->errlen, "%s: %s: %s", file, path, message);
    else
        snprintf(report->err, report->errlen, "%s: %s", file, message);
    return -1;
}

int conf_error(const conf_report *report, const config_setting_t *at,
               const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    conf_verror(report, at, path, fmt, ap);
    va_end(ap);
    return -1;
}

void conf_join_path(char *buf, size_t size, const char *parent, const char *key)
{
    if (parent == NULL || parent[0] == '\0')
        snprintf(buf, size, "%s", key);
    else
        snprintf(buf, size, "%s.%s", parent, key);
}

void conf_item_path(char *buf, size_t size, const char *list_path, size_t index)
{
    int written = snprintf(buf, size, "%s[%zu]", list_path, index);

    /* A path too long for buf is cut; it only ever appears in a message. */
    if (written < 0 && size > 0)
        buf[0] = '\0';
}

const char *conf_type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a floating-point number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "an unknown type";
    }
}

/* Looks up a direct member, tolerating a NULL group. */
static config_setting_t *member(const config_setting_t *group, const char *key)
{
    if (group == NULL || !config_setting_is_group(group))
        return NULL;
    return config_setting_get_member(group, key);
}

int conf_read_int(const conf_report *report, const config_setting_t *group,
                  const char *group_path, const char *key, long long def,
                  long long min, long long max, long long *out)
{
    config_setting_t *setting = member(group, key);
    char path[CONF_PATH_MAX];
    long long value;

    *out = def;
    if (setting == NULL)
        return 0;

    conf_join_path(path, sizeof path, group_path, key);
    if (config_setting_type(setting) != CONFIG_TYPE_INT &&
        config_setting_type(setting) != CONFIG_TYPE_INT64)
        return conf_error(report, setting, path, "expected an integer, got %s",
                          conf_type_name(config_setting_type(setting)));

    value = config_setting_get_int64(setting);
    if (value < min || value > max)
        return conf_error(report, setting, path, "value %lld is out of range %lld..%lld",
                          value, min, max);

    *out = value;
    return 0;
}

int conf_read_bool(const conf_report *report, const config_setting_t *group,
                   const char *group_path, const char *key, bool def, bool *out)
{
    config_setting_t *setting = member(group, key);
    char path[CONF_PATH_MAX];

    *out = def;
    if (setting == NULL)
        return 0;

    conf_join_path(path, sizeof path, group_path, key);
    if (config_setting_type(setting) != CONFIG_TYPE_BOOL)
        return conf_error(report, setting, path, "expected a boolean, got %s",
                          conf_type_name(config_setting_type(setting)));

    *out = config_setting_get_bool(setting) != 0;
    return 0;
}

int conf_read_string(const conf_report *report, const config_setting_t *group,
                     const char *group_path, const char *key, const char *def,
                     const char **out)
{
    config_setting_t *setting = member(group, key);
    char path[CONF_PATH_MAX];

    *out = def;
    if (setting == NULL)
        return 0;

    conf_join_path(path, sizeof path, group_path, key);
    if (config_setting_type(setting) != CONFIG_TYPE_STRING)
        return conf_error(report, setting, path, "expected a string, got %s",
                          conf_type_name(config_setting_type(setting)));

    *out = config_setting_get_string(setting);
    return 0;
}

int conf_read_string_list(const conf_report *report,
                          const config_setting_t *group, const char *group_path,
                          const char *key, const char ***out, size_t *n)
{
    config_setting_t *setting = member(group, key);
    char path[CONF_PATH_MAX];
    const char **items;
    int length;

    *out = NULL;
    *n = 0;
    if (setting == NULL)
        return 0;

    conf_join_path(path, sizeof path, group_path, key);
    if (!config_setting_is_array(setting) && !config_setting_is_list(setting))
        return conf_error(report, setting, path, "expected an array of strings, got %s",
                          conf_type_name(config_setting_type(setting)));

    length = config_setting_length(setting);
    if (length == 0)
        return 0;

    items = calloc((size_t)length, sizeof *items);
    if (items == NULL)
        return conf_error(report, setting, path, "out of memory");

    for (int i = 0; i < length; i++) {
        config_setting_t *item = config_setting_get_elem(setting, (unsigned int)i);

        if (config_setting_type(item) != CONFIG_TYPE_STRING) {
            char item_path[CONF_PATH_MAX];

            conf_item_path(item_path, sizeof item_path, path, (size_t)i);
            free(items);
            return conf_error(report, item, item_path, "expected a string, got %s",
                              conf_type_name(config_setting_type(item)));
        }
        items[i] = config_setting_get_string(item);
    }

    *out = items;
    *n = (size_t)length;
    return 0;
}

int conf_read_group(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *key,
                    const config_setting_t **out)
{
    config_setting_t *setting = member(group, key);
    char path[CONF_PATH_MAX];

    *out = NULL;
    if (setting == NULL)
        return 0;

    conf_join_path(path, sizeof path, group_path, key);
    if (!config_setting_is_group(setting))
        return conf_error(report, setting, path, "expected a group { ... }, got %s",
                          conf_type_name(config_setting_type(setting)));

    *out = setting;
    return 0;
}

static bool name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0)
            return true;
    }
    return false;
}

/* Appends "a, b, c" to buf, truncating quietly when it is full. */
static void list_names(char *buf, size_t size, const char *const *names, size_t n,
                       const char *const *extra, size_t n_extra)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n + n_extra && used < size; i++) {
        const char *name = i < n ? names[i] : extra[i - n];
        int written = snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : ", ", name);

        if (written < 0)
            break;
        used += (size_t)written;
    }
}

int conf_check_keys(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *const *allowed,
                    size_t n_allowed, const char *const *extra, size_t n_extra)
{
    int length;

    if (group == NULL)
        return 0;

    length = config_setting_length(group);
    for (int i = 0; i < length; i++) {
        config_setting_t *setting = config_setting_get_elem(group, (unsigned int)i);
        const char *name = config_setting_name(setting);
        char path[CONF_PATH_MAX];
        char valid[256];

        if (name == NULL || name_in(name, allowed, n_allowed) ||
            name_in(name, extra, n_extra))
            continue;

        conf_join_path(path, sizeof path, group_path, name);
        if (n_allowed + n_extra == 0)
            return conf_error(report, setting, path, "unknown key (this group takes no keys)");
        list_names(valid, sizeof valid, allowed, n_allowed, extra, n_extra);
        return conf_error(report, setting, path, "unknown key (valid keys: %s)", valid);
    }
    return 0;
}

void conf_free_strings(char **strings, size_t n)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

char **conf_copy_strings(const char *const *strings, size_t n)
{
    char **copy;

    if (n == 0)
        return NULL;

    copy = calloc(n, sizeof *copy);
    if (copy == NULL)
        return NULL;

    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup(strings[i]);
        if (copy[i] == NULL) {
            conf_free_strings(copy, n);
            return NULL;
        }
    }
    return copy;
}
