/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin whose cairn_plugin_entry returns NULL instead of a descriptor. */
#include <stddef.h>

#include <cairn/cairn.h>

/* plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return NULL;
}
