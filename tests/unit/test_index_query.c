/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the query entry of the index-sqlite plugin, loaded for real
 * through the core's plugin registry. A table of C-FIND identifiers runs
 * against a small archive and checks which rows come back, in order: each
 * matching type of PS3.4 C.2.2.2 at each level, relational keys, literal
 * special characters. Other tests cover the row contents and counts,
 * Japanese names in ISO 2022 IR 87 and UTF-8, rejected instances, the
 * max_matches limit and invalid range values.
 *
 * Instances are marked rejected directly in the database, through the
 * system's libsqlite3 opened with dlopen, because no index entry sets the
 * mark yet. The same connection fills a large synthetic archive for the
 * timing test, which runs only when CAIRN_QUERY_BENCH_STUDIES is set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/conf.h"
#include "dcm/dcm.h"
#include "plugin/plugin.h"
#include "util/log.h"

#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define MR_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.4"
#define US_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.6.1"
#define EXPLICIT_VR_LE "1.2.840.10008.1.2.1"

#define TAG_MODALITIES_IN_STUDY CAIRN_TAG(0x0008, 0x0061)
#define TAG_SOP_CLASSES_IN_STUDY CAIRN_TAG(0x0008, 0x0062)

/* Character set test files shipped by Debian's python3-pydicom. */
#define PYDICOM_CHARSET_DIR "/usr/lib/python3/dist-packages/pydicom/data/charset_files"

/* A loaded plugin and an opened index in a temporary folder. */
typedef struct fixture {
    char dir[64];
    char db_path[96];
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
    const char *birth_date;
    const char *sex;
    const char *study_uid;
    const char *study_date;
    const char *study_time;
    const char *accession;
    const char *referring;
    const char *study_description;
    const char *series_uid;
    const char *modality;
    const char *series_number;
    const char *sop_uid;
    const char *sop_class;
    const char *instance_number;
} instance_spec;

/*
 * The archive of the table's queries, with Patient IDs sorting as
 * P1 < P2 < P_3:
 *   P1 Doe^Jane: study 1.2.3.1 (CT series of 2, MR series of 1), study 1.2.3.3 (US)
 *   P2 DOE^JOHN: study 1.2.3.2 (MR), with an ACR-NEMA birth date
 *   P_3 Roe^Rick: study 1.2.3.4 (CT) without date, time, sex or series number
 */
static const instance_spec archive[] = {
    {"Doe^Jane", "P1", "19700101", "F", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam",
     "Chest CT", "1.2.3.1.1", "CT", "2", "1.2.3.1.1.1", CT_IMAGE_STORAGE, "1"},
    {"Doe^Jane", "P1", "19700101", "F", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam",
     "Chest CT", "1.2.3.1.1", "CT", "2", "1.2.3.1.1.2", CT_IMAGE_STORAGE, "2"},
    {"Doe^Jane", "P1", "19700101", "F", "1.2.3.1", "20240102", "101500", "ACC1", "Smith^Adam",
     "Chest CT", "1.2.3.1.2", "MR", "1", "1.2.3.1.2.1", MR_IMAGE_STORAGE, "1"},
    {"Doe^Jane", "P1", "19700101", "F", "1.2.3.3", "20240105", "0830", NULL, NULL,
     "100% done_x", "1.2.3.3.1", "US", "1", "1.2.3.3.1.1", US_IMAGE_STORAGE, "1"},
    {"DOE^JOHN", "P2", "1980.05.05", "M", "1.2.3.2", "20230505", "235959.5", "ACC2", NULL,
     "O'Brien [x]", "1.2.3.2.1", "MR", "1", "1.2.3.2.1.1", MR_IMAGE_STORAGE, "1"},
    {"Roe^Rick", "P_3", NULL, NULL, "1.2.3.4", NULL, NULL, "A%1", NULL, NULL, "1.2.3.4.1", "CT",
     NULL, "1.2.3.4.1.1", CT_IMAGE_STORAGE, "1"},
};

/* One key of a query identifier. */
typedef struct key_spec {
    cairn_tag tag;
    cairn_vr vr;
    const char *value;
} key_spec;

#define MAX_CASE_KEYS 4

/* One query and the unique keys of the rows it must return, in order, comma-separated. */
typedef struct query_case {
    const char *name;
    cairn_index_level level;
    uint32_t flags;
    key_spec keys[MAX_CASE_KEYS];
    const char *expected;
} query_case;

#define PN(value) {CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, value}
#define PID(value) {CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, value}
#define BIRTH(value) {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_VR_DA, value}
#define SEX(value) {CAIRN_TAG_PATIENT_SEX, CAIRN_VR_CS, value}
#define STUDY_UID(value) {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, value}
#define DATE(value) {CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, value}
#define TIME(value) {CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, value}
#define ACCESSION(value) {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, value}
#define REFERRING(value) {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, value}
#define DESCRIPTION(value) {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, value}
#define MODALITIES(value) {TAG_MODALITIES_IN_STUDY, CAIRN_VR_CS, value}
#define SOP_CLASSES(value) {TAG_SOP_CLASSES_IN_STUDY, CAIRN_VR_UI, value}
#define SERIES_UID(value) {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, value}
#define MODALITY(value) {CAIRN_TAG_MODALITY, CAIRN_VR_CS, value}
#define SERIES_NUMBER(value) {CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, value}
#define SOP_UID(value) {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, value}
#define SOP_CLASS(value) {CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, value}
#define INSTANCE_NUMBER(value) {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, value}

#define PATIENT CAIRN_LEVEL_PATIENT
#define STUDY CAIRN_LEVEL_STUDY
#define SERIES CAIRN_LEVEL_SERIES
#define INSTANCE CAIRN_LEVEL_INSTANCE
#define COMBINED CAIRN_QUERY_COMBINED_DATETIME
#define CASE_SENSITIVE CAIRN_QUERY_PN_CASE_SENSITIVE

static const query_case cases[] = {
    /* Patient level. */
    {"universal, no keys", PATIENT, 0, {{0}}, "P1,P2,P_3"},
    {"universal, empty name", PATIENT, 0, {PN("")}, "P1,P2,P_3"},
    {"universal, lone star", PATIENT, 0, {PN("*")}, "P1,P2,P_3"},
    {"PN single value", PATIENT, 0, {PN("Doe^Jane")}, "P1"},
    {"PN single value, other case", PATIENT, 0, {PN("dOE^jANE")}, "P1"},
    {"PN single value, case-sensitive", PATIENT, CASE_SENSITIVE, {PN("doe^jane")}, ""},
    {"PN wildcard star", PATIENT, 0, {PN("doe*")}, "P1,P2"},
    {"PN wildcard question mark", PATIENT, 0, {PN("?oe^J*")}, "P1,P2"},
    {"PN wildcard, case-sensitive", PATIENT, CASE_SENSITIVE, {PN("Doe*")}, "P1"},
    {"PN wildcard in the middle", PATIENT, 0, {PN("*^RI?K")}, "P_3"},
    {"LO single value with underscore", PATIENT, 0, {PID("P_3")}, "P_3"},
    {"LO underscore is literal", PATIENT, 0, {PID("P_*")}, "P_3"},
    {"LO percent is literal", PATIENT, 0, {PID("P%")}, ""},
    {"LO is case-sensitive", PATIENT, 0, {PID("p1")}, ""},
    {"CS single value", PATIENT, 0, {SEX("M")}, "P2"},
    {"CS empty value", PATIENT, 0, {SEX("\"\"")}, "P_3"},
    {"DA single value", PATIENT, 0, {BIRTH("19700101")}, "P1"},
    {"DA ACR-NEMA single value", PATIENT, 0, {BIRTH("1980.05.05")}, "P2"},
    {"DA range open above", PATIENT, 0, {BIRTH("19750101-")}, "P2"},
    {"DA range open below", PATIENT, 0, {BIRTH("-19750101")}, "P1"},
    {"DA range closed", PATIENT, 0, {BIRTH("19600101-19991231")}, "P1,P2"},
    {"study key below patient", PATIENT, 0, {DATE("20230505")}, "P2"},
    {"series key below patient", PATIENT, 0, {MODALITY("US")}, "P1"},

    /* Study level. */
    {"UID single value", STUDY, 0, {STUDY_UID("1.2.3.3")}, "1.2.3.3"},
    {"UID list", STUDY, 0, {STUDY_UID("1.2.3.4\\1.2.3.1\\9.9")}, "1.2.3.1,1.2.3.4"},
    {"UID list of one unknown", STUDY, 0, {STUDY_UID("9.9")}, ""},
    {"DA closed range", STUDY, 0, {DATE("20240101-20240103")}, "1.2.3.1"},
    {"DA range bounds included", STUDY, 0, {DATE("20240102-20240105")}, "1.2.3.1,1.2.3.3"},
    {"DA open above", STUDY, 0, {DATE("20240103-")}, "1.2.3.3"},
    {"DA open below", STUDY, 0, {DATE("-20231231")}, "1.2.3.2"},
    {"DA empty value", STUDY, 0, {DATE("\"\"")}, "1.2.3.4"},
    {"TM closed range", STUDY, 0, {TIME("1000-1100")}, "1.2.3.1"},
    {"TM open below", STUDY, 0, {TIME("-0900")}, "1.2.3.3"},
    {"TM open above with fraction", STUDY, 0, {TIME("235959.1-")}, "1.2.3.2"},
    {"TM upper bound takes its minute", STUDY, 0, {TIME("-1015")}, "1.2.3.1,1.2.3.3"},
    {"TM single value by meaning", STUDY, 0, {TIME("083000")}, "1.2.3.3"},
    {"TM ACR-NEMA range", STUDY, 0, {TIME("10:00-10:30")}, "1.2.3.1"},
    {"DA and TM apart", STUDY, 0, {DATE("20240102-20240105"), TIME("1000-1100")}, "1.2.3.1"},
    {"DA and TM combined", STUDY, COMBINED, {DATE("20240102-20240105"), TIME("1000-1100")},
     "1.2.3.1,1.2.3.3"},
    {"DA and TM combined, narrow", STUDY, COMBINED,
     {DATE("20240102-20240105"), TIME("1200-0900")}, "1.2.3.3"},
    {"DA and TM crossing midnight apart", STUDY, 0,
     {DATE("20240102-20240105"), TIME("1200-0900")}, ""},
    {"DA and TM combined, open above", STUDY, COMBINED, {DATE("20240102-"), TIME("1100-")},
     "1.2.3.3"},
    {"DA and TM of other forms", STUDY, COMBINED, {DATE("20240102-"), TIME("-0900")},
     "1.2.3.3"},
    {"SH wildcard", STUDY, 0, {ACCESSION("ACC*")}, "1.2.3.1,1.2.3.2"},
    {"SH percent literal", STUDY, 0, {ACCESSION("A%1")}, "1.2.3.4"},
    {"SH empty value", STUDY, 0, {ACCESSION("\"\"")}, "1.2.3.3"},
    {"LO with percent and underscore", STUDY, 0, {DESCRIPTION("100% done_x")}, "1.2.3.3"},
    {"LO wildcard around percent", STUDY, 0, {DESCRIPTION("*% done?x")}, "1.2.3.3"},
    {"LO with quote and bracket", STUDY, 0, {DESCRIPTION("O'Brien [x]")}, "1.2.3.2"},
    {"LO wildcard after bracket", STUDY, 0, {DESCRIPTION("O'Brien [*")}, "1.2.3.2"},
    {"LO wildcard is case-sensitive", STUDY, 0, {DESCRIPTION("chest*")}, ""},
    {"patient name at study level", STUDY, 0, {PN("roe*")}, "1.2.3.4"},
    {"name prefix, wide date range", STUDY, 0, {PN("DOE*"), DATE("20200101-20241231")},
     "1.2.3.1,1.2.3.3,1.2.3.2"},
    {"name prefix, open date range", STUDY, 0, {PN("doe^j*"), DATE("20240103-")}, "1.2.3.3"},
    {"name prefix, narrow date range", STUDY, 0, {PN("do?^*"), DATE("20240101-20240103")},
     "1.2.3.1"},
    {"name prefix, wide combined range", STUDY, COMBINED,
     {PN("doe*"), DATE("20230101-20240105"), TIME("0900-1200")}, "1.2.3.1,1.2.3.3,1.2.3.2"},
    {"exact name, wide date range", STUDY, 0, {PN("DOE^JOHN"), DATE("19000101-20991231")},
     "1.2.3.2"},
    {"name prefix ends at ASCII max", PATIENT, 0, {PN("doe~*")}, ""},
    {"referring physician wildcard", STUDY, 0, {REFERRING("smith^*")}, "1.2.3.1"},
    {"referring physician empty", STUDY, 0, {REFERRING("\"\"")}, "1.2.3.3,1.2.3.2,1.2.3.4"},
    {"modalities in study, one", STUDY, 0, {MODALITIES("MR")}, "1.2.3.1,1.2.3.2"},
    {"modalities in study, list", STUDY, 0, {MODALITIES("US\\CT")}, "1.2.3.1,1.2.3.3,1.2.3.4"},
    {"modalities in study, wildcard", STUDY, 0, {MODALITIES("C?")}, "1.2.3.1,1.2.3.4"},
    {"SOP classes in study", STUDY, 0, {SOP_CLASSES(US_IMAGE_STORAGE "\\" MR_IMAGE_STORAGE)},
     "1.2.3.1,1.2.3.3,1.2.3.2"},
    {"series key below study", STUDY, 0, {MODALITY("CT"), SERIES_NUMBER("2")}, "1.2.3.1"},
    {"instance key below study", STUDY, 0, {SOP_UID("1.2.3.2.1.1")}, "1.2.3.2"},

    /* Series level. */
    {"series without study UID", SERIES, 0, {MODALITY("CT")}, "1.2.3.1.1,1.2.3.4.1"},
    {"series with study UID", SERIES, 0, {STUDY_UID("1.2.3.1")}, "1.2.3.1.2,1.2.3.1.1"},
    {"series UID list", SERIES, 0, {SERIES_UID("1.2.3.2.1\\1.2.3.3.1")}, "1.2.3.3.1,1.2.3.2.1"},
    {"IS single value", SERIES, 0, {SERIES_NUMBER("2")}, "1.2.3.1.1"},
    {"IS not a number", SERIES, 0, {SERIES_NUMBER("two")}, ""},
    {"IS empty value", SERIES, 0, {SERIES_NUMBER("\"\"")}, "1.2.3.4.1"},
    {"patient and study keys above series", SERIES, 0,
     {PN("doe^jane"), DATE("20240102"), MODALITY("MR")}, "1.2.3.1.2"},
    {"instance key below series", SERIES, 0, {INSTANCE_NUMBER("2")}, "1.2.3.1.1"},

    /* Instance level. */
    {"SOP UID single value", INSTANCE, 0, {SOP_UID("1.2.3.1.1.2")}, "1.2.3.1.1.2"},
    {"SOP UID list", INSTANCE, 0, {SOP_UID("1.2.3.1.1.2\\1.2.3.1.1.1")},
     "1.2.3.1.1.1,1.2.3.1.1.2"},
    {"instance number in series", INSTANCE, 0, {SERIES_UID("1.2.3.1.1"), INSTANCE_NUMBER("1")},
     "1.2.3.1.1.1"},
    {"SOP class", INSTANCE, 0, {SOP_CLASS(MR_IMAGE_STORAGE)}, "1.2.3.1.2.1,1.2.3.2.1.1"},
    {"all keys of every level", INSTANCE, 0,
     {PN("Doe*"), STUDY_UID("1.2.3.1"), MODALITY("CT"), INSTANCE_NUMBER("2")}, "1.2.3.1.1.2"},
};

/* ---- fixture ---- */

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char path[128];
    char storage[128];
    char text[1024];
    char err[512] = "";

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-query-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(storage, sizeof(storage), "%s/storage", fx->dir);
    assert_int_equal(mkdir(storage, 0700), 0);
    snprintf(fx->db_path, sizeof(fx->db_path), "%s/index.sqlite", fx->dir);

    snprintf(path, sizeof(path), "%s/cairn.conf", fx->dir);
    snprintf(text, sizeof(text),
             "storage = { path = \"storage\"; };\n"
             "plugin_directory = \"%s\";\n"
             "plugins = { index-sqlite = { path = \"index.sqlite\"; synchronous = \"normal\"; };"
             " };\n"
             "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"index-sqlite\" ]; } );\n",
             CAIRN_PLUGIN_BUILD_DIR);
    write_file(path, text);
    if (conf_load(path, &fx->conf, err, sizeof(err)) != 0)
        fail_msg("cannot load %s: %s", path, err);
    assert_int_equal(plugin_registry_load(fx->conf, &fx->registry), 0);
    fx->index = plugin_find_index(fx->registry, "index-sqlite");
    assert_non_null(fx->index);
    assert_non_null(fx->index->ops.query);
    fx->api = plugin_host_api();

    assert_int_equal(fx->index->ops.open(fx->index->backend_state, storage, &fx->db), CAIRN_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    static const char *const names[] = {
        "storage", "index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "cairn.conf",
    };
    fixture *fx = *state;
    char path[160];

    fx->index->ops.close(fx->db);
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        remove(path);
    }
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

static void store_spec(fixture *fx, const instance_spec *spec)
{
    cairn_dataset *dataset = fx->api->dataset_create();
    cairn_instance_file file = {
        .struct_size = sizeof(file),
        .path = spec->sop_uid,
        .size = 100,
        .transfer_syntax_uid = EXPLICIT_VR_LE,
        .calling_ae = "TEST",
    };
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

    assert_non_null(dataset);
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, spec->patient_name);
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, spec->patient_id);
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_VR_DA, spec->birth_date);
    set_text(fx->api, dataset, CAIRN_TAG_PATIENT_SEX, CAIRN_VR_CS, spec->sex);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, spec->study_uid);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, spec->study_date);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, spec->study_time);
    set_text(fx->api, dataset, CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, spec->accession);
    set_text(fx->api, dataset, CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, spec->referring);
    set_text(fx->api, dataset, CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO,
             spec->study_description);
    set_text(fx->api, dataset, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, spec->series_uid);
    set_text(fx->api, dataset, CAIRN_TAG_MODALITY, CAIRN_VR_CS, spec->modality);
    set_text(fx->api, dataset, CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, spec->series_number);
    set_text(fx->api, dataset, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, spec->sop_uid);
    set_text(fx->api, dataset, CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, spec->sop_class);
    set_text(fx->api, dataset, CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, spec->instance_number);

    assert_int_equal(fx->index->ops.store_instance(fx->db, dataset, &file, CAIRN_DUPLICATE_KEEP,
                                                   &outcome, NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
    fx->api->dataset_destroy(dataset);
}

static void store_archive(fixture *fx)
{
    for (size_t i = 0; i < sizeof(archive) / sizeof(archive[0]); i++)
        store_spec(fx, &archive[i]);
}

/* ---- running queries ---- */

#define MAX_ROWS 16
#define MAX_ROW_KEYS 24

/* The rows of one query: their unique keys and, for the last rows, every value. */
typedef struct result {
    const cairn_host_api *api;
    cairn_index_level level;
    char unique_keys[1024];
    size_t count;
    bool had_file[MAX_ROWS];
    char values[MAX_ROWS][MAX_ROW_KEYS][96];
    cairn_tag tags[MAX_ROWS][MAX_ROW_KEYS];
} result;

static cairn_tag unique_key_of(cairn_index_level level)
{
    switch (level) {
    case CAIRN_LEVEL_PATIENT:
        return CAIRN_TAG_PATIENT_ID;
    case CAIRN_LEVEL_STUDY:
        return CAIRN_TAG_STUDY_INSTANCE_UID;
    case CAIRN_LEVEL_SERIES:
        return CAIRN_TAG_SERIES_INSTANCE_UID;
    default:
        return CAIRN_TAG_SOP_INSTANCE_UID;
    }
}

static int collect_row(void *arg, const cairn_index_row *row)
{
    result *out = arg;
    char *value = NULL;
    size_t count = out->api->dataset_count(row->attributes);
    size_t r = out->count;

    assert_int_equal(row->level, out->level);
    assert_int_equal(out->api->dataset_get_utf8(row->attributes, unique_key_of(out->level),
                                                &value),
                     CAIRN_OK);
    if (out->count > 0)
        strncat(out->unique_keys, ",", sizeof(out->unique_keys) - strlen(out->unique_keys) - 1);
    strncat(out->unique_keys, value, sizeof(out->unique_keys) - strlen(out->unique_keys) - 1);
    out->api->free(value);

    if (r < MAX_ROWS) {
        out->had_file[r] = row->file != NULL;
        assert_true(count <= MAX_ROW_KEYS);
        for (size_t i = 0; i < count; i++) {
            cairn_tag tag = out->api->element_tag(out->api->dataset_at(row->attributes, i));

            value = NULL;
            out->tags[r][i] = tag;
            if (out->api->dataset_get_utf8(row->attributes, tag, &value) == CAIRN_OK &&
                value != NULL) {
                snprintf(out->values[r][i], sizeof(out->values[r][i]), "%s", value);
                out->api->free(value);
            }
        }
    }
    out->count++;
    return 0;
}

/* Returns the value of tag in row r of res, or NULL when the row lacks it. */
static const char *row_value(const result *res, size_t r, cairn_tag tag)
{
    for (size_t i = 0; i < MAX_ROW_KEYS; i++) {
        if (res->tags[r][i] == tag)
            return res->values[r][i];
    }
    return NULL;
}

static void assert_row_value(const result *res, size_t r, cairn_tag tag, const char *expected)
{
    const char *value = row_value(res, r, tag);

    if (value == NULL)
        fail_msg("row %zu lacks (%04X,%04X)", r, CAIRN_TAG_GROUP(tag), CAIRN_TAG_ELEMENT(tag));
    assert_string_equal(value, expected);
}

static cairn_status run_query(fixture *fx, cairn_index_level level, uint32_t flags,
                              uint64_t max_matches, const cairn_dataset *keys, result *res)
{
    cairn_index_query query = {
        .struct_size = sizeof(query),
        .level = level,
        .keys = keys,
        .flags = flags,
        .max_matches = max_matches,
    };

    memset(res, 0, sizeof(*res));
    res->api = fx->api;
    res->level = level;
    return fx->index->ops.query(fx->db, &query, collect_row, res);
}

static cairn_dataset *make_keys(fixture *fx, const char *charset, const key_spec *keys,
                                size_t count)
{
    cairn_dataset *dataset = fx->api->dataset_create();

    assert_non_null(dataset);
    set_text(fx->api, dataset, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, charset);
    for (size_t k = 0; k < count && keys[k].tag != 0; k++)
        set_text(fx->api, dataset, keys[k].tag, keys[k].vr, keys[k].value);
    return dataset;
}

/* Runs one key and returns the unique keys of the rows in *res. */
static void query_one(fixture *fx, cairn_index_level level, const char *charset,
                      const key_spec *key, result *res)
{
    cairn_dataset *keys = make_keys(fx, charset, key, 1);

    assert_int_equal(run_query(fx, level, 0, 0, keys, res), CAIRN_OK);
    fx->api->dataset_destroy(keys);
}

/* ---- tests ---- */

static void test_matching_table(void **state)
{
    fixture *fx = *state;
    int failures = 0;
    result res;

    store_archive(fx);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        cairn_dataset *keys = make_keys(fx, NULL, cases[c].keys, MAX_CASE_KEYS);
        cairn_status status = run_query(fx, cases[c].level, cases[c].flags, 0, keys, &res);

        fx->api->dataset_destroy(keys);
        if (status != CAIRN_OK || strcmp(res.unique_keys, cases[c].expected) != 0) {
            print_error("case \"%s\": status %s, rows \"%s\", expected \"%s\"\n", cases[c].name,
                        cairn_strerror(status), res.unique_keys, cases[c].expected);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_study_row_contents(void **state)
{
    fixture *fx = *state;
    key_spec key = STUDY_UID("1.2.3.1");
    result res;

    store_archive(fx);
    query_one(fx, STUDY, NULL, &key, &res);

    assert_int_equal(res.count, 1);
    assert_false(res.had_file[0]);
    assert_row_value(&res, 0, CAIRN_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192");
    assert_row_value(&res, 0, CAIRN_TAG_PATIENT_NAME, "Doe^Jane");
    assert_row_value(&res, 0, CAIRN_TAG_PATIENT_ID, "P1");
    assert_row_value(&res, 0, CAIRN_TAG_STUDY_DATE, "20240102");
    assert_row_value(&res, 0, CAIRN_TAG_STUDY_TIME, "101500");
    assert_row_value(&res, 0, CAIRN_TAG_ACCESSION_NUMBER, "ACC1");
    assert_row_value(&res, 0, TAG_MODALITIES_IN_STUDY, "CT\\MR");
    assert_row_value(&res, 0, TAG_SOP_CLASSES_IN_STUDY, CT_IMAGE_STORAGE "\\" MR_IMAGE_STORAGE);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1206), "2");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1208), "3");
}

static void test_patient_row_counts(void **state)
{
    fixture *fx = *state;
    key_spec key = PID("P1");
    result res;

    store_archive(fx);
    query_one(fx, PATIENT, NULL, &key, &res);

    assert_int_equal(res.count, 1);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1200), "2");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1202), "3");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1204), "4");
}

static void test_birth_date_normalised(void **state)
{
    fixture *fx = *state;
    key_spec key = PID("P2");
    result res;

    store_archive(fx);
    query_one(fx, STUDY, NULL, &key, &res);

    assert_int_equal(res.count, 1);
    assert_row_value(&res, 0, CAIRN_TAG_PATIENT_BIRTH_DATE, "19800505");
}

static void test_instance_row_has_file(void **state)
{
    fixture *fx = *state;
    key_spec key = SOP_UID("1.2.3.2.1.1");
    result res;

    store_archive(fx);
    query_one(fx, INSTANCE, NULL, &key, &res);

    assert_int_equal(res.count, 1);
    assert_true(res.had_file[0]);
    assert_row_value(&res, 0, CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.2");
    assert_row_value(&res, 0, CAIRN_TAG_SERIES_INSTANCE_UID, "1.2.3.2.1");
    assert_row_value(&res, 0, CAIRN_TAG_SOP_CLASS_UID, MR_IMAGE_STORAGE);
}

/* ---- direct access to the database through the system's libsqlite3 ---- */

typedef struct sqlite_library {
    void *handle;
    int (*open)(const char *path, void **db);
    int (*exec)(void *db, const char *sql, void *callback, void *arg, char **message);
    int (*close)(void *db);
    void *db;
} sqlite_library;

static void sqlite_open(fixture *fx, sqlite_library *lib)
{
    lib->handle = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib->handle == NULL)
        skip();
    *(void **)&lib->open = dlsym(lib->handle, "sqlite3_open");
    *(void **)&lib->exec = dlsym(lib->handle, "sqlite3_exec");
    *(void **)&lib->close = dlsym(lib->handle, "sqlite3_close");
    assert_non_null(lib->open);
    assert_non_null(lib->exec);
    assert_non_null(lib->close);
    assert_int_equal(lib->open(fx->db_path, &lib->db), 0);
}

static void sqlite_exec(sqlite_library *lib, const char *sql)
{
    char *message = NULL;

    if (lib->exec(lib->db, sql, NULL, NULL, &message) != 0)
        fail_msg("\"%s\" failed: %s", sql, message != NULL ? message : "?");
}

static void sqlite_close(sqlite_library *lib)
{
    lib->close(lib->db);
    dlclose(lib->handle);
}

static void test_rejected_instances_excluded(void **state)
{
    fixture *fx = *state;
    key_spec series = SERIES_UID("1.2.3.1.1");
    key_spec study = STUDY_UID("1.2.3.1");
    key_spec patient = PID("P1");
    key_spec us = MODALITIES("US");
    key_spec us_series = MODALITY("US");
    sqlite_library lib;
    result res;

    store_archive(fx);
    sqlite_open(fx, &lib);
    sqlite_exec(&lib, "UPDATE instance SET rejected = 1"
                      " WHERE sop_uid IN ('1.2.3.1.1.2', '1.2.3.3.1.1')");
    sqlite_close(&lib);

    /* The rejected instance is gone from its series and from the counts. */
    query_one(fx, INSTANCE, NULL, &series, &res);
    assert_string_equal(res.unique_keys, "1.2.3.1.1.1");
    query_one(fx, SERIES, NULL, &series, &res);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1209), "1");
    query_one(fx, STUDY, NULL, &study, &res);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1208), "2");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1206), "2");

    /* Study 1.2.3.3 had one instance, now rejected: it and its series no longer match. */
    query_one(fx, PATIENT, NULL, &patient, &res);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1200), "1");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1202), "2");
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1204), "2");
    query_one(fx, STUDY, NULL, &patient, &res);
    assert_string_equal(res.unique_keys, "1.2.3.1");
    query_one(fx, STUDY, NULL, &us, &res);
    assert_string_equal(res.unique_keys, "");
    query_one(fx, SERIES, NULL, &us_series, &res);
    assert_string_equal(res.unique_keys, "");

    /* Removing a rejected instance leaves the counts as they are. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.2"), CAIRN_OK);
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.3.1.1"), CAIRN_OK);
    query_one(fx, STUDY, NULL, &study, &res);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1208), "2");
    query_one(fx, PATIENT, NULL, &patient, &res);
    assert_row_value(&res, 0, CAIRN_TAG(0x0020, 0x1204), "2");
}

static void test_max_matches_limit(void **state)
{
    fixture *fx = *state;
    cairn_dataset *keys = fx->api->dataset_create();
    result res;

    store_archive(fx);

    /* Four studies match: a limit of 3 fails before any row, a limit of 4 passes. */
    assert_int_equal(run_query(fx, STUDY, 0, 3, keys, &res), CAIRN_ERR_LIMIT);
    assert_int_equal(res.count, 0);
    assert_int_equal(run_query(fx, STUDY, 0, 4, keys, &res), CAIRN_OK);
    assert_int_equal(res.count, 4);
    assert_int_equal(run_query(fx, INSTANCE, 0, 5, keys, &res), CAIRN_ERR_LIMIT);
    assert_int_equal(res.count, 0);
    fx->api->dataset_destroy(keys);
}

static void test_invalid_range_rejected(void **state)
{
    static const key_spec invalid[] = {
        DATE("2024-01-02"), DATE("-"), DATE("yesterday-"), TIME("25-"), TIME("10.5-"),
    };
    fixture *fx = *state;
    result res;

    store_archive(fx);
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        cairn_dataset *keys = make_keys(fx, NULL, &invalid[i], 1);

        assert_int_equal(run_query(fx, STUDY, 0, 0, keys, &res), CAIRN_ERR_INVALID_ARGUMENT);
        assert_int_equal(res.count, 0);
        fx->api->dataset_destroy(keys);
    }
}

/* Stores a file of pydicom's character set data. */
static void store_charset_file(fixture *fx, const char *name)
{
    dcm_read_options options = {.stop_at = 0x7FE00010u};
    dcm_dataset *dataset = NULL;
    cairn_instance_file file = {
        .struct_size = sizeof(file),
        .path = name,
        .transfer_syntax_uid = EXPLICIT_VR_LE,
        .calling_ae = "PYDICOM",
    };
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", PYDICOM_CHARSET_DIR, name);
    if (access(path, R_OK) != 0)
        skip();
    assert_int_equal(dcm_file_read(path, &options, NULL, &dataset, NULL, NULL), DCM_OK);
    assert_int_equal(fx->index->ops.store_instance(fx->db, (const cairn_dataset *)dataset, &file,
                                                   CAIRN_DUPLICATE_KEEP, &outcome, NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
    dcm_dataset_destroy(dataset);
}

/* Names of chrH31.dcm (Yamada^Tarou=山田^太郎=やまだ^たろう) and chrJapMulti.dcm. */
#define YAMADA_TAROU_KANJI "\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E"
#define YAMADA_TAROU_HIRAGANA "\xE3\x82\x84\xE3\x81\xBE\xE3\x81\xA0^\xE3\x81\x9F\xE3\x82\x8D\xE3\x81\x86"
#define YAMADA_TAROU_KANJI_IR87 "\x1B$B;3ED\x1B(B^\x1B$BB@O:\x1B(B"
#define YAMADA_TAROU_IR87 \
    "Yamada^Tarou=" YAMADA_TAROU_KANJI_IR87 "=\x1B$B$d$^$@\x1B(B^\x1B$B$?$m$&\x1B(B"

static void test_japanese_names_across_charsets(void **state)
{
    static const struct {
        const char *charset;
        const char *name;
        const char *expected;
    } japanese[] = {
        {"\\ISO 2022 IR 87", YAMADA_TAROU_IR87, "H31EXAMPLE"},
        {"\\ISO 2022 IR 87", YAMADA_TAROU_KANJI_IR87, "H31EXAMPLE"},
        {"\\ISO 2022 IR 87", "\x1B$B;3ED\x1B(B*", "H31EXAMPLE"},
        {"ISO_IR 192", YAMADA_TAROU_KANJI, "H31EXAMPLE"},
        {"ISO_IR 192", "yamada^tarou", "H31EXAMPLE"},
        {"ISO_IR 192", "\xE3\x82\x84\xE3\x81\xBE*", "2008-4,H31EXAMPLE"},
        {"ISO_IR 192", YAMADA_TAROU_HIRAGANA, "2008-4,H31EXAMPLE"},
        {"ISO_IR 192", "Yamada^Tarou=" YAMADA_TAROU_KANJI, ""},
    };
    fixture *fx = *state;
    result res;

    store_charset_file(fx, "chrH31.dcm");
    store_charset_file(fx, "chrJapMulti.dcm");

    for (size_t i = 0; i < sizeof(japanese) / sizeof(japanese[0]); i++) {
        key_spec key = PN(japanese[i].name);

        query_one(fx, PATIENT, japanese[i].charset, &key, &res);
        if (strcmp(res.unique_keys, japanese[i].expected) != 0)
            fail_msg("name %zu in %s: rows \"%s\", expected \"%s\"", i, japanese[i].charset,
                     res.unique_keys, japanese[i].expected);
    }

    /* The row carries the name in UTF-8. */
    {
        key_spec key = PID("H31EXAMPLE");

        query_one(fx, PATIENT, NULL, &key, &res);
        assert_row_value(&res, 0, CAIRN_TAG_PATIENT_NAME,
                         "Yamada^Tarou=" YAMADA_TAROU_KANJI "=" YAMADA_TAROU_HIRAGANA);
    }
}

/* ---- timing on a large synthetic archive ---- */

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * Fills the index with studies of 2 series of 5 instances each, 2 studies
 * per patient, in one transaction so the schema's triggers keep the counts.
 */
static void fill_synthetic(fixture *fx, long studies)
{
    char sql[4096];
    sqlite_library lib;

    sqlite_open(fx, &lib);
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < %ld)"
             " INSERT INTO patient (patient_id, issuer, name, name_folded)"
             " SELECT printf('PID%%07d', k), '', printf('Name%%05d^Given%%d', k %% 40000, k %% 7),"
             " lower(printf('Name%%05d^Given%%d', k %% 40000, k %% 7)) FROM n;"
             "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < %ld)"
             " INSERT INTO study (patient, study_uid, study_date, study_time, time_key,"
             " accession_number)"
             " SELECT k / 2 + 1, printf('1.2.9.%%d', k),"
             " strftime('%%Y%%m%%d', '2015-01-01', printf('+%%d days', k %% 3650)), '120000',"
             " '120000.000000', printf('ACC%%d', k) FROM n;"
             "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < %ld)"
             " INSERT INTO series (study, series_uid, modality, series_number)"
             " SELECT k / 2 + 1, printf('1.2.9.%%d.%%d', k / 2, k %% 2),"
             " iif(k %% 2 = 0, 'CT', 'SR'), k %% 2 + 1 FROM n;"
             "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < %ld)"
             " INSERT INTO instance (series, sop_uid, sop_class_uid, instance_number, path, size,"
             " received_at_us)"
             " SELECT k / 5 + 1, printf('1.2.9.%%d.%%d', k / 5, k %% 5), '" CT_IMAGE_STORAGE "',"
             " k %% 5 + 1, printf('f%%d', k), 1, 0 FROM n;"
             "COMMIT; ANALYZE;",
             (studies + 1) / 2, studies, studies * 2, studies * 10);
    sqlite_exec(&lib, sql);
    sqlite_close(&lib);
}

static void time_query(fixture *fx, const char *what, cairn_index_level level, uint32_t flags,
                       const key_spec *keys, size_t count)
{
    cairn_dataset *dataset = make_keys(fx, NULL, keys, count);
    struct timespec start;
    double best = 1e9;
    result res;

    for (int run = 0; run < 5; run++) {
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(run_query(fx, level, flags, 1000, dataset, &res), CAIRN_OK);
        if (seconds_since(&start) < best)
            best = seconds_since(&start);
    }
    print_message("%-48s %4zu rows  %8.3f ms (best of 5)\n", what, res.count, best * 1000);
    fx->api->dataset_destroy(dataset);
}

static void test_query_timing(void **state)
{
    const char *setting = getenv("CAIRN_QUERY_BENCH_STUDIES");
    fixture *fx = *state;
    long studies = setting != NULL ? strtol(setting, NULL, 10) : 0;
    struct timespec start;

    if (studies <= 0 || studies > 10000000)
        skip();

    clock_gettime(CLOCK_MONOTONIC, &start);
    fill_synthetic(fx, studies);
    print_message("filled %ld studies, %ld instances in %.1f s\n", studies, studies * 10,
                  seconds_since(&start));

    {
        const key_spec name_and_dates[] = {PN("name0012*"), DATE("20150101-20201231")};
        const key_spec name_exact[] = {PN("NAME00123^GIVEN4")};
        const key_spec accession[] = {ACCESSION("ACC4242")};
        const key_spec dates[] = {DATE("20180301-20180302")};
        const key_spec modality_and_date[] = {MODALITIES("SR"), DATE("20180301-20180303")};
        const key_spec study_uid[] = {STUDY_UID("1.2.9.777")};
        const key_spec series_ct[] = {PID("PID0000123"), MODALITY("CT")};
        const key_spec instances[] = {STUDY_UID("1.2.9.777")};

        time_query(fx, "STUDY: name wildcard + date range", STUDY, 0, name_and_dates, 2);
        time_query(fx, "STUDY: name single value", STUDY, 0, name_exact, 1);
        time_query(fx, "STUDY: accession number", STUDY, 0, accession, 1);
        time_query(fx, "STUDY: date range (2 days)", STUDY, 0, dates, 1);
        time_query(fx, "STUDY: modalities in study + date range", STUDY, 0, modality_and_date,
                   2);
        time_query(fx, "STUDY: study UID", STUDY, 0, study_uid, 1);
        time_query(fx, "SERIES: patient ID + modality, no study UID", SERIES, 0, series_ct, 2);
        time_query(fx, "INSTANCE: study UID", INSTANCE, 0, instances, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matching_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_study_row_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patient_row_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_birth_date_normalised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_row_has_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_instances_excluded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_matches_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_range_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_japanese_names_across_charsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_timing, setup, teardown),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
