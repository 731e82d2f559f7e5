/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's own paths: /v1/status, /v1/metrics, /v1/aes with the
 * run-time enable and disable of one AE, and /v1/remotes. AEs and remotes
 * come from the configuration in force, which a reload may replace
 * between two requests.
 */
#include "api/api_internal.h"

#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/log.h"

/* Maximum length of an AE title, in characters. */
#define AE_TITLE_MAX 16

static json_t *text_or_null(const char *text)
{
    return text != NULL ? api_json_text(text, strlen(text)) : json_null();
}

void api_get_status(const api_request *req, api_response *res)
{
    const api_server *server = req->server;
    const cairn_conf *conf = runtime_conf_acquire(server->rt);
    const cairn_index_ops *ops = archive_index_ops(server->archive);
    struct timespec now;
    char started[32];
    struct tm tm;
    json_t *body;

    clock_gettime(CLOCK_MONOTONIC, &now);
    gmtime_r(&server->started_at, &tm);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);

    body = json_pack("{s:s, s:I, s:s, s:I, s:I, s:o, s:o, s:o}",
                     "version", CAIRN_VERSION,
                     "uptime_seconds", (json_int_t)(now.tv_sec - server->started.tv_sec),
                     "started_at", started,
                     "associations_open", (json_int_t)metrics_gauge_value(METRIC_ASSOC_OPEN),
                     "associations_waiting",
                     (json_int_t)metrics_gauge_value(METRIC_ASSOC_WAITING),
                     "storage_path", text_or_null(archive_storage_path(server->archive)),
                     "index_backend", text_or_null(ops != NULL ? ops->name : NULL),
                     "config_path", text_or_null(conf->path));
    runtime_conf_release(server->rt, conf);
    api_reply_json(res, MHD_HTTP_OK, body);
}

void api_get_metrics(const api_request *req, api_response *res)
{
    char *text = NULL;
    size_t len = 0;

    (void)req;
    if (metrics_format(&text, &len) != 0) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot format the metrics");
        return;
    }
    free(res->body);
    res->status = MHD_HTTP_OK;
    res->body = text;
    res->body_len = len;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static json_t *ae_plugins(const api_server *server, const conf_ae *ae)
{
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < ae->n_plugins; i++) {
        const cairn_plugin *plugin = plugin_find(server->plugins, ae->plugins[i]);
        json_t *item = json_pack("{s:o, s:o}", "name", text_or_null(ae->plugins[i]),
                                 "version", text_or_null(plugin != NULL ? plugin_version(plugin)
                                                                        : NULL));

        if (json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *ae_json(const api_server *server, const conf_ae *ae)
{
    return json_pack("{s:o, s:i, s:o, s:b, s:b, s:o}",
                     "title", text_or_null(ae->title),
                     "port", ae->port,
                     "bind", text_or_null(ae->bind),
                     "enabled", runtime_ae_enabled(server->rt, ae->title),
                     "configured_enabled", ae->enabled,
                     "plugins", ae_plugins(server, ae));
}

void api_get_aes(const api_request *req, api_response *res)
{
    const cairn_conf *conf = runtime_conf_acquire(req->server->rt);
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < conf->n_aes; i++) {
        if (json_array_append_new(list, ae_json(req->server, &conf->aes[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    runtime_conf_release(req->server->rt, conf);
    api_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "aes", list));
}

void api_set_ae_enabled(const api_request *req, api_response *res, const char *title,
                        bool enabled)
{
    runtime *rt = req->server->rt;
    const cairn_conf *conf;
    const conf_ae *ae;

    if (strlen(title) > AE_TITLE_MAX) {
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown AE title \"%.64s\": AE titles have "
                        "at most 16 characters", title);
        return;
    }
    if (runtime_ae_set_enabled(rt, title, enabled) != 0) {
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown AE title \"%s\": GET /v1/aes lists "
                        "the configured AEs", title);
        return;
    }
    log_info(NULL, "api: AE %s %s", title, enabled ? "enabled" : "disabled");

    conf = runtime_conf_acquire(rt);
    ae = conf_find_ae(conf, title);
    if (ae != NULL)
        api_reply_json(res, MHD_HTTP_OK, ae_json(req->server, ae));
    else
        api_reply_json(res, MHD_HTTP_OK, json_pack("{s:s, s:b}", "title", title, "enabled",
                                                   runtime_ae_enabled(rt, title)));
    runtime_conf_release(rt, conf);
}

void api_get_remotes(const api_request *req, api_response *res)
{
    const cairn_conf *conf = runtime_conf_acquire(req->server->rt);
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < conf->n_remotes; i++) {
        const conf_remote *remote = &conf->remotes[i];
        json_t *item = json_pack("{s:o, s:o, s:i, s:i}",
                                 "title", text_or_null(remote->title),
                                 "host", text_or_null(remote->host),
                                 "port", remote->port,
                                 "max_associations", remote->max_associations);

        if (json_array_append_new(list, item) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    runtime_conf_release(req->server->rt, conf);
    api_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "remotes", list));
}
