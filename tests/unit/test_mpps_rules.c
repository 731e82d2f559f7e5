/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the MPPS SCP's validation rules (plugins/router/mpps_rules.c,
 * compiled into this test) on data sets built with the host API: the
 * required attributes of N-CREATE, the status and value checks, what an
 * N-SET may change, the final state requirements and the merge of an
 * N-SET into the kept step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "plugin/plugin.h"

#include "../../plugins/router/mpps_rules.c"

#define TAG_MODALITY_ CAIRN_TAG(0x0008, 0x0060)
#define TAG_PATIENT_NAME_ CAIRN_TAG(0x0010, 0x0010)
#define TAG_PPS_DESCRIPTION CAIRN_TAG(0x0040, 0x0254)

static const cairn_host_api *api;

static mpps_rules rules(bool check_type2)
{
    return (mpps_rules){.api = plugin_host_api(), .check_type2 = check_type2};
}

static void set(cairn_dataset *ds, cairn_tag tag, cairn_vr vr, const char *value)
{
    assert_int_equal(api->dataset_set_string(ds, tag, vr, value), CAIRN_OK);
}

static void empty_sequence(cairn_dataset *ds, cairn_tag tag)
{
    assert_int_equal(api->dataset_set_empty_sequence(ds, tag), CAIRN_OK);
}

/* A complete N-CREATE data set with status IN PROGRESS. */
static cairn_dataset *valid_create(void)
{
    cairn_dataset *ds = api->dataset_create();
    cairn_dataset *item;

    assert_non_null(ds);
    item = api->dataset_append_item(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    assert_non_null(item);
    set(item, TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.4");
    empty_sequence(item, CAIRN_TAG(0x0008, 0x1110));
    set(item, CAIRN_TAG(0x0008, 0x0050), CAIRN_VR_SH, "ACC");
    set(item, CAIRN_TAG(0x0040, 0x1001), CAIRN_VR_SH, "");
    set(item, CAIRN_TAG(0x0032, 0x1060), CAIRN_VR_LO, "");
    set(item, CAIRN_TAG(0x0040, 0x0009), CAIRN_VR_SH, "");
    set(item, CAIRN_TAG(0x0040, 0x0007), CAIRN_VR_LO, "");
    empty_sequence(item, CAIRN_TAG(0x0040, 0x0008));

    set(ds, TAG_PATIENT_NAME_, CAIRN_VR_PN, "Doe^Jane");
    set(ds, CAIRN_TAG(0x0010, 0x0020), CAIRN_VR_LO, "PID");
    set(ds, CAIRN_TAG(0x0010, 0x0030), CAIRN_VR_DA, "");
    set(ds, CAIRN_TAG(0x0010, 0x0040), CAIRN_VR_CS, "");
    empty_sequence(ds, CAIRN_TAG(0x0008, 0x1120));
    set(ds, TAG_PPS_ID, CAIRN_VR_SH, "PPS1");
    set(ds, CAIRN_TAG(0x0040, 0x0241), CAIRN_VR_AE, "MODALITY");
    set(ds, CAIRN_TAG(0x0040, 0x0242), CAIRN_VR_SH, "");
    set(ds, CAIRN_TAG(0x0040, 0x0243), CAIRN_VR_SH, "");
    set(ds, TAG_PPS_START_DATE, CAIRN_VR_DA, "20261205");
    set(ds, TAG_PPS_START_TIME, CAIRN_VR_TM, "101500.25");
    set(ds, TAG_PPS_STATUS, CAIRN_VR_CS, "IN PROGRESS");
    set(ds, TAG_PPS_DESCRIPTION, CAIRN_VR_LO, "");
    set(ds, CAIRN_TAG(0x0040, 0x0255), CAIRN_VR_LO, "");
    empty_sequence(ds, CAIRN_TAG(0x0008, 0x1032));
    set(ds, TAG_PPS_END_DATE, CAIRN_VR_DA, "");
    set(ds, TAG_PPS_END_TIME, CAIRN_VR_TM, "");
    set(ds, TAG_MODALITY_, CAIRN_VR_CS, "CT");
    set(ds, CAIRN_TAG(0x0020, 0x0010), CAIRN_VR_SH, "");
    empty_sequence(ds, CAIRN_TAG(0x0040, 0x0260));
    empty_sequence(ds, TAG_PERFORMED_SERIES_SEQUENCE);
    return ds;
}

/* Adds one Performed Series Sequence item with one image reference to ds. */
static void add_series(cairn_dataset *ds, const char *series_uid, const char *sop_uid)
{
    cairn_dataset *series = api->dataset_append_item(ds, TAG_PERFORMED_SERIES_SEQUENCE);
    cairn_dataset *ref;

    assert_non_null(series);
    set(series, CAIRN_TAG(0x0018, 0x1030), CAIRN_VR_LO, "Chest");
    set(series, TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, series_uid);
    set(series, CAIRN_TAG(0x0008, 0x1050), CAIRN_VR_PN, "");
    set(series, CAIRN_TAG(0x0008, 0x1070), CAIRN_VR_PN, "");
    set(series, CAIRN_TAG(0x0008, 0x103E), CAIRN_VR_LO, "");
    set(series, CAIRN_TAG(0x0008, 0x0054), CAIRN_VR_AE, "");
    empty_sequence(series, TAG_REFERENCED_NON_IMAGE_SEQUENCE);
    ref = api->dataset_append_item(series, TAG_REFERENCED_IMAGE_SEQUENCE);
    assert_non_null(ref);
    set(ref, TAG_REFERENCED_SOP_CLASS_UID, CAIRN_VR_UI, "1.2.840.10008.5.1.4.1.1.7");
    set(ref, TAG_REFERENCED_SOP_INSTANCE_UID, CAIRN_VR_UI, sop_uid);
}

static void test_uid_syntax(void **state)
{
    (void)state;
    assert_true(mpps_valid_uid("1.2.840.10008.3.1.2.3.3"));
    assert_true(mpps_valid_uid("0.1"));
    assert_false(mpps_valid_uid(""));
    assert_false(mpps_valid_uid("1..2"));
    assert_false(mpps_valid_uid("1.02"));
    assert_false(mpps_valid_uid("1.2."));
    assert_false(mpps_valid_uid("1.2a"));
    assert_false(mpps_valid_uid("1.2345678901234567890123456789012345678901234567890123456789012345"));
}

static void test_instance_uid_checks(void **state)
{
    mpps_error err;

    (void)state;
    assert_int_equal(mpps_check_instance_uid("1.2.3", true, &err), 0);
    assert_int_equal(mpps_check_instance_uid(NULL, true, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE);
    assert_int_equal(mpps_check_instance_uid("1.2.x", false, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_SOP_INSTANCE);
}

static void test_create_valid(void **state)
{
    mpps_rules r = rules(true);
    cairn_dataset *ds = valid_create();
    mpps_error err;

    (void)state;
    assert_int_equal(mpps_check_create(&r, ds, &err), 0);
    assert_int_equal(err.status, 0);
    api->dataset_destroy(ds);
}

static void test_create_without_dataset(void **state)
{
    mpps_rules r = rules(true);
    mpps_error err;

    (void)state;
    assert_int_equal(mpps_check_create(&r, NULL, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE);
}

/* Each type 1 attribute of N-CREATE: absent gives 0120, present without a value 0121. */
static void test_create_type1(void **state)
{
    static const cairn_tag tags[] = {TAG_PPS_ID, CAIRN_TAG(0x0040, 0x0241), TAG_PPS_START_DATE,
                                     TAG_PPS_START_TIME, TAG_PPS_STATUS, TAG_MODALITY_};
    mpps_rules r = rules(true);
    mpps_error err;

    (void)state;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        cairn_dataset *ds = valid_create();

        assert_int_equal(api->dataset_remove(ds, tags[i]), CAIRN_OK);
        assert_int_equal(mpps_check_create(&r, ds, &err), -1);
        assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE);
        assert_int_equal(err.attribute_count, 1);
        assert_int_equal(err.attributes[0], tags[i]);
        assert_non_null(strstr(err.comment, "missing"));

        set(ds, tags[i], CAIRN_VR_SH, "");
        assert_int_equal(mpps_check_create(&r, ds, &err), -1);
        assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE_VALUE);
        assert_int_equal(err.attributes[0], tags[i]);
        api->dataset_destroy(ds);
    }
}

static void test_create_scheduled_step_rules(void **state)
{
    mpps_rules r = rules(true);
    cairn_dataset *ds = valid_create();
    mpps_error err;

    (void)state;
    empty_sequence(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    assert_int_equal(mpps_check_create(&r, ds, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    api->dataset_destroy(ds);

    ds = valid_create();
    set((cairn_dataset *)api->element_item(
            api->dataset_find(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE), 0),
        TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, "1.2.3.04");
    assert_int_equal(mpps_check_create(&r, ds, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    assert_string_equal(err.comment, "Study Instance UID (0020,000D) is invalid");
    api->dataset_destroy(ds);
}

static void test_create_type2(void **state)
{
    mpps_rules strict = rules(true), lenient = rules(false);
    cairn_dataset *ds = valid_create();
    mpps_error err;

    (void)state;
    assert_int_equal(api->dataset_remove(ds, TAG_PATIENT_NAME_), CAIRN_OK);
    assert_int_equal(mpps_check_create(&strict, ds, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE);
    assert_string_equal(err.comment, "Patient's Name (0010,0010) missing");
    assert_int_equal(mpps_check_create(&lenient, ds, &err), 0);
    api->dataset_destroy(ds);
}

static void test_create_values(void **state)
{
    static const struct {
        cairn_tag tag;
        cairn_vr vr;
        const char *value;
    } cases[] = {
        {TAG_PPS_STATUS, CAIRN_VR_CS, "COMPLETED"},
        {TAG_PPS_STATUS, CAIRN_VR_CS, "STARTED"},
        {TAG_PPS_START_DATE, CAIRN_VR_DA, "20260230"},
        {TAG_PPS_START_DATE, CAIRN_VR_DA, "2026-12-05"},
        {TAG_PPS_START_TIME, CAIRN_VR_TM, "2500"},
        {TAG_PPS_START_TIME, CAIRN_VR_TM, "1015.5"},
        {TAG_PPS_END_DATE, CAIRN_VR_DA, "202612"},
        {TAG_MODALITY_, CAIRN_VR_CS, "ct"},
        {CAIRN_TAG(0x0040, 0x0241), CAIRN_VR_AE, "A\\B"},
    };
    mpps_rules r = rules(true);
    mpps_error err;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cairn_dataset *ds = valid_create();

        set(ds, cases[i].tag, cases[i].vr, cases[i].value);
        if (mpps_check_create(&r, ds, &err) != -1)
            fail_msg("case %zu (\"%s\") is accepted", i, cases[i].value);
        assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
        assert_int_equal(err.attributes[0], cases[i].tag);
        api->dataset_destroy(ds);
    }
}

static void test_create_series_items(void **state)
{
    mpps_rules r = rules(true);
    cairn_dataset *ds = valid_create();
    mpps_error err;

    (void)state;
    add_series(ds, "1.2.3.5", "1.2.3.6");
    assert_int_equal(mpps_check_create(&r, ds, &err), 0);
    api->dataset_destroy(ds);

    ds = valid_create();
    add_series(ds, "1.2.3.5", "1.2.3.x");
    assert_int_equal(mpps_check_create(&r, ds, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], TAG_PERFORMED_SERIES_SEQUENCE);
    api->dataset_destroy(ds);
}

static void test_set_on_final_step(void **state)
{
    mpps_rules r = rules(true);
    cairn_dataset *current = valid_create(), *changes = api->dataset_create();
    mpps_error err;

    (void)state;
    set(current, TAG_PPS_STATUS, CAIRN_VR_CS, "DISCONTINUED");
    set(changes, TAG_PPS_DESCRIPTION, CAIRN_VR_LO, "late");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_PROCESSING_FAILURE);
    assert_int_equal(err.error_id, 0xA710);
    assert_string_equal(err.comment, "Performed Procedure Step Object may no longer be updated");
    api->dataset_destroy(current);
    api->dataset_destroy(changes);
}

static void test_set_attribute_rules(void **state)
{
    mpps_rules r = rules(true);
    cairn_dataset *current = valid_create(), *changes;
    mpps_error err;

    (void)state;
    /* A settable attribute. */
    changes = api->dataset_create();
    set(changes, TAG_PPS_DESCRIPTION, CAIRN_VR_LO, "CT chest");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), 0);
    api->dataset_destroy(changes);

    /* An attribute N-SET may not change, with another value, then with the same one. */
    changes = api->dataset_create();
    set(changes, TAG_MODALITY_, CAIRN_VR_CS, "MR");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
    assert_string_equal(err.comment, "Modality (0008,0060) may not be changed by N-SET");
    set(changes, TAG_MODALITY_, CAIRN_VR_CS, "CT");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), 0);
    api->dataset_destroy(changes);

    /* An attribute the N-CREATE did not create. */
    changes = api->dataset_create();
    set(changes, CAIRN_TAG(0x0040, 0x0280), CAIRN_VR_ST, "comment");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], CAIRN_TAG(0x0040, 0x0280));
    api->dataset_destroy(changes);

    /* An unknown status, and no data set at all. */
    changes = api->dataset_create();
    set(changes, TAG_PPS_STATUS, CAIRN_VR_CS, "DONE");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], TAG_PPS_STATUS);
    api->dataset_destroy(changes);
    assert_int_equal(mpps_check_set(&r, current, NULL, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE);
    api->dataset_destroy(current);
}

static void test_final_state(void **state)
{
    mpps_rules r = rules(false);
    cairn_dataset *current = valid_create(), *changes = api->dataset_create(), *merged;
    mpps_error err;

    (void)state;
    set(changes, TAG_PPS_STATUS, CAIRN_VR_CS, "COMPLETED");
    merged = mpps_merge(api, current, changes);
    assert_non_null(merged);
    assert_int_equal(mpps_check_final(&r, merged, &err), -1);
    assert_int_equal(err.status, MPPS_STATUS_MISSING_ATTRIBUTE_VALUE);
    assert_int_equal(err.attributes[0], TAG_PPS_END_DATE);
    api->dataset_destroy(merged);

    set(changes, TAG_PPS_END_DATE, CAIRN_VR_DA, "20261205");
    set(changes, TAG_PPS_END_TIME, CAIRN_VR_TM, "1030");
    merged = mpps_merge(api, current, changes);
    assert_int_equal(mpps_check_final(&r, merged, &err), -1);
    assert_int_equal(err.attributes[0], TAG_PERFORMED_SERIES_SEQUENCE);
    api->dataset_destroy(merged);

    add_series(changes, "1.2.3.5", "1.2.3.6");
    assert_int_equal(mpps_check_set(&r, current, changes, &err), 0);
    merged = mpps_merge(api, current, changes);
    assert_int_equal(mpps_check_final(&r, merged, &err), 0);
    api->dataset_destroy(merged);
    api->dataset_destroy(current);
    api->dataset_destroy(changes);
}

static void test_merge(void **state)
{
    cairn_dataset *current = valid_create(), *changes = api->dataset_create(), *merged;
    char text[65];

    (void)state;
    set(current, CAIRN_TAG(0x0008, 0x0005), CAIRN_VR_CS, "ISO_IR 100");
    set(changes, CAIRN_TAG(0x0008, 0x0005), CAIRN_VR_CS, "ISO_IR 192");
    set(changes, TAG_PPS_STATUS, CAIRN_VR_CS, "COMPLETED");
    add_series(changes, "1.2.3.5", "1.2.3.6");
    add_series(changes, "1.2.3.7", "1.2.3.8");
    merged = mpps_merge(api, current, changes);
    assert_non_null(merged);

    assert_int_equal(api->dataset_get_string(merged, TAG_PPS_STATUS, 0, text, sizeof text),
                     CAIRN_OK);
    assert_string_equal(text, "COMPLETED");
    /* An N-SET does not replace Specific Character Set. */
    assert_int_equal(api->dataset_get_string(merged, CAIRN_TAG(0x0008, 0x0005), 0, text,
                                             sizeof text), CAIRN_OK);
    assert_string_equal(text, "ISO_IR 100");
    assert_int_equal(api->element_item_count(api->dataset_find(merged,
                                                               TAG_PERFORMED_SERIES_SEQUENCE)),
                     2);
    assert_int_equal(api->dataset_get_string(merged, TAG_PATIENT_NAME_, 0, text, sizeof text),
                     CAIRN_OK);
    assert_string_equal(text, "Doe^Jane");
    api->dataset_destroy(merged);
    api->dataset_destroy(current);
    api->dataset_destroy(changes);
}

static void test_states(void **state)
{
    (void)state;
    assert_int_equal(mpps_state_parse("IN PROGRESS"), MPPS_STATE_IN_PROGRESS);
    assert_int_equal(mpps_state_parse("COMPLETED"), MPPS_STATE_COMPLETED);
    assert_int_equal(mpps_state_parse("DISCONTINUED"), MPPS_STATE_DISCONTINUED);
    assert_int_equal(mpps_state_parse("in progress"), MPPS_STATE_INVALID);
    assert_string_equal(mpps_state_name(MPPS_STATE_COMPLETED), "COMPLETED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uid_syntax),
        cmocka_unit_test(test_instance_uid_checks),
        cmocka_unit_test(test_create_valid),
        cmocka_unit_test(test_create_without_dataset),
        cmocka_unit_test(test_create_type1),
        cmocka_unit_test(test_create_scheduled_step_rules),
        cmocka_unit_test(test_create_type2),
        cmocka_unit_test(test_create_values),
        cmocka_unit_test(test_create_series_items),
        cmocka_unit_test(test_set_on_final_step),
        cmocka_unit_test(test_set_attribute_rules),
        cmocka_unit_test(test_final_state),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_states),
    };

    api = plugin_host_api();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
