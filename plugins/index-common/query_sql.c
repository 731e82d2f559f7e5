/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SQL text under construction with the values of its parameters
 * (idxquery.h). The placeholder of each parameter is "?" or "$n", as set
 * by the dialect of the text. Every parameter keeps its value as text,
 * which PostgreSQL's PQexecParams takes as is, and its kind, so that
 * SQLite binds numbers as integers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idxquery.h"

static bool reserve(query_sql *sql, size_t extra)
{
    size_t capacity = sql->capacity != 0 ? sql->capacity : 1024;
    char *text;

    if (sql->out_of_memory)
        return false;
    if (sql->length + extra < sql->capacity)
        return true;

    while (sql->length + extra >= capacity)
        capacity *= 2;
    text = realloc(sql->text, capacity);
    if (text == NULL) {
        sql->out_of_memory = true;
        return false;
    }
    sql->text = text;
    sql->capacity = capacity;
    return true;
}

void query_sql_add(query_sql *sql, const char *fragment)
{
    size_t length = strlen(fragment);

    if (!reserve(sql, length + 1))
        return;
    memcpy(sql->text + sql->length, fragment, length + 1);
    sql->length += length;
}

/* Grows the parameter arrays to hold one more; false when out of memory. */
static bool reserve_param(query_sql *sql)
{
    size_t capacity = sql->param_capacity != 0 ? sql->param_capacity * 2 : 16;
    char **values;
    query_param_kind *kinds;

    if (sql->param_count < sql->param_capacity)
        return true;

    values = realloc(sql->values, capacity * sizeof(*values));
    if (values != NULL)
        sql->values = values;
    kinds = realloc(sql->kinds, capacity * sizeof(*kinds));
    if (kinds != NULL)
        sql->kinds = kinds;
    if (values == NULL || kinds == NULL)
        return false;
    sql->param_capacity = capacity;
    return true;
}

/*
 * Appends the placeholder of a new parameter of this kind whose text is
 * value (a copy is kept; NULL for SQL NULL).
 */
static void add_param(query_sql *sql, query_param_kind kind, const char *value)
{
    char placeholder[24];
    char *copy = NULL;

    if (sql->out_of_memory)
        return;
    if (!reserve_param(sql)) {
        sql->out_of_memory = true;
        return;
    }
    if (value != NULL) {
        copy = strdup(value);
        if (copy == NULL) {
            sql->out_of_memory = true;
            return;
        }
    }

    sql->values[sql->param_count] = copy;
    sql->kinds[sql->param_count] = kind;
    sql->param_count++;
    if (sql->dialect->numbered_params) {
        snprintf(placeholder, sizeof(placeholder), "$%zu", sql->param_count);
        query_sql_add(sql, placeholder);
    } else {
        query_sql_add(sql, "?");
    }
}

void query_sql_add_text(query_sql *sql, const char *value)
{
    add_param(sql, QUERY_PARAM_TEXT, value);
}

void query_sql_add_number(query_sql *sql, int64_t value)
{
    char text[24];

    snprintf(text, sizeof(text), "%lld", (long long)value);
    add_param(sql, QUERY_PARAM_NUMBER, text);
}

void query_sql_add_null(query_sql *sql)
{
    add_param(sql, QUERY_PARAM_NULL, NULL);
}

void query_sql_free(query_sql *sql)
{
    const query_dialect *dialect = sql->dialect;

    for (size_t i = 0; i < sql->param_count; i++)
        free(sql->values[i]);
    free(sql->values);
    free(sql->kinds);
    free(sql->text);
    memset(sql, 0, sizeof(*sql));
    sql->dialect = dialect;
}

char *query_wildcard_pattern(const query_dialect *dialect, const char *value)
{
    bool like = dialect->wildcard == QUERY_WILDCARD_LIKE;
    size_t extra = 0;
    char *pattern;
    char *out;

    for (const char *c = value; *c != '\0'; c++) {
        if (like)
            extra += (*c == '%' || *c == '_' || *c == '\\') ? 1 : 0;
        else
            extra += *c == '[' ? 2 : 0;
    }
    pattern = malloc(strlen(value) + extra + 1);
    if (pattern == NULL)
        return NULL;

    out = pattern;
    for (const char *c = value; *c != '\0'; c++) {
        if (!like && *c == '[') {
            memcpy(out, "[[]", 3);
            out += 3;
        } else if (!like) {
            *out++ = *c;
        } else if (*c == '%' || *c == '_' || *c == '\\') {
            *out++ = '\\';
            *out++ = *c;
        } else if (*c == '*') {
            *out++ = '%';
        } else if (*c == '?') {
            *out++ = '_';
        } else {
            *out++ = *c;
        }
    }
    *out = '\0';
    return pattern;
}

const char *query_wildcard_operator(const query_dialect *dialect)
{
    return dialect->wildcard == QUERY_WILDCARD_LIKE ? " LIKE " : " GLOB ";
}

cairn_status query_sql_add_match(query_sql *sql, const char *column, const char *value)
{
    char *pattern;

    query_sql_add(sql, column);
    if (strpbrk(value, "*?") == NULL) {
        query_sql_add(sql, " = ");
        query_sql_add_text(sql, value);
        return CAIRN_OK;
    }

    pattern = query_wildcard_pattern(sql->dialect, value);
    if (pattern == NULL)
        return CAIRN_ERR_NO_MEMORY;
    query_sql_add(sql, query_wildcard_operator(sql->dialect));
    query_sql_add_text(sql, pattern);
    free(pattern);
    return CAIRN_OK;
}
