/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plugin whose entry point is misspelt: it exports
 * cairn_plugin_entry_point, so the loader finds no cairn_plugin_entry.
 */
#include <cairn/cairn.h>

static cairn_status no_entry_init(cairn_plugin *self, const cairn_host_api *api,
                                  const cairn_config *config, void **state)
{
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER, "no-entry", "1.0.0", "Test plugin without the entry symbol",
    no_entry_init, NULL,
};

/* The prototype keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry_point(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry_point(void)
{
    return &descriptor;
}
