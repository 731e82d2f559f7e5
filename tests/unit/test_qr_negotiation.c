/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the SOP Class Extended Negotiation answers of the qr
 * plugin (PS3.4 C.5.1 to C.5.3). The tests load a plugin registry with the
 * bundled verification, index-sqlite and qr plugins from the build folder,
 * build an A-ASSOCIATE-RQ with one extended negotiation item per
 * Query/Retrieve SOP class, and call assoc_negotiate as ul_accept does.
 *
 * The qr plugin accepts relational queries and retrieval (byte 1) and
 * combined date-time matching (byte 2 of C-FIND), declines every other
 * byte, and answers with as many bytes as the request had, at most five.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assoc/assoc.h"
#include "config/conf.h"
#include "plugin/plugin.h"
#include "ul/ul_pdu.h"

#define IMPLICIT_LE "1.2.840.10008.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"

#define PATIENT_ROOT_FIND "1.2.840.10008.5.1.4.1.2.1.1"
#define PATIENT_ROOT_MOVE "1.2.840.10008.5.1.4.1.2.1.2"
#define PATIENT_ROOT_GET "1.2.840.10008.5.1.4.1.2.1.3"
#define STUDY_ROOT_FIND "1.2.840.10008.5.1.4.1.2.2.1"
#define STUDY_ROOT_MOVE "1.2.840.10008.5.1.4.1.2.2.2"
#define STUDY_ROOT_GET "1.2.840.10008.5.1.4.1.2.2.3"
#define PATIENT_STUDY_ONLY_FIND "1.2.840.10008.5.1.4.1.2.3.1"
#define PATIENT_STUDY_ONLY_MOVE "1.2.840.10008.5.1.4.1.2.3.2"
#define PATIENT_STUDY_ONLY_GET "1.2.840.10008.5.1.4.1.2.3.3"

#define PORT 11112

static const char config_text[] =
    "storage = { path = \"storage\"; };\n"
    "plugin_directory = \"" CAIRN_PLUGIN_BUILD_DIR "\";\n"
    "index = { plugin = \"index-sqlite\"; };\n"
    "plugins = {\n"
    "  verification = { };\n"
    "  index-sqlite = { };\n"
    "  qr = { };\n"
    "};\n"
    "aes = (\n"
    "  { title = \"QR\"; port = 11112; plugins = [ \"verification\", \"qr\" ]; }\n"
    ");\n";

static const char *const find_classes[] = {PATIENT_ROOT_FIND, STUDY_ROOT_FIND,
                                           PATIENT_STUDY_ONLY_FIND};
static const char *const retrieve_classes[] = {PATIENT_ROOT_MOVE,       STUDY_ROOT_MOVE,
                                               PATIENT_STUDY_ONLY_MOVE, PATIENT_ROOT_GET,
                                               STUDY_ROOT_GET,          PATIENT_STUDY_ONLY_GET};

/* The loaded configuration and registry that every test negotiates against. */
struct fixture {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    assoc_env env;
};

/* One negotiation: the request, the AC or RJ filled, and what assoc_negotiate returned. */
struct exchange {
    ul_assoc_rq rq;
    ul_assoc_ac ac;
    ul_assoc_rj rj;
    int decision;
};

static int setup_registry(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    char path[128];
    char err[512];
    FILE *file;

    if (fx == NULL)
        return -1;
    strcpy(fx->dir, "/tmp/cairn-qr-negotiation-test-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;

    snprintf(path, sizeof path, "%s/cairn.conf", fx->dir);
    file = fopen(path, "w");
    if (file == NULL)
        return -1;
    fputs(config_text, file);
    if (fclose(file) != 0)
        return -1;

    if (conf_load(path, &fx->conf, err, sizeof err) != 0) {
        fprintf(stderr, "the test configuration does not load: %s\n", err);
        return -1;
    }
    if (plugin_registry_load(fx->conf, &fx->registry) != 0) {
        fprintf(stderr, "the plugins of the test configuration do not load\n");
        return -1;
    }

    fx->env = (assoc_env){.conf = fx->conf, .plugins = fx->registry, .archive = NULL};
    *state = fx;
    return 0;
}

static int teardown_registry(void **state)
{
    struct fixture *fx = *state;
    char path[128];

    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);

    snprintf(path, sizeof path, "%s/cairn.conf", fx->dir);
    unlink(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Starts a request from SCU to QR with the DICOM application context. */
static void begin(struct exchange *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->rq.protocol_version = UL_PROTOCOL_VERSION;
    strcpy(ex->rq.called_ae, "QR");
    strcpy(ex->rq.calling_ae, "SCU");
    strcpy(ex->rq.application_context, UL_DICOM_APPLICATION_CONTEXT);
    ex->rq.user_info.max_pdu_length = 32768;
    strcpy(ex->rq.user_info.implementation_class_uid, "1.2.826.0.1.3680043.9.7433.2");
}

/* Proposes sop_class on context id, with an extended negotiation item of info. */
static void propose(struct exchange *ex, uint8_t id, const char *sop_class, const uint8_t *info,
                    size_t len)
{
    static const char *const syntaxes[] = {IMPLICIT_LE, EXPLICIT_LE};
    ul_user_info_rq *ui = &ex->rq.user_info;
    ul_ext_neg *items;
    ul_ext_neg *item;

    assert_int_equal(ul_assoc_rq_add_pctx(&ex->rq, id, sop_class, syntaxes, 2), 0);

    items = realloc(ui->ext_neg, (ui->ext_neg_count + 1) * sizeof *items);
    assert_non_null(items);
    ui->ext_neg = items;
    item = &items[ui->ext_neg_count];
    memset(item, 0, sizeof *item);
    snprintf(item->sop_class_uid, sizeof item->sop_class_uid, "%s", sop_class);
    item->info = malloc(len);
    assert_non_null(item->info);
    memcpy(item->info, info, len);
    item->info_len = len;
    ui->ext_neg_count++;
}

/* Fills the AC header as ul_accept does, then negotiates as an association on PORT would. */
static void negotiate(void **state, struct exchange *ex)
{
    struct fixture *fx = *state;
    assoc_negotiation neg = {.env = &fx->env, .local_port = PORT, .log = NULL};

    memset(&ex->ac, 0, sizeof ex->ac);
    ex->ac.protocol_version = UL_PROTOCOL_VERSION;
    memcpy(ex->ac.called_ae, ex->rq.called_ae, sizeof ex->ac.called_ae);
    memcpy(ex->ac.calling_ae, ex->rq.calling_ae, sizeof ex->ac.calling_ae);
    memcpy(ex->ac.application_context, ex->rq.application_context,
           sizeof ex->ac.application_context);
    ex->ac.user_info.max_pdu_length = 16384;
    strcpy(ex->ac.user_info.implementation_class_uid, "1.2.826.0.1.3680043.9.7433.1");

    ex->rj = (ul_assoc_rj){0, 0, 0};
    ex->decision = assoc_negotiate(&neg, &ex->rq, &ex->ac, &ex->rj);
    assert_int_equal(ex->decision, 0);
}

static void end(struct exchange *ex)
{
    ul_assoc_rq_free(&ex->rq);
    ul_assoc_ac_free(&ex->ac);
}

static const ul_ext_neg *answer_of(const struct exchange *ex, const char *sop_class)
{
    for (size_t i = 0; i < ex->ac.user_info.ext_neg_count; i++) {
        if (strcmp(ex->ac.user_info.ext_neg[i].sop_class_uid, sop_class) == 0)
            return &ex->ac.user_info.ext_neg[i];
    }
    fail_msg("the A-ASSOCIATE-AC has no extended negotiation answer for %s", sop_class);
    return NULL;
}

/* Checks that the answer for sop_class is expected, byte for byte. */
static void assert_answer(const struct exchange *ex, const char *sop_class,
                          const uint8_t *expected, size_t len)
{
    const ul_ext_neg *answer = answer_of(ex, sop_class);

    assert_int_equal(answer->info_len, len);
    for (size_t i = 0; i < len; i++) {
        if (answer->info[i] != expected[i])
            fail_msg("%s: byte %zu of the answer is %u, expected %u", sop_class, i + 1,
                     answer->info[i], expected[i]);
    }
}

static void test_find_all_bytes_proposed(void **state)
{
    /* Relational, combined date-time, fuzzy matching, timezone, multi-frame conversion. */
    static const uint8_t request[] = {1, 1, 1, 1, 1};
    static const uint8_t expected[] = {1, 1, 0, 0, 0};
    struct exchange ex;

    begin(&ex);
    for (size_t i = 0; i < 3; i++)
        propose(&ex, (uint8_t)(1 + 2 * i), find_classes[i], request, sizeof request);
    negotiate(state, &ex);

    assert_int_equal(ex.ac.user_info.ext_neg_count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_answer(&ex, find_classes[i], expected, sizeof expected);
    end(&ex);
}

static void test_find_same_length_as_request(void **state)
{
    static const uint8_t one_byte[] = {1};
    static const uint8_t two_bytes[] = {0, 1};
    static const uint8_t three_bytes[] = {1, 0, 1};
    static const uint8_t three_expected[] = {1, 0, 0};
    struct exchange ex;

    begin(&ex);
    propose(&ex, 1, PATIENT_ROOT_FIND, one_byte, sizeof one_byte);
    propose(&ex, 3, STUDY_ROOT_FIND, two_bytes, sizeof two_bytes);
    propose(&ex, 5, PATIENT_STUDY_ONLY_FIND, three_bytes, sizeof three_bytes);
    negotiate(state, &ex);

    assert_answer(&ex, PATIENT_ROOT_FIND, one_byte, sizeof one_byte);
    assert_answer(&ex, STUDY_ROOT_FIND, two_bytes, sizeof two_bytes);
    assert_answer(&ex, PATIENT_STUDY_ONLY_FIND, three_expected, sizeof three_expected);
    end(&ex);
}

static void test_find_declined_when_not_proposed(void **state)
{
    static const uint8_t request[] = {0, 0, 0, 0, 0};
    static const uint8_t other_values[] = {2, 2};
    static const uint8_t zeros[] = {0, 0, 0, 0, 0};
    struct exchange ex;

    begin(&ex);
    propose(&ex, 1, PATIENT_ROOT_FIND, request, sizeof request);
    propose(&ex, 3, STUDY_ROOT_FIND, other_values, sizeof other_values);
    negotiate(state, &ex);

    assert_answer(&ex, PATIENT_ROOT_FIND, zeros, sizeof zeros);
    /* Only the value 1 proposes an option. */
    assert_answer(&ex, STUDY_ROOT_FIND, zeros, sizeof other_values);
    end(&ex);
}

static void test_find_longer_request_cut(void **state)
{
    static const uint8_t request[] = {1, 1, 1, 1, 1, 1, 1};
    static const uint8_t expected[] = {1, 1, 0, 0, 0};
    struct exchange ex;

    begin(&ex);
    propose(&ex, 1, STUDY_ROOT_FIND, request, sizeof request);
    negotiate(state, &ex);

    assert_answer(&ex, STUDY_ROOT_FIND, expected, sizeof expected);
    end(&ex);
}

static void test_retrieve_relational_accepted(void **state)
{
    static const uint8_t one_byte[] = {1};
    struct exchange ex;

    begin(&ex);
    for (size_t i = 0; i < 6; i++)
        propose(&ex, (uint8_t)(1 + 2 * i), retrieve_classes[i], one_byte, sizeof one_byte);
    negotiate(state, &ex);

    assert_int_equal(ex.ac.user_info.ext_neg_count, 6);
    for (size_t i = 0; i < 6; i++)
        assert_answer(&ex, retrieve_classes[i], one_byte, sizeof one_byte);
    end(&ex);
}

static void test_retrieve_second_byte_declined(void **state)
{
    /* Byte 2 of C-MOVE and C-GET is enhanced multi-frame image conversion. */
    static const uint8_t request[] = {1, 1};
    static const uint8_t expected[] = {1, 0};
    static const uint8_t not_relational[] = {0};
    struct exchange ex;

    begin(&ex);
    propose(&ex, 1, STUDY_ROOT_MOVE, request, sizeof request);
    propose(&ex, 3, PATIENT_ROOT_GET, request, sizeof request);
    propose(&ex, 5, STUDY_ROOT_GET, not_relational, sizeof not_relational);
    negotiate(state, &ex);

    assert_answer(&ex, STUDY_ROOT_MOVE, expected, sizeof expected);
    assert_answer(&ex, PATIENT_ROOT_GET, expected, sizeof expected);
    assert_answer(&ex, STUDY_ROOT_GET, not_relational, sizeof not_relational);
    end(&ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_all_bytes_proposed),
        cmocka_unit_test(test_find_same_length_as_request),
        cmocka_unit_test(test_find_declined_when_not_proposed),
        cmocka_unit_test(test_find_longer_request_cut),
        cmocka_unit_test(test_retrieve_relational_accepted),
        cmocka_unit_test(test_retrieve_second_byte_declined),
    };

    return cmocka_run_group_tests(tests, setup_registry, teardown_registry);
}
