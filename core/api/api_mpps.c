/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data router in the control API: GET /v1/mpps (the Modality
 * Performed Procedure Steps, filtered by study, modality, status or start
 * date), GET /v1/mpps/{SOPInstanceUID} (one step with the summary the
 * MPPS SCP keeps), and GET /v1/outbox (the DIMSE messages still waiting
 * for delivery to a remote AE, with their last error).
 */
#include "api/api_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000

/* True when the back end of the API's archive has the index op member. */
#define HAS_OP(ops, member)                                                     \
    ((ops)->struct_size >= offsetof(cairn_index_ops, member) + sizeof (ops)->member && \
     (ops)->member != NULL)

static json_t *text(const char *value)
{
    return api_json_text(value != NULL ? value : "", value != NULL ? strlen(value) : 0);
}

/* Formats microseconds since the epoch as ISO 8601 UTC, or JSON null for 0. */
static json_t *time_value(int64_t us)
{
    time_t seconds = (time_t)(us / 1000000);
    struct tm tm;
    char buf[32];

    if (us <= 0 || gmtime_r(&seconds, &tm) == NULL)
        return json_null();
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *step_object(const cairn_mpps_step *step, bool details)
{
    json_t *object = json_object();

    if (object == NULL)
        return NULL;
    json_object_set_new(object, "sop_instance_uid", text(step->sop_instance_uid));
    json_object_set_new(object, "status", text(step->status));
    json_object_set_new(object, "study_instance_uid", text(step->study_instance_uid));
    json_object_set_new(object, "modality", text(step->modality));
    json_object_set_new(object, "start", text(step->start_datetime));
    json_object_set_new(object, "calling_ae", text(step->calling_ae));
    json_object_set_new(object, "created_at", time_value(step->created_at_us));
    json_object_set_new(object, "updated_at", time_value(step->updated_at_us));
    if (details) {
        /* The document is the plugin's JSON; the encoded data set stays out of the reply. */
        json_t *document = json_loads(step->document, 0, NULL);

        if (json_is_object(document)) {
            json_object_del(document, "dataset");
            json_object_set_new(object, "details", document);
        } else {
            json_decref(document);
        }
    }
    return object;
}

typedef struct collect_steps {
    json_t *array;
    bool details;
    bool failed;
} collect_steps;

static int add_step(void *arg, const cairn_mpps_step *step)
{
    collect_steps *st = arg;

    if (json_array_append_new(st->array, step_object(step, st->details)) != 0) {
        st->failed = true;
        return 1;
    }
    return 0;
}

/* Reads ?limit=, between 1 and MAX_LIMIT; returns -1 after a 400. */
static int read_limit(const api_request *req, api_response *res, uint64_t *limit)
{
    const char *value = api_query_param(req, "limit");
    char *end = NULL;
    unsigned long long parsed;

    *limit = DEFAULT_LIMIT;
    if (value == NULL)
        return 0;
    parsed = strtoull(value, &end, 10);
    if (*value == '\0' || *end != '\0' || parsed < 1 || parsed > MAX_LIMIT) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "limit: use a number from 1 to %d, not "
                        "\"%.32s\"", MAX_LIMIT, value);
        return -1;
    }
    *limit = parsed;
    return 0;
}

static bool router_ops(const api_request *req, api_response *res, const cairn_index_ops **ops)
{
    *ops = archive_index_ops(req->server->archive);
    if (!HAS_OP(*ops, mpps_list) || !HAS_OP(*ops, mpps_get) || !HAS_OP(*ops, outbox_list)) {
        api_reply_error(res, MHD_HTTP_NOT_IMPLEMENTED, "the index back end %s keeps no MPPS "
                        "steps or outbox", (*ops)->name);
        return false;
    }
    return true;
}

void api_list_mpps(const api_request *req, api_response *res)
{
    static const char *const params[] = {"study", "modality", "status", "from", "to", "limit"};
    cairn_mpps_filter filter = {.struct_size = sizeof filter};
    collect_steps st = {0};
    const cairn_index_ops *ops;
    cairn_status status;

    if (api_check_params(req, res, params, sizeof params / sizeof params[0]) != 0 ||
        read_limit(req, res, &filter.max_rows) != 0 || !router_ops(req, res, &ops))
        return;
    filter.study_instance_uid = api_query_param(req, "study");
    filter.modality = api_query_param(req, "modality");
    filter.status = api_query_param(req, "status");
    filter.start_from = api_query_param(req, "from");
    filter.start_to = api_query_param(req, "to");

    st.array = json_array();
    if (st.array == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    status = ops->mpps_list(archive_index_db(req->server->archive), &filter, add_step, &st);
    if (status != CAIRN_OK || st.failed) {
        json_decref(st.array);
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "listing the MPPS steps failed: %s",
                        st.failed ? "out of memory" : cairn_strerror(status));
        return;
    }
    api_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "mpps", st.array));
}

void api_get_mpps(const api_request *req, api_response *res, const char *uid)
{
    collect_steps st = {.details = true};
    const cairn_index_ops *ops;
    cairn_status status;
    json_t *step;

    if (api_check_params(req, res, NULL, 0) != 0 || !router_ops(req, res, &ops))
        return;
    st.array = json_array();
    if (st.array == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    status = ops->mpps_get(archive_index_db(req->server->archive), uid, add_step, &st);
    if (status == CAIRN_ERR_NOT_FOUND) {
        json_decref(st.array);
        api_reply_error(res, MHD_HTTP_NOT_FOUND, "no MPPS step %.80s", uid);
        return;
    }
    if (status != CAIRN_OK || st.failed || json_array_size(st.array) == 0) {
        json_decref(st.array);
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "reading MPPS step %.80s failed: %s",
                        uid, st.failed ? "out of memory" : cairn_strerror(status));
        return;
    }
    step = json_incref(json_array_get(st.array, 0));
    json_decref(st.array);
    api_reply_json(res, MHD_HTTP_OK, step);
}

typedef struct collect_messages {
    json_t *array;
    uint64_t limit;
    uint64_t total;
    bool failed;
} collect_messages;

static int add_message(void *arg, const cairn_outbox_message *message)
{
    collect_messages *st = arg;
    json_t *object;

    st->total++;
    if (json_array_size(st->array) >= st->limit)
        return 0;
    object = json_object();
    if (object == NULL || json_array_append_new(st->array, object) != 0) {
        st->failed = true;
        return 1;
    }
    json_object_set_new(object, "id", json_integer((json_int_t)message->id));
    json_object_set_new(object, "kind", text(message->kind));
    json_object_set_new(object, "destination", text(message->destination));
    json_object_set_new(object, "calling_ae", text(message->calling_ae));
    json_object_set_new(object, "group", text(message->group_key));
    json_object_set_new(object, "attempts", json_integer(message->attempts));
    json_object_set_new(object, "last_error", text(message->last_error));
    json_object_set_new(object, "created_at", time_value(message->created_at_us));
    json_object_set_new(object, "next_attempt_at", time_value(message->next_attempt_at_us));
    return 0;
}

void api_list_outbox(const api_request *req, api_response *res)
{
    static const char *const params[] = {"kind", "limit"};
    collect_messages st = {0};
    const cairn_index_ops *ops;
    cairn_status status;

    if (api_check_params(req, res, params, sizeof params / sizeof params[0]) != 0 ||
        read_limit(req, res, &st.limit) != 0 || !router_ops(req, res, &ops))
        return;
    st.array = json_array();
    if (st.array == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    status = ops->outbox_list(archive_index_db(req->server->archive),
                              api_query_param(req, "kind"), add_message, &st);
    if (status != CAIRN_OK || st.failed) {
        json_decref(st.array);
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "listing the outbox failed: %s",
                        st.failed ? "out of memory" : cairn_strerror(status));
        return;
    }
    api_reply_json(res, MHD_HTTP_OK, json_pack("{s:I, s:o}", "total", (json_int_t)st.total,
                                               "messages", st.array));
}
