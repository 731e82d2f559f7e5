/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of sequence matching (PS3.4 C.2.2.2.6) in the index-sqlite plugin,
 * loaded for real through the core's plugin registry: instances with known
 * sequences at each level are stored, then C-FIND identifiers with
 * sequence keys check which rows match and which stored items each row
 * carries back (only the matching ones, or all of them for an empty
 * sequence key), nested sequence keys, ranges, UID lists, wildcards and
 * names inside items, relational keys, removal, the max_matches limit,
 * and a study that keeps the first sequence it received.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "plugin/plugin.h"

#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define EXPLICIT_VR_LE "1.2.840.10008.1.2.1"

#define TAG_CODE_VALUE CAIRN_TAG(0x0008, 0x0100)
#define TAG_CODING_SCHEME CAIRN_TAG(0x0008, 0x0102)
#define TAG_CODE_MEANING CAIRN_TAG(0x0008, 0x0104)
#define TAG_PROCEDURE_CODE_SEQ CAIRN_TAG(0x0008, 0x1032)
#define TAG_REF_STUDY_SEQ CAIRN_TAG(0x0008, 0x1110)
#define TAG_REF_SOP_CLASS CAIRN_TAG(0x0008, 0x1150)
#define TAG_REF_SOP_INSTANCE CAIRN_TAG(0x0008, 0x1155)
#define TAG_OTHER_PATIENT_IDS_SEQ CAIRN_TAG(0x0010, 0x1002)
#define TAG_REQUEST_ATTRIBUTES_SEQ CAIRN_TAG(0x0040, 0x0275)
#define TAG_REQUESTED_PROCEDURE_ID CAIRN_TAG(0x0040, 0x1001)
#define TAG_SPS_START_DATE CAIRN_TAG(0x0040, 0x0002)
#define TAG_REQUESTING_PHYSICIAN CAIRN_TAG(0x0032, 0x1032)
#define TAG_PROTOCOL_CODE_SEQ CAIRN_TAG(0x0040, 0x0008)
#define TAG_CONCEPT_NAME_CODE_SEQ CAIRN_TAG(0x0040, 0xA043)

typedef struct fixture {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    const plugin_index *index;
    const cairn_host_api *api;
    void *db;
} fixture;

/* One code item: value, scheme, meaning (NULL leaves it out). */
typedef struct code {
    const char *value;
    const char *scheme;
    const char *meaning;
} code;

/* One instance with the sequences of the tests. */
typedef struct spec {
    const char *patient_id;
    const char *study_uid;
    const char *series_uid;
    const char *sop_uid;
    code procedures[2];
    const char *referenced_study;
    const char *other_patient_id;
    const char *requested_procedure;
    const char *sps_date;
    const char *requesting;
    const char *protocol;
    const char *concept;
} spec;

static const spec archive[] = {
    {"P1", "1.2.9.1", "1.2.9.1.1", "1.2.9.1.1.1",
     {{"CT-HEAD", "LN", "CT Head"}, {"CT-NECK", "LN", "CT Neck with contrast"}},
     "1.2.9.99", NULL, "RP1", "20230310", "Smith^John", "PROT1", "11528-7"},
    {"P2", "1.2.9.2", "1.2.9.2.1", "1.2.9.2.1.1", {{"MR-KNEE", "LN", NULL}, {NULL, NULL, NULL}},
     NULL, "ALT-9", "RP2", "20240105", "Jones^Ann", "PROT2", NULL},
    {"P3", "1.2.9.3", "1.2.9.3.1", "1.2.9.3.1.1", {{NULL, NULL, NULL}, {NULL, NULL, NULL}},
     NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

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
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-seq-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(storage, sizeof(storage), "%s/storage", fx->dir);
    assert_int_equal(mkdir(storage, 0700), 0);

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

static cairn_dataset *add_item(const cairn_host_api *api, cairn_dataset *dataset, cairn_tag tag)
{
    cairn_dataset *item = api->dataset_append_item(dataset, tag);

    assert_non_null(item);
    return item;
}

static void add_code(const cairn_host_api *api, cairn_dataset *dataset, cairn_tag tag,
                     const code *c)
{
    cairn_dataset *item = add_item(api, dataset, tag);

    set_text(api, item, TAG_CODE_VALUE, CAIRN_VR_SH, c->value);
    set_text(api, item, TAG_CODING_SCHEME, CAIRN_VR_SH, c->scheme);
    set_text(api, item, TAG_CODE_MEANING, CAIRN_VR_LO, c->meaning);
}

static void store(fixture *fx, const spec *s)
{
    const cairn_host_api *api = fx->api;
    cairn_dataset *dataset = api->dataset_create();
    cairn_instance_file file = {
        .struct_size = sizeof(file),
        .path = s->sop_uid,
        .size = 100,
        .transfer_syntax_uid = EXPLICIT_VR_LE,
        .calling_ae = "TEST",
    };
    cairn_store_outcome outcome = CAIRN_STORE_REJECTED;
    cairn_dataset *item;

    assert_non_null(dataset);
    set_text(api, dataset, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, s->patient_id);
    set_text(api, dataset, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, s->study_uid);
    set_text(api, dataset, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, s->series_uid);
    set_text(api, dataset, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, s->sop_uid);
    set_text(api, dataset, CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, CT_IMAGE_STORAGE);
    for (size_t c = 0; c < 2 && s->procedures[c].value != NULL; c++)
        add_code(api, dataset, TAG_PROCEDURE_CODE_SEQ, &s->procedures[c]);
    if (s->referenced_study != NULL) {
        item = add_item(api, dataset, TAG_REF_STUDY_SEQ);
        set_text(api, item, TAG_REF_SOP_CLASS, CAIRN_VR_UI, "1.2.840.10008.3.1.2.3.1");
        set_text(api, item, TAG_REF_SOP_INSTANCE, CAIRN_VR_UI, s->referenced_study);
    }
    if (s->other_patient_id != NULL) {
        item = add_item(api, dataset, TAG_OTHER_PATIENT_IDS_SEQ);
        set_text(api, item, CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, s->other_patient_id);
        set_text(api, item, CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_VR_LO, "HOSP");
    }
    if (s->requested_procedure != NULL) {
        const code protocol = {s->protocol, "99X", NULL};

        item = add_item(api, dataset, TAG_REQUEST_ATTRIBUTES_SEQ);
        set_text(api, item, TAG_REQUESTED_PROCEDURE_ID, CAIRN_VR_SH, s->requested_procedure);
        set_text(api, item, TAG_SPS_START_DATE, CAIRN_VR_DA, s->sps_date);
        set_text(api, item, TAG_REQUESTING_PHYSICIAN, CAIRN_VR_PN, s->requesting);
        add_code(api, item, TAG_PROTOCOL_CODE_SEQ, &protocol);
    }
    if (s->concept != NULL) {
        const code concept = {s->concept, "LN", "Radiology Report"};

        add_code(api, dataset, TAG_CONCEPT_NAME_CODE_SEQ, &concept);
    }

    assert_int_equal(fx->index->ops.store_instance(fx->db, dataset, &file, CAIRN_DUPLICATE_KEEP,
                                                   &outcome, NULL),
                     CAIRN_OK);
    assert_int_equal(outcome, CAIRN_STORE_STORED);
    api->dataset_destroy(dataset);
}

static void store_archive(fixture *fx)
{
    for (size_t i = 0; i < sizeof(archive) / sizeof(archive[0]); i++)
        store(fx, &archive[i]);
}

/* The rows of one query: unique keys, and the Code Values of one sequence per row. */
typedef struct result {
    const cairn_host_api *api;
    cairn_tag unique;
    cairn_tag seq;
    size_t count;
    char text[512]; /* "UID[code code],UID[...]" */
} result;

static void append(result *res, const char *text)
{
    strncat(res->text, text, sizeof(res->text) - strlen(res->text) - 1);
}

static int collect(void *arg, const cairn_index_row *row)
{
    result *res = arg;
    const cairn_host_api *api = res->api;
    const cairn_element *seq;
    char *value = NULL;

    if (res->count++ > 0)
        append(res, ",");
    assert_int_equal(api->dataset_get_utf8(row->attributes, res->unique, &value), CAIRN_OK);
    append(res, value);
    api->free(value);

    seq = res->seq != 0 ? api->dataset_find(row->attributes, res->seq) : NULL;
    if (seq == NULL)
        return 0;
    assert_int_equal(api->element_vr(seq), CAIRN_VR_SQ);
    append(res, "[");
    for (size_t i = 0; i < api->element_item_count(seq); i++) {
        const cairn_dataset *item = api->element_item(seq, i);

        value = NULL;
        if (i > 0)
            append(res, " ");
        if (api->dataset_get_utf8(item, TAG_CODE_VALUE, &value) == CAIRN_OK && value != NULL)
            append(res, value);
        else if (api->dataset_get_utf8(item, TAG_REF_SOP_INSTANCE, &value) == CAIRN_OK &&
                 value != NULL)
            append(res, value);
        else if (api->dataset_get_utf8(item, TAG_REQUESTED_PROCEDURE_ID, &value) == CAIRN_OK &&
                 value != NULL)
            append(res, value);
        else
            append(res, "?");
        api->free(value);
    }
    append(res, "]");
    return 0;
}

static cairn_status run(fixture *fx, cairn_index_level level, uint32_t flags, uint64_t max,
                        const cairn_dataset *keys, cairn_tag seq, result *res)
{
    static const cairn_tag uniques[] = {
        [CAIRN_LEVEL_PATIENT] = CAIRN_TAG_PATIENT_ID,
        [CAIRN_LEVEL_STUDY] = CAIRN_TAG_STUDY_INSTANCE_UID,
        [CAIRN_LEVEL_SERIES] = CAIRN_TAG_SERIES_INSTANCE_UID,
        [CAIRN_LEVEL_INSTANCE] = CAIRN_TAG_SOP_INSTANCE_UID,
    };
    cairn_index_query query = {
        .struct_size = sizeof(query),
        .level = level,
        .keys = keys,
        .flags = flags,
        .max_matches = max,
    };

    memset(res, 0, sizeof(*res));
    res->api = fx->api;
    res->unique = uniques[level];
    res->seq = seq;
    return fx->index->ops.query(fx->db, &query, collect, res);
}

/* A key data set with one sequence key whose item contains the given text keys. */
typedef struct item_key {
    cairn_tag tag;
    cairn_vr vr;
    const char *value;
} item_key;

static cairn_dataset *seq_keys(fixture *fx, cairn_tag seq, const item_key *keys, size_t count)
{
    cairn_dataset *dataset = fx->api->dataset_create();
    cairn_dataset *item;

    assert_non_null(dataset);
    if (count == (size_t)-1) {
        assert_int_equal(fx->api->dataset_set_empty_sequence(dataset, seq), CAIRN_OK);
        return dataset;
    }
    item = add_item(fx->api, dataset, seq);
    for (size_t k = 0; k < count; k++)
        set_text(fx->api, item, keys[k].tag, keys[k].vr, keys[k].value);
    return dataset;
}

/* Runs one sequence key at level and checks the rows and their items. */
static void expect(fixture *fx, cairn_index_level level, cairn_tag seq, const item_key *keys,
                   size_t count, const char *expected)
{
    cairn_dataset *dataset = seq_keys(fx, seq, keys, count);
    result res;

    assert_int_equal(run(fx, level, 0, 0, dataset, seq, &res), CAIRN_OK);
    if (strcmp(res.text, expected) != 0)
        fail_msg("sequence (%04X,%04X) key %s: rows \"%s\", expected \"%s\"",
                 CAIRN_TAG_GROUP(seq), CAIRN_TAG_ELEMENT(seq),
                 count > 0 && count != (size_t)-1 && keys[0].value != NULL ? keys[0].value
                                                                           : "(none)",
                 res.text, expected);
    fx->api->dataset_destroy(dataset);
}

/* ---- tests ---- */

static void test_code_items(void **state)
{
    fixture *fx = *state;
    const item_key head[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-HEAD"}};
    const item_key ct[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-*"}};
    const item_key none[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "XR-CHEST"}};
    const item_key both[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-HEAD"},
                             {TAG_CODING_SCHEME, CAIRN_VR_SH, "LN"}};
    const item_key across[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-HEAD"},
                               {TAG_CODE_MEANING, CAIRN_VR_LO, "CT Neck*"}};
    const item_key meaning[] = {{TAG_CODE_MEANING, CAIRN_VR_LO, "?T Neck*"}};
    const item_key absent[] = {{TAG_CODE_MEANING, CAIRN_VR_LO, "\"\""}};
    const item_key universal[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "*"}};
    const item_key list[] = {{TAG_REF_SOP_INSTANCE, CAIRN_VR_UI, "1.2.9.98\\1.2.9.99"}};

    store_archive(fx);
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, head, 1, "1.2.9.1[CT-HEAD]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, ct, 1, "1.2.9.1[CT-HEAD CT-NECK]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, none, 1, "");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, both, 2, "1.2.9.1[CT-HEAD]");
    /* Every item key has to match within one item. */
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, across, 2, "");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, meaning, 1, "1.2.9.1[CT-NECK]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, absent, 1, "1.2.9.2[MR-KNEE]");
    /* Without matching item keys: every row, with every stored item. */
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, universal, 1,
           "1.2.9.1[CT-HEAD CT-NECK],1.2.9.2[MR-KNEE],1.2.9.3[]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, NULL, 0,
           "1.2.9.1[CT-HEAD CT-NECK],1.2.9.2[MR-KNEE],1.2.9.3[]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, NULL, (size_t)-1,
           "1.2.9.1[CT-HEAD CT-NECK],1.2.9.2[MR-KNEE],1.2.9.3[]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_REF_STUDY_SEQ, list, 1, "1.2.9.1[1.2.9.99]");
}

static void test_levels_and_nesting(void **state)
{
    fixture *fx = *state;
    const item_key alt[] = {{CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, "ALT-9"}};
    const item_key alt_case[] = {{CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, "alt-9"}};
    const item_key after[] = {{TAG_SPS_START_DATE, CAIRN_VR_DA, "20240101-"}};
    const item_key before[] = {{TAG_SPS_START_DATE, CAIRN_VR_DA, "-20231231"}};
    const item_key day[] = {{TAG_SPS_START_DATE, CAIRN_VR_DA, "20240105"}};
    const item_key name[] = {{TAG_REQUESTING_PHYSICIAN, CAIRN_VR_PN, "smith*"}};
    const item_key name_case[] = {{TAG_REQUESTING_PHYSICIAN, CAIRN_VR_PN, "Smith*"}};
    const item_key concept[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "11528-7"}};
    const cairn_host_api *api = fx->api;
    cairn_dataset *keys;
    cairn_dataset *item;
    result res;

    store_archive(fx);
    expect(fx, CAIRN_LEVEL_PATIENT, TAG_OTHER_PATIENT_IDS_SEQ, alt, 1, "P2[?]");
    expect(fx, CAIRN_LEVEL_PATIENT, TAG_OTHER_PATIENT_IDS_SEQ, alt_case, 1, "");
    expect(fx, CAIRN_LEVEL_SERIES, TAG_REQUEST_ATTRIBUTES_SEQ, after, 1, "1.2.9.2.1[RP2]");
    expect(fx, CAIRN_LEVEL_SERIES, TAG_REQUEST_ATTRIBUTES_SEQ, before, 1, "1.2.9.1.1[RP1]");
    expect(fx, CAIRN_LEVEL_SERIES, TAG_REQUEST_ATTRIBUTES_SEQ, day, 1, "1.2.9.2.1[RP2]");
    expect(fx, CAIRN_LEVEL_SERIES, TAG_REQUEST_ATTRIBUTES_SEQ, name, 1, "1.2.9.1.1[RP1]");
    expect(fx, CAIRN_LEVEL_INSTANCE, TAG_CONCEPT_NAME_CODE_SEQ, concept, 1,
           "1.2.9.1.1.1[11528-7]");

    /* With case-sensitive names, only the stored case matches. */
    keys = seq_keys(fx, TAG_REQUEST_ATTRIBUTES_SEQ, name, 1);
    assert_int_equal(run(fx, CAIRN_LEVEL_SERIES, CAIRN_QUERY_PN_CASE_SENSITIVE, 0, keys, 0, &res),
                     CAIRN_OK);
    assert_string_equal(res.text, "");
    api->dataset_destroy(keys);
    keys = seq_keys(fx, TAG_REQUEST_ATTRIBUTES_SEQ, name_case, 1);
    assert_int_equal(run(fx, CAIRN_LEVEL_SERIES, CAIRN_QUERY_PN_CASE_SENSITIVE, 0, keys, 0, &res),
                     CAIRN_OK);
    assert_string_equal(res.text, "1.2.9.1.1");
    api->dataset_destroy(keys);

    /* A nested sequence key: Scheduled Protocol Code Sequence in the request item. */
    keys = api->dataset_create();
    item = add_item(api, keys, TAG_REQUEST_ATTRIBUTES_SEQ);
    item = add_item(api, item, TAG_PROTOCOL_CODE_SEQ);
    set_text(api, item, TAG_CODE_VALUE, CAIRN_VR_SH, "PROT2");
    assert_int_equal(run(fx, CAIRN_LEVEL_SERIES, 0, 0, keys, TAG_REQUEST_ATTRIBUTES_SEQ, &res),
                     CAIRN_OK);
    assert_string_equal(res.text, "1.2.9.2.1[RP2]");
    api->dataset_destroy(keys);

    /* A relational study query on an instance-level sequence key. */
    keys = seq_keys(fx, TAG_CONCEPT_NAME_CODE_SEQ, concept, 1);
    assert_int_equal(run(fx, CAIRN_LEVEL_STUDY, CAIRN_QUERY_RELATIONAL, 0, keys, 0, &res),
                     CAIRN_OK);
    assert_string_equal(res.text, "1.2.9.1");
    api->dataset_destroy(keys);
}

static void test_limit_and_removal(void **state)
{
    fixture *fx = *state;
    const item_key ct[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-*"}};
    const item_key knee[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "MR-KNEE"}};
    const item_key bad[] = {{TAG_SPS_START_DATE, CAIRN_VR_DA, "2024-13-01"}};
    cairn_dataset *keys;
    result res;

    store_archive(fx);

    /* max_matches counts the rows that match the sequence key. */
    keys = seq_keys(fx, TAG_PROCEDURE_CODE_SEQ, ct, 1);
    assert_int_equal(run(fx, CAIRN_LEVEL_STUDY, 0, 1, keys, TAG_PROCEDURE_CODE_SEQ, &res),
                     CAIRN_OK);
    assert_int_equal(res.count, 1);
    fx->api->dataset_destroy(keys);
    keys = seq_keys(fx, TAG_PROCEDURE_CODE_SEQ, NULL, 0);
    assert_int_equal(run(fx, CAIRN_LEVEL_STUDY, 0, 2, keys, TAG_PROCEDURE_CODE_SEQ, &res),
                     CAIRN_ERR_LIMIT);
    fx->api->dataset_destroy(keys);

    keys = seq_keys(fx, TAG_REQUEST_ATTRIBUTES_SEQ, bad, 1);
    assert_int_equal(run(fx, CAIRN_LEVEL_SERIES, 0, 0, keys, 0, &res),
                     CAIRN_ERR_INVALID_ARGUMENT);
    fx->api->dataset_destroy(keys);

    /* Removing the only instance of a study removes its items. */
    assert_int_equal(fx->index->ops.remove_instance(fx->db, "1.2.9.2.1.1"), CAIRN_OK);
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, knee, 1, "");
    store(fx, &archive[1]);
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, knee, 1, "1.2.9.2[MR-KNEE]");
}

static void test_study_keeps_first_sequence(void **state)
{
    fixture *fx = *state;
    const spec later = {"P1", "1.2.9.1", "1.2.9.1.2", "1.2.9.1.2.1",
                        {{"XR-FOOT", "LN", "XR Foot"}, {NULL, NULL, NULL}},
                        NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    const item_key head[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "CT-HEAD"}};
    const item_key foot[] = {{TAG_CODE_VALUE, CAIRN_VR_SH, "XR-FOOT"}};

    store_archive(fx);
    store(fx, &later);
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, head, 1, "1.2.9.1[CT-HEAD]");
    expect(fx, CAIRN_LEVEL_STUDY, TAG_PROCEDURE_CODE_SEQ, foot, 1, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_code_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_and_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_study_keeps_first_sequence, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
