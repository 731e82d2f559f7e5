/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the DICOM parser and encoder against pydicom's sample
 * files (round trip in the same transfer syntax, byte for byte), a table
 * of malformed inputs, and a large sparse file read with bounded memory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dcm/dcm.h"

#define PYDICOM_FILES "/usr/lib/python3/dist-packages/pydicom/data/test_files"

static bool have_pydicom_files(void)
{
    struct stat st;

    return stat(PYDICOM_FILES, &st) == 0 && S_ISDIR(st.st_mode);
}

#define REQUIRE_PYDICOM_FILES()                                                \
    do {                                                                       \
        if (!have_pydicom_files()) {                                           \
            print_message("pydicom sample files not found in %s\n", PYDICOM_FILES); \
            skip();                                                            \
        }                                                                      \
    } while (0)

static int read_sample(const char *name, dcm_dataset **meta, dcm_dataset **ds,
                       const dcm_ts **ts, dcm_error *err)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", PYDICOM_FILES, name);
    return dcm_file_read(path, NULL, meta, ds, ts, err);
}

/* Reads the bytes of fd from offset to its end. */
static uint8_t *read_tail(int fd, uint64_t offset, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf;

    assert_true(end >= (off_t)offset);
    *len = (size_t)(end - (off_t)offset);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, *len, (off_t)offset), (ssize_t)*len);
    return buf;
}

static void round_trip_sample_files(void **state)
{
    DIR *dir;
    struct dirent *entry;
    unsigned parsed = 0, byte_equal = 0;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    dir = opendir(PYDICOM_FILES);
    assert_non_null(dir);

    while ((entry = readdir(dir)) != NULL) {
        char path[512];
        dcm_dataset *meta = NULL, *ds = NULL, *again = NULL;
        const dcm_ts *ts = NULL;
        dcm_error err;
        uint64_t offset = 0;
        uint8_t *encoded = NULL, *original;
        size_t encoded_len = 0, original_len;
        int fd;

        if (!strstr(entry->d_name, ".dcm"))
            continue;
        snprintf(path, sizeof path, "%s/%s", PYDICOM_FILES, entry->d_name);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        if (dcm_file_read_fd(fd, NULL, &meta, &ds, &ts, &err, &offset) != DCM_OK) {
            close(fd);
            continue;
        }
        parsed++;

        assert_int_equal(dcm_encode_buffer(ds, ts, &encoded, &encoded_len), DCM_OK);
        if (dcm_parse_buffer(encoded, encoded_len, ts, NULL, &again, &err) != DCM_OK)
            fail_msg("%s: written data does not parse: %s", entry->d_name, err.message);
        if (!dcm_dataset_equal(ds, again))
            fail_msg("%s: data set differs after a round trip", entry->d_name);

        /* Every sample is encoded canonically, so the bytes match too
         * (deflate output depends on the compressor, so not for it). */
        if (!ts->deflated) {
            original = read_tail(fd, offset, &original_len);
            if (original_len != encoded_len || memcmp(original, encoded, encoded_len) != 0)
                fail_msg("%s: written bytes differ from the original data set", entry->d_name);
            byte_equal++;
            free(original);
        }

        free(encoded);
        dcm_dataset_destroy(again);
        dcm_dataset_destroy(ds);
        dcm_dataset_destroy(meta);
        close(fd);
    }
    closedir(dir);
    assert_true(parsed >= 60);
    assert_true(byte_equal >= 60);
}

static void truncated_samples_fail(void **state)
{
    static const char *const names[] = {"MR_truncated.dcm", "rtplan_truncated.dcm"};
    dcm_dataset *meta = NULL, *ds = NULL;
    dcm_error err;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = read_sample(names[i], &meta, &ds, NULL, &err);

        assert_int_equal(rc, DCM_ETRUNCATED);
        assert_int_equal(err.code, DCM_ETRUNCATED);
        assert_non_null(strstr(err.message, "exceeds"));
        assert_null(ds);
        assert_null(meta);
    }
}

static void big_endian_matches_little(void **state)
{
    dcm_dataset *be = NULL, *le = NULL;
    const dcm_ts *ts = NULL;
    const dcm_element *be_pixels, *le_pixels;
    uint32_t rows = 0;
    dcm_error err;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    assert_int_equal(read_sample("MR_small_bigendian.dcm", NULL, &be, &ts, &err), DCM_OK);
    assert_ptr_equal(ts, DCM_TS_EXPLICIT_BE);
    assert_int_equal(read_sample("MR_small.dcm", NULL, &le, NULL, &err), DCM_OK);

    assert_int_equal(dcm_dataset_get_uint(be, DCM_TAG(0x0028, 0x0010), 0, &rows), DCM_OK);
    assert_int_equal(rows, 64);
    be_pixels = dcm_dataset_find(be, DCM_TAG_PIXEL_DATA);
    le_pixels = dcm_dataset_find(le, DCM_TAG_PIXEL_DATA);
    assert_non_null(be_pixels);
    assert_non_null(le_pixels);
    assert_int_equal(dcm_element_vr(be_pixels), DCM_VR_OW);
    assert_int_equal(dcm_element_length(be_pixels), dcm_element_length(le_pixels));
    assert_memory_equal(dcm_element_value(be_pixels), dcm_element_value(le_pixels),
                        dcm_element_length(le_pixels));
    dcm_dataset_destroy(be);
    dcm_dataset_destroy(le);
}

static void deflated_file_parses(void **state)
{
    dcm_dataset *ds = NULL, *again = NULL;
    const dcm_ts *ts = NULL;
    uint8_t *encoded = NULL;
    size_t len = 0;
    char name[64];
    dcm_error err;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    assert_int_equal(read_sample("image_dfl.dcm", NULL, &ds, &ts, &err), DCM_OK);
    assert_ptr_equal(ts, DCM_TS_DEFLATED_LE);
    assert_int_equal(dcm_dataset_get_string(ds, DCM_TAG(0x0008, 0x0060), 0, name, sizeof name),
                     DCM_OK);
    assert_non_null(dcm_dataset_find(ds, DCM_TAG_PIXEL_DATA));

    assert_int_equal(dcm_encode_buffer(ds, DCM_TS_DEFLATED_LE, &encoded, &len), DCM_OK);
    assert_int_equal(dcm_parse_buffer(encoded, len, DCM_TS_DEFLATED_LE, NULL, &again, &err),
                     DCM_OK);
    assert_true(dcm_dataset_equal(ds, again));

    /* Cut deflate data: the parser reports truncation, not success. */
    dcm_dataset_destroy(again);
    again = NULL;
    assert_int_not_equal(dcm_parse_buffer(encoded, len / 2, DCM_TS_DEFLATED_LE, NULL, &again,
                                          &err), DCM_OK);
    assert_null(again);

    free(encoded);
    dcm_dataset_destroy(ds);
}

static void files_without_meta(void **state)
{
    static const struct {
        const char *name;
        const dcm_ts *const *ts;
    } cases[] = {
        {"ExplVR_BigEndNoMeta.dcm", &DCM_TS_EXPLICIT_BE},
        {"ExplVR_LitEndNoMeta.dcm", &DCM_TS_EXPLICIT_LE},
        {"rtstruct.dcm", &DCM_TS_IMPLICIT_LE},
    };

    (void)state;
    REQUIRE_PYDICOM_FILES();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_dataset *meta = (dcm_dataset *)1, *ds = NULL;
        const dcm_ts *ts = NULL;
        dcm_error err;

        if (read_sample(cases[i].name, &meta, &ds, &ts, &err) != DCM_OK)
            fail_msg("%s: %s", cases[i].name, err.message);
        assert_null(meta);
        assert_ptr_equal(ts, *cases[i].ts);
        assert_true(dcm_dataset_count(ds) > 5);
        dcm_dataset_destroy(ds);
    }
}

static void encapsulated_pixel_data(void **state)
{
    static const char *const names[] = {"JPEG2000.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm",
                                        "JPEG2000-embedded-sequence-delimiter.dcm"};

    (void)state;
    REQUIRE_PYDICOM_FILES();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        dcm_dataset *ds = NULL;
        const dcm_ts *ts = NULL;
        const dcm_element *pixels;
        uint32_t len = 99;
        dcm_error err;

        assert_int_equal(read_sample(names[i], NULL, &ds, &ts, &err), DCM_OK);
        assert_true(ts->encapsulated);
        pixels = dcm_dataset_find(ds, DCM_TAG_PIXEL_DATA);
        assert_non_null(pixels);
        assert_int_equal(dcm_element_length(pixels), DCM_UNDEFINED_LENGTH);
        assert_true(dcm_element_fragment_count(pixels) >= 2);
        dcm_element_fragment(pixels, 0, &len); /* Basic Offset Table */
        assert_int_equal(len % 4, 0);
        assert_non_null(dcm_element_fragment(pixels, 1, &len));
        assert_true(len > 0);
        assert_null(dcm_element_value(pixels));
        dcm_dataset_destroy(ds);
    }
}

static void un_sequence_parsed(void **state)
{
    dcm_dataset *ds = NULL, *item;
    const dcm_element *un, *inner;
    char uid[65];
    dcm_error err;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    assert_int_equal(read_sample("UN_sequence.dcm", NULL, &ds, NULL, &err), DCM_OK);
    un = dcm_dataset_find(ds, DCM_TAG(0x4453, 0x100C));
    assert_non_null(un);
    assert_int_equal(dcm_element_vr(un), DCM_VR_UN);
    assert_int_equal(dcm_element_item_count(un), 1);
    item = dcm_element_item(un, 0);
    inner = dcm_dataset_find(item, DCM_TAG(0x0008, 0x1115));
    assert_non_null(inner);
    assert_int_equal(dcm_element_vr(inner), DCM_VR_SQ); /* from the dictionary */
    item = dcm_element_item(dcm_dataset_find(dcm_element_item(inner, 0), DCM_TAG(0x0008, 0x1199)), 0);
    assert_int_equal(dcm_dataset_get_string(item, DCM_TAG(0x0008, 0x1150), 0, uid, sizeof uid),
                     DCM_OK);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.2");
    dcm_dataset_destroy(ds);
}

static void private_tags_kept(void **state)
{
    dcm_dataset *ds = NULL;
    const dcm_element *el;
    dcm_error err;

    (void)state;
    REQUIRE_PYDICOM_FILES();
    /* Implicit VR: an unknown private sequence of undefined length. */
    assert_int_equal(read_sample("nested_priv_SQ.dcm", NULL, &ds, NULL, &err), DCM_OK);
    el = dcm_dataset_find(ds, DCM_TAG(0x0001, 0x0001));
    assert_non_null(el);
    assert_int_equal(dcm_element_vr(el), DCM_VR_UN);
    assert_int_equal(dcm_element_item_count(el), 1);
    el = dcm_dataset_find(dcm_element_item(el, 0), DCM_TAG(0x0001, 0x0001));
    assert_int_equal(dcm_element_item_count(el), 1);
    dcm_dataset_destroy(ds);

    /* Explicit VR: private creator and private elements with their VRs. */
    ds = NULL;
    assert_int_equal(read_sample("CT_small.dcm", NULL, &ds, NULL, &err), DCM_OK);
    el = dcm_dataset_find(ds, DCM_TAG(0x0043, 0x0010));
    assert_non_null(el);
    assert_int_equal(dcm_element_vr(el), DCM_VR_LO);
    assert_non_null(dcm_dataset_find(ds, DCM_TAG(0x0043, 0x1028)));
    dcm_dataset_destroy(ds);
}

static void deferred_values_and_stop(void **state)
{
    dcm_read_options opt = {.max_value_load = 4096};
    dcm_dataset *ds = NULL;
    const dcm_element *pixels;
    uint8_t *out = NULL;
    size_t len = 0;
    dcm_error err;
    char path[512];

    (void)state;
    REQUIRE_PYDICOM_FILES();
    snprintf(path, sizeof path, "%s/CT_small.dcm", PYDICOM_FILES);
    assert_int_equal(dcm_file_read(path, &opt, NULL, &ds, NULL, &err), DCM_OK);
    pixels = dcm_dataset_find(ds, DCM_TAG_PIXEL_DATA);
    assert_non_null(pixels);
    assert_true(dcm_element_is_deferred(pixels));
    assert_int_equal(dcm_element_length(pixels), 128 * 128 * 2);
    assert_null(dcm_element_value(pixels));
    assert_int_equal(dcm_encode_buffer(ds, DCM_TS_EXPLICIT_LE, &out, &len), DCM_EDEFERRED);
    dcm_dataset_destroy(ds);

    opt.max_value_load = 0;
    opt.stop_at = DCM_TAG(0x0010, 0x0000);
    ds = NULL;
    assert_int_equal(dcm_file_read(path, &opt, NULL, &ds, NULL, &err), DCM_OK);
    assert_non_null(dcm_dataset_find(ds, DCM_TAG(0x0008, 0x0060)));
    assert_null(dcm_dataset_find(ds, DCM_TAG(0x0010, 0x0010)));
    assert_null(dcm_dataset_find(ds, DCM_TAG_PIXEL_DATA));
    dcm_dataset_destroy(ds);
}

/* Explicit VR little endian test inputs, one per failure the parser must
 * report. */
static void malformed_inputs_rejected(void **state)
{
    static const uint8_t truncated_header[] = {0x10, 0x00, 0x10, 0x00, 'P', 'N'};
    static const uint8_t truncated_value[] = {0x10, 0x00, 0x10, 0x00, 'P', 'N', 0x08, 0x00,
                                              'A', 'B'};
    static const uint8_t length_beyond_end[] = {0x10, 0x00, 0x20, 0x00, 'L', 'O', 0x00, 0x10,
                                                'I', 'D'};
    static const uint8_t bad_item_tag[] = {
        0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        0x08, 0x00, 0x50, 0x11, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t undefined_plain[] = {0x10, 0x00, 0x10, 0x00, 'U', 'T', 0, 0,
                                              0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t stray_item_delimiter[] = {0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0};
    static const uint8_t stray_sequence_delimiter[] = {0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0};
    static const uint8_t item_crosses_sequence[] = {
        0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0x08, 0x00, 0x00, 0x00,
        0xFE, 0xFF, 0x00, 0xE0, 0x10, 0x00, 0x00, 0x00,
        0x10, 0x00, 0x10, 0x00, 'P', 'N', 0x08, 0x00, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'};
    static const uint8_t invalid_vr[] = {0x10, 0x00, 0x10, 0x00, 'z', 'z', 0x00, 0x00};
    static const uint8_t missing_sequence_delimiter[] = {
        0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFE, 0xFF, 0x00, 0xE0, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t fragment_undefined[] = {
        0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF};
    static const struct {
        const char *name;
        const uint8_t *data;
        size_t len;
        int code;
    } cases[] = {
        {"truncated header", truncated_header, sizeof truncated_header, DCM_ETRUNCATED},
        {"truncated value", truncated_value, sizeof truncated_value, DCM_ETRUNCATED},
        {"length beyond end", length_beyond_end, sizeof length_beyond_end, DCM_ETRUNCATED},
        {"bad item tag", bad_item_tag, sizeof bad_item_tag, DCM_EMALFORMED},
        {"undefined length on UT", undefined_plain, sizeof undefined_plain, DCM_EMALFORMED},
        {"stray item delimiter", stray_item_delimiter, sizeof stray_item_delimiter,
         DCM_EMALFORMED},
        {"stray sequence delimiter", stray_sequence_delimiter,
         sizeof stray_sequence_delimiter, DCM_EMALFORMED},
        {"item crosses sequence end", item_crosses_sequence, sizeof item_crosses_sequence,
         DCM_EMALFORMED},
        {"invalid VR", invalid_vr, sizeof invalid_vr, DCM_EMALFORMED},
        {"missing sequence delimiter", missing_sequence_delimiter,
         sizeof missing_sequence_delimiter, DCM_ETRUNCATED},
        {"fragment of undefined length", fragment_undefined, sizeof fragment_undefined,
         DCM_EMALFORMED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_dataset *ds = NULL;
        dcm_error err;
        int rc = dcm_parse_buffer(cases[i].data, cases[i].len, DCM_TS_EXPLICIT_LE, NULL, &ds,
                                  &err);

        if (rc != cases[i].code)
            fail_msg("%s: expected %d, got %d (%s)", cases[i].name, cases[i].code, rc,
                     err.message);
        assert_int_equal(err.code, rc);
        assert_true(strlen(err.message) > 0);
        assert_null(ds);
    }
}

/* Builds sequences nested `levels` deep. */
static dcm_dataset *build_nested(unsigned levels)
{
    dcm_dataset *root = dcm_dataset_create();
    dcm_dataset *current = root;

    for (unsigned i = 0; i < levels; i++) {
        dcm_element *seq = dcm_dataset_add_sequence(current, DCM_TAG(0x0040, 0xA730));

        assert_non_null(seq);
        current = dcm_element_append_item(seq);
        assert_non_null(current);
    }
    assert_int_equal(dcm_dataset_set_string(current, DCM_TAG(0x0040, 0xA160), DCM_VR_UT, "leaf"),
                     DCM_OK);
    return root;
}

static void depth_bound_enforced(void **state)
{
    dcm_dataset *deep = build_nested(20), *parsed = NULL;
    dcm_read_options opt = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    dcm_error err;

    (void)state;
    for (unsigned e = 0; e < 2; e++) {
        const dcm_ts *ts = e ? DCM_TS_IMPLICIT_LE : DCM_TS_EXPLICIT_LE;

        assert_int_equal(dcm_encode_buffer(deep, ts, &data, &len), DCM_OK);
        assert_int_equal(dcm_parse_buffer(data, len, ts, NULL, &parsed, &err), DCM_EMALFORMED);
        assert_non_null(strstr(err.message, "nested deeper"));
        assert_null(parsed);

        opt.max_depth = 20;
        assert_int_equal(dcm_parse_buffer(data, len, ts, &opt, &parsed, &err), DCM_OK);
        assert_true(dcm_dataset_equal(deep, parsed));
        dcm_dataset_destroy(parsed);
        parsed = NULL;
        opt.max_depth = 0;
        free(data);
    }
    dcm_dataset_destroy(deep);
}

/* A 1 GiB sparse file: a few elements, then Pixel Data. Parsing with a
 * load limit skips the value with lseek, so it is fast and small. */
static void large_file_bounded(void **state)
{
    char path[] = "/tmp/cairn-dcm-large-XXXXXX";
    const uint32_t pixel_length = 1u << 30;
    dcm_dataset *meta, *ds, *parsed = NULL, *file_meta = NULL;
    dcm_read_options opt = {.max_value_load = 4096};
    const dcm_element *pixels;
    uint8_t *head = NULL;
    size_t head_len = 0;
    uint8_t pixel_header[12] = {0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0};
    uint64_t offset = 0;
    dcm_error err;
    int fd;

    (void)state;
    meta = dcm_meta_create("1.2.840.10008.5.1.4.1.1.7", "1.2.3.4.5", "1.2.840.10008.1.2.1",
                           "TESTAE");
    ds = dcm_dataset_create();
    assert_non_null(meta);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, "1.2.3.4.5"),
                     DCM_OK);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0010, 0x0010), DCM_VR_PN, "Big^File"),
                     DCM_OK);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(dcm_encode_buffer(ds, DCM_TS_EXPLICIT_LE, &head, &head_len), DCM_OK);
    {
        uint8_t *meta_bytes = NULL;
        size_t meta_len = 0;
        uint8_t preamble[132] = {0};

        memcpy(preamble + 128, "DICM", 4);
        assert_int_equal(dcm_encode_buffer(meta, DCM_TS_EXPLICIT_LE, &meta_bytes, &meta_len),
                         DCM_OK);
        assert_int_equal(write(fd, preamble, sizeof preamble), (ssize_t)sizeof preamble);
        assert_int_equal(write(fd, meta_bytes, meta_len), (ssize_t)meta_len);
        free(meta_bytes);
    }
    assert_int_equal(write(fd, head, head_len), (ssize_t)head_len);
    pixel_header[8] = (uint8_t)pixel_length;
    pixel_header[9] = (uint8_t)(pixel_length >> 8);
    pixel_header[10] = (uint8_t)(pixel_length >> 16);
    pixel_header[11] = (uint8_t)(pixel_length >> 24);
    assert_int_equal(write(fd, pixel_header, sizeof pixel_header), (ssize_t)sizeof pixel_header);
    assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_CUR) + (off_t)pixel_length), 0);

    assert_int_equal(dcm_file_read_fd(fd, &opt, &file_meta, &parsed, NULL, &err, &offset),
                     DCM_OK);
    assert_true(offset > 132);
    pixels = dcm_dataset_find(parsed, DCM_TAG_PIXEL_DATA);
    assert_non_null(pixels);
    assert_true(dcm_element_is_deferred(pixels));
    assert_int_equal(dcm_element_length(pixels), pixel_length);
    assert_int_equal(dcm_element_offset(pixels), offset + head_len + sizeof pixel_header);
    dcm_dataset_destroy(parsed);
    dcm_dataset_destroy(file_meta);

    opt.stop_at = DCM_TAG_PIXEL_DATA;
    parsed = NULL;
    assert_int_equal(dcm_parse_fd(fd, offset, DCM_TS_EXPLICIT_LE, &opt, &parsed, &err), DCM_OK);
    assert_int_equal(dcm_dataset_count(parsed), 2);
    assert_null(dcm_dataset_find(parsed, DCM_TAG_PIXEL_DATA));
    dcm_dataset_destroy(parsed);

    /* One byte short: the length check fails before anything is loaded. */
    assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_END) - 1), 0);
    opt.stop_at = 0;
    parsed = NULL;
    assert_int_equal(dcm_parse_fd(fd, offset, DCM_TS_EXPLICIT_LE, &opt, &parsed, &err),
                     DCM_ETRUNCATED);
    assert_null(parsed);

    close(fd);
    free(head);
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_sample_files),
        cmocka_unit_test(truncated_samples_fail),
        cmocka_unit_test(big_endian_matches_little),
        cmocka_unit_test(deflated_file_parses),
        cmocka_unit_test(files_without_meta),
        cmocka_unit_test(encapsulated_pixel_data),
        cmocka_unit_test(un_sequence_parsed),
        cmocka_unit_test(private_tags_kept),
        cmocka_unit_test(deferred_values_and_stop),
        cmocka_unit_test(malformed_inputs_rejected),
        cmocka_unit_test(depth_bound_enforced),
        cmocka_unit_test(large_file_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
