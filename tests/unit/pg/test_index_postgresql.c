/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the index-postgresql plugin, loaded for real through the core's
 * plugin registry and run against the PostgreSQL server of the tests
 * (tests/interop/pg_server.sh, started by the ctest fixture pg). Each test
 * works in a database of its own, created and dropped over libpq.
 *
 * They cover every op of cairn_index_ops: rows and counts at each level,
 * the duplicate policies, removal, rejections, jobs, MPPS steps, the
 * outbox, storage commitment and the migrate op, a table of C-FIND
 * matches (names without case, wildcards with LIKE's metacharacters as
 * literals, date and time ranges, UID lists, relational keys), the
 * max_matches limit, one SOP Instance UID stored by two index handles
 * (two connection pools) at the same moment, and the group commit of
 * stores that wait at the same time (each caller gets its own outcome).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/conf.h"
#include "plugin/plugin.h"

#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define MR_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.4"
#define EXPLICIT_VR_LE "1.2.840.10008.1.2.1"

/* Instances stored twice at once by the race test. */
#define RACE_ROUNDS 40

typedef struct fixture {
    char dir[64];
    char dbname[64];
    char socket[256];
    cairn_conf *conf;
    plugin_registry *registry;
    const plugin_index *index;
    const cairn_host_api *api;
    void *db;
} fixture;

/* One instance to store; NULL fields are absent. */
typedef struct instance_spec {
    const char *patient_name;
    const char *patient_id;
    const char *study_uid;
    const char *study_date;
    const char *study_time;
    const char *accession;
    const char *referring;
    const char *description;
    const char *series_uid;
    const char *modality;
    const char *series_number;
    const char *sop_uid;
    const char *sop_class;
    const char *instance_number;
} instance_spec;

/*
 *   P1 Doe^Jane: study 1.2.3.1 (CT series of 2, MR series of 1), study 1.2.3.3 (CT)
 *   P2 DOE^JOHN=ドウ^ジョン: study 1.2.3.2 (MR)
 *   P_3 Roe^Rick: study 1.2.3.4 (CT) without date, time or series number
 */
static const instance_spec archive[] = {
    {"Doe^Jane", "P1", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam", "Chest CT",
     "1.2.3.1.1", "CT", "2", "1.2.3.1.1.1", CT_IMAGE_STORAGE, "1"},
    {"Doe^Jane", "P1", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam", "Chest CT",
     "1.2.3.1.1", "CT", "2", "1.2.3.1.1.2", CT_IMAGE_STORAGE, "2"},
    {"Doe^Jane", "P1", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam", "Chest CT",
     "1.2.3.1.2", "MR", "1", "1.2.3.1.2.1", MR_IMAGE_STORAGE, "1"},
    {"Doe^Jane", "P1", "1.2.3.3", "20240105", "0830", NULL, NULL, "100% done_x",
     "1.2.3.3.1", "CT", "1", "1.2.3.3.1.1", CT_IMAGE_STORAGE, "1"},
    {"DOE^JOHN=\xe3\x83\x89\xe3\x82\xa6^\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3", "P2", "1.2.3.2",
     "20230505", "235959.5", "ACC2", NULL, "O'Brien [x]", "1.2.3.2.1", "MR", "1",
     "1.2.3.2.1.1", MR_IMAGE_STORAGE, "1"},
    {"Roe^Rick", "P_3", "1.2.3.4", NULL, NULL, "A%1", NULL, NULL, "1.2.3.4.1", "CT", NULL,
     "1.2.3.4.1.1", CT_IMAGE_STORAGE, "1"},
};

#define ARCHIVE_SIZE (sizeof(archive) / sizeof(archive[0]))

/* ---- fixture ---- */

/* Runs one statement on the maintenance database of the test server. */
static void server_sql(const char *socket, const char *sql)
{
    char conninfo[512];
    PGconn *conn;
    PGresult *result;

    snprintf(conninfo, sizeof(conninfo), "host=%s dbname=postgres user=cairn", socket);
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("cannot reach the test server at %s (is pg.start run?): %s", socket,
                 PQerrorMessage(conn));
    result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_COMMAND_OK)
        fail_msg("\"%s\" failed: %s", sql, PQerrorMessage(conn));
    PQclear(result);
    PQfinish(conn);
}

/* Runs one statement in the test's database and returns the first value (malloc'd). */
static char *db_value(const fixture *fx, const char *sql)
{
    char conninfo[512];
    PGconn *conn;
    PGresult *result;
    char *value = NULL;

    snprintf(conninfo, sizeof(conninfo), "host=%s dbname=%s user=cairn", fx->socket, fx->dbname);
    conn = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    result = PQexec(conn, sql);
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0)
        value = strdup(PQgetvalue(result, 0, 0));
    else if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK)
        fail_msg("\"%s\" failed: %s", sql, PQerrorMessage(conn));
    PQclear(result);
    PQfinish(conn);
    return value;
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static void load_plugin(fixture *fx, const char *extra)
{
    char path[128];
    char text[2048];
    char err[512] = "";

    snprintf(path, sizeof(path), "%s/cairn.conf", fx->dir);
    snprintf(text, sizeof(text),
             "storage = { path = \"storage\"; };\n"
             "index = { plugin = \"index-postgresql\"; };\n"
             "plugin_directory = \"%s\";\n"
             "plugins = { index-postgresql = { conninfo = \"host=%s dbname=%s user=cairn\";"
             " %s }; };\n"
             "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"index-postgresql\" ]; } );\n",
             CAIRN_PLUGIN_BUILD_DIR, fx->socket, fx->dbname, extra);
    write_file(path, text);
    if (conf_load(path, &fx->conf, err, sizeof(err)) != 0)
        fail_msg("cannot load %s: %s", path, err);
    assert_int_equal(plugin_registry_load(fx->conf, &fx->registry), 0);
    fx->index = plugin_find_index(fx->registry, "index-postgresql");
    assert_non_null(fx->index);
    fx->api = plugin_host_api();
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    const char *socket = getenv("CAIRN_TEST_PG_SOCKET");
    char sql[128];
    static int serial;

    assert_non_null(fx);
    snprintf(fx->socket, sizeof(fx->socket), "%s",
             socket != NULL ? socket : CAIRN_TEST_PG_SOCKET_DEFAULT);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-pgindex-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->dbname, sizeof(fx->dbname), "cairn_unit_%d_%d", (int)getpid(), ++serial);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", fx->dbname);
    server_sql(fx->socket, sql);

    load_plugin(fx, "pool_size = 4;");
    assert_int_equal(fx->index->ops.open(fx->index->backend_state, fx->dir, &fx->db), CAIRN_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char path[160];
    char sql[128];

    if (fx->db != NULL)
        fx->index->ops.close(fx->db);
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
    server_sql(fx->socket, sql);
    snprintf(path, sizeof(path), "%s/cairn.conf", fx->dir);
    remove(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void set_text(const cairn_host_api *api, cairn_dataset *dataset, cairn_tag tag,
                     cairn_vr vr, const char *value)
{
    if (value != NULL)
        assert_int_equal(api->dataset_set_string(dataset, tag, vr, value), CAIRN_OK);
}

static cairn_status store_with(const fixture *fx, void *db, const instance_spec *spec,
                               const char *path, cairn_duplicate_policy policy,
                               cairn_store_outcome *outcome, char **replaced)
{
    cairn_dataset *dataset = fx->api->dataset_create();
    cairn_instance_file file = {
        .struct_size = sizeof(file),
        .path = path,
        .size = 100,
        .transfer_syntax_uid = EXPLICIT_VR_LE,
        .received_at_us = 1700000000000000,
        .calling_ae = "TEST",
    };
    cairn_status status;

    assert_non_null(dataset);
    set_text(fx->api, dataset, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, "ISO_IR 192");
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, spec->patient_name);
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, spec->patient_id);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, spec->study_uid);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, spec->study_date);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, spec->study_time);
    set_text(fx->api, dataset, CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, spec->accession);
    set_text(fx->api, dataset, CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, spec->referring);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, spec->description);
    set_text(fx->api, dataset, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, spec->series_uid);
    set_text(fx->api, dataset, CAIRN_TAG_MODALITY, CAIRN_VR_CS, spec->modality);
    set_text(fx->api, dataset, CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, spec->series_number);
    set_text(fx->api, dataset, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, spec->sop_uid);
    set_text(fx->api, dataset, CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, spec->sop_class);
    set_text(fx->api, dataset, CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, spec->instance_number);
    status = fx->index->ops.store_instance(db, dataset, &file, policy, outcome, replaced);
    fx->api->dataset_destroy(dataset);
    return status;
}

static void store_archive(fixture *fx)
{
    for (size_t i = 0; i < ARCHIVE_SIZE; i++) {
        cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

        assert_int_equal(store_with(fx, fx->db, &archive[i], archive[i].sop_uid,
                                    CAIRN_DUPLICATE_REJECT, &outcome, NULL),
                         CAIRN_OK);
        assert_int_equal(outcome, CAIRN_STORE_STORED);
    }
}

static uint64_t count_level(const fixture *fx, cairn_index_level level)
{
    uint64_t count = 0;

    assert_int_equal(fx->index->ops.count(fx->db, level, &count), CAIRN_OK);
    return count;
}

/* ---- rows: the unique key of each row, comma-separated, and one row's values ---- */

typedef struct rows {
    const cairn_host_api *api;
    cairn_tag key;
    char keys[1024];
    cairn_dataset *first; /* a copy of the first row's attributes */
    char first_path[128];
} rows;

static int collect(void *arg, const cairn_index_row *row)
{
    rows *out = arg;
    char *value = NULL;

    if (out->api->dataset_get_utf8(row->attributes, out->key, &value) == CAIRN_OK &&
        value != NULL) {
        size_t used = strlen(out->keys);

        snprintf(out->keys + used, sizeof(out->keys) - used, "%s%s", used > 0 ? "," : "",
                 value);
        out->api->free(value);
    }
    if (out->first == NULL) {
        out->first = out->api->dataset_create();
        for (size_t i = 0; i < out->api->dataset_count(row->attributes); i++) {
            cairn_tag tag = out->api->element_tag(out->api->dataset_at(row->attributes, i));
            char *text = NULL;

            if (out->api->dataset_get_utf8(row->attributes, tag, &text) == CAIRN_OK) {
                out->api->dataset_set_string(out->first, tag, CAIRN_VR_LO,
                                             text != NULL ? text : "");
                out->api->free(text);
            }
        }
        if (row->file != NULL)
            snprintf(out->first_path, sizeof(out->first_path), "%s", row->file->path);
    }
    return 0;
}

static const cairn_tag level_key[] = {
    [CAIRN_LEVEL_PATIENT] = CAIRN_TAG_PATIENT_ID,
    [CAIRN_LEVEL_STUDY] = CAIRN_TAG_STUDY_INSTANCE_UID,
    [CAIRN_LEVEL_SERIES] = CAIRN_TAG_SERIES_INSTANCE_UID,
    [CAIRN_LEVEL_INSTANCE] = CAIRN_TAG_SOP_INSTANCE_UID,
};

/* The value of tag in the first row, padding removed; "" when absent. */
static const char *first_value(rows *out, cairn_tag tag)
{
    static char value[256];
    char *text = NULL;
    size_t length;

    value[0] = '\0';
    if (out->first != NULL && out->api->dataset_get_utf8(out->first, tag, &text) == CAIRN_OK &&
        text != NULL) {
        snprintf(value, sizeof(value), "%s", text);
        out->api->free(text);
    }
    length = strlen(value);
    while (length > 0 && value[length - 1] == ' ')
        value[--length] = '\0';
    return value;
}

static void rows_free(rows *out)
{
    if (out->first != NULL)
        out->api->dataset_destroy(out->first);
    out->first = NULL;
}

/* One key of a query identifier. */
typedef struct key_spec {
    cairn_tag tag;
    cairn_vr vr;
    const char *value;
} key_spec;

static cairn_status run_query(const fixture *fx, cairn_index_level level, uint32_t flags,
                              const key_spec *keys, size_t count, uint64_t max_matches,
                              rows *out)
{
    cairn_dataset *identifier = fx->api->dataset_create();
    cairn_index_query query = {
        .struct_size = sizeof(query),
        .level = level,
        .keys = identifier,
        .flags = flags,
        .max_matches = max_matches,
    };
    cairn_status status;

    memset(out, 0, sizeof(*out));
    out->api = fx->api;
    out->key = level_key[level];
    set_text(fx->api, identifier, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, "ISO_IR 192");
    for (size_t k = 0; k < count; k++)
        set_text(fx->api, identifier, keys[k].tag, keys[k].vr, keys[k].value);
    status = fx->index->ops.query(fx->db, &query, collect, out);
    fx->api->dataset_destroy(identifier);
    return status;
}

/* ---- tests ---- */

static void test_rows_and_counts(void **state)
{
    fixture *fx = *state;
    rows out;

    store_archive(fx);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_PATIENT), 3);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_STUDY), 4);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_SERIES), 5);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_INSTANCE), 6);

    memset(&out, 0, sizeof(out));
    out.api = fx->api;
    out.key = CAIRN_TAG_STUDY_INSTANCE_UID;
    assert_int_equal(fx->index->ops.list(fx->db, CAIRN_LEVEL_STUDY, NULL, collect, &out),
                     CAIRN_OK);
    assert_string_equal(out.keys, "1.2.3.1,1.2.3.3,1.2.3.2,1.2.3.4");
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0008, 0x0061)), "CT\\MR");
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0020, 0x1206)), "2");
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0020, 0x1208)), "3");
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0008, 0x0062)),
                        CT_IMAGE_STORAGE "\\" MR_IMAGE_STORAGE);
    rows_free(&out);

    /* Series without a number come first, as in SQLite. */
    memset(&out, 0, sizeof(out));
    out.api = fx->api;
    out.key = CAIRN_TAG_SOP_INSTANCE_UID;
    assert_int_equal(fx->index->ops.list(fx->db, CAIRN_LEVEL_INSTANCE, NULL, collect, &out),
                     CAIRN_OK);
    assert_string_equal(out.keys, "1.2.3.1.2.1,1.2.3.1.1.1,1.2.3.1.1.2,1.2.3.3.1.1,"
                                  "1.2.3.2.1.1,1.2.3.4.1.1");
    assert_string_equal(out.first_path, "1.2.3.1.2.1");
    rows_free(&out);
}

static void test_duplicates_and_removal(void **state)
{
    fixture *fx = *state;
    cairn_store_outcome outcome = CAIRN_STORE_STORED;
    char *replaced = NULL;

    store_archive(fx);
    assert_int_equal(store_with(fx, fx->db, &archive[0], "new", CAIRN_DUPLICATE_KEEP, &outcome,
                                NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_KEPT);
    assert_int_equal(store_with(fx, fx->db, &archive[0], "new", CAIRN_DUPLICATE_REJECT,
                                &outcome, NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REJECTED);
    assert_int_equal(store_with(fx, fx->db, &archive[0], "new", CAIRN_DUPLICATE_REPLACE,
                                &outcome, &replaced),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REPLACED);
    assert_non_null(replaced);
    assert_string_equal(replaced, archive[0].sop_uid);
    fx->api->free(replaced);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_INSTANCE), 6);

    /* Removing the only instance of P_3 drops its series, study and patient. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.4.1.1"), CAIRN_OK);
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.4.1.1"),
                     CAIRN_ERR_NOT_FOUND);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_PATIENT), 2);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_STUDY), 3);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_SERIES), 4);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_INSTANCE), 5);
}

#define PN(v) {CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, v}
#define PID(v) {CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, v}
#define STUDY_UID(v) {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, v}
#define DATE(v) {CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, v}
#define TIME(v) {CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, v}
#define ACCESSION(v) {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, v}
#define REFERRING(v) {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, v}
#define DESCRIPTION(v) {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, v}
#define MODALITIES(v) {CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, v}
#define MODALITY(v) {CAIRN_TAG_MODALITY, CAIRN_VR_CS, v}
#define SERIES_NUMBER(v) {CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, v}
#define SOP_UID(v) {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, v}

typedef struct query_case {
    const char *name;
    cairn_index_level level;
    uint32_t flags;
    key_spec keys[3];
    const char *expected;
} query_case;

static const query_case cases[] = {
    {"universal", CAIRN_LEVEL_PATIENT, 0, {{0}}, "P1,P2,P_3"},
    {"name, other case", CAIRN_LEVEL_PATIENT, 0, {PN("dOE^jANE")}, "P1"},
    {"name, case-sensitive", CAIRN_LEVEL_PATIENT, CAIRN_QUERY_PN_CASE_SENSITIVE,
     {PN("doe^jane")}, ""},
    {"name prefix", CAIRN_LEVEL_PATIENT, 0, {PN("doe*")}, "P1,P2"},
    {"name prefix, case-sensitive", CAIRN_LEVEL_PATIENT, CAIRN_QUERY_PN_CASE_SENSITIVE,
     {PN("Doe*")}, "P1"},
    {"name question mark", CAIRN_LEVEL_PATIENT, 0, {PN("?oe^J*")}, "P1,P2"},
    {"name ideographic group", CAIRN_LEVEL_PATIENT, 0,
     {PN("\xe3\x83\x89\xe3\x82\xa6*")}, "P2"},
    {"name with groups matches only whole", CAIRN_LEVEL_PATIENT, 0, {PN("doe^john=*")}, "P2"},
    {"underscore literal", CAIRN_LEVEL_PATIENT, 0, {PID("P_*")}, "P_3"},
    {"percent literal", CAIRN_LEVEL_PATIENT, 0, {PID("P%")}, ""},
    {"study key below patient", CAIRN_LEVEL_PATIENT, 0, {DATE("20230505")}, "P2"},
    {"UID list", CAIRN_LEVEL_STUDY, 0, {STUDY_UID("1.2.3.4\\1.2.3.1\\9.9")}, "1.2.3.1,1.2.3.4"},
    {"date range", CAIRN_LEVEL_STUDY, 0, {DATE("20240102-20240105")}, "1.2.3.1,1.2.3.3"},
    {"date open below", CAIRN_LEVEL_STUDY, 0, {DATE("-20231231")}, "1.2.3.2"},
    {"date empty", CAIRN_LEVEL_STUDY, 0, {DATE("\"\"")}, "1.2.3.4"},
    {"time range by meaning", CAIRN_LEVEL_STUDY, 0, {TIME("-1015")}, "1.2.3.1,1.2.3.3"},
    {"date and time combined", CAIRN_LEVEL_STUDY, CAIRN_QUERY_COMBINED_DATETIME,
     {DATE("20240102-20240105"), TIME("1200-0900")}, "1.2.3.3"},
    {"accession", CAIRN_LEVEL_STUDY, 0, {ACCESSION("ACC2")}, "1.2.3.2"},
    {"accession wildcard", CAIRN_LEVEL_STUDY, 0, {ACCESSION("ACC*")}, "1.2.3.1,1.2.3.2"},
    {"accession percent literal", CAIRN_LEVEL_STUDY, 0, {ACCESSION("A%1")}, "1.2.3.4"},
    {"percent and underscore literal", CAIRN_LEVEL_STUDY, 0, {DESCRIPTION("*% done?x")},
     "1.2.3.3"},
    {"underscore is no wildcard", CAIRN_LEVEL_STUDY, 0, {DESCRIPTION("100% done_*")}, "1.2.3.3"},
    {"underscore needs itself", CAIRN_LEVEL_STUDY, 0, {DESCRIPTION("100% doneax")}, ""},
    {"bracket literal", CAIRN_LEVEL_STUDY, 0, {DESCRIPTION("O'Brien [*")}, "1.2.3.2"},
    {"referring physician, other case", CAIRN_LEVEL_STUDY, 0, {REFERRING("SMITH^*")},
     "1.2.3.1"},
    {"modalities in study", CAIRN_LEVEL_STUDY, 0, {MODALITIES("MR")}, "1.2.3.1,1.2.3.2"},
    {"modalities wildcard", CAIRN_LEVEL_STUDY, 0, {MODALITIES("C?")},
     "1.2.3.1,1.2.3.3,1.2.3.4"},
    {"name and wide dates", CAIRN_LEVEL_STUDY, 0, {PN("DOE*"), DATE("20200101-20241231")},
     "1.2.3.1,1.2.3.3,1.2.3.2"},
    {"series number empty", CAIRN_LEVEL_SERIES, 0, {SERIES_NUMBER("\"\"")}, "1.2.3.4.1"},
    {"series number not a number", CAIRN_LEVEL_SERIES, 0, {SERIES_NUMBER("two")}, ""},
    {"series of a modality", CAIRN_LEVEL_SERIES, 0, {MODALITY("CT")},
     "1.2.3.1.1,1.2.3.3.1,1.2.3.4.1"},
    {"instance UID list", CAIRN_LEVEL_INSTANCE, 0, {SOP_UID("1.2.3.1.1.2\\1.2.3.1.1.1")},
     "1.2.3.1.1.1,1.2.3.1.1.2"},
};

static void test_matching_table(void **state)
{
    fixture *fx = *state;
    int failures = 0;

    store_archive(fx);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        rows out;
        size_t count = 0;
        cairn_status status;

        while (count < 3 && cases[c].keys[count].tag != 0)
            count++;
        status = run_query(fx, cases[c].level, cases[c].flags, cases[c].keys, count, 0, &out);
        if (status != CAIRN_OK || strcmp(out.keys, cases[c].expected) != 0) {
            print_error("%s: got \"%s\" (%s), expected \"%s\"\n", cases[c].name, out.keys,
                        cairn_strerror(status), cases[c].expected);
            failures++;
        }
        rows_free(&out);
    }
    assert_int_equal(failures, 0);
}

static void test_limit_and_invalid_values(void **state)
{
    fixture *fx = *state;
    const key_spec bad_range[] = {DATE("2024-bad")};
    rows out;

    store_archive(fx);
    assert_int_equal(run_query(fx, CAIRN_LEVEL_STUDY, 0, NULL, 0, 3, &out), CAIRN_ERR_LIMIT);
    assert_string_equal(out.keys, "");
    rows_free(&out);
    assert_int_equal(run_query(fx, CAIRN_LEVEL_STUDY, 0, NULL, 0, 4, &out), CAIRN_OK);
    assert_string_equal(out.keys, "1.2.3.1,1.2.3.3,1.2.3.2,1.2.3.4");
    rows_free(&out);
    assert_int_equal(run_query(fx, CAIRN_LEVEL_STUDY, 0, bad_range, 1, 0, &out),
                     CAIRN_ERR_INVALID_ARGUMENT);
    rows_free(&out);
}

static void test_rejections(void **state)
{
    fixture *fx = *state;
    const char *const uids[] = {"1.2.3.1.2.1", "not a uid", "1.2.9.9.9"};
    const instance_spec late = {"Late^Comer", "P9", "1.2.9", "20240101", NULL, NULL, NULL, NULL,
                                "1.2.9.9", "CT", "1", "1.2.9.9.9", CT_IMAGE_STORAGE, "1"};
    cairn_store_outcome outcome;
    size_t marked = 9;
    rows out;

    store_archive(fx);
    assert_int_equal(fx->index->ops.reject_instances(fx->db, uids, 3, "113001", &marked),
                     CAIRN_OK);
    assert_int_equal(marked, 1);

    /* The MR series of study 1.2.3.1 is gone from queries, and so is MR from its modalities. */
    assert_int_equal(run_query(fx, CAIRN_LEVEL_SERIES, 0, (const key_spec[]){STUDY_UID("1.2.3.1")},
                               1, 0, &out),
                     CAIRN_OK);
    assert_string_equal(out.keys, "1.2.3.1.1");
    rows_free(&out);
    assert_int_equal(run_query(fx, CAIRN_LEVEL_STUDY, 0, (const key_spec[]){STUDY_UID("1.2.3.1")},
                               1, 0, &out),
                     CAIRN_OK);
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0008, 0x0061)), "CT");
    assert_string_equal(first_value(&out, CAIRN_TAG(0x0020, 0x1208)), "2");
    rows_free(&out);

    /* An instance that arrives after its rejection note is rejected as it arrives. */
    assert_int_equal(store_with(fx, fx->db, &late, "late", CAIRN_DUPLICATE_REJECT, &outcome,
                                NULL),
                     CAIRN_OK);
    assert_int_equal(run_query(fx, CAIRN_LEVEL_PATIENT, 0, (const key_spec[]){PID("P9")}, 1, 0,
                               &out),
                     CAIRN_OK);
    assert_string_equal(out.keys, "");
    rows_free(&out);
}

static int collect_job(void *arg, const char *job_id, const char *document)
{
    char *out = arg;
    size_t used = strlen(out);

    snprintf(out + used, 256 - used, "%s=%s;", job_id, document);
    return 0;
}

static void test_jobs(void **state)
{
    fixture *fx = *state;
    char listed[256] = "";

    assert_int_equal(fx->index->ops.job_put(fx->db, "b", "{\"n\":1}"), CAIRN_OK);
    assert_int_equal(fx->index->ops.job_put(fx->db, "a", "{\"n\":2}"), CAIRN_OK);
    assert_int_equal(fx->index->ops.job_put(fx->db, "b", "{\"n\":3}"), CAIRN_OK);
    assert_int_equal(fx->index->ops.job_list(fx->db, collect_job, listed), CAIRN_OK);
    assert_string_equal(listed, "b={\"n\":3};a={\"n\":2};");
    assert_int_equal(fx->index->ops.job_delete(fx->db, "b"), CAIRN_OK);
    assert_int_equal(fx->index->ops.job_delete(fx->db, "b"), CAIRN_ERR_NOT_FOUND);
}

static int collect_mpps(void *arg, const cairn_mpps_step *step)
{
    char *out = arg;
    size_t used = strlen(out);

    snprintf(out + used, 256 - used, "%s:%s;", step->sop_instance_uid, step->status);
    return 0;
}

static int collect_outbox(void *arg, const cairn_outbox_message *message)
{
    char *out = arg;
    size_t used = strlen(out);

    snprintf(out + used, 256 - used, "%s:%u:%s;", message->kind, message->attempts,
             message->last_error);
    return 0;
}

static int collect_commitment(void *arg, const cairn_commitment *row)
{
    char *out = arg;
    size_t used = strlen(out);

    snprintf(out + used, 256 - used, "%s:%d:%u;", row->sop_instance_uid, (int)row->state,
             row->failure_reason);
    return 0;
}

static void test_mpps_outbox_commitment(void **state)
{
    fixture *fx = *state;
    cairn_mpps_step step = {
        .struct_size = sizeof(step), .sop_instance_uid = "1.5.1", .status = "IN PROGRESS",
        .study_instance_uid = "1.2.3.1", .modality = "CT", .start_datetime = "20240102101500",
        .calling_ae = "MOD", .created_at_us = 1, .updated_at_us = 1, .document = "{}",
    };
    cairn_mpps_filter filter = {.struct_size = sizeof(filter), .start_to = "20240102"};
    cairn_outbox_message message = {
        .struct_size = sizeof(message), .kind = "mpps-n-create", .destination = "RIS",
        .calling_ae = "CAIRN", .group_key = "1.5.1", .document = "{}", .created_at_us = 1,
    };
    cairn_commitment rows_in[2] = {
        {.struct_size = sizeof(cairn_commitment), .state = CAIRN_COMMITMENT_PENDING,
         .remote_ae = "BACKUP", .sop_instance_uid = "1.2.3.1.1.1", .transaction_uid = "9.1"},
        {.struct_size = sizeof(cairn_commitment), .state = CAIRN_COMMITMENT_PENDING,
         .remote_ae = "BACKUP", .sop_instance_uid = "1.2.3.1.1.2", .transaction_uid = "9.1"},
    };
    cairn_commitment result = {.struct_size = sizeof(result), .state = CAIRN_COMMITMENT_FAILED,
                               .sop_instance_uid = "1.2.3.1.1.2", .failure_reason = 0x0112};
    char listed[256] = "";
    uint64_t first = 0, second = 0;
    size_t updated = 0;

    assert_int_equal(fx->index->ops.mpps_put(fx->db, &step, 1), CAIRN_OK);
    assert_int_equal(fx->index->ops.mpps_put(fx->db, &step, 1), CAIRN_ERR_EXISTS);
    step.status = "COMPLETED";
    assert_int_equal(fx->index->ops.mpps_put(fx->db, &step, 0), CAIRN_OK);
    step.sop_instance_uid = "1.5.2";
    assert_int_equal(fx->index->ops.mpps_put(fx->db, &step, 0), CAIRN_ERR_NOT_FOUND);
    assert_int_equal(fx->index->ops.mpps_get(fx->db, "1.5.1", collect_mpps, listed), CAIRN_OK);
    assert_string_equal(listed, "1.5.1:COMPLETED;");
    listed[0] = '\0';
    assert_int_equal(fx->index->ops.mpps_list(fx->db, &filter, collect_mpps, listed), CAIRN_OK);
    assert_string_equal(listed, "1.5.1:COMPLETED;");
    assert_int_equal(fx->index->ops.mpps_get(fx->db, "1.5.2", collect_mpps, listed),
                     CAIRN_ERR_NOT_FOUND);

    assert_int_equal(fx->index->ops.outbox_add(fx->db, &message, &first), CAIRN_OK);
    message.kind = "notify";
    assert_int_equal(fx->index->ops.outbox_add(fx->db, &message, &second), CAIRN_OK);
    assert_true(second > first);
    assert_int_equal(fx->index->ops.outbox_update(fx->db, first, 2, 5, "refused"), CAIRN_OK);
    listed[0] = '\0';
    assert_int_equal(fx->index->ops.outbox_list(fx->db, "mpps-", collect_outbox, listed),
                     CAIRN_OK);
    assert_string_equal(listed, "mpps-n-create:2:refused;");
    assert_int_equal(fx->index->ops.outbox_delete(fx->db, first), CAIRN_OK);
    assert_int_equal(fx->index->ops.outbox_delete(fx->db, first), CAIRN_ERR_NOT_FOUND);

    assert_int_equal(fx->index->ops.commitment_put(fx->db, rows_in, 2), CAIRN_OK);
    assert_int_equal(fx->index->ops.commitment_report(fx->db, "9.1", &result, 1, &updated),
                     CAIRN_OK);
    assert_int_equal(updated, 1);
    assert_int_equal(fx->index->ops.commitment_report(fx->db, "9.2", &result, 1, &updated),
                     CAIRN_ERR_NOT_FOUND);
    listed[0] = '\0';
    assert_int_equal(fx->index->ops.commitment_list(fx->db, NULL, collect_commitment, listed),
                     CAIRN_OK);
    assert_string_equal(listed, "1.2.3.1.1.1:0:0;1.2.3.1.1.2:2:274;");
}

/* One side of the race: stores the round's instances through its own index handle. */
typedef struct racer {
    const fixture *fx;
    void *db;
    int stored, rejected, failed;
    pthread_barrier_t *start;
} racer;

static void *race(void *arg)
{
    racer *r = arg;

    for (int round = 0; round < RACE_ROUNDS; round++) {
        char uid[64], path[64];
        instance_spec spec = archive[0];
        cairn_store_outcome outcome = CAIRN_STORE_STORED;

        snprintf(uid, sizeof(uid), "1.2.3.7.%d", round);
        snprintf(path, sizeof(path), "race/%p/%d", (void *)r, round);
        spec.sop_uid = uid;
        pthread_barrier_wait(r->start);
        if (store_with(r->fx, r->db, &spec, path, CAIRN_DUPLICATE_REJECT, &outcome, NULL) !=
            CAIRN_OK)
            r->failed++;
        else if (outcome == CAIRN_STORE_STORED)
            r->stored++;
        else if (outcome == CAIRN_STORE_REJECTED)
            r->rejected++;
    }
    return NULL;
}

static void test_concurrent_duplicate(void **state)
{
    fixture *fx = *state;
    pthread_barrier_t start;
    racer racers[2];
    pthread_t threads[2];
    char *rows_left;

    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        racers[i] = (racer){.fx = fx, .start = &start};
        assert_int_equal(fx->index->ops.open(fx->index->backend_state, fx->dir, &racers[i].db),
                         CAIRN_OK);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++)
        fx->index->ops.close(racers[i].db);
    pthread_barrier_destroy(&start);

    assert_int_equal(racers[0].failed + racers[1].failed, 0);
    assert_int_equal(racers[0].stored + racers[1].stored, RACE_ROUNDS);
    assert_int_equal(racers[0].rejected + racers[1].rejected, RACE_ROUNDS);
    rows_left = db_value(fx, "SELECT count(*) FROM instance WHERE sop_uid LIKE '1.2.3.7.%'");
    assert_non_null(rows_left);
    assert_int_equal(atoi(rows_left), RACE_ROUNDS);
    free(rows_left);
}

/* ---- group commit: stores waiting at the same time share one transaction ---- */

/* Stores in the batch test that wait while the slow ones hold both runners. */
#define BATCH_WAITERS 6

/* One caller of the batch test: stores one instance and keeps its own result. */
typedef struct batch_caller {
    const fixture *fx;
    const char *sop_uid;
    cairn_status status;
    cairn_store_outcome outcome;
    pthread_barrier_t *start; /* NULL: start at once */
} batch_caller;

static void *store_one(void *arg)
{
    batch_caller *caller = arg;
    instance_spec spec = archive[0];
    char path[80];

    snprintf(path, sizeof(path), "batch/%s", caller->sop_uid);
    spec.sop_uid = caller->sop_uid;
    if (caller->start != NULL)
        pthread_barrier_wait(caller->start);
    caller->status = store_with(caller->fx, caller->fx->db, &spec, path, CAIRN_DUPLICATE_REJECT,
                                &caller->outcome, NULL);
    return NULL;
}

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/*
 * A trigger on instance acts on the last UID component: 9001 sleeps one
 * second, 9002 fails, and 9003 fails its first two tries with a
 * serialization failure (40001). A batch runs once without savepoints
 * and, after a failure, again with them, so at least one of the two
 * failures happens in a run with savepoints, which queues 9003 again for
 * a later transaction. Two slow stores keep both batch runners of the
 * handle busy while six more stores queue up. The six then run as one
 * batch, and two of them carry the same SOP Instance UID. The trigger also
 * logs the top-level transaction id of every row it lets through.
 */
static void test_batch_outcomes(void **state)
{
    fixture *fx = *state;
    static const char *const waiting_uids[BATCH_WAITERS] = {
        "1.2.3.8.1", "1.2.3.8.9002", "1.2.3.8.2", "1.2.3.8.9003", "1.2.3.8.5", "1.2.3.8.5",
    };
    batch_caller slow[2];
    batch_caller waiting[BATCH_WAITERS];
    pthread_t slow_threads[2];
    pthread_t threads[BATCH_WAITERS];
    pthread_barrier_t start;
    int stored = 0, rejected = 0;
    char *value;

    free(db_value(fx, "CREATE TABLE batch_log (sop_uid text, txid bigint)"));
    free(db_value(fx, "CREATE SEQUENCE batch_retry"));
    free(db_value(fx,
                  "CREATE FUNCTION batch_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
                  " BEGIN"
                  " IF NEW.sop_uid LIKE '%.9001' THEN PERFORM pg_sleep(1); END IF;"
                  " IF NEW.sop_uid LIKE '%.9002' THEN RAISE EXCEPTION 'refused by the test'; END IF;"
                  " IF NEW.sop_uid LIKE '%.9003' AND nextval('batch_retry') <= 2 THEN"
                  " RAISE EXCEPTION 'first try fails' USING ERRCODE = '40001'; END IF;"
                  " INSERT INTO batch_log VALUES (NEW.sop_uid, txid_current());"
                  " RETURN NEW; END $$"));
    free(db_value(fx, "CREATE TRIGGER batch_trigger BEFORE INSERT ON instance"
                      " FOR EACH ROW EXECUTE FUNCTION batch_trigger()"));

    slow[0] = (batch_caller){.fx = fx, .sop_uid = "1.2.3.8.0.9001"};
    slow[1] = (batch_caller){.fx = fx, .sop_uid = "1.2.3.8.1.9001"};
    assert_int_equal(pthread_create(&slow_threads[0], NULL, store_one, &slow[0]), 0);
    pause_ms(200);
    assert_int_equal(pthread_create(&slow_threads[1], NULL, store_one, &slow[1]), 0);
    pause_ms(200);

    pthread_barrier_init(&start, NULL, BATCH_WAITERS);
    for (int i = 0; i < BATCH_WAITERS; i++) {
        waiting[i] = (batch_caller){.fx = fx, .sop_uid = waiting_uids[i], .start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, store_one, &waiting[i]), 0);
    }
    for (int i = 0; i < BATCH_WAITERS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(slow_threads[i], NULL);
    pthread_barrier_destroy(&start);

    for (int i = 0; i < 2; i++) {
        assert_int_equal(slow[i].status, CAIRN_OK);
        assert_int_equal(slow[i].outcome, CAIRN_STORE_STORED);
    }
    assert_int_equal(waiting[0].status, CAIRN_OK);
    assert_int_equal(waiting[0].outcome, CAIRN_STORE_STORED);
    assert_int_equal(waiting[1].status, CAIRN_ERR_DATABASE);
    assert_int_equal(waiting[2].status, CAIRN_OK);
    assert_int_equal(waiting[2].outcome, CAIRN_STORE_STORED);
    assert_int_equal(waiting[3].status, CAIRN_OK);
    assert_int_equal(waiting[3].outcome, CAIRN_STORE_STORED);
    for (int i = 4; i < 6; i++) {
        assert_int_equal(waiting[i].status, CAIRN_OK);
        stored += waiting[i].outcome == CAIRN_STORE_STORED;
        rejected += waiting[i].outcome == CAIRN_STORE_REJECTED;
    }
    assert_int_equal(stored, 1);
    assert_int_equal(rejected, 1);

    /* Every store is in the index once, the failed one not at all. */
    value = db_value(fx, "SELECT count(*) FROM instance WHERE sop_uid LIKE '1.2.3.8.%'");
    assert_string_equal(value, "6");
    free(value);
    value = db_value(fx, "SELECT count(*) FROM instance WHERE sop_uid = '1.2.3.8.9002'");
    assert_string_equal(value, "0");
    free(value);

    /* The waiting stores that succeeded at the first try committed together. */
    value = db_value(fx, "SELECT count(DISTINCT txid) FROM batch_log WHERE sop_uid IN"
                         " ('1.2.3.8.1', '1.2.3.8.2', '1.2.3.8.5')");
    assert_string_equal(value, "1");
    free(value);

    /* The store that lost its race ran again in a later transaction. */
    value = db_value(fx, "SELECT count(*) FROM batch_log r, batch_log f"
                         " WHERE r.sop_uid = '1.2.3.8.9003' AND f.sop_uid = '1.2.3.8.1'"
                         " AND r.txid <> f.txid");
    assert_string_equal(value, "1");
    free(value);
}

/* Stores spec under policy and checks the outcome. */
static void store_expect(fixture *fx, const instance_spec *spec, cairn_duplicate_policy policy,
                         cairn_store_outcome expected)
{
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

    assert_int_equal(store_with(fx, fx->db, spec, spec->sop_uid, policy, &outcome, NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, expected);
}

/* Checks that the first value of sql is expected. */
static void check_value(const fixture *fx, const char *sql, const char *expected)
{
    char *value = db_value(fx, sql);

    assert_non_null(value);
    assert_string_equal(value, expected);
    free(value);
}

/* ---- a lookup and the insert of one store read different snapshots ---- */

/* The store of the snapshot test, run in a thread while the test renames a study. */
typedef struct held_store {
    const fixture *fx;
    instance_spec spec;
    cairn_status status;
    cairn_store_outcome outcome;
} held_store;

static void *store_held(void *arg)
{
    held_store *held = arg;

    held->status = store_with(held->fx, held->fx->db, &held->spec, held->spec.sop_uid,
                              CAIRN_DUPLICATE_KEEP, &held->outcome, NULL);
    return NULL;
}

/*
 * Each statement of a store reads the rows committed when it starts, so
 * a lookup can miss a study that the insert after it reads. Here the
 * series lookup of the second store is held for a second by a trigger
 * while another connection gives the series' study the UID that the
 * instance names, as a store of another node that commits in between
 * would. The instance must be stored, not taken for a duplicate of
 * itself (the host would remove the file that its row names), and the
 * study that the lookup missed must still get its empty values filled.
 */
static void test_lookup_misses_filing(void **state)
{
    fixture *fx = *state;
    const instance_spec first = {NULL, "P20", "9.20.9", NULL, NULL, NULL, NULL, NULL, "9.20.1",
                                 NULL, NULL, "9.20.1.1", CT_IMAGE_STORAGE, "1"};
    held_store second = {
        .fx = fx,
        .spec = {NULL, "P20", "9.20", "20240401", NULL, NULL, NULL, NULL, "9.20.1", "CT", NULL,
                 "9.20.1.2", CT_IMAGE_STORAGE, "2"},
        .outcome = CAIRN_STORE_REJECTED,
    };
    pthread_t thread;

    store_expect(fx, &first, CAIRN_DUPLICATE_KEEP, CAIRN_STORE_STORED);
    free(db_value(fx, "CREATE FUNCTION hold_series() RETURNS trigger LANGUAGE plpgsql AS $$"
                      " BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$"));
    free(db_value(fx, "CREATE TRIGGER hold_series BEFORE UPDATE ON series FOR EACH ROW"
                      " WHEN (NEW.series_uid = '9.20.1') EXECUTE FUNCTION hold_series()"));

    assert_int_equal(pthread_create(&thread, NULL, store_held, &second), 0);
    pause_ms(300);
    free(db_value(fx, "UPDATE study SET study_uid = '9.20' WHERE study_uid = '9.20.9'"));
    pthread_join(thread, NULL);

    assert_int_equal(second.status, CAIRN_OK);
    assert_int_equal(second.outcome, CAIRN_STORE_STORED);
    check_value(fx, "SELECT count(*) FROM instance WHERE path = sop_uid AND sop_uid LIKE '9.20.%'",
                 "2");
    check_value(fx, "SELECT study_date FROM study WHERE study_uid = '9.20'", "20240401");
    check_value(fx, "SELECT modality FROM series WHERE series_uid = '9.20.1'", "CT");
}

/* ---- stores that open a series together ---- */

/* Rounds of the new-series test, and stores that open each round's series at once. */
#define NEW_SERIES_ROUNDS 100
#define NEW_SERIES_STORES 4

/* One store of the new-series test. */
typedef struct opener {
    const fixture *fx;
    int index;
    int stored, failed, other;
    pthread_barrier_t *start;
} opener;

static void *open_series(void *arg)
{
    opener *self = arg;

    for (int round = 0; round < NEW_SERIES_ROUNDS; round++) {
        char patient[32], study[32], series[32], uid[48], path[64];
        instance_spec spec = archive[0];
        cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

        snprintf(patient, sizeof(patient), "PN%d", round);
        snprintf(study, sizeof(study), "1.2.3.9.%d", round);
        snprintf(series, sizeof(series), "1.2.3.9.%d.1", round);
        snprintf(uid, sizeof(uid), "1.2.3.9.%d.1.%d", round, self->index);
        snprintf(path, sizeof(path), "open/%d/%d", round, self->index);
        spec.patient_id = patient;
        spec.study_uid = study;
        spec.series_uid = series;
        spec.sop_uid = uid;
        pthread_barrier_wait(self->start);
        if (store_with(self->fx, self->fx->db, &spec, path, CAIRN_DUPLICATE_KEEP, &outcome, NULL) !=
            CAIRN_OK)
            self->failed++;
        else if (outcome == CAIRN_STORE_STORED)
            self->stored++;
        else
            self->other++;
    }
    return NULL;
}

/*
 * Several stores open one new patient, study and series at the same
 * moment, round after round. Each is a new instance, so each must be
 * stored, never taken for a duplicate of itself: a kept duplicate makes
 * the host remove the file that the index row points to.
 */
static void test_new_series_together(void **state)
{
    fixture *fx = *state;
    opener openers[NEW_SERIES_STORES];
    pthread_t threads[NEW_SERIES_STORES];
    pthread_barrier_t start;
    int stored = 0, failed = 0, other = 0;
    char expected[16];

    pthread_barrier_init(&start, NULL, NEW_SERIES_STORES);
    for (int i = 0; i < NEW_SERIES_STORES; i++) {
        openers[i] = (opener){.fx = fx, .index = i, .start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, open_series, &openers[i]), 0);
    }
    for (int i = 0; i < NEW_SERIES_STORES; i++) {
        pthread_join(threads[i], NULL);
        stored += openers[i].stored;
        failed += openers[i].failed;
        other += openers[i].other;
    }
    pthread_barrier_destroy(&start);

    assert_int_equal(failed, 0);
    assert_int_equal(other, 0);
    assert_int_equal(stored, NEW_SERIES_ROUNDS * NEW_SERIES_STORES);
    snprintf(expected, sizeof(expected), "%d", NEW_SERIES_ROUNDS * NEW_SERIES_STORES);
    check_value(fx, "SELECT count(*) FROM instance WHERE sop_uid LIKE '1.2.3.9.%'"
                     " AND path = 'open/' || split_part(sop_uid, '.', 5) || '/'"
                     " || split_part(sop_uid, '.', 7)",
                 expected);
    snprintf(expected, sizeof(expected), "%d", NEW_SERIES_ROUNDS);
    check_value(fx, "SELECT count(*) FROM series WHERE series_uid LIKE '1.2.3.9.%'", expected);
}

/*
 * A store into a series already filed under its study and patient takes
 * one round trip. Every other store must still end as the full way files
 * it, and each store below starts on the short way and must leave it.
 */
static void test_filing_rules(void **state)
{
    fixture *fx = *state;
    const instance_spec first = {NULL, "P9", "9.1", NULL, NULL, NULL, NULL, NULL, "9.1.1",
                                 NULL, NULL, "9.1.1.1", CT_IMAGE_STORAGE, "1"};
    const instance_spec fills = {"Late^Name", "P9", "9.1", "20240301", NULL, NULL, NULL, NULL,
                                 "9.1.1", "CT", "4", "9.1.1.2", CT_IMAGE_STORAGE, "2"};
    const instance_spec other_study = {"Late^Name", "P9", "9.2", NULL, NULL, NULL, NULL, NULL,
                                       "9.1.1", "CT", NULL, "9.1.1.3", CT_IMAGE_STORAGE, "3"};
    const instance_spec other_patient = {"Else^Body", "P10", "9.1", NULL, NULL, NULL, NULL,
                                         NULL, "9.1.1", "CT", NULL, "9.1.1.4", CT_IMAGE_STORAGE,
                                         "4"};
    const instance_spec bare = {NULL, "P11", "9.3", NULL, NULL, NULL, NULL, NULL, "9.3.1", NULL,
                                NULL, "9.3.1.1", CT_IMAGE_STORAGE, "1"};
    const instance_spec bare_again = {"Named^Late", "P11", "9.3", "20240302", NULL, NULL, NULL,
                                      NULL, "9.3.1", "MR", NULL, "9.3.1.1", CT_IMAGE_STORAGE,
                                      "1"};

    /* The second instance of a series fills what the first left empty. */
    store_expect(fx, &first, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_STORED);
    store_expect(fx, &fills, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_STORED);
    check_value(fx, "SELECT name FROM patient WHERE patient_id = 'P9'", "Late^Name");
    check_value(fx, "SELECT study_date FROM study WHERE study_uid = '9.1'", "20240301");
    check_value(fx, "SELECT modality || series_number FROM series WHERE series_uid = '9.1.1'",
                 "CT4");

    /* A series keeps its study and a study its patient. Unused new rows are deleted. */
    store_expect(fx, &other_study, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_STORED);
    store_expect(fx, &other_patient, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_STORED);
    check_value(fx, "SELECT count(*) FROM study", "1");
    check_value(fx, "SELECT count(*) FROM patient", "1");
    check_value(fx, "SELECT count(*) FROM instance i JOIN series se ON se.id = i.series"
                     " WHERE se.series_uid = '9.1.1'",
                 "4");

    /* A kept or rejected duplicate changes nothing, not even empty values. */
    store_expect(fx, &bare, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_STORED);
    store_expect(fx, &bare_again, CAIRN_DUPLICATE_KEEP, CAIRN_STORE_KEPT);
    store_expect(fx, &bare_again, CAIRN_DUPLICATE_REJECT, CAIRN_STORE_REJECTED);
    check_value(fx, "SELECT '[' || name || ']' FROM patient WHERE patient_id = 'P11'", "[]");
    check_value(fx, "SELECT '[' || study_date || ']' FROM study WHERE study_uid = '9.3'",
                 "[]");
    check_value(fx, "SELECT '[' || modality || ']' FROM series WHERE series_uid = '9.3.1'",
                 "[]");
    check_value(fx, "SELECT count(*) FROM instance", "5");
}

/* Opens the index again with settings, then stores warm_uid to leave one connection open. */
static void reopen_with(fixture *fx, const char *settings, const char *warm_uid)
{
    instance_spec warm = archive[1];

    fx->index->ops.close(fx->db);
    fx->db = NULL;
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    load_plugin(fx, settings);
    assert_int_equal(fx->index->ops.open(fx->index->backend_state, fx->dir, &fx->db), CAIRN_OK);
    warm.sop_uid = warm_uid;
    store_expect(fx, &warm, CAIRN_DUPLICATE_KEEP, CAIRN_STORE_STORED);
}

/* Has the next transaction that inserts an instance end its own session during its COMMIT. */
static void lose_next_commit(fixture *fx)
{
    free(db_value(fx, "CREATE SEQUENCE lose_once"));
    free(db_value(fx, "CREATE FUNCTION lose_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
                      " BEGIN IF nextval('lose_once') = 1 THEN"
                      " PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);"
                      " END IF; RETURN NULL; END $$"));
    free(db_value(fx, "CREATE CONSTRAINT TRIGGER lose_commit AFTER INSERT ON instance"
                      " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lose_commit()"));
}

/*
 * A COMMIT whose connection is lost before its reply, while the server
 * takes no new connection for longer than commit_check_window: the store
 * must fail with CAIRN_ERR_OUTCOME_UNKNOWN, on which the host keeps the
 * file. The handle has a pool of one connection, so the check has to
 * connect anew.
 */
static void test_commit_outcome_unknown(void **state)
{
    fixture *fx = *state;
    instance_spec spec = archive[0];
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;
    char sql[256];

    reopen_with(fx, "pool_size = 1; reconnect_window = 1; commit_check_window = 1;"
                    " connect_timeout = 1;", "1.2.3.10.0");
    lose_next_commit(fx);

    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false", fx->dbname);
    server_sql(fx->socket, sql);
    spec.sop_uid = "1.2.3.10.1";
    assert_int_equal(store_with(fx, fx->db, &spec, spec.sop_uid, CAIRN_DUPLICATE_KEEP, &outcome,
                                NULL),
                     CAIRN_ERR_OUTCOME_UNKNOWN);
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", fx->dbname);
    server_sql(fx->socket, sql);

    /* The session ended before its commit, and the next store of the UID reconnects. */
    check_value(fx, "SELECT count(*) FROM instance WHERE sop_uid = '1.2.3.10.1'", "0");
    assert_int_equal(store_with(fx, fx->db, &spec, spec.sop_uid, CAIRN_DUPLICATE_KEEP, &outcome,
                                NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
    check_value(fx, "SELECT count(*) FROM instance WHERE sop_uid = '1.2.3.10.1'", "1");
}

/*
 * A COMMIT whose connection is lost, and the check on a new connection
 * finds that it did not take effect. With reconnect_window = 0 the store
 * must fail, never report a row that is not there. With a window it runs
 * again and is stored.
 */
static void test_commit_lost_not_taken(void **state)
{
    fixture *fx = *state;
    instance_spec spec = archive[0];
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

    reopen_with(fx, "pool_size = 1; reconnect_window = 0; commit_check_window = 5;", "1.2.3.11.0");
    lose_next_commit(fx);
    spec.sop_uid = "1.2.3.11.1";
    assert_int_equal(store_with(fx, fx->db, &spec, spec.sop_uid, CAIRN_DUPLICATE_KEEP, &outcome,
                                NULL),
                     CAIRN_ERR_DATABASE);
    check_value(fx, "SELECT count(*) FROM instance WHERE sop_uid = '1.2.3.11.1'", "0");

    reopen_with(fx, "pool_size = 1; reconnect_window = 5; commit_check_window = 5;", "1.2.3.11.3");
    free(db_value(fx, "SELECT setval('lose_once', 1, false)"));
    spec.sop_uid = "1.2.3.11.2";
    assert_int_equal(store_with(fx, fx->db, &spec, spec.sop_uid, CAIRN_DUPLICATE_KEEP, &outcome,
                                NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
    check_value(fx, "SELECT count(*) FROM instance WHERE sop_uid = '1.2.3.11.2'", "1");
}

static void test_schema_versions(void **state)
{
    fixture *fx = *state;
    void *db = NULL;
    char *version;

    assert_non_null(fx->index->ops.migrate);
    assert_int_equal(fx->index->ops.migrate(fx->index->backend_state, fx->dir), CAIRN_OK);
    version = db_value(fx, "SELECT version FROM cairn_schema");
    assert_non_null(version);
    free(db_value(fx, "UPDATE cairn_schema SET version = version + 1"));
    assert_int_equal(fx->index->ops.open(fx->index->backend_state, fx->dir, &db),
                     CAIRN_ERR_UNSUPPORTED);
    assert_int_equal(fx->index->ops.migrate(fx->index->backend_state, fx->dir),
                     CAIRN_ERR_UNSUPPORTED);
    free(db_value(fx, "UPDATE cairn_schema SET version = version - 1"));
    free(version);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matching_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_invalid_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mpps_outbox_commitment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filing_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_series_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_misses_filing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_outcome_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_lost_not_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_versions, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
