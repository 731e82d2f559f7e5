/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening an archived instance for sending: the path is checked and joined
 * to the storage folder, the File Meta Information is read to find where
 * the data set starts and in which transfer syntax it is encoded. The data
 * set itself is not read here.
 */
#include "scu/scu_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when path is relative and none of its components is "..". */
static bool relative_path_is_safe(const char *path)
{
    const char *p = path;

    if (path[0] == '\0' || path[0] == '/')
        return false;
    while (*p != '\0') {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += len;
        if (*p == '/')
            p++;
    }
    return true;
}

cairn_status scu_source_open(const char *storage_path, const char *relative_path,
                             scu_source *src, const log_ctx *log)
{
    char path[PATH_MAX];
    int n;

    src->fd = -1;
    if (storage_path == NULL || relative_path == NULL || !relative_path_is_safe(relative_path)) {
        log_error(log, "scu: invalid instance path \"%s\" (must be relative to storage.path)",
                  relative_path ? relative_path : "(null)");
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    n = snprintf(path, sizeof path, "%s/%s", storage_path, relative_path);
    if (n < 0 || (size_t)n >= sizeof path) {
        log_error(log, "scu: instance path too long: %s/%s", storage_path, relative_path);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    return scu_source_open_path(path, src, log);
}

cairn_status scu_source_open_path(const char *path, scu_source *src, const log_ctx *log)
{
    dcm_read_options opt = {.stop_at = 1}; /* stop before the first data set element */
    dcm_dataset *meta = NULL, *ds = NULL;
    dcm_error err;
    struct stat st;
    cairn_status result = CAIRN_ERR_PARSE;

    memset(src, 0, sizeof *src);
    src->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src->fd < 0) {
        int saved = errno;

        log_error(log, "scu: cannot open %s: %s", path, strerror(saved));
        return saved == ENOENT ? CAIRN_ERR_NOT_FOUND : CAIRN_ERR_IO;
    }
    snprintf(src->path, sizeof src->path, "%s", path);

    if (fstat(src->fd, &st) != 0) {
        log_error(log, "scu: cannot stat %s: %s", path, strerror(errno));
        result = CAIRN_ERR_IO;
        goto fail;
    }
    src->size = (uint64_t)st.st_size;

    if (dcm_file_read_fd(src->fd, &opt, &meta, &ds, &src->ts, &err, &src->dataset_offset) !=
        DCM_OK) {
        log_error(log, "scu: cannot read %s: %s", path, err.message);
        goto fail;
    }
    if (meta == NULL || src->ts == NULL) {
        log_error(log, "scu: %s has no File Meta Information", path);
        goto fail;
    }
    if (src->dataset_offset >= src->size) {
        log_error(log, "scu: %s has an empty data set", path);
        goto fail;
    }
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(ds);
    return CAIRN_OK;

fail:
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(ds);
    scu_source_close(src);
    return result;
}

void scu_source_close(scu_source *src)
{
    if (src->fd >= 0)
        close(src->fd);
    src->fd = -1;
}
