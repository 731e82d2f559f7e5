/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of association negotiation (assoc_negotiate in core/assoc):
 * A-ASSOCIATE-RJ reasons, User Identity, presentation context results,
 * transfer syntax choice, SCP/SCU role selection, the asynchronous
 * operations window and extended negotiation.
 *
 * The tests load one configuration and a real plugin registry: the bundled
 * verification, storage and index-sqlite plugins from the build folder, and
 * the ext-neg test plugin (tests/plugins/ext-neg.c). That plugin serves a
 * private SOP class in both roles with Explicit VR Little Endian only, and
 * it has both extended negotiation callbacks. Each test builds an A-ASSOCIATE-RQ,
 * prefills the A-ASSOCIATE-AC as ul_accept does, and calls assoc_negotiate.
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

#define VERIFICATION "1.2.840.10008.1.1"
#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define EXT_NEG_CLASS "1.2.826.0.1.3680043.9.7433.99.1"
#define UNSERVED_CLASS "1.2.826.0.1.3680043.9.7433.99.2"
#define STORAGE_SERVICE_CLASS "1.2.840.10008.4.2"

#define IMPLICIT_LE "1.2.840.10008.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define EXPLICIT_BE "1.2.840.10008.1.2.2"
/* Known to the codec but in no preference list of the test configuration. */
#define JPEG_EXTENDED_3_5 "1.2.840.10008.1.2.4.52"

#define MAIN_PORT 11112
#define OTHER_PORT 11113

/* Names the file the ext-neg plugin appends common extended negotiation to. */
#define RECORD_FILE_VARIABLE "CAIRN_TEST_COMMON_EXT_NEG_FILE"

#define MAX_PDU_RECEIVE 16384u
#define OUR_IMPLEMENTATION_UID "1.2.826.0.1.3680043.9.7433.1"

/*
 * MAIN and GUARDED share MAIN_PORT, and IDENT and PREFER_IMPLICIT listen on
 * OTHER_PORT. Only MAIN hosts storage and ext-neg.
 */
static const char config_text[] =
    "storage = { path = \"storage\"; };\n"
    "plugin_directory = \"" CAIRN_PLUGIN_BUILD_DIR "\";\n"
    "index = { plugin = \"index-sqlite\"; };\n"
    "plugins = {\n"
    "  verification = { };\n"
    "  storage = { };\n"
    "  index-sqlite = { };\n"
    "  ext-neg = { file = \"" CAIRN_TEST_PLUGIN_DIR "/ext-neg.so\"; };\n"
    "};\n"
    "aes = (\n"
    "  { title = \"MAIN\"; port = 11112;\n"
    "    plugins = [ \"verification\", \"storage\", \"ext-neg\" ]; },\n"
    "  { title = \"GUARDED\"; port = 11112; plugins = [ \"verification\" ];\n"
    "    accept_callers = [ \"FRIEND\" ]; },\n"
    "  { title = \"IDENT\"; port = 11113; plugins = [ \"verification\" ];\n"
    "    user_identity = \"require\"; users = [ \"alice\" ]; },\n"
    "  { title = \"PREFER_IMPLICIT\"; port = 11113; plugins = [ \"verification\" ];\n"
    "    transfer_syntaxes = [ \"1.2.840.10008.1.2\", \"1.2.840.10008.1.2.1\" ]; }\n"
    ");\n";

/* The loaded configuration and registry that every test negotiates against. */
struct fixture {
    char dir[64];
    char record_path[128];
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
    const conf_ae *ae;
};

static int setup_registry(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    char path[128];
    char err[512];
    FILE *file;

    if (fx == NULL)
        return -1;
    strcpy(fx->dir, "/tmp/cairn-negotiate-test-XXXXXX");
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

    snprintf(fx->record_path, sizeof fx->record_path, "%s/common.txt", fx->dir);
    setenv(RECORD_FILE_VARIABLE, fx->record_path, 1);

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
    unsetenv(RECORD_FILE_VARIABLE);

    unlink(fx->record_path);
    snprintf(path, sizeof path, "%s/cairn.conf", fx->dir);
    unlink(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Starts a request from calling to called with the DICOM application context. */
static void begin(struct exchange *ex, const char *called, const char *calling)
{
    memset(ex, 0, sizeof *ex);
    ex->rq.protocol_version = UL_PROTOCOL_VERSION;
    snprintf(ex->rq.called_ae, sizeof ex->rq.called_ae, "%s", called);
    snprintf(ex->rq.calling_ae, sizeof ex->rq.calling_ae, "%s", calling);
    strcpy(ex->rq.application_context, UL_DICOM_APPLICATION_CONTEXT);
    ex->rq.user_info.max_pdu_length = 32768;
    strcpy(ex->rq.user_info.implementation_class_uid, "1.2.826.0.1.3680043.9.7433.2");
}

static void propose(struct exchange *ex, uint8_t id, const char *abstract_syntax,
                    const char *const *transfer_syntaxes, size_t count)
{
    assert_int_equal(ul_assoc_rq_add_pctx(&ex->rq, id, abstract_syntax, transfer_syntaxes,
                                          count), 0);
}

/* Proposes one context with Implicit and Explicit VR Little Endian. */
static void propose_default(struct exchange *ex, uint8_t id, const char *abstract_syntax)
{
    static const char *const both[] = {IMPLICIT_LE, EXPLICIT_LE};

    propose(ex, id, abstract_syntax, both, 2);
}

static void add_user_identity(struct exchange *ex, const char *user, bool want_response)
{
    ul_user_identity_rq *uid = &ex->rq.user_info.user_identity;

    uid->present = true;
    uid->type = UL_USER_IDENTITY_USERNAME;
    uid->positive_response_requested = want_response;
    uid->primary = (uint8_t *)strdup(user);
    assert_non_null(uid->primary);
    uid->primary_len = strlen(user);
}

static void add_ext_neg(struct exchange *ex, const char *sop_class, const uint8_t *info,
                        size_t len)
{
    ul_user_info_rq *ui = &ex->rq.user_info;
    ul_ext_neg *items = realloc(ui->ext_neg, (ui->ext_neg_count + 1) * sizeof *items);
    ul_ext_neg *item;

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

static void add_common_ext_neg(struct exchange *ex, const char *sop_class,
                               const char *service_class, const char *const *related,
                               size_t n_related)
{
    ul_user_info_rq *ui = &ex->rq.user_info;
    ul_common_ext_neg *items =
        realloc(ui->common_ext_neg, (ui->common_ext_neg_count + 1) * sizeof *items);
    ul_common_ext_neg *item;

    assert_non_null(items);
    ui->common_ext_neg = items;
    item = &items[ui->common_ext_neg_count];
    memset(item, 0, sizeof *item);
    snprintf(item->sop_class_uid, sizeof item->sop_class_uid, "%s", sop_class);
    snprintf(item->service_class_uid, sizeof item->service_class_uid, "%s", service_class);
    if (n_related > 0) {
        item->related_sop_classes = calloc(n_related, sizeof *item->related_sop_classes);
        assert_non_null(item->related_sop_classes);
    }
    for (size_t i = 0; i < n_related; i++)
        snprintf(item->related_sop_classes[i], sizeof item->related_sop_classes[i], "%s",
                 related[i]);
    item->related_sop_class_count = n_related;
    ui->common_ext_neg_count++;
}

/* Fills the AC header as ul_accept's prefill_ac does before it negotiates. */
static void prefill_ac(const ul_assoc_rq *rq, ul_assoc_ac *ac)
{
    memset(ac, 0, sizeof *ac);
    ac->protocol_version = UL_PROTOCOL_VERSION;
    memcpy(ac->called_ae, rq->called_ae, sizeof ac->called_ae);
    memcpy(ac->calling_ae, rq->calling_ae, sizeof ac->calling_ae);
    memcpy(ac->application_context, rq->application_context, sizeof ac->application_context);
    ac->user_info.max_pdu_length = MAX_PDU_RECEIVE;
    strcpy(ac->user_info.implementation_class_uid, OUR_IMPLEMENTATION_UID);
    strcpy(ac->user_info.implementation_version_name, "CAIRN_TEST");
}

/* Negotiates the request on port as an association arriving there would. */
static void negotiate(void **state, struct exchange *ex, uint16_t port)
{
    struct fixture *fx = *state;
    assoc_negotiation neg = {.env = &fx->env, .local_port = port, .log = NULL};

    ex->rj = (ul_assoc_rj){0, 0, 0};
    prefill_ac(&ex->rq, &ex->ac);
    ex->decision = assoc_negotiate(&neg, &ex->rq, &ex->ac, &ex->rj);
    ex->ae = neg.ae;
}

static void end(struct exchange *ex)
{
    ul_assoc_rq_free(&ex->rq);
    ul_assoc_ac_free(&ex->ac);
}

static void assert_rejected(const struct exchange *ex, uint8_t result, uint8_t source,
                            uint8_t reason)
{
    assert_int_equal(ex->decision, 1);
    assert_int_equal(ex->rj.result, result);
    assert_int_equal(ex->rj.source, source);
    assert_int_equal(ex->rj.reason, reason);
}

static void assert_accepted(const struct exchange *ex, const char *ae_title)
{
    assert_int_equal(ex->decision, 0);
    assert_non_null(ex->ae);
    assert_string_equal(ex->ae->title, ae_title);
}

static const ul_pctx_ac *answer_of(const struct exchange *ex, uint8_t id)
{
    for (size_t i = 0; i < ex->ac.pctx_count; i++) {
        if (ex->ac.pctx[i].id == id)
            return &ex->ac.pctx[i];
    }
    fail_msg("the A-ASSOCIATE-AC has no answer for presentation context %u", id);
    return NULL;
}

static void assert_context(const struct exchange *ex, uint8_t id, uint8_t result,
                           const char *transfer_syntax)
{
    const ul_pctx_ac *pc = answer_of(ex, id);

    assert_int_equal(pc->result, result);
    if (transfer_syntax != NULL)
        assert_string_equal(pc->transfer_syntax, transfer_syntax);
}

static const ul_role_selection *role_answer_of(const struct exchange *ex, const char *sop_class)
{
    for (size_t i = 0; i < ex->ac.user_info.role_count; i++) {
        if (strcmp(ex->ac.user_info.roles[i].sop_class_uid, sop_class) == 0)
            return &ex->ac.user_info.roles[i];
    }
    return NULL;
}

static const ul_ext_neg *ext_neg_answer_of(const struct exchange *ex, const char *sop_class)
{
    for (size_t i = 0; i < ex->ac.user_info.ext_neg_count; i++) {
        if (strcmp(ex->ac.user_info.ext_neg[i].sop_class_uid, sop_class) == 0)
            return &ex->ac.user_info.ext_neg[i];
    }
    return NULL;
}

/* Runs one request with a single Verification context and returns its outcome. */
static void negotiate_echo(void **state, struct exchange *ex, const char *called,
                           const char *calling, uint16_t port)
{
    begin(ex, called, calling);
    propose_default(ex, 1, VERIFICATION);
    negotiate(state, ex, port);
}

static void test_called_ae_on_other_port(void **state)
{
    struct exchange ex;

    negotiate_echo(state, &ex, "IDENT", "SCU", MAIN_PORT);
    assert_rejected(&ex, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
                    UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED);
    assert_int_equal(ex.rj.reason, 7);
    assert_null(ex.ae);
    end(&ex);

    negotiate_echo(state, &ex, "NOBODY", "SCU", MAIN_PORT);
    assert_rejected(&ex, 1, 1, 7);
    end(&ex);

    negotiate_echo(state, &ex, "MAIN", "SCU", MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    end(&ex);
}

static void test_calling_ae_not_accepted(void **state)
{
    struct exchange ex;

    negotiate_echo(state, &ex, "GUARDED", "STRANGER", MAIN_PORT);
    assert_rejected(&ex, 1, 1, UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED);
    assert_int_equal(ex.rj.reason, 3);
    end(&ex);

    negotiate_echo(state, &ex, "GUARDED", "FRIEND", MAIN_PORT);
    assert_accepted(&ex, "GUARDED");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    end(&ex);
}

static void test_other_application_context(void **state)
{
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    strcpy(ex.rq.application_context, "1.2.840.10008.3.1.1.2");
    propose_default(&ex, 1, VERIFICATION);
    negotiate(state, &ex, MAIN_PORT);
    assert_rejected(&ex, 1, 1, UL_REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED);
    assert_int_equal(ex.rj.reason, 2);
    end(&ex);
}

static void test_user_identity_required(void **state)
{
    struct exchange ex;

    negotiate_echo(state, &ex, "IDENT", "SCU", OTHER_PORT);
    assert_rejected(&ex, 1, 1, 1);
    end(&ex);

    begin(&ex, "IDENT", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    add_user_identity(&ex, "alice", true);
    negotiate(state, &ex, OTHER_PORT);
    assert_accepted(&ex, "IDENT");
    assert_true(ex.ac.user_info.user_identity.present);
    /* A user name identity gets an empty server response (PS3.7 D.3.3.7.2). */
    assert_int_equal(ex.ac.user_info.user_identity.server_response_len, 0);
    end(&ex);

    begin(&ex, "IDENT", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    add_user_identity(&ex, "alice", false);
    negotiate(state, &ex, OTHER_PORT);
    assert_accepted(&ex, "IDENT");
    assert_false(ex.ac.user_info.user_identity.present);
    end(&ex);

    begin(&ex, "IDENT", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    add_user_identity(&ex, "bob", true);
    negotiate(state, &ex, OTHER_PORT);
    assert_rejected(&ex, 1, 1, 1);
    end(&ex);

    /* A prefix of an accepted name is another name. */
    begin(&ex, "IDENT", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    add_user_identity(&ex, "alic", true);
    negotiate(state, &ex, OTHER_PORT);
    assert_rejected(&ex, 1, 1, 1);
    end(&ex);
}

static void test_user_identity_ignored(void **state)
{
    struct exchange ex;

    /* MAIN ignores User Identity, so it accepts and sends no User Identity item. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    add_user_identity(&ex, "bob", true);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_false(ex.ac.user_info.user_identity.present);
    end(&ex);
}

static void test_abstract_syntax_not_served(void **state)
{
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, UNSERVED_CLASS);
    propose_default(&ex, 3, VERIFICATION);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_int_equal(ex.ac.pctx_count, 2);
    assert_context(&ex, 1, UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED, NULL);
    assert_context(&ex, 3, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    end(&ex);
}

static void test_storage_only_where_hosted(void **state)
{
    struct exchange ex;

    begin(&ex, "GUARDED", "FRIEND");
    propose_default(&ex, 1, CT_IMAGE_STORAGE);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "GUARDED");
    assert_context(&ex, 1, UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED, NULL);
    end(&ex);

    begin(&ex, "MAIN", "FRIEND");
    propose_default(&ex, 1, CT_IMAGE_STORAGE);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    end(&ex);
}

static void test_unknown_transfer_syntaxes(void **state)
{
    static const char *const unknown[] = {"1.2.3.4.5.6", "1.2.840.10008.1.2.4.999"};
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose(&ex, 1, CT_IMAGE_STORAGE, unknown, 2);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED, NULL);
    end(&ex);
}

static void test_service_transfer_syntax_limit(void **state)
{
    static const char *const implicit_only[] = {IMPLICIT_LE};
    static const char *const big_endian_then_explicit[] = {EXPLICIT_BE, EXPLICIT_LE};
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose(&ex, 1, EXT_NEG_CLASS, implicit_only, 1);
    propose(&ex, 3, EXT_NEG_CLASS, big_endian_then_explicit, 2);
    propose_default(&ex, 5, EXT_NEG_CLASS);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED, NULL);
    assert_context(&ex, 3, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    assert_context(&ex, 5, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    end(&ex);
}

static void test_transfer_syntax_preference(void **state)
{
    static const char *const explicit_first[] = {EXPLICIT_LE, IMPLICIT_LE};
    static const char *const outside_lists[] = {JPEG_EXTENDED_3_5};
    static const char *const big_endian_only[] = {EXPLICIT_BE};
    struct exchange ex;

    /* The default list prefers Explicit VR LE whatever order the peer proposes. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    propose(&ex, 3, CT_IMAGE_STORAGE, explicit_first, 2);
    propose(&ex, 5, CT_IMAGE_STORAGE, outside_lists, 1);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    assert_context(&ex, 3, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    assert_context(&ex, 5, UL_PCTX_ACCEPTANCE, JPEG_EXTENDED_3_5);
    end(&ex);

    /* An AE list that starts with Implicit VR LE wins over the peer's order. */
    begin(&ex, "PREFER_IMPLICIT", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    propose(&ex, 3, VERIFICATION, explicit_first, 2);
    propose(&ex, 5, VERIFICATION, big_endian_only, 1);
    negotiate(state, &ex, OTHER_PORT);
    assert_accepted(&ex, "PREFER_IMPLICIT");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, IMPLICIT_LE);
    assert_context(&ex, 3, UL_PCTX_ACCEPTANCE, IMPLICIT_LE);
    assert_context(&ex, 5, UL_PCTX_ACCEPTANCE, EXPLICIT_BE);
    end(&ex);
}

static void test_role_selection(void **state)
{
    const ul_role_selection *role;
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, CT_IMAGE_STORAGE);
    propose_default(&ex, 3, VERIFICATION);
    assert_int_equal(ul_assoc_rq_add_role(&ex.rq, CT_IMAGE_STORAGE, true, false), 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    assert_context(&ex, 3, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    role = role_answer_of(&ex, CT_IMAGE_STORAGE);
    assert_non_null(role);
    assert_int_equal(role->scu_role, 1);
    assert_int_equal(role->scp_role, 0);
    /* No role item was proposed for Verification, so the AC has none for it. */
    assert_null(role_answer_of(&ex, VERIFICATION));
    assert_int_equal(ex.ac.user_info.role_count, 1);
    end(&ex);

    /* The verification service is SCP only, so it cannot take the SCU role. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    assert_int_equal(ul_assoc_rq_add_role(&ex.rq, VERIFICATION, false, true), 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_USER_REJECTION, NULL);
    end(&ex);

    /* A C-GET requestor takes the SCP role for storage; the storage service is also SCU. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, CT_IMAGE_STORAGE);
    assert_int_equal(ul_assoc_rq_add_role(&ex.rq, CT_IMAGE_STORAGE, false, true), 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    role = role_answer_of(&ex, CT_IMAGE_STORAGE);
    assert_non_null(role);
    assert_int_equal(role->scu_role, 0);
    assert_int_equal(role->scp_role, 1);
    end(&ex);

    /* The ext-neg service takes both roles. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, EXT_NEG_CLASS);
    assert_int_equal(ul_assoc_rq_add_role(&ex.rq, EXT_NEG_CLASS, true, true), 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    role = role_answer_of(&ex, EXT_NEG_CLASS);
    assert_non_null(role);
    assert_int_equal(role->scu_role, 1);
    assert_int_equal(role->scp_role, 1);
    end(&ex);

    /* Storage with both roles proposed: the storage service takes both. */
    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, CT_IMAGE_STORAGE);
    assert_int_equal(ul_assoc_rq_add_role(&ex.rq, CT_IMAGE_STORAGE, true, true), 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_context(&ex, 1, UL_PCTX_ACCEPTANCE, EXPLICIT_LE);
    role = role_answer_of(&ex, CT_IMAGE_STORAGE);
    assert_non_null(role);
    assert_int_equal(role->scu_role, 1);
    assert_int_equal(role->scp_role, 1);
    end(&ex);
}

static void test_async_window(void **state)
{
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, VERIFICATION);
    ex.rq.user_info.async_window = (ul_async_window){.present = true, .invoked = 5,
                                                     .performed = 5};
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_true(ex.ac.user_info.async_window.present);
    assert_int_equal(ex.ac.user_info.async_window.invoked, 1);
    assert_int_equal(ex.ac.user_info.async_window.performed, 1);
    end(&ex);

    negotiate_echo(state, &ex, "MAIN", "SCU", MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_false(ex.ac.user_info.async_window.present);
    end(&ex);
}

static void test_sop_class_extended_negotiation(void **state)
{
    static const uint8_t request[] = {1, 2, 3, 4, 0, 7};
    static const uint8_t reversed[] = {7, 0, 4, 3, 2, 1};
    static const uint8_t storage_request[] = {1, 0, 1};
    const ul_ext_neg *answer;
    struct exchange ex;

    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, EXT_NEG_CLASS);
    propose_default(&ex, 3, CT_IMAGE_STORAGE);
    add_ext_neg(&ex, EXT_NEG_CLASS, request, sizeof request);
    add_ext_neg(&ex, CT_IMAGE_STORAGE, storage_request, sizeof storage_request);
    add_ext_neg(&ex, UNSERVED_CLASS, storage_request, sizeof storage_request);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");

    answer = ext_neg_answer_of(&ex, EXT_NEG_CLASS);
    assert_non_null(answer);
    assert_int_equal(answer->info_len, sizeof reversed);
    assert_memory_equal(answer->info, reversed, sizeof reversed);

    /* The storage service has no callback, and no service serves the last class. */
    assert_null(ext_neg_answer_of(&ex, CT_IMAGE_STORAGE));
    assert_null(ext_neg_answer_of(&ex, UNSERVED_CLASS));
    assert_int_equal(ex.ac.user_info.ext_neg_count, 1);
    end(&ex);

    /* An AE that does not host ext-neg does not pass the item on. */
    begin(&ex, "GUARDED", "FRIEND");
    propose_default(&ex, 1, VERIFICATION);
    add_ext_neg(&ex, EXT_NEG_CLASS, request, sizeof request);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "GUARDED");
    assert_int_equal(ex.ac.user_info.ext_neg_count, 0);
    end(&ex);
}

/* Reads the whole record file of the ext-neg plugin, or "" when it is absent. */
static void read_record(const struct fixture *fx, char *buf, size_t size)
{
    FILE *file = fopen(fx->record_path, "r");
    size_t n = 0;

    if (file != NULL) {
        n = fread(buf, 1, size - 1, file);
        fclose(file);
    }
    buf[n] = '\0';
}

static void test_common_extended_negotiation(void **state)
{
    static const char *const related[] = {"1.2.840.10008.5.1.4.1.1.2.1",
                                          "1.2.840.10008.5.1.4.1.1.4"};
    struct fixture *fx = *state;
    char record[1024];
    struct exchange ex;

    unlink(fx->record_path);

    begin(&ex, "MAIN", "SCU");
    propose_default(&ex, 1, EXT_NEG_CLASS);
    add_common_ext_neg(&ex, EXT_NEG_CLASS, STORAGE_SERVICE_CLASS, related, 2);
    add_common_ext_neg(&ex, CT_IMAGE_STORAGE, STORAGE_SERVICE_CLASS, NULL, 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    /* Common extended negotiation has no answer item. */
    assert_int_equal(ex.ac.user_info.ext_neg_count, 0);
    end(&ex);

    read_record(fx, record, sizeof record);
    assert_string_equal(record, EXT_NEG_CLASS " " STORAGE_SERVICE_CLASS
                                " 2 1.2.840.10008.5.1.4.1.1.2.1 1.2.840.10008.5.1.4.1.1.4\n");

    /* An AE that does not host ext-neg does not call it. */
    unlink(fx->record_path);
    begin(&ex, "GUARDED", "FRIEND");
    propose_default(&ex, 1, VERIFICATION);
    add_common_ext_neg(&ex, EXT_NEG_CLASS, STORAGE_SERVICE_CLASS, NULL, 0);
    negotiate(state, &ex, MAIN_PORT);
    assert_accepted(&ex, "GUARDED");
    end(&ex);
    read_record(fx, record, sizeof record);
    assert_string_equal(record, "");
}

static void test_prefilled_header_kept(void **state)
{
    struct exchange ex;

    negotiate_echo(state, &ex, "MAIN", "SCU", MAIN_PORT);
    assert_accepted(&ex, "MAIN");
    assert_int_equal(ex.ac.protocol_version, UL_PROTOCOL_VERSION);
    assert_string_equal(ex.ac.called_ae, "MAIN");
    assert_string_equal(ex.ac.calling_ae, "SCU");
    assert_string_equal(ex.ac.application_context, UL_DICOM_APPLICATION_CONTEXT);
    assert_int_equal(ex.ac.user_info.max_pdu_length, MAX_PDU_RECEIVE);
    assert_string_equal(ex.ac.user_info.implementation_class_uid, OUR_IMPLEMENTATION_UID);
    assert_int_equal(ex.ac.pctx_count, 1);
    end(&ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_called_ae_on_other_port),
        cmocka_unit_test(test_calling_ae_not_accepted),
        cmocka_unit_test(test_other_application_context),
        cmocka_unit_test(test_user_identity_required),
        cmocka_unit_test(test_user_identity_ignored),
        cmocka_unit_test(test_abstract_syntax_not_served),
        cmocka_unit_test(test_storage_only_where_hosted),
        cmocka_unit_test(test_unknown_transfer_syntaxes),
        cmocka_unit_test(test_service_transfer_syntax_limit),
        cmocka_unit_test(test_transfer_syntax_preference),
        cmocka_unit_test(test_role_selection),
        cmocka_unit_test(test_async_window),
        cmocka_unit_test(test_sop_class_extended_negotiation),
        cmocka_unit_test(test_common_extended_negotiation),
        cmocka_unit_test(test_prefilled_header_kept),
    };

    return cmocka_run_group_tests(tests, setup_registry, teardown_registry);
}
