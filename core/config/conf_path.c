/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path arithmetic for the configuration: relative paths in the file are
 * relative to the file's own folder, so a configuration tree can move as a
 * whole. Normalization is lexical: the paths may name files that do not
 * exist yet (the storage folder, an index database).
 */
#include "config/conf_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Rewrites the absolute path in place: drops empty and "." components and
 * removes a ".." together with the component before it ("/.." is "/").
 */
static void normalize(char *path)
{
    char *out = path;
    const char *in = path;

    while (*in != '\0') {
        const char *end;
        size_t length;

        while (*in == '/')
            in++;
        if (*in == '\0')
            break;
        end = strchrnul(in, '/');
        length = (size_t)(end - in);

        if (length == 1 && in[0] == '.') {
            in = end;
            continue;
        }
        if (length == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *(out - 1) != '/')
                out--;
            if (out > path)
                out--;
            in = end;
            continue;
        }

        *out++ = '/';
        memmove(out, in, length);
        out += length;
        in = end;
    }

    if (out == path)
        *out++ = '/';
    *out = '\0';
}

char *conf_path_join(const char *dir, const char *path)
{
    char *joined;

    if (path[0] == '/' || dir == NULL) {
        joined = strdup(path);
    } else if (asprintf(&joined, "%s/%s", dir, path) < 0) {
        joined = NULL;
    }
    if (joined == NULL)
        return NULL;

    if (joined[0] == '/')
        normalize(joined);
    return joined;
}

char *conf_path_dir(const char *file)
{
    char cwd[PATH_MAX];
    const char *slash = strrchr(file, '/');
    char *folder;
    char *absolute;

    if (slash == NULL)
        folder = strdup(".");
    else if (slash == file)
        folder = strdup("/");
    else
        folder = strndup(file, (size_t)(slash - file));
    if (folder == NULL)
        return NULL;

    if (folder[0] == '/') {
        normalize(folder);
        return folder;
    }

    if (getcwd(cwd, sizeof cwd) == NULL) {
        free(folder);
        return NULL;
    }
    absolute = conf_path_join(cwd, folder);
    free(folder);
    return absolute;
}

char *conf_resolve_path(const cairn_conf *conf, const char *path)
{
    if (conf == NULL || path == NULL || path[0] == '\0')
        return NULL;
    return conf_path_join(conf->dir, path);
}
