/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scan of the storage folder for `cairn check`: every instance file
 * (a regular file named *.dcm anywhere below the root, except in tmp/) and
 * every file of tmp/ and of the node folders tmp/<node>/ but their .lock,
 * as paths relative to the root. Other files, such as
 * the SQLite index and its journal, are not instance files and are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/*
 * Deepest folder nesting searched below the root. The archive writes one
 * level (ab/); deeper trees are scanned to this depth and the rest is
 * reported as skipped.
 */
#define MAX_SCAN_DEPTH 8

static int list_add(cli_file_list *list, const char *path)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 256 : list->capacity * 2;
        char **paths = realloc(list->paths, capacity * sizeof(*paths));

        if (paths == NULL)
            return -1;
        list->paths = paths;
        list->capacity = capacity;
    }
    list->paths[list->count] = strdup(path);
    if (list->paths[list->count] == NULL)
        return -1;
    list->count++;
    return 0;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_dcm_suffix(const char *name)
{
    size_t length = strlen(name);

    return length > 4 && strcmp(name + length - 4, ".dcm") == 0;
}

/* Joins a relative folder path and an entry name. Returns -1 when too long. */
static int join_path(char *out, size_t size, const char *folder, const char *name)
{
    int n = folder[0] == '\0' ? snprintf(out, size, "%s", name)
                              : snprintf(out, size, "%s/%s", folder, name);

    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Adds the entries of the folder open as fd (relative path `folder`, ""
 * for the root) to the lists. Consumes fd. Returns 0 or -1 after printing
 * the failure.
 */
static int scan_folder(int fd, const char *root, const char *folder, unsigned depth,
                       cli_file_list *instances, cli_file_list *temporary)
{
    DIR *dir = fdopendir(fd);
    struct dirent *entry;
    char path[PATH_MAX];
    int result = -1;

    if (dir == NULL) {
        cli_error("cannot read folder %s/%s: %s", root, folder, strerror(errno));
        close(fd);
        return -1;
    }

    for (;;) {
        struct stat st;
        bool in_tmp = strcmp(folder, "tmp") == 0;
        bool in_node_tmp = strncmp(folder, "tmp/", 4) == 0;

        errno = 0;
        entry = readdir(dir);
        if (entry == NULL)
            break;
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (join_path(path, sizeof(path), folder, entry->d_name) != 0) {
            cli_error("path too long below %s/%s, skipped", root, folder);
            continue;
        }
        if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue; /* removed since readdir */
            cli_error("cannot read %s/%s: %s", root, path, strerror(errno));
            goto out;
        }

        /* tmp/<node>/ folders hold each node's receptions; their .lock files are not ones. */
        if ((in_tmp && !S_ISDIR(st.st_mode)) || (in_node_tmp && entry->d_name[0] != '.')) {
            if (list_add(temporary, path) != 0)
                goto out_of_memory;
            continue;
        }
        if (in_node_tmp)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int child;

            if (depth + 1 > MAX_SCAN_DEPTH) {
                cli_error("folder %s/%s is deeper than %d levels, not scanned", root, path,
                          MAX_SCAN_DEPTH);
                continue;
            }
            child = openat(dirfd(dir), entry->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child < 0) {
                cli_error("cannot open folder %s/%s: %s", root, path, strerror(errno));
                goto out;
            }
            if (scan_folder(child, root, path, depth + 1, instances, temporary) != 0)
                goto out;
            continue;
        }
        if (S_ISREG(st.st_mode) && has_dcm_suffix(entry->d_name)) {
            if (list_add(instances, path) != 0)
                goto out_of_memory;
        }
    }
    if (errno != 0) {
        cli_error("cannot read folder %s/%s: %s", root, folder, strerror(errno));
        goto out;
    }
    result = 0;
    goto out;

out_of_memory:
    cli_error("out of memory while scanning %s", root);
out:
    closedir(dir);
    return result;
}

int cli_scan_storage(const char *root, cli_file_list *instances, cli_file_list *temporary)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        cli_error("cannot open storage folder %s: %s", root, strerror(errno));
        return -1;
    }
    if (scan_folder(fd, root, "", 0, instances, temporary) != 0)
        return -1;

    /* qsort must not see the NULL array of an empty list. */
    if (instances->count > 1)
        qsort(instances->paths, instances->count, sizeof(*instances->paths), compare_paths);
    if (temporary->count > 1)
        qsort(temporary->paths, temporary->count, sizeof(*temporary->paths), compare_paths);
    return 0;
}

long cli_file_list_find(const cli_file_list *list, const char *path)
{
    char **found;

    if (list->count == 0)
        return -1;
    found = bsearch(&path, list->paths, list->count, sizeof(*list->paths), compare_paths);
    return found != NULL ? (long)(found - list->paths) : -1;
}

void cli_file_list_free(cli_file_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    memset(list, 0, sizeof(*list));
}
