/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox table (cairn_index_ops.outbox_add, outbox_update,
 * outbox_delete, outbox_list): DIMSE messages waiting for delivery to a
 * remote AE, in id order. The id comes from an identity column, so ids
 * only grow, across nodes too. Each call is one statement.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pgidx.h"

/* One call: its values, and the result of an insert or where a listing goes. */
typedef struct outbox_call {
    const char *values[7];
    int count;
    const char *sql;
    uint64_t id;
    bool changed;
    cairn_outbox_fn fn;
    void *arg;
} outbox_call;

static bool present(const char *value)
{
    return value != NULL && value[0] != '\0';
}

/* Runs the call's statement; an insert returns the new id. */
static cairn_status change_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    outbox_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn, call->sql, call->count, call->values,
                                     &result);

    if (status != CAIRN_OK)
        return status;
    call->changed = strcmp(PQcmdTuples(result), "0") != 0;
    if (PQntuples(result) == 1)
        call->id = (uint64_t)pgidx_int(result, 0, 0);
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_outbox_add(pgidx_index *index, const cairn_outbox_message *message,
                              uint64_t *id)
{
    char created[24], next[24];
    outbox_call call = {.count = 7};
    cairn_status status;

    if (message == NULL || id == NULL || !present(message->kind) ||
        !present(message->destination) || message->calling_ae == NULL ||
        message->group_key == NULL || message->document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    snprintf(created, sizeof(created), "%" PRId64, message->created_at_us);
    snprintf(next, sizeof(next), "%" PRId64, message->next_attempt_at_us);
    call.values[0] = message->kind;
    call.values[1] = message->destination;
    call.values[2] = message->calling_ae;
    call.values[3] = message->group_key;
    call.values[4] = message->document;
    call.values[5] = created;
    call.values[6] = next;
    call.sql = "INSERT INTO outbox (kind, destination, calling_ae, group_key, document,"
               " created_at_us, next_attempt_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)"
               " RETURNING id";
    status = pgidx_transaction(index, "outbox_add", change_body, NULL, &call);
    if (status == CAIRN_OK)
        *id = call.id;
    return status;
}

cairn_status pgidx_outbox_update(pgidx_index *index, uint64_t id, uint32_t attempts,
                                 int64_t next_attempt_at_us, const char *last_error)
{
    char id_text[24], attempts_text[16], next[24];
    outbox_call call = {.count = 4};
    cairn_status status;

    if (id > INT64_MAX)
        return CAIRN_ERR_NOT_FOUND;
    snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
    snprintf(attempts_text, sizeof(attempts_text), "%" PRIu32, attempts);
    snprintf(next, sizeof(next), "%" PRId64, next_attempt_at_us);
    call.values[0] = id_text;
    call.values[1] = attempts_text;
    call.values[2] = next;
    call.values[3] = last_error != NULL ? last_error : "";
    call.sql = "UPDATE outbox SET attempts = $2, next_attempt_at_us = $3, last_error = $4"
               " WHERE id = $1";
    status = pgidx_transaction(index, "outbox_update", change_body, NULL, &call);
    if (status == CAIRN_OK && !call.changed)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}

cairn_status pgidx_outbox_delete(pgidx_index *index, uint64_t id)
{
    char id_text[24];
    outbox_call call = {.count = 1, .values = {id_text}};
    cairn_status status;

    if (id > INT64_MAX)
        return CAIRN_ERR_NOT_FOUND;
    snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
    call.sql = "DELETE FROM outbox WHERE id = $1";
    status = pgidx_transaction(index, "outbox_delete", change_body, NULL, &call);
    if (status == CAIRN_OK && !call.changed)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}

static cairn_status list_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    outbox_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(
        backend, conn,
        "SELECT id, kind, destination, calling_ae, group_key, document, attempts, last_error,"
        " created_at_us, next_attempt_at_us FROM outbox"
        " WHERE left(kind, length($1)) = $1 ORDER BY id",
        1, call->values, &result);

    if (status != CAIRN_OK)
        return status;
    for (int row = 0; row < PQntuples(result); row++) {
        cairn_outbox_message message = {
            .struct_size = sizeof message,
            .id = (uint64_t)pgidx_int(result, row, 0),
            .kind = PQgetvalue(result, row, 1),
            .destination = PQgetvalue(result, row, 2),
            .calling_ae = PQgetvalue(result, row, 3),
            .group_key = PQgetvalue(result, row, 4),
            .document = PQgetvalue(result, row, 5),
            .attempts = (uint32_t)pgidx_int(result, row, 6),
            .last_error = PQgetvalue(result, row, 7),
            .created_at_us = pgidx_int(result, row, 8),
            .next_attempt_at_us = pgidx_int(result, row, 9),
        };

        if (call->fn(call->arg, &message) != 0)
            break;
    }
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_outbox_list(pgidx_index *index, const char *kind_prefix, cairn_outbox_fn fn,
                               void *arg)
{
    outbox_call call = {.fn = fn, .arg = arg, .values = {kind_prefix != NULL ? kind_prefix : ""}};

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    return pgidx_read(index, "outbox_list", list_body, &call);
}
