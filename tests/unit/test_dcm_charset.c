/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of Specific Character Set decoding. Expected strings are the
 * Patient's Name values pydicom 2.3.1 decodes from its charset sample
 * files. Trailing empty component groups are kept here because they are
 * part of the value, while pydicom drops them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "dcm/dcm.h"

#define CHARSET_FILES "/usr/lib/python3/dist-packages/pydicom/data/charset_files"

/* Returns the Patient's Name of a sample file, decoded to UTF-8. */
static char *decoded_patient_name(const char *name)
{
    char path[512], scs[128] = "";
    dcm_dataset *ds = NULL;
    const dcm_element *scs_el, *pn;
    char *utf8 = NULL;
    dcm_error err;
    size_t len;

    snprintf(path, sizeof path, "%s/%s", CHARSET_FILES, name);
    if (dcm_file_read(path, NULL, NULL, &ds, NULL, &err) != DCM_OK)
        fail_msg("%s: %s", name, err.message);

    /* The whole multi-valued (0008,0005) value, padding removed. */
    scs_el = dcm_dataset_find(ds, DCM_TAG_SPECIFIC_CHARACTER_SET);
    if (scs_el && dcm_element_length(scs_el) < sizeof scs) {
        memcpy(scs, dcm_element_value(scs_el), dcm_element_length(scs_el));
        scs[dcm_element_length(scs_el)] = '\0';
    }

    pn = dcm_dataset_find(ds, DCM_TAG(0x0010, 0x0010));
    assert_non_null(pn);
    len = dcm_element_length(pn);
    while (len > 0 && (dcm_element_value(pn)[len - 1] == ' ' || dcm_element_value(pn)[len - 1] == 0))
        len--;
    assert_int_equal(dcm_charset_to_utf8(scs, (const char *)dcm_element_value(pn), len,
                                         DCM_VR_PN, &utf8), DCM_OK);
    dcm_dataset_destroy(ds);
    return utf8;
}

static void sample_names_decode(void **state)
{
    static const struct {
        const char *file;
        const char *expected;
    } cases[] = {
        {"chrArab.dcm", "قباني^لنزار"},
        {"chrFren.dcm", "Buc^Jérôme"},
        {"chrGerm.dcm", "Äneas^Rüdiger"},
        {"chrGreek.dcm", "Διονυσιος"},
        {"chrHbrw.dcm", "שרון^דבורה"},
        {"chrRuss.dcm", "Люкceмбypг"},
        {"chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
        {"chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
        {"chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},
        {"chrJapMulti.dcm", "やまだ^たろう"},
        {"chrJapMultiExplicitIR6.dcm", "やまだ^たろう"},
        {"chrKoreanMulti.dcm", "김희중"},
        {"chrX1.dcm", "Wang^XiaoDong=王^小東="},
        {"chrX2.dcm", "Wang^XiaoDong=王^小东="},
    };
    struct stat st;

    (void)state;
    if (stat(CHARSET_FILES, &st) != 0) {
        print_message("pydicom charset files not found in %s\n", CHARSET_FILES);
        skip();
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = decoded_patient_name(cases[i].file);

        if (strcmp(got, cases[i].expected) != 0)
            fail_msg("%s: expected '%s', got '%s'", cases[i].file, cases[i].expected, got);
        free(got);
    }
}

static void default_repertoire_passes_ascii(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(dcm_charset_to_utf8(NULL, "Doe^John", 8, DCM_VR_PN, &out), DCM_OK);
    assert_string_equal(out, "Doe^John");
    free(out);
    assert_int_equal(dcm_charset_to_utf8("", "", 0, DCM_VR_LO, &out), DCM_OK);
    assert_string_equal(out, "");
    free(out);
}

static void invalid_bytes_replaced(void **state)
{
    char *out = NULL;

    (void)state;
    /* A lone lead byte and a truncated sequence in UTF-8. */
    assert_int_equal(dcm_charset_to_utf8("ISO_IR 192", "a\xC3" "b\xE2\x82", 5, DCM_VR_LO, &out),
                     DCM_OK);
    assert_string_equal(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    free(out);

    /* An unknown escape sequence. */
    assert_int_equal(dcm_charset_to_utf8("\\ISO 2022 IR 87", "x\x1B%zy", 5, DCM_VR_LO, &out),
                     DCM_OK);
    assert_non_null(strstr(out, "\xEF\xBF\xBD"));
    assert_int_equal(out[0], 'x');
    free(out);
}

static void delimiters_reset_designation(void **state)
{
    char *out = NULL;
    /* JIS X 0208 designated and not switched back before '^' is still
     * reset there, so "AB" after the delimiter reads as ASCII. */
    static const char value[] = "\x1B$B$d\x1B(B^AB";

    (void)state;
    assert_int_equal(dcm_charset_to_utf8("\\ISO 2022 IR 87", value, sizeof value - 1,
                                         DCM_VR_PN, &out), DCM_OK);
    assert_string_equal(out, "や^AB");
    free(out);

    /* Latin-1 G1 in multi-valued text with a Greek switch. */
    assert_int_equal(dcm_charset_to_utf8("ISO 2022 IR 100\\ISO 2022 IR 126",
                                         "\xE9\\\x1B-F\xE1\\\xE9", 8, DCM_VR_LO, &out),
                     DCM_OK);
    assert_string_equal(out, "é\\α\\é");
    free(out);
}

/* ASCII text is copied under every term whose G0 is ASCII, controls included. */
static void ascii_text_copied(void **state)
{
    static const char *const terms[] = {"", "ISO_IR 100", "ISO_IR 192", "GB18030",
                                        "\\ISO 2022 IR 87", "ISO 2022 IR 6\\ISO 2022 IR 149"};
    static const char text[] = "Doe^John=Line 1\r\n\tEnd";
    char *out = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        assert_int_equal(dcm_charset_to_utf8(terms[i], text, sizeof text - 1, DCM_VR_LT, &out),
                         DCM_OK);
        assert_string_equal(out, text);
        free(out);
    }

    /* An empty value stays empty. */
    assert_int_equal(dcm_charset_to_utf8("ISO_IR 100", NULL, 0, DCM_VR_LO, &out), DCM_OK);
    assert_string_equal(out, "");
    free(out);
}

static void single_byte_terms(void **state)
{
    static const struct {
        const char *scs;
        const char *in;
        const char *expected;
    } cases[] = {
        {"ISO_IR 100", "\xE9", "é"},
        {"ISO_IR 101", "\xB1", "ą"},
        {"ISO_IR 109", "\xA1", "Ħ"},
        {"ISO_IR 110", "\xA1", "Ą"},
        {"ISO_IR 144", "\xB0", "А"},
        {"ISO_IR 127", "\xC7", "ا"},
        {"ISO_IR 126", "\xE1", "α"},
        {"ISO_IR 138", "\xE0", "א"},
        {"ISO_IR 148", "\xFD", "ı"},
        {"ISO_IR 203", "\xA4", "€"},
        {"ISO_IR 166", "\xA1", "ก"},
        {"ISO_IR 13", "\xB1", "ｱ"},
        {"GBK", "\xCD\xF5", "王"},
        {"GB18030", "\x81\x30\x81\x30", "\xC2\x80"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;

        assert_int_equal(dcm_charset_to_utf8(cases[i].scs, cases[i].in, strlen(cases[i].in),
                                             DCM_VR_LO, &out), DCM_OK);
        if (strcmp(out, cases[i].expected) != 0)
            fail_msg("%s: expected '%s', got '%s'", cases[i].scs, cases[i].expected, out);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_names_decode),
        cmocka_unit_test(default_repertoire_passes_ascii),
        cmocka_unit_test(invalid_bytes_replaced),
        cmocka_unit_test(delimiters_reset_designation),
        cmocka_unit_test(ascii_text_copied),
        cmocka_unit_test(single_byte_terms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
