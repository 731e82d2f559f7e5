/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libmicrohttpd side of the control API. The daemon runs one thread
 * per connection, at most API_MAX_CONNECTIONS, with TLS from PEM files.
 * Each request body is collected in memory up to API_MAX_BODY, and the
 * bearer token is checked before a complete request goes to api_route().
 */
#include "api/api_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

#define API_MAX_CONNECTIONS 32
#define API_CONNECTION_TIMEOUT_S 60
#define API_PEM_MAX (1024 * 1024)

/* The state of one request across the calls libmicrohttpd makes for it. */
typedef struct request_state {
    char *body;
    size_t len;
    bool too_large;
} request_state;

static void log_mhd(void *arg, const char *fmt, va_list ap)
{
    char message[512];
    size_t len;

    (void)arg;
    vsnprintf(message, sizeof message, fmt, ap);
    len = strlen(message);
    while (len > 0 && message[len - 1] == '\n')
        message[--len] = '\0';
    log_warn(NULL, "api: %s", message);
}

/* Compares in time that depends only on the lengths, so the token cannot be guessed byte by byte. */
static bool same_secret(const char *given, size_t given_len, const char *expected)
{
    size_t expected_len = strlen(expected);
    unsigned char diff = given_len != expected_len;

    for (size_t i = 0; i < expected_len; i++)
        diff |= (unsigned char)(given[i < given_len ? i : 0] ^ expected[i]);
    return diff == 0;
}

static bool authorized(const api_server *server, struct MHD_Connection *connection)
{
    const char *header;

    if (server->token == NULL)
        return true;
    header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_AUTHORIZATION);
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    header += 7;
    while (*header == ' ')
        header++;
    return same_secret(header, strlen(header), server->token);
}

static enum MHD_Result send_response(struct MHD_Connection *connection, api_response *res)
{
    struct MHD_Response *response;
    enum MHD_Result rc;

    response = MHD_create_response_from_buffer(res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL)
        return MHD_NO;
    res->body = NULL;

    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type != NULL ? res->content_type : "application/json");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (res->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"cairn\"");
    if (res->allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, res->allow);
    if (res->location != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION, res->location);

    rc = MHD_queue_response(connection, res->status, response);
    MHD_destroy_response(response);
    return rc;
}

/* Appends one piece of the body; marks the request when the body grows past API_MAX_BODY. */
static void collect_body(request_state *state, const char *data, size_t len)
{
    char *grown;

    if (state->too_large)
        return;
    if (len > API_MAX_BODY - state->len) {
        state->too_large = true;
        return;
    }
    grown = realloc(state->body, state->len + len + 1);
    if (grown == NULL) {
        state->too_large = true;
        return;
    }
    memcpy(grown + state->len, data, len);
    state->len += len;
    grown[state->len] = '\0';
    state->body = grown;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    api_server *server = cls;
    request_state *state = *con_cls;
    api_response res = {.status = MHD_HTTP_OK};
    api_request req;
    enum MHD_Result rc;

    (void)version;

    /* The first call only sets up the state; the body arrives in later calls. */
    if (state == NULL) {
        state = calloc(1, sizeof *state);
        if (state == NULL)
            return MHD_NO;
        *con_cls = state;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        collect_body(state, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    req = (api_request){
        .server = server,
        .connection = connection,
        .method = method,
        .path = url,
        .body = state->body != NULL ? state->body : "",
        .body_len = state->len,
    };
    if (!authorized(server, connection))
        api_reply_error(&res, MHD_HTTP_UNAUTHORIZED,
                        "missing or wrong bearer token: send the header "
                        "\"Authorization: Bearer TOKEN\" with the token of api.token");
    else if (state->too_large)
        api_reply_error(&res, MHD_HTTP_CONTENT_TOO_LARGE,
                        "request body is larger than %u bytes", API_MAX_BODY);
    else
        api_route(&req, &res);

    if (res.status >= 500)
        log_warn(NULL, "api: %s %.200s failed with %u: %.300s", method, url, res.status,
                 res.body != NULL ? res.body : "");
    else
        log_debug(NULL, "api: %s %.200s: %u", method, url, res.status);
    rc = send_response(connection, &res);
    free(res.body);
    free(res.location);
    return rc;
}

static void request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                              enum MHD_RequestTerminationCode code)
{
    request_state *state = *con_cls;

    (void)cls;
    (void)connection;
    (void)code;
    if (state == NULL)
        return;
    free(state->body);
    free(state);
    *con_cls = NULL;
}

/* Reads a whole PEM file into a NUL-terminated string. */
static char *read_pem(const char *path)
{
    FILE *file = fopen(path, "rb");
    char *text = NULL;
    size_t len;

    if (file == NULL) {
        log_error(NULL, "api: cannot open %s: %m", path);
        return NULL;
    }
    text = malloc(API_PEM_MAX + 1);
    if (text == NULL)
        goto out;
    len = fread(text, 1, API_PEM_MAX + 1, file);
    if (ferror(file) || len > API_PEM_MAX) {
        log_error(NULL, "api: cannot read %s: %s", path,
                  ferror(file) ? "read error" : "larger than 1 MiB");
        free(text);
        text = NULL;
        goto out;
    }
    text[len] = '\0';

out:
    fclose(file);
    return text;
}

typedef union listen_address {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} listen_address;

/* Fills addr from the bind setting; returns the MHD_USE_IPv6 flag when it is IPv6. */
static unsigned make_address(const char *bind, int port, listen_address *addr)
{
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET6, bind, &addr->v6.sin6_addr) == 1) {
        addr->v6.sin6_family = AF_INET6;
        addr->v6.sin6_port = htons((uint16_t)port);
        return MHD_USE_IPv6;
    }
    addr->v4.sin_family = AF_INET;
    addr->v4.sin_port = htons((uint16_t)port);
    if (strcmp(bind, "localhost") == 0 || inet_pton(AF_INET, bind, &addr->v4.sin_addr) != 1)
        addr->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

static int start_daemon(api_server *server, const conf_api *settings)
{
    listen_address addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;
    sigset_t all, old;

    flags |= make_address(settings->bind, settings->port, &addr);
    if (server->tls_certificate_pem != NULL)
        flags |= MHD_USE_TLS;

    /* The logger comes first so that libmicrohttpd sends every message to it.
     * The daemon's threads inherit a mask that leaves SIGTERM and SIGINT to the main thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (server->tls_certificate_pem != NULL)
        server->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handle, server, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, server,
            MHD_OPTION_SOCK_ADDR, &addr.sa,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT_S,
            MHD_OPTION_NOTIFY_COMPLETED, request_completed, server,
            MHD_OPTION_HTTPS_MEM_KEY, server->tls_key_pem,
            MHD_OPTION_HTTPS_MEM_CERT, server->tls_certificate_pem, MHD_OPTION_END);
    else
        server->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handle, server, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, server,
            MHD_OPTION_SOCK_ADDR, &addr.sa,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT_S,
            MHD_OPTION_NOTIFY_COMPLETED, request_completed, server, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (server->daemon == NULL) {
        log_error(NULL, "api: cannot listen on %s port %d (see the message above); set "
                  "api.port to a free port or api.enabled = false", settings->bind,
                  settings->port);
        return -1;
    }
    return 0;
}

static int load_tls(api_server *server, const conf_api *settings)
{
    if (settings->tls_certificate == NULL)
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        log_error(NULL, "api: api.tls_certificate is set but this libmicrohttpd has no TLS "
                  "support");
        return -1;
    }
    server->tls_certificate_pem = read_pem(settings->tls_certificate);
    server->tls_key_pem = read_pem(settings->tls_key);
    return server->tls_certificate_pem != NULL && server->tls_key_pem != NULL ? 0 : -1;
}

static void free_server(api_server *server)
{
    if (server == NULL)
        return;
    free(server->token);
    if (server->tls_key_pem != NULL)
        explicit_bzero(server->tls_key_pem, strlen(server->tls_key_pem));
    free(server->tls_key_pem);
    free(server->tls_certificate_pem);
    free(server);
}

int api_server_start(runtime *rt, archive *ar, const plugin_registry *plugins, jobs *js,
                     api_server **out)
{
    const cairn_conf *conf = runtime_conf_acquire(rt);
    const conf_api *settings = &conf->api;
    api_server *server = NULL;
    int result = -1;

    *out = NULL;
    if (!settings->enabled) {
        log_info(NULL, "api: disabled (api.enabled = false)");
        result = 0;
        goto out;
    }

    server = calloc(1, sizeof *server);
    if (server == NULL)
        goto out;
    server->rt = rt;
    server->archive = ar;
    server->plugins = plugins;
    server->jobs = js;
    server->started_at = time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &server->started);
    if (settings->token != NULL && (server->token = strdup(settings->token)) == NULL)
        goto out;
    if (load_tls(server, settings) != 0 || start_daemon(server, settings) != 0)
        goto out;

    log_info(NULL, "api: listening on %s%s%s port %d (%s%s)",
             strchr(settings->bind, ':') != NULL ? "[" : "", settings->bind,
             strchr(settings->bind, ':') != NULL ? "]" : "", settings->port,
             server->tls_certificate_pem != NULL ? "HTTPS" : "HTTP",
             server->token != NULL ? ", bearer token required" : "");
    *out = server;
    server = NULL;
    result = 0;

out:
    free_server(server);
    runtime_conf_release(rt, conf);
    return result;
}

void api_server_stop(api_server *server)
{
    if (server == NULL)
        return;
    MHD_stop_daemon(server->daemon);
    free_server(server);
}
