/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lists of names in the core's keys (transfer syntax UIDs, plugin names,
 * calling AE titles, user names): read, check each entry, reject
 * duplicates and copy them out of the libconfig tree.
 */
#include "config/conf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks that no two of the n names are equal; reports the later one. */
static int check_unique(const conf_report *report, const config_setting_t *list,
                        const char *path, char **names, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            char item_path[CONF_PATH_MAX];

            if (strcmp(names[i], names[j]) != 0)
                continue;
            conf_item_path(item_path, sizeof item_path, path, i);
            return conf_error(report, config_setting_get_elem(list, (unsigned int)i),
                              item_path, "duplicate entry \"%s\" (also entry %zu)",
                              names[i], j);
        }
    }
    return 0;
}

int conf_read_names(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *key,
                    const conf_name_rules *rules, char ***out, size_t *n)
{
    const config_setting_t *list;
    const char **items = NULL;
    char **names = NULL;
    size_t count = 0;
    char path[CONF_PATH_MAX];
    int result = -1;

    *out = NULL;
    *n = 0;
    conf_join_path(path, sizeof path, group_path, key);
    if (conf_read_string_list(report, group, group_path, key, &items, &count) != 0)
        return -1;

    list = group != NULL ? config_setting_get_member(group, key) : NULL;
    if (list == NULL)
        return 0;
    if (count == 0)
        return conf_error(report, list, path, "the list is empty: %s", rules->if_empty);

    for (size_t i = 0; i < count; i++) {
        const char *problem = rules->check != NULL ? rules->check(items[i]) : NULL;
        char item_path[CONF_PATH_MAX];

        if (problem == NULL)
            continue;
        conf_item_path(item_path, sizeof item_path, path, i);
        conf_error(report, config_setting_get_elem(list, (unsigned int)i), item_path,
                   "invalid %s \"%s\": %s", rules->entry_kind, items[i], problem);
        goto out;
    }

    names = calloc(count, sizeof *names);
    if (names == NULL) {
        conf_error(report, list, path, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        names[i] = rules->trim ? conf_trim_title(items[i]) : strdup(items[i]);
        if (names[i] == NULL) {
            conf_error(report, list, path, "out of memory");
            goto out;
        }
    }

    if (check_unique(report, list, path, names, count) != 0)
        goto out;

    *out = names;
    *n = count;
    names = NULL;
    result = 0;

out:
    conf_free_strings(names, count);
    free(items);
    return result;
}
