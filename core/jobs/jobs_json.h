/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON (RFC 8259) the jobs read and write: a parser into a small tree
 * for requests and kept job documents, and a growing text buffer that
 * writes JSON values. Text is UTF-8; the parser rejects invalid UTF-8,
 * control characters in strings and the escaped NUL character.
 */
#ifndef CAIRN_JOBS_JSON_H
#define CAIRN_JOBS_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of arrays and objects the parser accepts. */
#define JOBS_JSON_MAX_DEPTH 32

typedef enum jobs_json_type {
    JOBS_JSON_NULL,
    JOBS_JSON_BOOL,
    JOBS_JSON_NUMBER,
    JOBS_JSON_STRING,
    JOBS_JSON_ARRAY,
    JOBS_JSON_OBJECT
} jobs_json_type;

/* One parsed value and, for arrays and objects, its members. */
typedef struct jobs_json {
    jobs_json_type type;
    bool boolean;
    double number;
    char *string;            /* JOBS_JSON_STRING */
    size_t count;            /* members of an array or object */
    struct jobs_json *items; /* the members' values */
    char **keys;             /* JOBS_JSON_OBJECT: the members' names */
} jobs_json;

/*
 * Parses text (NUL-terminated) into *out, which the caller frees with
 * jobs_json_free. On failure returns -1 with the reason and its byte
 * offset in err.
 */
int jobs_json_parse(const char *text, jobs_json **out, char *err, size_t errlen);
void jobs_json_free(jobs_json *value);

/* Returns the member named key of an object, or NULL (also for a non-object). */
const jobs_json *jobs_json_get(const jobs_json *object, const char *key);

/* A growing NUL-terminated text. After a failed allocation every call does nothing. */
typedef struct jobs_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} jobs_buf;

void jobs_buf_add(jobs_buf *buf, const char *text);
void jobs_buf_addf(jobs_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds text as a quoted JSON string; NULL adds null. */
void jobs_buf_add_string(jobs_buf *buf, const char *text);
/* Adds the compact JSON text of value. */
void jobs_buf_add_json(jobs_buf *buf, const jobs_json *value);
/* Returns the text (the caller frees it) and empties buf; NULL when an allocation failed. */
char *jobs_buf_take(jobs_buf *buf);
void jobs_buf_free(jobs_buf *buf);

#endif
