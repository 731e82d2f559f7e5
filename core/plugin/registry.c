/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service and index back end registration. register_service and
 * register_index (host API entries, allowed only while the plugin's init
 * runs) keep deep copies of the plugin's structs. The lookups below find
 * them again for the association code, the archive and the conformance
 * statement.
 */
#include "plugin/plugin_internal.h"

#include <stdlib.h>
#include <string.h>

#include "archive/archive_events.h"
#include "util/log.h"

/* A UID is at most 64 characters (PS3.5 9.1). */
#define UID_MAX_LENGTH 64

/* Size of the 1.0 cairn_service: every member up to negotiate_common_extended. */
#define SERVICE_SIZE_1_0 \
    (offsetof(cairn_service, negotiate_common_extended) + sizeof(cairn_common_extended_negotiation_fn))

/* Size of the 1.0 cairn_index_ops: every member up to reject_instances. */
#define INDEX_OPS_SIZE_1_0 (offsetof(cairn_index_ops, reject_instances) + sizeof(void *))

static bool is_uid(const char *uid)
{
    size_t length;

    if (uid == NULL)
        return false;

    length = strlen(uid);
    if (length == 0 || length > UID_MAX_LENGTH)
        return false;
    for (size_t i = 0; i < length; i++) {
        if ((uid[i] < '0' || uid[i] > '9') && uid[i] != '.')
            return false;
    }
    return true;
}

/* Copies count strings; NULL when out of memory. An empty list stays NULL. */
static char **copy_strings(const char *const *strings, size_t count)
{
    char **copy;

    if (count == 0)
        return NULL;

    copy = calloc(count, sizeof *copy);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        copy[i] = strdup(strings[i]);
        if (copy[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(copy[j]);
            free(copy);
            return NULL;
        }
    }
    return copy;
}

static void free_strings(const char *const *strings, size_t count)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free((char *)strings[i]);
    free((void *)strings);
}

static void free_service(plugin_service *copy)
{
    if (copy == NULL)
        return;
    free((char *)copy->service.name);
    free_strings(copy->service.sop_classes, copy->service.sop_class_count);
    free_strings(copy->service.transfer_syntaxes, copy->service.transfer_syntax_count);
    free(copy);
}

void plugin_release_registrations(cairn_plugin *plugin)
{
    for (size_t i = 0; i < plugin->n_services; i++)
        free_service(plugin->services[i]);
    free(plugin->services);
    plugin->services = NULL;
    plugin->n_services = 0;

    if (plugin->index != NULL)
        free((char *)plugin->index->ops.name);
    free(plugin->index);
    plugin->index = NULL;
    archive_events_unsubscribe(plugin);
}

static bool serves(const cairn_service *service, const char *sop_class_uid)
{
    for (size_t i = 0; i < service->sop_class_count; i++) {
        if (strcmp(service->sop_classes[i], sop_class_uid) == 0)
            return true;
    }
    return false;
}

/* Returns the service of plugin already serving sop_class_uid, or NULL. */
static const plugin_service *find_in_plugin(const cairn_plugin *plugin,
                                            const char *sop_class_uid)
{
    for (size_t i = 0; i < plugin->n_services; i++) {
        if (serves(&plugin->services[i]->service, sop_class_uid))
            return plugin->services[i];
    }
    return NULL;
}

/* Checks a service before it is copied; logs why when it is rejected. */
static cairn_status check_service(const cairn_plugin *self, const cairn_service *service)
{
    const char *name = service->name;

    if (service->struct_size < SERVICE_SIZE_1_0) {
        log_error(NULL, "%s: register_service: struct_size is %u, expected at least %zu "
                  "(SDK 1.0); rebuild the plugin", self->name, service->struct_size,
                  (size_t)SERVICE_SIZE_1_0);
        return CAIRN_ERR_ABI;
    }
    if (name == NULL || name[0] == '\0') {
        log_error(NULL, "%s: register_service: the service has no name", self->name);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    if (service->roles == 0 || (service->roles & ~(CAIRN_ROLE_SCP | CAIRN_ROLE_SCU)) != 0) {
        log_error(NULL, "%s: register_service: service %s has roles 0x%x, expected "
                  "CAIRN_ROLE_SCP, CAIRN_ROLE_SCU or both", self->name, name, service->roles);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    if (service->sop_classes == NULL || service->sop_class_count == 0) {
        log_error(NULL, "%s: register_service: service %s lists no SOP class", self->name, name);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    if (service->transfer_syntaxes == NULL && service->transfer_syntax_count > 0) {
        log_error(NULL, "%s: register_service: service %s has transfer_syntax_count %zu "
                  "but transfer_syntaxes is NULL", self->name, name,
                  service->transfer_syntax_count);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }

    for (size_t i = 0; i < service->sop_class_count; i++) {
        const char *uid = service->sop_classes[i];
        const plugin_service *other;

        if (!is_uid(uid)) {
            log_error(NULL, "%s: register_service: service %s: SOP class %zu is \"%s\", "
                      "expected a UID of digits and dots, 1 to 64 characters", self->name,
                      name, i, uid != NULL ? uid : "(null)");
            return CAIRN_ERR_INVALID_ARGUMENT;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(service->sop_classes[j], uid) == 0) {
                log_error(NULL, "%s: register_service: service %s lists SOP class %s twice",
                          self->name, name, uid);
                return CAIRN_ERR_EXISTS;
            }
        }
        other = find_in_plugin(self, uid);
        if (other != NULL) {
            log_error(NULL, "%s: register_service: service %s: SOP class %s is already "
                      "served by service %s of this plugin", self->name, name, uid,
                      other->service.name);
            return CAIRN_ERR_EXISTS;
        }
    }

    for (size_t i = 0; i < service->transfer_syntax_count; i++) {
        if (!is_uid(service->transfer_syntaxes[i])) {
            log_error(NULL, "%s: register_service: service %s: transfer syntax %zu is \"%s\", "
                      "expected a UID of digits and dots, 1 to 64 characters", self->name,
                      name, i,
                      service->transfer_syntaxes[i] != NULL ? service->transfer_syntaxes[i]
                                                            : "(null)");
            return CAIRN_ERR_INVALID_ARGUMENT;
        }
    }
    return CAIRN_OK;
}

/* Copies the service, duplicating its strings; NULL when out of memory. */
static plugin_service *copy_service(const cairn_plugin *self, const cairn_service *service)
{
    plugin_service *copy = calloc(1, sizeof *copy);
    size_t size = service->struct_size < sizeof(cairn_service) ? service->struct_size
                                                               : sizeof(cairn_service);

    if (copy == NULL)
        return NULL;

    memcpy(&copy->service, service, size);
    copy->service.struct_size = sizeof(cairn_service);
    copy->service.name = NULL;
    copy->service.sop_classes = NULL;
    copy->service.transfer_syntaxes = NULL;
    copy->service.sop_class_count = 0;
    copy->service.transfer_syntax_count = 0;
    copy->owner = self;

    copy->service.name = strdup(service->name);
    if (copy->service.name == NULL)
        goto fail;
    copy->service.sop_classes =
        (const char *const *)copy_strings(service->sop_classes, service->sop_class_count);
    if (copy->service.sop_classes == NULL)
        goto fail;
    copy->service.sop_class_count = service->sop_class_count;
    if (service->transfer_syntax_count > 0) {
        copy->service.transfer_syntaxes = (const char *const *)copy_strings(
            service->transfer_syntaxes, service->transfer_syntax_count);
        if (copy->service.transfer_syntaxes == NULL)
            goto fail;
        copy->service.transfer_syntax_count = service->transfer_syntax_count;
    }
    return copy;

fail:
    free_service(copy);
    return NULL;
}

cairn_status plugin_register_service(cairn_plugin *self, const cairn_service *service)
{
    plugin_service **services;
    plugin_service *copy;
    cairn_status result;

    if (self == NULL || service == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (!self->in_init) {
        log_error(NULL, "%s: register_service called outside init; services can only be "
                  "registered while init runs", self->name);
        return CAIRN_ERR_UNSUPPORTED;
    }
    result = check_service(self, service);
    if (result != CAIRN_OK)
        return result;

    services = realloc(self->services, (self->n_services + 1) * sizeof *services);
    if (services == NULL)
        return CAIRN_ERR_NO_MEMORY;
    self->services = services;

    copy = copy_service(self, service);
    if (copy == NULL)
        return CAIRN_ERR_NO_MEMORY;
    self->services[self->n_services++] = copy;

    log_debug(NULL, "%s: registered service %s with %zu SOP class(es)", self->name,
              copy->service.name, copy->service.sop_class_count);
    return CAIRN_OK;
}

cairn_status plugin_register_index(cairn_plugin *self, const cairn_index_ops *ops,
                                   void *backend_state)
{
    plugin_index *index;

    if (self == NULL || ops == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    if (!self->in_init) {
        log_error(NULL, "%s: register_index called outside init; an index back end can only "
                  "be registered while init runs", self->name);
        return CAIRN_ERR_UNSUPPORTED;
    }
    if (self->index != NULL) {
        log_error(NULL, "%s: register_index called twice; a plugin registers at most one "
                  "index back end", self->name);
        return CAIRN_ERR_EXISTS;
    }
    if (ops->struct_size < INDEX_OPS_SIZE_1_0) {
        log_error(NULL, "%s: register_index: struct_size is %u, expected at least %zu "
                  "(SDK 1.0); rebuild the plugin", self->name, ops->struct_size,
                  (size_t)INDEX_OPS_SIZE_1_0);
        return CAIRN_ERR_ABI;
    }
    if (ops->name == NULL || ops->open == NULL || ops->close == NULL ||
        ops->store_instance == NULL || ops->remove_instance == NULL || ops->list == NULL ||
        ops->count == NULL || ops->query == NULL || ops->job_put == NULL ||
        ops->job_delete == NULL || ops->job_list == NULL || ops->reject_instances == NULL) {
        log_error(NULL, "%s: register_index: name, open, close, store_instance, "
                  "remove_instance, list, count, query, job_put, job_delete, job_list and "
                  "reject_instances must all be set", self->name);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }

    index = calloc(1, sizeof *index);
    if (index == NULL)
        return CAIRN_ERR_NO_MEMORY;
    /*
     * A back end built against an older SDK minor has a shorter table: copy
     * what it has, so the ops appended since stay NULL and callers skip them.
     */
    memcpy(&index->ops, ops,
           ops->struct_size < sizeof index->ops ? ops->struct_size : sizeof index->ops);
    index->ops.struct_size = sizeof(cairn_index_ops);
    index->ops.name = strdup(ops->name);
    if (index->ops.name == NULL) {
        free(index);
        return CAIRN_ERR_NO_MEMORY;
    }
    index->backend_state = backend_state;
    index->owner = self;
    self->index = index;

    log_debug(NULL, "%s: registered index back end %s", self->name, index->ops.name);
    return CAIRN_OK;
}

size_t plugin_service_count(const cairn_plugin *plugin)
{
    return plugin != NULL ? plugin->n_services : 0;
}

const plugin_service *plugin_service_at(const cairn_plugin *plugin, size_t i)
{
    if (plugin == NULL || i >= plugin->n_services)
        return NULL;
    return plugin->services[i];
}

const plugin_service *plugin_find_service(const plugin_registry *registry,
                                          const char *const *plugin_names, size_t n_names,
                                          const char *sop_class_uid)
{
    if (registry == NULL || plugin_names == NULL || sop_class_uid == NULL)
        return NULL;

    for (size_t i = 0; i < n_names; i++) {
        const cairn_plugin *plugin = plugin_find(registry, plugin_names[i]);
        const plugin_service *service;

        if (plugin == NULL)
            continue;
        service = find_in_plugin(plugin, sop_class_uid);
        if (service != NULL)
            return service;
    }
    return NULL;
}

const plugin_index *plugin_find_index(const plugin_registry *registry, const char *plugin_name)
{
    const cairn_plugin *plugin = plugin_find(registry, plugin_name);

    return plugin != NULL ? plugin->index : NULL;
}

const char *plugin_name(const cairn_plugin *plugin)
{
    return plugin->name;
}

const char *plugin_version(const cairn_plugin *plugin)
{
    return plugin->descriptor->version != NULL ? plugin->descriptor->version : "";
}

const char *plugin_description(const cairn_plugin *plugin)
{
    return plugin->descriptor->description != NULL ? plugin->descriptor->description : "";
}

const char *plugin_file(const cairn_plugin *plugin)
{
    return plugin->file;
}
