/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What archive_commit leaves in the storage folder for each result of
 * the index back end. A stored instance keeps its file, a kept duplicate
 * and a failed store lose theirs, and a store whose index outcome is
 * unknown keeps its file: the index may point to it. The same holds for
 * the recovery at archive_open of a file that a crash left linked: it
 * goes only when the index was searched and does not record it. The back
 * end is a stub that records the path it was given and returns the
 * status, outcome and listing result the test sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "dcm/dcm.h"

/* The result the stub back end returns for the next store, and the path it received. */
static cairn_status next_status;
static cairn_store_outcome next_outcome;
static char stored_path[256];

/* The status of the stub's listing, which finds no row. */
static cairn_status list_status;

static cairn_status stub_open(void *state, const char *storage_path, void **db)
{
    (void)state;
    (void)storage_path;
    *db = NULL;
    return CAIRN_OK;
}

static void stub_close(void *db)
{
    (void)db;
}

static cairn_status stub_store(void *db, const cairn_dataset *attributes,
                               const cairn_instance_file *file, cairn_duplicate_policy policy,
                               cairn_store_outcome *outcome, char **replaced_path)
{
    (void)db;
    (void)attributes;
    (void)policy;
    (void)replaced_path;
    snprintf(stored_path, sizeof stored_path, "%s", file->path);
    *outcome = next_outcome;
    return next_status;
}

static cairn_status stub_list(void *db, cairn_index_level level, const cairn_dataset *filter,
                              cairn_index_row_fn fn, void *arg)
{
    (void)db;
    (void)level;
    (void)filter;
    (void)fn;
    (void)arg;
    return list_status;
}

static const cairn_index_ops stub_ops = {
    .struct_size = sizeof(cairn_index_ops),
    .name = "stub",
    .open = stub_open,
    .close = stub_close,
    .store_instance = stub_store,
    .list = stub_list,
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Stops the walk of the tmp folder at a temporary file (a name ending in .part). */
static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    static const char suffix[] = ".part";
    size_t length = strlen(path);

    (void)st;
    (void)ftw;
    return flag == FTW_F && length > sizeof suffix &&
           strcmp(path + length - (sizeof suffix - 1), suffix) == 0;
}

/*
 * Commits one small file while the stub returns status and outcome.
 * Returns whether the file is still under the path that the index
 * received, and checks that no temporary file is left.
 */
static bool commit_keeps_file(cairn_status status, cairn_store_outcome outcome)
{
    static const char bytes[] = "not parsed by the stub back end";
    char folder[64], path[PATH_MAX], tmp_folder[128];
    archive *ar = NULL;
    archive_tmp *tmp;
    dcm_dataset *attributes = dcm_dataset_create();
    cairn_store_outcome got = CAIRN_STORE_STORED;
    struct stat st;
    bool exists;

    assert_non_null(attributes);
    snprintf(folder, sizeof folder, "./archive-commit-XXXXXX");
    assert_non_null(mkdtemp(folder));
    assert_int_equal(archive_open(folder, &stub_ops, NULL, &ar), 0);
    tmp = archive_tmp_create(ar, "1.2.3.4", NULL);
    assert_non_null(tmp);
    assert_int_equal(archive_tmp_write(tmp, bytes, sizeof bytes), 0);

    next_status = status;
    next_outcome = outcome;
    stored_path[0] = '\0';
    assert_int_equal(archive_commit(ar, tmp, attributes, "1.2.3.4", "1.2.840.10008.1.2.1",
                                    "TEST", CAIRN_DUPLICATE_KEEP, &got, NULL),
                     status);
    assert_true(stored_path[0] != '\0');

    assert_true(snprintf(path, sizeof path, "%s/%s", folder, stored_path) < (int)sizeof path);
    exists = stat(path, &st) == 0;
    if (exists)
        assert_int_equal(st.st_size, sizeof bytes);
    assert_true(snprintf(tmp_folder, sizeof tmp_folder, "%s/tmp", folder) <
                (int)sizeof tmp_folder);
    assert_int_equal(nftw(tmp_folder, count_entry, 16, FTW_PHYS), 0);

    archive_close(ar);
    dcm_dataset_destroy(attributes);
    assert_int_equal(nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    return exists;
}

static void stored_file_kept(void **state)
{
    (void)state;
    assert_true(commit_keeps_file(CAIRN_OK, CAIRN_STORE_STORED));
}

static void kept_duplicate_file_removed(void **state)
{
    (void)state;
    assert_false(commit_keeps_file(CAIRN_OK, CAIRN_STORE_KEPT));
}

static void failed_store_file_removed(void **state)
{
    (void)state;
    assert_false(commit_keeps_file(CAIRN_ERR_DATABASE, CAIRN_STORE_STORED));
}

static void unknown_outcome_file_kept(void **state)
{
    (void)state;
    assert_true(commit_keeps_file(CAIRN_ERR_OUTCOME_UNKNOWN, CAIRN_STORE_STORED));
}

/*
 * Leaves what a crash between the link and the index commit leaves: a
 * complete file under its temporary name in tmp/ and under its final
 * name. Then opens the archive while the stub's listing returns status,
 * and returns whether the final name is still there.
 */
static bool recovery_keeps_file(cairn_status status)
{
    static const char rel[] = "ab/ab00000000000000000000000000000000000000000000000000000000000000"
                              ".0000000a.dcm";
    static const char part[] = "ab_ab00000000000000000000000000000000000000000000000000000000000000"
                               ".0000000a.dcm.part";
    char folder[64], path[PATH_MAX], final[PATH_MAX];
    dcm_dataset *meta = dcm_meta_create("1.2.840.10008.5.1.4.1.1.7", "1.2.3.5",
                                        "1.2.840.10008.1.2.1", NULL);
    dcm_dataset *ds = dcm_dataset_create();
    archive *ar = NULL;
    struct stat st;
    bool exists;

    assert_non_null(meta);
    assert_non_null(ds);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, "1.2.3.5"),
                     DCM_OK);
    snprintf(folder, sizeof folder, "./archive-recover-XXXXXX");
    assert_non_null(mkdtemp(folder));
    assert_true(snprintf(path, sizeof path, "%s/tmp", folder) < (int)sizeof path);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_true(snprintf(path, sizeof path, "%s/ab", folder) < (int)sizeof path);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_true(snprintf(path, sizeof path, "%s/tmp/%s", folder, part) < (int)sizeof path);
    assert_true(snprintf(final, sizeof final, "%s/%s", folder, rel) < (int)sizeof final);
    assert_int_equal(dcm_file_write(path, meta, ds, dcm_ts_find("1.2.840.10008.1.2.1")), DCM_OK);
    assert_int_equal(link(path, final), 0);

    list_status = status;
    assert_int_equal(archive_open(folder, &stub_ops, NULL, &ar), 0);
    exists = stat(final, &st) == 0;
    assert_int_equal(stat(path, &st), -1);
    archive_close(ar);

    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
    assert_int_equal(nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    return exists;
}

static void recovery_removes_unindexed_file(void **state)
{
    (void)state;
    assert_false(recovery_keeps_file(CAIRN_OK));
}

static void recovery_keeps_file_unsearched(void **state)
{
    (void)state;
    assert_true(recovery_keeps_file(CAIRN_ERR_DATABASE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stored_file_kept),
        cmocka_unit_test(kept_duplicate_file_removed),
        cmocka_unit_test(failed_store_file_removed),
        cmocka_unit_test(unknown_outcome_file_kept),
        cmocka_unit_test(recovery_removes_unindexed_file),
        cmocka_unit_test(recovery_keeps_file_unsearched),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
