/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's temporary folder and its lock. See archive_node.h.
 */
#include "archive/archive_node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* Same limit as the node.name setting. */
#define NODE_NAME_MAX 64

bool archive_node_name_valid(const char *name)
{
    size_t length = name != NULL ? strlen(name) : 0;

    if (length == 0 || length > NODE_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Creates folder name under parent_fd and makes the new entry durable. */
static int mkdir_synced(int parent_fd, const char *name)
{
    if (mkdirat(parent_fd, name, 0750) == 0)
        return fsync(parent_fd);
    return errno == EEXIST ? 0 : -1;
}

int archive_node_claim(int root_fd, const char *root, const char *node, char *folder,
                       size_t folder_size, int *lock_fd)
{
    int tmp_fd = -1;
    int fd = -1;
    int result = -1;

    *lock_fd = -1;
    if (!archive_node_name_valid(node)) {
        log_error(NULL, "archive: invalid node name \"%s\": use 1 to 64 letters, digits, '.', "
                  "'_' or '-'", node != NULL ? node : "(null)");
        return -1;
    }
    if (snprintf(folder, folder_size, "tmp/%s", node) >= (int)folder_size)
        return -1;

    if (mkdir_synced(root_fd, "tmp") != 0)
        goto io_error;
    tmp_fd = openat(root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmp_fd < 0 || mkdir_synced(tmp_fd, node) != 0)
        goto io_error;

    fd = openat(root_fd, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        int dir_fd = fd;

        fd = openat(dir_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        close(dir_fd);
    }
    if (fd < 0)
        goto io_error;

    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            log_error(NULL, "archive: node name \"%s\" is in use by another running cairnd on "
                      "storage %s (it holds %s/%s/.lock); give each node its own node.name",
                      node, root, root, folder);
        else
            log_error(NULL, "archive: cannot lock %s/%s/.lock: %s", root, folder,
                      strerror(errno));
        goto out;
    }
    *lock_fd = fd;
    fd = -1;
    result = 0;
    goto out;

io_error:
    log_error(NULL, "archive: cannot create the temporary folder %s/%s: %s", root, folder,
              strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (tmp_fd >= 0)
        close(tmp_fd);
    return result;
}
