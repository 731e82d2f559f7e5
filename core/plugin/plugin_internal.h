/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records behind the SDK's opaque cairn_plugin and cairn_config
 * handles, shared by the loader, the registry and the host API files.
 * Not for use outside core/plugin.
 */
#ifndef CAIRN_PLUGIN_INTERNAL_H
#define CAIRN_PLUGIN_INTERNAL_H

#include <stdbool.h>

#include <ltdl.h>

#include "plugin/plugin.h"

/* What a plugin's cairn_config handle points at: its section of the configuration. */
struct cairn_config {
    const conf_section *section;
    const cairn_conf *conf;    /* resolves relative paths (config_get_path) */
    const cairn_plugin *owner; /* names the plugin in log lines */
};

struct cairn_plugin {
    char *name;        /* the configuration group name, equal to the descriptor's */
    char *file;        /* the path given to lt_dlopenadvise */
    lt_dlhandle handle;
    const cairn_plugin_descriptor *descriptor;
    cairn_config config;
    conf_section *own_section; /* empty section made when the group had none */
    void *state;       /* what init stored, passed back to shutdown */
    bool in_init;      /* registration is allowed only while init runs */
    plugin_service **services;
    size_t n_services;
    plugin_index *index;
};

/* Frees what plugin registered (not the plugin itself). */
void plugin_release_registrations(cairn_plugin *plugin);

/* The host API's registration entries (registry.c). */
cairn_status plugin_register_service(cairn_plugin *self, const cairn_service *service);
cairn_status plugin_register_index(cairn_plugin *self, const cairn_index_ops *ops,
                                   void *backend_state);

/* The host API's log entries (host_log.c). */
void plugin_host_log(cairn_plugin *self, cairn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void plugin_host_log_assoc(cairn_plugin *self, const cairn_assoc *assoc, cairn_log_level level,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The host API's configuration entries (host_config.c). */
cairn_status plugin_config_get_string(const cairn_config *config, const char *key,
                                      const char *def, const char **value);
cairn_status plugin_config_get_int(const cairn_config *config, const char *key, int64_t def,
                                   int64_t min, int64_t max, int64_t *value);
cairn_status plugin_config_get_bool(const cairn_config *config, const char *key, int def,
                                    int *value);
cairn_status plugin_config_get_path(const cairn_config *config, const char *key,
                                    const char *def, char **value);
cairn_status plugin_config_get_string_list(const cairn_config *config, const char *key,
                                           const char *const **values, size_t *count);
cairn_status plugin_config_get_groups(const cairn_config *config, const char *key,
                                      const cairn_config *const **groups, size_t *count);
cairn_status plugin_config_check_keys(const cairn_config *config, const char *const *allowed,
                                      size_t allowed_count);
cairn_status plugin_config_error(const cairn_config *config, const char *key, const char *fmt,
                                 ...) __attribute__((format(printf, 3, 4)));
int plugin_config_is_string(const cairn_config *config, const char *key);
int plugin_config_remote_exists(const cairn_config *config, const char *title);

/* The host API's data set entries (host_dataset.c). */
cairn_dataset *plugin_dataset_create(void);
void plugin_dataset_destroy(cairn_dataset *dataset);
size_t plugin_dataset_count(const cairn_dataset *dataset);
const cairn_element *plugin_dataset_at(const cairn_dataset *dataset, size_t index);
const cairn_element *plugin_dataset_find(const cairn_dataset *dataset, cairn_tag tag);
cairn_tag plugin_element_tag(const cairn_element *element);
cairn_vr plugin_element_vr(const cairn_element *element);
uint32_t plugin_element_length(const cairn_element *element);
const uint8_t *plugin_element_value(const cairn_element *element);
size_t plugin_element_item_count(const cairn_element *element);
const cairn_dataset *plugin_element_item(const cairn_element *element, size_t index);
cairn_status plugin_dataset_get_string(const cairn_dataset *dataset, cairn_tag tag,
                                       unsigned index, char *buf, size_t size);
cairn_status plugin_dataset_get_utf8(const cairn_dataset *dataset, cairn_tag tag,
                                     char **value);
cairn_status plugin_dataset_get_uint(const cairn_dataset *dataset, cairn_tag tag,
                                     unsigned index, uint32_t *value);
cairn_status plugin_dataset_set_string(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                       const char *value);
cairn_status plugin_dataset_set_uint(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                     uint32_t value);
cairn_status plugin_dataset_set_bytes(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                      const void *value, size_t length);
cairn_status plugin_dataset_remove(cairn_dataset *dataset, cairn_tag tag);
cairn_dataset *plugin_dataset_append_item(cairn_dataset *dataset, cairn_tag tag);
cairn_status plugin_dataset_set_empty_sequence(cairn_dataset *dataset, cairn_tag tag);

/* The data router's entries (host_router.c). */
cairn_status plugin_subscribe_instance_stored(cairn_plugin *self, cairn_instance_stored_fn fn,
                                              void *arg);
cairn_status plugin_dataset_encode(const cairn_dataset *dataset, uint8_t **bytes, size_t *length);
cairn_status plugin_dataset_decode(const uint8_t *bytes, size_t length, cairn_dataset **dataset);

#endif
