/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/remotes/{title}/echo: a C-ECHO from the daemon to one of its
 * configured remotes. The response is sent once the C-ECHO-RSP arrives or
 * the attempt fails, and the request's thread waits until then. The wait
 * is at most SCU_SLOT_WAIT_SECONDS for a slot of the remote's
 * max_associations, plus network.connect_timeout, twice
 * network.artim_timeout (association, then release or abort) and
 * network.dimse_timeout.
 * The body, optional, is {"calling_ae": "AE"}.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <string.h>

#include "scu/scu_echo.h"
#include "ul/ul.h"
#include "util/log.h"

/* Reads the optional calling_ae of the body into calling_ae ("" when absent). Returns -1 after a 400. */
static int read_body(const api_request *req, api_response *res, char *calling_ae, size_t size)
{
    json_error_t error;
    json_t *body;
    const char *key;
    json_t *value;
    int result = -1;

    calling_ae[0] = '\0';
    if (req->body_len == 0)
        return 0;
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (body == NULL) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "request body is not valid JSON: line %d "
                        "column %d: %s", error.line, error.column, error.text);
        return -1;
    }
    if (!json_is_object(body)) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "request body must be a JSON object");
        goto out;
    }
    json_object_foreach(body, key, value) {
        if (strcmp(key, "calling_ae") != 0) {
            api_reply_error(res, MHD_HTTP_BAD_REQUEST, "unknown member \"%.64s\": an echo "
                            "request takes only calling_ae", key);
            goto out;
        }
        if (!json_is_string(value) || json_string_length(value) == 0 ||
            json_string_length(value) >= size ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            api_reply_error(res, MHD_HTTP_BAD_REQUEST, "invalid calling_ae: expected an AE "
                            "title of 1 to %zu characters", size - 1);
            goto out;
        }
        snprintf(calling_ae, size, "%s", json_string_value(value));
    }
    result = 0;

out:
    json_decref(body);
    return result;
}

/* Picks the calling AE title: the request's, which must be one of our AEs, else the first enabled AE. */
static int choose_calling_ae(const api_request *req, api_response *res, const cairn_conf *conf,
                             char *calling_ae, size_t size)
{
    if (calling_ae[0] != '\0') {
        if (conf_find_ae(conf, calling_ae) != NULL)
            return 0;
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "calling_ae: \"%s\" is not an AE of this "
                        "archive: GET /v1/aes lists them", calling_ae);
        return -1;
    }
    for (size_t i = 0; i < conf->n_aes; i++) {
        if (runtime_ae_enabled(req->server->rt, conf->aes[i].title)) {
            snprintf(calling_ae, size, "%s", conf->aes[i].title);
            return 0;
        }
    }
    api_reply_error(res, MHD_HTTP_CONFLICT, "no AE of this archive is enabled to act as "
                    "calling AE title: enable one or name calling_ae in the request");
    return -1;
}

/* Turns the outcome of the echo into the response. */
static void reply_outcome(api_response *res, const conf_remote *remote, const char *calling_ae,
                          const scu_echo_outcome *outcome)
{
    switch (outcome->result) {
    case SCU_ECHO_ANSWERED:
        if (outcome->status != 0x0000) {
            api_reply_error(res, MHD_HTTP_BAD_GATEWAY, "%s answered the C-ECHO with status "
                            "0x%04X%s%s", remote->title, outcome->status,
                            outcome->comment[0] != '\0' ? ": " : "", outcome->comment);
            return;
        }
        api_reply_json(res, MHD_HTTP_OK,
                       json_pack("{s:s, s:s, s:i, s:s, s:i, s:I}",
                                 "remote", remote->title,
                                 "host", remote->host,
                                 "port", remote->port,
                                 "calling_ae", calling_ae,
                                 "status", (int)outcome->status,
                                 "milliseconds", (json_int_t)outcome->milliseconds));
        return;
    case SCU_ECHO_BUSY:
        api_reply_error(res, MHD_HTTP_SERVICE_UNAVAILABLE, "C-ECHO to %s not sent: %s; retry "
                        "later", remote->title, outcome->reason);
        return;
    case SCU_ECHO_TIMEOUT:
        api_reply_error(res, MHD_HTTP_GATEWAY_TIMEOUT, "C-ECHO to %s at %s port %d: %s",
                        remote->title, remote->host, remote->port, outcome->reason);
        return;
    case SCU_ECHO_REJECTED:
    case SCU_ECHO_UNREACHABLE:
        api_reply_error(res, MHD_HTTP_BAD_GATEWAY, "C-ECHO to %s at %s port %d failed: %s",
                        remote->title, remote->host, remote->port, outcome->reason);
        return;
    case SCU_ECHO_LOCAL_ERROR:
        break;
    }
    api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "C-ECHO to %s failed: %s",
                    remote->title, outcome->reason);
}

void api_echo_remote(const api_request *req, api_response *res, const char *title)
{
    runtime *rt = req->server->rt;
    const cairn_conf *conf;
    const conf_remote *remote;
    char calling_ae[UL_AE_TITLE_MAX + 1];
    scu_echo_outcome outcome;
    log_ctx log = {0};

    if (api_check_params(req, res, NULL, 0) != 0 ||
        read_body(req, res, calling_ae, sizeof calling_ae) != 0)
        return;

    /* The configuration stays valid until released, even if a reload replaces it meanwhile. */
    conf = runtime_conf_acquire(rt);
    remote = strlen(title) <= UL_AE_TITLE_MAX ? conf_find_remote(conf, title) : NULL;
    if (remote == NULL) {
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown remote \"%.64s\": GET /v1/remotes "
                        "lists the configured remotes", title);
        goto out;
    }
    if (choose_calling_ae(req, res, conf, calling_ae, sizeof calling_ae) != 0)
        goto out;

    snprintf(log.calling_ae, sizeof log.calling_ae, "%s", calling_ae);
    snprintf(log.called_ae, sizeof log.called_ae, "%s", remote->title);
    scu_echo(conf, remote, calling_ae, &log, &outcome);
    reply_outcome(res, remote, calling_ae, &outcome);

out:
    runtime_conf_release(rt, conf);
}
