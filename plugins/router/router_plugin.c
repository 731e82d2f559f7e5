/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data router plugin: settings, the MPPS service, the subscription to
 * stored instances and the delivery thread's life.
 *
 * Settings (section "router"):
 *   order_fillers = ["RIS"]       remote AEs every N-CREATE and N-SET is forwarded to
 *   forward_calling_ae = "ROUTER" calling AE title of the forwarding associations
 *                                 (default: the AE title the modality called)
 *   notify = ["RIS"]              remote AEs notified when a study is complete (default none)
 *   notify_calling_ae = "ROUTER"  calling AE title of the notification associations
 *   retrieve_ae_title = "CAIRN"   Retrieve AE Title (0008,0054) in the notifications
 *   study_idle_seconds = 60       a study with no new instance for this long is complete
 *   retry_initial_seconds = 5     first wait after a failed delivery, doubled each time
 *   retry_max_seconds = 600       longest wait between two deliveries
 *   max_attempts = 0              failed deliveries before a message is dropped (0: never)
 *   check_type2 = true            N-CREATE must carry the type 2 attributes of table F.7.2-1
 */
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "router.h"

static bool valid_title(const char *title)
{
    size_t len = strlen(title);

    return len > 0 && len <= 16 && strchr(title, '\\') == NULL;
}

/*
 * Logs an invalid setting with its file, line and key when the host can
 * (config_error), and with the key alone otherwise. Returns CAIRN_ERR_CONFIG.
 */
static cairn_status setting_error(router *rt, const cairn_config *config, const char *key,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static cairn_status setting_error(router *rt, const cairn_config *config, const char *key,
                                  const char *fmt, ...)
{
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    if (CAIRN_HOST_HAS(rt->api, config_error))
        return rt->api->config_error(config, key, "%s", message);
    rt->api->log(rt->self, CAIRN_LOG_ERROR, "%s: %s", key, message);
    return CAIRN_ERR_CONFIG;
}

/* Checks that each title is an AE title and, when the host can tell, one of the remotes. */
static cairn_status check_titles(router *rt, const cairn_config *config, const char *key,
                                 const char *const *titles, size_t count)
{
    bool can_check_remotes = CAIRN_HOST_HAS(rt->api, config_remote_exists);

    for (size_t i = 0; i < count; i++) {
        if (!valid_title(titles[i]))
            return setting_error(rt, config, key, "\"%s\" is no AE title (1 to 16 "
                                 "characters, no backslash)", titles[i]);
        if (can_check_remotes && !rt->api->config_remote_exists(config, titles[i]))
            return setting_error(rt, config, key, "\"%s\" is not the title of any entry of "
                                 "`remotes`; add a remote with that title (host and port) "
                                 "or remove it here", titles[i]);
    }
    if (!can_check_remotes && count > 0)
        rt->api->log(rt->self, CAIRN_LOG_WARN, "%s: this cairnd cannot check the titles "
                     "against `remotes` at start; an unknown title fails at its first "
                     "delivery", key);
    return CAIRN_OK;
}

static cairn_status read_settings(router *rt, const cairn_config *config)
{
    static const char *const keys[] = {
        "order_fillers", "forward_calling_ae", "notify", "notify_calling_ae",
        "retrieve_ae_title", "study_idle_seconds", "retry_initial_seconds",
        "retry_max_seconds", "max_attempts", "check_type2",
    };
    const cairn_host_api *api = rt->api;
    int64_t idle = 0, initial = 0, max = 0, attempts = 0;
    int check_type2 = 1;

    if (api->config_check_keys(config, keys, sizeof keys / sizeof keys[0]) != CAIRN_OK ||
        api->config_get_string_list(config, "order_fillers", &rt->order_fillers,
                                    &rt->order_filler_count) != CAIRN_OK ||
        api->config_get_string(config, "forward_calling_ae", "", &rt->forward_calling_ae) !=
            CAIRN_OK ||
        api->config_get_string_list(config, "notify", &rt->notify_remotes,
                                    &rt->notify_remote_count) != CAIRN_OK ||
        api->config_get_string(config, "notify_calling_ae", "", &rt->notify_calling_ae) !=
            CAIRN_OK ||
        api->config_get_string(config, "retrieve_ae_title", "", &rt->retrieve_ae_title) !=
            CAIRN_OK ||
        api->config_get_int(config, "study_idle_seconds", 60, 1, 7 * 86400, &idle) != CAIRN_OK ||
        api->config_get_int(config, "retry_initial_seconds", 5, 1, 86400, &initial) !=
            CAIRN_OK ||
        api->config_get_int(config, "retry_max_seconds", 600, 1, 7 * 86400, &max) != CAIRN_OK ||
        api->config_get_int(config, "max_attempts", 0, 0, 1000000, &attempts) != CAIRN_OK ||
        api->config_get_bool(config, "check_type2", 1, &check_type2) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;

    if (check_titles(rt, config, "order_fillers", rt->order_fillers,
                     rt->order_filler_count) != CAIRN_OK ||
        check_titles(rt, config, "notify", rt->notify_remotes, rt->notify_remote_count) !=
            CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (rt->forward_calling_ae[0] != '\0' && !valid_title(rt->forward_calling_ae))
        return setting_error(rt, config, "forward_calling_ae", "\"%s\" is no AE title (1 to "
                             "16 characters, no backslash)", rt->forward_calling_ae);
    if (rt->notify_remote_count > 0 && !valid_title(rt->notify_calling_ae))
        return setting_error(rt, config, "notify_calling_ae", "notify is set, so "
                             "notify_calling_ae must be an AE title (1 to 16 characters, no "
                             "backslash), not \"%s\"", rt->notify_calling_ae);
    if (rt->notify_remote_count > 0 && !valid_title(rt->retrieve_ae_title))
        return setting_error(rt, config, "retrieve_ae_title", "notify is set, so "
                             "retrieve_ae_title must be an AE title (1 to 16 characters, no "
                             "backslash), not \"%s\"", rt->retrieve_ae_title);
    if (max < initial)
        return setting_error(rt, config, "retry_max_seconds", "%lld is less than "
                             "retry_initial_seconds (%lld)", (long long)max,
                             (long long)initial);
    rt->study_idle_us = idle * 1000000;
    rt->retry_initial_us = initial * 1000000;
    rt->retry_max_us = max * 1000000;
    rt->max_attempts = (unsigned)attempts;
    rt->rules.api = api;
    rt->rules.check_type2 = check_type2 != 0;
    return CAIRN_OK;
}

static void router_shutdown(void *state)
{
    router *rt = state;

    if (rt == NULL)
        return;
    router_thread_stop(rt);
    while (rt->studies != NULL) {
        router_study *s = rt->studies;

        rt->studies = s->next;
        free(s);
    }
    pthread_cond_destroy(&rt->wake);
    pthread_mutex_destroy(&rt->lock);
    pthread_mutex_destroy(&rt->step_lock);
    free(rt);
}

static cairn_status router_init(cairn_plugin *self, const cairn_host_api *api,
                                const cairn_config *config, void **state)
{
    static const char *const sop_classes[] = {MPPS_SOP_CLASS};
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP,
        .name = "mpps",
        .sop_classes = sop_classes,
        .sop_class_count = 1,
        .on_n_create = mpps_on_n_create,
        .on_n_set = mpps_on_n_set,
    };
    router *rt;
    cairn_status st;

    *state = NULL;
    if (!CAIRN_HOST_HAS(api, outbound_request)) {
        api->log(self, CAIRN_LOG_ERROR, "the host is too old: it has no outbound_request");
        return CAIRN_ERR_ABI;
    }
    rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return CAIRN_ERR_NO_MEMORY;
    rt->api = api;
    rt->self = self;
    pthread_mutex_init(&rt->step_lock, NULL);
    pthread_mutex_init(&rt->lock, NULL);
    pthread_cond_init(&rt->wake, NULL);

    st = read_settings(rt, config);
    if (st == CAIRN_OK) {
        service.state = rt;
        st = api->register_service(self, &service);
    }
    if (st == CAIRN_OK && rt->notify_remote_count > 0)
        st = api->subscribe_instance_stored(self, router_on_instance_stored, rt);
    if (st == CAIRN_OK && router_thread_start(rt) != 0)
        st = CAIRN_ERR_INTERNAL;
    if (st != CAIRN_OK) {
        router_shutdown(rt);
        return st;
    }
    api->log(self, CAIRN_LOG_INFO, "MPPS SCP: %zu order filler(s); study notifications to %zu "
             "RIS AE(s)", rt->order_filler_count, rt->notify_remote_count);
    *state = rt;
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "router",
    "1.0.0",
    "Data router: MPPS SCP with forwarding, study notifications (IAN, BSCN)",
    router_init,
    router_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
