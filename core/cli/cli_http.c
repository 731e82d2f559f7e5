/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP client of the control API commands, on libcurl: finds the API
 * (--api, or the `api` group of the configuration), adds the bearer token,
 * sends JSON, and turns every failure into one message on stderr: the
 * API's own {"error": ...} text with the HTTP status, or why the API could
 * not be reached.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"
#include "config/conf.h"

/* Largest response body accepted, in bytes. A query job keeps at most 100000 matches. */
#define MAX_RESPONSE (256u * 1024u * 1024u)

/* Seconds to wait for the TCP (and TLS) connection, and for a whole request. */
#define CONNECT_TIMEOUT 10L
#define REQUEST_TIMEOUT 120L

struct cli_api {
    CURL *curl;
    char *base_url;          /* without a trailing slash */
    char *authorization;     /* "Authorization: Bearer ..." or NULL */
    char *ca_file;           /* PEM trust anchors, or NULL for the system's */
    bool insecure;
};

/* A growing response body. */
typedef struct response_buffer {
    char *data;
    size_t len;
    bool too_large;
} response_buffer;

static size_t collect_body(char *chunk, size_t size, size_t count, void *user)
{
    response_buffer *buffer = user;
    size_t n = size * count;
    char *grown;

    if (buffer->len + n > MAX_RESPONSE) {
        buffer->too_large = true;
        return 0;
    }
    grown = realloc(buffer->data, buffer->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + buffer->len, chunk, n);
    buffer->data = grown;
    buffer->len += n;
    buffer->data[buffer->len] = '\0';
    return n;
}

/*
 * Returns the host to connect to for a bind address: a wildcard address
 * becomes the loopback address of its family, and an IPv6 literal gets
 * the brackets a URL needs.
 */
static void connect_host(const char *bind, char *out, size_t outlen)
{
    if (strcmp(bind, "0.0.0.0") == 0)
        snprintf(out, outlen, "127.0.0.1");
    else if (strcmp(bind, "::") == 0)
        snprintf(out, outlen, "[::1]");
    else if (strchr(bind, ':') != NULL)
        snprintf(out, outlen, "[%s]", bind);
    else
        snprintf(out, outlen, "%s", bind);
}

/* Fills the URL, token and trust anchor from the configuration's api group. */
static int read_config(cli_api *api, const char *config_path, const char **token)
{
    char err[1024];
    char host[128];
    char url[256];
    cairn_conf *conf = NULL;
    int rc = -1;

    if (conf_load(config_path, &conf, err, sizeof err) != 0) {
        cli_error("%s", err);
        cli_error("give the API's address with --api URL, or the configuration with --config");
        return -1;
    }
    if (!conf->api.enabled) {
        cli_error("the control API is off in %s (api.enabled = false): turn it on and restart "
                  "cairnd, or give --api URL", config_path);
        goto out;
    }

    connect_host(conf->api.bind != NULL ? conf->api.bind : "127.0.0.1", host, sizeof host);
    snprintf(url, sizeof url, "%s://%s:%d", conf->api.tls_certificate != NULL ? "https" : "http",
             host, conf->api.port);
    api->base_url = strdup(url);
    if (conf->api.tls_certificate != NULL && api->ca_file == NULL)
        api->ca_file = strdup(conf->api.tls_certificate);
    if (*token == NULL && conf->api.token != NULL) {
        size_t len = strlen("Authorization: Bearer ") + strlen(conf->api.token) + 1;

        api->authorization = malloc(len);
        if (api->authorization != NULL)
            snprintf(api->authorization, len, "Authorization: Bearer %s", conf->api.token);
    }
    if (api->base_url == NULL)
        goto out;
    rc = 0;

out:
    conf_destroy(conf);
    return rc;
}

/* Stores url without its trailing slashes, after checking its scheme. */
static int set_url(cli_api *api, const char *url)
{
    size_t len = strlen(url);

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        cli_error("invalid --api URL \"%s\": expected http://HOST:PORT or https://HOST:PORT",
                  url);
        return -1;
    }
    while (len > 0 && url[len - 1] == '/')
        len--;
    api->base_url = strndup(url, len);
    return api->base_url != NULL ? 0 : -1;
}

cli_api *cli_api_create(const cli_api_options *options, const char *config_path)
{
    const char *token = options->token;
    cli_api *api = calloc(1, sizeof *api);

    if (api == NULL)
        return NULL;
    if (token == NULL || token[0] == '\0')
        token = getenv("CAIRN_API_TOKEN");
    if (token != NULL && token[0] == '\0')
        token = NULL;
    api->insecure = options->insecure;
    if (options->ca_file != NULL && (api->ca_file = strdup(options->ca_file)) == NULL)
        goto fail;

    if (options->url != NULL) {
        if (set_url(api, options->url) != 0)
            goto fail;
    } else if (read_config(api, config_path, &token) != 0) {
        goto fail;
    }

    if (token != NULL) {
        size_t len = strlen("Authorization: Bearer ") + strlen(token) + 1;

        free(api->authorization);
        api->authorization = malloc(len);
        if (api->authorization == NULL)
            goto fail;
        snprintf(api->authorization, len, "Authorization: Bearer %s", token);
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (api->curl = curl_easy_init()) == NULL) {
        cli_error("cannot start libcurl");
        goto fail;
    }
    return api;

fail:
    cli_api_destroy(api);
    return NULL;
}

void cli_api_destroy(cli_api *api)
{
    if (api == NULL)
        return;
    if (api->curl != NULL) {
        curl_easy_cleanup(api->curl);
        curl_global_cleanup();
    }
    free(api->base_url);
    free(api->authorization);
    free(api->ca_file);
    free(api);
}

const char *cli_api_url(const cli_api *api)
{
    return api->base_url;
}

char *cli_api_escape(cli_api *api, const char *segment)
{
    char *escaped = curl_easy_escape(api->curl, segment, 0);
    char *copy = escaped != NULL ? strdup(escaped) : NULL;

    curl_free(escaped);
    return copy;
}

void cli_print_json(const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

    if (text == NULL) {
        cli_error("cannot encode the JSON output");
        return;
    }
    puts(text);
    free(text);
}

/* Prints why a request got no HTTP response. */
static void report_transport_error(const cli_api *api, CURLcode code, const char *detail)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        cli_error("cannot reach the control API at %s: is cairnd running?", api->base_url);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        cli_error("the certificate of the control API at %s failed verification: %s; give the "
                  "certificate to trust with --cacert FILE, or --insecure to skip the check",
                  api->base_url, detail[0] != '\0' ? detail : curl_easy_strerror(code));
        break;
    case CURLE_OPERATION_TIMEDOUT:
        cli_error("the control API at %s did not answer within %ld s", api->base_url,
                  REQUEST_TIMEOUT);
        break;
    default:
        cli_error("request to the control API at %s failed: %s", api->base_url,
                  detail[0] != '\0' ? detail : curl_easy_strerror(code));
        break;
    }
}

/* Prints the API's error for a non-2xx response. */
static void report_http_error(const char *method, const char *path, long status,
                              const json_t *body)
{
    const char *message = json_string_value(json_object_get(body, "error"));

    if (message == NULL) {
        cli_error("%s %s failed with HTTP %ld and no error message", method, path, status);
        return;
    }
    cli_error("%s (HTTP %ld)", message, status);
    if (status == 401)
        cli_error("give the API token with --token TOKEN or CAIRN_API_TOKEN");
}

int cli_api_call(cli_api *api, const char *method, const char *path, json_t *body,
                 json_t **reply, long *status)
{
    CURL *curl = api->curl;
    char url[2048];
    char detail[CURL_ERROR_SIZE] = "";
    char *body_text = NULL;
    struct curl_slist *headers = NULL;
    response_buffer response = {0};
    json_error_t error;
    json_t *parsed = NULL;
    long http_status = 0;
    CURLcode code;
    int rc = -1;

    *reply = NULL;
    if (status != NULL)
        *status = 0;
    snprintf(url, sizeof url, "%s%s", api->base_url, path);

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (api->ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, api->ca_file);
    if (api->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    headers = curl_slist_append(headers, "Accept: application/json");
    if (api->authorization != NULL)
        headers = curl_slist_append(headers, api->authorization);
    if (body != NULL) {
        body_text = json_dumps(body, JSON_COMPACT);
        if (body_text == NULL) {
            cli_error("cannot encode the request body");
            goto out;
        }
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body_text);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    code = curl_easy_perform(curl);
    if (code != CURLE_OK && !response.too_large) {
        report_transport_error(api, code, detail);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    if (status != NULL)
        *status = http_status;
    if (response.too_large) {
        cli_error("%s %s: the response is larger than %u bytes", method, path, MAX_RESPONSE);
        goto out;
    }

    parsed = json_loadb(response.data != NULL ? response.data : "", response.len, 0, &error);
    if (http_status < 200 || http_status > 299) {
        report_http_error(method, path, http_status, parsed);
        goto out;
    }
    if (parsed == NULL) {
        cli_error("%s %s: the response (HTTP %ld) is not valid JSON: %s", method, path,
                  http_status, error.text);
        goto out;
    }
    *reply = parsed;
    parsed = NULL;
    rc = 0;

out:
    json_decref(parsed);
    curl_slist_free_all(headers);
    free(body_text);
    free(response.data);
    return rc;
}
