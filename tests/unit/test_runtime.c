/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the run-time state (core/runtime). They cover
 * configuration snapshots that outlive a reload while held, and the AE
 * enabled flags across reloads and control API changes. They also cover
 * reloads that must be rejected: a syntax error, an unknown key, and a
 * change to the plugins or to the storage path. Each test writes its
 * configuration file into a temporary folder and rewrites it before
 * runtime_reload().
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

#include "runtime/runtime.h"
#include "util/log.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    runtime *rt;
    unsigned changes;  /* calls of the change function */
} fixture;

/* Two AEs, with the `enabled` key of OTHER and extra text per test. */
static void write_conf(fixture *fx, const char *other_enabled, const char *extra_ae,
                       const char *extra_top)
{
    FILE *f = fopen(fx->path, "w");

    assert_non_null(f);
    fprintf(f,
            "storage = { path = \"storage\"; };\n"
            "plugins = {\n"
            "  verification = { };\n"
            "  index-sqlite = { };\n"
            "};\n"
            "%s\n"
            "aes = (\n"
            "  { title = \"CAIRN\"; port = 11112; plugins = [ \"verification\" ]; },\n"
            "  { title = \"OTHER\"; port = 11113; enabled = %s;\n"
            "    plugins = [ \"verification\" ]; }%s\n"
            ");\n",
            extra_top, other_enabled, extra_ae);
    assert_int_equal(fclose(f), 0);
}

static void count_change(void *arg, runtime *rt)
{
    fixture *fx = arg;

    (void)rt;
    fx->changes++;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    cairn_conf *conf = NULL;
    char err[512];

    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-runtime-test-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/cairn.conf", fx->dir);
    write_conf(fx, "true", "", "");
    if (conf_load(fx->path, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "conf_load: %s\n", err);
        return -1;
    }
    if (runtime_create(conf, &fx->rt) != 0)
        return -1;
    runtime_set_change_fn(fx->rt, count_change, fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    runtime_destroy(fx->rt);
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void test_acquire_survives_reload(void **state)
{
    fixture *fx = *state;
    char err[512] = "";
    const cairn_conf *before = runtime_conf_acquire(fx->rt);
    const cairn_conf *after;

    assert_int_equal(before->n_aes, 2);

    write_conf(fx, "true", ",\n  { title = \"THIRD\"; port = 11114; plugins = [ \"verification\" ]; }",
               "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(fx->changes, 1);

    after = runtime_conf_acquire(fx->rt);
    assert_ptr_not_equal(after, before);
    assert_int_equal(after->n_aes, 3);

    /* The old snapshot is still whole while held. */
    assert_int_equal(before->n_aes, 2);
    assert_string_equal(before->aes[1].title, "OTHER");
    runtime_conf_release(fx->rt, before);
    runtime_conf_release(fx->rt, after);
}

static void test_second_reload_frees_unheld(void **state)
{
    fixture *fx = *state;
    char err[512];
    const cairn_conf *held;

    /* A snapshot no association holds is freed at the next swap; one that
     * is held stays until released. Run under ASan or valgrind, a wrong
     * count shows as a leak or a use after free. */
    write_conf(fx, "true", "", "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    held = runtime_conf_acquire(fx->rt);
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_string_equal(held->aes[0].title, "CAIRN");
    runtime_conf_release(fx->rt, held);
    assert_int_equal(fx->changes, 3);
}

static void test_ae_flags_initial(void **state)
{
    fixture *fx = *state;

    assert_true(runtime_ae_enabled(fx->rt, "CAIRN"));
    assert_true(runtime_ae_enabled(fx->rt, "OTHER"));
    assert_false(runtime_ae_enabled(fx->rt, "NOBODY"));
    assert_int_equal(runtime_ae_set_enabled(fx->rt, "NOBODY", true), -1);
}

static void test_ae_flag_kept_across_reload(void **state)
{
    fixture *fx = *state;
    char err[512];

    assert_int_equal(runtime_ae_set_enabled(fx->rt, "OTHER", false), 0);
    assert_false(runtime_ae_enabled(fx->rt, "OTHER"));
    assert_int_equal(fx->changes, 1);

    /* Same `enabled` key: the run-time flag stays off. */
    write_conf(fx, "true", "", "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_false(runtime_ae_enabled(fx->rt, "OTHER"));
    assert_true(runtime_ae_enabled(fx->rt, "CAIRN"));
}

static void test_ae_flag_set_by_changed_key(void **state)
{
    fixture *fx = *state;
    char err[512];

    write_conf(fx, "false", "", "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_false(runtime_ae_enabled(fx->rt, "OTHER"));

    /* Enabled by the control API, then the file turns it on as well: on. */
    assert_int_equal(runtime_ae_set_enabled(fx->rt, "OTHER", true), 0);
    assert_true(runtime_ae_enabled(fx->rt, "OTHER"));
    write_conf(fx, "false", "", "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_true(runtime_ae_enabled(fx->rt, "OTHER"));

    /* The key changes from false to true while the flag is off: the key wins. */
    assert_int_equal(runtime_ae_set_enabled(fx->rt, "OTHER", false), 0);
    write_conf(fx, "true", "", "");
    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_true(runtime_ae_enabled(fx->rt, "OTHER"));
}

static void test_removed_ae_not_enabled(void **state)
{
    fixture *fx = *state;
    char err[512];
    FILE *f = fopen(fx->path, "w");

    assert_non_null(f);
    fputs("storage = { path = \"storage\"; };\n"
          "plugins = { verification = { }; index-sqlite = { }; };\n"
          "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"verification\" ]; } );\n",
          f);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), 0);
    assert_false(runtime_ae_enabled(fx->rt, "OTHER"));
    assert_int_equal(runtime_ae_set_enabled(fx->rt, "OTHER", true), -1);
}

/* Reloads a file that must be rejected and checks that nothing changed. */
static void expect_rejected(fixture *fx, const char *expected_part)
{
    char err[512] = "";
    const cairn_conf *before = runtime_conf_acquire(fx->rt);
    const cairn_conf *after;

    assert_int_equal(runtime_reload(fx->rt, err, sizeof err), -1);
    if (strstr(err, expected_part) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, expected_part);
    assert_non_null(strstr(err, fx->path));

    after = runtime_conf_acquire(fx->rt);
    assert_ptr_equal(after, before);
    assert_int_equal(fx->changes, 0);
    assert_true(runtime_ae_enabled(fx->rt, "OTHER"));
    runtime_conf_release(fx->rt, after);
    runtime_conf_release(fx->rt, before);
}

static void test_reject_syntax_error(void **state)
{
    fixture *fx = *state;

    write_conf(fx, "false", "", "this is not libconfig");
    expect_rejected(fx, ":6:");
}

static void test_reject_unknown_key(void **state)
{
    fixture *fx = *state;

    write_conf(fx, "false", "", "colour = \"blue\";");
    expect_rejected(fx, ":6: colour: unknown key");
}

static void test_reject_plugin_change(void **state)
{
    fixture *fx = *state;
    FILE *f = fopen(fx->path, "w");

    assert_non_null(f);
    fputs("storage = { path = \"storage\"; };\n"
          "plugins = {\n"
          "  verification = { };\n"
          "  index-sqlite = { cache_size = 4; };\n"
          "};\n"
          "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"verification\" ]; } );\n",
          f);
    assert_int_equal(fclose(f), 0);
    expect_rejected(fx, ":4: plugins.index-sqlite.cache_size: it was added; a reload cannot "
                        "change it; restart cairnd to apply it");
}

static void test_reject_storage_change(void **state)
{
    fixture *fx = *state;
    FILE *f = fopen(fx->path, "w");

    assert_non_null(f);
    fputs("storage = { path = \"elsewhere\"; };\n"
          "plugins = { verification = { }; index-sqlite = { }; };\n"
          "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"verification\" ]; } );\n",
          f);
    assert_int_equal(fclose(f), 0);
    expect_rejected(fx, ":1: storage.path: its value changed; a reload cannot change it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acquire_survives_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_reload_frees_unheld, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ae_flags_initial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ae_flag_kept_across_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ae_flag_set_by_changed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_ae_not_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_plugin_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_storage_change, setup, teardown),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
