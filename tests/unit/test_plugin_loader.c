/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the plugin loader and registry (core/plugin). Each tiny
 * plugin of tests/plugins fails to load in one way. Each failure must
 * reject the whole configuration with a log line that names the plugin and
 * the field, and must leave nothing loaded. The good plugin
 * loads, receives its settings and registers a service that the AEs
 * hosting it find. A few host API entries are called through the table.
 *
 * Every test writes its configuration to a fresh temporary folder, with
 * plugin_directory pointing at the folder where the test plugins are built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "plugin/plugin.h"

#define PLUGIN_DIR CAIRN_TEST_PLUGIN_DIR
#define VERIFICATION_SOP_CLASS "1.2.840.10008.1.1"
#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"

/* One load of a configuration: its folder, the result and what was logged. */
struct run {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    int rc;
    char log[16384];
};

static void path_in(const struct run *run, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", run->dir, name);
}

static bool file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* True while the shared object at path is mapped into this process. */
static bool is_loaded(const char *path)
{
    void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);

    if (handle == NULL)
        return false;
    dlclose(handle);
    return true;
}

/* Reads what the loader wrote to stderr (fd) into run->log. */
static void read_log(struct run *run, int fd)
{
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    n = read(fd, run->log, sizeof run->log - 1);
    run->log[n > 0 ? n : 0] = '\0';
}

/*
 * Writes a configuration with plugins_text as its plugins group and
 * main_plugin as its index plugin and the only plugin of its one AE. Then
 * loads it and its plugins with stderr captured into run->log.
 */
static void load_plugins(struct run *run, const char *main_plugin, const char *plugins_text)
{
    char path[128];
    char err[512];
    FILE *file;
    int saved_stderr;
    int log_fd;

    memset(run, 0, sizeof *run);
    strcpy(run->dir, "/tmp/cairn-plugin-test-XXXXXX");
    assert_non_null(mkdtemp(run->dir));

    path_in(run, "cairn.conf", path, sizeof path);
    file = fopen(path, "w");
    assert_non_null(file);
    fprintf(file,
            "storage = { path = \"storage\"; };\n"
            "plugin_directory = \"%s\";\n"
            "index = { plugin = \"%s\"; };\n"
            "plugins = {\n%s\n};\n"
            "aes = ( { title = \"TEST\"; port = 11112; plugins = [ \"%s\" ]; } );\n",
            PLUGIN_DIR, main_plugin, plugins_text, main_plugin);
    assert_int_equal(fclose(file), 0);

    if (conf_load(path, &run->conf, err, sizeof err) != 0)
        fail_msg("the test configuration does not load: %s", err);

    path_in(run, "stderr.log", path, sizeof path);
    log_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(log_fd >= 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_int_equal(dup2(log_fd, STDERR_FILENO), STDERR_FILENO);

    run->rc = plugin_registry_load(run->conf, &run->registry);

    fflush(stderr);
    assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
    close(saved_stderr);
    read_log(run, log_fd);
    close(log_fd);

    /* Echoed so that a failing test shows the loader's messages. */
    fputs(run->log, stderr);
}

/* Unloads the plugins and removes the run's folder. */
static void finish_run(struct run *run)
{
    static const char *const files[] = {"cairn.conf", "stderr.log", "good.down"};
    char path[128];

    plugin_registry_destroy(run->registry);
    run->registry = NULL;
    conf_destroy(run->conf);
    run->conf = NULL;

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_in(run, files[i], path, sizeof path);
        unlink(path);
    }
    rmdir(run->dir);
}

static void assert_log_contains(const struct run *run, const char *text)
{
    if (strstr(run->log, text) == NULL)
        fail_msg("the log lacks \"%s\"; it holds:\n%s", text, run->log);
}

/*
 * Asserts that loading failed as a whole: no registry, the good plugin
 * loaded before the bad one was shut down and unloaded, and the bad one
 * (bad_file, or NULL when it is not a real shared object) is not mapped.
 */
static void assert_rejected(const struct run *run, const char *bad_file)
{
    char marker[128];

    assert_int_equal(run->rc, -1);
    assert_null(run->registry);

    path_in(run, "good.down", marker, sizeof marker);
    assert_true(file_exists(marker));
    assert_false(is_loaded(PLUGIN_DIR "/good.so"));
    if (bad_file != NULL)
        assert_false(is_loaded(bad_file));
}

/* The good plugin first, so that each rejection has something to unload. */
#define GOOD_GROUP "good = { shutdown_marker = \"good.down\"; };\n"

/* --- The plugin that loads ------------------------------------------- */

static void good_plugin_loads(void **state)
{
    const char *const hosting[] = {"good"};
    const cairn_plugin *plugin;
    const plugin_service *service;
    struct run run;
    char marker[128];

    load_plugins(&run, "good", "good = { service_name = \"custom-echo\"; "
                               "shutdown_marker = \"good.down\"; };");
    assert_int_equal(run.rc, 0);
    assert_non_null(run.registry);
    assert_int_equal(plugin_registry_count(run.registry), 1);

    plugin = plugin_find(run.registry, "good");
    assert_non_null(plugin);
    assert_ptr_equal(plugin_registry_at(run.registry, 0), plugin);
    assert_string_equal(plugin_name(plugin), "good");
    assert_string_equal(plugin_version(plugin), "1.0.0");
    assert_string_equal(plugin_file(plugin), PLUGIN_DIR "/good.so");
    assert_true(is_loaded(PLUGIN_DIR "/good.so"));
    assert_null(plugin_find_index(run.registry, "good"));

    assert_int_equal(plugin_service_count(plugin), 1);
    service = plugin_service_at(plugin, 0);
    assert_non_null(service);
    assert_null(plugin_service_at(plugin, 1));
    assert_ptr_equal(service->owner, plugin);
    assert_string_equal(service->service.name, "custom-echo");
    assert_int_equal(service->service.struct_size, sizeof(cairn_service));
    assert_int_equal(service->service.roles, CAIRN_ROLE_SCP);
    assert_int_equal(service->service.sop_class_count, 1);
    assert_string_equal(service->service.sop_classes[0], VERIFICATION_SOP_CLASS);
    assert_null(service->service.transfer_syntaxes);
    assert_non_null(service->service.on_c_echo);
    assert_null(service->service.on_c_store);

    assert_ptr_equal(plugin_find_service(run.registry, hosting, 1, VERIFICATION_SOP_CLASS),
                     service);
    assert_log_contains(&run, "plugin good 1.0.0 loaded from");

    path_in(&run, "good.down", marker, sizeof marker);
    assert_false(file_exists(marker));
    plugin_registry_destroy(run.registry);
    run.registry = NULL;
    assert_true(file_exists(marker));
    assert_false(is_loaded(PLUGIN_DIR "/good.so"));
    finish_run(&run);
}

static void service_found_only_for_hosting_ae(void **state)
{
    const char *const hosting[] = {"not-loaded", "good"};
    const char *const other[] = {"not-loaded"};
    struct run run;

    load_plugins(&run, "good", "good = { };");
    assert_int_equal(run.rc, 0);

    assert_non_null(plugin_find_service(run.registry, hosting, 2, VERIFICATION_SOP_CLASS));
    assert_null(plugin_find_service(run.registry, other, 1, VERIFICATION_SOP_CLASS));
    assert_null(plugin_find_service(run.registry, hosting, 0, VERIFICATION_SOP_CLASS));
    assert_null(plugin_find_service(run.registry, hosting, 2, CT_IMAGE_STORAGE));
    assert_null(plugin_find(run.registry, "not-loaded"));
    finish_run(&run);
}

static void config_reaches_plugin(void **state)
{
    const char *const hosting[] = {"good"};
    const plugin_service *service;
    struct run run;

    load_plugins(&run, "good", "good = { sop_class = \"" CT_IMAGE_STORAGE "\"; };");
    assert_int_equal(run.rc, 0);

    service = plugin_find_service(run.registry, hosting, 1, CT_IMAGE_STORAGE);
    assert_non_null(service);
    assert_string_equal(service->service.name, "test-echo");
    assert_null(plugin_find_service(run.registry, hosting, 1, VERIFICATION_SOP_CLASS));
    finish_run(&run);
}

static void disabled_plugin_not_loaded(void **state)
{
    struct run run;

    load_plugins(&run, "good", "good = { };\n"
                               "absent = { enabled = false; };\n"
                               "abi-major = { enabled = false; };");
    assert_int_equal(run.rc, 0);
    assert_int_equal(plugin_registry_count(run.registry), 1);
    assert_null(plugin_find(run.registry, "absent"));
    assert_null(plugin_find(run.registry, "abi-major"));
    assert_false(is_loaded(PLUGIN_DIR "/abi-major.so"));
    assert_log_contains(&run, "plugin absent: enabled = false");
    finish_run(&run);
}

/* --- Each way loading fails ------------------------------------------ */

static void missing_file_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "absent = { };");
    assert_rejected(&run, NULL);
    assert_log_contains(&run, "plugin absent: " PLUGIN_DIR "/absent: file not found");
    finish_run(&run);
}

static void missing_file_override_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "absent = { file = \"/nonexistent/absent.so\"; };");
    assert_rejected(&run, NULL);
    assert_log_contains(&run, "plugin absent: /nonexistent/absent.so: file not found");
    assert_log_contains(&run, "plugins.absent.file");
    finish_run(&run);
}

static void not_shared_object_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good",
                 GOOD_GROUP "not-so = { file = \"" PLUGIN_DIR "/not-elf/not-so.so\"; };");
    assert_rejected(&run, NULL);
    assert_log_contains(&run, "plugin not-so: " PLUGIN_DIR "/not-elf/not-so.so: "
                              "not a loadable shared object");
    /* dlerror()'s own text, as glibc words it. */
    assert_log_contains(&run, "invalid ELF header");
    finish_run(&run);
}

static void no_entry_symbol_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "no-entry = { };");
    assert_rejected(&run, PLUGIN_DIR "/no-entry.so");
    assert_log_contains(&run, "plugin no-entry: " PLUGIN_DIR "/no-entry.so: "
                              "no symbol cairn_plugin_entry");
    finish_run(&run);
}

static void null_entry_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "null-entry = { };");
    assert_rejected(&run, PLUGIN_DIR "/null-entry.so");
    assert_log_contains(&run, "plugin null-entry: " PLUGIN_DIR "/null-entry.so: "
                              "cairn_plugin_entry returned NULL");
    finish_run(&run);
}

static void small_descriptor_rejected(void **state)
{
    struct run run;
    char expected[128];

    load_plugins(&run, "good", GOOD_GROUP "small-descriptor = { };");
    assert_rejected(&run, PLUGIN_DIR "/small-descriptor.so");
    snprintf(expected, sizeof expected, "descriptor struct_size is %zu, expected at least %zu",
             offsetof(cairn_plugin_descriptor, init), sizeof(cairn_plugin_descriptor));
    assert_log_contains(&run, "plugin small-descriptor: ");
    assert_log_contains(&run, expected);
    finish_run(&run);
}

static void abi_major_mismatch_rejected(void **state)
{
    struct run run;
    char expected[128];

    load_plugins(&run, "good", GOOD_GROUP "abi-major = { };");
    assert_rejected(&run, PLUGIN_DIR "/abi-major.so");
    snprintf(expected, sizeof expected, "descriptor abi_major is %d, expected %d",
             CAIRN_SDK_ABI_MAJOR + 1, CAIRN_SDK_ABI_MAJOR);
    assert_log_contains(&run, "plugin abi-major: " PLUGIN_DIR "/abi-major.so: ");
    assert_log_contains(&run, expected);
    finish_run(&run);
}

static void abi_minor_newer_rejected(void **state)
{
    struct run run;
    char expected[128];

    load_plugins(&run, "good", GOOD_GROUP "abi-minor-newer = { };");
    assert_rejected(&run, PLUGIN_DIR "/abi-minor-newer.so");
    snprintf(expected, sizeof expected, "descriptor abi_minor is %d, expected at most %d",
             CAIRN_SDK_ABI_MINOR + 1, CAIRN_SDK_ABI_MINOR);
    assert_log_contains(&run, "plugin abi-minor-newer: ");
    assert_log_contains(&run, expected);
    finish_run(&run);
}

static void bad_name_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "bad-name = { };");
    assert_rejected(&run, PLUGIN_DIR "/bad-name.so");
    assert_log_contains(&run, "plugin bad-name: ");
    assert_log_contains(&run, "descriptor name is \"Bad_Name\", expected 1 to 64 characters "
                              "in [a-z0-9-]");
    finish_run(&run);
}

static void name_unlike_group_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "renamed", "renamed = { file = \"" PLUGIN_DIR "/good.so\"; };");
    assert_int_equal(run.rc, -1);
    assert_null(run.registry);
    assert_false(is_loaded(PLUGIN_DIR "/good.so"));
    assert_log_contains(&run, "plugin renamed: ");
    assert_log_contains(&run, "descriptor name is \"good\", expected \"renamed\"");
    finish_run(&run);
}

static void duplicate_name_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", GOOD_GROUP "good-copy = { };");
    assert_rejected(&run, PLUGIN_DIR "/good-copy.so");
    assert_log_contains(&run, "plugin good-copy: " PLUGIN_DIR "/good-copy.so: "
                              "descriptor name is \"good\", which plugin group good");
    finish_run(&run);
}

static void init_failure_rejected(void **state)
{
    struct run run;

    /* init-fails aborts if its shutdown is called, as it must not be. */
    load_plugins(&run, "good", GOOD_GROUP "init-fails = { };");
    assert_rejected(&run, PLUGIN_DIR "/init-fails.so");
    assert_log_contains(&run, "init-fails: failing on purpose");
    assert_log_contains(&run, "plugin init-fails: " PLUGIN_DIR "/init-fails.so: init failed: "
                              "invalid configuration");
    finish_run(&run);
}

/* --- Registration rules ---------------------------------------------- */

static void unknown_config_key_rejected(void **state)
{
    struct run run;

    load_plugins(&run, "good", "good = { colour = \"blue\"; };");
    assert_int_equal(run.rc, -1);
    assert_null(run.registry);
    assert_false(is_loaded(PLUGIN_DIR "/good.so"));
    assert_log_contains(&run, "cairn.conf:5: plugins.good.colour: unknown key");
    assert_log_contains(&run, "plugin good: " PLUGIN_DIR "/good.so: init failed");
    finish_run(&run);
}

static void second_service_same_sop_class_rejected(void **state)
{
    struct run run;

    /* The plugin's init fails unless its second register_service is rejected. */
    load_plugins(&run, "good", "good = { register_twice = true; };");
    assert_int_equal(run.rc, 0);
    assert_int_equal(plugin_service_count(plugin_find(run.registry, "good")), 1);
    assert_log_contains(&run, "SOP class " VERIFICATION_SOP_CLASS
                              " is already served by service test-echo");
    finish_run(&run);
}

static cairn_status unused_open(void *backend_state, const char *storage_path, void **db)
{
    return CAIRN_ERR_INTERNAL;
}

static void registration_outside_init_rejected(void **state)
{
    const cairn_host_api *api = plugin_host_api();
    const char *const sop_classes[] = {CT_IMAGE_STORAGE};
    cairn_service service = {0};
    cairn_index_ops ops = {0};
    cairn_plugin *plugin;
    struct run run;

    load_plugins(&run, "good", "good = { };");
    assert_int_equal(run.rc, 0);
    plugin = (cairn_plugin *)plugin_find(run.registry, "good");
    assert_non_null(plugin);

    service.struct_size = sizeof service;
    service.roles = CAIRN_ROLE_SCP;
    service.name = "late";
    service.sop_classes = sop_classes;
    service.sop_class_count = 1;
    assert_int_equal(api->register_service(plugin, &service), CAIRN_ERR_UNSUPPORTED);

    ops.struct_size = sizeof ops;
    ops.name = "late";
    ops.open = unused_open;
    assert_int_equal(api->register_index(plugin, &ops, NULL), CAIRN_ERR_UNSUPPORTED);

    assert_int_equal(plugin_service_count(plugin), 1);
    assert_null(plugin_find_index(run.registry, "good"));
    finish_run(&run);
}

/* --- Host API entries ------------------------------------------------ */

static void host_api_table_complete(void **state)
{
    const cairn_host_api *api = plugin_host_api();
    const size_t header = offsetof(cairn_host_api, alloc);

    assert_int_equal(api->struct_size, sizeof(cairn_host_api));
    assert_int_equal(api->abi_major, CAIRN_SDK_ABI_MAJOR);
    assert_int_equal(api->abi_minor, CAIRN_SDK_ABI_MINOR);
    assert_true(CAIRN_HOST_HAS(api, archive_store));

    /* Every slot after the header is a function pointer; none may be NULL. */
    for (size_t offset = header; offset < sizeof *api; offset += sizeof(void (*)(void))) {
        void (*entry)(void);

        memcpy(&entry, (const char *)api + offset, sizeof entry);
        if (entry == NULL)
            fail_msg("host API entry at offset %zu is NULL", offset);
    }
}

static void dataset_string_round_trip(void **state)
{
    const cairn_host_api *api = plugin_host_api();
    cairn_dataset *dataset = api->dataset_create();
    const cairn_element *element;
    char buf[64];

    assert_non_null(dataset);
    assert_int_equal(api->dataset_set_string(dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN,
                                             "Doe^John"),
                     CAIRN_OK);
    assert_int_equal(api->dataset_get_string(dataset, CAIRN_TAG_PATIENT_NAME, 0, buf,
                                             sizeof buf),
                     CAIRN_OK);
    assert_string_equal(buf, "Doe^John");
    assert_int_equal(api->dataset_get_string(dataset, CAIRN_TAG_PATIENT_NAME, 0, buf, 4),
                     CAIRN_ERR_TOO_SMALL);
    assert_int_equal(api->dataset_get_string(dataset, CAIRN_TAG_PATIENT_ID, 0, buf, sizeof buf),
                     CAIRN_ERR_NOT_FOUND);

    element = api->dataset_find(dataset, CAIRN_TAG_PATIENT_NAME);
    assert_non_null(element);
    assert_int_equal(api->element_tag(element), CAIRN_TAG_PATIENT_NAME);
    assert_int_equal(api->element_vr(element), CAIRN_VR_PN);
    assert_int_equal(api->element_length(element), 8);
    assert_memory_equal(api->element_value(element), "Doe^John", 8);
    assert_int_equal(api->dataset_count(dataset), 1);
    assert_ptr_equal(api->dataset_at(dataset, 0), element);

    assert_int_equal(api->dataset_remove(dataset, CAIRN_TAG_PATIENT_NAME), CAIRN_OK);
    assert_int_equal(api->dataset_remove(dataset, CAIRN_TAG_PATIENT_NAME), CAIRN_ERR_NOT_FOUND);
    assert_int_equal(api->dataset_count(dataset), 0);
    api->dataset_destroy(dataset);
    api->dataset_destroy(NULL);
}

static void dataset_uint_and_items(void **state)
{
    const cairn_host_api *api = plugin_host_api();
    cairn_dataset *dataset = api->dataset_create();
    const cairn_tag sequence_tag = CAIRN_TAG(0x0008, 0x1115);
    cairn_dataset *item;
    uint32_t value = 0;
    char buf[64];

    assert_non_null(dataset);
    assert_int_equal(api->dataset_set_uint(dataset, CAIRN_TAG(0x0028, 0x0010), CAIRN_VR_US, 512),
                     CAIRN_OK);
    assert_int_equal(api->dataset_get_uint(dataset, CAIRN_TAG(0x0028, 0x0010), 0, &value),
                     CAIRN_OK);
    assert_int_equal(value, 512);
    assert_int_equal(api->dataset_set_uint(dataset, CAIRN_TAG(0x0028, 0x0011), CAIRN_VR_US,
                                           70000),
                     CAIRN_ERR_INVALID_ARGUMENT);
    assert_int_equal(api->dataset_set_string(dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_OB, "x"),
                     CAIRN_ERR_INVALID_ARGUMENT);

    item = api->dataset_append_item(dataset, sequence_tag);
    assert_non_null(item);
    assert_int_equal(api->dataset_set_string(item, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                             "1.2.3"),
                     CAIRN_OK);
    assert_non_null(api->dataset_append_item(dataset, sequence_tag));
    assert_int_equal(api->element_vr(api->dataset_find(dataset, sequence_tag)), CAIRN_VR_SQ);
    assert_int_equal(api->element_item_count(api->dataset_find(dataset, sequence_tag)), 2);
    assert_int_equal(api->dataset_get_string(
                         api->element_item(api->dataset_find(dataset, sequence_tag), 0),
                         CAIRN_TAG_SOP_INSTANCE_UID, 0, buf, sizeof buf),
                     CAIRN_OK);
    assert_string_equal(buf, "1.2.3");
    api->dataset_destroy(dataset);
}

static void dataset_utf8_from_latin1(void **state)
{
    const cairn_host_api *api = plugin_host_api();
    cairn_dataset *dataset = api->dataset_create();
    char *value = NULL;

    assert_non_null(dataset);
    assert_int_equal(api->dataset_set_string(dataset, CAIRN_TAG_SPECIFIC_CHARACTER_SET,
                                             CAIRN_VR_CS, "ISO_IR 100"),
                     CAIRN_OK);
    assert_int_equal(api->dataset_set_string(dataset, CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN,
                                             "M\xfcller^J\xe9r\xf4me"),
                     CAIRN_OK);

    assert_int_equal(api->dataset_get_utf8(dataset, CAIRN_TAG_PATIENT_NAME, &value), CAIRN_OK);
    assert_non_null(value);
    assert_string_equal(value, "M\xc3\xbcller^J\xc3\xa9r\xc3\xb4me");
    api->free(value);

    assert_int_equal(api->dataset_get_utf8(dataset, CAIRN_TAG_PATIENT_ID, &value),
                     CAIRN_ERR_NOT_FOUND);
    assert_null(value);
    api->dataset_destroy(dataset);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_plugin_loads),
        cmocka_unit_test(service_found_only_for_hosting_ae),
        cmocka_unit_test(config_reaches_plugin),
        cmocka_unit_test(disabled_plugin_not_loaded),
        cmocka_unit_test(missing_file_rejected),
        cmocka_unit_test(missing_file_override_rejected),
        cmocka_unit_test(not_shared_object_rejected),
        cmocka_unit_test(no_entry_symbol_rejected),
        cmocka_unit_test(null_entry_rejected),
        cmocka_unit_test(small_descriptor_rejected),
        cmocka_unit_test(abi_major_mismatch_rejected),
        cmocka_unit_test(abi_minor_newer_rejected),
        cmocka_unit_test(bad_name_rejected),
        cmocka_unit_test(name_unlike_group_rejected),
        cmocka_unit_test(duplicate_name_rejected),
        cmocka_unit_test(init_failure_rejected),
        cmocka_unit_test(unknown_config_key_rejected),
        cmocka_unit_test(second_service_same_sop_class_rejected),
        cmocka_unit_test(registration_outside_init_rejected),
        cmocka_unit_test(host_api_table_complete),
        cmocka_unit_test(dataset_string_round_trip),
        cmocka_unit_test(dataset_uint_and_items),
        cmocka_unit_test(dataset_utf8_from_latin1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
