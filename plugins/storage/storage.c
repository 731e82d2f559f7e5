/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage SCP (PS3.4 annex B). Checks each received instance against its
 * C-STORE request, then asks the host to archive it; the host answers only
 * after the instance is durable and indexed.
 *
 * Statuses: 0xC000 when the data set cannot be parsed, 0xA900 when the
 * data set disagrees with the request or lacks a Study, Series or SOP
 * Instance UID, 0xA700 when the disk is full or a write or the index fails,
 * 0x0111 for a duplicate under the "reject" policy.
 *
 * Settings (plugins.storage): duplicates = "keep" (default) | "replace" |
 * "reject", for a SOP Instance UID that is already archived;
 * rejection_delete_codes and rejection_hide_codes, the codes of IOCM
 * rejection notes (rejection.c), and aes, a list of groups that set those
 * codes for one AE title (rejection_settings.c).
 */
#include <stdio.h>
#include <string.h>

#include <cairn/cairn.h>

#include "rejection.h"
#include "storage_classes.h"

typedef struct storage_state {
    const cairn_host_api *api;
    cairn_plugin *self;
    cairn_duplicate_policy duplicates;
    rejection_settings rejection;
} storage_state;

static storage_state plugin_state;

/* Sets a failure status with an Error Comment and logs it once. */
static cairn_status fail(storage_state *st, cairn_assoc *assoc, cairn_reply *reply,
                         cairn_dimse_status status, const char *sop_instance, const char *comment)
{
    st->api->reply_set_status(reply, status);
    st->api->reply_set_error_comment(reply, comment);
    st->api->log_assoc(st->self, assoc, CAIRN_LOG_WARN, "C-STORE of %s failed with 0x%04X: %s",
                       sop_instance ? sop_instance : "(no SOP Instance UID)", status, comment);
    return CAIRN_OK;
}

/* Reads a UID attribute of the data set; false when absent or empty. */
static int get_uid(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag,
                   char *buf, size_t size)
{
    return api->dataset_get_string(ds, tag, 0, buf, size) == CAIRN_OK && buf[0] != '\0';
}

/*
 * Checks the UID form of PS3.5 9.1: at most 64 characters, digits and
 * dots, no empty component. Leading zeros, which PS3.5 also forbids, are
 * let through because real modalities write them and nothing here
 * depends on them.
 */
static int uid_is_valid(const char *uid)
{
    size_t len = strlen(uid);
    char previous = '.';

    if (len == 0 || len > 64)
        return 0;
    for (const char *p = uid; *p; p++) {
        if (*p == '.' && previous == '.')
            return 0;
        if (*p != '.' && (*p < '0' || *p > '9'))
            return 0;
        previous = *p;
    }
    return previous != '.';
}

/* Returns an Error Comment when the data set does not match the request, else NULL. */
static const char *check_identity(const cairn_host_api *api, const cairn_message *request,
                                  const cairn_dataset *ds)
{
    const char *command_class = api->message_sop_class(request);
    const char *command_instance = api->message_sop_instance(request);
    char uid[80];

    if (command_instance == NULL)
        return "request has no Affected SOP Instance UID";
    if (!get_uid(api, ds, CAIRN_TAG_SOP_CLASS_UID, uid, sizeof uid))
        return "data set has no SOP Class UID (0008,0016)";
    if (command_class == NULL || strcmp(uid, command_class) != 0)
        return "SOP Class UID (0008,0016) differs from Affected SOP Class UID";
    if (!get_uid(api, ds, CAIRN_TAG_SOP_INSTANCE_UID, uid, sizeof uid))
        return "data set has no SOP Instance UID (0008,0018)";
    if (strcmp(uid, command_instance) != 0)
        return "SOP Instance UID (0008,0018) differs from Affected SOP Instance UID";
    if (!uid_is_valid(uid))
        return "SOP Instance UID (0008,0018) is not a valid UID";
    if (!get_uid(api, ds, CAIRN_TAG_STUDY_INSTANCE_UID, uid, sizeof uid))
        return "data set has no Study Instance UID (0020,000D)";
    if (!uid_is_valid(uid))
        return "Study Instance UID (0020,000D) is not a valid UID";
    if (!get_uid(api, ds, CAIRN_TAG_SERIES_INSTANCE_UID, uid, sizeof uid))
        return "data set has no Series Instance UID (0020,000E)";
    if (!uid_is_valid(uid))
        return "Series Instance UID (0020,000E) is not a valid UID";
    return NULL;
}

static cairn_status on_c_store(void *state, cairn_assoc *assoc, const cairn_message *request,
                               cairn_reply *reply)
{
    storage_state *st = state;
    const cairn_host_api *api = st->api;
    const char *sop_instance = api->message_sop_instance(request);
    const cairn_dataset *ds = api->message_dataset(request);
    const char *mismatch;
    char comment[256];
    cairn_store_outcome outcome;
    bool store_note = true;
    cairn_status rc;

    /* 1. The data set must parse and agree with the request. */
    if (ds == NULL) {
        const char *why = api->message_error(request);

        snprintf(comment, sizeof comment, "%s", why ? why : "data set missing");
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_CANNOT_UNDERSTAND, sop_instance, comment);
    }
    mismatch = check_identity(api, request, ds);
    if (mismatch != NULL)
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_DATASET_MISMATCH, sop_instance, mismatch);

    /* 2. A rejection note deletes or hides the instances it references. */
    rc = rejection_apply(api, st->self, assoc, ds,
                         rejection_codes_for(&st->rejection, api->assoc_called_ae(assoc)),
                         &store_note);
    if (rc != CAIRN_OK) {
        snprintf(comment, sizeof comment, "rejection note failed: %s", cairn_strerror(rc));
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_OUT_OF_RESOURCES, sop_instance, comment);
    }
    if (!store_note) {
        api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
        return CAIRN_OK;
    }

    /* 3. The host makes it durable and indexes it before we answer. */
    rc = api->archive_store(assoc, request, st->duplicates, &outcome);
    if (rc == CAIRN_ERR_NO_SPACE)
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_OUT_OF_RESOURCES, sop_instance,
                    "archive disk is full");
    if (rc == CAIRN_ERR_OUTCOME_UNKNOWN)
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_OUT_OF_RESOURCES, sop_instance,
                    "index outcome unknown (database down); send the instance again");
    if (rc != CAIRN_OK) {
        snprintf(comment, sizeof comment, "archive failed: %s", cairn_strerror(rc));
        return fail(st, assoc, reply, CAIRN_DIMSE_STORE_OUT_OF_RESOURCES, sop_instance, comment);
    }
    if (outcome == CAIRN_STORE_REJECTED)
        return fail(st, assoc, reply, CAIRN_DIMSE_DUPLICATE_SOP_INSTANCE, sop_instance,
                    "SOP Instance UID is already archived");

    if (outcome == CAIRN_STORE_KEPT)
        api->log_assoc(st->self, assoc, CAIRN_LOG_INFO,
                       "duplicate %s: kept the archived instance", sop_instance);
    else if (outcome == CAIRN_STORE_REPLACED)
        api->log_assoc(st->self, assoc, CAIRN_LOG_INFO,
                       "duplicate %s: replaced the archived instance", sop_instance);
    api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}

static cairn_status read_settings(storage_state *st, const cairn_config *config)
{
    static const char *const allowed[] = {"duplicates", "rejection_delete_codes",
                                          "rejection_hide_codes", "aes"};
    const char *policy;

    if (st->api->config_check_keys(config, allowed, sizeof allowed / sizeof allowed[0]) !=
        CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (rejection_read_settings(st->api, st->self, config, &st->rejection) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (st->api->config_get_string(config, "duplicates", "keep", &policy) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;

    if (strcmp(policy, "keep") == 0) {
        st->duplicates = CAIRN_DUPLICATE_KEEP;
    } else if (strcmp(policy, "replace") == 0) {
        st->duplicates = CAIRN_DUPLICATE_REPLACE;
    } else if (strcmp(policy, "reject") == 0) {
        st->duplicates = CAIRN_DUPLICATE_REJECT;
    } else {
        st->api->log(st->self, CAIRN_LOG_ERROR,
                     "plugins.storage.duplicates: invalid value '%s'; expected keep, replace "
                     "or reject", policy);
        return CAIRN_ERR_CONFIG;
    }
    return CAIRN_OK;
}

static void storage_shutdown(void *state)
{
    storage_state *st = state;

    if (st != NULL)
        rejection_free_settings(&st->rejection);
}

static cairn_status storage_init(cairn_plugin *self, const cairn_host_api *api,
                                 const cairn_config *config, void **state)
{
    storage_state *st = &plugin_state;
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP | CAIRN_ROLE_SCU,
        .name = "storage",
        .sop_classes = storage_sop_classes,
        .sop_class_count = storage_sop_class_count,
        .state = st,
        .on_c_store = on_c_store,
    };
    cairn_status rc;

    st->api = api;
    st->self = self;
    *state = st;

    rc = read_settings(st, config);
    if (rc == CAIRN_OK)
        rc = api->register_service(self, &service);
    if (rc != CAIRN_OK) {
        storage_shutdown(st);
        *state = NULL;
    }
    return rc;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "storage",
    "1.0.0",
    "Storage SCP: archives every storage SOP class",
    storage_init,
    storage_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
