/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The temporary file of an incoming instance (archive_tmp_create, _write,
 * _flush): bytes written in pieces of odd sizes come back unchanged,
 * below and above the size where writes switch to O_DIRECT, with a tail
 * that is not a whole block. The archive runs on a stub index back end
 * that only opens and closes. Its folder is under the build folder, a disk
 * file system where O_DIRECT is used, and under /dev/shm, a tmpfs that
 * older kernels reject O_DIRECT on, so there the buffered fallback runs.
 * Bytes also go in through archive_tmp_space and _advance, as the network
 * receive hands them over.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"

#define MIB (1024u * 1024u)

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

static const cairn_index_ops stub_ops = {
    .struct_size = sizeof(cairn_index_ops),
    .name = "stub",
    .open = stub_open,
    .close = stub_close,
};

/* Byte i of the test stream: not periodic in any power of two. */
static uint8_t pattern(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the archive folder the test created, whatever the archive put in it. */
static void remove_folder(const char *folder)
{
    assert_int_equal(nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/*
 * Appends len bytes as the network receive does: into the space that
 * archive_tmp_space offers, at most 5000 bytes at a time.
 */
static void append_in_place(archive_tmp *tmp, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t room = 0;
        uint8_t *space = archive_tmp_space(tmp, &room);

        assert_non_null(space);
        assert_true(room > 0);
        if (room > 5000)
            room = 5000;
        if (room > len)
            room = len;
        memcpy(space, data, room);
        assert_int_equal(archive_tmp_advance(tmp, room), 0);
        data += room;
        len -= room;
    }
}

/*
 * Writes size bytes in pieces of the given sizes (cycled), with
 * archive_tmp_write or, when in_place, archive_tmp_space and _advance,
 * then checks the file.
 */
static void write_and_check(const char *parent, uint64_t size, bool in_place)
{
    static const size_t pieces[] = {7, 131072 - 6, 1, MIB + 3, 4096, 65536 + 11};
    char folder[PATH_MAX];
    archive *ar = NULL;
    archive_tmp *tmp;
    uint8_t *buf = malloc(2 * MIB);
    uint64_t written = 0, offset = 0;
    size_t next = 0;

    assert_non_null(buf);
    snprintf(folder, sizeof folder, "%s/archive-write-XXXXXX", parent);
    assert_non_null(mkdtemp(folder));
    assert_int_equal(archive_open(folder, &stub_ops, NULL, &ar), 0);
    tmp = archive_tmp_create(ar, "1.2.3.4", NULL);
    assert_non_null(tmp);

    while (written < size) {
        size_t len = pieces[next++ % (sizeof pieces / sizeof pieces[0])];

        if (len > size - written)
            len = (size_t)(size - written);
        for (size_t i = 0; i < len; i++)
            buf[i] = pattern(written + i);
        if (in_place)
            append_in_place(tmp, buf, len);
        else
            assert_int_equal(archive_tmp_write(tmp, buf, len), 0);
        written += len;
    }
    assert_int_equal(archive_tmp_flush(tmp), 0);
    assert_true(archive_tmp_size(tmp) == size);

    /* The file is read back through the same descriptor, as the parser does. */
    while (offset < size) {
        ssize_t got = pread(archive_tmp_fd(tmp), buf, 2 * MIB, (off_t)offset);

        assert_true(got > 0);
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != pattern(offset + (uint64_t)i))
                fail_msg("byte %llu differs", (unsigned long long)(offset + (uint64_t)i));
        }
        offset += (uint64_t)got;
    }
    assert_int_equal(pread(archive_tmp_fd(tmp), buf, 1, (off_t)size), 0);

    archive_tmp_discard(tmp);
    archive_close(ar);
    free(buf);
    remove_folder(folder);
}

static void small_file_on_disk(void **state)
{
    (void)state;
    write_and_check(".", 39 * 1024 + 5, false);
}

static void large_file_on_disk(void **state)
{
    (void)state;
    write_and_check(".", 21 * MIB + 4099, false);
}

static void large_file_written_in_place(void **state)
{
    (void)state;
    write_and_check(".", 21 * MIB + 4099, true);
}

static void large_file_block_multiple(void **state)
{
    (void)state;
    write_and_check(".", 12 * MIB, false);
}

static void large_file_on_tmpfs(void **state)
{
    (void)state;
    if (access("/dev/shm", W_OK) != 0)
        skip();
    write_and_check("/dev/shm", 10 * MIB + 1, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_file_on_disk),
        cmocka_unit_test(large_file_on_disk),
        cmocka_unit_test(large_file_written_in_place),
        cmocka_unit_test(large_file_block_multiple),
        cmocka_unit_test(large_file_on_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
