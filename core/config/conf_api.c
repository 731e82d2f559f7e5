/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `api` group: where the HTTP control API listens, the bearer token it
 * requires and its TLS certificate and key. The API is on by default on
 * 127.0.0.1 port 8104 without a token. Listening on an address other than
 * loopback without a token is an error, since anyone who reaches the port
 * could then disable AEs and read the archive's listing.
 */
#include "config/conf_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API_DEFAULT_BIND "127.0.0.1"
#define API_DEFAULT_PORT 8104
#define API_TOKEN_MIN 16
#define API_TOKEN_MAX 256

static const char *const api_keys[] = {
    "enabled", "bind", "port", "token", "tls_certificate", "tls_key",
};

/* Returns the member key of group, or NULL when the file has no `api` group. */
static const config_setting_t *api_member(const config_setting_t *group, const char *key)
{
    return group != NULL ? config_setting_get_member(group, key) : NULL;
}

/* Returns whether bind is "localhost", an address in 127.0.0.0/8 or ::1. */
static bool is_loopback(const char *bind)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (strcmp(bind, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, bind, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, bind, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

/* Returns NULL when token is usable in an Authorization header, else the problem. */
static const char *token_problem(const char *token)
{
    size_t len = strlen(token);

    if (len < API_TOKEN_MIN)
        return "it is shorter than 16 characters";
    if (len > API_TOKEN_MAX)
        return "it is longer than 256 characters";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];

        if (c <= 0x20 || c >= 0x7F)
            return "it contains a space, a control character or a non-ASCII character";
    }
    return NULL;
}

/* Reads tls_certificate or tls_key as a readable file, resolved against the file's folder. */
static int read_tls_file(const conf_report *report, cairn_conf *conf,
                         const config_setting_t *group, const char *key, char **out)
{
    const config_setting_t *setting = api_member(group, key);
    char path[CONF_PATH_MAX];
    const char *value;

    conf_join_path(path, sizeof path, "api", key);
    if (conf_read_string(report, group, "api", key, NULL, &value) != 0)
        return -1;
    if (value == NULL)
        return 0;
    if (value[0] == '\0')
        return conf_error(report, setting, path, "the path is empty");

    *out = conf_resolve_path(conf, value);
    if (*out == NULL)
        return conf_error(report, setting, path, "out of memory");
    if (access(*out, R_OK) != 0)
        return conf_error(report, setting, path, "cannot read %s: %s", *out, strerror(errno));
    return 0;
}

static int check_security(const conf_report *report, const cairn_conf *conf,
                          const config_setting_t *group)
{
    const conf_api *api = &conf->api;

    if ((api->tls_certificate == NULL) != (api->tls_key == NULL)) {
        const char *set = api->tls_certificate != NULL ? "tls_certificate" : "tls_key";
        const char *missing = api->tls_certificate != NULL ? "api.tls_key" : "api.tls_certificate";

        return conf_error(report, api_member(group, set), missing,
                          "missing: TLS needs both api.tls_certificate and api.tls_key");
    }
    if (api->enabled && api->token == NULL && !is_loopback(api->bind))
        return conf_error(report, api_member(group, "bind"), "api.bind",
                          "listening on \"%s\", which is not a loopback address, requires "
                          "api.token: set a token or bind to 127.0.0.1", api->bind);
    return 0;
}

int conf_load_api(const conf_report *report, cairn_conf *conf, const config_setting_t *root)
{
    const config_setting_t *group;
    conf_api *api = &conf->api;
    const char *bind;
    const char *token;
    const char *problem;
    long long port;

    if (conf_read_group(report, root, "", "api", &group) != 0 ||
        conf_check_keys(report, group, "api", api_keys, sizeof api_keys / sizeof api_keys[0],
                        NULL, 0) != 0 ||
        conf_read_bool(report, group, "api", "enabled", true, &api->enabled) != 0 ||
        conf_read_string(report, group, "api", "bind", API_DEFAULT_BIND, &bind) != 0 ||
        conf_read_int(report, group, "api", "port", API_DEFAULT_PORT, 1, 65535, &port) != 0 ||
        conf_read_string(report, group, "api", "token", NULL, &token) != 0)
        return -1;

    problem = conf_bind_problem(bind);
    if (problem != NULL)
        return conf_error(report, api_member(group, "bind"), "api.bind",
                          "invalid address \"%s\": %s", bind, problem);
    problem = token != NULL ? token_problem(token) : NULL;
    if (problem != NULL)
        return conf_error(report, api_member(group, "token"), "api.token",
                          "invalid token: %s", problem);

    api->port = (int)port;
    api->bind = strdup(bind);
    api->token = token != NULL ? strdup(token) : NULL;
    if (api->bind == NULL || (token != NULL && api->token == NULL))
        return conf_error(report, group, "api", "out of memory");
    api->line = group != NULL ? config_setting_source_line(group) : 0;

    if (read_tls_file(report, conf, group, "tls_certificate", &api->tls_certificate) != 0 ||
        read_tls_file(report, conf, group, "tls_key", &api->tls_key) != 0)
        return -1;
    return check_security(report, conf, group);
}

void conf_free_api(conf_api *api)
{
    free(api->bind);
    free(api->token);
    free(api->tls_certificate);
    free(api->tls_key);
}
