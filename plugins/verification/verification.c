/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification SCP (PS3.4 annex A): answers C-ECHO with success so that a
 * peer can check that the AE is reachable and accepts its association.
 */
#include <cairn/cairn.h>

#define VERIFICATION_SOP_CLASS "1.2.840.10008.1.1"

static cairn_status on_c_echo(void *state, cairn_assoc *assoc, const cairn_message *request,
                              cairn_reply *reply)
{
    const cairn_host_api *api = state;

    (void)assoc;
    (void)request;
    api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}

static cairn_status verification_init(cairn_plugin *self, const cairn_host_api *api,
                                      const cairn_config *config, void **state)
{
    static const char *const sop_classes[] = {VERIFICATION_SOP_CLASS};
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP,
        .name = "verification",
        .sop_classes = sop_classes,
        .sop_class_count = 1,
        .state = (void *)api,
        .on_c_echo = on_c_echo,
    };

    *state = NULL;
    if (api->config_check_keys(config, NULL, 0) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    return api->register_service(self, &service);
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "verification",
    "1.0.0",
    "Verification SCP: answers C-ECHO",
    verification_init,
    NULL,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
