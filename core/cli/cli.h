/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations shared by the files of the `cairn` command-line tool:
 * opening the archive index named by a configuration file, the table and
 * JSON writers of the listing commands, the scan of the storage folder and
 * the commands themselves. Messages for the user go to stderr prefixed
 * with "cairn: "; listings and check reports go to stdout.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cairn/cairn.h>

#include "config/conf.h"
#include "plugin/plugin.h"

/* Exit codes of the tool. */
enum {
    CLI_EXIT_OK = 0,      /* success, and for check a consistent archive */
    CLI_EXIT_FAILURE = 1, /* an error, or check found problems */
    CLI_EXIT_USAGE = 2    /* invalid command line */
};

/* The configuration file read when --config is not given. */
#define CLI_DEFAULT_CONFIG CAIRN_SYSCONF_DIR "/cairn.conf"

/* Default of check --min-age, in seconds, as a number and as text for the help. */
#define CLI_DEFAULT_MIN_AGE 60
#define CLI_DEFAULT_MIN_AGE_TEXT "60"

/* Writes the help of every command and option (cli_usage.c). */
void cli_usage(FILE *out);
/* Writes the help of one command. Returns -1 when there is no such command. */
int cli_usage_command(FILE *out, const char *name);

/* Prints "cairn: " and the formatted message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opening the index (cli_open.c) ---------------------------------------- */

/*
 * An index opened for the tool: the configuration, the registry holding
 * only the index plugin, and the opened index handle. Unlike archive_open,
 * opening leaves <storage>/tmp alone, so that check can report what a
 * crash left there.
 */
typedef struct cli_archive {
    cairn_conf *conf;
    plugin_registry *plugins;
    const cairn_index_ops *ops;
    void *db;
    char *storage_path; /* absolute, symbolic links resolved */
} cli_archive;

/*
 * Loads the configuration at config_path, loads the index plugin it names
 * and opens the index of its storage folder. On failure prints what failed
 * and returns -1 with everything released.
 */
int cli_archive_open(const char *config_path, cli_archive *archive);
/* Closes the index and frees everything cli_archive_open acquired. */
void cli_archive_close(cli_archive *archive);

/* Output of the listings (cli_table.c, cli_json.c) ---------------------- */

/* How a JSON writer types a value. */
typedef enum cli_value_kind {
    CLI_VALUE_TEXT,    /* a string */
    CLI_VALUE_INTEGER, /* a number, or null for an empty value */
    CLI_VALUE_LIST     /* backslash-separated values as an array of strings */
} cli_value_kind;

/* One column of a listing. */
typedef struct cli_column {
    const char *key;    /* JSON member name, or NULL for a table-only column */
    const char *header; /* table heading, or NULL for a JSON-only column */
    cli_value_kind kind;
} cli_column;

/*
 * A table on a terminal-friendly layout. Column widths come from the
 * heading and the first rows, which are held back until then. Later rows
 * are written at once, so memory stays bounded for any number of rows.
 */
typedef struct cli_table cli_table;

cli_table *cli_table_create(const cli_column *columns, size_t n_columns, FILE *out);
/* Adds one row, copying values[i] for columns[i]. Returns -1 when out of memory. */
int cli_table_add(cli_table *table, const char *const *values);
/* Writes the held rows (or "(none)" when there were no rows). */
int cli_table_finish(cli_table *table);
void cli_table_destroy(cli_table *table);

/* A JSON array of objects written as rows arrive. */
typedef struct cli_json {
    FILE *out;
    const cli_column *columns;
    size_t n_columns;
    size_t rows;
} cli_json;

void cli_json_begin(cli_json *json, const cli_column *columns, size_t n_columns, FILE *out);
void cli_json_add(cli_json *json, const char *const *values);
void cli_json_end(cli_json *json);
/*
 * Writes text as a JSON string literal. Valid UTF-8 passes through. Bytes
 * that are not valid UTF-8 become U+FFFD, so the output is always valid.
 */
void cli_json_write_string(FILE *out, const char *text);

/* Storage scan (cli_scan.c) ---------------------------------------------- */

/* Relative paths found under the storage folder, sorted with strcmp. */
typedef struct cli_file_list {
    char **paths;
    size_t count;
    size_t capacity;
} cli_file_list;

/*
 * Lists the instance files (*.dcm, outside tmp/) and the entries of tmp/
 * under root, each as a path relative to root. Symbolic links are not
 * followed. Prints the failure and returns -1 when a folder cannot be read.
 */
int cli_scan_storage(const char *root, cli_file_list *instances, cli_file_list *temporary);
/* Returns the index of path in the sorted list, or -1. */
long cli_file_list_find(const cli_file_list *list, const char *path);
void cli_file_list_free(cli_file_list *list);

/* Commands --------------------------------------------------------------- */

/* Filter values of the listing commands, each NULL when not given. */
typedef struct cli_list_filter {
    const char *patient_id;
    const char *issuer;
    const char *study_uid;
    const char *series_uid;
} cli_list_filter;

/* Lists one level and returns a CLI_EXIT_* code. */
int cli_list(cli_archive *archive, cairn_index_level level, const cli_list_filter *filter,
             bool json);

/* Options of the check command. */
typedef struct cli_check_options {
    bool repair;
    unsigned min_age_seconds; /* repair skips files modified more recently */
} cli_check_options;

/* Compares the index with the storage folder and returns a CLI_EXIT_* code. */
int cli_check(cli_archive *archive, const cli_check_options *options);

#endif
