/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `commitment` group of a `remotes` entry: whether the archive
 * requests Storage Commitment of that remote after each send job (the
 * remote is a backup archive), under which of our AE titles, and how long
 * it waits for the report and how often it requests again.
 */
#include "config/conf_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const commitment_keys[] = {
    "enabled", "calling_ae", "report_timeout", "max_attempts", "retry_delay",
    "retry_delay_max", "same_association_wait_ms",
};

/* Returns true when the AE lists plugin among the plugins it hosts. */
static bool ae_hosts(const conf_ae *ae, const char *plugin)
{
    for (size_t i = 0; i < ae->n_plugins; i++) {
        if (strcmp(ae->plugins[i], plugin) == 0)
            return true;
    }
    return false;
}

/*
 * Copies the trimmed calling_ae, which must name one of our AEs. While the
 * group is enabled that AE must host the commitment plugin, because the
 * remote may send its N-EVENT-REPORT on a new association to it.
 */
static int read_calling_ae(const conf_report *report, const cairn_conf *conf,
                           const config_setting_t *group, const char *path, bool enabled,
                           conf_remote_commitment *commitment)
{
    const config_setting_t *setting = config_setting_get_member(group, "calling_ae");
    char key_path[CONF_PATH_MAX];
    const char *value = NULL, *problem;
    const conf_ae *ae;

    if (conf_read_string(report, group, path, "calling_ae", NULL, &value) != 0)
        return -1;
    if (value == NULL)
        return 0;

    conf_join_path(key_path, sizeof key_path, path, "calling_ae");
    problem = conf_ae_title_problem(value);
    if (problem != NULL)
        return conf_error(report, setting, key_path, "invalid AE title \"%s\": %s", value,
                          problem);
    commitment->calling_ae = conf_trim_title(value);
    if (commitment->calling_ae == NULL)
        return conf_error(report, setting, key_path, "out of memory");
    ae = conf_find_ae(conf, commitment->calling_ae);
    if (ae == NULL)
        return conf_error(report, setting, key_path, "\"%s\" is not one of the AEs in `aes`",
                          commitment->calling_ae);
    if (enabled && !ae_hosts(ae, "commitment"))
        return conf_error(report, setting, key_path, "AE \"%s\" does not host the commitment "
                          "plugin, so it cannot take the remote's N-EVENT-REPORT on a new "
                          "association; add \"commitment\" to its plugins",
                          commitment->calling_ae);
    return 0;
}

int conf_load_remote_commitment(const conf_report *report, const cairn_conf *conf,
                                const config_setting_t *group, const char *path,
                                conf_remote_commitment *commitment)
{
    const config_setting_t *commitment_group = NULL;
    char group_path[CONF_PATH_MAX];
    long long timeout = 600, attempts = 5, delay = 30, delay_max = 3600, wait_ms = 500;
    bool enabled = true;

    memset(commitment, 0, sizeof *commitment);
    if (conf_read_group(report, group, path, "commitment", &commitment_group) != 0)
        return -1;
    if (commitment_group != NULL) {
        conf_join_path(group_path, sizeof group_path, path, "commitment");
        if (conf_check_keys(report, commitment_group, group_path, commitment_keys,
                            sizeof commitment_keys / sizeof commitment_keys[0], NULL, 0) != 0 ||
            conf_read_bool(report, commitment_group, group_path, "enabled", true, &enabled) != 0 ||
            read_calling_ae(report, conf, commitment_group, group_path, enabled, commitment) !=
                0 ||
            conf_read_int(report, commitment_group, group_path, "report_timeout", 600, 1,
                          604800, &timeout) != 0 ||
            conf_read_int(report, commitment_group, group_path, "max_attempts", 5, 1, 100,
                          &attempts) != 0 ||
            conf_read_int(report, commitment_group, group_path, "retry_delay", 30, 1, 86400,
                          &delay) != 0 ||
            conf_read_int(report, commitment_group, group_path, "retry_delay_max", 3600, 1,
                          604800, &delay_max) != 0 ||
            conf_read_int(report, commitment_group, group_path, "same_association_wait_ms",
                          500, 0, 60000, &wait_ms) != 0)
            return -1;
        if (delay_max < delay)
            return conf_error(report,
                              config_setting_get_member(commitment_group, "retry_delay_max"),
                              group_path, "retry_delay_max (%lld) is less than retry_delay "
                              "(%lld)", delay_max, delay);
    }
    commitment->enabled = commitment_group != NULL && enabled;
    commitment->report_timeout = (int)timeout;
    commitment->max_attempts = (int)attempts;
    commitment->retry_delay = (int)delay;
    commitment->retry_delay_max = (int)delay_max;
    commitment->same_association_wait_ms = (int)wait_ms;
    return 0;
}
