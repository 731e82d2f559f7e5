/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the configuration loader (core/config): the packaged
 * etc/cairn.conf loads, each broken file under tests/unit/config fails with
 * an error naming file, line and key, and plugin sections read and check
 * their own keys through conf_section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "util/log.h"

#define CONFIG_DIR CAIRN_SOURCE_DIR "/tests/unit/config"

/* A broken file and two fragments its error must contain. */
struct bad_case {
    const char *name;
    const char *file;
    const char *location;  /* "FILE:LINE:" */
    const char *message;   /* key and message */
};

static const struct bad_case bad_cases[] = {
    {"unknown top-level key", "unknown_top_key.conf", "unknown_top_key.conf:10:",
     "colour: unknown key"},
    {"unknown key in an AE", "unknown_ae_key.conf", "unknown_ae_key.conf:9:",
     "aes[0].porto: unknown key"},
    {"string for an integer", "wrong_type.conf", "wrong_type.conf:11:",
     "network.max_associations: expected an integer, got a string"},
    {"max_associations out of range", "max_associations_range.conf",
     "max_associations_range.conf:12:",
     "network.max_associations: value 0 is out of range 1..4096"},
    {"duplicate AE title", "duplicate_ae_title.conf", "duplicate_ae_title.conf:9:",
     "aes[1].title: duplicate AE title \"CAIRN\""},
    {"bad bind address", "bad_bind.conf", "bad_bind.conf:9:",
     "aes[0].bind: invalid address \"10.0.0.300\""},
    {"AE names unknown plugin", "unknown_plugin.conf", "unknown_plugin.conf:9:",
     "aes[0].plugins[1]: unknown plugin \"query-retrieve\""},
    {"index plugin disabled", "index_plugin_disabled.conf", "index_plugin_disabled.conf:7:",
     "index.plugin: plugin \"index-sqlite\" is disabled"},
    {"default index plugin disabled", "index_default_disabled.conf",
     "index_default_disabled.conf:5:", "plugins.index-sqlite.enabled: the index plugin"},
    {"syntax error", "syntax_error.conf", "syntax_error.conf:11:", "syntax error"},
    {"missing storage.path", "missing_storage_path.conf", "missing_storage_path.conf:2:",
     "storage.path: missing required setting"},
    {"invalid storage.sync", "bad_storage_sync.conf", "bad_storage_sync.conf:3:",
     "storage.sync: invalid value \"fast\": use \"batch\" or \"file\""},
    {"blank AE title", "blank_ae_title.conf", "blank_ae_title.conf:8:",
     "aes[0].title: invalid AE title \"    \": it contains only spaces"},
    {"AE title too long", "long_ae_title.conf", "long_ae_title.conf:8:",
     "aes[0].title: invalid AE title \"ABCDEFGHIJKLMNOPQ\": it is longer than 16"},
    {"bad transfer syntax UID", "bad_transfer_syntax.conf", "bad_transfer_syntax.conf:12:",
     "network.transfer_syntaxes[0]: invalid transfer syntax UID \"1.2.840.10008.1.2.01\""},
    {"max_pdu_send below 4096", "max_pdu_send_range.conf", "max_pdu_send_range.conf:11:",
     "network.max_pdu_send: value 100 is out of range"},
    {"users without user_identity", "users_without_identity.conf",
     "users_without_identity.conf:9:", "aes[0].users: has no effect"},
    {"duplicate remote title", "duplicate_remote_title.conf",
     "duplicate_remote_title.conf:12:", "remotes[1].title: duplicate remote title \"PACS\""},
};

#define N_BAD_CASES (sizeof bad_cases / sizeof bad_cases[0])

static void assert_contains(const char *text, const char *fragment)
{
    if (strstr(text, fragment) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", fragment, text);
}

static cairn_conf *load_ok(const char *file)
{
    char err[512] = "";
    cairn_conf *conf = NULL;

    if (conf_load(file, &conf, err, sizeof err) != 0)
        fail_msg("conf_load(%s) failed: %s", file, err);
    assert_non_null(conf);
    return conf;
}

static void test_bad_config(void **state)
{
    const struct bad_case *bad = *state;
    char path[1024];
    char err[512] = "";
    cairn_conf *conf = (cairn_conf *)&conf;

    snprintf(path, sizeof path, "%s/%s", CONFIG_DIR, bad->file);
    assert_int_equal(conf_load(path, &conf, err, sizeof err), -1);
    assert_null(conf);
    assert_contains(err, bad->location);
    assert_contains(err, bad->message);
}

static void test_default_config_loads(void **state)
{
    cairn_conf *conf = load_ok(CAIRN_SOURCE_DIR "/etc/cairn.conf");
    const conf_ae *ae;

    (void)state;
    assert_int_equal(conf->log_level, LOG_LVL_INFO);
    assert_string_equal(conf->storage_path, "/var/lib/cairn/storage");
    assert_string_equal(conf->index_plugin, "index-sqlite");
    assert_string_equal(conf->plugin_directory, CAIRN_PLUGIN_DIR);
    assert_int_equal(conf->network.max_associations, 32);
    assert_int_equal(conf->network.max_pdu_receive, 131072);
    assert_int_equal(conf->network.max_pdu_send, 0);
    assert_int_equal(conf->network.n_transfer_syntaxes, 13);
    assert_string_equal(conf->network.transfer_syntaxes[0], "1.2.840.10008.1.2.1");
    assert_int_equal(conf->max_sequence_depth, 16);
    assert_int_equal(conf->n_remotes, 0);

    assert_int_equal(conf->n_aes, 1);
    ae = &conf->aes[0];
    assert_string_equal(ae->title, "CAIRN");
    assert_int_equal(ae->port, 11112);
    assert_string_equal(ae->bind, "127.0.0.1");
    assert_true(ae->enabled);
    assert_int_equal(ae->n_plugins, 4);
    assert_string_equal(ae->plugins[0], "verification");
    assert_string_equal(ae->plugins[1], "storage");
    assert_string_equal(ae->plugins[2], "qr");
    assert_string_equal(ae->plugins[3], "commitment");
    assert_null(ae->accept_callers);
    assert_null(ae->users);
    assert_int_equal(ae->user_identity, CONF_USER_IDENTITY_IGNORE);
    assert_int_equal(ae->n_transfer_syntaxes, conf->network.n_transfer_syntaxes);

    assert_non_null(conf_find_plugin(conf, "index-sqlite"));
    assert_true(conf_find_plugin(conf, "index-sqlite")->enabled);
    assert_null(conf_find_plugin(conf, "index-sqlite")->file);
    assert_null(conf_find_plugin(conf, "nonexistent"));
    conf_destroy(conf);
}

static void test_minimal_config_defaults(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/minimal.conf");

    (void)state;
    assert_string_equal(conf->storage_path, CONFIG_DIR "/storage");
    assert_string_equal(conf->storage_sync, "file");
    assert_string_equal(conf->aes[0].bind, "0.0.0.0");
    assert_int_equal(conf->network.max_wait, 30);
    assert_int_equal(conf->network.artim_timeout, 30);
    assert_int_equal(conf->network.dimse_timeout, 60);
    assert_int_equal(conf->network.idle_timeout, 300);
    assert_int_equal(conf->network.connect_timeout, 10);
    assert_int_equal(conf->network.shutdown_timeout, 10);
    assert_int_equal(conf->network.n_transfer_syntaxes, 13);
    assert_int_equal(conf->aes[0].line, 8);
    conf_destroy(conf);
}

static void test_full_config_values(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_plugin *storage;
    const conf_ae *ae;
    const conf_remote *remote;

    (void)state;
    assert_int_equal(conf->log_level, LOG_LVL_DEBUG);
    assert_string_equal(conf->storage_path, CONFIG_DIR "/data/storage");
    assert_string_equal(conf->plugin_directory, CONFIG_DIR "/plugins");
    assert_int_equal(conf->network.max_pdu_send, 16384);
    assert_int_equal(conf->network.n_transfer_syntaxes, 1);

    storage = conf_find_plugin(conf, "storage");
    assert_non_null(storage);
    assert_string_equal(storage->file, CONFIG_DIR "/lib/storage.so");
    assert_false(conf_find_plugin(conf, "qr")->enabled);

    ae = conf_find_ae(conf, "CAIRN");
    assert_non_null(ae);
    assert_string_equal(ae->bind, "::");
    assert_int_equal(ae->n_accept_callers, 2);
    assert_string_equal(ae->accept_callers[1], "CT");
    assert_int_equal(ae->user_identity, CONF_USER_IDENTITY_REQUIRE);
    assert_int_equal(ae->n_users, 2);
    assert_string_equal(ae->users[1], "bob");
    assert_int_equal(ae->n_transfer_syntaxes, 1);
    assert_string_equal(ae->transfer_syntaxes[0], "1.2.840.10008.1.2");

    ae = conf_find_ae(conf, "CAIRN_QR");
    assert_non_null(ae);
    assert_false(ae->enabled);
    assert_int_equal(ae->port, 11112);
    assert_string_equal(ae->transfer_syntaxes[0], "1.2.840.10008.1.2.1");

    remote = conf_find_remote(conf, "STORESCP");
    assert_non_null(remote);
    assert_string_equal(remote->host, "127.0.0.1");
    assert_int_equal(remote->port, 11113);
    assert_null(conf_find_remote(conf, "CAIRN"));
    conf_destroy(conf);
}

static void test_missing_file(void **state)
{
    char err[512] = "";
    cairn_conf *conf = NULL;

    (void)state;
    assert_int_equal(conf_load(CONFIG_DIR "/does-not-exist.conf", &conf, err, sizeof err), -1);
    assert_null(conf);
    assert_contains(err, "does-not-exist.conf: cannot open the file: No such file");
}

static void test_resolve_path(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/minimal.conf");
    char *path;

    (void)state;
    path = conf_resolve_path(conf, "a/../b/./c");
    assert_string_equal(path, CONFIG_DIR "/b/c");
    free(path);

    path = conf_resolve_path(conf, "/x//y/../z/");
    assert_string_equal(path, "/x/z");
    free(path);

    path = conf_resolve_path(conf, "/..");
    assert_string_equal(path, "/");
    free(path);

    assert_null(conf_resolve_path(conf, ""));
    conf_destroy(conf);
}

static void test_section_getters(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_section *section = conf_find_plugin(conf, "storage")->settings;
    char err[512] = "";
    const char *text;
    long long number;
    bool flag;

    (void)state;
    assert_string_equal(conf_section_path(section), "plugins.storage");

    assert_int_equal(conf_section_get_string(section, "duplicates", "reject", &text, err, sizeof err), 0);
    assert_string_equal(text, "keep");
    assert_int_equal(conf_section_get_string(section, "absent", "fallback", &text, err, sizeof err), 0);
    assert_string_equal(text, "fallback");

    assert_int_equal(conf_section_get_int(section, "retries", 1, 0, 10, &number, err, sizeof err), 0);
    assert_int_equal(number, 3);
    assert_int_equal(conf_section_get_int(section, "absent", 7, 0, 10, &number, err, sizeof err), 0);
    assert_int_equal(number, 7);

    assert_int_equal(conf_section_get_bool(section, "fsync", true, &flag, err, sizeof err), 0);
    assert_false(flag);
    assert_int_equal(conf_section_get_bool(section, "absent", true, &flag, err, sizeof err), 0);
    assert_true(flag);
    conf_destroy(conf);
}

static void test_section_getter_errors(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_section *section = conf_find_plugin(conf, "storage")->settings;
    char err[512] = "";
    const char *text;
    long long number;
    bool flag;

    (void)state;
    assert_int_equal(conf_section_get_int(section, "retries", 1, 5, 10, &number, err, sizeof err), -1);
    assert_contains(err, "sections.conf:12: plugins.storage.retries: value 3 is out of range 5..10");

    assert_int_equal(conf_section_get_int(section, "ratio", 1, 0, 10, &number, err, sizeof err), -1);
    assert_contains(err, "sections.conf:15: plugins.storage.ratio: expected an integer, got a floating-point number");

    assert_int_equal(conf_section_get_string(section, "retries", NULL, &text, err, sizeof err), -1);
    assert_contains(err, "sections.conf:12: plugins.storage.retries: expected a string, got an integer");

    assert_int_equal(conf_section_get_bool(section, "duplicates", false, &flag, err, sizeof err), -1);
    assert_contains(err, "sections.conf:11: plugins.storage.duplicates: expected a boolean, got a string");
    conf_destroy(conf);
}

static void test_section_string_list(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_section *section = conf_find_plugin(conf, "storage")->settings;
    char err[512] = "";
    const char **tags;
    const char **again;
    size_t n;

    (void)state;
    assert_int_equal(conf_section_get_string_list(section, "tags", &tags, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(tags[0], "a");
    assert_string_equal(tags[1], "b");

    assert_int_equal(conf_section_get_string_list(section, "tags", &again, &n, err, sizeof err), 0);
    assert_ptr_equal(again, tags);

    assert_int_equal(conf_section_get_string_list(section, "absent", &tags, &n, err, sizeof err), 0);
    assert_null(tags);
    assert_int_equal(n, 0);

    assert_int_equal(conf_section_get_string_list(section, "retries", &tags, &n, err, sizeof err), -1);
    assert_contains(err, "sections.conf:12: plugins.storage.retries: expected an array of strings");
    conf_destroy(conf);
}

static void test_section_check_keys(void **state)
{
    static const char *const all_keys[] = {"duplicates", "retries", "fsync", "tags", "ratio", "colour"};
    static const char *const some_keys[] = {"duplicates", "retries", "fsync", "tags", "ratio"};
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_section *section = conf_find_plugin(conf, "storage")->settings;
    const conf_section *empty = conf_find_plugin(conf, "verification")->settings;
    char err[512] = "";

    (void)state;
    assert_int_equal(conf_section_check_keys(section, all_keys, 6, err, sizeof err), 0);

    assert_int_equal(conf_section_check_keys(section, some_keys, 5, err, sizeof err), -1);
    assert_contains(err, "sections.conf:16: plugins.storage.colour: unknown key");

    assert_int_equal(conf_section_check_keys(empty, NULL, 0, err, sizeof err), 0);
    conf_destroy(conf);
}

static void test_section_format_error(void **state)
{
    cairn_conf *conf = load_ok(CONFIG_DIR "/sections.conf");
    const conf_section *section = conf_find_plugin(conf, "storage")->settings;
    char err[512] = "";

    (void)state;
    assert_int_equal(conf_section_format_error(section, "duplicates", err, sizeof err,
                                               "invalid policy \"%s\"", "keep"), -1);
    assert_contains(err, "sections.conf:11: plugins.storage.duplicates: invalid policy \"keep\"");

    assert_int_equal(conf_section_format_error(section, "absent", err, sizeof err, "missing"), -1);
    assert_contains(err, "sections.conf:9: plugins.storage.absent: missing");

    assert_int_equal(conf_section_format_error(section, NULL, err, sizeof err, "broken"), -1);
    assert_contains(err, "sections.conf:9: plugins.storage: broken");
    conf_destroy(conf);
}

static void test_section_without_setting(void **state)
{
    conf_section *section = conf_section_create(NULL, "cairn.conf", "plugins.echo");
    char err[512] = "";
    const char *text;
    long long number;
    const char **list;
    size_t n;

    (void)state;
    assert_non_null(section);
    assert_int_equal(conf_section_get_string(section, "name", "x", &text, err, sizeof err), 0);
    assert_string_equal(text, "x");
    assert_int_equal(conf_section_get_int(section, "count", 4, 0, 9, &number, err, sizeof err), 0);
    assert_int_equal(number, 4);
    assert_int_equal(conf_section_get_string_list(section, "list", &list, &n, err, sizeof err), 0);
    assert_null(list);
    assert_int_equal(conf_section_check_keys(section, NULL, 0, err, sizeof err), 0);

    conf_section_format_error(section, "count", err, sizeof err, "too many");
    assert_string_equal(err, "cairn.conf: plugins.echo.count: too many");
    conf_section_destroy(section);
    conf_section_destroy(NULL);
}

int main(void)
{
    struct CMUnitTest tests[N_BAD_CASES + 11] = {
        cmocka_unit_test(test_default_config_loads),
        cmocka_unit_test(test_minimal_config_defaults),
        cmocka_unit_test(test_full_config_values),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_resolve_path),
        cmocka_unit_test(test_section_getters),
        cmocka_unit_test(test_section_getter_errors),
        cmocka_unit_test(test_section_string_list),
        cmocka_unit_test(test_section_check_keys),
        cmocka_unit_test(test_section_format_error),
        cmocka_unit_test(test_section_without_setting),
    };

    for (size_t i = 0; i < N_BAD_CASES; i++) {
        struct CMUnitTest *test = &tests[11 + i];

        test->name = bad_cases[i].name;
        test->test_func = test_bad_config;
        test->initial_state = (void *)&bad_cases[i];
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
