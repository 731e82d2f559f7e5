/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C-FIND SCP (PS3.4 C.4.1). Checks the identifier against the model, lets
 * the index back end do all the matching, and sends one pending response
 * per match as the index returns it, so memory does not grow with the
 * number of matches.
 *
 * Statuses: FF00 per match, or FF01 when the identifier contains a standard
 * key this plugin does not support (the key is left out of the response,
 * except a sequence the index does not keep, which comes back without
 * items and no warning);
 * FE00 after C-CANCEL; A700 beyond max_matches; A900 for an identifier
 * that does not fit the model; C000 for an identifier that cannot be
 * parsed or contains a value the index cannot match; C001 when the index
 * fails.
 */
#include <inttypes.h>
#include <stdio.h>

#include "qr.h"

#define STATUS_INVALID_IDENTIFIER 0xC000u
#define STATUS_INDEX_FAILED 0xC001u

/* State of one C-FIND while the index returns its rows. */
typedef struct find_run {
    const qr_state *st;
    const qr_model *model;
    cairn_assoc *assoc;
    const cairn_message *request;
    cairn_reply *reply;
    const cairn_dataset *identifier;
    cairn_index_level level;
    uint64_t matches;
    int cancelled;
    int send_failed;
    int out_of_memory;
} find_run;

static int on_row(void *arg, const cairn_index_row *row)
{
    find_run *run = arg;
    const cairn_host_api *api = run->st->api;
    cairn_dataset *response;
    int unsupported = 0;

    if (api->message_cancelled(run->request)) {
        run->cancelled = 1;
        return 1;
    }

    response = qr_find_response(run->st, run->assoc, run->model, run->identifier, row,
                                run->level, &unsupported);
    if (response == NULL) {
        run->out_of_memory = 1;
        return 1;
    }
    if (api->reply_send_pending(run->reply,
                                unsupported ? CAIRN_DIMSE_PENDING_WARNING : CAIRN_DIMSE_PENDING,
                                response) != CAIRN_OK) {
        run->send_failed = 1;
        return 1;
    }
    run->matches++;
    return 0;
}

/* Sets a final status with an Error Comment and logs it. */
static cairn_status answer(const find_run *run, cairn_dimse_status status, const char *comment)
{
    const cairn_host_api *api = run->st->api;

    api->reply_set_status(run->reply, status);
    if (comment != NULL) {
        api->reply_set_error_comment(run->reply, comment);
        api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_WARN,
                       "C-FIND (%s) failed with 0x%04X: %s", run->model->name, status, comment);
    }
    return CAIRN_OK;
}

/* Maps the outcome of archive_query to the final response. */
static cairn_status finish(const find_run *run, cairn_status rc)
{
    const cairn_host_api *api = run->st->api;
    char comment[96];

    if (run->send_failed)
        return CAIRN_ERR_IO;
    if (run->out_of_memory)
        return answer(run, CAIRN_DIMSE_QR_OUT_OF_RESOURCES, "out of memory");

    switch (rc) {
    case CAIRN_OK:
        break;
    case CAIRN_ERR_LIMIT:
        snprintf(comment, sizeof comment, "more than %" PRIu64 " matches; narrow the query",
                 run->st->max_matches);
        return answer(run, CAIRN_DIMSE_QR_OUT_OF_RESOURCES, comment);
    case CAIRN_ERR_NO_MEMORY:
        return answer(run, CAIRN_DIMSE_QR_OUT_OF_RESOURCES, "out of memory");
    case CAIRN_ERR_INVALID_ARGUMENT:
    case CAIRN_ERR_PARSE:
        return answer(run, STATUS_INVALID_IDENTIFIER, "identifier has a value that cannot be matched");
    case CAIRN_ERR_UNSUPPORTED:
        return answer(run, STATUS_INDEX_FAILED, "the index back end cannot run queries");
    default:
        snprintf(comment, sizeof comment, "index query failed: %s", cairn_strerror(rc));
        return answer(run, STATUS_INDEX_FAILED, comment);
    }

    if (run->cancelled) {
        api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_INFO,
                       "C-FIND (%s, %s) cancelled after %" PRIu64 " matches", run->model->name,
                       qr_level_name(run->level), run->matches);
        return answer(run, CAIRN_DIMSE_CANCEL, NULL);
    }
    api->log_assoc(run->st->self, run->assoc, CAIRN_LOG_INFO, "C-FIND (%s, %s): %" PRIu64
                   " matches", run->model->name, qr_level_name(run->level), run->matches);
    return answer(run, CAIRN_DIMSE_SUCCESS, NULL);
}

cairn_status qr_on_c_find(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                          cairn_reply *reply)
{
    const qr_state *st = service_state;
    const cairn_host_api *api = st->api;
    const char *sop_class = api->message_sop_class(request);
    find_run run = {.st = st, .assoc = assoc, .request = request, .reply = reply};
    qr_check check = {0};
    qr_operation operation;
    int relational, combined_datetime;
    char comment[96];
    cairn_index_query query = {.struct_size = sizeof query};
    cairn_status rc;

    /* 1. The SOP class names the model; the identifier must parse. */
    run.model = qr_model_find(sop_class, &operation);
    if (run.model == NULL || operation != QR_OP_FIND) {
        api->reply_set_status(reply, CAIRN_DIMSE_SOP_CLASS_NOT_SUPPORTED);
        return CAIRN_OK;
    }
    run.identifier = api->message_dataset(request);
    if (run.identifier == NULL) {
        const char *why = api->message_error(request);

        snprintf(comment, sizeof comment, "invalid identifier: %s", why ? why : "missing");
        return answer(&run, STATUS_INVALID_IDENTIFIER, comment);
    }

    /* 2. The identifier must fit the model at its level. */
    qr_negotiated(st, assoc, sop_class, &relational, &combined_datetime);
    qr_read_level(st, run.model, run.identifier, &check);
    if (check.status == 0)
        qr_check_find(st, run.model, run.identifier, relational, &check);
    if (check.status != 0)
        return answer(&run, check.status, check.comment);
    run.level = check.level;

    /* 3. The index matches; on_row sends each match as it comes. */
    query.level = run.level;
    query.keys = run.identifier;
    query.max_matches = st->max_matches;
    if (relational)
        query.flags |= CAIRN_QUERY_RELATIONAL;
    if (combined_datetime)
        query.flags |= CAIRN_QUERY_COMBINED_DATETIME;
    if (st->pn_case_sensitive)
        query.flags |= CAIRN_QUERY_PN_CASE_SENSITIVE;
    rc = api->archive_query(assoc, &query, on_row, &run);
    return finish(&run, rc);
}
