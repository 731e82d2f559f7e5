/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `node` group: the name under which this cairnd takes leases and
 * keeps its temporary files when several nodes share one index and one
 * storage folder, and the length of those leases.
 *
 * Without node.name the name is the host name, a dash, and eight hex
 * digits of a hash of the configuration file's absolute path. Two daemons
 * on one host with different files so get different names, and a daemon
 * keeps its name across restarts while its file stays where it is.
 */
#include "config/conf_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const node_keys[] = {"name", "lease_seconds"};

/* Returns NULL when name may name a node, else what is wrong with it. */
static const char *node_name_problem(const char *name)
{
    size_t length = strlen(name);

    if (length == 0)
        return "it is empty";
    if (length > CONF_NODE_NAME_MAX)
        return "it is longer than 64 characters";
    if (name[0] == '.' || name[0] == '-')
        return "it starts with a dot or a dash";
    for (size_t i = 0; i < length; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return "use only letters, digits, '.', '_' and '-'";
    }
    return NULL;
}

/* FNV-1a, 32 bits: stable across builds and hosts, which is all the default name needs. */
static uint32_t path_hash(const char *text)
{
    uint32_t hash = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        hash ^= *p;
        hash *= 16777619u;
    }
    return hash;
}

/* Builds "<host>-<hash of the configuration path>", keeping only valid characters of the host. */
static char *default_node_name(const cairn_conf *conf)
{
    char host[256] = "";
    char name[CONF_NODE_NAME_MAX + 1];
    size_t length = 0;
    char *absolute = realpath(conf->path, NULL);

    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "node");
    for (const char *p = host; *p != '\0' && length < CONF_NODE_NAME_MAX - 9; p++) {
        char c = *p;
        bool valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '_' || (c == '-' && length > 0);

        if (valid)
            name[length++] = c;
    }
    if (length == 0)
        name[length++] = 'n';
    snprintf(name + length, sizeof name - length, "-%08x",
             path_hash(absolute != NULL ? absolute : conf->path));
    free(absolute);
    return strdup(name);
}

int conf_load_node(const conf_report *report, cairn_conf *conf, const config_setting_t *root)
{
    const config_setting_t *group;
    const char *name = NULL;
    const char *problem;
    long long lease = CONF_NODE_LEASE_DEFAULT;

    if (conf_read_group(report, root, "", "node", &group) != 0)
        return -1;
    if (group != NULL &&
        (conf_check_keys(report, group, "node", node_keys,
                         sizeof node_keys / sizeof node_keys[0], NULL, 0) != 0 ||
         conf_read_string(report, group, "node", "name", NULL, &name) != 0 ||
         conf_read_int(report, group, "node", "lease_seconds", CONF_NODE_LEASE_DEFAULT, 2, 3600,
                       &lease) != 0))
        return -1;

    if (name != NULL) {
        problem = node_name_problem(name);
        if (problem != NULL)
            return conf_error(report, config_setting_get_member(group, "name"), "node.name",
                              "invalid node name \"%s\": %s", name, problem);
        conf->node.name = strdup(name);
    } else {
        conf->node.name = default_node_name(conf);
    }
    if (conf->node.name == NULL)
        return conf_error(report, group, "node.name", "out of memory");
    conf->node.lease_seconds = (int)lease;
    return 0;
}
