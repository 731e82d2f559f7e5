/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf_load(): parses the file with libconfig, then reads and checks the
 * top-level groups the core owns (log, storage, index, network, dataset,
 * plugin_directory) and hands plugins, aes, remotes and api to their own
 * files.
 * Cross-references (an AE's plugins, the index plugin) are checked last,
 * once every section is known. Also the lookups and conf_destroy().
 */
#include "config/conf_internal.h"

#include "util/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CAIRN_PLUGIN_DIR
#error "CAIRN_PLUGIN_DIR must name the default plugin folder"
#endif

#define MAX_PDU_MIN 4096
#define MAX_PDU_MAX 16777216

static const char *const top_level_keys[] = {
    "log", "storage", "index", "network", "dataset",
    "plugin_directory", "plugins", "aes", "remotes", "api", "node",
};
static const char *const log_keys[] = {"level"};
static const char *const storage_keys[] = {"path", "sync"};
static const char *const index_keys[] = {"plugin"};
static const char *const dataset_keys[] = {"max_sequence_depth"};

/* Preference order when a peer proposes several transfer syntaxes. */
static const char *const default_transfer_syntaxes[] = {
    "1.2.840.10008.1.2.1",     /* Explicit VR Little Endian */
    "1.2.840.10008.1.2",       /* Implicit VR Little Endian */
    "1.2.840.10008.1.2.1.99",  /* Deflated Explicit VR Little Endian */
    "1.2.840.10008.1.2.4.50",  /* JPEG Baseline (Process 1) */
    "1.2.840.10008.1.2.4.51",  /* JPEG Extended (Process 2 & 4) */
    "1.2.840.10008.1.2.4.57",  /* JPEG Lossless, Non-Hierarchical (Process 14) */
    "1.2.840.10008.1.2.4.70",  /* JPEG Lossless, First-Order Prediction */
    "1.2.840.10008.1.2.4.80",  /* JPEG-LS Lossless */
    "1.2.840.10008.1.2.4.81",  /* JPEG-LS Near-Lossless */
    "1.2.840.10008.1.2.4.90",  /* JPEG 2000 Lossless Only */
    "1.2.840.10008.1.2.4.91",  /* JPEG 2000 */
    "1.2.840.10008.1.2.5",     /* RLE Lossless */
    "1.2.840.10008.1.2.2",     /* Explicit VR Big Endian (retired) */
};

/* An integer key of the network group and where it goes. */
struct network_int {
    const char *key;
    long long def;
    long long min;
    long long max;
    size_t offset;
};

static const struct network_int network_ints[] = {
    {"max_associations", 32, 1, 4096, offsetof(conf_network, max_associations)},
    {"max_wait", 30, 0, 3600, offsetof(conf_network, max_wait)},
    {"max_pdu_receive", 131072, MAX_PDU_MIN, MAX_PDU_MAX, offsetof(conf_network, max_pdu_receive)},
    {"max_pdu_send", 0, 0, MAX_PDU_MAX, offsetof(conf_network, max_pdu_send)},
    {"artim_timeout", 30, 1, 3600, offsetof(conf_network, artim_timeout)},
    {"dimse_timeout", 60, 1, 86400, offsetof(conf_network, dimse_timeout)},
    {"idle_timeout", 300, 1, 86400, offsetof(conf_network, idle_timeout)},
    {"connect_timeout", 10, 1, 600, offsetof(conf_network, connect_timeout)},
    {"shutdown_timeout", 10, 0, 600, offsetof(conf_network, shutdown_timeout)},
};

#define N_NETWORK_INTS (sizeof network_ints / sizeof network_ints[0])

const conf_name_rules conf_transfer_syntax_rules = {
    .entry_kind = "transfer syntax UID",
    .check = conf_uid_problem,
    .trim = false,
    .if_empty = "list at least one transfer syntax UID or remove the key",
};

static int load_log(const conf_report *report, cairn_conf *conf, const config_setting_t *root)
{
    const config_setting_t *group;
    const char *level;
    int parsed;

    if (conf_read_group(report, root, "", "log", &group) != 0 ||
        conf_check_keys(report, group, "log", log_keys, 1, NULL, 0) != 0 ||
        conf_read_string(report, group, "log", "level", "info", &level) != 0)
        return -1;

    parsed = log_level_parse(level);
    if (parsed < 0)
        return conf_error(report, config_setting_get_member(group, "level"), "log.level",
                          "invalid level \"%s\": use error, warn, info, debug or trace", level);
    conf->log_level = parsed;
    return 0;
}

static int load_storage(const conf_report *report, cairn_conf *conf,
                        const config_setting_t *root)
{
    const config_setting_t *group;
    const char *path;
    const char *sync;

    if (conf_read_group(report, root, "", "storage", &group) != 0 ||
        conf_check_keys(report, group, "storage", storage_keys, 2, NULL, 0) != 0 ||
        conf_read_string(report, group, "storage", "path", NULL, &path) != 0 ||
        conf_read_string(report, group, "storage", "sync", "file", &sync) != 0)
        return -1;

    if (path == NULL)
        return conf_error(report, group, "storage.path",
                          "missing required setting: the folder where instances are stored");
    if (path[0] == '\0')
        return conf_error(report, config_setting_get_member(group, "path"), "storage.path",
                          "the path is empty");

    if (strcmp(sync, "batch") != 0 && strcmp(sync, "file") != 0)
        return conf_error(report, config_setting_get_member(group, "sync"), "storage.sync",
                          "invalid value \"%s\": use \"batch\" or \"file\"", sync);

    conf->storage_path = conf_resolve_path(conf, path);
    conf->storage_sync = strdup(sync);
    if (conf->storage_path == NULL || conf->storage_sync == NULL)
        return conf_error(report, group, "storage", "out of memory");
    return 0;
}

static int load_index(const conf_report *report, cairn_conf *conf, const config_setting_t *root)
{
    const config_setting_t *group;
    const char *plugin;

    if (conf_read_group(report, root, "", "index", &group) != 0 ||
        conf_check_keys(report, group, "index", index_keys, 1, NULL, 0) != 0 ||
        conf_read_string(report, group, "index", "plugin", "index-sqlite", &plugin) != 0)
        return -1;

    conf->index_plugin = strdup(plugin);
    if (conf->index_plugin == NULL)
        return conf_error(report, group, "index.plugin", "out of memory");
    return 0;
}

static int load_network(const conf_report *report, cairn_conf *conf,
                        const config_setting_t *root)
{
    const config_setting_t *group;
    const char *keys[N_NETWORK_INTS + 1];
    conf_network *network = &conf->network;

    for (size_t i = 0; i < N_NETWORK_INTS; i++)
        keys[i] = network_ints[i].key;
    keys[N_NETWORK_INTS] = "transfer_syntaxes";

    if (conf_read_group(report, root, "", "network", &group) != 0 ||
        conf_check_keys(report, group, "network", keys, N_NETWORK_INTS + 1, NULL, 0) != 0)
        return -1;

    for (size_t i = 0; i < N_NETWORK_INTS; i++) {
        const struct network_int *spec = &network_ints[i];
        long long value;

        if (conf_read_int(report, group, "network", spec->key, spec->def, spec->min,
                          spec->max, &value) != 0)
            return -1;
        *(int *)((char *)network + spec->offset) = (int)value;
    }

    if (network->max_pdu_send > 0 && network->max_pdu_send < MAX_PDU_MIN)
        return conf_error(report, config_setting_get_member(group, "max_pdu_send"),
                          "network.max_pdu_send",
                          "value %d is out of range: use 0 (the peer's maximum) or %d..%d",
                          network->max_pdu_send, MAX_PDU_MIN, MAX_PDU_MAX);

    if (conf_read_names(report, group, "network", "transfer_syntaxes",
                        &conf_transfer_syntax_rules, &network->transfer_syntaxes,
                        &network->n_transfer_syntaxes) != 0)
        return -1;
    if (network->transfer_syntaxes == NULL) {
        size_t n = sizeof default_transfer_syntaxes / sizeof default_transfer_syntaxes[0];

        network->transfer_syntaxes = conf_copy_strings(default_transfer_syntaxes, n);
        if (network->transfer_syntaxes == NULL)
            return conf_error(report, group, "network.transfer_syntaxes", "out of memory");
        network->n_transfer_syntaxes = n;
    }
    return 0;
}

static int load_dataset(const conf_report *report, cairn_conf *conf,
                        const config_setting_t *root)
{
    const config_setting_t *group;
    long long depth;

    if (conf_read_group(report, root, "", "dataset", &group) != 0 ||
        conf_check_keys(report, group, "dataset", dataset_keys, 1, NULL, 0) != 0 ||
        conf_read_int(report, group, "dataset", "max_sequence_depth", 16, 1, 64, &depth) != 0)
        return -1;

    conf->max_sequence_depth = (int)depth;
    return 0;
}

static int load_plugin_directory(const conf_report *report, cairn_conf *conf,
                                 const config_setting_t *root)
{
    const char *directory;

    if (conf_read_string(report, root, "", "plugin_directory", CAIRN_PLUGIN_DIR, &directory) != 0)
        return -1;
    if (directory[0] == '\0')
        return conf_error(report, config_setting_get_member(root, "plugin_directory"),
                          "plugin_directory", "the path is empty");

    conf->plugin_directory = conf_resolve_path(conf, directory);
    if (conf->plugin_directory == NULL)
        return conf_error(report, root, "plugin_directory", "out of memory");
    return 0;
}

/*
 * Checks that index.plugin names an enabled plugin. When the file sets no
 * index.plugin, the error points at the plugin's group (or at `plugins`),
 * since that is where the default went wrong.
 */
static int check_index_plugin(const conf_report *report, const cairn_conf *conf,
                              const config_setting_t *root)
{
    const conf_plugin *index = conf_find_plugin(conf, conf->index_plugin);
    const config_setting_t *index_group = config_setting_get_member(root, "index");
    const config_setting_t *key = NULL;
    const config_setting_t *plugins = config_setting_get_member(root, "plugins");
    const config_setting_t *group;
    char path[CONF_PATH_MAX];

    if (index_group != NULL)
        key = config_setting_get_member(index_group, "plugin");

    if (index == NULL && key != NULL)
        return conf_error(report, key, "index.plugin",
                          "plugin \"%s\" is not configured: add a group for it under plugins",
                          conf->index_plugin);
    if (index == NULL)
        return conf_error(report, plugins, "plugins",
                          "no group for the index plugin \"%s\" (the default of index.plugin)",
                          conf->index_plugin);
    if (index->enabled)
        return 0;

    if (key != NULL)
        return conf_error(report, key, "index.plugin",
                          "plugin \"%s\" is disabled (plugins.%s.enabled = false)",
                          conf->index_plugin, conf->index_plugin);
    /* The plugin was found, so its group exists and sets enabled = false. */
    group = config_setting_get_member(plugins, index->name);
    snprintf(path, sizeof path, "plugins.%s.enabled", index->name);
    return conf_error(report, config_setting_get_member(group, "enabled"), path,
                      "the index plugin \"%s\" (the default of index.plugin) is disabled",
                      index->name);
}

/* Checks that every plugin an AE names is configured, and enabled when the
 * AE is. */
static int check_ae_plugins(const conf_report *report, const cairn_conf *conf,
                            const config_setting_t *root)
{
    const config_setting_t *aes = config_setting_get_member(root, "aes");

    for (size_t i = 0; i < conf->n_aes; i++) {
        const conf_ae *ae = &conf->aes[i];
        const config_setting_t *ae_group = config_setting_get_elem(aes, (unsigned int)i);
        const config_setting_t *list = config_setting_get_member(ae_group, "plugins");

        for (size_t j = 0; j < ae->n_plugins; j++) {
            const conf_plugin *plugin = conf_find_plugin(conf, ae->plugins[j]);
            const config_setting_t *item = config_setting_get_elem(list, (unsigned int)j);
            char path[CONF_PATH_MAX];

            snprintf(path, sizeof path, "aes[%zu].plugins[%zu]", i, j);
            if (plugin == NULL)
                return conf_error(report, item, path,
                                  "unknown plugin \"%s\": add a group for it under plugins",
                                  ae->plugins[j]);
            if (ae->enabled && !plugin->enabled)
                return conf_error(report, item, path,
                                  "plugin \"%s\" is disabled (plugins.%s.enabled = false)",
                                  ae->plugins[j], ae->plugins[j]);
        }
    }
    return 0;
}

/* Reads the file into conf->internal->cfg; reports I/O and syntax errors. */
static int parse_file(const conf_report *report, cairn_conf *conf)
{
    config_t *cfg = &conf->internal->cfg;
    FILE *probe;

    probe = fopen(conf->path, "r");
    if (probe == NULL)
        return conf_error(report, NULL, NULL, "cannot open the file: %s", strerror(errno));
    fclose(probe);

    config_set_include_dir(cfg, conf->dir);
    if (config_read_file(cfg, conf->path) == CONFIG_TRUE)
        return 0;

    if (config_error_type(cfg) == CONFIG_ERR_PARSE) {
        snprintf(report->err, report->errlen, "%s:%d: %s",
                 config_error_file(cfg) != NULL ? config_error_file(cfg) : conf->path,
                 config_error_line(cfg), config_error_text(cfg));
        return -1;
    }
    return conf_error(report, NULL, NULL, "cannot read the file: %s", config_error_text(cfg));
}

int conf_load(const char *path, cairn_conf **out, char *err, size_t errlen)
{
    conf_report report = {.file = path, .err = err, .errlen = errlen};
    const config_setting_t *root;
    cairn_conf *conf;
    int result = -1;

    if (err == NULL)
        report.errlen = 0;
    if (report.errlen > 0)
        err[0] = '\0';
    if (out == NULL)
        return -1;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return conf_error(&report, NULL, NULL, "no configuration file given");

    conf = calloc(1, sizeof *conf);
    if (conf == NULL)
        return conf_error(&report, NULL, NULL, "out of memory");
    conf->internal = calloc(1, sizeof *conf->internal);
    if (conf->internal != NULL)
        config_init(&conf->internal->cfg);
    conf->path = strdup(path);
    conf->dir = conf_path_dir(path);
    if (conf->internal == NULL || conf->path == NULL || conf->dir == NULL) {
        conf_error(&report, NULL, NULL, "cannot resolve the file's folder: %s", strerror(errno));
        goto out;
    }

    if (parse_file(&report, conf) != 0)
        goto out;
    root = config_root_setting(&conf->internal->cfg);

    if (conf_check_keys(&report, root, "", top_level_keys,
                        sizeof top_level_keys / sizeof top_level_keys[0], NULL, 0) != 0 ||
        load_log(&report, conf, root) != 0 ||
        load_storage(&report, conf, root) != 0 ||
        load_index(&report, conf, root) != 0 ||
        load_network(&report, conf, root) != 0 ||
        load_dataset(&report, conf, root) != 0 ||
        load_plugin_directory(&report, conf, root) != 0 ||
        conf_load_plugins(&report, conf, root) != 0 ||
        conf_load_aes(&report, conf, root) != 0 ||
        conf_load_remotes(&report, conf, root) != 0 ||
        conf_load_api(&report, conf, root) != 0 ||
        conf_load_node(&report, conf, root) != 0 ||
        check_ae_plugins(&report, conf, root) != 0 ||
        check_index_plugin(&report, conf, root) != 0)
        goto out;

    *out = conf;
    conf = NULL;
    result = 0;

out:
    conf_destroy(conf);
    return result;
}

static void free_ae(conf_ae *ae)
{
    free(ae->title);
    free(ae->bind);
    conf_free_strings(ae->plugins, ae->n_plugins);
    conf_free_strings(ae->accept_callers, ae->n_accept_callers);
    conf_free_strings(ae->transfer_syntaxes, ae->n_transfer_syntaxes);
    conf_free_strings(ae->users, ae->n_users);
}

void conf_destroy(cairn_conf *conf)
{
    if (conf == NULL)
        return;

    for (size_t i = 0; i < conf->n_plugins; i++) {
        free(conf->plugins[i].name);
        free(conf->plugins[i].file);
        conf_section_destroy(conf->plugins[i].settings);
    }
    free(conf->plugins);

    for (size_t i = 0; i < conf->n_aes; i++)
        free_ae(&conf->aes[i]);
    free(conf->aes);

    for (size_t i = 0; i < conf->n_remotes; i++) {
        free(conf->remotes[i].title);
        free(conf->remotes[i].host);
        free(conf->remotes[i].commitment.calling_ae);
    }
    free(conf->remotes);
    conf_free_api(&conf->api);
    free(conf->node.name);

    conf_free_strings(conf->network.transfer_syntaxes, conf->network.n_transfer_syntaxes);
    free(conf->storage_path);
    free(conf->storage_sync);
    free(conf->index_plugin);
    free(conf->plugin_directory);
    if (conf->internal != NULL) {
        config_destroy(&conf->internal->cfg);
        free(conf->internal);
    }
    free(conf->dir);
    free(conf->path);
    free(conf);
}

const conf_remote *conf_find_remote(const cairn_conf *conf, const char *title)
{
    for (size_t i = 0; i < conf->n_remotes; i++) {
        if (strcmp(conf->remotes[i].title, title) == 0)
            return &conf->remotes[i];
    }
    return NULL;
}

const conf_plugin *conf_find_plugin(const cairn_conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_plugins; i++) {
        if (strcmp(conf->plugins[i].name, name) == 0)
            return &conf->plugins[i];
    }
    return NULL;
}

const conf_ae *conf_find_ae(const cairn_conf *conf, const char *title)
{
    for (size_t i = 0; i < conf->n_aes; i++) {
        if (strcmp(conf->aes[i].title, title) == 0)
            return &conf->aes[i];
    }
    return NULL;
}
