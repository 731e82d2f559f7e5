/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /v1/studies/{StudyInstanceUID}/commitment: the Storage Commitment
 * the archive requested of remote AEs (backup archives) for one study,
 * from the index's commitment_list. One entry per remote with the counts
 * of committed, pending and failed instances, and with ?instances=true
 * the state of each instance.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"

/* One remote of the reply, with its counts and, when asked, its instances. */
typedef struct remote_entry {
    json_t *object;
    json_t *instances; /* NULL unless ?instances=true */
    json_int_t counts[3]; /* by cairn_commitment_state */
} remote_entry;

typedef struct collect_state {
    json_t *remotes; /* array of the remote objects */
    remote_entry *entries;
    size_t count, cap;
    bool with_instances;
    bool failed;
} collect_state;

static const char *const state_names[] = {"pending", "committed", "failed"};

static bool valid_uid(const char *uid)
{
    size_t length = strlen(uid);

    if (length == 0 || length > 64)
        return false;
    for (size_t i = 0; i < length; i++) {
        if ((uid[i] < '0' || uid[i] > '9') && uid[i] != '.')
            return false;
    }
    return true;
}

/* Formats microseconds since the epoch as ISO 8601 UTC, or returns JSON null for 0. */
static json_t *time_value(int64_t us)
{
    time_t seconds = (time_t)(us / 1000000);
    struct tm tm;
    char text[32];

    if (us <= 0 || gmtime_r(&seconds, &tm) == NULL)
        return json_null();
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(text);
}

static remote_entry *entry_for(collect_state *st, const char *remote)
{
    remote_entry *entry;

    for (size_t i = 0; i < st->count; i++) {
        if (strcmp(json_string_value(json_object_get(st->entries[i].object, "remote")),
                   remote) == 0)
            return &st->entries[i];
    }
    if (st->count == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 4;
        remote_entry *grown = realloc(st->entries, cap * sizeof *grown);

        if (grown == NULL)
            return NULL;
        st->entries = grown;
        st->cap = cap;
    }
    entry = &st->entries[st->count];
    memset(entry, 0, sizeof *entry);
    entry->object = json_object();
    if (entry->object == NULL || json_object_set_new(entry->object, "remote",
                                                     api_json_text(remote, strlen(remote))) != 0)
        return NULL;
    if (st->with_instances) {
        entry->instances = json_array();
        if (entry->instances == NULL)
            return NULL;
    }
    st->count++;
    return entry;
}

static json_t *instance_object(const cairn_commitment *row)
{
    json_t *object = json_object();
    char reason[8];

    if (object == NULL)
        return NULL;
    json_object_set_new(object, "sop_instance_uid",
                        api_json_text(row->sop_instance_uid, strlen(row->sop_instance_uid)));
    json_object_set_new(object, "sop_class_uid",
                        api_json_text(row->sop_class_uid, strlen(row->sop_class_uid)));
    json_object_set_new(object, "state", json_string(state_names[row->state]));
    json_object_set_new(object, "transaction_uid",
                        api_json_text(row->transaction_uid, strlen(row->transaction_uid)));
    json_object_set_new(object, "calling_ae",
                        api_json_text(row->calling_ae, strlen(row->calling_ae)));
    json_object_set_new(object, "attempts", json_integer(row->attempts));
    json_object_set_new(object, "requested_at", time_value(row->requested_at_us));
    json_object_set_new(object, "updated_at", time_value(row->updated_at_us));
    if (row->state == CAIRN_COMMITMENT_PENDING)
        json_object_set_new(object, "next_attempt_at", time_value(row->due_at_us));
    if (row->state == CAIRN_COMMITMENT_FAILED && row->failure_reason != 0) {
        snprintf(reason, sizeof reason, "%04X", (unsigned)(row->failure_reason & 0xFFFFu));
        json_object_set_new(object, "failure_reason", json_string(reason));
    } else {
        json_object_set_new(object, "failure_reason", json_null());
    }
    json_object_set_new(object, "note", api_json_text(row->note, strlen(row->note)));
    return object;
}

static int collect_row(void *arg, const cairn_commitment *row)
{
    collect_state *st = arg;
    remote_entry *entry;

    if (row->state < CAIRN_COMMITMENT_PENDING || row->state > CAIRN_COMMITMENT_FAILED)
        return 0;
    entry = entry_for(st, row->remote_ae);
    if (entry == NULL) {
        st->failed = true;
        return 1;
    }
    entry->counts[row->state]++;
    if (entry->instances != NULL &&
        json_array_append_new(entry->instances, instance_object(row)) != 0) {
        st->failed = true;
        return 1;
    }
    return 0;
}

static void free_entries(collect_state *st)
{
    for (size_t i = 0; i < st->count; i++) {
        json_decref(st->entries[i].object);
        json_decref(st->entries[i].instances);
    }
    free(st->entries);
}

void api_get_study_commitment(const api_request *req, api_response *res, const char *study_uid)
{
    static const char *const params[] = {"instances", "remote"};
    const cairn_index_ops *ops = archive_index_ops(req->server->archive);
    const char *instances = api_query_param(req, "instances");
    cairn_commitment_filter filter = {.struct_size = sizeof filter, .state = -1};
    collect_state st = {0};
    json_t *reply, *remotes;
    cairn_status status;

    if (api_check_params(req, res, params, sizeof params / sizeof params[0]) != 0)
        return;
    if (!valid_uid(study_uid)) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "\"%.80s\" is not a valid Study Instance UID",
                        study_uid);
        return;
    }
    if (instances != NULL && strcmp(instances, "true") != 0 && strcmp(instances, "false") != 0) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "instances: use true or false, not \"%.32s\"",
                        instances);
        return;
    }
    if (ops->struct_size < offsetof(cairn_index_ops, commitment_list) + sizeof ops->commitment_list ||
        ops->commitment_list == NULL) {
        api_reply_error(res, MHD_HTTP_NOT_IMPLEMENTED, "the index back end %s keeps no storage "
                        "commitment", ops->name);
        return;
    }
    st.with_instances = instances != NULL && strcmp(instances, "true") == 0;
    filter.study_instance_uid = study_uid;
    filter.remote_ae = api_query_param(req, "remote");

    status = ops->commitment_list(archive_index_db(req->server->archive), &filter, collect_row,
                                  &st);
    if (status != CAIRN_OK || st.failed) {
        free_entries(&st);
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "listing the commitment of study "
                        "%s failed: %s", study_uid,
                        st.failed ? "out of memory" : cairn_strerror(status));
        return;
    }

    remotes = json_array();
    for (size_t i = 0; i < st.count && remotes != NULL; i++) {
        remote_entry *entry = &st.entries[i];

        json_object_set_new(entry->object, "committed", json_integer(entry->counts[1]));
        json_object_set_new(entry->object, "pending", json_integer(entry->counts[0]));
        json_object_set_new(entry->object, "failed", json_integer(entry->counts[2]));
        json_object_set_new(entry->object, "total",
                            json_integer(entry->counts[0] + entry->counts[1] + entry->counts[2]));
        if (entry->instances != NULL) {
            json_object_set(entry->object, "instances", entry->instances);
        }
        json_array_append(remotes, entry->object);
    }
    free_entries(&st);
    reply = json_pack("{s:s, s:o}", "study_instance_uid", study_uid, "remotes",
                      remotes != NULL ? remotes : json_array());
    if (reply == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    api_reply_json(res, MHD_HTTP_OK, reply);
}
