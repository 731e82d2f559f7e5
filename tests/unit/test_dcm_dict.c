/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the generated data dictionary, the VR table, the transfer
 * syntax table and the storage SOP class list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dcm/dcm.h"

static void dict_finds_exact_tags(void **state)
{
    const dcm_dict_entry *e = dcm_dict_find(DCM_TAG(0x0010, 0x0010));

    (void)state;
    assert_non_null(e);
    assert_int_equal(e->vr, DCM_VR_PN);
    assert_string_equal(e->keyword, "PatientName");
    assert_string_equal(e->vm, "1");

    e = dcm_dict_find(DCM_TAG(0x0008, 0x1140));
    assert_non_null(e);
    assert_int_equal(e->vr, DCM_VR_SQ);
    assert_string_equal(e->keyword, "ReferencedImageSequence");
}

static void dict_flags_multi_vr(void **state)
{
    const dcm_dict_entry *e = dcm_dict_find(DCM_TAG_PIXEL_DATA);

    (void)state;
    assert_non_null(e);
    assert_int_equal(e->vr, DCM_VR_OB);
    assert_true(e->flags & DCM_DICT_MULTI_VR);

    e = dcm_dict_find(DCM_TAG(0x0028, 0x0106)); /* US or SS */
    assert_non_null(e);
    assert_int_equal(e->vr, DCM_VR_US);
    assert_true(e->flags & DCM_DICT_MULTI_VR);
}

static void dict_matches_repeating_groups(void **state)
{
    const dcm_dict_entry *e;

    (void)state;
    e = dcm_dict_find(DCM_TAG(0x6002, 0x3000));
    assert_non_null(e);
    assert_string_equal(e->keyword, "OverlayData");
    assert_true(e->flags & DCM_DICT_REPEATING);

    e = dcm_dict_find(DCM_TAG(0x60FE, 0x0010));
    assert_non_null(e);
    assert_string_equal(e->keyword, "OverlayRows");

    /* Odd groups are private, not overlays. */
    e = dcm_dict_find(DCM_TAG(0x6001, 0x0010));
    assert_non_null(e);
    assert_string_equal(e->keyword, "PrivateCreator");

    e = dcm_dict_find(DCM_TAG(0x5010, 0x3000));
    assert_non_null(e);
    assert_string_equal(e->keyword, "CurveData");
    assert_true(e->flags & DCM_DICT_RETIRED);

    e = dcm_dict_find(DCM_TAG(0x0020, 0x3102));
    assert_non_null(e);
    assert_string_equal(e->keyword, "SourceImageIDs");
}

static void dict_handles_group_length(void **state)
{
    const dcm_dict_entry *e = dcm_dict_find(DCM_TAG(0x0009, 0x0000));

    (void)state;
    assert_non_null(e);
    assert_int_equal(e->vr, DCM_VR_UL);
    e = dcm_dict_find(DCM_TAG(0x0002, 0x0000));
    assert_non_null(e);
    assert_string_equal(e->keyword, "FileMetaInformationGroupLength");
    assert_null(dcm_dict_find(DCM_TAG(0x0009, 0x1001)));
}

static void dict_finds_keywords(void **state)
{
    const dcm_dict_entry *e = dcm_dict_find_keyword("SOPInstanceUID");

    (void)state;
    assert_non_null(e);
    assert_int_equal(e->tag, DCM_TAG(0x0008, 0x0018));
    e = dcm_dict_find_keyword("OverlayData");
    assert_non_null(e);
    assert_int_equal(e->tag, DCM_TAG(0x6000, 0x3000));
    assert_null(dcm_dict_find_keyword("NoSuchKeyword"));
    assert_null(dcm_dict_find_keyword(NULL));
}

static void vr_names_round_trip(void **state)
{
    (void)state;
    for (int vr = DCM_VR_AE; vr < DCM_VR_COUNT_; vr++) {
        const char *name = dcm_vr_name((dcm_vr)vr);

        assert_int_equal(strlen(name), 2);
        assert_int_equal(dcm_vr_from_chars(name[0], name[1]), vr);
    }
    assert_int_equal(dcm_vr_from_chars('Z', 'Z'), DCM_VR_UNKNOWN);
    assert_string_equal(dcm_vr_name(DCM_VR_UNKNOWN), "??");
}

static void vr_long_length_set(void **state)
{
    static const dcm_vr long_vrs[] = {DCM_VR_OB, DCM_VR_OD, DCM_VR_OF, DCM_VR_OL, DCM_VR_OV,
                                      DCM_VR_OW, DCM_VR_SQ, DCM_VR_SV, DCM_VR_UC, DCM_VR_UN,
                                      DCM_VR_UR, DCM_VR_UT, DCM_VR_UV};
    unsigned count = 0;

    (void)state;
    for (size_t i = 0; i < sizeof long_vrs / sizeof long_vrs[0]; i++)
        assert_true(dcm_vr_has_long_length(long_vrs[i]));
    for (int vr = DCM_VR_AE; vr < DCM_VR_COUNT_; vr++)
        count += dcm_vr_has_long_length((dcm_vr)vr);
    assert_int_equal(count, sizeof long_vrs / sizeof long_vrs[0]);
}

static void ts_table_lookups(void **state)
{
    const dcm_ts *ts;

    (void)state;
    assert_ptr_equal(dcm_ts_find("1.2.840.10008.1.2"), DCM_TS_IMPLICIT_LE);
    assert_ptr_equal(dcm_ts_find("1.2.840.10008.1.2.1"), DCM_TS_EXPLICIT_LE);
    assert_ptr_equal(dcm_ts_find("1.2.840.10008.1.2.2"), DCM_TS_EXPLICIT_BE);
    assert_ptr_equal(dcm_ts_find("1.2.840.10008.1.2.1.99"), DCM_TS_DEFLATED_LE);
    /* UI values are padded with NUL to even length. */
    assert_ptr_equal(dcm_ts_find("1.2.840.10008.1.2.1\0"), DCM_TS_EXPLICIT_LE);
    assert_true(DCM_TS_EXPLICIT_BE->big_endian);
    assert_true(DCM_TS_EXPLICIT_BE->retired);
    assert_false(DCM_TS_IMPLICIT_LE->explicit_vr);
    assert_true(DCM_TS_DEFLATED_LE->deflated);

    ts = dcm_ts_find("1.2.840.10008.1.2.4.50");
    assert_non_null(ts);
    assert_true(ts->encapsulated);
    assert_true(ts->explicit_vr);
    for (const char *const *uid = (const char *const[]){
             "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
             "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
             "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.100",
             "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.107", "1.2.840.10008.1.2.4.201",
             "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.1.98",
             NULL};
         *uid; uid++) {
        ts = dcm_ts_find(*uid);
        assert_non_null(ts);
        assert_true(ts->encapsulated);
    }
    assert_null(dcm_ts_find("1.2.3.4"));
    assert_null(dcm_ts_find(NULL));
}

static void storage_classes_listed(void **state)
{
    size_t n = dcm_storage_sop_class_count();

    (void)state;
    assert_true(n > 150);
    for (size_t i = 0; i < n; i++) {
        const dcm_uid_entry *e = dcm_storage_sop_class_at(i);

        assert_non_null(e);
        assert_true(dcm_is_storage_sop_class(e->uid));
        if (i > 0)
            assert_true(strcmp(dcm_storage_sop_class_at(i - 1)->uid, e->uid) < 0);
    }
    assert_null(dcm_storage_sop_class_at(n));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.4.1.1.2"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.4.1.1.481.5"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.1.29"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.1.30"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.1.27"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.4.1.1.5"));
    assert_true(dcm_is_storage_sop_class("1.2.840.10008.5.1.4.1.1.88.59"));
    assert_false(dcm_is_storage_sop_class("1.2.840.10008.1.1"));
    assert_false(dcm_is_storage_sop_class("1.2.840.10008.5.1.4.1.2.2.1"));
    assert_false(dcm_is_storage_sop_class(NULL));
    assert_string_equal(dcm_uid_name("1.2.840.10008.5.1.4.1.1.4"), "MR Image Storage");
    assert_string_equal(dcm_uid_name("1.2.840.10008.1.2"), "Implicit VR Little Endian");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dict_finds_exact_tags),
        cmocka_unit_test(dict_flags_multi_vr),
        cmocka_unit_test(dict_matches_repeating_groups),
        cmocka_unit_test(dict_handles_group_length),
        cmocka_unit_test(dict_finds_keywords),
        cmocka_unit_test(vr_names_round_trip),
        cmocka_unit_test(vr_long_length_set),
        cmocka_unit_test(ts_table_lookups),
        cmocka_unit_test(storage_classes_listed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
