/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plugin built against tests/sdk/older-sdk, the SDK headers of an older
 * layout whose host API table is shorter than the current one. It checks
 * that the host's table is at least as large as the one it was built
 * against, reads one setting, and serves C-ECHO under its own name, so a
 * test can tell its handler answered.
 */
#include <cairn/cairn.h>

#define VERIFICATION_SOP_CLASS "1.2.840.10008.1.1"

typedef struct older_state {
    const cairn_host_api *api;
    cairn_plugin *self;
    const char *greeting;
} older_state;

static older_state state_storage;

static cairn_status on_c_echo(void *state, cairn_assoc *assoc, const cairn_message *request,
                              cairn_reply *reply)
{
    older_state *st = state;

    (void)request;
    st->api->log_assoc(st->self, assoc, CAIRN_LOG_INFO, "C-ECHO answered: %s", st->greeting);
    st->api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}

static cairn_status older_init(cairn_plugin *self, const cairn_host_api *api,
                               const cairn_config *config, void **state)
{
    static const char *const keys[] = {"greeting"};
    static const char *const sop_classes[] = {VERIFICATION_SOP_CLASS};
    older_state *st = &state_storage;
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP,
        .name = "older-sdk-echo",
        .sop_classes = sop_classes,
        .sop_class_count = 1,
        .state = st,
        .on_c_echo = on_c_echo,
    };

    *state = NULL;
    st->api = api;
    st->self = self;

    /* The last entry of the table this plugin was built with. */
    if (!CAIRN_HOST_HAS(api, archive_store)) {
        api->log(self, CAIRN_LOG_ERROR, "host API table of %u bytes is smaller than %zu",
                 (unsigned)api->struct_size, sizeof(cairn_host_api));
        return CAIRN_ERR_ABI;
    }
    if (api->config_check_keys(config, keys, 1) != CAIRN_OK ||
        api->config_get_string(config, "greeting", "hello", &st->greeting) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;

    api->log(self, CAIRN_LOG_INFO, "built with a host API table of %zu bytes, host has %u",
             sizeof(cairn_host_api), (unsigned)api->struct_size);
    return api->register_service(self, &service);
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "older-sdk",
    "1.0.0",
    "Test plugin built against an older SDK layout",
    older_init,
    NULL,
};

/* The older plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
