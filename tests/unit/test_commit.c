/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the Storage Commitment SCU's logic that needs no network: the
 * retry schedule, Transaction UIDs, the role selection rule, the
 * `commitment` group of a remote, the SQLite back end's commitment ops,
 * and the application of N-EVENT-REPORTs to the index. The index-sqlite
 * plugin is loaded for real from the build's plugin folder, and each test
 * works in its own mkdtemp folder.
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

#include "archive/archive.h"
#include "commit/commit.h"
#include "config/conf.h"
#include "dcm/dcm.h"
#include "plugin/plugin.h"

#define SC_CLASS "1.2.840.10008.5.1.4.1.1.7"
#define STUDY "1.2.826.0.1.3680043.9.7433.99.40.1"

typedef struct fixture {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    archive *ar;
    const cairn_index_ops *ops;
    void *db;
} fixture;

static const char remotes_conf[] =
    "remotes = (\n"
    "  { title = \"BACKUP\"; host = \"127.0.0.1\"; port = 104;\n"
    "    commitment = { calling_ae = \"CAIRN\"; retry_delay = 30; retry_delay_max = 100; }; },\n"
    "  { title = \"ANYAE\"; host = \"127.0.0.1\"; port = 104; commitment = { }; },\n"
    "  { title = \"OFF\"; host = \"127.0.0.1\"; port = 104; commitment = { enabled = false; }; },\n"
    "  { title = \"PLAIN\"; host = \"127.0.0.1\"; port = 104; }\n"
    ");\n";

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

/* Writes a configuration with extra text and loads it; returns conf_load's result. */
static int load_conf(fixture *fx, const char *extra, char *err, size_t errlen)
{
    char path[128], text[4096];

    snprintf(path, sizeof path, "%s/cairn.conf", fx->dir);
    snprintf(text, sizeof text,
             "storage = { path = \"storage\"; };\n"
             "plugin_directory = \"%s\";\n"
             "plugins = { index-sqlite = { }; commitment = { }; };\n"
             "aes = ( { title = \"CAIRN\"; port = 11112;\n"
             "          plugins = [ \"index-sqlite\", \"commitment\" ]; },\n"
             "        { title = \"OTHER\"; port = 11112; plugins = [ \"index-sqlite\" ]; } );\n"
             "%s",
             CAIRN_PLUGIN_BUILD_DIR, extra);
    write_file(path, text);
    return conf_load(path, &fx->conf, err, errlen);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char storage[128], err[512] = "";
    const plugin_index *index;

    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-commit-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(storage, sizeof storage, "%s/storage", fx->dir);
    assert_int_equal(mkdir(storage, 0700), 0);
    if (load_conf(fx, remotes_conf, err, sizeof err) != 0)
        fail_msg("cannot load the configuration: %s", err);
    assert_int_equal(plugin_registry_load(fx->conf, &fx->registry), 0);
    index = plugin_find_index(fx->registry, "index-sqlite");
    assert_non_null(index);
    assert_int_equal(archive_open(fx->conf->storage_path, &index->ops, index->backend_state,
                                  &fx->ar),
                     0);
    fx->ops = archive_index_ops(fx->ar);
    fx->db = archive_index_db(fx->ar);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char command[160];

    archive_close(fx->ar);
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    snprintf(command, sizeof command, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(command), 0);
    free(fx);
    return 0;
}

/* One pending row of STUDY at remote under transaction. */
static cairn_commitment pending_row(const char *remote, const char *sop_uid,
                                    const char *transaction, int64_t due)
{
    cairn_commitment row = {
        .struct_size = sizeof row,
        .state = CAIRN_COMMITMENT_PENDING,
        .remote_ae = remote,
        .sop_instance_uid = sop_uid,
        .sop_class_uid = SC_CLASS,
        .study_instance_uid = STUDY,
        .calling_ae = "CAIRN",
        .transaction_uid = transaction,
        .note = "waiting",
        .requested_at_us = 1000,
        .due_at_us = due,
        .updated_at_us = 1000,
        .attempts = 1,
    };

    return row;
}

/* Rows collected by a listing. */
typedef struct collected {
    char uid[16][65];
    cairn_commitment_state state[16];
    uint32_t reason[16];
    char note[16][64];
    size_t count;
} collected;

static int collect(void *arg, const cairn_commitment *row)
{
    collected *c = arg;

    if (c->count == 16)
        return 1;
    snprintf(c->uid[c->count], sizeof c->uid[0], "%s", row->sop_instance_uid);
    c->state[c->count] = row->state;
    c->reason[c->count] = row->failure_reason;
    snprintf(c->note[c->count], sizeof c->note[0], "%s", row->note);
    c->count++;
    return 0;
}

static collected list_rows(fixture *fx, const cairn_commitment_filter *filter)
{
    collected c;

    memset(&c, 0, sizeof c);
    assert_int_equal(fx->ops->commitment_list(fx->db, filter, collect, &c), CAIRN_OK);
    return c;
}

static void test_retry_delay_doubles_to_cap(void **state)
{
    conf_remote_commitment settings = {.retry_delay = 30, .retry_delay_max = 100};

    (void)state;
    assert_int_equal(commit_retry_delay(&settings, 1), 30);
    assert_int_equal(commit_retry_delay(&settings, 2), 60);
    assert_int_equal(commit_retry_delay(&settings, 3), 100);
    assert_int_equal(commit_retry_delay(&settings, 50), 100);
}

static void test_new_uid_format(void **state)
{
    char first[65], uid[65];

    (void)state;
    assert_int_equal(commit_new_uid(first), 0);
    for (int i = 0; i < 200; i++) {
        size_t length;

        assert_int_equal(commit_new_uid(uid), 0);
        length = strlen(uid);
        assert_true(length > 5 && length <= 64);
        assert_memory_equal(uid, "2.25.", 5);
        assert_true(uid[5] != '0');
        assert_int_equal(strspn(uid + 5, "0123456789"), length - 5);
        assert_string_not_equal(uid, first);
    }
}

static void test_role_rule(void **state)
{
    static const struct {
        const char *called, *calling;
        bool allowed;
    } cases[] = {
        {"CAIRN", "BACKUP", true},   /* its calling_ae */
        {"OTHER", "BACKUP", false},  /* another of our AEs */
        {"OTHER", "ANYAE", true},    /* no calling_ae: any of our AEs */
        {"CAIRN", "OFF", false},     /* group disabled */
        {"CAIRN", "PLAIN", false},   /* no group */
        {"CAIRN", "STRANGER", false} /* not a remote */
    };
    fixture *fx = *state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(commit_report_role_allowed(fx->conf, cases[i].called, cases[i].calling),
                         cases[i].allowed);
    assert_false(commit_report_role_allowed(NULL, "CAIRN", "BACKUP"));
}

static void test_config_group(void **state)
{
    fixture *fx = *state;
    const conf_remote *backup = conf_find_remote(fx->conf, "BACKUP");
    const conf_remote *plain = conf_find_remote(fx->conf, "PLAIN");
    fixture other = {0};
    char err[512] = "";

    assert_non_null(backup);
    assert_true(backup->commitment.enabled);
    assert_string_equal(backup->commitment.calling_ae, "CAIRN");
    assert_int_equal(backup->commitment.report_timeout, 600);
    assert_int_equal(backup->commitment.max_attempts, 5);
    assert_int_equal(backup->commitment.same_association_wait_ms, 500);
    assert_non_null(plain);
    assert_false(plain->commitment.enabled);

    memcpy(other.dir, fx->dir, sizeof other.dir);
    assert_int_equal(load_conf(&other,
                               "remotes = ( { title = \"B\"; host = \"h\"; port = 1;"
                               " commitment = { calling_ae = \"NOPE\"; }; } );\n",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "remotes[0].commitment.calling_ae"));
    assert_non_null(strstr(err, "NOPE"));
    assert_int_equal(load_conf(&other,
                               "remotes = ( { title = \"B\"; host = \"h\"; port = 1;"
                               " commitment = { retry_delay = 50; retry_delay_max = 10; }; } );\n",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "retry_delay_max"));
    assert_int_equal(load_conf(&other,
                               "remotes = ( { title = \"B\"; host = \"h\"; port = 1;"
                               " commitment = { colour = 1; }; } );\n",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "colour"));

    /* OTHER does not host the commitment plugin, so no report could reach it. */
    assert_int_equal(load_conf(&other,
                               "remotes = ( { title = \"B\"; host = \"h\"; port = 1;"
                               " commitment = { calling_ae = \"OTHER\"; }; } );\n",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "remotes[0].commitment.calling_ae"));
    assert_non_null(strstr(err, "does not host the commitment plugin"));
    assert_int_equal(load_conf(&other,
                               "remotes = ( { title = \"B\"; host = \"h\"; port = 1;"
                               " commitment = { enabled = false; calling_ae = \"OTHER\"; }; } );\n",
                               err, sizeof err),
                     0);
    conf_destroy(other.conf);
}

static void test_sqlite_put_list_filter(void **state)
{
    fixture *fx = *state;
    cairn_commitment rows[3] = {
        pending_row("BACKUP", "1.2.3.1", "2.25.1", 100),
        pending_row("BACKUP", "1.2.3.2", "2.25.1", 500),
        pending_row("OTHER", "1.2.3.1", "2.25.2", 100),
    };
    cairn_commitment_filter filter = {.struct_size = sizeof filter, .state = -1};
    collected c;

    assert_int_equal(fx->ops->commitment_put(fx->db, rows, 3), CAIRN_OK);
    c = list_rows(fx, NULL);
    assert_int_equal(c.count, 3);

    filter.remote_ae = "BACKUP";
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.uid[0], "1.2.3.1");
    assert_string_equal(c.uid[1], "1.2.3.2");

    filter.due_before_us = 200;
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 1);

    filter = (cairn_commitment_filter){.struct_size = sizeof filter, .state = -1,
                                       .transaction_uid = "2.25.2"};
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 1);
    filter = (cairn_commitment_filter){.struct_size = sizeof filter,
                                       .state = CAIRN_COMMITMENT_COMMITTED};
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 0);
    filter = (cairn_commitment_filter){.struct_size = sizeof filter, .state = -1,
                                       .study_instance_uid = STUDY, .max_rows = 2};
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 2);

    /* The same remote and instance again replaces the row. */
    rows[0].transaction_uid = "2.25.3";
    assert_int_equal(fx->ops->commitment_put(fx->db, rows, 1), CAIRN_OK);
    c = list_rows(fx, NULL);
    assert_int_equal(c.count, 3);

    /* Invalid rows are rejected as a whole. */
    rows[1].remote_ae = "";
    assert_int_equal(fx->ops->commitment_put(fx->db, rows, 2), CAIRN_ERR_INVALID_ARGUMENT);
}

static void test_sqlite_report_changes_pending_only(void **state)
{
    fixture *fx = *state;
    cairn_commitment rows[2] = {
        pending_row("BACKUP", "1.2.3.1", "2.25.7", 100),
        pending_row("BACKUP", "1.2.3.2", "2.25.7", 100),
    };
    cairn_commitment result = {.struct_size = sizeof result,
                               .state = CAIRN_COMMITMENT_COMMITTED,
                               .sop_instance_uid = "1.2.3.1",
                               .note = "",
                               .updated_at_us = 2000};
    size_t updated = 99;
    collected c;

    assert_int_equal(fx->ops->commitment_put(fx->db, rows, 2), CAIRN_OK);
    assert_int_equal(fx->ops->commitment_report(fx->db, "2.25.7", &result, 1, &updated),
                     CAIRN_OK);
    assert_int_equal(updated, 1);

    /* A second, contradicting report finds the row no longer pending. */
    result.state = CAIRN_COMMITMENT_FAILED;
    result.failure_reason = 0x0112;
    assert_int_equal(fx->ops->commitment_report(fx->db, "2.25.7", &result, 1, &updated),
                     CAIRN_OK);
    assert_int_equal(updated, 0);
    assert_int_equal(fx->ops->commitment_report(fx->db, "2.25.404", &result, 1, &updated),
                     CAIRN_ERR_NOT_FOUND);

    c = list_rows(fx, NULL);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.state[0], CAIRN_COMMITMENT_COMMITTED);
    assert_int_equal(c.state[1], CAIRN_COMMITMENT_PENDING);
}

/* Adds an item with the SOP Instance UID (and a Failure Reason when not 0) to sequence tag. */
static void add_item(dcm_dataset *info, dcm_tag tag, const char *uid, uint16_t reason)
{
    dcm_element *sequence = dcm_dataset_find(info, tag);
    dcm_dataset *item;

    if (sequence == NULL)
        sequence = dcm_dataset_add_sequence(info, tag);
    assert_non_null(sequence);
    item = dcm_element_append_item(sequence);
    assert_non_null(item);
    assert_int_equal(dcm_dataset_set_string(item, DCM_TAG(0x0008, 0x1150), DCM_VR_UI, SC_CLASS),
                     DCM_OK);
    assert_int_equal(dcm_dataset_set_string(item, DCM_TAG(0x0008, 0x1155), DCM_VR_UI, uid),
                     DCM_OK);
    if (reason != 0)
        assert_int_equal(dcm_dataset_set_u16(item, DCM_TAG(0x0008, 0x1197), reason), DCM_OK);
}

static dcm_dataset *event_info(const char *transaction)
{
    dcm_dataset *info = dcm_dataset_create();

    assert_non_null(info);
    if (transaction != NULL)
        assert_int_equal(dcm_dataset_set_string(info, DCM_TAG(0x0008, 0x1195), DCM_VR_UI,
                                                transaction),
                         DCM_OK);
    return info;
}

static void test_apply_report(void **state)
{
    fixture *fx = *state;
    cairn_commitment rows[3] = {
        pending_row("BACKUP", "1.2.3.1", "2.25.9", 100),
        pending_row("BACKUP", "1.2.3.2", "2.25.9", 100),
        pending_row("BACKUP", "1.2.3.3", "2.25.9", 100),
    };
    dcm_dataset *info = event_info("2.25.9");
    uint16_t status = 0xFFFF;
    char comment[128];
    collected c;

    assert_int_equal(fx->ops->commitment_put(fx->db, rows, 3), CAIRN_OK);
    add_item(info, DCM_TAG(0x0008, 0x1199), "1.2.3.1", 0);
    add_item(info, DCM_TAG(0x0008, 0x1198), "1.2.3.2", 0x0112);
    add_item(info, DCM_TAG(0x0008, 0x1198), "1.2.3.3", 0);
    commit_apply_report(fx->ar, NULL, "BACKUP", COMMIT_EVENT_SOME_FAILED, info, &status,
                        comment, sizeof comment);
    dcm_dataset_destroy(info);
    assert_int_equal(status, 0x0000);

    c = list_rows(fx, NULL);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.state[0], CAIRN_COMMITMENT_COMMITTED);
    assert_int_equal(c.state[1], CAIRN_COMMITMENT_FAILED);
    assert_int_equal(c.reason[1], 0x0112);
    assert_int_equal(c.state[2], CAIRN_COMMITMENT_FAILED);
    assert_int_equal(c.reason[2], 0x0110); /* the item had no Failure Reason */
}

static void test_apply_report_rejects_bad_input(void **state)
{
    fixture *fx = *state;
    cairn_commitment row = pending_row("BACKUP", "1.2.3.1", "2.25.10", 100);
    dcm_dataset *info;
    uint16_t status = 0;
    char comment[128];

    assert_int_equal(fx->ops->commitment_put(fx->db, &row, 1), CAIRN_OK);

    info = event_info("2.25.10");
    commit_apply_report(fx->ar, NULL, "BACKUP", 3, info, &status, comment, sizeof comment);
    assert_int_equal(status, 0x0113);
    dcm_dataset_destroy(info);

    info = event_info(NULL);
    commit_apply_report(fx->ar, NULL, "BACKUP", 1, info, &status, comment, sizeof comment);
    assert_int_equal(status, 0x0115);
    assert_string_equal(comment, "missing or invalid Transaction UID");
    dcm_dataset_destroy(info);

    info = event_info("2.25.10");
    add_item(info, DCM_TAG(0x0008, 0x1199), "1.2.x", 0);
    commit_apply_report(fx->ar, NULL, "BACKUP", 1, info, &status, comment, sizeof comment);
    assert_int_equal(status, 0x0115);
    assert_non_null(strstr(comment, "no valid SOP Instance UID"));
    dcm_dataset_destroy(info);

    info = event_info("2.25.11");
    add_item(info, DCM_TAG(0x0008, 0x1199), "1.2.3.1", 0);
    commit_apply_report(fx->ar, NULL, "BACKUP", 1, info, &status, comment, sizeof comment);
    assert_int_equal(status, 0x0110);
    assert_string_equal(comment, "unknown Transaction UID");
    dcm_dataset_destroy(info);
}

static void test_request_sent_records_pending(void **state)
{
    fixture *fx = *state;
    commit_instance instances[2] = {
        {SC_CLASS, "1.2.3.21", STUDY},
        {SC_CLASS, "1.2.3.22", STUDY},
    };
    cairn_commitment_filter filter = {.struct_size = sizeof filter,
                                      .state = CAIRN_COMMITMENT_PENDING,
                                      .remote_ae = "BACKUP"};
    collected c;

    /* A remote without the group gets no rows. */
    assert_int_equal(commit_request_sent(fx->conf, fx->ar, "PLAIN", "CAIRN", instances, 2),
                     CAIRN_OK);
    assert_int_equal(list_rows(fx, NULL).count, 0);

    assert_int_equal(commit_request_sent(fx->conf, fx->ar, "BACKUP", "OTHER", instances, 2),
                     CAIRN_OK);
    c = list_rows(fx, &filter);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.note[0], "to be requested");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_delay_doubles_to_cap),
        cmocka_unit_test(test_new_uid_format),
        cmocka_unit_test_setup_teardown(test_role_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_put_list_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_report_changes_pending_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_report_rejects_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_sent_records_pending, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
