/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the files of the configuration module: typed readers
 * that turn a libconfig setting into a checked C value or a
 * "FILE:LINE: PATH: message" error, the syntax checks for AE titles, UIDs
 * and bind addresses, and path arithmetic. Not for use outside core/config.
 */
#ifndef CAIRN_CONF_INTERNAL_H
#define CAIRN_CONF_INTERNAL_H

#include "config/conf.h"

#include <libconfig.h>
#include <stdarg.h>

/* Longest dotted path built for a message; longer ones are truncated. */
#define CONF_PATH_MAX 256

struct conf_internal {
    config_t cfg;
};

/* Where a reader writes its error, and the file to name when a setting
 * carries no source file of its own. */
typedef struct conf_report {
    const char *file;
    char *err;
    size_t errlen;
} conf_report;

/*
 * Writes "FILE:LINE: PATH: message" to report->err, taking file and line
 * from at (the line is left out when at is NULL or has none, which is the
 * case for the root group). Always returns -1.
 */
int conf_error(const conf_report *report, const config_setting_t *at,
               const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int conf_verror(const conf_report *report, const config_setting_t *at,
                const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Stores "PARENT.KEY" (or "KEY" when parent is empty) in buf. */
void conf_join_path(char *buf, size_t size, const char *parent,
                    const char *key);

/* Stores "LIST_PATH[INDEX]" in buf. */
void conf_item_path(char *buf, size_t size, const char *list_path, size_t index);

/* Returns "an integer", "a string", ... for a CONFIG_TYPE_* value. */
const char *conf_type_name(int type);

/*
 * Typed readers of member key of group (group may be NULL: every key is
 * absent). group_path is the group's dotted path for messages. Absent keys
 * yield the default and return 0; a wrong type or range returns -1.
 */
int conf_read_int(const conf_report *report, const config_setting_t *group,
                  const char *group_path, const char *key, long long def,
                  long long min, long long max, long long *out);
int conf_read_bool(const conf_report *report, const config_setting_t *group,
                   const char *group_path, const char *key, bool def,
                   bool *out);
int conf_read_string(const conf_report *report, const config_setting_t *group,
                     const char *group_path, const char *key, const char *def,
                     const char **out);

/*
 * Reads an array or list of strings into a new malloc'd array of pointers
 * into the libconfig tree. Absent: *out = NULL, *n = 0, returns 0.
 */
int conf_read_string_list(const conf_report *report,
                          const config_setting_t *group, const char *group_path,
                          const char *key, const char ***out, size_t *n);

/* How conf_read_names() checks the entries of one list. */
typedef struct conf_name_rules {
    const char *entry_kind;                   /* "transfer syntax UID" */
    const char *(*check)(const char *name);   /* a *_problem function */
    bool trim;                                /* store AE titles trimmed */
    const char *if_empty;                     /* advice for an empty list */
} conf_name_rules;

/*
 * Reads a non-empty list of strings, checks each with rules->check and
 * rejects duplicates, then stores malloc'd copies (free them with
 * conf_free_strings()). Absent: *out = NULL, *n = 0, returns 0.
 */
int conf_read_names(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *key,
                    const conf_name_rules *rules, char ***out, size_t *n);

/* Rules for transfer syntax lists (network and per AE). */
extern const conf_name_rules conf_transfer_syntax_rules;

/* Reads a group member: *out = NULL when absent, -1 when not a group. */
int conf_read_group(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *key,
                    const config_setting_t **out);

/*
 * Fails with "unknown key" on the first member of group whose name is
 * neither in allowed[0..n_allowed) nor in extra[0..n_extra). The message
 * lists the valid keys.
 */
int conf_check_keys(const conf_report *report, const config_setting_t *group,
                    const char *group_path, const char *const *allowed,
                    size_t n_allowed, const char *const *extra, size_t n_extra);

/*
 * Syntax checks. Each returns NULL when the value is valid, else a static
 * phrase saying what is wrong, to follow "invalid ...: ".
 */
const char *conf_ae_title_problem(const char *title);
const char *conf_uid_problem(const char *uid);
const char *conf_bind_problem(const char *bind);

/* Returns "it is empty" for "", else NULL. */
const char *conf_nonempty_problem(const char *value);

/* Returns a malloc'd copy of title without leading and trailing spaces. */
char *conf_trim_title(const char *title);

/*
 * Returns dir/path (or path alone when absolute) with "." and ".."
 * components and repeated slashes removed lexically, malloc'd; NULL when
 * memory runs out.
 */
char *conf_path_join(const char *dir, const char *path);

/* Returns the absolute folder of file, malloc'd; NULL on failure. */
char *conf_path_dir(const char *file);

/* Frees an array of n malloc'd strings and the array. */
void conf_free_strings(char **strings, size_t n);

/* Copies n strings into a new malloc'd array; NULL when memory runs out
 * (or when n is 0). */
char **conf_copy_strings(const char *const *strings, size_t n);

/* Section loaders called by conf_load(), in conf_plugins.c and conf_aes.c.
 * Each fills its part of conf from the root group. */
int conf_load_plugins(const conf_report *report, cairn_conf *conf,
                      const config_setting_t *root);
int conf_load_aes(const conf_report *report, cairn_conf *conf,
                  const config_setting_t *root);
int conf_load_remotes(const conf_report *report, cairn_conf *conf,
                      const config_setting_t *root);

/*
 * Loads the optional `commitment` group of a remote (conf_commitment.c).
 * The AEs must be loaded first: calling_ae must name one of them.
 */
int conf_load_remote_commitment(const conf_report *report, const cairn_conf *conf,
                                const config_setting_t *group, const char *path,
                                conf_remote_commitment *commitment);

/* Loads the optional `node` group (conf_node.c); conf_destroy frees node.name. */
int conf_load_node(const conf_report *report, cairn_conf *conf, const config_setting_t *root);

/* Loads the `api` group (conf_api.c); conf_free_api frees what it stored. */
int conf_load_api(const conf_report *report, cairn_conf *conf, const config_setting_t *root);
void conf_free_api(conf_api *api);

#endif
