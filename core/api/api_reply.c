/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building API responses: JSON bodies, the {"error": ...} body of every
 * failure, and reading and checking query parameters.
 */
#include "api/api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_body(api_response *res, unsigned status, char *body)
{
    free(res->body);
    res->status = status;
    res->body = body;
    res->body_len = body != NULL ? strlen(body) : 0;
    res->content_type = "application/json";
}

int api_reply_json(api_response *res, unsigned status, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;

    json_decref(value);
    if (text == NULL) {
        set_body(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
                 strdup("{\"error\":\"out of memory while encoding the response\"}"));
        return 0;
    }
    set_body(res, status, text);
    return 0;
}

int api_reply_error(api_response *res, unsigned status, const char *fmt, ...)
{
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return api_reply_json(res, status,
                          json_pack("{s:o}", "error", api_json_text(message, strlen(message))));
}

int api_reply_raw_json(api_response *res, unsigned status, const char *text)
{
    char *copy = strdup(text);

    if (copy == NULL)
        return api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    set_body(res, status, copy);
    return 0;
}

const char *api_query_param(const api_request *req, const char *key)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct param_check {
    const char *const *allowed;
    size_t n_allowed;
    const char *unknown;
} param_check;

static enum MHD_Result check_one_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    param_check *check = cls;

    (void)kind;
    (void)value;
    for (size_t i = 0; i < check->n_allowed; i++) {
        if (strcmp(check->allowed[i], key) == 0)
            return MHD_YES;
    }
    check->unknown = key;
    return MHD_NO;
}

int api_check_params(const api_request *req, api_response *res, const char *const *allowed,
                     size_t n)
{
    param_check check = {.allowed = allowed, .n_allowed = n};

    MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, check_one_param, &check);
    if (check.unknown == NULL)
        return 0;
    api_reply_error(res, MHD_HTTP_BAD_REQUEST, "unknown query parameter \"%.64s\" for %s",
                    check.unknown, req->path);
    return -1;
}

/* Returns the length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    size_t need;
    uint32_t code;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
        code = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        code = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        code = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (left < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (s[i] & 0x3Fu);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF. */
    if ((need == 3 && code < 0x800) || (need == 4 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return need;
}

json_t *api_json_text(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    char *clean;
    size_t out = 0;
    json_t *value = json_stringn(text, len);

    if (value != NULL)
        return value;

    /* Not valid UTF-8: each bad byte becomes U+FFFD (3 bytes). */
    clean = malloc(len * 3 + 1);
    if (clean == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i);

        if (n == 0) {
            memcpy(clean + out, "\xEF\xBF\xBD", 3);
            out += 3;
            i++;
        } else {
            memcpy(clean + out, s + i, n);
            out += n;
            i += n;
        }
    }
    value = json_stringn(clean, out);
    free(clean);
    return value;
}
