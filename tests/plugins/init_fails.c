/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin whose init fails, as one with an invalid setting would. */
#include <stddef.h>
#include <stdlib.h>

#include <cairn/cairn.h>

static cairn_status init_fails_init(cairn_plugin *self, const cairn_host_api *api,
                                    const cairn_config *config, void **state)
{
    api->log(self, CAIRN_LOG_ERROR, "failing on purpose, as this test plugin always does");
    return CAIRN_ERR_CONFIG;
}

static void init_fails_shutdown(void *state)
{
    /* Never called: the host skips shutdown when init failed. */
    abort();
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER, "init-fails", "1.0.0", "Test plugin whose init fails",
    init_fails_init, init_fails_shutdown,
};

/* plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
