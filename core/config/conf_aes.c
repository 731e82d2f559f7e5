/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `aes` list (the application entities we accept associations for)
 * and the `remotes` list (peers we connect to). Each entry is a group;
 * titles are checked as AE titles and must be unique within their list.
 * Whether an AE's plugins exist is checked later, by conf_load().
 */
#include "config/conf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ae_keys[] = {
    "title", "port", "bind", "enabled", "plugins", "accept_callers",
    "transfer_syntaxes", "user_identity", "users",
};
static const char *const remote_keys[] = {"title", "host", "port", "max_associations",
                                          "limits", "commitment"};
static const char *const remote_limit_keys[] = {"loads", "sends", "queries"};

static const conf_name_rules plugin_name_rules = {
    .entry_kind = "plugin name",
    .check = conf_nonempty_problem,
    .trim = false,
    .if_empty = "name at least one plugin for the AE to host",
};
static const conf_name_rules caller_rules = {
    .entry_kind = "calling AE title",
    .check = conf_ae_title_problem,
    .trim = true,
    .if_empty = "remove the key to accept any calling AE title",
};
static const conf_name_rules user_rules = {
    .entry_kind = "user name",
    .check = conf_nonempty_problem,
    .trim = false,
    .if_empty = "remove the key to accept any user",
};

/* Reads the list entry at index as a group; *out is the entry. */
static int entry_group(const conf_report *report, const config_setting_t *list,
                       int index, const char *path, const config_setting_t **out)
{
    const config_setting_t *entry = config_setting_get_elem(list, (unsigned int)index);

    *out = entry;
    if (!config_setting_is_group(entry))
        return conf_error(report, entry, path, "expected a group { ... }, got %s",
                          conf_type_name(config_setting_type(entry)));
    return 0;
}

/* Reads the required `title` of group as an AE title; stores it trimmed. */
static int read_title(const conf_report *report, const config_setting_t *group,
                      const char *path, char **out)
{
    char title_path[CONF_PATH_MAX];
    const char *title;
    const char *problem;

    conf_join_path(title_path, sizeof title_path, path, "title");
    if (conf_read_string(report, group, path, "title", NULL, &title) != 0)
        return -1;
    if (title == NULL)
        return conf_error(report, group, title_path, "missing required setting");

    problem = conf_ae_title_problem(title);
    if (problem != NULL)
        return conf_error(report, config_setting_get_member(group, "title"), title_path,
                          "invalid AE title \"%s\": %s", title, problem);

    *out = conf_trim_title(title);
    if (*out == NULL)
        return conf_error(report, group, title_path, "out of memory");
    return 0;
}

/* Reads the required `port` of group. */
static int read_port(const conf_report *report, const config_setting_t *group,
                     const char *path, int *out)
{
    char port_path[CONF_PATH_MAX];
    long long port;

    conf_join_path(port_path, sizeof port_path, path, "port");
    if (config_setting_get_member(group, "port") == NULL)
        return conf_error(report, group, port_path, "missing required setting");
    if (conf_read_int(report, group, path, "port", 0, 1, 65535, &port) != 0)
        return -1;

    *out = (int)port;
    return 0;
}

static int read_user_identity(const conf_report *report, const config_setting_t *group,
                              const char *path, conf_ae *ae)
{
    char key_path[CONF_PATH_MAX];
    const char *mode;

    conf_join_path(key_path, sizeof key_path, path, "user_identity");
    if (conf_read_string(report, group, path, "user_identity", "ignore", &mode) != 0)
        return -1;

    if (strcmp(mode, "ignore") == 0)
        ae->user_identity = CONF_USER_IDENTITY_IGNORE;
    else if (strcmp(mode, "accept") == 0)
        ae->user_identity = CONF_USER_IDENTITY_ACCEPT;
    else if (strcmp(mode, "require") == 0)
        ae->user_identity = CONF_USER_IDENTITY_REQUIRE;
    else
        return conf_error(report, config_setting_get_member(group, "user_identity"), key_path,
                          "invalid mode \"%s\": use ignore, accept or require", mode);

    if (conf_read_names(report, group, path, "users", &user_rules, &ae->users, &ae->n_users) != 0)
        return -1;
    if (ae->users != NULL && ae->user_identity == CONF_USER_IDENTITY_IGNORE) {
        conf_join_path(key_path, sizeof key_path, path, "users");
        return conf_error(report, config_setting_get_member(group, "users"), key_path,
                          "has no effect while user_identity is \"ignore\": "
                          "set user_identity to \"accept\" or \"require\"");
    }
    return 0;
}

static int load_ae(const conf_report *report, const cairn_conf *conf,
                   const config_setting_t *group, const char *path, conf_ae *ae)
{
    char key_path[CONF_PATH_MAX];
    const char *bind;
    const char *problem;

    ae->line = (int)config_setting_source_line(group);
    if (conf_check_keys(report, group, path, ae_keys, sizeof ae_keys / sizeof ae_keys[0],
                        NULL, 0) != 0 ||
        read_title(report, group, path, &ae->title) != 0 ||
        read_port(report, group, path, &ae->port) != 0 ||
        conf_read_string(report, group, path, "bind", "0.0.0.0", &bind) != 0 ||
        conf_read_bool(report, group, path, "enabled", true, &ae->enabled) != 0)
        return -1;

    problem = conf_bind_problem(bind);
    if (problem != NULL) {
        conf_join_path(key_path, sizeof key_path, path, "bind");
        return conf_error(report, config_setting_get_member(group, "bind"), key_path,
                          "invalid address \"%s\": %s", bind, problem);
    }
    ae->bind = strdup(bind);
    if (ae->bind == NULL)
        return conf_error(report, group, path, "out of memory");

    if (conf_read_names(report, group, path, "plugins", &plugin_name_rules, &ae->plugins,
                        &ae->n_plugins) != 0)
        return -1;
    if (ae->plugins == NULL) {
        conf_join_path(key_path, sizeof key_path, path, "plugins");
        return conf_error(report, group, key_path,
                          "missing required setting: the plugins this AE hosts");
    }

    if (conf_read_names(report, group, path, "accept_callers", &caller_rules,
                        &ae->accept_callers, &ae->n_accept_callers) != 0 ||
        conf_read_names(report, group, path, "transfer_syntaxes", &conf_transfer_syntax_rules,
                        &ae->transfer_syntaxes, &ae->n_transfer_syntaxes) != 0 ||
        read_user_identity(report, group, path, ae) != 0)
        return -1;

    if (ae->transfer_syntaxes == NULL) {
        ae->transfer_syntaxes =
            conf_copy_strings((const char *const *)conf->network.transfer_syntaxes,
                              conf->network.n_transfer_syntaxes);
        if (ae->transfer_syntaxes == NULL)
            return conf_error(report, group, path, "out of memory");
        ae->n_transfer_syntaxes = conf->network.n_transfer_syntaxes;
    }
    return 0;
}

/* Reads `key` of root as a list of groups; *out = NULL when absent. */
static int read_list(const conf_report *report, const config_setting_t *root,
                     const char *key, const config_setting_t **out)
{
    const config_setting_t *list = config_setting_get_member(root, key);

    *out = list;
    if (list == NULL)
        return 0;
    if (!config_setting_is_list(list))
        return conf_error(report, list, key, "expected a list ( { ... }, ... ), got %s",
                          conf_type_name(config_setting_type(list)));
    return 0;
}

int conf_load_aes(const conf_report *report, cairn_conf *conf, const config_setting_t *root)
{
    const config_setting_t *list;
    int length;

    if (read_list(report, root, "aes", &list) != 0)
        return -1;
    if (list == NULL)
        return conf_error(report, NULL, "aes",
                          "missing required setting: define at least one AE");

    length = config_setting_length(list);
    if (length == 0)
        return conf_error(report, list, "aes", "the list is empty: define at least one AE");

    conf->aes = calloc((size_t)length, sizeof *conf->aes);
    if (conf->aes == NULL)
        return conf_error(report, list, "aes", "out of memory");

    for (int i = 0; i < length; i++) {
        const config_setting_t *group;
        conf_ae *ae = &conf->aes[i];
        char path[CONF_PATH_MAX];
        char title_path[CONF_PATH_MAX];

        snprintf(path, sizeof path, "aes[%d]", i);
        conf->n_aes++;
        if (entry_group(report, list, i, path, &group) != 0 ||
            load_ae(report, conf, group, path, ae) != 0)
            return -1;

        for (int j = 0; j < i; j++) {
            if (strcmp(conf->aes[j].title, ae->title) != 0)
                continue;
            conf_join_path(title_path, sizeof title_path, path, "title");
            return conf_error(report, config_setting_get_member(group, "title"), title_path,
                              "duplicate AE title \"%s\" (also aes[%d], line %d)",
                              ae->title, j, conf->aes[j].line);
        }
    }
    return 0;
}

/* Reads the optional `limits` group of a remote: associations per kind of job. */
static int load_remote_limits(const conf_report *report, const config_setting_t *group,
                              const char *path, conf_remote_limits *limits)
{
    const config_setting_t *limits_group = NULL;
    char limits_path[CONF_PATH_MAX];
    long long loads = 2, sends = 2, queries = 4;

    if (conf_read_group(report, group, path, "limits", &limits_group) != 0)
        return -1;
    if (limits_group != NULL) {
        conf_join_path(limits_path, sizeof limits_path, path, "limits");
        if (conf_check_keys(report, limits_group, limits_path, remote_limit_keys,
                            sizeof remote_limit_keys / sizeof remote_limit_keys[0], NULL,
                            0) != 0 ||
            conf_read_int(report, limits_group, limits_path, "loads", 2, 1, 64, &loads) != 0 ||
            conf_read_int(report, limits_group, limits_path, "sends", 2, 1, 64, &sends) != 0 ||
            conf_read_int(report, limits_group, limits_path, "queries", 4, 1, 64,
                          &queries) != 0)
            return -1;
    }
    limits->loads = (int)loads;
    limits->sends = (int)sends;
    limits->queries = (int)queries;
    return 0;
}

static int load_remote(const conf_report *report, const cairn_conf *conf,
                       const config_setting_t *group, const char *path, conf_remote *remote)
{
    char host_path[CONF_PATH_MAX];
    const char *host;
    long long max_assoc = 0;

    remote->line = (int)config_setting_source_line(group);
    if (conf_check_keys(report, group, path, remote_keys,
                        sizeof remote_keys / sizeof remote_keys[0], NULL, 0) != 0 ||
        read_title(report, group, path, &remote->title) != 0 ||
        conf_read_string(report, group, path, "host", NULL, &host) != 0)
        return -1;

    conf_join_path(host_path, sizeof host_path, path, "host");
    if (host == NULL)
        return conf_error(report, group, host_path, "missing required setting");
    if (host[0] == '\0')
        return conf_error(report, config_setting_get_member(group, "host"), host_path,
                          "the host name is empty");
    remote->host = strdup(host);
    if (remote->host == NULL)
        return conf_error(report, group, host_path, "out of memory");

    if (read_port(report, group, path, &remote->port) != 0)
        return -1;

    /* Simultaneous outgoing associations to this remote (C-MOVE, forwarding). */
    if (conf_read_int(report, group, path, "max_associations", 4, 1, 64, &max_assoc) != 0)
        return -1;
    remote->max_associations = (int)max_assoc;
    if (load_remote_limits(report, group, path, &remote->limits) != 0)
        return -1;
    return conf_load_remote_commitment(report, conf, group, path, &remote->commitment);
}

int conf_load_remotes(const conf_report *report, cairn_conf *conf,
                      const config_setting_t *root)
{
    const config_setting_t *list;
    int length;

    if (read_list(report, root, "remotes", &list) != 0)
        return -1;
    if (list == NULL)
        return 0;

    length = config_setting_length(list);
    if (length == 0)
        return 0;

    conf->remotes = calloc((size_t)length, sizeof *conf->remotes);
    if (conf->remotes == NULL)
        return conf_error(report, list, "remotes", "out of memory");

    for (int i = 0; i < length; i++) {
        const config_setting_t *group;
        conf_remote *remote = &conf->remotes[i];
        char path[CONF_PATH_MAX];
        char title_path[CONF_PATH_MAX];

        snprintf(path, sizeof path, "remotes[%d]", i);
        conf->n_remotes++;
        if (entry_group(report, list, i, path, &group) != 0 ||
            load_remote(report, conf, group, path, remote) != 0)
            return -1;

        for (int j = 0; j < i; j++) {
            if (strcmp(conf->remotes[j].title, remote->title) != 0)
                continue;
            conf_join_path(title_path, sizeof title_path, path, "title");
            return conf_error(report, config_setting_get_member(group, "title"), title_path,
                              "duplicate remote title \"%s\" (also remotes[%d], line %d)",
                              remote->title, j, conf->remotes[j].line);
        }
    }
    return 0;
}
