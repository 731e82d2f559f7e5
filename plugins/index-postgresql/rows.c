/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rows that list() and query() hand to their callback: which
 * attributes each level returns, the SQL expression of each over the
 * aliases p, st, se and i, and the delivery of result rows as data sets.
 *
 * The related counts and the study's lists are subqueries on the indexes
 * series_study and instance_series. Listings count as the SQLite back end
 * does: rejected instances leave the instance counts and SOP Classes in
 * Study, but a series whose instances are all rejected still counts.
 * Query rows leave out such series, and the studies left without any
 * instance, altogether.
 *
 * Rows stream from the server in single-row mode, so a listing of every
 * instance needs no memory for the whole result; a callback that stops
 * early cancels the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

#define LEVEL_BIT(level) (1u << (level))
#define ALL_LEVELS \
    (LEVEL_BIT(CAIRN_LEVEL_PATIENT) | LEVEL_BIT(CAIRN_LEVEL_STUDY) | \
     LEVEL_BIT(CAIRN_LEVEL_SERIES) | LEVEL_BIT(CAIRN_LEVEL_INSTANCE))
#define BELOW_PATIENT (ALL_LEVELS & ~LEVEL_BIT(CAIRN_LEVEL_PATIENT))
#define BELOW_STUDY (LEVEL_BIT(CAIRN_LEVEL_SERIES) | LEVEL_BIT(CAIRN_LEVEL_INSTANCE))
#define PATIENT_AND_STUDY (LEVEL_BIT(CAIRN_LEVEL_PATIENT) | LEVEL_BIT(CAIRN_LEVEL_STUDY))

/* One returned attribute. */
typedef struct row_key {
    cairn_tag tag;
    cairn_vr vr;
    bool number;        /* an integer column that may be NULL */
    const char *column; /* the value in list() rows */
    unsigned returned;  /* LEVEL_BITs of the rows that carry it */
    const char *query_column; /* the value in query() rows, when not column */
} row_key;

/* An instance that is not rejected, of series x. */
#define KEPT_INSTANCE_OF(series) \
    "EXISTS (SELECT 1 FROM instance z WHERE z.series = " series " AND NOT z.rejected)"

#define PATIENT_INSTANCES \
    "(SELECT count(*) FROM study x JOIN series y ON y.study = x.id JOIN instance z" \
    " ON z.series = y.id WHERE x.patient = p.id AND NOT z.rejected)"
#define STUDY_INSTANCES \
    "(SELECT count(*) FROM series y JOIN instance z ON z.series = y.id" \
    " WHERE y.study = st.id AND NOT z.rejected)"
#define STUDY_SOP_CLASSES \
    "(SELECT string_agg(c, '\\' ORDER BY c) FROM (SELECT DISTINCT z.sop_class_uid AS c" \
    " FROM series y JOIN instance z ON z.series = y.id WHERE y.study = st.id" \
    " AND NOT z.rejected AND z.sop_class_uid <> '') d)"

static const row_key row_keys[] = {
    {CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, false, "p.name", PATIENT_AND_STUDY, NULL},
    {CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, false, "p.patient_id", ALL_LEVELS, NULL},
    {CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_VR_LO, false, "p.issuer", ALL_LEVELS, NULL},
    {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_VR_DA, false, "p.birth_date", PATIENT_AND_STUDY,
     NULL},
    {CAIRN_TAG_PATIENT_SEX, CAIRN_VR_CS, false, "p.sex", PATIENT_AND_STUDY, NULL},
    {CAIRN_TAG(0x0020, 0x1200), CAIRN_VR_IS, true,
     "(SELECT count(*) FROM study x WHERE x.patient = p.id)", LEVEL_BIT(CAIRN_LEVEL_PATIENT),
     "(SELECT count(*) FROM study x WHERE x.patient = p.id AND EXISTS (SELECT 1 FROM series y"
     " JOIN instance z ON z.series = y.id WHERE y.study = x.id AND NOT z.rejected))"},
    {CAIRN_TAG(0x0020, 0x1202), CAIRN_VR_IS, true,
     "(SELECT count(*) FROM study x JOIN series y ON y.study = x.id WHERE x.patient = p.id)",
     LEVEL_BIT(CAIRN_LEVEL_PATIENT),
     "(SELECT count(*) FROM study x JOIN series y ON y.study = x.id WHERE x.patient = p.id"
     " AND " KEPT_INSTANCE_OF("y.id") ")"},
    {CAIRN_TAG(0x0020, 0x1204), CAIRN_VR_IS, true, PATIENT_INSTANCES,
     LEVEL_BIT(CAIRN_LEVEL_PATIENT), NULL},

    {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, false, "st.study_uid", BELOW_PATIENT, NULL},
    {CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, false, "st.study_date", LEVEL_BIT(CAIRN_LEVEL_STUDY),
     NULL},
    {CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, false, "st.study_time", LEVEL_BIT(CAIRN_LEVEL_STUDY),
     NULL},
    {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, false, "st.accession_number",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_STUDY_ID, CAIRN_VR_SH, false, "st.study_id", LEVEL_BIT(CAIRN_LEVEL_STUDY),
     NULL},
    {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, false, "st.referring_physician",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, false, "st.description",
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, false,
     "(SELECT string_agg(m, '\\' ORDER BY m) FROM (SELECT DISTINCT y.modality AS m"
     " FROM series y WHERE y.study = st.id AND y.modality <> '') d)",
     LEVEL_BIT(CAIRN_LEVEL_STUDY),
     "(SELECT string_agg(m, '\\' ORDER BY m) FROM (SELECT DISTINCT y.modality AS m"
     " FROM series y WHERE y.study = st.id AND y.modality <> '' AND "
     KEPT_INSTANCE_OF("y.id") ") d)"},
    {CAIRN_TAG(0x0008, 0x0062), CAIRN_VR_UI, false, STUDY_SOP_CLASSES,
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},
    {CAIRN_TAG(0x0020, 0x1206), CAIRN_VR_IS, true,
     "(SELECT count(*) FROM series y WHERE y.study = st.id)", LEVEL_BIT(CAIRN_LEVEL_STUDY),
     "(SELECT count(*) FROM series y WHERE y.study = st.id AND " KEPT_INSTANCE_OF("y.id")
     ")"},
    {CAIRN_TAG(0x0020, 0x1208), CAIRN_VR_IS, true, STUDY_INSTANCES,
     LEVEL_BIT(CAIRN_LEVEL_STUDY), NULL},

    {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, false, "se.series_uid", BELOW_STUDY, NULL},
    {CAIRN_TAG_MODALITY, CAIRN_VR_CS, false, "se.modality", LEVEL_BIT(CAIRN_LEVEL_SERIES),
     NULL},
    {CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, true, "se.series_number",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},
    {CAIRN_TAG_SERIES_DESCRIPTION, CAIRN_VR_LO, false, "se.description",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},
    {CAIRN_TAG(0x0020, 0x1209), CAIRN_VR_IS, true,
     "(SELECT count(*) FROM instance z WHERE z.series = se.id AND NOT z.rejected)",
     LEVEL_BIT(CAIRN_LEVEL_SERIES), NULL},

    {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, false, "i.sop_uid",
     LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
    {CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, false, "i.sop_class_uid",
     LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
    {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, true, "i.instance_number",
     LEVEL_BIT(CAIRN_LEVEL_INSTANCE), NULL},
};

#define ROW_KEY_COUNT (sizeof(row_keys) / sizeof(row_keys[0]))

/* Rows come in this order; NULL numbers first, as in SQLite. */
const char *const pgidx_level_order[] = {
    [CAIRN_LEVEL_PATIENT] = "p.patient_id, p.issuer",
    [CAIRN_LEVEL_STUDY] = "p.patient_id, p.issuer, st.study_date, st.study_uid",
    [CAIRN_LEVEL_SERIES] = "p.patient_id, p.issuer, st.study_date, st.study_uid,"
                           " se.series_number NULLS FIRST, se.series_uid",
    [CAIRN_LEVEL_INSTANCE] = "p.patient_id, p.issuer, st.study_date, st.study_uid,"
                             " se.series_number NULLS FIRST, se.series_uid,"
                             " i.instance_number NULLS FIRST, i.sop_uid",
};

/* Columns of the instance file, selected after the keys at instance level. */
static const char file_columns[] =
    ", i.path, i.size, i.transfer_syntax, i.received_at_us, i.calling_ae";

void pgidx_row_columns(query_sql *sql, cairn_index_level level, bool query)
{
    bool first = true;

    for (size_t k = 0; k < ROW_KEY_COUNT; k++) {
        if (!(row_keys[k].returned & LEVEL_BIT(level)))
            continue;
        if (!first)
            query_sql_add(sql, ", ");
        query_sql_add(sql, query && row_keys[k].query_column != NULL ? row_keys[k].query_column
                                                                    : row_keys[k].column);
        first = false;
    }
    if (level == CAIRN_LEVEL_INSTANCE)
        query_sql_add(sql, file_columns);
}

/* Decodes a sequence column named seq_GGGGEEEE (query_seq_columns) into the row. */
cairn_status pgidx_seq_add_column(const pgidx_backend *backend, cairn_dataset *row,
                                  const PGresult *result, int row_number, int column)
{
    const char *name = PQfname(result, column);
    unsigned tag = 0;

    if (name == NULL || sscanf(name, "seq_%8x", &tag) != 1)
        return CAIRN_OK;
    return seqidx_add_items(backend->api, row, (cairn_tag)tag,
                            PQgetisnull(result, row_number, column)
                                ? NULL
                                : PQgetvalue(result, row_number, column));
}

cairn_status pgidx_deliver_row(const pgidx_backend *backend, const PGresult *result, int row,
                               cairn_index_level level, cairn_index_row_fn fn, void *arg,
                               int *stop)
{
    cairn_dataset *attributes = backend->api->dataset_create();
    cairn_instance_file file = {.struct_size = sizeof(file)};
    cairn_index_row out = {.struct_size = sizeof(out), .level = level};
    cairn_status status;
    int c = 0;

    if (attributes == NULL)
        return CAIRN_ERR_NO_MEMORY;

    status = backend->api->dataset_set_string(attributes, CAIRN_TAG_SPECIFIC_CHARACTER_SET,
                                              CAIRN_VR_CS, "ISO_IR 192");
    for (size_t k = 0; k < ROW_KEY_COUNT && status == CAIRN_OK; k++) {
        if (!(row_keys[k].returned & LEVEL_BIT(level)))
            continue;
        status = backend->api->dataset_set_string(attributes, row_keys[k].tag, row_keys[k].vr,
                                                  PQgetisnull(result, row, c)
                                                      ? ""
                                                      : PQgetvalue(result, row, c));
        c++;
    }
    if (status != CAIRN_OK)
        goto out;

    if (level == CAIRN_LEVEL_INSTANCE) {
        file.path = PQgetvalue(result, row, c);
        file.size = (uint64_t)pgidx_int(result, row, c + 1);
        file.transfer_syntax_uid = PQgetvalue(result, row, c + 2);
        file.received_at_us = pgidx_int(result, row, c + 3);
        file.calling_ae = PQgetvalue(result, row, c + 4);
        out.file = &file;
        c += 5;
    }

    /* Sequence columns of a query (query_seq_columns) follow the row's own. */
    for (; c < PQnfields(result) && status == CAIRN_OK; c++)
        status = pgidx_seq_add_column(backend, attributes, result, row, c);
    if (status != CAIRN_OK)
        goto out;
    out.attributes = attributes;
    *stop = fn(arg, &out);

out:
    backend->api->dataset_destroy(attributes);
    return status;
}

/* Reads what is left of a result after a cancel, so the connection can serve again. */
static void drain(pgidx_conn *conn)
{
    PGresult *result;

    while ((result = PQgetResult(conn->pg)) != NULL)
        PQclear(result);
}

/* Asks the server to stop sending the rest of the rows. */
static void cancel(pgidx_conn *conn)
{
    PGcancel *handle = PQgetCancel(conn->pg);
    char message[256];

    if (handle != NULL) {
        PQcancel(handle, message, sizeof(message));
        PQfreeCancel(handle);
    }
    drain(conn);
}

/*
 * Runs the SELECT in sql and hands each row to fn until it returns
 * non-zero. *delivered is set once a row reached fn; after that, a
 * failure cannot be retried, and the connection is marked so.
 */
cairn_status pgidx_stream_rows(const pgidx_backend *backend, pgidx_conn *conn,
                               const query_sql *sql, cairn_index_level level,
                               cairn_index_row_fn fn, void *arg, bool *delivered)
{
    cairn_status status = CAIRN_OK;
    PGresult *result;
    int stop = 0;

    *delivered = false;
    if (!PQsendQueryParams(conn->pg, sql->text, (int)sql->param_count, NULL,
                           (const char *const *)sql->values, NULL, NULL, 0) ||
        !PQsetSingleRowMode(conn->pg)) {
        status = pgidx_result_failed(backend, conn, NULL, "listing");
        drain(conn);
        return status;
    }

    while ((result = PQgetResult(conn->pg)) != NULL) {
        ExecStatusType state = PQresultStatus(result);

        if (state == PGRES_SINGLE_TUPLE) {
            *delivered = true;
            status = pgidx_deliver_row(backend, result, 0, level, fn, arg, &stop);
            PQclear(result);
            if (status != CAIRN_OK || stop) {
                cancel(conn);
                return status;
            }
            continue;
        }
        if (state != PGRES_TUPLES_OK) {
            status = pgidx_result_failed(backend, conn, result, "listing");
            if (*delivered)
                conn->failure = PGIDX_FAILED_OTHER;
        }
        PQclear(result);
    }
    return status;
}
