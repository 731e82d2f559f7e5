/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON output of the listings (RFC 8259): one array of objects, one object
 * per row, written as the rows arrive. Member names are the columns' keys,
 * so scripts can rely on them across releases.
 */
#include <stdint.h>
#include <string.h>

#include "cli/cli.h"

/* Returns the length of the valid UTF-8 sequence at s, or 0 when invalid. */
static size_t utf8_sequence_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        /* Reject overlong forms (E0 80..9F) and UTF-16 surrogates (ED A0..BF). */
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F))
            return 0;
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        /* Reject overlong forms (F0 80..8F) and code points above U+10FFFF. */
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

void cli_json_write_string(FILE *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;

    fputc('"', out);
    while (*s != '\0') {
        size_t length;

        switch (*s) {
        case '"': fputs("\\\"", out); s++; continue;
        case '\\': fputs("\\\\", out); s++; continue;
        case '\n': fputs("\\n", out); s++; continue;
        case '\r': fputs("\\r", out); s++; continue;
        case '\t': fputs("\\t", out); s++; continue;
        default: break;
        }
        if (*s < 0x20) {
            fprintf(out, "\\u%04x", *s);
            s++;
            continue;
        }

        /* The NUL terminator fails the continuation-byte tests, so no read passes it. */
        length = utf8_sequence_length(s);
        if (length == 0) {
            fputs("\xEF\xBF\xBD", out);
            s++;
            continue;
        }
        fwrite(s, 1, length, out);
        s += length;
    }
    fputc('"', out);
}

/* True when text is an optional minus sign followed by 1 to 19 digits. */
static bool is_integer(const char *text)
{
    size_t digits;

    if (*text == '-')
        text++;
    digits = strspn(text, "0123456789");
    return digits > 0 && digits <= 19 && text[digits] == '\0';
}

static void write_list(FILE *out, const char *text)
{
    char item[1024];
    const char *start = text;

    fputc('[', out);
    if (*text == '\0') {
        fputc(']', out);
        return;
    }
    for (;;) {
        const char *end = strchr(start, '\\');
        size_t length = end != NULL ? (size_t)(end - start) : strlen(start);

        /* CS and UI values are at most 64 bytes, so only a malformed value is cut here. */
        if (length >= sizeof(item))
            length = sizeof(item) - 1;
        memcpy(item, start, length);
        item[length] = '\0';
        cli_json_write_string(out, item);

        if (end == NULL)
            break;
        fputs(", ", out);
        start = end + 1;
    }
    fputc(']', out);
}

static void write_value(FILE *out, cli_value_kind kind, const char *value)
{
    switch (kind) {
    case CLI_VALUE_INTEGER:
        if (is_integer(value))
            fputs(value, out);
        else if (*value == '\0')
            fputs("null", out);
        else
            cli_json_write_string(out, value);
        return;
    case CLI_VALUE_LIST:
        write_list(out, value);
        return;
    case CLI_VALUE_TEXT:
        break;
    }
    cli_json_write_string(out, value);
}

void cli_json_begin(cli_json *json, const cli_column *columns, size_t n_columns, FILE *out)
{
    json->out = out;
    json->columns = columns;
    json->n_columns = n_columns;
    json->rows = 0;
    fputc('[', out);
}

void cli_json_add(cli_json *json, const char *const *values)
{
    bool first = true;

    fputs(json->rows == 0 ? "\n  {" : ",\n  {", json->out);
    for (size_t i = 0; i < json->n_columns; i++) {
        if (json->columns[i].key == NULL)
            continue;
        if (!first)
            fputs(", ", json->out);
        cli_json_write_string(json->out, json->columns[i].key);
        fputs(": ", json->out);
        write_value(json->out, json->columns[i].kind, values[i]);
        first = false;
    }
    fputc('}', json->out);
    json->rows++;
}

void cli_json_end(cli_json *json)
{
    fputs(json->rows == 0 ? "]\n" : "\n]\n", json->out);
}
