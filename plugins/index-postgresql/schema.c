/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema of the index and its migrations. The table cairn_schema holds
 * the number of migration steps applied. Migrating takes a session
 * advisory lock first, so that of several nodes starting at once one
 * migrates and the others wait and then find the schema current; each
 * step runs in its own transaction with the version update. A database
 * whose version is newer than the last step here is refused, and one that
 * is older is refused too unless this call may migrate (cairnd --migrate
 * or migrate_at_start).
 *
 * Text columns use the "C" collation: comparisons are by bytes as in the
 * SQLite back end, and plain btree indexes serve LIKE prefixes, ranges
 * and the ORDER BY of listings. The related counts, Modalities in Study
 * and SOP Classes in Study are computed when a row is read (rows.c), so a
 * store touches no shared counter row and concurrent stores into one
 * study do not wait for each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* Key of the advisory lock held while migrating ("CRNM"). */
#define MIGRATION_LOCK "1129467469"

/* Version 1: the four levels, rejections and jobs. */
static const char schema_v1[] =
    "CREATE TABLE patient (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    patient_id text COLLATE \"C\" NOT NULL,\n"
    "    issuer text COLLATE \"C\" NOT NULL,\n"
    "    name text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    name_folded text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    name_alphabetic text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    name_ideographic text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    name_phonetic text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    birth_date text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    sex text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    charset text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    UNIQUE (patient_id, issuer)\n"
    ");\n"
    "CREATE INDEX patient_name_folded ON patient (name_folded);\n"
    "CREATE INDEX patient_name_alphabetic ON patient (name_alphabetic)\n"
    "    WHERE name_alphabetic <> '';\n"
    "CREATE INDEX patient_name_ideographic ON patient (name_ideographic)\n"
    "    WHERE name_ideographic <> '';\n"
    "CREATE INDEX patient_name_phonetic ON patient (name_phonetic)\n"
    "    WHERE name_phonetic <> '';\n"
    "CREATE TABLE study (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    patient bigint NOT NULL REFERENCES patient (id),\n"
    "    study_uid text COLLATE \"C\" NOT NULL UNIQUE,\n"
    "    study_date text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    study_time text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    time_key text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    accession_number text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    study_id text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    referring_physician text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    referring_physician_folded text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    description text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    charset text COLLATE \"C\" NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX study_patient ON study (patient);\n"
    "CREATE INDEX study_date ON study (study_date);\n"
    "CREATE INDEX study_accession ON study (accession_number);\n"
    "CREATE TABLE series (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    study bigint NOT NULL REFERENCES study (id),\n"
    "    series_uid text COLLATE \"C\" NOT NULL UNIQUE,\n"
    "    modality text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    series_number bigint,\n"
    "    description text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    charset text COLLATE \"C\" NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX series_study ON series (study) INCLUDE (modality);\n"
    "CREATE INDEX series_modality ON series (modality);\n"
    "CREATE TABLE instance (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    series bigint NOT NULL REFERENCES series (id),\n"
    "    sop_uid text COLLATE \"C\" NOT NULL UNIQUE,\n"
    "    sop_class_uid text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    instance_number bigint,\n"
    "    charset text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    path text COLLATE \"C\" NOT NULL,\n"
    "    size bigint NOT NULL,\n"
    "    transfer_syntax text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    received_at_us bigint NOT NULL,\n"
    "    calling_ae text COLLATE \"C\" NOT NULL DEFAULT '',\n"
    "    rejected boolean NOT NULL DEFAULT false\n"
    ");\n"
    "CREATE INDEX instance_series ON instance (series) INCLUDE (rejected, sop_class_uid);\n"
    "CREATE INDEX instance_sop_class ON instance (sop_class_uid);\n"
    "CREATE TABLE rejection (\n"
    "    sop_uid text COLLATE \"C\" PRIMARY KEY,\n"
    "    code text COLLATE \"C\" NOT NULL\n"
    ");\n"
    "CREATE TABLE job (\n"
    "    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    job_id text COLLATE \"C\" NOT NULL UNIQUE,\n"
    "    document text NOT NULL\n"
    ");\n";

/*
 * Version 2: Modality Performed Procedure Steps, the outbox of DIMSE
 * messages waiting for delivery to remote AEs, and the Storage Commitment
 * the archive asked of remote AEs, one row per instance and remote.
 */
static const char schema_v2[] =
    "CREATE TABLE mpps (\n"
    "    sop_uid text COLLATE \"C\" PRIMARY KEY,\n"
    "    status text COLLATE \"C\" NOT NULL,\n"
    "    study_uid text COLLATE \"C\" NOT NULL,\n"
    "    modality text COLLATE \"C\" NOT NULL,\n"
    "    start_datetime text COLLATE \"C\" NOT NULL,\n"
    "    calling_ae text COLLATE \"C\" NOT NULL,\n"
    "    created_at_us bigint NOT NULL,\n"
    "    updated_at_us bigint NOT NULL,\n"
    "    document text NOT NULL\n"
    ");\n"
    "CREATE INDEX mpps_study ON mpps (study_uid);\n"
    "CREATE INDEX mpps_start ON mpps (start_datetime);\n"
    "CREATE TABLE outbox (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    kind text COLLATE \"C\" NOT NULL,\n"
    "    destination text COLLATE \"C\" NOT NULL,\n"
    "    calling_ae text COLLATE \"C\" NOT NULL,\n"
    "    group_key text COLLATE \"C\" NOT NULL,\n"
    "    document text NOT NULL,\n"
    "    attempts bigint NOT NULL DEFAULT 0,\n"
    "    last_error text NOT NULL DEFAULT '',\n"
    "    created_at_us bigint NOT NULL,\n"
    "    next_attempt_at_us bigint NOT NULL\n"
    ");\n"
    "CREATE TABLE commitment (\n"
    "    remote_ae text COLLATE \"C\" NOT NULL,\n"
    "    sop_uid text COLLATE \"C\" NOT NULL,\n"
    "    sop_class_uid text COLLATE \"C\" NOT NULL,\n"
    "    study_uid text COLLATE \"C\" NOT NULL,\n"
    "    calling_ae text COLLATE \"C\" NOT NULL,\n"
    "    state integer NOT NULL,\n"
    "    transaction_uid text COLLATE \"C\" NOT NULL,\n"
    "    note text NOT NULL,\n"
    "    requested_at_us bigint NOT NULL,\n"
    "    due_at_us bigint NOT NULL,\n"
    "    updated_at_us bigint NOT NULL,\n"
    "    attempts bigint NOT NULL,\n"
    "    failure_reason bigint NOT NULL,\n"
    "    PRIMARY KEY (remote_ae, sop_uid)\n"
    ");\n"
    "CREATE INDEX commitment_transaction ON commitment (transaction_uid);\n"
    "CREATE INDEX commitment_study ON commitment (study_uid);\n"
    "CREATE INDEX commitment_due ON commitment (state, due_at_us);\n";

/*
 * Version 3: leases, so that one node at a time does a piece of work (a
 * job, a queue) and another takes it over once the lease expires.
 */
static const char schema_v3[] =
    "CREATE TABLE lease (\n"
    "    lease_key text COLLATE \"C\" PRIMARY KEY,\n"
    "    owner text COLLATE \"C\" NOT NULL,\n"
    "    expires_at timestamptz NOT NULL\n"
    ");\n";

/*
 * Version 4: sequence items for sequence matching (query_seq.c). A
 * top-level item belongs to the row owner of its level (1 to 4) and keeps
 * its encoding for responses. A nested item has level 0 and its parent
 * item as owner. seq_value contains one row per value of an item
 * attribute: value as the matching compares it (DA and TM as keys) and
 * folded, the case-folded value of a PN. Triggers remove the items of a
 * removed level row. Instances stored before this version have no
 * sequences indexed.
 */
static const char schema_v4[] =
    "CREATE TABLE seq_item (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    level integer NOT NULL,\n"
    "    owner bigint NOT NULL,\n"
    "    parent bigint REFERENCES seq_item (id) ON DELETE CASCADE,\n"
    "    tag bigint NOT NULL,\n"
    "    position integer NOT NULL,\n"
    "    data bytea\n"
    ");\n"
    "CREATE INDEX seq_item_owner ON seq_item (level, owner, tag, position);\n"
    "CREATE INDEX seq_item_parent ON seq_item (parent) WHERE parent IS NOT NULL;\n"
    "CREATE TABLE seq_value (\n"
    "    item bigint NOT NULL REFERENCES seq_item (id) ON DELETE CASCADE,\n"
    "    tag bigint NOT NULL,\n"
    "    value text COLLATE \"C\" NOT NULL,\n"
    "    folded text COLLATE \"C\",\n"
    "    PRIMARY KEY (item, tag, value)\n"
    ");\n"
    "CREATE INDEX seq_value_value ON seq_value (tag, value);\n"
    "CREATE FUNCTION cairn_seq_owner_removed() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "    DELETE FROM seq_item WHERE level = TG_ARGV[0]::integer AND owner = OLD.id;\n"
    "    RETURN OLD;\n"
    "END $$;\n"
    "CREATE TRIGGER seq_patient_removed AFTER DELETE ON patient FOR EACH ROW\n"
    "    EXECUTE FUNCTION cairn_seq_owner_removed('1');\n"
    "CREATE TRIGGER seq_study_removed AFTER DELETE ON study FOR EACH ROW\n"
    "    EXECUTE FUNCTION cairn_seq_owner_removed('2');\n"
    "CREATE TRIGGER seq_series_removed AFTER DELETE ON series FOR EACH ROW\n"
    "    EXECUTE FUNCTION cairn_seq_owner_removed('3');\n"
    "CREATE TRIGGER seq_instance_removed AFTER DELETE ON instance FOR EACH ROW\n"
    "    EXECUTE FUNCTION cairn_seq_owner_removed('4');\n";

/*
 * Version 5: the studies of each patient by Study Date, in place of
 * study_patient, as in the SQLite index. A study query by Patient's Name
 * and a date range can then compare the dates in the index.
 */
static const char schema_v5[] =
    "CREATE INDEX study_patient_date ON study (patient, study_date);\n"
    "DROP INDEX study_patient;\n";

/* Migration steps; step i brings the database to version i + 1. Append only. */
static const char *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
    schema_v4,
    schema_v5,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int pgidx_schema_version(void)
{
    return SCHEMA_VERSION;
}

/* Reads the schema version: 0 on a database without the cairn_schema table. */
static cairn_status read_version(const pgidx_backend *backend, pgidx_conn *conn, int *version)
{
    PGresult *result = NULL;
    cairn_status status;
    bool exists;

    *version = 0;
    status = pgidx_exec(backend, conn, "SELECT to_regclass('cairn_schema') IS NOT NULL", 0,
                        NULL, &result);
    if (status != CAIRN_OK)
        return status;
    exists = PQntuples(result) == 1 && strcmp(PQgetvalue(result, 0, 0), "t") == 0;
    PQclear(result);
    if (!exists)
        return CAIRN_OK;

    status = pgidx_exec(backend, conn, "SELECT max(version) FROM cairn_schema", 0, NULL,
                        &result);
    if (status != CAIRN_OK)
        return status;
    if (PQntuples(result) == 1)
        *version = (int)pgidx_int(result, 0, 0);
    PQclear(result);
    return CAIRN_OK;
}

/* Applies migration step (version - 1) and records version, in one transaction. */
static cairn_status apply_step(const pgidx_backend *backend, pgidx_conn *conn, int version)
{
    char version_text[16];
    const char *values[1] = {version_text};
    PGresult *result;
    cairn_status status;

    status = pgidx_exec(backend, conn, "BEGIN", 0, NULL, NULL);
    if (status != CAIRN_OK)
        return status;

    if (version == 1) {
        status = pgidx_exec(backend, conn, "CREATE TABLE cairn_schema (version integer NOT NULL)",
                            0, NULL, NULL);
        if (status == CAIRN_OK)
            status = pgidx_exec(backend, conn, "INSERT INTO cairn_schema VALUES (0)", 0, NULL,
                                NULL);
        if (status != CAIRN_OK)
            goto out;
    }

    /* A constant of this file, run as one multi-statement text. */
    result = PQexec(conn->pg, migrations[version - 1]);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        status = pgidx_result_failed(backend, conn, result, "migration");
        pgidx_log(backend, CAIRN_LOG_ERROR, "migration to index schema version %d failed",
                  version);
        PQclear(result);
        if (status == CAIRN_OK)
            status = CAIRN_ERR_DATABASE;
        goto out;
    }
    PQclear(result);

    snprintf(version_text, sizeof(version_text), "%d", version);
    status = pgidx_exec(backend, conn, "UPDATE cairn_schema SET version = $1", 1, values, NULL);

out:
    if (status == CAIRN_OK)
        return pgidx_exec(backend, conn, "COMMIT", 0, NULL, NULL);
    pgidx_exec(backend, conn, "ROLLBACK", 0, NULL, NULL);
    return status;
}

/* Migrates under the advisory lock, with no statement timeout while it waits and works. */
static cairn_status migrate(const pgidx_backend *backend, pgidx_conn *conn)
{
    int version = 0;
    cairn_status status;
    cairn_status unlocked;

    status = pgidx_exec(backend, conn, "SET statement_timeout = 0", 0, NULL, NULL);
    if (status == CAIRN_OK)
        status = pgidx_exec(backend, conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", 0,
                            NULL, NULL);
    if (status != CAIRN_OK)
        return status;

    /* Another node may have migrated while this one waited for the lock. */
    status = read_version(backend, conn, &version);
    for (int next = version + 1; status == CAIRN_OK && next <= SCHEMA_VERSION; next++) {
        status = apply_step(backend, conn, next);
        if (status == CAIRN_OK)
            pgidx_log(backend, CAIRN_LOG_INFO, "index database migrated to schema version %d",
                      next);
    }
    if (status == CAIRN_OK && version > SCHEMA_VERSION)
        status = CAIRN_ERR_UNSUPPORTED;

    unlocked = pgidx_exec(backend, conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", 0,
                          NULL, NULL);
    if (unlocked == CAIRN_OK)
        unlocked = pgidx_exec(backend, conn, "RESET statement_timeout", 0, NULL, NULL);
    return status != CAIRN_OK ? status : unlocked;
}

/*
 * Checks that the database has the schema this plugin knows, migrating
 * it first when migrate is set. Logs why and fails with
 * CAIRN_ERR_UNSUPPORTED on a newer schema, or on an older one that may
 * not be migrated here.
 */
cairn_status pgidx_schema_check(const pgidx_backend *backend, pgidx_conn *conn, bool migrate_now)
{
    int version = 0;
    cairn_status status = read_version(backend, conn, &version);

    if (status != CAIRN_OK)
        return status;

    if (version > SCHEMA_VERSION) {
        pgidx_log(backend, CAIRN_LOG_ERROR,
                  "the index database has schema version %d, newer than the %d this cairnd"
                  " knows; upgrade cairnd on this node (another node has migrated the"
                  " database)",
                  version, SCHEMA_VERSION);
        return CAIRN_ERR_UNSUPPORTED;
    }
    if (version == SCHEMA_VERSION)
        return CAIRN_OK;
    if (!migrate_now) {
        pgidx_log(backend, CAIRN_LOG_ERROR,
                  "the index database has schema version %d and this cairnd needs %d; run"
                  " `cairnd --migrate` (or set migrate_at_start = true)",
                  version, SCHEMA_VERSION);
        return CAIRN_ERR_UNSUPPORTED;
    }

    status = migrate(backend, conn);
    if (status == CAIRN_OK)
        status = read_version(backend, conn, &version);
    if (status == CAIRN_OK && version != SCHEMA_VERSION) {
        pgidx_log(backend, CAIRN_LOG_ERROR,
                  "the index database has schema version %d after migrating, not %d", version,
                  SCHEMA_VERSION);
        status = CAIRN_ERR_UNSUPPORTED;
    }
    return status;
}
