/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text helpers of the data router: the JSON documents it keeps in the
 * index (a growable buffer, string escaping, reading back one string
 * member), base64 for the data sets inside them, and new UIDs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "router.h"

static bool reserve(router_text *text, size_t more)
{
    size_t need = text->length + more + 1;
    char *grown;

    if (text->failed)
        return false;
    if (need <= text->capacity)
        return true;
    if (need < text->capacity * 2)
        need = text->capacity * 2;
    if (need < 256)
        need = 256;
    grown = realloc(text->data, need);
    if (grown == NULL) {
        text->failed = true;
        return false;
    }
    text->data = grown;
    text->capacity = need;
    return true;
}

void text_append(router_text *text, const char *s)
{
    size_t n = strlen(s);

    if (!reserve(text, n))
        return;
    memcpy(text->data + text->length, s, n + 1);
    text->length += n;
}

void text_appendf(router_text *text, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (n < 0 || !reserve(text, (size_t)n))
        return;
    va_start(args, fmt);
    vsnprintf(text->data + text->length, (size_t)n + 1, fmt, args);
    va_end(args);
    text->length += (size_t)n;
}

void text_append_json_string(router_text *text, const char *s)
{
    text_append(text, "\"");
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            char escaped[3] = {'\\', (char)c, '\0'};

            text_append(text, escaped);
        } else if (c < 0x20) {
            text_appendf(text, "\\u%04x", c);
        } else {
            char plain[2] = {(char)c, '\0'};

            text_append(text, plain);
        }
    }
    text_append(text, "\"");
}

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void text_append_base64(router_text *text, const uint8_t *bytes, size_t length)
{
    size_t out = (length + 2) / 3 * 4;
    char *p;

    if (!reserve(text, out))
        return;
    p = text->data + text->length;
    for (size_t i = 0; i < length; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16;

        if (i + 1 < length)
            v |= (uint32_t)bytes[i + 1] << 8;
        if (i + 2 < length)
            v |= bytes[i + 2];
        *p++ = alphabet[(v >> 18) & 63];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = i + 1 < length ? alphabet[(v >> 6) & 63] : '=';
        *p++ = i + 2 < length ? alphabet[v & 63] : '=';
    }
    *p = '\0';
    text->length += out;
}

static int base64_value(char c)
{
    const char *at = c != '\0' ? strchr(alphabet, c) : NULL;

    return at != NULL ? (int)(at - alphabet) : -1;
}

uint8_t *base64_decode(const char *text, size_t *length)
{
    size_t n = 0, max = strlen(text) / 4 * 3 + 3;
    uint8_t *out = malloc(max);
    uint32_t acc = 0;
    int bits = 0;

    if (out == NULL)
        return NULL;
    for (const char *p = text; *p != '\0'; p++) {
        int v = base64_value(*p);

        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < max)
                out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *length = n;
    return out;
}

char *json_get_string(const char *json, const char *name)
{
    char pattern[80];
    const char *p;
    char *value, *q;

    snprintf(pattern, sizeof pattern, "\"%s\":\"", name);
    p = json != NULL ? strstr(json, pattern) : NULL;
    if (p == NULL)
        return NULL;
    p += strlen(pattern);
    value = malloc(strlen(p) + 1);
    if (value == NULL)
        return NULL;
    for (q = value; *p != '\0' && *p != '"'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            if (*p == 'u' && strlen(p) >= 5) {
                /* Only control characters are escaped this way by text_append_json_string. */
                *q++ = (char)strtol((char[]){p[3], p[4], '\0'}, NULL, 16);
                p += 4;
                continue;
            }
        }
        *q++ = *p;
    }
    *q = '\0';
    return value;
}

void router_new_uid(char uid[65])
{
    unsigned __int128 value = 0;
    uint8_t random_bytes[16] = {0};
    char digits[48];
    size_t n = 0;

    if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes) {
        /* NOTE: without getrandom the UID falls back on the clock and the address of uid. */
        uint64_t fallback = (uint64_t)router_now_us() ^ (uint64_t)(uintptr_t)uid;

        memcpy(random_bytes, &fallback, sizeof fallback);
    }
    for (size_t i = 0; i < sizeof random_bytes; i++)
        value = (value << 8) | random_bytes[i];
    /* A version 4 UUID: version and variant bits as RFC 4122 sets them. */
    value &= ~((unsigned __int128)0xF << 76);
    value |= (unsigned __int128)0x4 << 76;
    value &= ~((unsigned __int128)0x3 << 62);
    value |= (unsigned __int128)0x2 << 62;

    do {
        digits[n++] = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value != 0);
    memcpy(uid, "2.25.", 5);
    for (size_t i = 0; i < n; i++)
        uid[5 + i] = digits[n - 1 - i];
    uid[5 + n] = '\0';
}
