/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance files of the archive: temporary files, the durable commit
 * sequence and the hash-derived layout. See archive.h for the rules.
 */
#include "archive/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Bytes buffered before a write(2); bounds memory per association. */
#define TMP_BUFFER_SIZE (256 * 1024)

struct archive {
    char *root;
    int root_fd;
    const cairn_index_ops *ops;
    void *db;
};

struct archive_tmp {
    archive *ar;
    int fd;
    char path[PATH_MAX];
    uint8_t *buf;
    size_t buffered;
    uint64_t size;
};

static atomic_uint_fast64_t tmp_counter;

static int mkdir_durable(int parent_fd, const char *name)
{
    if (mkdirat(parent_fd, name, 0750) == 0)
        return fsync(parent_fd);
    return errno == EEXIST ? 0 : -1;
}

/* Removes what an earlier run left in tmp/: unacknowledged by definition. */
static void clean_tmp_folder(archive *ar)
{
    char path[PATH_MAX];
    DIR *dir;
    struct dirent *entry;
    unsigned removed = 0;

    snprintf(path, sizeof path, "%s/tmp", ar->root);
    dir = opendir(path);
    if (dir == NULL)
        return;

    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (unlinkat(dirfd(dir), entry->d_name, 0) == 0)
            removed++;
    }
    closedir(dir);

    if (removed > 0)
        log_info(NULL, "archive: removed %u unfinished temporary file(s) from %s", removed, path);
}

static int mkdir_parents(const char *path)
{
    char buf[PATH_MAX];

    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int archive_open(const char *storage_path, const cairn_index_ops *ops, void *backend_state,
                 archive **out)
{
    archive *ar;
    cairn_status st;

    ar = calloc(1, sizeof *ar);
    if (ar == NULL)
        return -1;
    ar->root_fd = -1;
    ar->ops = ops;

    if (mkdir_parents(storage_path) != 0) {
        log_error(NULL, "archive: cannot create storage folder %s: %s", storage_path,
                  strerror(errno));
        goto fail;
    }
    ar->root = realpath(storage_path, NULL);
    if (ar->root == NULL)
        goto fail;
    ar->root_fd = open(ar->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ar->root_fd < 0 || mkdir_durable(ar->root_fd, "tmp") != 0) {
        log_error(NULL, "archive: cannot open storage folder %s: %s", ar->root, strerror(errno));
        goto fail;
    }
    clean_tmp_folder(ar);

    st = ops->open(backend_state, ar->root, &ar->db);
    if (st != CAIRN_OK) {
        log_error(NULL, "archive: index back end '%s' failed to open: %s", ops->name,
                  cairn_strerror(st));
        goto fail;
    }

    *out = ar;
    return 0;

fail:
    if (ar->root_fd >= 0)
        close(ar->root_fd);
    free(ar->root);
    free(ar);
    return -1;
}

void archive_close(archive *ar)
{
    if (ar == NULL)
        return;

    ar->ops->close(ar->db);
    close(ar->root_fd);
    free(ar->root);
    free(ar);
}

const char *archive_storage_path(const archive *ar)
{
    return ar->root;
}

const cairn_index_ops *archive_index_ops(const archive *ar)
{
    return ar->ops;
}

void *archive_index_db(const archive *ar)
{
    return ar->db;
}

archive_tmp *archive_tmp_create(archive *ar, const log_ctx *log)
{
    archive_tmp *tmp;
    uint64_t n = atomic_fetch_add(&tmp_counter, 1);

    tmp = calloc(1, sizeof *tmp);
    if (tmp == NULL)
        return NULL;
    tmp->buf = malloc(TMP_BUFFER_SIZE);
    if (tmp->buf == NULL) {
        free(tmp);
        return NULL;
    }
    tmp->ar = ar;

    snprintf(tmp->path, sizeof tmp->path, "%s/tmp/%ld-%llu.part", ar->root, (long)getpid(),
             (unsigned long long)n);
    tmp->fd = open(tmp->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (tmp->fd < 0) {
        log_error(log, "archive: cannot create temporary file %s: %s", tmp->path,
                  strerror(errno));
        free(tmp->buf);
        free(tmp);
        return NULL;
    }
    return tmp;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int archive_tmp_flush(archive_tmp *tmp)
{
    if (tmp->buffered == 0)
        return 0;
    if (write_all(tmp->fd, tmp->buf, tmp->buffered) != 0)
        return -1;
    tmp->buffered = 0;
    return 0;
}

int archive_tmp_write(archive_tmp *tmp, const void *data, size_t len)
{
    const uint8_t *p = data;

    tmp->size += len;

    /* Large writes skip the buffer once it is drained. */
    if (tmp->buffered + len > TMP_BUFFER_SIZE) {
        if (archive_tmp_flush(tmp) != 0)
            return -1;
        if (len >= TMP_BUFFER_SIZE)
            return write_all(tmp->fd, p, len);
    }
    memcpy(tmp->buf + tmp->buffered, p, len);
    tmp->buffered += len;
    return 0;
}

int archive_tmp_fd(const archive_tmp *tmp)
{
    return tmp->fd;
}

uint64_t archive_tmp_size(const archive_tmp *tmp)
{
    return tmp->size;
}

void archive_tmp_discard(archive_tmp *tmp)
{
    if (tmp == NULL)
        return;

    if (tmp->fd >= 0)
        close(tmp->fd);
    if (tmp->path[0] != '\0')
        unlink(tmp->path);
    free(tmp->buf);
    free(tmp);
}

/* Writes the relative path "ab/cd/<sha256 hex>.<random hex>.dcm" into rel. */
static int instance_relative_path(const char *sop_instance_uid, char *rel, size_t size)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    uint32_t token;

    if (EVP_Digest(sop_instance_uid, strlen(sop_instance_uid), digest, &digest_len,
                   EVP_sha256(), NULL) != 1)
        return -1;
    for (unsigned i = 0; i < digest_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);

    /* A random token keeps a duplicate from ever overwriting the archived file. */
    if (getrandom(&token, sizeof token, 0) != sizeof token)
        token = (uint32_t)time(NULL) ^ (uint32_t)getpid();

    if (snprintf(rel, size, "%.2s/%.2s/%s.%08x.dcm", hex, hex + 2, hex, token) >= (int)size)
        return -1;
    return 0;
}

/* Creates the two hash folders durably; returns an fd on the leaf folder. */
static int open_leaf_folder(archive *ar, const char *rel)
{
    char first[3] = {rel[0], rel[1], '\0'};
    char second[3] = {rel[3], rel[4], '\0'};
    int first_fd, leaf_fd;

    if (mkdir_durable(ar->root_fd, first) != 0)
        return -1;
    first_fd = openat(ar->root_fd, first, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (first_fd < 0)
        return -1;
    if (mkdir_durable(first_fd, second) != 0) {
        close(first_fd);
        return -1;
    }
    leaf_fd = openat(first_fd, second, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(first_fd);
    return leaf_fd;
}

static cairn_status status_from_errno(int err)
{
    return (err == ENOSPC || err == EDQUOT) ? CAIRN_ERR_NO_SPACE : CAIRN_ERR_IO;
}

/* Deletes a file the index no longer references; rel comes from our own index. */
static void remove_replaced_file(archive *ar, const char *rel, const log_ctx *log)
{
    if (rel == NULL || rel[0] == '/' || strstr(rel, "..") != NULL) {
        log_warn(log, "archive: not deleting replaced file with unexpected path '%s'",
                 rel ? rel : "(null)");
        return;
    }
    if (unlinkat(ar->root_fd, rel, 0) != 0 && errno != ENOENT)
        log_warn(log, "archive: cannot delete replaced file %s: %s", rel, strerror(errno));
}

cairn_status archive_commit(archive *ar, archive_tmp *tmp, const dcm_dataset *attributes,
                            const char *sop_instance_uid, const char *transfer_syntax_uid,
                            const char *calling_ae, cairn_duplicate_policy policy,
                            cairn_store_outcome *outcome, const log_ctx *log)
{
    char rel[128];
    char final_path[PATH_MAX];
    char *replaced = NULL;
    int leaf_fd = -1;
    bool renamed = false;
    cairn_status result = CAIRN_OK;
    struct timespec now;
    cairn_instance_file file;

    /* 1. The bytes reach the disk. */
    if (archive_tmp_flush(tmp) != 0 || fdatasync(tmp->fd) != 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot write %s: %s", tmp->path, strerror(errno));
        goto out;
    }

    /* 2. The file moves into its hash-derived place, and the folder entry is durable. */
    if (instance_relative_path(sop_instance_uid, rel, sizeof rel) != 0) {
        result = CAIRN_ERR_INTERNAL;
        goto out;
    }
    leaf_fd = open_leaf_folder(ar, rel);
    if (leaf_fd < 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot create folder for %s: %s", rel, strerror(errno));
        goto out;
    }
    snprintf(final_path, sizeof final_path, "%s/%s", ar->root, rel);
    if (rename(tmp->path, final_path) != 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot move %s to %s: %s", tmp->path, final_path,
                  strerror(errno));
        goto out;
    }
    renamed = true;
    tmp->path[0] = '\0';
    if (fsync(leaf_fd) != 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot sync folder of %s: %s", final_path, strerror(errno));
        goto out;
    }

    /* 3. The index commits; the back end returns only when that is durable. */
    clock_gettime(CLOCK_REALTIME, &now);
    file = (cairn_instance_file){
        .struct_size = sizeof file,
        .path = rel,
        .size = tmp->size,
        .transfer_syntax_uid = transfer_syntax_uid,
        .received_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
        .calling_ae = calling_ae,
    };
    result = ar->ops->store_instance(ar->db, (const cairn_dataset *)attributes, &file, policy,
                                     outcome, &replaced);
    if (result != CAIRN_OK) {
        log_error(log, "archive: index did not record %s: %s", sop_instance_uid,
                  cairn_strerror(result));
        goto out;
    }

    /* 4. Files no longer referenced go. */
    if (*outcome == CAIRN_STORE_KEPT || *outcome == CAIRN_STORE_REJECTED) {
        unlinkat(ar->root_fd, rel, 0);
    } else if (*outcome == CAIRN_STORE_REPLACED && replaced != NULL) {
        remove_replaced_file(ar, replaced, log);
    }
    log_debug(log, "archive: %s stored as %s (%llu bytes)", sop_instance_uid, rel,
              (unsigned long long)tmp->size);

out:
    if (result != CAIRN_OK && renamed)
        unlinkat(ar->root_fd, rel, 0);
    if (leaf_fd >= 0)
        close(leaf_fd);
    free(replaced);
    archive_tmp_discard(tmp);
    return result;
}
