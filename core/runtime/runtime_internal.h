/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks a reloaded configuration against the one the daemon started
 * with, for what a reload cannot change (runtime_check.c). Only
 * core/runtime includes this.
 */
#ifndef CAIRN_RUNTIME_INTERNAL_H
#define CAIRN_RUNTIME_INTERNAL_H

#include <stddef.h>

#include "config/conf.h"

/*
 * Fails with "FILE:LINE: KEY: message" in err when next differs from
 * started in the `plugins` or `api` group, plugin_directory, index.plugin
 * or storage.path, which only a restart applies. Returns 0 when they match.
 */
int runtime_check_restart_settings(const cairn_conf *started, const cairn_conf *next,
                                   char *err, size_t errlen);

/*
 * Fails when an enabled AE of next names a plugin that is not loaded, that
 * is, not enabled in started. Returns 0 when every plugin is loaded.
 */
int runtime_check_ae_plugins(const cairn_conf *started, const cairn_conf *next,
                             char *err, size_t errlen);

#endif
