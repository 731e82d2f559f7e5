/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The path table of the control API: splits /v1/... into segments, picks
 * the handler by path and method, and returns 404 for an unknown path and
 * 405 (with Allow) for a known path with another method. HEAD is served
 * wherever GET is; libmicrohttpd leaves out its body.
 */
#include "api/api_internal.h"

#include <string.h>

#define MAX_SEGMENTS 4
#define MAX_PATH 512

typedef enum route_methods {
    ALLOW_GET = 1,
    ALLOW_POST = 2,
    ALLOW_BOTH = 3,
} route_methods;

static bool is_method(const api_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

static bool is_get(const api_request *req)
{
    return is_method(req, MHD_HTTP_METHOD_GET) || is_method(req, MHD_HTTP_METHOD_HEAD);
}

/* Returns false after a 405 when the method is not one of allowed. */
static bool method_allowed(const api_request *req, api_response *res, route_methods allowed)
{
    static const char *const allow_text[] = {"", "GET, HEAD", "POST", "GET, HEAD, POST"};

    if (((allowed & ALLOW_GET) && is_get(req)) ||
        ((allowed & ALLOW_POST) && is_method(req, MHD_HTTP_METHOD_POST)))
        return true;
    res->allow = allow_text[allowed];
    api_reply_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method %.16s is not allowed on %s: use %s",
                    req->method, req->path, allow_text[allowed]);
    return false;
}

/* Splits the part after "/v1/" at each '/'; returns the count, or -1 for an empty segment. */
static int split_path(char *rest, char **segments)
{
    int n = 0;
    char *save = NULL;

    if (rest[0] == '\0' || rest[strlen(rest) - 1] == '/' || strstr(rest, "//") != NULL)
        return -1;
    for (char *s = strtok_r(rest, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS)
            return -1;
        segments[n++] = s;
    }
    return n;
}

static bool route_top(const api_request *req, api_response *res, const char *name)
{
    static const struct {
        const char *name;
        cairn_index_level level;
    } levels[] = {
        {"patients", CAIRN_LEVEL_PATIENT},
        {"studies", CAIRN_LEVEL_STUDY},
        {"series", CAIRN_LEVEL_SERIES},
        {"instances", CAIRN_LEVEL_INSTANCE},
    };
    static const struct {
        const char *name;
        void (*handler)(const api_request *, api_response *);
    } gets[] = {
        {"status", api_get_status},
        {"metrics", api_get_metrics},
        {"aes", api_get_aes},
        {"remotes", api_get_remotes},
        {"mpps", api_list_mpps},
        {"outbox", api_list_outbox},
    };

    for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        if (strcmp(name, gets[i].name) == 0) {
            if (method_allowed(req, res, ALLOW_GET))
                gets[i].handler(req, res);
            return true;
        }
    }
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(name, levels[i].name) == 0) {
            if (method_allowed(req, res, ALLOW_GET))
                api_list_level(req, res, levels[i].level);
            return true;
        }
    }
    if (strcmp(name, "jobs") == 0) {
        if (!method_allowed(req, res, ALLOW_BOTH))
            return true;
        if (is_get(req))
            api_list_jobs(req, res);
        else
            api_submit_job(req, res);
        return true;
    }
    return false;
}

static bool route_ae(const api_request *req, api_response *res, char **segments, int n)
{
    bool enable;

    if (n != 3 || strcmp(segments[0], "aes") != 0)
        return false;
    if (strcmp(segments[2], "enable") == 0)
        enable = true;
    else if (strcmp(segments[2], "disable") == 0)
        enable = false;
    else
        return false;

    if (method_allowed(req, res, ALLOW_POST))
        api_set_ae_enabled(req, res, segments[1], enable);
    return true;
}

static bool route_remote(const api_request *req, api_response *res, char **segments, int n)
{
    if (n != 3 || strcmp(segments[0], "remotes") != 0 || strcmp(segments[2], "echo") != 0)
        return false;

    if (method_allowed(req, res, ALLOW_POST))
        api_echo_remote(req, res, segments[1]);
    return true;
}

static bool route_job(const api_request *req, api_response *res, char **segments, int n)
{
    if ((n != 2 && n != 3) || strcmp(segments[0], "jobs") != 0)
        return false;

    if (n == 2) {
        if (method_allowed(req, res, ALLOW_GET))
            api_get_job(req, res, segments[1]);
        return true;
    }
    if (strcmp(segments[2], "cancel") == 0) {
        if (method_allowed(req, res, ALLOW_POST))
            api_cancel_job(req, res, segments[1]);
        return true;
    }
    if (strcmp(segments[2], "retry") == 0) {
        if (method_allowed(req, res, ALLOW_POST))
            api_retry_job(req, res, segments[1]);
        return true;
    }
    return false;
}

static bool route_study(const api_request *req, api_response *res, char **segments, int n)
{
    if (n != 3 || strcmp(segments[0], "studies") != 0 || strcmp(segments[2], "commitment") != 0)
        return false;

    if (method_allowed(req, res, ALLOW_GET))
        api_get_study_commitment(req, res, segments[1]);
    return true;
}

static bool route_mpps(const api_request *req, api_response *res, char **segments, int n)
{
    if (n != 2 || strcmp(segments[0], "mpps") != 0)
        return false;

    if (method_allowed(req, res, ALLOW_GET))
        api_get_mpps(req, res, segments[1]);
    return true;
}

void api_route(const api_request *req, api_response *res)
{
    char path[MAX_PATH];
    char *segments[MAX_SEGMENTS];
    int n;

    if (strncmp(req->path, "/v1/", 4) != 0 || strlen(req->path) >= sizeof path)
        goto unknown;
    memcpy(path, req->path, strlen(req->path) + 1);
    n = split_path(path + 4, segments);
    if (n <= 0)
        goto unknown;

    if (n == 1 && route_top(req, res, segments[0]))
        return;
    if (route_ae(req, res, segments, n) || route_remote(req, res, segments, n) ||
        route_job(req, res, segments, n) || route_mpps(req, res, segments, n) || route_study(req, res, segments, n))
        return;

unknown:
    api_reply_error(res, MHD_HTTP_NOT_FOUND, "unknown path %.200s: see docs/api.md for the "
                    "paths under /v1", req->path);
}
