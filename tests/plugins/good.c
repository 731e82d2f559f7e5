/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plugin that loads: it checks its configuration keys and registers one
 * service for one SOP class. Its settings let the loader tests see that the
 * configuration reaches the plugin (service_name, sop_class), that a second
 * service for the same SOP class is rejected (register_twice), and that
 * shutdown runs (shutdown_marker: a file created by shutdown).
 * Also built as good-copy.so to test two groups loading one plugin name.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairn/cairn.h>

/* State that init creates and shutdown frees. */
struct good_state {
    const cairn_host_api *api;
    char *shutdown_marker; /* allocated by config_get_path, or NULL */
};

static cairn_status good_echo(void *service_state, cairn_assoc *assoc,
                              const cairn_message *request, cairn_reply *reply)
{
    struct good_state *state = service_state;

    state->api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}

static cairn_status good_init(cairn_plugin *self, const cairn_host_api *api,
                              const cairn_config *config, void **state_out)
{
    static const char *const keys[] = {"service_name", "sop_class", "register_twice",
                                       "shutdown_marker"};
    struct good_state *state;
    const char *service_name;
    const char *sop_class;
    int register_twice;
    cairn_service service = {0};
    cairn_status status;

    status = api->config_check_keys(config, keys, sizeof keys / sizeof keys[0]);
    if (status != CAIRN_OK)
        return status;
    status = api->config_get_string(config, "service_name", "test-echo", &service_name);
    if (status != CAIRN_OK)
        return status;
    status = api->config_get_string(config, "sop_class", "1.2.840.10008.1.1", &sop_class);
    if (status != CAIRN_OK)
        return status;
    status = api->config_get_bool(config, "register_twice", 0, &register_twice);
    if (status != CAIRN_OK)
        return status;

    state = api->alloc(sizeof *state);
    if (state == NULL)
        return CAIRN_ERR_NO_MEMORY;
    state->api = api;
    status = api->config_get_path(config, "shutdown_marker", NULL, &state->shutdown_marker);
    if (status != CAIRN_OK) {
        api->free(state);
        return status;
    }
    *state_out = state;

    service.struct_size = sizeof service;
    service.roles = CAIRN_ROLE_SCP;
    service.name = service_name;
    service.sop_classes = &sop_class;
    service.sop_class_count = 1;
    service.state = state;
    service.on_c_echo = good_echo;
    status = api->register_service(self, &service);
    if (status != CAIRN_OK)
        goto fail;

    /* The host must reject a second service for a SOP class this plugin already serves. */
    if (register_twice) {
        service.name = "test-echo-again";
        if (api->register_service(self, &service) != CAIRN_ERR_EXISTS) {
            api->log(self, CAIRN_LOG_ERROR, "a second service for %s was not rejected",
                     sop_class);
            status = CAIRN_ERR_INTERNAL;
            goto fail;
        }
    }
    return CAIRN_OK;

fail:
    api->free(state->shutdown_marker);
    api->free(state);
    return status;
}

static void good_shutdown(void *opaque)
{
    struct good_state *state = opaque;

    if (state->shutdown_marker != NULL) {
        FILE *marker = fopen(state->shutdown_marker, "w");

        if (marker != NULL)
            fclose(marker);
    }
    state->api->free(state->shutdown_marker);
    state->api->free(state);
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "good",
    "1.0.0",
    "Test plugin that loads and registers one service",
    good_init,
    good_shutdown,
};

/* plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
