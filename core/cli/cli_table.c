/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Table output of the listings: a heading line, then one line per row with
 * columns padded to a common width and separated by two spaces. The widths
 * come from the heading and the first HELD_ROWS rows. A longer value in a
 * later row is written whole and shifts the rest of its line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Rows held back to size the columns. It bounds memory for large listings. */
#define HELD_ROWS 1000

struct cli_table {
    FILE *out;
    const cli_column *columns;
    size_t n_columns;
    size_t *widths;
    char **held_values; /* HELD_ROWS * n_columns copies, row by row */
    size_t n_held;
    size_t rows;
    bool streaming; /* the heading and the held rows are written */
};

/*
 * Returns the number of code points in text, the width a terminal gives it
 * for most scripts.
 * NOTE: East Asian wide characters take two cells, so names written in
 * them misalign the columns to their right.
 */
static size_t display_width(const char *text)
{
    size_t width = 0;

    for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
        if ((*s & 0xC0) != 0x80)
            width++;
    }
    return width;
}

/* Writes a value, with the values of a list separated by commas. */
static void write_value(FILE *out, cli_value_kind kind, const char *value)
{
    if (kind != CLI_VALUE_LIST) {
        fputs(value, out);
        return;
    }
    for (const char *c = value; *c != '\0'; c++)
        fputc(*c == '\\' ? ',' : *c, out);
}

/* Writes one line. The last visible column is not padded. */
static void write_line(const cli_table *table, const char *const *values)
{
    size_t last = 0;
    bool first = true;

    for (size_t i = 0; i < table->n_columns; i++) {
        if (table->columns[i].header != NULL)
            last = i;
    }
    for (size_t i = 0; i < table->n_columns; i++) {
        const char *value = values[i];

        if (table->columns[i].header == NULL)
            continue;
        if (!first)
            fputs("  ", table->out);
        write_value(table->out, table->columns[i].kind, value);
        if (i != last) {
            for (size_t w = display_width(value); w < table->widths[i]; w++)
                fputc(' ', table->out);
        }
        first = false;
    }
    fputc('\n', table->out);
}

/* Writes the heading and the held rows, then frees the held copies. */
static void start_streaming(cli_table *table)
{
    const char **headings = calloc(table->n_columns, sizeof(*headings));

    if (headings != NULL) {
        for (size_t i = 0; i < table->n_columns; i++)
            headings[i] = table->columns[i].header != NULL ? table->columns[i].header : "";
        write_line(table, headings);
        free(headings);
    }

    for (size_t r = 0; r < table->n_held; r++) {
        char **row = &table->held_values[r * table->n_columns];

        write_line(table, (const char *const *)row);
        for (size_t i = 0; i < table->n_columns; i++) {
            free(row[i]);
            row[i] = NULL;
        }
    }
    table->n_held = 0;
    table->streaming = true;
}

cli_table *cli_table_create(const cli_column *columns, size_t n_columns, FILE *out)
{
    cli_table *table = calloc(1, sizeof(*table));

    if (table == NULL)
        return NULL;
    table->out = out;
    table->columns = columns;
    table->n_columns = n_columns;
    table->widths = calloc(n_columns, sizeof(*table->widths));
    table->held_values = calloc((size_t)HELD_ROWS * n_columns, sizeof(*table->held_values));
    if (table->widths == NULL || table->held_values == NULL) {
        cli_table_destroy(table);
        return NULL;
    }

    for (size_t i = 0; i < n_columns; i++) {
        if (columns[i].header != NULL)
            table->widths[i] = display_width(columns[i].header);
    }
    return table;
}

int cli_table_add(cli_table *table, const char *const *values)
{
    char **row;

    table->rows++;
    if (table->streaming) {
        write_line(table, values);
        return 0;
    }

    row = &table->held_values[table->n_held * table->n_columns];
    for (size_t i = 0; i < table->n_columns; i++) {
        size_t width = display_width(values[i]);

        row[i] = strdup(values[i]);
        if (row[i] == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(row[j]);
                row[j] = NULL;
            }
            return -1;
        }
        if (width > table->widths[i])
            table->widths[i] = width;
    }
    table->n_held++;

    if (table->n_held == HELD_ROWS)
        start_streaming(table);
    return 0;
}

int cli_table_finish(cli_table *table)
{
    if (table->rows == 0) {
        fputs("(none)\n", table->out);
        return 0;
    }
    if (!table->streaming)
        start_streaming(table);
    return 0;
}

void cli_table_destroy(cli_table *table)
{
    if (table == NULL)
        return;

    if (table->held_values != NULL) {
        for (size_t i = 0; i < table->n_held * table->n_columns; i++)
            free(table->held_values[i]);
    }
    free(table->held_values);
    free(table->widths);
    free(table);
}
