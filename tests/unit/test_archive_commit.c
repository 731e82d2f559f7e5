/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What archive_commit leaves in the storage folder for each result of
 * the index back end. A stored instance keeps its file, a kept duplicate
 * and a failed store lose theirs, and a store whose index outcome is
 * unknown keeps its file: the index may point to it. The back end is a
 * stub that records the path it was given and returns the status and
 * outcome the test sets.
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

static const cairn_index_ops stub_ops = {
    .struct_size = sizeof(cairn_index_ops),
    .name = "stub",
    .open = stub_open,
    .close = stub_close,
    .store_instance = stub_store,
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stored_file_kept),
        cmocka_unit_test(kept_duplicate_file_removed),
        cmocka_unit_test(failed_store_file_removed),
        cmocka_unit_test(unknown_outcome_file_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
