/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin loader: opens each enabled plugin with libltdl in local symbol
 * scope, checks its descriptor against the SDK this host was built with,
 * and runs its init with the host API table and its configuration section.
 * Every way a plugin can be rejected logs one error line of the form
 * "plugin NAME: FILE: what is wrong, expected X, got Y; what to do", and
 * any rejection unloads everything, because cairnd does not start with part
 * of its configuration missing.
 */
#include "plugin/plugin_internal.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"

#ifndef CAIRN_PLUGIN_DIR
#define CAIRN_PLUGIN_DIR "/usr/local/lib/cairn/plugins"
#endif

/* Shared object suffix lt_dlopenext appends; CMake MODULE libraries use it on Linux and macOS. */
#define PLUGIN_SUFFIX ".so"

/* Maximum length of a plugin name, in bytes. */
#define PLUGIN_NAME_MAX 64

/* Size of the 1.0 descriptor: every member up to shutdown. */
#define DESCRIPTOR_SIZE_1_0 \
    (offsetof(cairn_plugin_descriptor, shutdown) + sizeof(cairn_plugin_shutdown_fn))

/* The size, abi_major and abi_minor members every descriptor starts with. */
#define DESCRIPTOR_HEADER_SIZE (offsetof(cairn_plugin_descriptor, abi_minor) + sizeof(uint16_t))

struct plugin_registry {
    cairn_plugin **plugins; /* in load order */
    size_t n_plugins;
    bool ltdl_ready;        /* lt_dlinit succeeded; lt_dlexit is owed */
};

/* Logs why a plugin is rejected, as one line "plugin NAME: FILE: message". */
static void reject_plugin(const char *name, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject_plugin(const char *name, const char *file, const char *fmt, ...)
{
    char message[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    log_error(NULL, "plugin %s: %s: %s", name, file, message);
}

/* True for 1 to PLUGIN_NAME_MAX characters, each in [a-z0-9-]. */
static bool is_plugin_name(const char *name)
{
    size_t length = strnlen(name, PLUGIN_NAME_MAX + 1);

    if (length == 0 || length > PLUGIN_NAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Returns the file lt_dlopenext will find for path (path itself, or path
 * with the libtool archive or shared object suffix), allocated, or NULL
 * when there is none.
 */
static char *find_plugin_file(const char *path)
{
    static const char *const suffixes[] = {"", ".la", PLUGIN_SUFFIX};

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *candidate;

        if (asprintf(&candidate, "%s%s", path, suffixes[i]) < 0)
            return NULL;
        if (is_file(candidate))
            return candidate;
        free(candidate);
    }
    return NULL;
}

/*
 * Opens the plugin file at path in local symbol scope. libltdl reports
 * every failure as "file not found", so on failure the reason comes from
 * dlerror() after a second dlopen of the same file, which fails the same
 * way.
 */
static lt_dlhandle open_module(const char *path, char *reason, size_t reason_size)
{
    lt_dladvise advise;
    lt_dlhandle handle = NULL;

    reason[0] = '\0';
    if (lt_dladvise_init(&advise) != 0) {
        snprintf(reason, reason_size, "%s", lt_dlerror());
        return NULL;
    }
    if (lt_dladvise_ext(&advise) == 0 && lt_dladvise_local(&advise) == 0)
        handle = lt_dlopenadvise(path, advise);
    else
        snprintf(reason, reason_size, "%s", lt_dlerror());
    lt_dladvise_destroy(&advise);

    if (handle == NULL && reason[0] == '\0') {
        void *probe = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        const char *text = probe == NULL ? dlerror() : NULL;

        if (probe != NULL)
            dlclose(probe);
        snprintf(reason, reason_size, "%s", text != NULL ? text : lt_dlerror());
    }
    return handle;
}

/* Returns the loaded plugin whose name is name, or NULL. */
static const cairn_plugin *find_loaded(const plugin_registry *registry, const char *name)
{
    for (size_t i = 0; i < registry->n_plugins; i++) {
        if (strcmp(registry->plugins[i]->name, name) == 0)
            return registry->plugins[i];
    }
    return NULL;
}

/*
 * Checks the descriptor of plugin and logs the first mismatch. Fields are
 * checked in order, because a later field can be trusted only once the
 * earlier ones match (the ABI major decides the layout of the rest).
 */
static bool check_descriptor(const plugin_registry *registry, const cairn_plugin *plugin,
                             const cairn_plugin_descriptor *descriptor)
{
    const char *group = plugin->name;
    const char *file = plugin->file;
    const cairn_plugin *other;

    if (descriptor->struct_size < DESCRIPTOR_HEADER_SIZE) {
        reject_plugin(group, file, "descriptor struct_size is %u, expected at least %zu (SDK %d.0); "
               "rebuild the plugin against the Cairn SDK", descriptor->struct_size,
               (size_t)DESCRIPTOR_SIZE_1_0, CAIRN_SDK_ABI_MAJOR);
        return false;
    }
    if (descriptor->abi_major != CAIRN_SDK_ABI_MAJOR) {
        reject_plugin(group, file, "descriptor abi_major is %u, expected %d; rebuild the plugin "
               "against SDK %d.x", descriptor->abi_major, CAIRN_SDK_ABI_MAJOR,
               CAIRN_SDK_ABI_MAJOR);
        return false;
    }
    if (descriptor->abi_minor > CAIRN_SDK_ABI_MINOR) {
        reject_plugin(group, file, "descriptor abi_minor is %u, expected at most %d: the plugin needs "
               "a newer cairnd (SDK %d.%u)", descriptor->abi_minor, CAIRN_SDK_ABI_MINOR,
               CAIRN_SDK_ABI_MAJOR, descriptor->abi_minor);
        return false;
    }
    if (descriptor->struct_size < DESCRIPTOR_SIZE_1_0) {
        reject_plugin(group, file, "descriptor struct_size is %u, expected at least %zu (SDK %d.0); "
               "rebuild the plugin against the Cairn SDK", descriptor->struct_size,
               (size_t)DESCRIPTOR_SIZE_1_0, CAIRN_SDK_ABI_MAJOR);
        return false;
    }

    if (descriptor->name == NULL || !is_plugin_name(descriptor->name)) {
        reject_plugin(group, file, "descriptor name is \"%.*s\", expected 1 to %d characters in "
               "[a-z0-9-]", PLUGIN_NAME_MAX + 1,
               descriptor->name != NULL ? descriptor->name : "(null)", PLUGIN_NAME_MAX);
        return false;
    }
    other = find_loaded(registry, descriptor->name);
    if (other != NULL) {
        reject_plugin(group, file, "descriptor name is \"%s\", which plugin group %s (%s) already "
               "loaded; remove one of the two groups", descriptor->name, other->name,
               other->file);
        return false;
    }
    if (strcmp(descriptor->name, group) != 0) {
        reject_plugin(group, file, "descriptor name is \"%s\", expected \"%s\" (the configuration "
               "group name); rename the group plugins.%s to plugins.%s", descriptor->name,
               group, group, descriptor->name);
        return false;
    }

    if (descriptor->init == NULL) {
        reject_plugin(group, file, "descriptor init is NULL, expected a function");
        return false;
    }
    return true;
}

/* Runs shutdown when init had succeeded, then unloads plugin and frees it. NULL is allowed. */
static void unload_plugin(cairn_plugin *plugin, bool initialised)
{
    if (plugin == NULL)
        return;

    if (initialised && plugin->descriptor->shutdown != NULL)
        plugin->descriptor->shutdown(plugin->state);
    plugin_release_registrations(plugin);
    if (plugin->handle != NULL)
        lt_dlclose(plugin->handle);
    conf_section_destroy(plugin->own_section);
    free(plugin->name);
    free(plugin->file);
    free(plugin);
}

/*
 * Returns the plugin file of a group, allocated: its `file`, or else the
 * file lt_dlopenext would find for <plugin_directory>/<name>. Stores NULL
 * in *file and the path tried in *tried when there is no such file.
 */
static int find_group_file(const cairn_conf *conf, const conf_plugin *entry, char **tried,
                           char **file)
{
    const char *directory = conf->plugin_directory != NULL ? conf->plugin_directory
                                                           : CAIRN_PLUGIN_DIR;

    *file = NULL;
    if (entry->file != NULL)
        *tried = strdup(entry->file);
    else if (asprintf(tried, "%s/%s", directory, entry->name) < 0)
        *tried = NULL;
    if (*tried == NULL)
        return -1;

    *file = find_plugin_file(*tried);
    return 0;
}

/*
 * Finds, opens and checks the plugin file of one configuration group, up
 * to a descriptor fit to call. Logs why and returns -1 when it is not.
 */
static int open_plugin(const plugin_registry *registry, const cairn_conf *conf,
                       const conf_plugin *entry, cairn_plugin *plugin)
{
    const cairn_plugin_descriptor *descriptor;
    cairn_plugin_entry_fn entry_fn;
    char *tried = NULL;
    char reason[512];
    int result = -1;

    if (find_group_file(conf, entry, &tried, &plugin->file) != 0) {
        log_error(NULL, "plugin %s: out of memory while loading", plugin->name);
        goto out;
    }
    if (plugin->file == NULL) {
        if (entry->file != NULL)
            reject_plugin(plugin->name, tried, "file not found; build or install the plugin, "
                   "or correct plugins.%s.file", plugin->name);
        else
            reject_plugin(plugin->name, tried, "file not found, nor with suffix %s or .la; "
                   "build or install the plugin, or set plugin_directory or plugins.%s.file",
                   PLUGIN_SUFFIX, plugin->name);
        goto out;
    }

    plugin->handle = open_module(plugin->file, reason, sizeof reason);
    if (plugin->handle == NULL) {
        reject_plugin(plugin->name, plugin->file, "not a loadable shared object: %s", reason);
        goto out;
    }

    /* ISO C has no conversion from void * to a function pointer; POSIX guarantees it works. */
    *(void **)&entry_fn = lt_dlsym(plugin->handle, CAIRN_PLUGIN_ENTRY_SYMBOL);
    if (entry_fn == NULL) {
        reject_plugin(plugin->name, plugin->file, "no symbol %s, expected the plugin's entry point; "
               "define it with CAIRN_PLUGIN_EXPORT", CAIRN_PLUGIN_ENTRY_SYMBOL);
        goto out;
    }
    descriptor = entry_fn();
    if (descriptor == NULL) {
        reject_plugin(plugin->name, plugin->file, "%s returned NULL, expected a descriptor",
               CAIRN_PLUGIN_ENTRY_SYMBOL);
        goto out;
    }
    if (!check_descriptor(registry, plugin, descriptor))
        goto out;

    plugin->descriptor = descriptor;
    result = 0;

out:
    free(tried);
    return result;
}

/* Runs the init of an opened plugin with its configuration section. */
static int init_plugin(const cairn_conf *conf, const conf_plugin *entry, cairn_plugin *plugin)
{
    cairn_status status;

    plugin->config.section = entry->settings;
    if (plugin->config.section == NULL) {
        char section_path[PLUGIN_NAME_MAX + sizeof "plugins."];

        snprintf(section_path, sizeof section_path, "plugins.%s", plugin->name);
        plugin->own_section = conf_section_create(NULL, conf->path, section_path);
        if (plugin->own_section == NULL) {
            log_error(NULL, "plugin %s: out of memory while loading", plugin->name);
            return -1;
        }
        plugin->config.section = plugin->own_section;
    }
    plugin->config.conf = conf;
    plugin->config.owner = plugin;

    plugin->in_init = true;
    status = plugin->descriptor->init(plugin, plugin_host_api(), &plugin->config,
                                      &plugin->state);
    plugin->in_init = false;
    if (status != CAIRN_OK) {
        reject_plugin(plugin->name, plugin->file, "init failed: %s (status %d); see the plugin's "
               "messages above", cairn_strerror(status), (int)status);
        return -1;
    }
    return 0;
}

/* Loads, checks and initialises the plugin of one configuration group. */
static int load_plugin(plugin_registry *registry, const cairn_conf *conf,
                       const conf_plugin *entry)
{
    cairn_plugin *plugin;

    if (!is_plugin_name(entry->name)) {
        log_error(NULL, "plugin group plugins.%s: the name must be 1 to %d characters in "
                  "[a-z0-9-], as the plugin's own name is", entry->name, PLUGIN_NAME_MAX);
        return -1;
    }

    plugin = calloc(1, sizeof *plugin);
    if (plugin != NULL)
        plugin->name = strdup(entry->name);
    if (plugin == NULL || plugin->name == NULL) {
        log_error(NULL, "plugin %s: out of memory while loading", entry->name);
        unload_plugin(plugin, false);
        return -1;
    }

    if (open_plugin(registry, conf, entry, plugin) != 0 ||
        init_plugin(conf, entry, plugin) != 0) {
        unload_plugin(plugin, false);
        return -1;
    }

    registry->plugins[registry->n_plugins++] = plugin;
    log_info(NULL, "plugin %s %s loaded from %s: %zu service(s)%s", plugin->name,
             plugin_version(plugin), plugin->file, plugin->n_services,
             plugin->index != NULL ? " and an index back end" : "");
    return 0;
}

int plugin_registry_load(const cairn_conf *conf, plugin_registry **out)
{
    plugin_registry *registry;
    int result = -1;

    *out = NULL;
    if (conf == NULL)
        return -1;

    registry = calloc(1, sizeof *registry);
    if (registry == NULL)
        goto no_memory;
    registry->plugins = calloc(conf->n_plugins > 0 ? conf->n_plugins : 1,
                               sizeof *registry->plugins);
    if (registry->plugins == NULL)
        goto no_memory;

    if (lt_dlinit() != 0) {
        log_error(NULL, "cannot initialise libltdl: %s", lt_dlerror());
        goto out;
    }
    registry->ltdl_ready = true;

    for (size_t i = 0; i < conf->n_plugins; i++) {
        const conf_plugin *entry = &conf->plugins[i];

        if (!entry->enabled) {
            log_info(NULL, "plugin %s: enabled = false in the configuration, not loaded",
                     entry->name);
            continue;
        }
        if (load_plugin(registry, conf, entry) != 0)
            goto out;
    }

    *out = registry;
    registry = NULL;
    result = 0;
    goto out;

no_memory:
    log_error(NULL, "out of memory while loading plugins");
out:
    plugin_registry_destroy(registry);
    return result;
}

void plugin_registry_destroy(plugin_registry *registry)
{
    if (registry == NULL)
        return;

    for (size_t i = registry->n_plugins; i > 0; i--)
        unload_plugin(registry->plugins[i - 1], true);
    free(registry->plugins);
    if (registry->ltdl_ready)
        lt_dlexit();
    free(registry);
}

size_t plugin_registry_count(const plugin_registry *registry)
{
    return registry != NULL ? registry->n_plugins : 0;
}

const cairn_plugin *plugin_registry_at(const plugin_registry *registry, size_t i)
{
    if (registry == NULL || i >= registry->n_plugins)
        return NULL;
    return registry->plugins[i];
}

const cairn_plugin *plugin_find(const plugin_registry *registry, const char *name)
{
    if (registry == NULL || name == NULL)
        return NULL;
    return find_loaded(registry, name);
}
