/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage Commitment Push Model plugin: settings, service registration
 * and the retry thread's life. The service is the SCP for requestors, and
 * takes the N-EVENT-REPORTs that backup archives send to the archive as
 * SCU, which the host applies (commitment_report_received).
 *
 * Settings: report = "same-association" (default) sends the N-EVENT-REPORT
 * on the requesting association while it is open, "new-association" always
 * on a new one; remotes_new_association = ["AE1", "AE2"] (or the older
 * comma-separated string "AE1,AE2") chooses the new association for those
 * requestors whatever report says; max_attempts (1..100, default 8) bounds
 * the deliveries of one report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commitment.h"

/*
 * Logs an invalid setting with its file, line and key when the host can
 * (config_error), and with the key alone otherwise. Returns CAIRN_ERR_CONFIG.
 */
static cairn_status setting_error(commitment *cm, const cairn_config *config, const char *key,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static cairn_status setting_error(commitment *cm, const cairn_config *config, const char *key,
                                  const char *fmt, ...)
{
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    if (CAIRN_HOST_HAS(cm->api, config_error))
        return cm->api->config_error(config, key, "%s", message);
    cm->api->log(cm->self, CAIRN_LOG_ERROR, "%s: %s", key, message);
    return CAIRN_ERR_CONFIG;
}

static void free_remotes(commitment *cm)
{
    for (size_t i = 0; i < cm->n_new_association_remotes; i++)
        free(cm->new_association_remotes[i]);
    free(cm->new_association_remotes);
    cm->new_association_remotes = NULL;
    cm->n_new_association_remotes = 0;
}

/* Adds one AE title of remotes_new_association, trimmed of spaces. */
static int add_remote(commitment *cm, const cairn_config *config, const char *p, size_t len)
{
    char **grown;

    while (len > 0 && *p == ' ') {
        p++;
        len--;
    }
    while (len > 0 && p[len - 1] == ' ')
        len--;
    if (len > 16) {
        setting_error(cm, config, "remotes_new_association", "\"%.*s\" is longer than 16 "
                      "characters, so it is no AE title", (int)len, p);
        return -1;
    }
    if (len == 0)
        return 0;
    grown = realloc(cm->new_association_remotes,
                    (cm->n_new_association_remotes + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    cm->new_association_remotes = grown;
    grown[cm->n_new_association_remotes] = strndup(p, len);
    if (grown[cm->n_new_association_remotes] == NULL)
        return -1;
    cm->n_new_association_remotes++;
    return 0;
}

/* Splits the older comma-separated form of remotes_new_association. */
static int parse_remotes(commitment *cm, const cairn_config *config, const char *list)
{
    const char *p = list;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (add_remote(cm, config, p, len) != 0)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/*
 * Reads remotes_new_association: a string array, or the older
 * comma-separated string, which stays accepted with a warning.
 */
static cairn_status read_remotes(commitment *cm, const cairn_config *config)
{
    const cairn_host_api *api = cm->api;
    const char *const *titles = NULL;
    const char *text = NULL;
    size_t count = 0;

    /*
     * Ask for the string form first, so that it gets only the warning below.
     * A host without config_is_string logs an error for the failed array read.
     */
    bool is_string = CAIRN_HOST_HAS(api, config_is_string) &&
                     api->config_is_string(config, "remotes_new_association");

    if (!is_string && api->config_get_string_list(config, "remotes_new_association", &titles,
                                                  &count) == CAIRN_OK) {
        for (size_t i = 0; i < count; i++) {
            if (add_remote(cm, config, titles[i], strlen(titles[i])) != 0)
                return CAIRN_ERR_CONFIG;
        }
        return CAIRN_OK;
    }
    if (api->config_get_string(config, "remotes_new_association", NULL, &text) != CAIRN_OK ||
        text == NULL)
        return CAIRN_ERR_CONFIG;
    api->log(cm->self, CAIRN_LOG_WARN, "remotes_new_association: the comma-separated string "
             "\"%s\" is read as a list of AE titles; write it as an array such as "
             "[\"AE1\", \"AE2\"]", text);
    return parse_remotes(cm, config, text) == 0 ? CAIRN_OK : CAIRN_ERR_CONFIG;
}

static cairn_status read_settings(commitment *cm, const cairn_config *config)
{
    static const char *const keys[] = {"report", "remotes_new_association", "max_attempts"};
    const cairn_host_api *api = cm->api;
    const char *report = NULL;
    int64_t max_attempts = 0;

    if (api->config_check_keys(config, keys, sizeof keys / sizeof keys[0]) != CAIRN_OK ||
        api->config_get_string(config, "report", "same-association", &report) != CAIRN_OK ||
        api->config_get_int(config, "max_attempts", 8, 1, 100, &max_attempts) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;

    if (strcmp(report, "new-association") == 0) {
        cm->report_new_association = true;
    } else if (strcmp(report, "same-association") != 0) {
        return setting_error(cm, config, "report", "\"%s\" is invalid; use "
                             "\"same-association\" or \"new-association\"", report);
    }
    cm->max_attempts = (unsigned)max_attempts;
    return read_remotes(cm, config);
}

static void commitment_shutdown(void *state)
{
    commitment *cm = state;

    if (cm == NULL)
        return;
    commitment_queue_stop(cm);
    for (size_t i = 0; i < cm->n_in_progress; i++)
        free(cm->in_progress[i]);
    free(cm->in_progress);
    for (size_t i = 0; i < cm->n_owned; i++)
        free(cm->owned[i]);
    free(cm->owned);
    free_remotes(cm);
    pthread_cond_destroy(&cm->wake);
    pthread_mutex_destroy(&cm->lock);
    pthread_mutex_destroy(&cm->load_lock);
    free(cm);
}

/*
 * Hands an N-EVENT-REPORT-RQ to the host: a backup archive answers the
 * archive's own request for commitment. Negotiation let only remotes
 * configured for that take the SCP role that sending one needs.
 */
static cairn_status commitment_on_n_event_report(void *state, cairn_assoc *assoc,
                                                 const cairn_message *request,
                                                 cairn_reply *reply)
{
    commitment *cm = state;

    return cm->api->commitment_report_received(assoc, request, reply);
}

static cairn_status commitment_init(cairn_plugin *self, const cairn_host_api *api,
                                    const cairn_config *config, void **state)
{
    static const char *const sop_classes[] = {COMMITMENT_SOP_CLASS};
    commitment *cm;
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP | CAIRN_ROLE_SCU,
        .name = "storage-commitment",
        .sop_classes = sop_classes,
        .sop_class_count = 1,
        .on_n_action = commitment_on_n_action,
        .on_n_event_report = commitment_on_n_event_report,
    };
    cairn_status st;

    *state = NULL;
    if (!CAIRN_HOST_HAS(api, commitment_report_received)) {
        api->log(self, CAIRN_LOG_ERROR, "the host is too old: it has no "
                 "commitment_report_received");
        return CAIRN_ERR_ABI;
    }
    cm = calloc(1, sizeof *cm);
    if (cm == NULL)
        return CAIRN_ERR_NO_MEMORY;
    cm->api = api;
    cm->self = self;
    pthread_mutex_init(&cm->load_lock, NULL);
    pthread_mutex_init(&cm->lock, NULL);
    pthread_cond_init(&cm->wake, NULL);

    st = read_settings(cm, config);
    if (st == CAIRN_OK) {
        service.state = cm;
        st = api->register_service(self, &service);
    }
    if (st == CAIRN_OK && commitment_queue_start(cm) != 0)
        st = CAIRN_ERR_INTERNAL;
    if (st != CAIRN_OK) {
        commitment_shutdown(cm);
        return st;
    }
    *state = cm;
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "commitment",
    "1.0.0",
    "Storage Commitment Push Model: the SCP, and reports to the archive as SCU",
    commitment_init,
    commitment_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
