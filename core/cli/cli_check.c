/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn check`: compares the index with the files of the storage folder.
 * Every indexed instance must have its file, of the indexed size, readable
 * as a PS3.10 file whose SOP Instance UID is the indexed one. Every *.dcm
 * file must be in the index: a file that is not is an orphan, left for
 * example by a crash between the rename of a received instance and its
 * index commit. Entries of tmp/ are unfinished receptions.
 *
 * With --repair, orphans and temporary files older than --min-age are
 * removed. Indexed instances are never removed: a missing or damaged file
 * needs the instance to be sent again or restored.
 *
 * The storage folder is scanned before the index is listed, so an instance
 * that cairnd stores during the check is never reported as missing, though
 * it may be reported as an orphan. --min-age keeps --repair from removing
 * such a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dcm/dcm.h"

/*
 * Values longer than this are skipped rather than loaded while a file is
 * verified, so a check reads each file once with bounded memory.
 */
#define CHECK_MAX_VALUE_LOAD 1024

typedef struct check_counts {
    size_t indexed;
    size_t missing;
    size_t size_mismatch;
    size_t unreadable;
    size_t uid_mismatch;
    size_t orphan;
    size_t temporary;
    size_t removed_orphan;
    size_t removed_temporary;
    size_t kept_recent; /* orphans and temporary files younger than --min-age */
    size_t remove_failed;
} check_counts;

typedef struct check_context {
    const char *root;
    int root_fd;
    cli_file_list instances;
    cli_file_list temporary;
    bool *referenced; /* per entry of instances */
    check_counts counts;
} check_context;

/* True when path is relative and has no "." or ".." component. */
static bool is_safe_relative_path(const char *path)
{
    const char *component = path;

    if (path[0] == '\0' || path[0] == '/')
        return false;
    for (;;) {
        const char *end = strchr(component, '/');
        size_t length = end != NULL ? (size_t)(end - component) : strlen(component);

        if (length == 0 || (length == 1 && component[0] == '.') ||
            (length == 2 && component[0] == '.' && component[1] == '.'))
            return false;
        if (end == NULL)
            return true;
        component = end + 1;
    }
}

/* Reads the file and compares its SOP Instance UID, reporting and counting a problem. */
static void verify_content(check_context *context, const char *path, const char *indexed_uid)
{
    dcm_read_options options = {.max_value_load = CHECK_MAX_VALUE_LOAD};
    dcm_dataset *meta = NULL;
    dcm_dataset *dataset = NULL;
    dcm_error error = {0};
    char full_path[PATH_MAX];
    char uid[256] = "";
    int rc;

    snprintf(full_path, sizeof(full_path), "%s/%s", context->root, path);
    rc = dcm_file_read(full_path, &options, &meta, &dataset, NULL, &error);
    if (rc != 0) {
        printf("unreadable: %s: %s at byte %llu (SOP Instance UID %s)\n", path,
               error.message[0] != '\0' ? error.message : dcm_strerror(rc),
               (unsigned long long)error.offset, indexed_uid);
        context->counts.unreadable++;
        goto out;
    }
    if (meta == NULL) {
        printf("unreadable: %s: no PS3.10 File Meta Information (SOP Instance UID %s)\n", path,
               indexed_uid);
        context->counts.unreadable++;
        goto out;
    }

    rc = dcm_dataset_get_string(dataset, DCM_TAG(0x0008, 0x0018), 0, uid, sizeof(uid));
    if (rc != 0) {
        printf("UID mismatch: %s: the file has no valid SOP Instance UID (%s), the index %s\n",
               path, dcm_strerror(rc), indexed_uid);
        context->counts.uid_mismatch++;
    } else if (strcmp(uid, indexed_uid) != 0) {
        printf("UID mismatch: %s: the file has SOP Instance UID %s, the index %s\n", path, uid,
               indexed_uid);
        context->counts.uid_mismatch++;
    }

out:
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(dataset);
}

static int on_instance(void *arg, const cairn_index_row *row)
{
    check_context *context = arg;
    const cairn_instance_file *file = row->file;
    char uid[256] = "";
    struct stat st;
    long found;

    context->counts.indexed++;
    dcm_dataset_get_string((const dcm_dataset *)row->attributes, DCM_TAG(0x0008, 0x0018), 0, uid,
                           sizeof(uid));

    if (file == NULL || file->path == NULL || !is_safe_relative_path(file->path)) {
        printf("unreadable: SOP Instance UID %s: the index holds no valid relative path (\"%s\")\n",
               uid, file != NULL && file->path != NULL ? file->path : "");
        context->counts.unreadable++;
        return 0;
    }

    found = cli_file_list_find(&context->instances, file->path);
    if (found >= 0)
        context->referenced[found] = true;

    if (fstatat(context->root_fd, file->path, &st, 0) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            printf("missing: %s: file not found (SOP Instance UID %s)\n", file->path, uid);
            context->counts.missing++;
        } else {
            printf("unreadable: %s: %s (SOP Instance UID %s)\n", file->path, strerror(errno),
                   uid);
            context->counts.unreadable++;
        }
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        printf("unreadable: %s: not a regular file (SOP Instance UID %s)\n", file->path, uid);
        context->counts.unreadable++;
        return 0;
    }
    if ((uint64_t)st.st_size != file->size) {
        printf("size mismatch: %s: %llu bytes on disk, %llu in the index (SOP Instance UID %s)\n",
               file->path, (unsigned long long)st.st_size, (unsigned long long)file->size, uid);
        context->counts.size_mismatch++;
        return 0;
    }

    verify_content(context, file->path, uid);
    return 0;
}

/*
 * Removes one orphan or temporary file when repairing, and returns true
 * when it was removed. Files changed within min_age seconds are kept, as cairnd
 * may be about to index them.
 */
static bool remove_leftover(check_context *context, const cli_check_options *options,
                            const char *path)
{
    struct stat st;
    time_t now = time(NULL);

    if (!options->repair)
        return false;

    if (fstatat(context->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return true;
        printf("  not removed: %s: %s\n", path, strerror(errno));
        context->counts.remove_failed++;
        return false;
    }
    if (st.st_mtime > now - (time_t)options->min_age_seconds) {
        printf("  kept: %s was modified less than %u s ago (see --min-age)\n", path,
               options->min_age_seconds);
        context->counts.kept_recent++;
        return false;
    }
    if (unlinkat(context->root_fd, path, 0) != 0) {
        printf("  not removed: %s: %s\n", path, strerror(errno));
        context->counts.remove_failed++;
        return false;
    }
    printf("  removed: %s\n", path);
    return true;
}

static void report_leftovers(check_context *context, const cli_check_options *options)
{
    for (size_t i = 0; i < context->instances.count; i++) {
        const char *path = context->instances.paths[i];

        if (context->referenced[i])
            continue;
        printf("orphan: %s: not in the index\n", path);
        context->counts.orphan++;
        if (remove_leftover(context, options, path))
            context->counts.removed_orphan++;
    }

    for (size_t i = 0; i < context->temporary.count; i++) {
        const char *path = context->temporary.paths[i];

        printf("temporary: %s: unfinished reception\n", path);
        context->counts.temporary++;
        if (remove_leftover(context, options, path))
            context->counts.removed_temporary++;
    }
}

/* Prints the summary and returns true when no problem remains. */
static bool print_summary(const check_context *context, const cli_check_options *options)
{
    const check_counts *c = &context->counts;
    size_t index_problems = c->missing + c->size_mismatch + c->unreadable + c->uid_mismatch;
    size_t leftovers = c->orphan + c->temporary - c->removed_orphan - c->removed_temporary;

    printf("Checked %zu indexed instance(s) and %zu instance file(s) in %s.\n", c->indexed,
           context->instances.count, context->root);
    printf("Problems: %zu missing, %zu size mismatch(es), %zu unreadable, %zu UID mismatch(es), "
           "%zu orphan(s), %zu temporary file(s).\n",
           c->missing, c->size_mismatch, c->unreadable, c->uid_mismatch, c->orphan, c->temporary);
    if (options->repair)
        printf("Repair: removed %zu orphan(s) and %zu temporary file(s), kept %zu recent, "
               "%zu failed.\n",
               c->removed_orphan, c->removed_temporary, c->kept_recent, c->remove_failed);

    if (index_problems == 0 && leftovers == 0) {
        printf("The index and the storage folder are consistent.\n");
        return true;
    }
    printf("The index and the storage folder are NOT consistent.\n");
    if (leftovers > 0 && !options->repair)
        printf("Stop cairnd, then run `cairn check --repair` to remove the orphan and "
               "temporary files.\n");
    if (index_problems > 0)
        printf("Indexed instances with a missing or damaged file need to be sent again or "
               "restored from a backup; --repair does not remove them.\n");
    return false;
}

int cli_check(cli_archive *archive, const cli_check_options *options)
{
    check_context context = {.root = archive->storage_path, .root_fd = -1};
    cairn_status status;
    int result = CLI_EXIT_FAILURE;

    context.root_fd = open(context.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (context.root_fd < 0) {
        cli_error("cannot open storage folder %s: %s", context.root, strerror(errno));
        goto out;
    }

    /* Scan first: see the file comment for why the order matters. */
    if (cli_scan_storage(context.root, &context.instances, &context.temporary) != 0)
        goto out;
    context.referenced = calloc(context.instances.count + 1, sizeof(*context.referenced));
    if (context.referenced == NULL) {
        cli_error("out of memory");
        goto out;
    }

    status = archive->ops->list(archive->db, CAIRN_LEVEL_INSTANCE, NULL, on_instance, &context);
    if (status != CAIRN_OK) {
        cli_error("listing the index failed: %s (back end '%s')", cairn_strerror(status),
                  archive->ops->name);
        goto out;
    }

    report_leftovers(&context, options);
    result = print_summary(&context, options) ? CLI_EXIT_OK : CLI_EXIT_FAILURE;

out:
    free(context.referenced);
    cli_file_list_free(&context.instances);
    cli_file_list_free(&context.temporary);
    if (context.root_fd >= 0)
        close(context.root_fd);
    return result;
}
