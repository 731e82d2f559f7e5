/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C-MOVE and C-GET SCP (PS3.4 C.4.2 and C.4.3). Both select the archived
 * instances named by the Unique Keys of the identifier, then send each by
 * a C-STORE sub-operation. C-MOVE sends on an association the host opens
 * to the Move Destination, which must be one of the configured remotes.
 * C-GET sends on the requesting association itself.
 *
 * Statuses: FF00 with the sub-operation counts while sending; 0000 when
 * every sub-operation succeeded; B000 when some failed or gave a warning;
 * A702 when all failed, when the destination cannot be reached, or when
 * more instances match than max_matches (or 65535, the most a count can
 * hold); A801 for a Move Destination missing from the remotes; A900 for
 * an identifier that does not fit the model; FE00 after C-CANCEL; C000
 * for an identifier that cannot be parsed; C001 when the index fails.
 * Responses other than Pending and Success carry the Failed SOP Instance
 * UID List (0008,0058) when a sub-operation failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qr.h"

#define STATUS_INVALID_IDENTIFIER 0xC000u
#define STATUS_INDEX_FAILED 0xC001u

#define TAG_MESSAGE_ID CAIRN_TAG(0x0000, 0x0110)
#define TAG_MOVE_DESTINATION CAIRN_TAG(0x0000, 0x0600)
#define TAG_REMAINING CAIRN_TAG(0x0000, 0x1020)
#define TAG_COMPLETED CAIRN_TAG(0x0000, 0x1021)
#define TAG_FAILED CAIRN_TAG(0x0000, 0x1022)
#define TAG_WARNING CAIRN_TAG(0x0000, 0x1023)
#define TAG_FAILED_SOP_INSTANCE_UID_LIST CAIRN_TAG(0x0008, 0x0058)

/* Sub-operation counts are US command fields. */
#define MAX_SUB_OPERATIONS 65535u

/* One archived instance to send. */
typedef struct retrieve_item {
    char *sop_class;
    char *sop_instance;
    char *path;
    char *transfer_syntax;
    char *calling_ae;
    uint64_t size;
    int64_t received_at_us;
    int failed;
} retrieve_item;

/* State of one C-MOVE or C-GET. */
typedef struct retrieve_run {
    const qr_state *st;
    const qr_model *model;
    qr_operation operation;
    cairn_assoc *assoc;
    const cairn_message *request;
    cairn_reply *reply;
    const char *destination;      /* C-MOVE only */
    uint16_t message_id;
    cairn_outbound *outbound;     /* C-MOVE only */
    retrieve_item *items;
    size_t count;
    size_t capacity;
    uint64_t limit;
    int out_of_memory;
    uint32_t completed, failed, warning;
} retrieve_run;

static const char *operation_name(const retrieve_run *run)
{
    return run->operation == QR_OP_MOVE ? "C-MOVE" : "C-GET";
}

static void free_items(retrieve_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        free(run->items[i].sop_class);
        free(run->items[i].sop_instance);
        free(run->items[i].path);
        free(run->items[i].transfer_syntax);
        free(run->items[i].calling_ae);
    }
    free(run->items);
    run->items = NULL;
    run->count = 0;
}

static char *copy_text(const char *text)
{
    return strdup(text != NULL ? text : "");
}

/* Collects one instance row of the index. */
static int on_instance(void *arg, const cairn_index_row *row)
{
    retrieve_run *run = arg;
    const cairn_host_api *api = run->st->api;
    char sop_class[80], sop_instance[80];
    retrieve_item *item;

    if (row->file == NULL || row->file->path == NULL)
        return 0;
    if (api->dataset_get_string(row->attributes, CAIRN_TAG_SOP_CLASS_UID, 0, sop_class,
                                sizeof sop_class) != CAIRN_OK ||
        api->dataset_get_string(row->attributes, CAIRN_TAG_SOP_INSTANCE_UID, 0, sop_instance,
                                sizeof sop_instance) != CAIRN_OK)
        return 0;

    if (run->count == run->capacity) {
        size_t capacity = run->capacity ? run->capacity * 2 : 64;
        retrieve_item *grown = realloc(run->items, capacity * sizeof *grown);

        if (grown == NULL) {
            run->out_of_memory = 1;
            return 1;
        }
        run->items = grown;
        run->capacity = capacity;
    }

    item = &run->items[run->count++];
    memset(item, 0, sizeof *item);
    item->sop_class = copy_text(sop_class);
    item->sop_instance = copy_text(sop_instance);
    item->path = copy_text(row->file->path);
    item->transfer_syntax = copy_text(row->file->transfer_syntax_uid);
    item->calling_ae = copy_text(row->file->calling_ae);
    item->size = row->file->size;
    item->received_at_us = row->file->received_at_us;
    if (item->sop_class == NULL || item->sop_instance == NULL || item->path == NULL ||
        item->transfer_syntax == NULL || item->calling_ae == NULL) {
        run->out_of_memory = 1;
        return 1;
    }
    return 0;
}

/* Sets a final status with an Error Comment and logs it. */
static cairn_status refuse(const retrieve_run *run, cairn_dimse_status status,
                           const char *comment)
{
    const cairn_host_api *api = run->st->api;

    api->reply_set_status(run->reply, status);
    api->reply_set_error_comment(run->reply, comment);
    api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_WARN, "%s (%s) failed with 0x%04X: %s",
                   operation_name(run), run->model->name, status, comment);
    return CAIRN_OK;
}

static void set_counts(const retrieve_run *run, uint32_t remaining)
{
    const cairn_host_api *api = run->st->api;

    api->reply_set_command_uint(run->reply, TAG_REMAINING, remaining);
    api->reply_set_command_uint(run->reply, TAG_COMPLETED, run->completed);
    api->reply_set_command_uint(run->reply, TAG_FAILED, run->failed);
    api->reply_set_command_uint(run->reply, TAG_WARNING, run->warning);
}

/*
 * Sets the counts of a final response. PS3.4 C.4.2.1.6 and C.4.3.1.5 allow
 * Number of Remaining Sub-operations in a Cancel response only, so any
 * other final response drops the field that a pending response had set.
 */
static void set_final_counts(const retrieve_run *run, int cancelled, uint32_t not_started)
{
    set_counts(run, not_started);
    if (!cancelled)
        run->st->api->reply_remove_command_field(run->reply, TAG_REMAINING);
}

/* Builds the Failed SOP Instance UID List identifier, or NULL when none failed. */
static cairn_dataset *failed_list(const retrieve_run *run)
{
    const cairn_host_api *api = run->st->api;
    cairn_dataset *identifier;
    size_t length = 1;
    char *list, *end;

    if (run->failed == 0)
        return NULL;
    for (size_t i = 0; i < run->count; i++) {
        if (run->items[i].failed)
            length += strlen(run->items[i].sop_instance) + 1;
    }
    list = malloc(length);
    identifier = api->dataset_create();
    if (list == NULL || identifier == NULL)
        goto fail;

    end = list;
    *end = '\0';
    for (size_t i = 0; i < run->count; i++) {
        if (!run->items[i].failed)
            continue;
        if (end != list)
            *end++ = '\\';
        end = stpcpy(end, run->items[i].sop_instance);
    }
    if (api->dataset_set_string(identifier, TAG_FAILED_SOP_INSTANCE_UID_LIST, CAIRN_VR_UI,
                                list) != CAIRN_OK)
        goto fail;
    free(list);
    return identifier;

fail:
    free(list);
    api->dataset_destroy(identifier);
    return NULL;
}

/* Marks every instance from first on as failed. */
static void fail_from(retrieve_run *run, size_t first)
{
    for (size_t i = first; i < run->count; i++) {
        run->items[i].failed = 1;
        run->failed++;
    }
}

/*
 * Opens the association to the Move Destination, proposing each distinct
 * (SOP class, stored transfer syntax) pair of the matched instances.
 */
static cairn_status open_destination(retrieve_run *run)
{
    const char **classes = calloc(run->count, sizeof *classes);
    const char **syntaxes = calloc(run->count, sizeof *syntaxes);
    size_t pairs = 0;
    cairn_status rc = CAIRN_ERR_NO_MEMORY;

    if (classes == NULL || syntaxes == NULL)
        goto out;
    for (size_t i = 0; i < run->count; i++) {
        size_t j = 0;

        while (j < pairs && (strcmp(classes[j], run->items[i].sop_class) != 0 ||
                             strcmp(syntaxes[j], run->items[i].transfer_syntax) != 0))
            j++;
        if (j < pairs)
            continue;
        classes[pairs] = run->items[i].sop_class;
        syntaxes[pairs] = run->items[i].transfer_syntax;
        pairs++;
    }
    rc = run->st->api->outbound_open(run->assoc, run->destination, classes, syntaxes, pairs,
                                     &run->outbound);

out:
    free(classes);
    free(syntaxes);
    return rc;
}

static int is_warning(cairn_dimse_status status)
{
    return (status & 0xF000u) == 0xB000u || status == 0x0001u || status == 0x0107u ||
           status == 0x0116u;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends one instance; returns non-zero when the association carrying it is lost. */
static int send_one(retrieve_run *run, retrieve_item *item)
{
    const cairn_host_api *api = run->st->api;
    cairn_instance_file file = {
        .struct_size = sizeof file,
        .path = item->path,
        .size = item->size,
        .transfer_syntax_uid = item->transfer_syntax,
        .received_at_us = item->received_at_us,
        .calling_ae = item->calling_ae,
    };
    cairn_dimse_status status = 0;
    cairn_status rc;

    if (run->operation == QR_OP_MOVE)
        rc = api->outbound_store(run->outbound, &file, item->sop_class, item->sop_instance,
                                 api->assoc_calling_ae(run->assoc), run->message_id, &status);
    else
        rc = api->assoc_store(run->assoc, &file, item->sop_class, item->sop_instance, &status);

    if (rc == CAIRN_OK && status == CAIRN_DIMSE_SUCCESS) {
        run->completed++;
        return 0;
    }
    if (rc == CAIRN_OK && is_warning(status)) {
        run->warning++;
        return 0;
    }

    item->failed = 1;
    run->failed++;
    if (rc != CAIRN_OK)
        api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_WARN,
                       "%s sub-operation for %s failed: %s", operation_name(run),
                       item->sop_instance, cairn_strerror(rc));
    else
        api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_WARN,
                       "%s sub-operation for %s failed with status 0x%04X",
                       operation_name(run), item->sop_instance, status);
    return rc == CAIRN_ERR_IO || rc == CAIRN_ERR_REFUSED;
}

/*
 * Runs the sub-operations, with pending responses at most every
 * pending_interval_ms. Returns the number not started because of a
 * C-CANCEL, or 0. Sets *send_failed when a pending response could not be sent.
 */
static size_t send_all(retrieve_run *run, int *cancelled, int *send_failed)
{
    const cairn_host_api *api = run->st->api;
    int64_t last_pending = now_ms();

    for (size_t i = 0; i < run->count; i++) {
        uint32_t remaining = (uint32_t)(run->count - i - 1);

        if (api->message_cancelled(run->request)) {
            *cancelled = 1;
            return run->count - i;
        }
        if (send_one(run, &run->items[i]) != 0) {
            fail_from(run, i + 1);
            return 0;
        }
        if (remaining == 0 || now_ms() - last_pending < run->st->pending_interval_ms)
            continue;
        set_counts(run, remaining);
        if (api->reply_send_pending(run->reply, CAIRN_DIMSE_PENDING, NULL) != CAIRN_OK) {
            *send_failed = 1;
            return 0;
        }
        last_pending = now_ms();
    }
    return 0;
}

/* Sets the final status, counts and Failed SOP Instance UID List. */
static cairn_status finish(retrieve_run *run, size_t not_started, int cancelled)
{
    const cairn_host_api *api = run->st->api;
    cairn_dimse_status status = CAIRN_DIMSE_SUCCESS;
    cairn_dataset *identifier = failed_list(run);

    set_final_counts(run, cancelled, (uint32_t)not_started);
    if (cancelled)
        status = CAIRN_DIMSE_CANCEL;
    else if (run->count > 0 && run->failed == run->count)
        status = CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS;
    else if (run->failed > 0 || run->warning > 0)
        status = CAIRN_DIMSE_QR_SUBOPERATIONS_FAILED;
    api->reply_set_status(run->reply, status);
    if (identifier != NULL)
        api->reply_set_dataset(run->reply, identifier);

    api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_INFO,
                   "%s (%s)%s%s: %zu instances, %" PRIu32 " completed, %" PRIu32 " failed, %"
                   PRIu32 " with warning, status 0x%04X", operation_name(run), run->model->name,
                   run->destination ? " to " : "", run->destination ? run->destination : "",
                   run->count, run->completed, run->failed, run->warning, status);
    return CAIRN_OK;
}

/* Selects the instances; returns non-zero after setting a failure status. */
static int select_instances(retrieve_run *run, const cairn_dataset *identifier,
                            cairn_index_level level)
{
    const cairn_host_api *api = run->st->api;
    cairn_index_query query = {.struct_size = sizeof query};
    cairn_dataset *keys = qr_retrieve_keys(run->st, run->model, identifier, level);
    char comment[96];
    cairn_status rc;

    if (keys == NULL) {
        refuse(run, CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS, "out of memory");
        return -1;
    }

    /* The Unique Keys were checked above, so the index may match them at any level. */
    query.level = CAIRN_LEVEL_INSTANCE;
    query.keys = keys;
    query.flags = CAIRN_QUERY_RELATIONAL;
    query.max_matches = run->limit;
    rc = api->archive_query(run->assoc, &query, on_instance, run);
    api->dataset_destroy(keys);

    if (rc == CAIRN_OK && run->out_of_memory)
        rc = CAIRN_ERR_NO_MEMORY;
    switch (rc) {
    case CAIRN_OK:
        return 0;
    case CAIRN_ERR_LIMIT:
        snprintf(comment, sizeof comment, "more than %" PRIu64 " instances; narrow the request",
                 run->limit);
        refuse(run, CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS, comment);
        return -1;
    case CAIRN_ERR_NO_MEMORY:
        refuse(run, CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS, "out of memory");
        return -1;
    case CAIRN_ERR_INVALID_ARGUMENT:
    case CAIRN_ERR_PARSE:
        refuse(run, STATUS_INVALID_IDENTIFIER, "identifier has a value that cannot be matched");
        return -1;
    default:
        snprintf(comment, sizeof comment, "index query failed: %s", cairn_strerror(rc));
        refuse(run, STATUS_INDEX_FAILED, comment);
        return -1;
    }
}

/* Sets the failure status for an outbound_open that failed with rc. */
static cairn_status refuse_destination(retrieve_run *run, cairn_status rc)
{
    char comment[96];

    if (rc == CAIRN_ERR_NOT_FOUND) {
        snprintf(comment, sizeof comment, "move destination %s unknown", run->destination);
        return refuse(run, CAIRN_DIMSE_QR_MOVE_DESTINATION_UNKNOWN, comment);
    }
    fail_from(run, 0);
    set_final_counts(run, 0, 0);
    snprintf(comment, sizeof comment, "cannot open association to %s: %s", run->destination,
             cairn_strerror(rc));
    refuse(run, CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS, comment);
    run->st->api->reply_set_dataset(run->reply, failed_list(run));
    return CAIRN_OK;
}

/*
 * Reads the Move Destination and checks that it is one of the configured
 * remotes, before anything is matched. Returns non-zero after setting a
 * failure status.
 */
static int read_destination(retrieve_run *run, char *buf, size_t size)
{
    const cairn_host_api *api = run->st->api;
    const cairn_dataset *command = api->message_command(run->request);
    uint32_t message_id = 0;

    api->dataset_get_uint(command, TAG_MESSAGE_ID, 0, &message_id);
    run->message_id = (uint16_t)message_id;
    if (run->operation != QR_OP_MOVE)
        return 0;

    if (api->dataset_get_string(command, TAG_MOVE_DESTINATION, 0, buf, size) != CAIRN_OK ||
        buf[0] == '\0') {
        refuse(run, CAIRN_DIMSE_QR_MOVE_DESTINATION_UNKNOWN,
               "request has no Move Destination (0000,0600)");
        return -1;
    }
    run->destination = buf;
    if (!api->remote_exists(run->assoc, buf)) {
        refuse_destination(run, CAIRN_ERR_NOT_FOUND);
        return -1;
    }
    return 0;
}

static cairn_status retrieve(const qr_state *st, qr_operation operation, cairn_assoc *assoc,
                             const cairn_message *request, cairn_reply *reply)
{
    const cairn_host_api *api = st->api;
    const char *sop_class = api->message_sop_class(request);
    retrieve_run run = {.st = st, .operation = operation, .assoc = assoc, .request = request,
                        .reply = reply};
    const cairn_dataset *identifier;
    qr_check check = {0};
    qr_operation found;
    int relational, unused, cancelled = 0, send_failed = 0;
    char destination[32];
    char comment[96];
    size_t not_started;
    cairn_status rc = CAIRN_OK;

    /* 1. The SOP class names the model; the identifier must parse and fit it. */
    run.model = qr_model_find(sop_class, &found);
    if (run.model == NULL || found != operation) {
        api->reply_set_status(reply, CAIRN_DIMSE_SOP_CLASS_NOT_SUPPORTED);
        return CAIRN_OK;
    }
    run.limit = st->max_matches < MAX_SUB_OPERATIONS ? st->max_matches : MAX_SUB_OPERATIONS;
    if (read_destination(&run, destination, sizeof destination) != 0)
        return CAIRN_OK;
    identifier = api->message_dataset(request);
    if (identifier == NULL) {
        const char *why = api->message_error(request);

        snprintf(comment, sizeof comment, "invalid identifier: %s", why ? why : "missing");
        return refuse(&run, STATUS_INVALID_IDENTIFIER, comment);
    }
    qr_negotiated(st, assoc, sop_class, &relational, &unused);
    qr_read_level(st, run.model, identifier, &check);
    if (check.status == 0)
        qr_check_retrieve(st, run.model, identifier, relational, &check);
    if (check.status != 0)
        return refuse(&run, check.status, check.comment);

    /* 2. Select the instances, then send them. */
    if (select_instances(&run, identifier, check.level) != 0)
        goto out;
    if (run.count > 0 && operation == QR_OP_MOVE) {
        rc = open_destination(&run);
        if (rc != CAIRN_OK) {
            rc = refuse_destination(&run, rc);
            goto out;
        }
    }
    not_started = send_all(&run, &cancelled, &send_failed);
    api->outbound_close(run.outbound);
    run.outbound = NULL;
    if (send_failed) {
        rc = CAIRN_ERR_IO;
        goto out;
    }
    rc = finish(&run, not_started, cancelled);

out:
    free_items(&run);
    return rc;
}

cairn_status qr_on_c_move(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                          cairn_reply *reply)
{
    return retrieve(service_state, QR_OP_MOVE, assoc, request, reply);
}

cairn_status qr_on_c_get(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                         cairn_reply *reply)
{
    return retrieve(service_state, QR_OP_GET, assoc, request, reply);
}
