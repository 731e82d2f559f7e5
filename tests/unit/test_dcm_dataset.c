/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the data set tree: setters and typed getters, ordering,
 * sequences, fragments, group lengths, the File Meta Information and a
 * PS3.10 file written and read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dcm/dcm.h"

static void elements_kept_sorted(void **state)
{
    dcm_dataset *ds = dcm_dataset_create();

    (void)state;
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0020), DCM_VR_LO, "ID1"), DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0060), DCM_VR_CS, "CT"), DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0010), DCM_VR_PN, "A^B"), DCM_OK);
    assert_int_equal(dcm_dataset_count(ds), 3);
    assert_int_equal(dcm_element_tag(dcm_dataset_at(ds, 0)), DCM_TAG(0x0008, 0x0060));
    assert_int_equal(dcm_element_tag(dcm_dataset_at(ds, 1)), DCM_TAG(0x0010, 0x0010));
    assert_int_equal(dcm_element_tag(dcm_dataset_at(ds, 2)), DCM_TAG(0x0010, 0x0020));
    assert_null(dcm_dataset_at(ds, 3));

    /* Replacing keeps one element per tag. */
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0020), DCM_VR_LO, "ID2"), DCM_OK);
    assert_int_equal(dcm_dataset_count(ds), 3);
    assert_int_equal(dcm_dataset_remove(ds, DCM_TAG(0x0008, 0x0060)), DCM_OK);
    assert_int_equal(dcm_dataset_remove(ds, DCM_TAG(0x0008, 0x0060)), DCM_ENOTFOUND);
    assert_int_equal(dcm_dataset_count(ds), 2);
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(NULL);
}

static void string_values_split_and_trimmed(void **state)
{
    dcm_dataset *ds = dcm_dataset_create();
    const dcm_element *el;
    char buf[32];

    (void)state;
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0008), DCM_VR_CS,
                                            "ORIGINAL\\ PRIMARY\\AXIAL"), DCM_OK);
    el = dcm_dataset_find(ds, DCM_TAG(0x0008, 0x0008));
    assert_int_equal(dcm_element_length(el), 24); /* 23 padded to even */
    assert_int_equal(dcm_element_value(el)[23], ' ');
    assert_int_equal(dcm_element_vm(el), 3);
    assert_int_equal(dcm_element_get_string(el, 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "ORIGINAL");
    assert_int_equal(dcm_element_get_string(el, 1, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "PRIMARY");
    assert_int_equal(dcm_element_get_string(el, 2, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "AXIAL");
    assert_int_equal(dcm_element_get_string(el, 3, buf, sizeof buf), DCM_ENOTFOUND);
    assert_int_equal(dcm_element_get_string(el, 0, buf, 4), DCM_ERANGE);

    /* UI pads with NUL; LT keeps leading spaces and backslashes. */
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0016), DCM_VR_UI, "1.2.3"), DCM_OK);
    el = dcm_dataset_find(ds, DCM_TAG(0x0008, 0x0016));
    assert_int_equal(dcm_element_length(el), 6);
    assert_int_equal(dcm_element_value(el)[5], '\0');
    assert_int_equal(dcm_dataset_get_string(ds, DCM_TAG(0x0008, 0x0016), 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "1.2.3");
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x4000), DCM_VR_LT, "  a\\b  "),
                     DCM_OK);
    assert_int_equal(dcm_dataset_get_string(ds, DCM_TAG(0x0010, 0x4000), 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "  a\\b");
    assert_int_equal(dcm_dataset_get_string(ds, DCM_TAG(0x0010, 0x0010), 0, buf, sizeof buf),
                     DCM_ENOTFOUND);
    dcm_dataset_destroy(ds);
}

static void integer_values_read(void **state)
{
    dcm_dataset *ds = dcm_dataset_create();
    static const uint8_t ss_negative[2] = {0xFF, 0xFF};
    uint32_t v = 0;

    (void)state;
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0010), 512), DCM_OK);
    assert_int_equal(dcm_dataset_set_u32(ds, DCM_TAG(0x0028, 0x0008), 70000), DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0020, 0x0013), DCM_VR_IS, " 42"), DCM_OK);
    assert_int_equal(dcm_dataset_set_bytes(ds, DCM_TAG(0x0028, 0x0106), DCM_VR_SS, ss_negative, 2),
                     DCM_OK);

    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0028, 0x0010), 0, &v), DCM_OK);
    assert_int_equal(v, 512);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0028, 0x0008), 0, &v), DCM_OK);
    assert_int_equal(v, 70000);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0020, 0x0013), 0, &v), DCM_OK);
    assert_int_equal(v, 42);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0028, 0x0106), 0, &v), DCM_ERANGE);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0028, 0x0010), 1, &v), DCM_ENOTFOUND);
    assert_int_equal(dcm_element_vm(dcm_dataset_find(ds, DCM_TAG(0x0028, 0x0010))), 1);
    dcm_dataset_destroy(ds);
}

static void sequences_and_fragments(void **state)
{
    dcm_dataset *ds = dcm_dataset_create(), *item, *copy, *parsed = NULL;
    dcm_element *seq, *pixels;
    static const uint8_t frame[6] = {1, 2, 3, 4, 5, 6};
    const uint8_t *fragment;
    uint8_t *data = NULL;
    size_t len = 0;
    uint32_t flen = 0;
    dcm_error err;

    (void)state;
    seq = dcm_dataset_add_sequence(ds, DCM_TAG(0x0008, 0x1140));
    assert_non_null(seq);
    item = dcm_element_append_item(seq);
    assert_int_equal(dcm_dataset_set_string(item, DCM_TAG(0x0008, 0x1155), DCM_VR_UI, "1.2.3.4"),
                     DCM_OK);
    assert_non_null(dcm_element_append_item(seq));
    assert_int_equal(dcm_element_item_count(seq), 2);
    assert_int_equal(dcm_element_vm(seq), 2);

    pixels = dcm_dataset_add_encapsulated(ds, DCM_TAG_PIXEL_DATA, DCM_VR_OB);
    assert_non_null(pixels);
    assert_int_equal(dcm_element_append_fragment(pixels, frame, sizeof frame), DCM_OK);
    assert_int_equal(dcm_element_fragment_count(pixels), 2);
    fragment = dcm_element_fragment(pixels, 1, &flen);
    assert_int_equal(flen, 6);
    assert_memory_equal(fragment, frame, 6);

    copy = dcm_dataset_clone(ds);
    assert_true(dcm_dataset_equal(ds, copy));
    for (size_t i = 0; i < 3; i++) {
        const dcm_ts *ts = i == 0 ? DCM_TS_EXPLICIT_LE : i == 1 ? DCM_TS_IMPLICIT_LE
                                                                : DCM_TS_EXPLICIT_BE;

        assert_int_equal(dcm_encode_buffer(ds, ts, &data, &len), DCM_OK);
        assert_int_equal(dcm_parse_buffer(data, len, ts, NULL, &parsed, &err), DCM_OK);
        assert_true(dcm_dataset_equal(ds, parsed));
        dcm_dataset_destroy(parsed);
        parsed = NULL;
        free(data);
    }
    dcm_dataset_destroy(copy);
    dcm_dataset_destroy(ds);
}

static void group_length_computed(void **state)
{
    dcm_dataset *ds = dcm_dataset_create();
    uint32_t v = 0;

    (void)state;
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0060), DCM_VR_CS, "CT"), DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0070), DCM_VR_LO, "ACME"), DCM_OK);
    assert_int_equal(dcm_dataset_update_group_length(ds, 0x0008, DCM_TS_EXPLICIT_LE), DCM_OK);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0008, 0x0000), 0, &v), DCM_OK);
    assert_int_equal(v, (8 + 2) + (8 + 4));
    assert_int_equal(dcm_dataset_update_group_length(ds, 0x0008, DCM_TS_IMPLICIT_LE), DCM_OK);
    assert_int_equal(dcm_dataset_get_uint(ds, DCM_TAG(0x0008, 0x0000), 0, &v), DCM_OK);
    assert_int_equal(v, (8 + 2) + (8 + 4));
    dcm_dataset_destroy(ds);
}

static void meta_and_file_round_trip(void **state)
{
    char path[] = "/tmp/cairn-dcm-file-XXXXXX";
    dcm_dataset *meta, *ds, *read_meta = NULL, *read_ds = NULL;
    const dcm_ts *ts = NULL;
    char buf[80];
    uint32_t v = 0;
    dcm_error err;
    int fd;

    (void)state;
    meta = dcm_meta_create("1.2.840.10008.5.1.4.1.1.7", "1.2.3.99", "1.2.840.10008.1.2.1", "STORESCU");
    assert_non_null(meta);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0012), 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, DCM_IMPLEMENTATION_CLASS_UID);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0013), 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "CAIRN_" CAIRN_VERSION);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0016), 0, buf, sizeof buf), DCM_OK);
    assert_string_equal(buf, "STORESCU");
    assert_int_equal(dcm_dataset_get_uint(meta, DCM_TAG(0x0002, 0x0000), 0, &v), DCM_OK);
    assert_true(v > 0);

    ds = dcm_dataset_create();
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0016), DCM_VR_UI,
                                            "1.2.840.10008.5.1.4.1.1.7"), DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, "1.2.3.99"),
                     DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0010), DCM_VR_PN, "Test^File"),
                     DCM_OK);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(dcm_file_write(path, meta, ds, DCM_TS_EXPLICIT_LE), DCM_OK);
    assert_int_equal(dcm_file_read(path, NULL, &read_meta, &read_ds, &ts, &err), DCM_OK);
    unlink(path);
    assert_ptr_equal(ts, DCM_TS_EXPLICIT_LE);
    assert_true(dcm_dataset_equal(meta, read_meta));
    assert_true(dcm_dataset_equal(ds, read_ds));

    dcm_dataset_destroy(read_meta);
    dcm_dataset_destroy(read_ds);
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
}

static void dump_names_elements(void **state)
{
    dcm_dataset *ds = dcm_dataset_create();
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    (void)state;
    assert_non_null(out);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0010), DCM_VR_PN, "Doe^Jane"),
                     DCM_OK);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0010), 256), DCM_OK);
    dcm_dataset_dump(ds, out);
    fclose(out);
    assert_non_null(strstr(text, "(0010,0010) PN [Doe^Jane]"));
    assert_non_null(strstr(text, "PatientName"));
    assert_non_null(strstr(text, "(0028,0010) US 256"));
    free(text);
    dcm_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elements_kept_sorted),
        cmocka_unit_test(string_values_split_and_trimmed),
        cmocka_unit_test(integer_values_read),
        cmocka_unit_test(sequences_and_fragments),
        cmocka_unit_test(group_length_computed),
        cmocka_unit_test(meta_and_file_round_trip),
        cmocka_unit_test(dump_names_elements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
