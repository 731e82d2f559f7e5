/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mpps table (cairn_index_ops.mpps_put, mpps_get, mpps_list): the
 * Modality Performed Procedure Steps of the MPPS SCP, one row per SOP
 * Instance UID with its searchable values and an opaque document. Each
 * call is one statement; a create relies on the primary key, so two nodes
 * that create the same step at once see one succeed and one fail with
 * CAIRN_ERR_EXISTS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pgidx.h"

static const char columns[] =
    "SELECT sop_uid, status, study_uid, modality, start_datetime, calling_ae, created_at_us,"
    " updated_at_us, document FROM mpps";

/* Maps NULL to "", since the columns are NOT NULL. */
static const char *text(const char *value)
{
    return value != NULL ? value : "";
}

/* One call: the step's values, and the rows of a lookup or listing. */
typedef struct mpps_call {
    const char *values[9];
    int create;
    bool found;
    cairn_mpps_fn fn;
    void *arg;
    const char *sql;
    int count;
} mpps_call;

static cairn_status put_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    mpps_call *call = arg;
    PGresult *result = NULL;
    cairn_status status;

    if (call->create) {
        status = pgidx_exec(backend, conn,
                            "INSERT INTO mpps (sop_uid, status, study_uid, modality,"
                            " start_datetime, calling_ae, created_at_us, updated_at_us, document)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                            " ON CONFLICT (sop_uid) DO NOTHING",
                            9, call->values, &result);
    } else {
        status = pgidx_exec(backend, conn,
                            "UPDATE mpps SET status = $2, study_uid = $3, modality = $4,"
                            " start_datetime = $5, calling_ae = $6, updated_at_us = $8,"
                            " document = $9 WHERE sop_uid = $1 AND $7::bigint IS NOT NULL",
                            9, call->values, &result);
    }
    if (status == CAIRN_OK)
        call->found = strcmp(PQcmdTuples(result), "0") != 0;
    PQclear(result);
    return status;
}

cairn_status pgidx_mpps_put(pgidx_index *index, const cairn_mpps_step *step, int create)
{
    char created[24], updated[24];
    mpps_call call = {.create = create};
    cairn_status status;

    if (step == NULL || step->sop_instance_uid == NULL || step->sop_instance_uid[0] == '\0' ||
        strlen(step->sop_instance_uid) > 64 || step->document == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    snprintf(created, sizeof(created), "%" PRId64, step->created_at_us);
    snprintf(updated, sizeof(updated), "%" PRId64, step->updated_at_us);
    call.values[0] = step->sop_instance_uid;
    call.values[1] = text(step->status);
    call.values[2] = text(step->study_instance_uid);
    call.values[3] = text(step->modality);
    call.values[4] = text(step->start_datetime);
    call.values[5] = text(step->calling_ae);
    call.values[6] = created;
    call.values[7] = updated;
    call.values[8] = step->document;

    status = pgidx_transaction(index, "mpps_put", put_body, NULL, &call);
    if (status == CAIRN_OK && !call.found)
        return create ? CAIRN_ERR_EXISTS : CAIRN_ERR_NOT_FOUND;
    return status;
}

static cairn_status select_body(const pgidx_backend *backend, pgidx_conn *conn, void *arg)
{
    mpps_call *call = arg;
    PGresult *result = NULL;
    cairn_status status = pgidx_exec(backend, conn, call->sql, call->count, call->values,
                                     &result);

    if (status != CAIRN_OK)
        return status;
    call->found = PQntuples(result) > 0;
    for (int row = 0; row < PQntuples(result); row++) {
        cairn_mpps_step step = {
            .struct_size = sizeof step,
            .sop_instance_uid = PQgetvalue(result, row, 0),
            .status = PQgetvalue(result, row, 1),
            .study_instance_uid = PQgetvalue(result, row, 2),
            .modality = PQgetvalue(result, row, 3),
            .start_datetime = PQgetvalue(result, row, 4),
            .calling_ae = PQgetvalue(result, row, 5),
            .created_at_us = pgidx_int(result, row, 6),
            .updated_at_us = pgidx_int(result, row, 7),
            .document = PQgetvalue(result, row, 8),
        };

        if (call->fn(call->arg, &step) != 0)
            break;
    }
    PQclear(result);
    return CAIRN_OK;
}

cairn_status pgidx_mpps_get(pgidx_index *index, const char *sop_uid, cairn_mpps_fn fn,
                            void *arg)
{
    char sql[sizeof columns + 32];
    mpps_call call = {.fn = fn, .arg = arg, .sql = sql, .count = 1, .values = {sop_uid}};
    cairn_status status;

    if (sop_uid == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    snprintf(sql, sizeof(sql), "%s WHERE sop_uid = $1", columns);
    status = pgidx_read(index, "mpps_get", select_body, &call);
    if (status == CAIRN_OK && !call.found)
        return CAIRN_ERR_NOT_FOUND;
    return status;
}

static const char *given(const char *value)
{
    return value != NULL ? value : "";
}

cairn_status pgidx_mpps_list(pgidx_index *index, const cairn_mpps_filter *filter,
                             cairn_mpps_fn fn, void *arg)
{
    static const cairn_mpps_filter every = {.struct_size = sizeof every};
    char sql[sizeof columns + 320];
    char upper[64] = "";
    char limit[24] = "";
    mpps_call call = {.fn = fn, .arg = arg, .sql = sql, .count = 6};

    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (filter == NULL)
        filter = &every;

    /* A prefix such as "20260101" as upper bound takes in the whole day. */
    if (filter->start_to != NULL && filter->start_to[0] != '\0' && strlen(filter->start_to) < 40)
        snprintf(upper, sizeof(upper), "%s\x7f", filter->start_to);
    if (filter->max_rows > 0 && filter->max_rows < INT64_MAX)
        snprintf(limit, sizeof(limit), "%" PRIu64, filter->max_rows);
    call.values[0] = given(filter->study_instance_uid);
    call.values[1] = given(filter->modality);
    call.values[2] = given(filter->status);
    call.values[3] = given(filter->start_from);
    call.values[4] = upper;
    call.values[5] = limit[0] != '\0' ? limit : NULL;

    /* Every condition is always in the statement; an empty parameter disables it. */
    snprintf(sql, sizeof(sql),
             "%s WHERE ($1 = '' OR study_uid = $1) AND ($2 = '' OR modality = $2)"
             " AND ($3 = '' OR status = $3) AND ($4 = '' OR start_datetime >= $4)"
             " AND ($5 = '' OR start_datetime <= $5)"
             " ORDER BY start_datetime DESC, sop_uid LIMIT $6::bigint",
             columns);
    return pgidx_read(index, "mpps_list", select_body, &call);
}
