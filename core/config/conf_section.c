/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin settings: a view of one libconfig group (or of nothing) with typed
 * getters whose errors name file, line and dotted key, like the loader's.
 * The host hands plugins an opaque SDK handle wrapping one of these.
 * String lists are built on first request and cached in the section, under
 * a mutex because plugins may read settings from worker threads.
 */
#include "config/conf_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One string list handed out by conf_section_get_string_list(), kept so
 * that asking again for the same key returns the same array. */
struct string_list {
    struct string_list *next;
    char *key;
    const char **items;
    size_t n_items;
};

/* The sections made for one list of groups by conf_section_get_groups(). */
struct group_list {
    struct group_list *next;
    char *key;
    conf_section **items;
    size_t n_items;
    void *extra; /* the caller's per-key slot, freed with free() */
};

/* The mutable part of a section, reached through a pointer so that the
 * getters can take a const section. */
struct section_cache {
    pthread_mutex_t lock;
    struct string_list *lists;
    struct group_list *groups;
};

struct conf_section {
    const config_setting_t *setting;  /* a group, or NULL */
    char *file;                       /* for messages without a setting */
    char *path;                       /* e.g. "plugins.storage" */
    struct section_cache *cache;
};

static const char *const reserved_keys[] = {"enabled", "file"};

conf_section *conf_section_create(const struct config_setting_t *setting,
                                  const char *file, const char *path)
{
    conf_section *section = calloc(1, sizeof *section);

    if (section == NULL)
        return NULL;

    section->setting = setting;
    section->file = strdup(file != NULL ? file : "(config)");
    section->path = strdup(path != NULL ? path : "");
    section->cache = calloc(1, sizeof *section->cache);
    if (section->file == NULL || section->path == NULL || section->cache == NULL) {
        free(section->cache);
        section->cache = NULL;
        conf_section_destroy(section);
        return NULL;
    }
    pthread_mutex_init(&section->cache->lock, NULL);
    return section;
}

void conf_section_destroy(conf_section *section)
{
    if (section == NULL)
        return;

    if (section->cache != NULL) {
        struct string_list *list = section->cache->lists;

        while (list != NULL) {
            struct string_list *next = list->next;

            free(list->key);
            free(list->items);
            free(list);
            list = next;
        }
        while (section->cache->groups != NULL) {
            struct group_list *groups = section->cache->groups;

            section->cache->groups = groups->next;
            for (size_t i = 0; i < groups->n_items; i++)
                conf_section_destroy(groups->items[i]);
            free(groups->items);
            free(groups->extra);
            free(groups->key);
            free(groups);
        }
        pthread_mutex_destroy(&section->cache->lock);
        free(section->cache);
    }
    free(section->file);
    free(section->path);
    free(section);
}

const char *conf_section_path(const conf_section *section)
{
    return section->path;
}

static conf_report section_report(const conf_section *section, char *err, size_t errlen)
{
    conf_report report = {.file = section->file, .err = err, .errlen = errlen};

    return report;
}

int conf_section_get_string(const conf_section *section, const char *key,
                            const char *def, const char **out, char *err,
                            size_t errlen)
{
    conf_report report = section_report(section, err, errlen);

    return conf_read_string(&report, section->setting, section->path, key, def, out);
}

int conf_section_get_int(const conf_section *section, const char *key,
                         long long def, long long min, long long max,
                         long long *out, char *err, size_t errlen)
{
    conf_report report = section_report(section, err, errlen);

    return conf_read_int(&report, section->setting, section->path, key, def, min, max, out);
}

int conf_section_get_bool(const conf_section *section, const char *key,
                          bool def, bool *out, char *err, size_t errlen)
{
    conf_report report = section_report(section, err, errlen);

    return conf_read_bool(&report, section->setting, section->path, key, def, out);
}

/* Returns the cached list for key, or NULL; the caller holds the lock. */
static const struct string_list *find_list(const conf_section *section, const char *key)
{
    for (const struct string_list *list = section->cache->lists; list != NULL; list = list->next) {
        if (strcmp(list->key, key) == 0)
            return list;
    }
    return NULL;
}

int conf_section_get_string_list(const conf_section *section, const char *key,
                                 const char ***out, size_t *n, char *err,
                                 size_t errlen)
{
    conf_report report = section_report(section, err, errlen);
    const struct string_list *cached;
    struct string_list *list = NULL;
    const char **items = NULL;
    size_t count = 0;
    int result = 0;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&section->cache->lock);

    cached = find_list(section, key);
    if (cached != NULL) {
        *out = cached->items;
        *n = cached->n_items;
        goto out;
    }

    result = conf_read_string_list(&report, section->setting, section->path, key, &items, &count);
    if (result != 0)
        goto out;
    if (items == NULL) {
        /* A present but empty array is told apart from an absent key by a non-NULL array. */
        if (section->setting == NULL || config_setting_get_member(section->setting, key) == NULL)
            goto out;
        items = calloc(1, sizeof *items);
        if (items == NULL) {
            result = conf_section_format_error(section, key, err, errlen, "out of memory");
            goto out;
        }
    }

    list = calloc(1, sizeof *list);
    if (list != NULL)
        list->key = strdup(key);
    if (list == NULL || list->key == NULL) {
        free(list);
        free(items);
        result = conf_section_format_error(section, key, err, errlen, "out of memory");
        goto out;
    }
    list->items = items;
    list->n_items = count;
    list->next = section->cache->lists;
    section->cache->lists = list;

    *out = items;
    *n = count;

out:
    pthread_mutex_unlock(&section->cache->lock);
    return result;
}

/* Makes one section per group of list; false when memory runs out. */
static bool make_group_sections(const conf_section *section, const char *key,
                                const config_setting_t *list, struct group_list *groups)
{
    int length = config_setting_length(list);

    groups->items = calloc(length > 0 ? (size_t)length : 1, sizeof *groups->items);
    if (groups->items == NULL)
        return false;
    for (int i = 0; i < length; i++) {
        char path[CONF_PATH_MAX];

        snprintf(path, sizeof path, "%s.%s[%d]", section->path, key, i);
        groups->items[i] = conf_section_create(config_setting_get_elem(list, (unsigned)i),
                                               section->file, path);
        if (groups->items[i] == NULL)
            return false;
        groups->n_items++;
    }
    return true;
}

/* Checks that key is a list whose entries are all groups; *list NULL when absent. */
static int read_group_list(const conf_section *section, const char *key,
                           const config_setting_t **list, char *err, size_t errlen)
{
    const config_setting_t *member =
        section->setting != NULL ? config_setting_get_member(section->setting, key) : NULL;

    *list = member;
    if (member == NULL)
        return 0;
    if (!config_setting_is_list(member))
        return conf_section_format_error(section, key, err, errlen,
                                         "expected a list of groups ( { ... }, ... )");
    for (int i = 0; i < config_setting_length(member); i++) {
        if (!config_setting_is_group(config_setting_get_elem(member, (unsigned)i)))
            return conf_section_format_error(section, key, err, errlen,
                                             "entry %d is not a group { ... }", i);
    }
    return 0;
}

int conf_section_get_groups(const conf_section *section, const char *key,
                            conf_section *const **out, size_t *n, void ***extra, char *err,
                            size_t errlen)
{
    const config_setting_t *list = NULL;
    struct group_list *groups;
    int result = 0;

    *out = NULL;
    *n = 0;
    if (extra != NULL)
        *extra = NULL;
    pthread_mutex_lock(&section->cache->lock);

    for (groups = section->cache->groups; groups != NULL; groups = groups->next) {
        if (strcmp(groups->key, key) == 0)
            goto found;
    }
    result = read_group_list(section, key, &list, err, errlen);
    if (result != 0 || list == NULL)
        goto out;
    groups = calloc(1, sizeof *groups);
    if (groups == NULL || (groups->key = strdup(key)) == NULL ||
        !make_group_sections(section, key, list, groups)) {
        if (groups != NULL) {
            for (size_t i = 0; i < groups->n_items; i++)
                conf_section_destroy(groups->items[i]);
            free(groups->items);
            free(groups->key);
            free(groups);
        }
        result = conf_section_format_error(section, key, err, errlen, "out of memory");
        goto out;
    }
    groups->next = section->cache->groups;
    section->cache->groups = groups;

found:
    *out = groups->items;
    *n = groups->n_items;
    if (extra != NULL)
        *extra = &groups->extra;

out:
    pthread_mutex_unlock(&section->cache->lock);
    return result;
}

int conf_section_check_keys(const conf_section *section,
                            const char *const *allowed, size_t n_allowed,
                            char *err, size_t errlen)
{
    conf_report report = section_report(section, err, errlen);

    return conf_check_keys(&report, section->setting, section->path, allowed, n_allowed,
                           reserved_keys, sizeof reserved_keys / sizeof reserved_keys[0]);
}

bool conf_section_is_string(const conf_section *section, const char *key)
{
    const config_setting_t *member;

    if (section == NULL || section->setting == NULL || key == NULL)
        return false;
    member = config_setting_get_member(section->setting, key);
    return member != NULL && config_setting_type(member) == CONFIG_TYPE_STRING;
}

int conf_section_format_error(const conf_section *section, const char *key,
                              char *err, size_t errlen, const char *fmt, ...)
{
    conf_report report = section_report(section, err, errlen);
    const config_setting_t *at = section->setting;
    char path[CONF_PATH_MAX];
    va_list ap;

    if (key != NULL) {
        conf_join_path(path, sizeof path, section->path, key);
        if (section->setting != NULL && config_setting_get_member(section->setting, key) != NULL)
            at = config_setting_get_member(section->setting, key);
    } else {
        snprintf(path, sizeof path, "%s", section->path);
    }

    va_start(ap, fmt);
    conf_verror(&report, at, path, fmt, ap);
    va_end(ap);
    return -1;
}
