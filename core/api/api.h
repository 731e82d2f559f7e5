/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP control API: JSON over HTTP (or HTTPS) under /v1 for the
 * daemon's status, its AEs and remotes, the archive's listing, the jobs,
 * and the Prometheus metrics. docs/api.md describes every path.
 * libmicrohttpd serves it on threads of its own, one per connection.
 */
#ifndef CAIRN_API_H
#define CAIRN_API_H

#include "archive/archive.h"
#include "jobs/jobs.h"
#include "plugin/plugin.h"
#include "runtime/runtime.h"

typedef struct api_server api_server;

/*
 * Starts the API with the `api` settings of the configuration in force.
 * js may be NULL, and the jobs paths then answer 503. Returns 0 with *out
 * set, or with *out NULL when api.enabled is false, and -1 after logging
 * why the API could not start (port in use, unreadable TLS files).
 */
int api_server_start(runtime *rt, archive *ar, const plugin_registry *plugins, jobs *js,
                     api_server **out);

/* Stops the API, waiting for requests in progress. NULL does nothing. */
void api_server_stop(api_server *server);

#endif
