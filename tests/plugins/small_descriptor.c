/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin whose descriptor claims to end before init, smaller than the 1.0 descriptor. */
#include <stddef.h>

#include <cairn/cairn.h>

static cairn_status test_init(cairn_plugin *self, const cairn_host_api *api,
                              const cairn_config *config, void **state)
{
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    offsetof(cairn_plugin_descriptor, init), CAIRN_SDK_ABI_MAJOR, CAIRN_SDK_ABI_MINOR,
    "small-descriptor", "1.0.0", "Test plugin the loader must reject",
    test_init, NULL,
};

/* plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
