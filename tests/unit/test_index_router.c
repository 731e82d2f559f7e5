/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the index ops of the data router in the index-sqlite plugin,
 * loaded through the core's plugin registry: MPPS steps (atomic create,
 * replace, get, filtered listing) and the outbox (ids in order, failed
 * deliveries recorded, deletion, kind prefixes, survival across a
 * reopen). Each test works in its own mkdtemp folder.
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

#include "config/conf.h"
#include "plugin/plugin.h"
#include "util/log.h"

typedef struct fixture {
    char dir[64];
    cairn_conf *conf;
    plugin_registry *registry;
    const cairn_index_ops *ops;
    const plugin_index *index;
    void *db;
} fixture;

static void open_index(fixture *fx)
{
    char storage[128];

    snprintf(storage, sizeof storage, "%s/storage", fx->dir);
    assert_int_equal(fx->ops->open(fx->index->backend_state, storage, &fx->db), CAIRN_OK);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char path[128], storage[128], err[512] = "";
    FILE *file;

    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-router-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(storage, sizeof storage, "%s/storage", fx->dir);
    assert_int_equal(mkdir(storage, 0700), 0);
    snprintf(path, sizeof path, "%s/cairn.conf", fx->dir);
    file = fopen(path, "w");
    assert_non_null(file);
    fprintf(file,
            "storage = { path = \"storage\"; };\n"
            "plugin_directory = \"%s\";\n"
            "plugins = { index-sqlite = { }; };\n"
            "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"index-sqlite\" ]; } );\n",
            CAIRN_PLUGIN_BUILD_DIR);
    assert_int_equal(fclose(file), 0);
    if (conf_load(path, &fx->conf, err, sizeof err) != 0)
        fail_msg("cannot load %s: %s", path, err);
    assert_int_equal(plugin_registry_load(fx->conf, &fx->registry), 0);
    fx->index = plugin_find_index(fx->registry, "index-sqlite");
    assert_non_null(fx->index);
    fx->ops = &fx->index->ops;
    open_index(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    static const char *const names[] = {"storage/index.sqlite", "storage/index.sqlite-wal",
                                        "storage/index.sqlite-shm", "storage", "cairn.conf"};
    char path[160];

    fx->ops->close(fx->db);
    plugin_registry_destroy(fx->registry);
    conf_destroy(fx->conf);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fx->dir, names[i]);
        remove(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static cairn_mpps_step step(const char *uid, const char *status, const char *study,
                            const char *modality, const char *start, const char *document)
{
    return (cairn_mpps_step){
        .struct_size = sizeof(cairn_mpps_step),
        .sop_instance_uid = uid,
        .status = status,
        .study_instance_uid = study,
        .modality = modality,
        .start_datetime = start,
        .calling_ae = "MODALITY",
        .created_at_us = 1000,
        .updated_at_us = 2000,
        .document = document,
    };
}

/* Collected UIDs (comma-separated) and the last step's status and document. */
typedef struct collected {
    char uids[512];
    char status[32];
    char document[128];
    int64_t created_at_us;
} collected;

static int collect_step(void *arg, const cairn_mpps_step *s)
{
    collected *c = arg;

    if (c->uids[0] != '\0')
        strcat(c->uids, ",");
    strcat(c->uids, s->sop_instance_uid);
    snprintf(c->status, sizeof c->status, "%s", s->status);
    snprintf(c->document, sizeof c->document, "%s", s->document);
    c->created_at_us = s->created_at_us;
    return 0;
}

static void test_mpps_create_and_replace(void **state)
{
    fixture *fx = *state;
    cairn_mpps_step s = step("1.2.1", "IN PROGRESS", "1.2.9", "CT", "20261205101500", "{}");
    collected c = {0};

    assert_int_equal(fx->ops->mpps_put(fx->db, &s, 1), CAIRN_OK);
    assert_int_equal(fx->ops->mpps_put(fx->db, &s, 1), CAIRN_ERR_EXISTS);

    s.status = "COMPLETED";
    s.document = "{\"x\":1}";
    s.created_at_us = 5555;
    assert_int_equal(fx->ops->mpps_put(fx->db, &s, 0), CAIRN_OK);
    assert_int_equal(fx->ops->mpps_get(fx->db, "1.2.1", collect_step, &c), CAIRN_OK);
    assert_string_equal(c.status, "COMPLETED");
    assert_string_equal(c.document, "{\"x\":1}");
    /* A replacement keeps the step's creation time. */
    assert_int_equal(c.created_at_us, 1000);

    s.sop_instance_uid = "1.2.404";
    assert_int_equal(fx->ops->mpps_put(fx->db, &s, 0), CAIRN_ERR_NOT_FOUND);
    assert_int_equal(fx->ops->mpps_get(fx->db, "1.2.404", collect_step, &c), CAIRN_ERR_NOT_FOUND);
}

static void test_mpps_list_filters(void **state)
{
    fixture *fx = *state;
    cairn_mpps_step steps[] = {
        step("1.2.1", "COMPLETED", "1.2.9", "CT", "20261201080000", "{}"),
        step("1.2.2", "IN PROGRESS", "1.2.9", "MR", "20261203080000", "{}"),
        step("1.2.3", "DISCONTINUED", "1.2.8", "CT", "20261205080000", "{}"),
    };
    cairn_mpps_filter filter = {.struct_size = sizeof filter};
    collected c = {0};

    for (size_t i = 0; i < 3; i++)
        assert_int_equal(fx->ops->mpps_put(fx->db, &steps[i], 1), CAIRN_OK);

    assert_int_equal(fx->ops->mpps_list(fx->db, NULL, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.3,1.2.2,1.2.1");

    memset(&c, 0, sizeof c);
    filter.study_instance_uid = "1.2.9";
    assert_int_equal(fx->ops->mpps_list(fx->db, &filter, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.2,1.2.1");

    memset(&c, 0, sizeof c);
    filter.modality = "CT";
    assert_int_equal(fx->ops->mpps_list(fx->db, &filter, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.1");

    memset(&c, 0, sizeof c);
    filter = (cairn_mpps_filter){.struct_size = sizeof filter, .start_from = "20261202",
                                 .start_to = "20261203"};
    assert_int_equal(fx->ops->mpps_list(fx->db, &filter, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.2");

    memset(&c, 0, sizeof c);
    filter = (cairn_mpps_filter){.struct_size = sizeof filter, .status = "DISCONTINUED"};
    assert_int_equal(fx->ops->mpps_list(fx->db, &filter, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.3");

    memset(&c, 0, sizeof c);
    filter = (cairn_mpps_filter){.struct_size = sizeof filter, .max_rows = 2};
    assert_int_equal(fx->ops->mpps_list(fx->db, &filter, collect_step, &c), CAIRN_OK);
    assert_string_equal(c.uids, "1.2.3,1.2.2");
}

typedef struct messages {
    uint64_t ids[16];
    char groups[16][16];
    uint32_t attempts[16];
    char errors[16][64];
    size_t count;
} messages;

static int collect_message(void *arg, const cairn_outbox_message *m)
{
    messages *list = arg;

    if (list->count == 16)
        return 1;
    list->ids[list->count] = m->id;
    snprintf(list->groups[list->count], sizeof list->groups[0], "%s", m->group_key);
    list->attempts[list->count] = m->attempts;
    snprintf(list->errors[list->count], sizeof list->errors[0], "%s", m->last_error);
    list->count++;
    return 0;
}

static uint64_t add(fixture *fx, const char *kind, const char *group)
{
    cairn_outbox_message m = {
        .struct_size = sizeof m,
        .kind = kind,
        .destination = "FILLER",
        .calling_ae = "ROUTER",
        .group_key = group,
        .document = "{}",
        .last_error = "",
        .created_at_us = 1,
        .next_attempt_at_us = 1,
    };
    uint64_t id = 0;

    assert_int_equal(fx->ops->outbox_add(fx->db, &m, &id), CAIRN_OK);
    return id;
}

static void test_outbox_order_and_updates(void **state)
{
    fixture *fx = *state;
    uint64_t a = add(fx, "mpps-n-create", "A"), b = add(fx, "mpps-n-set", "A");
    uint64_t c = add(fx, "study-notification", "S");
    messages list = {0};

    assert_true(a < b && b < c);
    assert_int_equal(fx->ops->outbox_update(fx->db, a, 3, 99, "cannot open an association"),
                     CAIRN_OK);
    assert_int_equal(fx->ops->outbox_update(fx->db, 4242, 1, 1, "x"), CAIRN_ERR_NOT_FOUND);

    assert_int_equal(fx->ops->outbox_list(fx->db, NULL, collect_message, &list), CAIRN_OK);
    assert_int_equal(list.count, 3);
    assert_int_equal(list.ids[0], a);
    assert_int_equal(list.attempts[0], 3);
    assert_string_equal(list.errors[0], "cannot open an association");
    assert_string_equal(list.errors[1], "");

    memset(&list, 0, sizeof list);
    assert_int_equal(fx->ops->outbox_list(fx->db, "mpps-", collect_message, &list), CAIRN_OK);
    assert_int_equal(list.count, 2);

    assert_int_equal(fx->ops->outbox_delete(fx->db, a), CAIRN_OK);
    assert_int_equal(fx->ops->outbox_delete(fx->db, a), CAIRN_ERR_NOT_FOUND);

    /* Ids are never reused, and the queue survives a reopen. */
    fx->ops->close(fx->db);
    open_index(fx);
    assert_true(add(fx, "mpps-n-create", "B") > c);
    memset(&list, 0, sizeof list);
    assert_int_equal(fx->ops->outbox_list(fx->db, "", collect_message, &list), CAIRN_OK);
    assert_int_equal(list.count, 3);
    assert_int_equal(list.ids[0], b);
}

static void test_outbox_rejects_incomplete(void **state)
{
    fixture *fx = *state;
    cairn_outbox_message m = {.struct_size = sizeof m, .kind = "mpps-n-create",
                              .destination = "", .calling_ae = "R", .group_key = "A",
                              .document = "{}"};
    uint64_t id;

    assert_int_equal(fx->ops->outbox_add(fx->db, &m, &id), CAIRN_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mpps_create_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mpps_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_order_and_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_rejects_incomplete, setup, teardown),
    };

    log_set_level(LOG_LVL_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
