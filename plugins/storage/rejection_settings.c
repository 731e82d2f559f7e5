/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rejection codes in force per AE: the plugin-wide lists
 * rejection_delete_codes and rejection_hide_codes, and the `aes` list of
 * the plugin's settings, whose entries replace either list for the
 * associations called with one AE title. Read once, in init.
 */
#include "rejection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const default_delete[] = {"113039"};
static const char *const default_hide[] = {"113001", "113037", "113038"};

/* Reads one list; an absent key gives def. An empty array stays empty: that kind is off. */
static cairn_status read_codes(const cairn_host_api *api, const cairn_config *config,
                               const char *key, const char *const *def, size_t def_count,
                               const char *const **codes, size_t *count)
{
    cairn_status status = api->config_get_string_list(config, key, codes, count);

    if (status != CAIRN_OK)
        return status;
    if (*codes == NULL) {
        *codes = def;
        *count = def_count;
    }
    return CAIRN_OK;
}

/* Reads both lists of config over the defaults, and rejects a code listed in both. */
static cairn_status read_pair(const cairn_host_api *api, cairn_plugin *self,
                              const cairn_config *config, const char *where,
                              const rejection_codes *defaults, rejection_codes *codes)
{
    cairn_status status;

    status = read_codes(api, config, "rejection_delete_codes", defaults->delete_codes,
                        defaults->delete_count, &codes->delete_codes, &codes->delete_count);
    if (status == CAIRN_OK)
        status = read_codes(api, config, "rejection_hide_codes", defaults->hide_codes,
                            defaults->hide_count, &codes->hide_codes, &codes->hide_count);
    if (status != CAIRN_OK)
        return status;

    for (size_t i = 0; i < codes->delete_count; i++) {
        for (size_t j = 0; j < codes->hide_count; j++) {
            if (strcmp(codes->delete_codes[i], codes->hide_codes[j]) == 0) {
                api->log(self, CAIRN_LOG_ERROR,
                         "%s: code \"%s\" is in both rejection_delete_codes and"
                         " rejection_hide_codes; list it in one of them", where,
                         codes->delete_codes[i]);
                return CAIRN_ERR_CONFIG;
            }
        }
    }
    return CAIRN_OK;
}

/* Reads entry index of the `aes` list into settings->aes[index]. */
static cairn_status read_ae(const cairn_host_api *api, cairn_plugin *self,
                            const cairn_config *entry, size_t index,
                            rejection_settings *settings)
{
    static const char *const keys[] = {"title", "rejection_delete_codes",
                                       "rejection_hide_codes"};
    rejection_ae_codes *ae = &settings->aes[index];
    const char *title = NULL;
    char where[64];

    snprintf(where, sizeof where, "plugins.storage.aes[%zu]", index);
    if (api->config_check_keys(entry, keys, sizeof keys / sizeof keys[0]) != CAIRN_OK ||
        api->config_get_string(entry, "title", NULL, &title) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (title == NULL || title[0] == '\0' || strlen(title) > 16) {
        api->log(self, CAIRN_LOG_ERROR, "%s.title: %s", where,
                 title == NULL ? "missing required setting: the AE title the entry is for"
                               : "invalid AE title: it must have 1 to 16 characters");
        return CAIRN_ERR_CONFIG;
    }
    for (size_t i = 0; i < index; i++) {
        if (strcmp(settings->aes[i].title, title) == 0) {
            api->log(self, CAIRN_LOG_ERROR, "%s.title: duplicate AE title \"%s\" (also "
                     "plugins.storage.aes[%zu])", where, title, i);
            return CAIRN_ERR_CONFIG;
        }
    }
    snprintf(ae->title, sizeof ae->title, "%s", title);
    return read_pair(api, self, entry, where, &settings->defaults, &ae->codes);
}

cairn_status rejection_read_settings(const cairn_host_api *api, cairn_plugin *self,
                                     const cairn_config *config, rejection_settings *settings)
{
    const rejection_codes builtin = {default_delete, 1, default_hide, 3};
    const cairn_config *const *entries = NULL;
    size_t count = 0;
    cairn_status status;

    memset(settings, 0, sizeof *settings);
    status = read_pair(api, self, config, "plugins.storage", &builtin, &settings->defaults);
    if (status != CAIRN_OK)
        return status;
    if (!CAIRN_HOST_HAS(api, config_get_groups))
        return CAIRN_OK;
    status = api->config_get_groups(config, "aes", &entries, &count);
    if (status != CAIRN_OK || count == 0)
        return status;

    settings->aes = calloc(count, sizeof *settings->aes);
    if (settings->aes == NULL)
        return CAIRN_ERR_NO_MEMORY;
    settings->ae_count = count;
    for (size_t i = 0; i < count && status == CAIRN_OK; i++)
        status = read_ae(api, self, entries[i], i, settings);
    return status;
}

void rejection_free_settings(rejection_settings *settings)
{
    free(settings->aes);
    settings->aes = NULL;
    settings->ae_count = 0;
}

const rejection_codes *rejection_codes_for(const rejection_settings *settings,
                                           const char *called_ae)
{
    for (size_t i = 0; called_ae != NULL && i < settings->ae_count; i++) {
        if (strcmp(settings->aes[i].title, called_ae) == 0)
            return &settings->aes[i].codes;
    }
    return &settings->defaults;
}
