/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server connections of the index: opening one with the settings every
 * connection needs (TCP keepalives, connect timeout, statement timeout,
 * UTF-8, synchronous commit on), the pool that hands them to calls, and
 * the statement helpers. Every value goes to the server as a parameter of
 * PQexecParams or PQexecPrepared; no SQL text is ever built from data.
 *
 * A failed statement is classified on the connection (pgidx_failure) so
 * that the transaction runner (txn.c) can tell whether running it again can
 * help: serialization failures, deadlocks and lost races on a unique or
 * foreign key can, and so can a lost connection, which the pool replaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* SQL of the fixed statements, indexed by pgidx_stmt_id. */
static const char *const fixed_sql[PGIDX_STMT_COUNT] = {
    /* Two stores or a store and a rejection of one SOP Instance UID take turns. */
    [PGIDX_LOCK_UID] = "SELECT pg_advisory_xact_lock(1129467470, hashtext($1))",
    [PGIDX_FIND_INSTANCE] =
        "SELECT i.id, i.path, i.series, se.study, st.patient FROM instance i"
        " JOIN series se ON se.id = i.series JOIN study st ON st.id = se.study"
        " WHERE i.sop_uid = $1",
    [PGIDX_INSERT_PATIENT] =
        "INSERT INTO patient (patient_id, issuer, name, birth_date, sex, charset, name_folded,"
        " name_alphabetic, name_ideographic, name_phonetic)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (patient_id, issuer) DO NOTHING RETURNING id",
    /*
     * The lookups of a patient, study or series also fill, in the same
     * round trip, the values that the first instance left empty. A full
     * row is not touched, and neither is a row when the instance being
     * stored (the last parameter) is indexed already: a duplicate that is
     * kept or rejected changes nothing. A NULL last parameter fills
     * regardless. For a patient, the parameters after the key are the
     * insert's.
     */
    [PGIDX_FIND_PATIENT] =
        "WITH found AS (SELECT id FROM patient WHERE patient_id = $1 AND issuer = $2),"
        " filled AS (UPDATE patient SET"
        " name_folded = CASE WHEN name = '' THEN $7 ELSE name_folded END,"
        " name_alphabetic = CASE WHEN name = '' THEN $8 ELSE name_alphabetic END,"
        " name_ideographic = CASE WHEN name = '' THEN $9 ELSE name_ideographic END,"
        " name_phonetic = CASE WHEN name = '' THEN $10 ELSE name_phonetic END,"
        " name = CASE WHEN name = '' THEN $3 ELSE name END,"
        " birth_date = CASE WHEN birth_date = '' THEN $4 ELSE birth_date END,"
        " sex = CASE WHEN sex = '' THEN $5 ELSE sex END,"
        " charset = CASE WHEN charset = '' THEN $6 ELSE charset END"
        " FROM found WHERE patient.id = found.id AND ((name = '' AND $3 <> '')"
        " OR (birth_date = '' AND $4 <> '') OR (sex = '' AND $5 <> '')"
        " OR (charset = '' AND $6 <> ''))"
        " AND NOT EXISTS (SELECT 1 FROM instance WHERE sop_uid = $11))"
        " SELECT id FROM found",
    [PGIDX_INSERT_STUDY] =
        "INSERT INTO study (patient, study_uid, study_date, study_time, accession_number,"
        " study_id, referring_physician, description, charset, time_key,"
        " referring_physician_folded)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (study_uid) DO NOTHING RETURNING id",
    [PGIDX_FIND_STUDY] =
        "WITH found AS (SELECT id, patient FROM study WHERE study_uid = $1),"
        " filled AS (UPDATE study SET"
        " study_date = CASE WHEN study_date = '' THEN $2 ELSE study_date END,"
        " time_key = CASE WHEN study_time = '' THEN $9 ELSE time_key END,"
        " study_time = CASE WHEN study_time = '' THEN $3 ELSE study_time END,"
        " accession_number = CASE WHEN accession_number = '' THEN $4 ELSE accession_number END,"
        " study_id = CASE WHEN study_id = '' THEN $5 ELSE study_id END,"
        " referring_physician_folded = CASE WHEN referring_physician = '' THEN $10"
        " ELSE referring_physician_folded END,"
        " referring_physician = CASE WHEN referring_physician = '' THEN $6"
        " ELSE referring_physician END,"
        " description = CASE WHEN description = '' THEN $7 ELSE description END,"
        " charset = CASE WHEN charset = '' THEN $8 ELSE charset END"
        " FROM found WHERE study.id = found.id"
        " AND ((study_date = '' AND $2 <> '') OR (study_time = '' AND $3 <> '')"
        " OR (accession_number = '' AND $4 <> '') OR (study_id = '' AND $5 <> '')"
        " OR (referring_physician = '' AND $6 <> '') OR (description = '' AND $7 <> '')"
        " OR (charset = '' AND $8 <> ''))"
        " AND NOT EXISTS (SELECT 1 FROM instance WHERE sop_uid = $11))"
        " SELECT id, patient FROM found",
    [PGIDX_INSERT_SERIES] =
        "INSERT INTO series (study, series_uid, modality, series_number, description, charset)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (series_uid) DO NOTHING RETURNING id",
    [PGIDX_FIND_SERIES] =
        "WITH found AS (SELECT id, study FROM series WHERE series_uid = $1),"
        " filled AS (UPDATE series SET"
        " modality = CASE WHEN modality = '' THEN $2 ELSE modality END,"
        " series_number = coalesce(series_number, $3),"
        " description = CASE WHEN description = '' THEN $4 ELSE description END,"
        " charset = CASE WHEN charset = '' THEN $5 ELSE charset END"
        " FROM found WHERE series.id = found.id AND ((modality = '' AND $2 <> '')"
        " OR (series_number IS NULL AND $3::bigint IS NOT NULL)"
        " OR (description = '' AND $4 <> '') OR (charset = '' AND $5 <> ''))"
        " AND NOT EXISTS (SELECT 1 FROM instance WHERE sop_uid = $6))"
        " SELECT id, study FROM found",
    /* An instance a rejection note named before it arrived is rejected at once. */
    [PGIDX_INSERT_INSTANCE] =
        "INSERT INTO instance (series, sop_uid, sop_class_uid, instance_number, charset, path,"
        " size, transfer_syntax, received_at_us, calling_ae, rejected)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
        " EXISTS (SELECT 1 FROM rejection WHERE sop_uid = $2)) RETURNING id",
    /*
     * The common store: the instance is new and its series is already filed
     * under its study and patient. It inserts nothing otherwise, and the
     * store runs the full way (write.c). The row ids it returns come from
     * the snapshot that decided the insert, which the lookups before it
     * may not share (write.c).
     */
    [PGIDX_INSERT_FILED_INSTANCE] =
        "WITH filing AS (SELECT p.id AS patient, st.id AS study, se.id AS series"
        " FROM series se JOIN study st ON st.id = se.study JOIN patient p ON p.id = st.patient"
        " WHERE se.series_uid = $1 AND st.study_uid = $11 AND p.patient_id = $12"
        " AND p.issuer = $13),"
        " inserted AS (INSERT INTO instance (series, sop_uid, sop_class_uid, instance_number,"
        " charset, path, size, transfer_syntax, received_at_us, calling_ae, rejected)"
        " SELECT series, $2, $3, $4::bigint, $5, $6, $7::bigint, $8, $9::bigint, $10,"
        " EXISTS (SELECT 1 FROM rejection WHERE sop_uid = $2) FROM filing"
        " ON CONFLICT (sop_uid) DO NOTHING RETURNING id)"
        " SELECT filing.patient, filing.study, filing.series, inserted.id FROM filing, inserted",
    [PGIDX_DELETE_INSTANCE] = "DELETE FROM instance WHERE id = $1",
    /* A rejected instance still belongs to its series. */
    [PGIDX_PRUNE_SERIES] = "DELETE FROM series WHERE id = $1"
                           " AND NOT EXISTS (SELECT 1 FROM instance WHERE series = $1)",
    [PGIDX_PRUNE_STUDY] = "DELETE FROM study WHERE id = $1"
                          " AND NOT EXISTS (SELECT 1 FROM series WHERE study = $1)",
    [PGIDX_PRUNE_PATIENT] = "DELETE FROM patient WHERE id = $1"
                            " AND NOT EXISTS (SELECT 1 FROM study WHERE patient = $1)",
    [PGIDX_CHECK_STORED] = "SELECT 1 FROM instance WHERE sop_uid = $1 AND path = $2",
    /* Most stores run this once per kept sequence, so it is prepared. */
    [PGIDX_SEQUENCE_KEPT] = "SELECT 1 FROM seq_item WHERE level = $1 AND owner = $2 AND tag = $3"
                            " LIMIT 1",
    /* The sequences that the patient, study and series of a store keep already. */
    [PGIDX_SEQUENCES_KEPT_BY_KEY] =
        "SELECT DISTINCT 1, tag FROM seq_item WHERE level = 1"
        " AND owner = (SELECT id FROM patient WHERE patient_id = $1 AND issuer = $2)"
        " UNION ALL SELECT DISTINCT 2, tag FROM seq_item WHERE level = 2"
        " AND owner = (SELECT id FROM study WHERE study_uid = $3)"
        " UNION ALL SELECT DISTINCT 3, tag FROM seq_item WHERE level = 3"
        " AND owner = (SELECT id FROM series WHERE series_uid = $4)",
};

_Static_assert(PGIDX_STMT_COUNT <= 64, "prepared statement bits must fit in 64 bits");

/* Builds the libpq options: the settings every session of the index needs. */
static void session_options(const pgidx_backend *backend, char *buf, size_t size)
{
    snprintf(buf, size, "-c statement_timeout=%d -c client_encoding=UTF8",
             backend->statement_timeout_ms);
}

cairn_status pgidx_conn_open(const pgidx_backend *backend, pgidx_conn **out)
{
    char options[128];
    char connect_timeout[16];
    const char *keywords[16];
    const char *values[16];
    pgidx_conn *conn;
    PGresult *result = NULL;
    int n = 0;

    *out = NULL;
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return CAIRN_ERR_NO_MEMORY;

    session_options(backend, options, sizeof(options));
    snprintf(connect_timeout, sizeof(connect_timeout), "%d", backend->connect_timeout_s);

    /* conninfo comes first so that the settings after it take precedence. */
    if (backend->conninfo != NULL) {
        keywords[n] = "dbname";
        values[n++] = backend->conninfo;
    }
#define SETTING(key, value) \
    do { \
        if ((value) != NULL) { \
            keywords[n] = (key); \
            values[n++] = (value); \
        } \
    } while (0)
    SETTING("host", backend->host);
    SETTING("port", backend->port);
    SETTING("user", backend->user);
    SETTING("password", backend->password);
    if (backend->conninfo == NULL)
        SETTING("dbname", backend->dbname);
#undef SETTING
    keywords[n] = "connect_timeout";
    values[n++] = connect_timeout;
    keywords[n] = "keepalives";
    values[n++] = "1";
    keywords[n] = "keepalives_idle";
    values[n++] = "30";
    keywords[n] = "keepalives_interval";
    values[n++] = "10";
    keywords[n] = "keepalives_count";
    values[n++] = "3";
    keywords[n] = "application_name";
    values[n++] = "cairnd";
    keywords[n] = "options";
    values[n++] = options;
    keywords[n] = NULL;
    values[n] = NULL;

    conn->pg = PQconnectdbParams(keywords, values, 1);
    if (conn->pg == NULL) {
        free(conn);
        return CAIRN_ERR_NO_MEMORY;
    }
    if (PQstatus(conn->pg) != CONNECTION_OK) {
        pgidx_log(backend, CAIRN_LOG_ERROR, "cannot connect to the index database: %s",
                  PQerrorMessage(conn->pg));
        pgidx_conn_close(conn);
        return CAIRN_ERR_DATABASE;
    }

    /* A store returns only once durable: never run with synchronous_commit off. */
    result = PQexec(conn->pg, "SELECT current_setting('synchronous_commit'),"
                              " current_setting('server_encoding')");
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
        if (strcmp(PQgetvalue(result, 0, 1), "UTF8") != 0) {
            pgidx_log(backend, CAIRN_LOG_ERROR,
                      "the index database has the encoding %s; create it with ENCODING"
                      " 'UTF8'",
                      PQgetvalue(result, 0, 1));
            PQclear(result);
            pgidx_conn_close(conn);
            return CAIRN_ERR_UNSUPPORTED;
        }
        if (strcmp(PQgetvalue(result, 0, 0), "off") == 0) {
            PQclear(result);
            result = PQexec(conn->pg, "SET synchronous_commit TO on");
        }
    }
    if (PQresultStatus(result) != PGRES_TUPLES_OK && PQresultStatus(result) != PGRES_COMMAND_OK) {
        pgidx_log(backend, CAIRN_LOG_ERROR, "cannot set up an index database session: %s",
                  PQerrorMessage(conn->pg));
        PQclear(result);
        pgidx_conn_close(conn);
        return CAIRN_ERR_DATABASE;
    }
    PQclear(result);

    *out = conn;
    return CAIRN_OK;
}

void pgidx_conn_close(pgidx_conn *conn)
{
    if (conn == NULL)
        return;
    PQfinish(conn->pg);
    free(conn);
}

/*
 * Takes an idle connection, opens a new one while fewer than pool_size
 * are open, or waits for one to come back.
 */
cairn_status pgidx_pool_take(pgidx_index *index, pgidx_conn **out)
{
    cairn_status status;

    *out = NULL;
    pthread_mutex_lock(&index->lock);
    while (index->idle == NULL && index->open_count >= index->backend->pool_size)
        pthread_cond_wait(&index->released, &index->lock);
    if (index->idle != NULL) {
        *out = index->idle;
        index->idle = (*out)->next_idle;
        pthread_mutex_unlock(&index->lock);
        (*out)->failure = PGIDX_FAILED_NOT;
        return CAIRN_OK;
    }
    index->open_count++;
    pthread_mutex_unlock(&index->lock);

    status = pgidx_conn_open(index->backend, out);
    if (status != CAIRN_OK) {
        pthread_mutex_lock(&index->lock);
        index->open_count--;
        pthread_cond_signal(&index->released);
        pthread_mutex_unlock(&index->lock);
    }
    return status;
}

/*
 * Gives a connection back. One that is broken, or left inside a
 * transaction or a pipeline, is closed instead, and the next take opens
 * a fresh one.
 */
void pgidx_pool_give_back(pgidx_index *index, pgidx_conn *conn)
{
    bool keep;

    if (conn == NULL)
        return;
    keep = PQstatus(conn->pg) == CONNECTION_OK &&
           PQtransactionStatus(conn->pg) == PQTRANS_IDLE &&
           PQpipelineStatus(conn->pg) == PQ_PIPELINE_OFF;

    pthread_mutex_lock(&index->lock);
    if (keep) {
        conn->next_idle = index->idle;
        index->idle = conn;
    } else {
        index->open_count--;
    }
    pthread_cond_signal(&index->released);
    pthread_mutex_unlock(&index->lock);
    if (!keep)
        pgidx_conn_close(conn);
}

void pgidx_pool_close(pgidx_index *index)
{
    pthread_mutex_lock(&index->lock);
    while (index->idle != NULL) {
        pgidx_conn *conn = index->idle;

        index->idle = conn->next_idle;
        index->open_count--;
        pgidx_conn_close(conn);
    }
    pthread_mutex_unlock(&index->lock);
}

/* Classifies a failed result on conn and logs it unless running it again may help. */
cairn_status pgidx_result_failed(const pgidx_backend *backend, pgidx_conn *conn,
                                 const PGresult *result, const char *what)
{
    const char *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    const char *message = result != NULL ? PQresultErrorMessage(result) : "";

    snprintf(conn->sqlstate, sizeof(conn->sqlstate), "%s", state != NULL ? state : "");
    if (message == NULL || message[0] == '\0')
        message = PQerrorMessage(conn->pg);

    if (PQstatus(conn->pg) != CONNECTION_OK || (state != NULL && strncmp(state, "08", 2) == 0) ||
        (state != NULL && strncmp(state, "57P", 3) == 0)) {
        conn->failure = PGIDX_FAILED_CONNECTION;
        pgidx_log(backend, CAIRN_LOG_WARN, "index database connection lost during %s: %s",
                  what, message);
        return CAIRN_ERR_DATABASE;
    }
    /* 40001 serialization failure, 40P01 deadlock, 23505 and 23503 a lost race. */
    if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                          strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0)) {
        conn->failure = PGIDX_FAILED_RETRY;
        pgidx_log(backend, CAIRN_LOG_DEBUG, "index %s will run again (SQLSTATE %s): %s", what,
                  state, message);
        return CAIRN_ERR_BUSY;
    }
    conn->failure = PGIDX_FAILED_OTHER;
    pgidx_log(backend, CAIRN_LOG_ERROR, "index %s failed (SQLSTATE %s): %s", what,
              state != NULL ? state : "none", message);
    if (state != NULL && strcmp(state, "57014") == 0)
        return CAIRN_ERR_TIMEOUT;
    if (state != NULL && strcmp(state, "53100") == 0)
        return CAIRN_ERR_NO_SPACE;
    return CAIRN_ERR_DATABASE;
}

/* Keeps result in *out, or clears it; a failure is classified. */
static cairn_status finish(const pgidx_backend *backend, pgidx_conn *conn, PGresult *result,
                           const char *what, PGresult **out)
{
    ExecStatusType state = result != NULL ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    cairn_status status = CAIRN_OK;

    if (state != PGRES_COMMAND_OK && state != PGRES_TUPLES_OK)
        status = pgidx_result_failed(backend, conn, result, what);
    else
        conn->failure = PGIDX_FAILED_NOT;
    if (status == CAIRN_OK && out != NULL) {
        *out = result;
        return CAIRN_OK;
    }
    PQclear(result);
    return status;
}

cairn_status pgidx_exec(const pgidx_backend *backend, pgidx_conn *conn, const char *sql,
                        int count, const char *const *values, PGresult **result)
{
    PGresult *res = PQexecParams(conn->pg, sql, count, NULL, values, NULL, NULL, 0);

    if (result != NULL)
        *result = NULL;
    if (res == NULL)
        return CAIRN_ERR_NO_MEMORY;
    return finish(backend, conn, res, "statement", result);
}

/* Prepares the fixed statement id on conn unless it is already; name receives its name. */
cairn_status pgidx_prepare(const pgidx_backend *backend, pgidx_conn *conn, pgidx_stmt_id id,
                           char name[16])
{
    PGresult *res;
    cairn_status status;

    snprintf(name, 16, "cairn_%d", (int)id);
    if (conn->prepared & ((uint64_t)1 << id))
        return CAIRN_OK;

    res = PQprepare(conn->pg, name, fixed_sql[id], 0, NULL);
    status = finish(backend, conn, res, "statement preparation", NULL);
    if (status == CAIRN_OK)
        conn->prepared |= (uint64_t)1 << id;
    return status;
}

cairn_status pgidx_exec_fixed(const pgidx_backend *backend, pgidx_conn *conn,
                              pgidx_stmt_id id, int count, const char *const *values,
                              PGresult **result)
{
    char name[16];
    PGresult *res;
    cairn_status status;

    if (result != NULL)
        *result = NULL;
    status = pgidx_prepare(backend, conn, id, name);
    if (status != CAIRN_OK)
        return status;

    res = PQexecPrepared(conn->pg, name, count, values, NULL, NULL, 0);
    if (res == NULL)
        return CAIRN_ERR_NO_MEMORY;
    return finish(backend, conn, res, "statement", result);
}

/* Reads an integer column; 0 when NULL. */
int64_t pgidx_int(const PGresult *result, int row, int column)
{
    if (PQgetisnull(result, row, column))
        return 0;
    return strtoll(PQgetvalue(result, row, column), NULL, 10);
}
