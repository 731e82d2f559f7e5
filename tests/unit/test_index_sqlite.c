/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the index-sqlite plugin, loaded for real through the core's
 * plugin registry from the build's plugin folder. They cover rows and
 * counts at each level, the duplicate policies, removal, persistence
 * across a reopen and Latin-1 text listed back as UTF-8. They also time
 * concurrent stores with and without group commit, and check that a
 * database with a newer schema is rejected. Each test works in its own
 * mkdtemp folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
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
#define EXPLICIT_VR_LE "1.2.840.10008.1.2.1"

#define THREADS 8

/* Character set test files shipped by Debian's python3-pydicom. */
#define PYDICOM_CHARSET_DIR "/usr/lib/python3/dist-packages/pydicom/data/charset_files"
#define STORES_PER_THREAD 250

/* A loaded plugin and an opened index in a temporary folder. */
typedef struct fixture {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    const plugin_index *index;
    const cairn_host_api *api;
    void *db;
} fixture;

/* One instance to store: the attributes the index reads. */
typedef struct instance_spec {
    const char *charset;
    const char *patient_name;
    const char *patient_id;
    const char *study_uid;
    const char *study_date;
    const char *accession;
    const char *series_uid;
    const char *modality;
    const char *series_number;
    const char *sop_uid;
    const char *sop_class;
    const char *instance_number;
} instance_spec;

/* Values of one listed row, read back as UTF-8; "" when absent. */
#define MAX_ROWS 16
#define MAX_ROW_KEYS 24
typedef struct listed_row {
    cairn_tag tags[MAX_ROW_KEYS];
    char *values[MAX_ROW_KEYS];
    size_t count;
    char path[128];
    uint64_t size;
    char transfer_syntax[65];
    char calling_ae[17];
    int64_t received_at_us;
    bool has_file;
} listed_row;

typedef struct listing {
    const cairn_host_api *api;
    listed_row rows[MAX_ROWS];
    size_t count;
    size_t stop_after; /* 0: never stop early */
} listing;

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

/* Writes cairn.conf for the plugin with extra settings, loads it and the plugin. */
static int load_plugin(fixture *fx, const char *plugin_settings)
{
    char path[128];
    char text[2048];
    char err[512] = "";

    snprintf(path, sizeof(path), "%s/cairn.conf", fx->dir);
    snprintf(text, sizeof(text),
             "storage = { path = \"storage\"; };\n"
             "plugin_directory = \"%s\";\n"
             "plugins = {\n"
             "  index-sqlite = { %s };\n"
             "};\n"
             "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"index-sqlite\" ]; } );\n",
             CAIRN_PLUGIN_BUILD_DIR, plugin_settings);
    write_file(path, text);

    if (conf_load(path, &fx->conf, err, sizeof(err)) != 0)
        fail_msg("cannot load %s: %s", path, err);
    if (plugin_registry_load(fx->conf, &fx->registry) != 0)
        return -1;
    fx->index = plugin_find_index(fx->registry, "index-sqlite");
    assert_non_null(fx->index);
    fx->api = plugin_host_api();
    return 0;
}

static void open_index(fixture *fx)
{
    char storage[128];

    snprintf(storage, sizeof(storage), "%s/storage", fx->dir);
    assert_int_equal(fx->index->ops.open(fx->index->backend_state, storage, &fx->db), CAIRN_OK);
    assert_non_null(fx->db);
}

static void close_index(fixture *fx)
{
    fx->index->ops.close(fx->db);
    fx->db = NULL;
}

static fixture *make_fixture(const char *plugin_settings)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char storage[128];

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-index-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(storage, sizeof(storage), "%s/storage", fx->dir);
    assert_int_equal(mkdir(storage, 0700), 0);
    assert_int_equal(load_plugin(fx, plugin_settings), 0);
    return fx;
}

static int setup(void **state)
{
    fixture *fx = make_fixture("path = \"index.sqlite\";");

    open_index(fx);
    *state = fx;
    return 0;
}

static void remove_tree(const char *dir)
{
    static const char *const names[] = {
        "storage", "index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "cairn.conf",
    };
    char path[160];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
}

static int teardown(void **state)
{
    fixture *fx = *state;

    if (fx->db != NULL)
        close_index(fx);
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

static void set_text(const cairn_host_api *api, cairn_dataset *dataset, cairn_tag tag,
                     cairn_vr vr, const char *value)
{
    if (value != NULL)
        assert_int_equal(api->dataset_set_string(dataset, tag, vr, value), CAIRN_OK);
}

static cairn_dataset *make_attributes(const cairn_host_api *api, const instance_spec *spec)
{
    cairn_dataset *dataset = api->dataset_create();

    assert_non_null(dataset);
    set_text(api, dataset, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, spec->charset);
    set_text(api, dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, spec->patient_name);
    set_text(api, dataset, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, spec->patient_id);
    set_text(api, dataset, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, spec->study_uid);
    set_text(api, dataset, CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, spec->study_date);
    set_text(api, dataset, CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, spec->accession);
    set_text(api, dataset, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, spec->series_uid);
    set_text(api, dataset, CAIRN_TAG_MODALITY, CAIRN_VR_CS, spec->modality);
    set_text(api, dataset, CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, spec->series_number);
    set_text(api, dataset, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, spec->sop_uid);
    set_text(api, dataset, CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, spec->sop_class);
    set_text(api, dataset, CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, spec->instance_number);
    return dataset;
}

/* Stores spec with a file at path; returns the status and fills the outcome. */
static cairn_status store(fixture *fx, const instance_spec *spec, const char *path,
                          cairn_duplicate_policy policy, cairn_store_outcome *outcome,
                          char **replaced_path)
{
    cairn_dataset *attributes = make_attributes(fx->api, spec);
    cairn_instance_file file = {
        .struct_size = sizeof(file),
        .path = path,
        .size = 1234,
        .transfer_syntax_uid = EXPLICIT_VR_LE,
        .received_at_us = 1700000000123456,
        .calling_ae = "STORESCU",
    };
    cairn_status status = fx->index->ops.store_instance(fx->db, attributes, &file, policy,
                                                        outcome, replaced_path);

    fx->api->dataset_destroy(attributes);
    return status;
}

static void store_ok(fixture *fx, const instance_spec *spec, const char *path)
{
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

    assert_int_equal(store(fx, spec, path, CAIRN_DUPLICATE_KEEP, &outcome, NULL), CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
}

static int collect_row(void *arg, const cairn_index_row *row)
{
    listing *list = arg;
    listed_row *out;
    size_t count;

    assert_true(list->count < MAX_ROWS);
    out = &list->rows[list->count++];
    count = list->api->dataset_count(row->attributes);
    assert_true(count <= MAX_ROW_KEYS);

    for (size_t i = 0; i < count; i++) {
        const cairn_element *element = list->api->dataset_at(row->attributes, i);
        cairn_tag tag = list->api->element_tag(element);
        char *value = NULL;
        cairn_status status = list->api->dataset_get_utf8(row->attributes, tag, &value);

        out->tags[i] = tag;
        if (status == CAIRN_OK && value != NULL) {
            out->values[i] = strdup(value);
            list->api->free(value);
        } else {
            out->values[i] = strdup("");
        }
    }
    out->count = count;

    if (row->file != NULL) {
        out->has_file = true;
        snprintf(out->path, sizeof(out->path), "%s", row->file->path);
        snprintf(out->transfer_syntax, sizeof(out->transfer_syntax), "%s",
                 row->file->transfer_syntax_uid);
        snprintf(out->calling_ae, sizeof(out->calling_ae), "%s", row->file->calling_ae);
        out->size = row->file->size;
        out->received_at_us = row->file->received_at_us;
    }
    return list->stop_after != 0 && list->count >= list->stop_after;
}

static void free_listing(listing *list)
{
    for (size_t r = 0; r < list->count; r++) {
        for (size_t i = 0; i < list->rows[r].count; i++)
            free(list->rows[r].values[i]);
    }
    list->count = 0;
}

/* Returns the value of tag in row with trailing padding removed; NULL when absent. */
static const char *row_value(const listed_row *row, cairn_tag tag)
{
    for (size_t i = 0; i < row->count; i++) {
        if (row->tags[i] == tag) {
            char *value = row->values[i];
            size_t length = strlen(value);

            while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
                value[--length] = '\0';
            return value;
        }
    }
    return NULL;
}

static void assert_row_value(const listed_row *row, cairn_tag tag, const char *expected)
{
    const char *value = row_value(row, tag);

    if (value == NULL)
        fail_msg("(%04X,%04X) is missing from the row", CAIRN_TAG_GROUP(tag),
                 CAIRN_TAG_ELEMENT(tag));
    assert_string_equal(value, expected);
}

/* Lists the rows of level that match filter (NULL: every row) into list. */
static void list_level(fixture *fx, listing *list, cairn_index_level level,
                       const cairn_dataset *filter)
{
    memset(list, 0, sizeof(*list));
    list->api = fx->api;
    assert_int_equal(fx->index->ops.list(fx->db, level, filter, collect_row, list), CAIRN_OK);
}

static uint64_t count_level(fixture *fx, cairn_index_level level)
{
    uint64_t count = 0;

    assert_int_equal(fx->index->ops.count(fx->db, level, &count), CAIRN_OK);
    return count;
}

static void assert_counts(fixture *fx, uint64_t patients, uint64_t studies, uint64_t series,
                          uint64_t instances)
{
    assert_int_equal(count_level(fx, CAIRN_LEVEL_PATIENT), patients);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_STUDY), studies);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_SERIES), series);
    assert_int_equal(count_level(fx, CAIRN_LEVEL_INSTANCE), instances);
}

/* Patient P1: study 1.1 with a CT series (2 images) and an MR series (1); P2: study 2.1. */
static const instance_spec sample[] = {
    {NULL, "Doe^Jane", "P1", "1.2.3.1", "20240102", "ACC1", "1.2.3.1.1", "CT", "2", "1.2.3.1.1.1",
     CT_IMAGE_STORAGE, "2"},
    {NULL, "Doe^Jane", "P1", "1.2.3.1", "20240102", "ACC1", "1.2.3.1.1", "CT", "2", "1.2.3.1.1.2",
     CT_IMAGE_STORAGE, "1"},
    {NULL, "Doe^Jane", "P1", "1.2.3.1", "20240102", "ACC1", "1.2.3.1.2", "MR", "1", "1.2.3.1.2.1",
     MR_IMAGE_STORAGE, "1"},
    {NULL, "Roe^Rick", "P2", "1.2.3.2", "20230505", "ACC2", "1.2.3.2.1", "MR", "1", "1.2.3.2.1.1",
     MR_IMAGE_STORAGE, "1"},
};

static void store_sample(fixture *fx)
{
    char path[32];

    for (size_t i = 0; i < sizeof(sample) / sizeof(sample[0]); i++) {
        snprintf(path, sizeof(path), "aa/bb/file%zu", i);
        store_ok(fx, &sample[i], path);
    }
}

static void test_counts_per_level(void **state)
{
    fixture *fx = *state;

    assert_counts(fx, 0, 0, 0, 0);
    store_sample(fx);
    assert_counts(fx, 2, 2, 3, 4);
}

static void test_patient_rows(void **state)
{
    fixture *fx = *state;
    listing list;

    store_sample(fx);
    list_level(fx, &list, CAIRN_LEVEL_PATIENT, NULL);

    assert_int_equal(list.count, 2);
    assert_row_value(&list.rows[0], CAIRN_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "P1");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_NAME, "Doe^Jane");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1200), "1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1202), "2");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1204), "3");
    assert_row_value(&list.rows[1], CAIRN_TAG_PATIENT_ID, "P2");
    assert_row_value(&list.rows[1], CAIRN_TAG(0x0020, 0x1204), "1");
    assert_false(list.rows[0].has_file);
    free_listing(&list);
}

static void test_study_rows(void **state)
{
    fixture *fx = *state;
    cairn_dataset *filter;
    listing list;

    store_sample(fx);
    list_level(fx, &list, CAIRN_LEVEL_STUDY, NULL);

    assert_int_equal(list.count, 2);
    assert_row_value(&list.rows[0], CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.1");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "P1");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_NAME, "Doe^Jane");
    assert_row_value(&list.rows[0], CAIRN_TAG_STUDY_DATE, "20240102");
    assert_row_value(&list.rows[0], CAIRN_TAG_ACCESSION_NUMBER, "ACC1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0008, 0x0061), "CT\\MR");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0008, 0x0062),
                     CT_IMAGE_STORAGE "\\" MR_IMAGE_STORAGE);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1206), "2");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1208), "3");
    assert_row_value(&list.rows[1], CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.2");
    free_listing(&list);

    /* A series-level key at study level: the studies with a CT series. */
    filter = fx->api->dataset_create();
    set_text(fx->api, filter, CAIRN_TAG_MODALITY, CAIRN_VR_CS, "CT");
    list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.1");
    free_listing(&list);

    /* Modalities in Study matches any of its values. */
    set_text(fx->api, filter, CAIRN_TAG_MODALITY, CAIRN_VR_CS, "");
    set_text(fx->api, filter, CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, "US\\MR");
    list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
    assert_int_equal(list.count, 2);
    free_listing(&list);

    set_text(fx->api, filter, CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, "");
    set_text(fx->api, filter, CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, "ACC2");
    list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "P2");
    free_listing(&list);
    fx->api->dataset_destroy(filter);
}

static void test_series_rows(void **state)
{
    fixture *fx = *state;
    cairn_dataset *filter = fx->api->dataset_create();
    listing list;

    store_sample(fx);
    set_text(fx->api, filter, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.1");
    list_level(fx, &list, CAIRN_LEVEL_SERIES, filter);

    /* Ordered by Series Number: the MR series (1) comes first. */
    assert_int_equal(list.count, 2);
    assert_row_value(&list.rows[0], CAIRN_TAG_SERIES_INSTANCE_UID, "1.2.3.1.2");
    assert_row_value(&list.rows[0], CAIRN_TAG_MODALITY, "MR");
    assert_row_value(&list.rows[0], CAIRN_TAG_SERIES_NUMBER, "1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1209), "1");
    assert_row_value(&list.rows[0], CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.1");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "P1");
    assert_row_value(&list.rows[1], CAIRN_TAG_SERIES_INSTANCE_UID, "1.2.3.1.1");
    assert_row_value(&list.rows[1], CAIRN_TAG(0x0020, 0x1209), "2");
    free_listing(&list);

    set_text(fx->api, filter, CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, "2");
    list_level(fx, &list, CAIRN_LEVEL_SERIES, filter);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG_MODALITY, "CT");
    free_listing(&list);
    fx->api->dataset_destroy(filter);
}

static void test_instance_rows(void **state)
{
    fixture *fx = *state;
    cairn_dataset *filter = fx->api->dataset_create();
    listing list;

    store_sample(fx);
    set_text(fx->api, filter, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.1.1");
    list_level(fx, &list, CAIRN_LEVEL_INSTANCE, filter);

    /* Ordered by Instance Number: file1 is instance 1. */
    assert_int_equal(list.count, 2);
    assert_row_value(&list.rows[0], CAIRN_TAG_SOP_INSTANCE_UID, "1.2.3.1.1.2");
    assert_row_value(&list.rows[0], CAIRN_TAG_INSTANCE_NUMBER, "1");
    assert_row_value(&list.rows[0], CAIRN_TAG_SOP_CLASS_UID, CT_IMAGE_STORAGE);
    assert_row_value(&list.rows[0], CAIRN_TAG_SERIES_INSTANCE_UID, "1.2.3.1.1");
    assert_row_value(&list.rows[0], CAIRN_TAG_STUDY_INSTANCE_UID, "1.2.3.1");
    assert_true(list.rows[0].has_file);
    assert_string_equal(list.rows[0].path, "aa/bb/file1");
    assert_int_equal(list.rows[0].size, 1234);
    assert_string_equal(list.rows[0].transfer_syntax, EXPLICIT_VR_LE);
    assert_string_equal(list.rows[0].calling_ae, "STORESCU");
    assert_int_equal(list.rows[0].received_at_us, 1700000000123456);
    assert_row_value(&list.rows[1], CAIRN_TAG_SOP_INSTANCE_UID, "1.2.3.1.1.1");
    free_listing(&list);

    /* Exact match of one SOP Instance UID, and a UID that matches nothing. */
    set_text(fx->api, filter, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.1.1.1");
    list_level(fx, &list, CAIRN_LEVEL_INSTANCE, filter);
    assert_int_equal(list.count, 1);
    free_listing(&list);
    set_text(fx->api, filter, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.1.1");
    list_level(fx, &list, CAIRN_LEVEL_INSTANCE, filter);
    assert_int_equal(list.count, 0);
    fx->api->dataset_destroy(filter);
}

static void test_list_stops_early(void **state)
{
    fixture *fx = *state;
    listing list;

    store_sample(fx);
    memset(&list, 0, sizeof(list));
    list.api = fx->api;
    list.stop_after = 1;
    assert_int_equal(fx->index->ops.list(fx->db, CAIRN_LEVEL_INSTANCE, NULL, collect_row, &list),
                     CAIRN_OK);
    assert_int_equal(list.count, 1);
    free_listing(&list);
}

static void test_duplicate_policies(void **state)
{
    fixture *fx = *state;
    instance_spec moved = sample[0];
    cairn_store_outcome outcome = CAIRN_STORE_STORED;
    char *replaced = NULL;
    cairn_dataset *filter;
    listing list;

    store_sample(fx);

    assert_int_equal(store(fx, &sample[0], "new/keep", CAIRN_DUPLICATE_KEEP, &outcome, &replaced),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_KEPT);
    assert_null(replaced);

    assert_int_equal(
        store(fx, &sample[0], "new/reject", CAIRN_DUPLICATE_REJECT, &outcome, &replaced),
        CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REJECTED);
    assert_null(replaced);
    assert_counts(fx, 2, 2, 3, 4);

    /* The replacement moves the instance to a new series of the same study. */
    moved.series_uid = "1.2.3.1.9";
    moved.modality = "US";
    moved.series_number = "9";
    assert_int_equal(store(fx, &moved, "new/replace", CAIRN_DUPLICATE_REPLACE, &outcome,
                           &replaced),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REPLACED);
    assert_non_null(replaced);
    assert_string_equal(replaced, "aa/bb/file0");
    fx->api->free(replaced);
    assert_counts(fx, 2, 2, 4, 4);

    filter = fx->api->dataset_create();
    set_text(fx->api, filter, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, sample[0].sop_uid);
    list_level(fx, &list, CAIRN_LEVEL_INSTANCE, filter);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.rows[0].path, "new/replace");
    assert_row_value(&list.rows[0], CAIRN_TAG_SERIES_INSTANCE_UID, "1.2.3.1.9");
    free_listing(&list);

    fx->api->dataset_destroy(filter);
    filter = fx->api->dataset_create();
    set_text(fx->api, filter, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.1");
    list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0008, 0x0061), "CT\\MR\\US");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1206), "3");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1208), "3");
    free_listing(&list);
    fx->api->dataset_destroy(filter);

    /* Replaced by a file at the same path: no file is left to delete. */
    replaced = NULL;
    assert_int_equal(store(fx, &moved, "new/replace", CAIRN_DUPLICATE_REPLACE, &outcome,
                           &replaced),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REPLACED);
    assert_null(replaced);
}

static void test_missing_uid_rejected(void **state)
{
    fixture *fx = *state;
    instance_spec spec = sample[0];
    cairn_store_outcome outcome = CAIRN_STORE_STORED;

    spec.series_uid = NULL;
    assert_int_equal(store(fx, &spec, "x", CAIRN_DUPLICATE_KEEP, &outcome, NULL),
                     CAIRN_ERR_INVALID_ARGUMENT);
    spec = sample[0];
    spec.study_uid = "1.2.abc";
    assert_int_equal(store(fx, &spec, "x", CAIRN_DUPLICATE_KEEP, &outcome, NULL),
                     CAIRN_ERR_INVALID_ARGUMENT);
    spec = sample[0];
    spec.sop_uid = NULL;
    assert_int_equal(store(fx, &spec, "x", CAIRN_DUPLICATE_KEEP, &outcome, NULL),
                     CAIRN_ERR_INVALID_ARGUMENT);
    assert_counts(fx, 0, 0, 0, 0);
}

static void test_unknown_patient(void **state)
{
    fixture *fx = *state;
    instance_spec first = sample[0];
    instance_spec second = sample[3];
    listing list;

    first.patient_id = NULL;
    first.patient_name = NULL;
    second.patient_id = NULL;
    store_ok(fx, &first, "a");
    store_ok(fx, &second, "b");

    /* Both land on the one patient with empty ID and issuer; the name fills in. */
    list_level(fx, &list, CAIRN_LEVEL_PATIENT, NULL);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "");
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_NAME, "Roe^Rick");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1200), "2");
    free_listing(&list);
}

static void test_remove_prunes_levels(void **state)
{
    fixture *fx = *state;
    listing list;

    store_sample(fx);

    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.1"), CAIRN_OK);
    assert_counts(fx, 2, 2, 3, 3);
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.1"), CAIRN_ERR_NOT_FOUND);

    /* The last instance of P2 takes its series, study and patient with it. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.2.1.1"), CAIRN_OK);
    assert_counts(fx, 1, 1, 2, 2);

    /* The MR series goes, and MR leaves Modalities in Study. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.2.1"), CAIRN_OK);
    list_level(fx, &list, CAIRN_LEVEL_STUDY, NULL);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0008, 0x0061), "CT");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0008, 0x0062), CT_IMAGE_STORAGE);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1206), "1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1208), "1");
    free_listing(&list);
    list_level(fx, &list, CAIRN_LEVEL_PATIENT, NULL);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1202), "1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1204), "1");
    free_listing(&list);

    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.2"), CAIRN_OK);
    assert_counts(fx, 0, 0, 0, 0);
}

/* Counts the instances of series_uid that query() returns. */
static int count_matching_instances(void *arg, const cairn_index_row *row)
{
    (void)row;
    (*(size_t *)arg)++;
    return 0;
}

static size_t query_instances(fixture *fx, const char *study_uid, const char *series_uid)
{
    cairn_dataset *keys = fx->api->dataset_create();
    cairn_index_query query = {
        .struct_size = sizeof(query),
        .level = CAIRN_LEVEL_INSTANCE,
        .keys = keys,
    };
    size_t matches = 0;

    set_text(fx->api, keys, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, study_uid);
    set_text(fx->api, keys, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, series_uid);
    set_text(fx->api, keys, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, "");
    assert_int_equal(fx->index->ops.query(fx->db, &query, count_matching_instances, &matches),
                     CAIRN_OK);
    fx->api->dataset_destroy(keys);
    return matches;
}

/* Number of Study Related Instances of the one study of patient P1. */
static void assert_study_instances(fixture *fx, const char *expected)
{
    listing list;

    list_level(fx, &list, CAIRN_LEVEL_STUDY, NULL);
    assert_true(list.count >= 1);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1208), expected);
    free_listing(&list);
}

static void test_reject_instances(void **state)
{
    fixture *fx = *state;
    const char *first[] = {"1.2.3.1.1.1", "9.9.9.1", "not a uid"};
    const char *again[] = {"1.2.3.1.1.1"};
    size_t marked = 99;

    store_sample(fx);
    assert_int_equal(query_instances(fx, "1.2.3.1", "1.2.3.1.1"), 2);

    /* The held instance is marked; the unknown UID waits for its instance. */
    assert_int_equal(fx->index->ops.reject_instances(fx->db, first, 3, "113001", &marked),
                     CAIRN_OK);
    assert_int_equal(marked, 1);
    assert_int_equal(query_instances(fx, "1.2.3.1", "1.2.3.1.1"), 1);
    assert_study_instances(fx, "2");

    /* A second note over the same instance changes nothing. */
    assert_int_equal(fx->index->ops.reject_instances(fx->db, again, 1, "113037", &marked),
                     CAIRN_OK);
    assert_int_equal(marked, 0);
    assert_study_instances(fx, "2");

    /* An instance named before it arrives is hidden as it arrives. */
    instance_spec late = sample[1];
    late.sop_uid = "9.9.9.1";
    store_ok(fx, &late, "aa/bb/late");
    assert_int_equal(query_instances(fx, "1.2.3.1", "1.2.3.1.1"), 1);
    assert_study_instances(fx, "2");

    /* Sent again under "replace", a rejected instance stays rejected. */
    cairn_store_outcome outcome = CAIRN_STORE_STORED;
    assert_int_equal(store(fx, &sample[0], "aa/bb/again", CAIRN_DUPLICATE_REPLACE, &outcome,
                           NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_REPLACED);
    assert_int_equal(query_instances(fx, "1.2.3.1", "1.2.3.1.1"), 1);
    assert_study_instances(fx, "2");

    /* Removing a rejected instance leaves the counts as they are. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.1"), CAIRN_OK);
    assert_study_instances(fx, "2");
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.3.1.1.2"), CAIRN_OK);
    assert_study_instances(fx, "1");

    assert_int_equal(fx->index->ops.reject_instances(fx->db, first, 1, "", NULL),
                     CAIRN_ERR_INVALID_ARGUMENT);
}

static void test_rows_persist_after_reopen(void **state)
{
    fixture *fx = *state;
    listing list;

    store_sample(fx);
    close_index(fx);
    open_index(fx);

    assert_counts(fx, 2, 2, 3, 4);
    list_level(fx, &list, CAIRN_LEVEL_INSTANCE, NULL);
    assert_int_equal(list.count, 4);
    /* Patient P1, then the MR series (Series Number 1) of study 1.2.3.1. */
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_ID, "P1");
    assert_string_equal(list.rows[0].path, "aa/bb/file2");
    assert_string_equal(list.rows[3].path, "aa/bb/file3");
    free_listing(&list);
}

static void test_latin1_name_listed_as_utf8(void **state)
{
    fixture *fx = *state;
    instance_spec spec = sample[0];
    cairn_dataset *filter;
    listing list;

    spec.charset = "ISO_IR 100";
    spec.patient_name = "M\xFCller^J\xFCrgen";
    store_ok(fx, &spec, "latin1");

    list_level(fx, &list, CAIRN_LEVEL_PATIENT, NULL);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_NAME, "M\xC3\xBCller^J\xC3\xBCrgen");
    assert_row_value(&list.rows[0], CAIRN_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192");
    free_listing(&list);

    /* A Latin-1 filter matches the UTF-8 value. */
    filter = fx->api->dataset_create();
    set_text(fx->api, filter, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS, "ISO_IR 100");
    set_text(fx->api, filter, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, "M\xFCller^J\xFCrgen");
    list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
    assert_int_equal(list.count, 1);
    free_listing(&list);
    fx->api->dataset_destroy(filter);
}

/* A file of pydicom's test data, its Patient ID and its name in UTF-8. */
typedef struct charset_file {
    const char *name;
    const char *patient_id;
    const char *patient_name_utf8;
} charset_file;

static void test_charset_files_listed_as_utf8(void **state)
{
    static const charset_file files[] = {
        {"chrFren.dcm", "SCSFREN", "Buc^J\xC3\xA9r\xC3\xB4me"},
        {"chrRuss.dcm", "SCSRUSS", "\xD0\x9B\xD1\x8E\xD0\xBA" "ce\xD0\xBC\xD0\xB1yp\xD0\xB3"},
    };
    fixture *fx = *state;
    char path[256];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        dcm_read_options options = {.stop_at = 0x7FE00010u};
        dcm_dataset *dataset = NULL;
        cairn_instance_file file = {
            .struct_size = sizeof(file),
            .path = files[i].name,
            .transfer_syntax_uid = EXPLICIT_VR_LE,
            .calling_ae = "PYDICOM",
        };
        cairn_store_outcome outcome = CAIRN_STORE_REJECTED;
        cairn_dataset *filter;
        listing list;

        snprintf(path, sizeof(path), "%s/%s", PYDICOM_CHARSET_DIR, files[i].name);
        if (access(path, R_OK) != 0)
            skip();
        assert_int_equal(dcm_file_read(path, &options, NULL, &dataset, NULL, NULL), DCM_OK);
        assert_int_equal(fx->index->ops.store_instance(fx->db, (const cairn_dataset *)dataset,
                                                       &file, CAIRN_DUPLICATE_KEEP, &outcome,
                                                       NULL),
                         CAIRN_OK);
        assert_int_equal(outcome, CAIRN_STORE_STORED);
        dcm_dataset_destroy(dataset);

        filter = fx->api->dataset_create();
        set_text(fx->api, filter, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, files[i].patient_id);
        list_level(fx, &list, CAIRN_LEVEL_STUDY, filter);
        assert_int_equal(list.count, 1);
        assert_row_value(&list.rows[0], CAIRN_TAG_PATIENT_NAME, files[i].patient_name_utf8);
        free_listing(&list);
        fx->api->dataset_destroy(filter);
    }
}

/* Arguments of one storing thread. */
typedef struct store_thread {
    fixture *fx;
    int thread;
    int failures;
} store_thread;

static void *store_many(void *arg)
{
    store_thread *job = arg;
    char sop_uid[64];
    char series_uid[64];
    char patient_id[16];
    char number[16];
    char path[64];

    for (int i = 0; i < STORES_PER_THREAD; i++) {
        /* Ten patients, one study each, one series per thread and patient. */
        int patient = i % 10;
        char study_uid[64];
        instance_spec spec = {
            .patient_name = "Load^Test",
            .study_date = "20240101",
            .modality = "OT",
            .sop_class = CT_IMAGE_STORAGE,
        };
        cairn_store_outcome outcome = CAIRN_STORE_REJECTED;

        snprintf(patient_id, sizeof(patient_id), "LOAD%d", patient);
        snprintf(study_uid, sizeof(study_uid), "1.2.9.%d", patient);
        snprintf(series_uid, sizeof(series_uid), "1.2.9.%d.%d", patient, job->thread);
        snprintf(sop_uid, sizeof(sop_uid), "1.2.9.%d.%d.%d", patient, job->thread, i);
        snprintf(number, sizeof(number), "%d", i);
        snprintf(path, sizeof(path), "load/%d/%d", job->thread, i);
        spec.patient_id = patient_id;
        spec.study_uid = study_uid;
        spec.series_uid = series_uid;
        spec.sop_uid = sop_uid;
        spec.instance_number = number;
        spec.series_number = "1";

        if (store(job->fx, &spec, path, CAIRN_DUPLICATE_REJECT, &outcome, NULL) != CAIRN_OK ||
            outcome != CAIRN_STORE_STORED)
            job->failures++;

        /* A failing change shares transactions with the stores and must fail alone. */
        if (i % 25 == 0 &&
            job->fx->index->ops.remove_instance(job->fx->db, "1.2.9.99") != CAIRN_ERR_NOT_FOUND)
            job->failures++;
    }
    return NULL;
}

/* Stores THREADS x STORES_PER_THREAD instances at once; returns stores per second. */
static double store_concurrently(fixture *fx)
{
    pthread_t threads[THREADS];
    store_thread jobs[THREADS];
    struct timespec start, end;
    double seconds;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (store_thread){.fx = fx, .thread = t};
        assert_int_equal(pthread_create(&threads[t], NULL, store_many, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &end);

    for (int t = 0; t < THREADS; t++)
        assert_int_equal(jobs[t].failures, 0);
    seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    return THREADS * STORES_PER_THREAD / seconds;
}

static void check_concurrent_counts(fixture *fx)
{
    cairn_dataset *filter = fx->api->dataset_create();
    listing list;

    assert_counts(fx, 10, 10, 10 * THREADS, THREADS * STORES_PER_THREAD);

    set_text(fx->api, filter, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, "LOAD3");
    list_level(fx, &list, CAIRN_LEVEL_PATIENT, filter);
    assert_int_equal(list.count, 1);
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1200), "1");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1202), "8");
    assert_row_value(&list.rows[0], CAIRN_TAG(0x0020, 0x1204), "200");
    free_listing(&list);
    fx->api->dataset_destroy(filter);
}

static void test_concurrent_group_commit(void **state)
{
    fixture *fx = *state;
    double rate = store_concurrently(fx);

    print_message("index-sqlite: %d threads x %d stores, group commit: %.0f stores/s\n",
                  THREADS, STORES_PER_THREAD, rate);
    check_concurrent_counts(fx);
}

static int setup_single_commit(void **state)
{
    fixture *fx = make_fixture("path = \"index.sqlite\"; max_batch = 1;");

    open_index(fx);
    *state = fx;
    return 0;
}

static void test_concurrent_single_commit(void **state)
{
    fixture *fx = *state;
    double rate = store_concurrently(fx);

    print_message("index-sqlite: %d threads x %d stores, one commit each: %.0f stores/s\n",
                  THREADS, STORES_PER_THREAD, rate);
    check_concurrent_counts(fx);
}

/* Sets PRAGMA user_version, a big-endian 32-bit field at offset 60 of the header. */
static void set_user_version(const char *path, uint32_t version)
{
    unsigned char bytes[4] = {
        (unsigned char)(version >> 24), (unsigned char)(version >> 16),
        (unsigned char)(version >> 8), (unsigned char)version,
    };
    int fd = open(path, O_WRONLY);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, sizeof(bytes), 60), (ssize_t)sizeof(bytes));
    assert_int_equal(close(fd), 0);
}

static void test_newer_schema_rejected(void **state)
{
    fixture *fx = *state;
    char path[128];
    void *db = NULL;
    char storage[128];

    store_sample(fx);
    close_index(fx);

    snprintf(path, sizeof(path), "%s/index.sqlite", fx->dir);
    set_user_version(path, 999);

    snprintf(storage, sizeof(storage), "%s/storage", fx->dir);
    assert_int_equal(fx->index->ops.open(fx->index->backend_state, storage, &db),
                     CAIRN_ERR_UNSUPPORTED);
    assert_null(db);
}

static void test_default_path_in_storage(void **state)
{
    fixture *fx = make_fixture("");
    char path[160];
    struct stat info;

    open_index(fx);
    store_ok(fx, &sample[0], "x");
    snprintf(path, sizeof(path), "%s/storage/index.sqlite", fx->dir);
    assert_int_equal(stat(path, &info), 0);

    close_index(fx);
    remove(path);
    *state = fx;
}

static void test_unknown_setting_rejected(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-index-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    *state = fx;

    assert_int_equal(load_plugin(fx, "colour = \"blue\";"), -1);
    assert_null(fx->registry);
}

static void test_bad_synchronous_rejected(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-index-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    *state = fx;

    assert_int_equal(load_plugin(fx, "synchronous = \"off\";"), -1);
    assert_null(fx->registry);
}

static int teardown_loader(void **state)
{
    fixture *fx = *state;

    if (fx == NULL)
        return 0;
    return teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_per_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patient_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_study_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_stops_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_uid_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_patient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_prunes_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_persist_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latin1_name_listed_as_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_charset_files_listed_as_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_single_commit, setup_single_commit,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_rejected, setup, teardown),
        cmocka_unit_test_teardown(test_default_path_in_storage, teardown_loader),
        cmocka_unit_test_teardown(test_unknown_setting_rejected, teardown_loader),
        cmocka_unit_test_teardown(test_bad_synchronous_rejected, teardown_loader),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
