/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A thread that runs runtime_reload() on request, so that a SIGHUP handler
 * can ask for a reload with one async-signal-safe call. Each outcome is
 * logged: "configuration reloaded from FILE" at info level, or "reload
 * rejected: FILE:LINE: KEY: message; the previous configuration stays in
 * force" at error level.
 */
#ifndef CAIRN_RUNTIME_RELOADER_H
#define CAIRN_RUNTIME_RELOADER_H

#include "runtime/runtime.h"

typedef struct runtime_reloader runtime_reloader;

/* Starts the thread, with every signal blocked. Returns 0 or -1 (logged). */
int runtime_reloader_start(runtime *rt, runtime_reloader **out);

/* Asks for one reload. Async-signal-safe; requests made during a reload
 * lead to one more reload. */
void runtime_reloader_request(runtime_reloader *r);

/* Waits for a reload in progress, stops the thread and frees r. NULL does nothing. */
void runtime_reloader_stop(runtime_reloader *r);

#endif
