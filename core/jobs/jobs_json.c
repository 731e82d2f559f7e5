/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A recursive descent JSON parser with a depth limit, and the text buffer
 * that writes JSON. Numbers are kept as double, which is exact for the
 * integers the jobs use (counts and byte sizes below 2^53).
 */
#include "jobs/jobs_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *start;
    const char *p;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *ps, const char *what)
{
    if (ps->errlen > 0)
        snprintf(ps->err, ps->errlen, "invalid JSON at byte %zu: %s", (size_t)(ps->p - ps->start),
                 what);
    return -1;
}

static void skip_space(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

/* Returns the length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F))
            return 0;
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads one \u escape (the backslash and u already consumed), pairing surrogates. */
static int parse_unicode_escape(parser *ps, unsigned *cp)
{
    unsigned low;

    if (hex4(ps->p, cp) != 0)
        return fail(ps, "\\u needs four hexadecimal digits");
    ps->p += 4;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return fail(ps, "lone low surrogate");
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        if (ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &low) != 0 ||
            low < 0xDC00 || low > 0xDFFF)
            return fail(ps, "high surrogate without its low surrogate");
        ps->p += 6;
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (*cp == 0)
        return fail(ps, "\\u0000 is not allowed");
    return 0;
}

/* Parses a string at ps->p (on the opening quote) into a malloc'd text. */
static int parse_string(parser *ps, char **out)
{
    const char *scan = ps->p + 1;
    char *text, *w;

    /* The decoded text is never longer than the raw one. */
    while (*scan != '"' && *scan != '\0')
        scan += (*scan == '\\' && scan[1] != '\0') ? 2 : 1;
    if (*scan == '\0')
        return fail(ps, "unterminated string");
    text = malloc((size_t)(scan - ps->p));
    if (text == NULL)
        return fail(ps, "out of memory");

    w = text;
    ps->p++;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        size_t n;

        if (c < 0x20) {
            free(text);
            return fail(ps, "control character in a string");
        }
        if (c != '\\') {
            n = utf8_length((const unsigned char *)ps->p);
            if (n == 0) {
                free(text);
                return fail(ps, "invalid UTF-8");
            }
            memcpy(w, ps->p, n);
            w += n;
            ps->p += n;
            continue;
        }
        ps->p++;
        switch (*ps->p++) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned cp;

            if (parse_unicode_escape(ps, &cp) != 0) {
                free(text);
                return -1;
            }
            w += put_utf8(w, cp);
            break;
        }
        default:
            ps->p--;
            free(text);
            return fail(ps, "unknown escape");
        }
    }
    ps->p++;
    *w = '\0';
    *out = text;
    return 0;
}

static int parse_number(parser *ps, double *out)
{
    const char *s = ps->p;
    char *end;

    /* RFC 8259 grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return fail(ps, "invalid number");
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return fail(ps, "invalid number");
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return fail(ps, "invalid number");
        while (*s >= '0' && *s <= '9')
            s++;
    }
    *out = strtod(ps->p, &end);
    if (end != s || !isfinite(*out))
        return fail(ps, "number out of range");
    ps->p = s;
    return 0;
}

static int parse_value(parser *ps, jobs_json *v, unsigned depth);

/* Appends one member to an array or object under construction. */
static jobs_json *grow(jobs_json *v, size_t *cap, char *key)
{
    if (v->count == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        jobs_json *items = realloc(v->items, n * sizeof *items);

        if (items == NULL)
            return NULL;
        v->items = items;
        if (v->type == JOBS_JSON_OBJECT) {
            char **keys = realloc(v->keys, n * sizeof *keys);

            if (keys == NULL)
                return NULL;
            v->keys = keys;
        }
        *cap = n;
    }
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    if (v->type == JOBS_JSON_OBJECT)
        v->keys[v->count] = key;
    return &v->items[v->count++];
}

static int parse_container(parser *ps, jobs_json *v, unsigned depth)
{
    bool object = *ps->p == '{';
    char close = object ? '}' : ']';
    size_t cap = 0;

    if (depth >= JOBS_JSON_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    v->type = object ? JOBS_JSON_OBJECT : JOBS_JSON_ARRAY;
    ps->p++;
    skip_space(ps);
    if (*ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        jobs_json *member;

        skip_space(ps);
        if (object) {
            if (*ps->p != '"')
                return fail(ps, "expected a member name");
            if (parse_string(ps, &key) != 0)
                return -1;
            skip_space(ps);
            if (*ps->p != ':') {
                free(key);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        member = grow(v, &cap, key);
        if (member == NULL) {
            free(key);
            return fail(ps, "out of memory");
        }
        if (parse_value(ps, member, depth + 1) != 0)
            return -1;
        skip_space(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(parser *ps, jobs_json *v, unsigned depth)
{
    skip_space(ps);
    switch (*ps->p) {
    case '{':
    case '[':
        return parse_container(ps, v, depth);
    case '"':
        v->type = JOBS_JSON_STRING;
        return parse_string(ps, &v->string);
    case 't':
    case 'f':
    case 'n':
        if (strncmp(ps->p, "true", 4) == 0) {
            v->type = JOBS_JSON_BOOL;
            v->boolean = true;
            ps->p += 4;
        } else if (strncmp(ps->p, "false", 5) == 0) {
            v->type = JOBS_JSON_BOOL;
            ps->p += 5;
        } else if (strncmp(ps->p, "null", 4) == 0) {
            v->type = JOBS_JSON_NULL;
            ps->p += 4;
        } else {
            return fail(ps, "unknown literal");
        }
        return 0;
    default:
        v->type = JOBS_JSON_NUMBER;
        return parse_number(ps, &v->number);
    }
}

/* Frees what v owns, not v itself. */
static void clear(jobs_json *v)
{
    for (size_t i = 0; i < v->count; i++) {
        clear(&v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

int jobs_json_parse(const char *text, jobs_json **out, char *err, size_t errlen)
{
    parser ps = {.start = text, .p = text, .err = err, .errlen = errlen};
    jobs_json *v;

    *out = NULL;
    v = calloc(1, sizeof *v);
    if (v == NULL)
        return fail(&ps, "out of memory");
    if (parse_value(&ps, v, 0) != 0)
        goto fail;
    skip_space(&ps);
    if (*ps.p != '\0') {
        fail(&ps, "text after the value");
        goto fail;
    }
    *out = v;
    return 0;

fail:
    jobs_json_free(v);
    return -1;
}

void jobs_json_free(jobs_json *value)
{
    if (value == NULL)
        return;
    clear(value);
    free(value);
}

const jobs_json *jobs_json_get(const jobs_json *object, const char *key)
{
    if (object == NULL || object->type != JOBS_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++) {
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    }
    return NULL;
}

static bool reserve(jobs_buf *buf, size_t more)
{
    size_t cap;
    char *data;

    if (buf->failed)
        return false;
    if (buf->len + more + 1 <= buf->cap)
        return true;
    cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + more + 1)
        cap *= 2;
    data = realloc(buf->data, cap);
    if (data == NULL) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

static void add_bytes(jobs_buf *buf, const char *bytes, size_t n)
{
    if (!reserve(buf, n))
        return;
    memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

void jobs_buf_add(jobs_buf *buf, const char *text)
{
    add_bytes(buf, text, strlen(text));
}

void jobs_buf_addf(jobs_buf *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(buf, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void jobs_buf_add_string(jobs_buf *buf, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;

    if (text == NULL) {
        jobs_buf_add(buf, "null");
        return;
    }
    add_bytes(buf, "\"", 1);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            char esc[2] = {'\\', (char)*s};

            add_bytes(buf, esc, 2);
        } else if (*s < 0x20) {
            jobs_buf_addf(buf, "\\u%04x", *s);
        } else {
            add_bytes(buf, (const char *)s, 1);
        }
    }
    add_bytes(buf, "\"", 1);
}

void jobs_buf_add_json(jobs_buf *buf, const jobs_json *value)
{
    switch (value->type) {
    case JOBS_JSON_NULL:
        jobs_buf_add(buf, "null");
        break;
    case JOBS_JSON_BOOL:
        jobs_buf_add(buf, value->boolean ? "true" : "false");
        break;
    case JOBS_JSON_NUMBER:
        if (value->number == floor(value->number) && fabs(value->number) < 9007199254740992.0)
            jobs_buf_addf(buf, "%lld", (long long)value->number);
        else
            jobs_buf_addf(buf, "%.17g", value->number);
        break;
    case JOBS_JSON_STRING:
        jobs_buf_add_string(buf, value->string);
        break;
    case JOBS_JSON_ARRAY:
    case JOBS_JSON_OBJECT:
        jobs_buf_add(buf, value->type == JOBS_JSON_ARRAY ? "[" : "{");
        for (size_t i = 0; i < value->count; i++) {
            if (i > 0)
                jobs_buf_add(buf, ",");
            if (value->type == JOBS_JSON_OBJECT) {
                jobs_buf_add_string(buf, value->keys[i]);
                jobs_buf_add(buf, ":");
            }
            jobs_buf_add_json(buf, &value->items[i]);
        }
        jobs_buf_add(buf, value->type == JOBS_JSON_ARRAY ? "]" : "}");
        break;
    }
}

char *jobs_buf_take(jobs_buf *buf)
{
    char *text = buf->failed ? NULL : buf->data;

    if (text == NULL && !buf->failed)
        text = strdup("");
    if (buf->failed)
        free(buf->data);
    *buf = (jobs_buf){0};
    return text;
}

void jobs_buf_free(jobs_buf *buf)
{
    free(buf->data);
    *buf = (jobs_buf){0};
}
