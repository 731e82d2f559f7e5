/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of register_index with index back ends built against older
 * SDK minors: the host keeps the ops the back end's table has and leaves
 * every op appended since NULL, whatever lies in memory past the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_internal.h"

/* Size of the first SDK 1.0 table: every member up to reject_instances. */
#define OPS_SIZE_FIRST (offsetof(cairn_index_ops, reject_instances) + sizeof(void *))

/* A byte pattern that is not a valid pointer, written past the old table's end. */
#define FILL_BYTE 0xA5

static cairn_status fake_open(void *state, const char *path, void **db)
{
    (void)state;
    (void)path;
    *db = NULL;
    return CAIRN_OK;
}

static void fake_close(void *db)
{
    (void)db;
}

static cairn_status fake_store(void *db, const cairn_dataset *attributes,
                               const cairn_instance_file *file, cairn_duplicate_policy policy,
                               cairn_store_outcome *outcome, char **replaced_path)
{
    (void)db, (void)attributes, (void)file, (void)policy, (void)outcome, (void)replaced_path;
    return CAIRN_OK;
}

static cairn_status fake_remove(void *db, const char *uid)
{
    (void)db, (void)uid;
    return CAIRN_OK;
}

static cairn_status fake_list(void *db, cairn_index_level level, const cairn_dataset *filter,
                              cairn_index_row_fn fn, void *arg)
{
    (void)db, (void)level, (void)filter, (void)fn, (void)arg;
    return CAIRN_OK;
}

static cairn_status fake_count(void *db, cairn_index_level level, uint64_t *count)
{
    (void)db, (void)level;
    *count = 0;
    return CAIRN_OK;
}

static cairn_status fake_query(void *db, const cairn_index_query *query, cairn_index_row_fn fn,
                               void *arg)
{
    (void)db, (void)query, (void)fn, (void)arg;
    return CAIRN_OK;
}

static cairn_status fake_job_put(void *db, const char *id, const char *document)
{
    (void)db, (void)id, (void)document;
    return CAIRN_OK;
}

static cairn_status fake_job_delete(void *db, const char *id)
{
    (void)db, (void)id;
    return CAIRN_OK;
}

static cairn_status fake_job_list(void *db, cairn_job_fn fn, void *arg)
{
    (void)db, (void)fn, (void)arg;
    return CAIRN_OK;
}

static cairn_status fake_reject(void *db, const char *const *uids, size_t count, const char *code,
                                size_t *marked)
{
    (void)db, (void)uids, (void)count, (void)code, (void)marked;
    return CAIRN_OK;
}

/* Fills buffer with FILL_BYTE, then writes the first SDK 1.0 ops at its start. */
static cairn_index_ops *old_table(unsigned char *buffer, size_t size)
{
    cairn_index_ops ops = {
        .struct_size = OPS_SIZE_FIRST,
        .name = "old",
        .open = fake_open,
        .close = fake_close,
        .store_instance = fake_store,
        .remove_instance = fake_remove,
        .list = fake_list,
        .count = fake_count,
        .query = fake_query,
        .job_put = fake_job_put,
        .job_delete = fake_job_delete,
        .job_list = fake_job_list,
        .reject_instances = fake_reject,
    };

    memset(buffer, FILL_BYTE, size);
    memcpy(buffer, &ops, OPS_SIZE_FIRST);
    return (cairn_index_ops *)buffer;
}

static void register_old(cairn_plugin *plugin, unsigned char *buffer)
{
    memset(plugin, 0, sizeof *plugin);
    plugin->name = "old";
    plugin->in_init = true;
    assert_int_equal(plugin_register_index(plugin, old_table(buffer, sizeof(cairn_index_ops)),
                                           NULL),
                     CAIRN_OK);
    assert_non_null(plugin->index);
}

static void unregister(cairn_plugin *plugin)
{
    free((char *)plugin->index->ops.name);
    free(plugin->index);
    plugin->index = NULL;
}

static void old_table_keeps_its_ops(void **state)
{
    _Alignas(cairn_index_ops) unsigned char buffer[sizeof(cairn_index_ops)];
    cairn_plugin plugin;

    (void)state;
    register_old(&plugin, buffer);

    assert_ptr_equal(plugin.index->ops.open, fake_open);
    assert_ptr_equal(plugin.index->ops.query, fake_query);
    assert_ptr_equal(plugin.index->ops.reject_instances, fake_reject);
    assert_string_equal(plugin.index->ops.name, "old");
    assert_int_equal(plugin.index->ops.struct_size, sizeof(cairn_index_ops));
    unregister(&plugin);
}

static void old_table_leaves_new_ops_null(void **state)
{
    _Alignas(cairn_index_ops) unsigned char buffer[sizeof(cairn_index_ops)];
    cairn_plugin plugin;

    (void)state;
    register_old(&plugin, buffer);

    assert_null(plugin.index->ops.mpps_put);
    assert_null(plugin.index->ops.outbox_list);
    assert_null(plugin.index->ops.commitment_put);
    assert_null(plugin.index->ops.migrate);
    assert_null(plugin.index->ops.lease_acquire);
    assert_null(plugin.index->ops.rejection_list);
    unregister(&plugin);
}

static void short_table_is_rejected(void **state)
{
    _Alignas(cairn_index_ops) unsigned char buffer[sizeof(cairn_index_ops)];
    cairn_index_ops *ops = old_table(buffer, sizeof buffer);
    cairn_plugin plugin;

    (void)state;
    memset(&plugin, 0, sizeof plugin);
    plugin.name = "short";
    plugin.in_init = true;
    ops->struct_size = OPS_SIZE_FIRST - sizeof(void *);

    assert_int_equal(plugin_register_index(&plugin, ops, NULL), CAIRN_ERR_ABI);
    assert_null(plugin.index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(old_table_keeps_its_ops),
        cmocka_unit_test(old_table_leaves_new_ops_null),
        cmocka_unit_test(short_table_is_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
