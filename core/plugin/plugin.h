/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin registry. It loads the plugins the configuration enables,
 * checks each descriptor against the SDK the host was built with and runs
 * their init. It keeps the services and index back ends they register for
 * the association code and the archive to look up.
 *
 * Threading: plugin_registry_load() and plugin_registry_destroy() run on
 * the main thread, with no association running. In between the registry is
 * read-only, so any thread may call the lookup functions.
 */
#ifndef CAIRN_PLUGIN_REGISTRY_H
#define CAIRN_PLUGIN_REGISTRY_H

#include <stddef.h>

#include <cairn/cairn.h>

#include "config/conf.h"

typedef struct plugin_registry plugin_registry;

/*
 * A service as registered: a deep copy of the plugin's cairn_service (the
 * name, the SOP class and transfer syntax arrays and their strings are the
 * registry's), so the plugin's own struct may be temporary. struct_size is
 * sizeof(cairn_service) of the host; fields a plugin built against an older
 * SDK did not have are NULL. Lives as long as the registry.
 */
typedef struct plugin_service {
    cairn_service service;
    const cairn_plugin *owner;
} plugin_service;

/* An index back end as registered: a copy of the ops table (and of its name). */
typedef struct plugin_index {
    cairn_index_ops ops;
    void *backend_state; /* the pointer given to register_index */
    const cairn_plugin *owner;
} plugin_index;

/*
 * Loads every member of conf->plugins whose `enabled` is not false, in
 * configuration order, from its `file` or else from
 * <plugin_directory>/<name>.so, and runs its init. Each rejected plugin is
 * logged as one error line naming the plugin, the file and the reason.
 * Returns 0 with a new registry in *out, or -1 (with *out NULL) after
 * shutting down and unloading whatever had been loaded: cairnd must not
 * start with a plugin missing.
 */
int plugin_registry_load(const cairn_conf *conf, plugin_registry **out);

/* Calls each plugin's shutdown in reverse load order and unloads them. NULL is allowed. */
void plugin_registry_destroy(plugin_registry *registry);

/* Returns the number of loaded plugins. */
size_t plugin_registry_count(const plugin_registry *registry);
/* Returns loaded plugin i (0-based, in load order), or NULL past the end. */
const cairn_plugin *plugin_registry_at(const plugin_registry *registry, size_t i);

/* Returns the loaded plugin with this name, or NULL. */
const cairn_plugin *plugin_find(const plugin_registry *registry, const char *name);

/*
 * Returns the first service serving sop_class_uid among the services of
 * the plugins named in plugin_names (the plugins an AE hosts), searched in
 * that order; NULL when none does. Names of plugins not loaded are skipped.
 */
const plugin_service *plugin_find_service(const plugin_registry *registry,
                                          const char *const *plugin_names, size_t n_names,
                                          const char *sop_class_uid);

/* Returns the index back end the named plugin registered, or NULL. */
const plugin_index *plugin_find_index(const plugin_registry *registry, const char *plugin_name);

/* Returns the number of services plugin registered. */
size_t plugin_service_count(const cairn_plugin *plugin);
/* Returns service i of plugin (in registration order), or NULL past the end. */
const plugin_service *plugin_service_at(const cairn_plugin *plugin, size_t i);

/* The descriptor's name, version and description of a loaded plugin; never NULL. */
const char *plugin_name(const cairn_plugin *plugin);
const char *plugin_version(const cairn_plugin *plugin);
const char *plugin_description(const cairn_plugin *plugin);
/* Returns the path the plugin was loaded from. */
const char *plugin_file(const cairn_plugin *plugin);

/*
 * Returns the host API table handed to every plugin. It is static and
 * lives as long as the process.
 */
const cairn_host_api *plugin_host_api(void);

#endif
