/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema of the index and its migrations. The database's PRAGMA
 * user_version is the number of migration steps applied; open() applies
 * the missing steps in order, each in its own transaction, and rejects a
 * database whose version is newer than the last step of this file.
 *
 * Counts and the study's modality and SOP class lists are kept by
 * triggers, so every path that inserts or deletes rows keeps them exact.
 * A patient is the pair (Patient ID, Issuer of Patient ID); instances
 * without either are filed under the pair ('', ''), one "unknown patient".
 */
#include <stdio.h>

#include "sqlidx.h"

/* Version 1: the four levels, their counts and the study-level lists. */
static const char schema_v1[] =
    "CREATE TABLE patient (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    patient_id TEXT NOT NULL,\n"
    "    issuer TEXT NOT NULL,\n"
    "    name TEXT NOT NULL DEFAULT '',\n"
    "    birth_date TEXT NOT NULL DEFAULT '',\n"
    "    sex TEXT NOT NULL DEFAULT '',\n"
    "    charset TEXT NOT NULL DEFAULT '',\n"
    "    num_studies INTEGER NOT NULL DEFAULT 0,\n"
    "    num_series INTEGER NOT NULL DEFAULT 0,\n"
    "    num_instances INTEGER NOT NULL DEFAULT 0,\n"
    "    UNIQUE (patient_id, issuer)\n"
    ");\n"
    "CREATE INDEX patient_name ON patient (name);\n"
    "CREATE TABLE study (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    patient INTEGER NOT NULL REFERENCES patient (id),\n"
    "    study_uid TEXT NOT NULL UNIQUE,\n"
    "    study_date TEXT NOT NULL DEFAULT '',\n"
    "    study_time TEXT NOT NULL DEFAULT '',\n"
    "    accession_number TEXT NOT NULL DEFAULT '',\n"
    "    study_id TEXT NOT NULL DEFAULT '',\n"
    "    referring_physician TEXT NOT NULL DEFAULT '',\n"
    "    description TEXT NOT NULL DEFAULT '',\n"
    "    charset TEXT NOT NULL DEFAULT '',\n"
    "    num_series INTEGER NOT NULL DEFAULT 0,\n"
    "    num_instances INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX study_patient ON study (patient);\n"
    "CREATE INDEX study_date ON study (study_date);\n"
    "CREATE INDEX study_accession ON study (accession_number);\n"
    "CREATE TABLE series (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    study INTEGER NOT NULL REFERENCES study (id),\n"
    "    series_uid TEXT NOT NULL UNIQUE,\n"
    "    modality TEXT NOT NULL DEFAULT '',\n"
    "    series_number INTEGER,\n"
    "    description TEXT NOT NULL DEFAULT '',\n"
    "    charset TEXT NOT NULL DEFAULT '',\n"
    "    num_instances INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX series_study ON series (study);\n"
    "CREATE INDEX series_modality ON series (modality);\n"
    "CREATE TABLE instance (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    series INTEGER NOT NULL REFERENCES series (id),\n"
    "    sop_uid TEXT NOT NULL UNIQUE,\n"
    "    sop_class_uid TEXT NOT NULL DEFAULT '',\n"
    "    instance_number INTEGER,\n"
    "    charset TEXT NOT NULL DEFAULT '',\n"
    "    path TEXT NOT NULL,\n"
    "    size INTEGER NOT NULL,\n"
    "    transfer_syntax TEXT NOT NULL DEFAULT '',\n"
    "    received_at_us INTEGER NOT NULL,\n"
    "    calling_ae TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX instance_series ON instance (series);\n"
    "CREATE INDEX instance_sop_class ON instance (sop_class_uid);\n"
    "CREATE TABLE study_modality (\n"
    "    study INTEGER NOT NULL REFERENCES study (id) ON DELETE CASCADE,\n"
    "    modality TEXT NOT NULL,\n"
    "    num_series INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (study, modality)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE study_sop_class (\n"
    "    study INTEGER NOT NULL REFERENCES study (id) ON DELETE CASCADE,\n"
    "    sop_class_uid TEXT NOT NULL,\n"
    "    num_instances INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (study, sop_class_uid)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TRIGGER study_added AFTER INSERT ON study BEGIN\n"
    "    UPDATE patient SET num_studies = num_studies + 1 WHERE id = NEW.patient;\n"
    "END;\n"
    "CREATE TRIGGER study_removed AFTER DELETE ON study BEGIN\n"
    "    UPDATE patient SET num_studies = num_studies - 1 WHERE id = OLD.patient;\n"
    "END;\n"
    "CREATE TRIGGER series_added AFTER INSERT ON series BEGIN\n"
    "    UPDATE study SET num_series = num_series + 1 WHERE id = NEW.study;\n"
    "    UPDATE patient SET num_series = num_series + 1\n"
    "        WHERE id = (SELECT patient FROM study WHERE id = NEW.study);\n"
    "    INSERT OR IGNORE INTO study_modality (study, modality)\n"
    "        SELECT NEW.study, NEW.modality WHERE NEW.modality <> '';\n"
    "    UPDATE study_modality SET num_series = num_series + 1\n"
    "        WHERE study = NEW.study AND modality = NEW.modality;\n"
    "END;\n"
    "CREATE TRIGGER series_removed AFTER DELETE ON series BEGIN\n"
    "    UPDATE study SET num_series = num_series - 1 WHERE id = OLD.study;\n"
    "    UPDATE patient SET num_series = num_series - 1\n"
    "        WHERE id = (SELECT patient FROM study WHERE id = OLD.study);\n"
    "    UPDATE study_modality SET num_series = num_series - 1\n"
    "        WHERE study = OLD.study AND modality = OLD.modality;\n"
    "    DELETE FROM study_modality\n"
    "        WHERE study = OLD.study AND modality = OLD.modality AND num_series = 0;\n"
    "END;\n"
    "CREATE TRIGGER series_modality_changed AFTER UPDATE OF modality ON series\n"
    "    WHEN NEW.modality IS NOT OLD.modality BEGIN\n"
    "    UPDATE study_modality SET num_series = num_series - 1\n"
    "        WHERE study = OLD.study AND modality = OLD.modality;\n"
    "    DELETE FROM study_modality\n"
    "        WHERE study = OLD.study AND modality = OLD.modality AND num_series = 0;\n"
    "    INSERT OR IGNORE INTO study_modality (study, modality)\n"
    "        SELECT NEW.study, NEW.modality WHERE NEW.modality <> '';\n"
    "    UPDATE study_modality SET num_series = num_series + 1\n"
    "        WHERE study = NEW.study AND modality = NEW.modality;\n"
    "END;\n"
    "CREATE TRIGGER instance_added AFTER INSERT ON instance BEGIN\n"
    "    UPDATE series SET num_instances = num_instances + 1 WHERE id = NEW.series;\n"
    "    UPDATE study SET num_instances = num_instances + 1\n"
    "        WHERE id = (SELECT study FROM series WHERE id = NEW.series);\n"
    "    UPDATE patient SET num_instances = num_instances + 1\n"
    "        WHERE id = (SELECT st.patient FROM series se JOIN study st ON st.id = se.study\n"
    "                    WHERE se.id = NEW.series);\n"
    "    INSERT OR IGNORE INTO study_sop_class (study, sop_class_uid)\n"
    "        SELECT study, NEW.sop_class_uid FROM series\n"
    "        WHERE id = NEW.series AND NEW.sop_class_uid <> '';\n"
    "    UPDATE study_sop_class SET num_instances = num_instances + 1\n"
    "        WHERE study = (SELECT study FROM series WHERE id = NEW.series)\n"
    "          AND sop_class_uid = NEW.sop_class_uid;\n"
    "END;\n"
    "CREATE TRIGGER instance_removed AFTER DELETE ON instance BEGIN\n"
    "    UPDATE series SET num_instances = num_instances - 1 WHERE id = OLD.series;\n"
    "    UPDATE study SET num_instances = num_instances - 1\n"
    "        WHERE id = (SELECT study FROM series WHERE id = OLD.series);\n"
    "    UPDATE patient SET num_instances = num_instances - 1\n"
    "        WHERE id = (SELECT st.patient FROM series se JOIN study st ON st.id = se.study\n"
    "                    WHERE se.id = OLD.series);\n"
    "    UPDATE study_sop_class SET num_instances = num_instances - 1\n"
    "        WHERE study = (SELECT study FROM series WHERE id = OLD.series)\n"
    "          AND sop_class_uid = OLD.sop_class_uid;\n"
    "    DELETE FROM study_sop_class\n"
    "        WHERE study = (SELECT study FROM series WHERE id = OLD.series)\n"
    "          AND sop_class_uid = OLD.sop_class_uid AND num_instances = 0;\n"
    "END;\n";

/*
 * Version 2: what query() matches on. Case-folded copies of Patient's Name
 * and of its component groups, a normalised Study Time, dates without the
 * ACR-NEMA dots, and the rejected mark of an instance.
 *
 * A rejected instance stays in its series, but the instance counts and
 * SOP Classes in Study leave it out: the trigger below updates them when
 * the mark changes, and removing a rejected instance changes no count.
 * The series, study and patient counts still include a series whose
 * instances are all rejected, and so does study_modality; query() works
 * those out from the instance counts instead.
 */
static const char schema_v2[] =
    "ALTER TABLE patient ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE patient ADD COLUMN name_alphabetic TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE patient ADD COLUMN name_ideographic TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE patient ADD COLUMN name_phonetic TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE study ADD COLUMN time_key TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE instance ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;\n"
    "UPDATE patient SET name_folded = cairn_fold(name),\n"
    "    name_alphabetic = cairn_fold(cairn_pn_group(name, 0)),\n"
    "    name_ideographic = cairn_fold(cairn_pn_group(name, 1)),\n"
    "    name_phonetic = cairn_fold(cairn_pn_group(name, 2))\n"
    "    WHERE name <> '';\n"
    "UPDATE patient SET birth_date = replace(birth_date, '.', '')\n"
    "    WHERE birth_date GLOB '[0-9][0-9][0-9][0-9].[0-9][0-9].[0-9][0-9]';\n"
    "UPDATE study SET study_date = replace(study_date, '.', '')\n"
    "    WHERE study_date GLOB '[0-9][0-9][0-9][0-9].[0-9][0-9].[0-9][0-9]';\n"
    "UPDATE study SET time_key = cairn_time_key(study_time) WHERE study_time <> '';\n"
    "CREATE INDEX patient_name_folded ON patient (name_folded);\n"
    "CREATE INDEX patient_name_alphabetic ON patient (name_alphabetic)\n"
    "    WHERE name_alphabetic <> '';\n"
    "CREATE INDEX patient_name_ideographic ON patient (name_ideographic)\n"
    "    WHERE name_ideographic <> '';\n"
    "CREATE INDEX patient_name_phonetic ON patient (name_phonetic) WHERE name_phonetic <> '';\n"
    "DROP TRIGGER instance_removed;\n"
    "CREATE TRIGGER instance_removed AFTER DELETE ON instance WHEN OLD.rejected = 0 BEGIN\n"
    "    UPDATE series SET num_instances = num_instances - 1 WHERE id = OLD.series;\n"
    "    UPDATE study SET num_instances = num_instances - 1\n"
    "        WHERE id = (SELECT study FROM series WHERE id = OLD.series);\n"
    "    UPDATE patient SET num_instances = num_instances - 1\n"
    "        WHERE id = (SELECT st.patient FROM series se JOIN study st ON st.id = se.study\n"
    "                    WHERE se.id = OLD.series);\n"
    "    UPDATE study_sop_class SET num_instances = num_instances - 1\n"
    "        WHERE study = (SELECT study FROM series WHERE id = OLD.series)\n"
    "          AND sop_class_uid = OLD.sop_class_uid;\n"
    "    DELETE FROM study_sop_class\n"
    "        WHERE study = (SELECT study FROM series WHERE id = OLD.series)\n"
    "          AND sop_class_uid = OLD.sop_class_uid AND num_instances = 0;\n"
    "END;\n"
    "CREATE TRIGGER instance_rejection_changed AFTER UPDATE OF rejected ON instance\n"
    "    WHEN (NEW.rejected <> 0) <> (OLD.rejected <> 0) BEGIN\n"
    "    UPDATE series SET num_instances = num_instances + iif(NEW.rejected <> 0, -1, 1)\n"
    "        WHERE id = NEW.series;\n"
    "    UPDATE study SET num_instances = num_instances + iif(NEW.rejected <> 0, -1, 1)\n"
    "        WHERE id = (SELECT study FROM series WHERE id = NEW.series);\n"
    "    UPDATE patient SET num_instances = num_instances + iif(NEW.rejected <> 0, -1, 1)\n"
    "        WHERE id = (SELECT st.patient FROM series se JOIN study st ON st.id = se.study\n"
    "                    WHERE se.id = NEW.series);\n"
    "    INSERT OR IGNORE INTO study_sop_class (study, sop_class_uid)\n"
    "        SELECT study, NEW.sop_class_uid FROM series\n"
    "        WHERE id = NEW.series AND NEW.sop_class_uid <> '' AND NEW.rejected = 0;\n"
    "    UPDATE study_sop_class SET num_instances = num_instances + iif(NEW.rejected <> 0, -1, 1)\n"
    "        WHERE study = (SELECT study FROM series WHERE id = NEW.series)\n"
    "          AND sop_class_uid = NEW.sop_class_uid;\n"
    "    DELETE FROM study_sop_class\n"
    "        WHERE study = (SELECT study FROM series WHERE id = NEW.series)\n"
    "          AND sop_class_uid = NEW.sop_class_uid AND num_instances = 0;\n"
    "END;\n";

/*
 * Version 3: the jobs of the Query, Load and Save Managers. seq keeps the
 * order of submission, since an upsert keeps the row's seq.
 */
static const char schema_v3[] =
    "CREATE TABLE job (\n"
    "    seq INTEGER PRIMARY KEY,\n"
    "    job_id TEXT NOT NULL UNIQUE,\n"
    "    document TEXT NOT NULL\n"
    ");\n";

/*
 * Version 4: SOP Instance UIDs named by IOCM rejection notes, with the
 * note's code. An instance stored later under one of them is marked
 * rejected as it arrives (write.c), so the rejection holds whatever the
 * order in which the note and the instance come.
 */
static const char schema_v4[] =
    "CREATE TABLE rejection (\n"
    "    sop_uid TEXT PRIMARY KEY,\n"
    "    code TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n";

/*
 * Version 5: Modality Performed Procedure Steps, and the outbox of DIMSE
 * messages waiting for delivery to remote AEs. An outbox id is the rowid,
 * AUTOINCREMENT so that an id is never reused and stays the send order.
 */
static const char schema_v5[] =
    "CREATE TABLE mpps (\n"
    "    sop_uid TEXT PRIMARY KEY,\n"
    "    status TEXT NOT NULL,\n"
    "    study_uid TEXT NOT NULL,\n"
    "    modality TEXT NOT NULL,\n"
    "    start_datetime TEXT NOT NULL,\n"
    "    calling_ae TEXT NOT NULL,\n"
    "    created_at_us INTEGER NOT NULL,\n"
    "    updated_at_us INTEGER NOT NULL,\n"
    "    document TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX mpps_study ON mpps (study_uid);\n"
    "CREATE INDEX mpps_start ON mpps (start_datetime);\n"
    "CREATE TABLE outbox (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    kind TEXT NOT NULL,\n"
    "    destination TEXT NOT NULL,\n"
    "    calling_ae TEXT NOT NULL,\n"
    "    group_key TEXT NOT NULL,\n"
    "    document TEXT NOT NULL,\n"
    "    attempts INTEGER NOT NULL DEFAULT 0,\n"
    "    last_error TEXT NOT NULL DEFAULT '',\n"
    "    created_at_us INTEGER NOT NULL,\n"
    "    next_attempt_at_us INTEGER NOT NULL\n"
    ");\n";

/*
 * Version 6: Storage Commitment the archive asked of remote AEs (backup
 * archives), one row per instance and remote. due_at_us orders the retries
 * of pending rows; transaction_uid finds the rows an N-EVENT-REPORT answers.
 */
static const char schema_v6[] =
    "CREATE TABLE commitment (\n"
    "    remote_ae TEXT NOT NULL,\n"
    "    sop_uid TEXT NOT NULL,\n"
    "    sop_class_uid TEXT NOT NULL,\n"
    "    study_uid TEXT NOT NULL,\n"
    "    calling_ae TEXT NOT NULL,\n"
    "    state INTEGER NOT NULL,\n"
    "    transaction_uid TEXT NOT NULL,\n"
    "    note TEXT NOT NULL,\n"
    "    requested_at_us INTEGER NOT NULL,\n"
    "    due_at_us INTEGER NOT NULL,\n"
    "    updated_at_us INTEGER NOT NULL,\n"
    "    attempts INTEGER NOT NULL,\n"
    "    failure_reason INTEGER NOT NULL,\n"
    "    PRIMARY KEY (remote_ae, sop_uid)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX commitment_transaction ON commitment (transaction_uid);\n"
    "CREATE INDEX commitment_study ON commitment (study_uid);\n"
    "CREATE INDEX commitment_due ON commitment (state, due_at_us);\n";

/*
 * Version 7: leases, so that one node at a time does a piece of work (a
 * job, a queue) and another takes it over once the lease expires.
 */
static const char schema_v7[] =
    "CREATE TABLE lease (\n"
    "    lease_key TEXT PRIMARY KEY,\n"
    "    owner TEXT NOT NULL,\n"
    "    expires_at_us INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n";

/*
 * Version 8: sequence items for sequence matching (query_seq.c). A
 * top-level item belongs to the row owner of its level (1 to 4) and keeps
 * its encoding for responses; a nested item has level 0 and its parent
 * item as owner. seq_value contains one row per value of an item attribute,
 * value normalised as the matching compares it (DA and TM as keys) and
 * folded the case-folded value of a PN. Instances stored before this
 * version have no sequences indexed.
 */
static const char schema_v8[] =
    "CREATE TABLE seq_item (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    level INTEGER NOT NULL,\n"
    "    owner INTEGER NOT NULL,\n"
    "    parent INTEGER REFERENCES seq_item (id) ON DELETE CASCADE,\n"
    "    tag INTEGER NOT NULL,\n"
    "    position INTEGER NOT NULL,\n"
    "    data BLOB\n"
    ");\n"
    "CREATE INDEX seq_item_owner ON seq_item (level, owner, tag, position);\n"
    "CREATE INDEX seq_item_parent ON seq_item (parent) WHERE parent IS NOT NULL;\n"
    "CREATE TABLE seq_value (\n"
    "    item INTEGER NOT NULL REFERENCES seq_item (id) ON DELETE CASCADE,\n"
    "    tag INTEGER NOT NULL,\n"
    "    value TEXT NOT NULL,\n"
    "    folded TEXT,\n"
    "    PRIMARY KEY (item, tag, value)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX seq_value_value ON seq_value (tag, value);\n"
    "CREATE TRIGGER seq_patient_removed AFTER DELETE ON patient BEGIN\n"
    "    DELETE FROM seq_item WHERE level = 1 AND owner = OLD.id;\n"
    "END;\n"
    "CREATE TRIGGER seq_study_removed AFTER DELETE ON study BEGIN\n"
    "    DELETE FROM seq_item WHERE level = 2 AND owner = OLD.id;\n"
    "END;\n"
    "CREATE TRIGGER seq_series_removed AFTER DELETE ON series BEGIN\n"
    "    DELETE FROM seq_item WHERE level = 3 AND owner = OLD.id;\n"
    "END;\n"
    "CREATE TRIGGER seq_instance_removed AFTER DELETE ON instance BEGIN\n"
    "    DELETE FROM seq_item WHERE level = 4 AND owner = OLD.id;\n"
    "END;\n";

/*
 * Version 9: the studies of each patient by Study Date, in place of
 * study_patient. A study query by Patient's Name and a wide date range
 * starts from the matching patients (query_plan.c), and this index
 * compares each study's date without reading the study row.
 */
static const char schema_v9[] =
    "CREATE INDEX study_patient_date ON study (patient, study_date);\n"
    "DROP INDEX study_patient;\n";

/* Migration steps; step i brings the database to version i + 1. Append only. */
static const char *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
    schema_v7,
    schema_v8,
    schema_v9,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static cairn_status read_version(const sqlidx_backend *backend, sqlidx_conn *conn,
                                 const char *path, int *version)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn->db, "PRAGMA user_version", -1, &stmt, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlidx_log(backend, CAIRN_LOG_ERROR, "cannot read the schema version of %s: %s", path,
                   sqlite3_errmsg(conn->db));
        sqlite3_finalize(stmt);
        return sqlidx_status_from_sqlite(rc);
    }
    *version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return CAIRN_OK;
}

/* Applies migration step (version - 1) and records version, in one transaction. */
static cairn_status apply_step(const sqlidx_backend *backend, sqlidx_conn *conn,
                               const char *path, int version)
{
    char set_version[64];
    char *message = NULL;
    int current = 0;
    cairn_status status;
    int rc;

    status = sqlidx_run(backend, conn, SQLIDX_BEGIN);
    if (status != CAIRN_OK)
        return status;

    /* Another process may have migrated while this one waited for the lock. */
    status = read_version(backend, conn, path, &current);
    if (status != CAIRN_OK || current >= version)
        goto out;

    /* The version is an integer of this file, not received text. */
    snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", version);
    rc = sqlite3_exec(conn->db, migrations[version - 1], NULL, NULL, &message);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(conn->db, set_version, NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        sqlidx_log(backend, CAIRN_LOG_ERROR,
                   "index database %s: migration to schema version %d failed: %s", path,
                   version, message != NULL ? message : sqlite3_errstr(rc));
        sqlite3_free(message);
        status = sqlidx_status_from_sqlite(rc);
        if (status == CAIRN_OK)
            status = CAIRN_ERR_DATABASE;
    }

out:
    if (status == CAIRN_OK)
        return sqlidx_run(backend, conn, SQLIDX_COMMIT);
    sqlidx_run(backend, conn, SQLIDX_ROLLBACK);
    return status;
}

/*
 * Brings the database at path, opened as conn, to SCHEMA_VERSION. Fails
 * with CAIRN_ERR_UNSUPPORTED, logged, when the database is newer.
 */
cairn_status sqlidx_schema_migrate(const sqlidx_backend *backend, sqlidx_conn *conn,
                                   const char *path)
{
    int version = 0;
    cairn_status status = read_version(backend, conn, path, &version);

    if (status != CAIRN_OK)
        return status;

    if (version > SCHEMA_VERSION) {
        sqlidx_log(backend, CAIRN_LOG_ERROR,
                   "index database %s has schema version %d, newer than this plugin's %d;"
                   " upgrade Cairn or point `path` at another database",
                   path, version, SCHEMA_VERSION);
        return CAIRN_ERR_UNSUPPORTED;
    }

    for (int next = version + 1; next <= SCHEMA_VERSION; next++) {
        status = apply_step(backend, conn, path, next);
        if (status != CAIRN_OK)
            return status;
        sqlidx_log(backend, CAIRN_LOG_INFO, "index database %s migrated to schema version %d",
                   path, next);
    }
    return CAIRN_OK;
}
