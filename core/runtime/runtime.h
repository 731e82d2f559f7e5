/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running daemon's shared, changeable state: the configuration in
 * force (replaced as a whole on SIGHUP, while associations that started
 * under the old one keep it until they end) and the run-time enabled flag
 * of each AE, which the control API changes.
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef CAIRN_RUNTIME_H
#define CAIRN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "config/conf.h"

typedef struct runtime runtime;

/* Creates the state around conf, taking ownership of it. */
int runtime_create(cairn_conf *conf, runtime **out);

/* Destroys the state and every configuration it holds. NULL does nothing. */
void runtime_destroy(runtime *rt);

/*
 * Returns the configuration in force with one reference held; the caller
 * gives it back with runtime_conf_release. It stays valid until then,
 * even across a reload.
 */
const cairn_conf *runtime_conf_acquire(runtime *rt);
void runtime_conf_release(runtime *rt, const cairn_conf *conf);

/* Returns whether the AE with this title exists and is enabled now. */
bool runtime_ae_enabled(runtime *rt, const char *title);

/*
 * Enables or disables an AE at run time. Returns -1 when no AE has that
 * title. A disabled AE rejects new associations (called AE title not
 * recognised); associations already running on it go on.
 */
int runtime_ae_set_enabled(runtime *rt, const char *title, bool enabled);

/*
 * Loads the configuration file again and, when it is valid, puts it in
 * force for new associations: AEs, remotes and limits. Returns 0, or -1
 * with the error in err while the old configuration stays in force.
 *
 * Besides what conf_load() checks, a reload is rejected when it changes
 * settings that only a restart applies: the `plugins` and `api` groups,
 * plugin_directory, index.plugin or storage.path. The error then reads
 * "FILE:LINE: KEY: ... restart cairnd to apply it".
 */
int runtime_reload(runtime *rt, char *err, size_t errlen);

/*
 * Called after every successful reload and after every change of an AE's
 * enabled flag, on the thread that made the change and after the change is
 * visible. Calls never overlap, so the function can safely reconfigure
 * listeners from the state it reads.
 */
typedef void (*runtime_change_fn)(void *arg, runtime *rt);

/* Sets the change function (NULL for none). Call it before other threads use rt. */
void runtime_set_change_fn(runtime *rt, runtime_change_fn fn, void *arg);

#endif
