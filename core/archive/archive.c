/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance files of the archive: temporary files, the durable commit
 * sequence and the hash-derived layout. See archive.h for the rules.
 */
#include "archive/archive.h"
#include "archive/archive_events.h"
#include "archive/archive_node.h"
#include "archive/archive_writer.h"
#include "archive/archive_sync.h"

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

#include "metrics/metrics.h"

/* Bytes buffered before a write(2); bounds memory per association. */
#define TMP_BUFFER_SIZE (256 * 1024)

/*
 * Bytes written through the page cache before the rest of a large instance
 * bypasses it with O_DIRECT. Copying into fresh page-cache pages cost more
 * CPU than the network receive itself (perf on a 256 MiB C-STORE), and the
 * fdatasync at the commit must write those pages anyway.
 */
#define TMP_DIRECT_AFTER (8 * 1024 * 1024)

/*
 * The buffers of direct writes, allocated at the switch so that small
 * instances keep the smaller one. Every write but the last is a full
 * buffer, so file offsets stay multiples of TMP_BUFFER_SIZE, which direct
 * I/O needs to be block aligned. A background writer (archive_writer.c)
 * writes full buffers while the next ones fill, so memory per association
 * is TMP_DIRECT_BUFFERS times the size.
 */
#define TMP_DIRECT_BUFFER_SIZE (1024 * 1024)
#define TMP_DIRECT_BUFFERS 4

/* Alignment of the direct buffer's address; also a multiple of the
 * logical block size of common disks (512 or 4096 bytes). */
#define DIRECT_ALIGN 4096

/*
 * Written bytes after which writeback of a large instance starts while the
 * rest still arrives, so the final fdatasync finds little left to write.
 */
#define TMP_WRITEBACK_CHUNK (8 * 1024 * 1024)

/* Instance files are spread over 256 folders named by the first hash byte. */
#define HASH_FOLDERS 256

struct archive {
    char *root;
    int root_fd;
    int lock_fd;           /* holds the lock of tmp_folder */
    char tmp_folder[80];   /* "tmp/<node>", relative to root */
    int folder_fd[HASH_FOLDERS];
    archive_sync *sync;    /* group commit of instance files */
    bool sync_per_file;    /* storage.sync = "file": no shared sync */
    const cairn_index_ops *ops;
    void *db;
};

struct archive_tmp {
    archive *ar;
    int fd;
    char rel[128];        /* final path, relative to the storage root */
    char path[PATH_MAX];  /* temporary path; empty once removed */
    uint8_t *buf;
    size_t buf_size;
    size_t buffered;
    uint64_t size;
    uint64_t written;     /* bytes handed to write(2) */
    uint64_t writeback;   /* bytes whose writeback was started */
    bool direct;          /* fd has O_DIRECT set */
    bool direct_refused;  /* O_DIRECT failed or ended: stay buffered */
    archive_writer *writer; /* writes buf's direct writes; NULL when buffered */
};

static int mkdir_durable(int parent_fd, const char *name)
{
    if (mkdirat(parent_fd, name, 0750) == 0)
        return fsync(parent_fd);
    return errno == EEXIST ? 0 : -1;
}

/*
 * Returns a random 32-bit token for a file name. Each thread seeds a
 * xorshift generator once from getrandom(2), so a file costs no system
 * call. The token only has to make clashes unlikely, not to be secret.
 */
static uint32_t file_token(void)
{
    static _Thread_local uint64_t state;

    if (state == 0) {
        if (getrandom(&state, sizeof state, 0) != sizeof state)
            state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)&state;
        if (state == 0)
            state = 0x9E3779B97F4A7C15u;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 32);
}

/* Writes the relative path "ab/<sha256 hex>.<random hex>.dcm" into rel. */
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
    token = file_token();

    if (snprintf(rel, size, "%.2s/%s.%08x.dcm", hex, hex, token) >= (int)size)
        return -1;
    return 0;
}

/* The temporary name of rel: its slashes become underscores, plus ".part". */
static int temporary_name(const char *rel, char *name, size_t size)
{
    size_t len = strlen(rel);

    if (len + sizeof ".part" > size)
        return -1;
    for (size_t i = 0; i < len; i++)
        name[i] = rel[i] == '/' ? '_' : rel[i];
    memcpy(name + len, ".part", sizeof ".part");
    return 0;
}

/* The final relative path of a temporary name, or -1 when it is not one of ours. */
static int final_name(const char *name, char *rel, size_t size)
{
    size_t len = strlen(name);

    /* "ab_" + 64 hex digits + ".xxxxxxxx.dcm.part" */
    if (len != 3 + 64 + 18 || len >= size || name[2] != '_' ||
        strcmp(name + len - 9, ".dcm.part") != 0)
        return -1;
    memcpy(rel, name, len - 5);
    rel[len - 5] = '\0';
    rel[2] = '/';
    return 0;
}

typedef struct recovery_lookup {
    const char *rel;
    bool indexed;
} recovery_lookup;

static int match_indexed_path(void *arg, const cairn_index_row *row)
{
    recovery_lookup *lookup = arg;

    if (row->file != NULL && row->file->path != NULL && strcmp(row->file->path, lookup->rel) == 0)
        lookup->indexed = true;
    return 0;
}

/* The index record of a file that an earlier run linked at its final name. */
typedef enum index_record {
    RECORD_ABSENT,  /* not indexed, or too damaged for its commit to have begun */
    RECORD_PRESENT, /* indexed at that path */
    RECORD_UNKNOWN, /* the index could not be searched */
} index_record;

/*
 * Looks up the instance of tmp_path in the index at rel. A file without
 * a readable SOP Instance UID was never complete, and the index commits
 * only after the file is.
 */
static index_record commit_reached_index(archive *ar, const char *tmp_path, const char *rel)
{
    dcm_read_options opt = {.max_value_load = 256, .stop_at = DCM_TAG(0x0002, 0xFFFF)};
    dcm_dataset *meta = NULL, *ds = NULL, *filter = NULL;
    char uid[65];
    recovery_lookup lookup = {.rel = rel};
    index_record record = RECORD_UNKNOWN;

    if (dcm_file_read(tmp_path, &opt, &meta, &ds, NULL, NULL) != DCM_OK || meta == NULL ||
        dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0003), 0, uid, sizeof uid) != DCM_OK) {
        record = RECORD_ABSENT;
        goto out;
    }

    filter = dcm_dataset_create();
    if (filter == NULL || dcm_dataset_set_string(filter, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, uid) != DCM_OK)
        goto out;
    if (ar->ops->list(ar->db, CAIRN_LEVEL_INSTANCE, (const cairn_dataset *)filter,
                      match_indexed_path, &lookup) == CAIRN_OK)
        record = lookup.indexed ? RECORD_PRESENT : RECORD_ABSENT;

out:
    dcm_dataset_destroy(filter);
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
    return record;
}

/*
 * Finishes or undoes what an earlier run left in folder (relative to the
 * root): this node's tmp/<node>, or tmp/ itself, where versions without
 * node folders wrote. None of it was acknowledged, but a commit may have
 * reached the index just before the crash. If it did, the final file
 * stays, and if not, the final file is removed too. Other nodes' folders
 * are never read, since their commits may be in progress. In tmp/ itself only received
 * instances of earlier versions are handled: other files there, such as
 * the copies a running node's sends decompress into, may be in use.
 */
static void recover_tmp_folder(archive *ar, const char *folder, bool instances_only)
{
    char path[PATH_MAX];
    char rel[128];
    DIR *dir;
    struct dirent *entry;
    unsigned removed = 0, kept = 0;

    snprintf(path, sizeof path, "%s/%s", ar->root, folder);
    dir = opendir(path);
    if (dir == NULL)
        return;

    while ((entry = readdir(dir)) != NULL) {
        char tmp_path[PATH_MAX];
        struct stat st;

        if (entry->d_name[0] == '.' || entry->d_type == DT_DIR)
            continue;
        if (snprintf(tmp_path, sizeof tmp_path, "%s/%s", path, entry->d_name) >=
            (int)sizeof tmp_path)
            continue;

        if (final_name(entry->d_name, rel, sizeof rel) != 0) {
            if (instances_only)
                continue;
        } else if (fstatat(ar->root_fd, rel, &st, 0) == 0) {
            index_record record = commit_reached_index(ar, tmp_path, rel);

            if (record == RECORD_PRESENT) {
                kept++;
            } else if (record == RECORD_UNKNOWN) {
                log_warn(NULL, "archive: kept %s: the index could not be searched for it;"
                         " `cairn check` reports it if it is not indexed", rel);
            } else if (unlinkat(ar->root_fd, rel, 0) == 0) {
                log_info(NULL, "archive: removed %s, linked but never indexed before a crash", rel);
            }
        }
        if (unlink(tmp_path) == 0)
            removed++;
    }
    closedir(dir);

    if (removed > 0)
        log_info(NULL, "archive: removed %u unfinished temporary file(s) from %s (%u commit(s) "
                 "had reached the index)", removed, path, kept);
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

/* Returns the open descriptor of the hash folder that rel lives in. */
static int hash_folder_fd(const archive *ar, const char *rel)
{
    unsigned index;

    if (sscanf(rel, "%2x/", &index) != 1 || index >= HASH_FOLDERS)
        return -1;
    return ar->folder_fd[index];
}

/*
 * Creates the 256 hash folders (once, durably) and opens them, so a commit
 * never pays for a mkdir and its parent's fsync.
 */
static int open_hash_folders(archive *ar)
{
    char name[3];

    for (unsigned i = 0; i < HASH_FOLDERS; i++) {
        snprintf(name, sizeof name, "%02x", i);
        if (mkdirat(ar->root_fd, name, 0750) != 0 && errno != EEXIST)
            return -1;
    }
    if (fsync(ar->root_fd) != 0)
        return -1;

    for (unsigned i = 0; i < HASH_FOLDERS; i++) {
        snprintf(name, sizeof name, "%02x", i);
        ar->folder_fd[i] = openat(ar->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ar->folder_fd[i] < 0)
            return -1;
    }
    return 0;
}

static void close_folders(archive *ar)
{
    for (unsigned i = 0; i < HASH_FOLDERS; i++) {
        if (ar->folder_fd[i] >= 0)
            close(ar->folder_fd[i]);
    }
    if (ar->root_fd >= 0)
        close(ar->root_fd);
    if (ar->lock_fd >= 0)
        close(ar->lock_fd);
}

int archive_open(const char *storage_path, const cairn_index_ops *ops, void *backend_state,
                 archive **out)
{
    return archive_open_node(storage_path, ARCHIVE_DEFAULT_NODE, ops, backend_state, out);
}

int archive_open_node(const char *storage_path, const char *node, const cairn_index_ops *ops,
                      void *backend_state, archive **out)
{
    archive *ar;
    cairn_status st;

    ar = calloc(1, sizeof *ar);
    if (ar == NULL)
        return -1;
    ar->root_fd = -1;
    ar->lock_fd = -1;
    for (unsigned i = 0; i < HASH_FOLDERS; i++)
        ar->folder_fd[i] = -1;
    ar->ops = ops;
    ar->sync_per_file = true;

    if (mkdir_parents(storage_path) != 0) {
        log_error(NULL, "archive: cannot create storage folder %s: %s", storage_path,
                  strerror(errno));
        goto fail;
    }
    ar->root = realpath(storage_path, NULL);
    if (ar->root == NULL)
        goto fail;
    ar->root_fd = open(ar->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ar->root_fd < 0 || mkdir_durable(ar->root_fd, "tmp") != 0 || open_hash_folders(ar) != 0) {
        log_error(NULL, "archive: cannot open storage folder %s: %s", ar->root, strerror(errno));
        goto fail;
    }
    if (archive_node_claim(ar->root_fd, ar->root, node, ar->tmp_folder, sizeof ar->tmp_folder,
                           &ar->lock_fd) != 0)
        goto fail;
    ar->sync = archive_sync_create(archive_sync_storage, &ar->root_fd);
    if (ar->sync == NULL) {
        log_error(NULL, "archive: cannot create the storage sync barrier: out of memory");
        goto fail;
    }

    st = ops->open(backend_state, ar->root, &ar->db);
    if (st == CAIRN_ERR_UNSUPPORTED) {
        /*
         * The bundled back ends return this, after logging why, for a
         * schema or an encoding they cannot use.
         */
        log_error(NULL, "archive: index back end '%s' cannot use the index database as it is; "
                  "the back end's error above gives the reason and the fix", ops->name);
        goto fail;
    }
    if (st != CAIRN_OK) {
        log_error(NULL, "archive: index back end '%s' failed to open: %s", ops->name,
                  cairn_strerror(st));
        goto fail;
    }
    recover_tmp_folder(ar, ar->tmp_folder, false);
    recover_tmp_folder(ar, "tmp", true);

    *out = ar;
    return 0;

fail:
    archive_sync_destroy(ar->sync);
    close_folders(ar);
    free(ar->root);
    free(ar);
    return -1;
}

void archive_close(archive *ar)
{
    if (ar == NULL)
        return;

    ar->ops->close(ar->db);
    archive_sync_destroy(ar->sync);
    close_folders(ar);
    free(ar->root);
    free(ar);
}

void archive_set_sync_per_file(archive *ar, bool per_file)
{
    ar->sync_per_file = per_file;
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

archive_tmp *archive_tmp_create(archive *ar, const char *sop_instance_uid, const log_ctx *log)
{
    archive_tmp *tmp;
    char name[160];

    tmp = calloc(1, sizeof *tmp);
    if (tmp == NULL)
        return NULL;
    tmp->buf = malloc(TMP_BUFFER_SIZE);
    tmp->buf_size = TMP_BUFFER_SIZE;
    if (tmp->buf == NULL) {
        free(tmp);
        return NULL;
    }
    tmp->ar = ar;
    tmp->fd = -1;

    /* The random part of the name makes a clash unlikely; a clash only costs a retry. */
    for (int attempt = 0; attempt < 4 && tmp->fd < 0; attempt++) {
        if (instance_relative_path(sop_instance_uid, tmp->rel, sizeof tmp->rel) != 0 ||
            temporary_name(tmp->rel, name, sizeof name) != 0)
            break;
        snprintf(tmp->path, sizeof tmp->path, "%s/%s/%s", ar->root, ar->tmp_folder, name);
        tmp->fd = open(tmp->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (tmp->fd < 0 && errno != EEXIST)
            break;
    }
    if (tmp->fd < 0) {
        log_error(log, "archive: cannot create temporary file %s: %s", tmp->path,
                  strerror(errno));
        free(tmp->buf);
        free(tmp);
        return NULL;
    }
    return tmp;
}

static int pwrite_all(int fd, const uint8_t *data, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, (off_t)offset);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

/* Starts writeback of what was written since the last call, once it is large enough. */
static void start_writeback(archive_tmp *tmp)
{
    if (tmp->written - tmp->writeback < TMP_WRITEBACK_CHUNK)
        return;

    /* Only a hint: failures surface at the fdatasync that makes the file durable. */
    sync_file_range(tmp->fd, (off_t)tmp->writeback, (off_t)(tmp->written - tmp->writeback),
                    SYNC_FILE_RANGE_WRITE);
    tmp->writeback = tmp->written;
}

/* Sets or clears O_DIRECT on the file; returns 0 or -1 with errno. */
static int set_direct(archive_tmp *tmp, bool on)
{
    int flags = fcntl(tmp->fd, F_GETFL);

    if (flags < 0)
        return -1;
    flags = on ? flags | O_DIRECT : flags & ~O_DIRECT;
    if (fcntl(tmp->fd, F_SETFL, flags) != 0)
        return -1;
    tmp->direct = on;
    return 0;
}

/* Writes len bytes of the buffer through the page cache at the end of the file. */
static int write_through(archive_tmp *tmp, const uint8_t *data, size_t len)
{
    if (pwrite_all(tmp->fd, data, len, tmp->written) != 0)
        return -1;
    tmp->written += len;
    start_writeback(tmp);
    return 0;
}

/*
 * Switches the rest of the file to O_DIRECT, with the buffers of a
 * background writer. When that fails the file stays buffered, which is
 * only slower.
 */
static void start_direct(archive_tmp *tmp)
{
    tmp->direct_refused = true;
    if (set_direct(tmp, true) != 0)
        return;
    tmp->writer = archive_writer_start(tmp->fd, tmp->written, TMP_DIRECT_BUFFER_SIZE,
                                       DIRECT_ALIGN, TMP_DIRECT_BUFFERS);
    if (tmp->writer == NULL) {
        set_direct(tmp, false);
        return;
    }
    free(tmp->buf);
    tmp->buf = archive_writer_next(tmp->writer);
    tmp->buf_size = TMP_DIRECT_BUFFER_SIZE;
    tmp->direct_refused = false;
}

/*
 * Hands a full buffer to the writer, or writes it through the page cache,
 * then switches to O_DIRECT once the file is large.
 */
static int flush_full_buffer(archive_tmp *tmp)
{
    if (tmp->writer != NULL) {
        if (archive_writer_queue(tmp->writer, tmp->buf_size) != 0)
            return -1;
        tmp->written += tmp->buf_size;
        tmp->buffered = 0;
        tmp->buf = archive_writer_next(tmp->writer);
        return 0;
    }

    if (write_through(tmp, tmp->buf, tmp->buf_size) != 0)
        return -1;
    tmp->buffered = 0;
    if (!tmp->direct_refused && tmp->written >= TMP_DIRECT_AFTER)
        start_direct(tmp);
    return 0;
}

/*
 * Queues the whole blocks of the direct buffer, waits for the writer, and
 * writes the tail through the page cache, since direct I/O takes whole
 * blocks only. The file stays buffered after that, and later writes get a
 * new buffer.
 */
static int finish_direct(archive_tmp *tmp)
{
    size_t done = tmp->buffered - tmp->buffered % DIRECT_ALIGN;
    int rc = 0;

    if (done > 0 && archive_writer_queue(tmp->writer, done) != 0)
        rc = -1;
    if (rc == 0 && archive_writer_drain(tmp->writer) != 0)
        rc = -1;
    if (rc == 0) {
        tmp->written += done;
        if (set_direct(tmp, false) != 0 ||
            (tmp->buffered > done && write_through(tmp, tmp->buf + done, tmp->buffered - done) != 0))
            rc = -1;
    }

    int saved = errno;
    archive_writer_stop(tmp->writer);
    tmp->writer = NULL;
    tmp->buf = NULL;
    tmp->buf_size = 0;
    tmp->buffered = 0;
    tmp->direct = false;
    tmp->direct_refused = true;
    errno = saved;
    return rc;
}

int archive_tmp_flush(archive_tmp *tmp)
{
    if (tmp->writer != NULL)
        return finish_direct(tmp);

    if (tmp->buffered > 0 && write_through(tmp, tmp->buf, tmp->buffered) != 0)
        return -1;
    tmp->buffered = 0;
    return 0;
}

uint8_t *archive_tmp_space(archive_tmp *tmp, size_t *room)
{
    if (tmp->buf == NULL) {
        tmp->buf = malloc(TMP_BUFFER_SIZE);
        if (tmp->buf == NULL)
            return NULL;
        tmp->buf_size = TMP_BUFFER_SIZE;
        tmp->buffered = 0;
    }

    /* A full buffer is written at once, so there is always room. */
    *room = tmp->buf_size - tmp->buffered;
    return tmp->buf + tmp->buffered;
}

int archive_tmp_advance(archive_tmp *tmp, size_t len)
{
    tmp->size += len;
    tmp->buffered += len;
    if (tmp->buffered == tmp->buf_size)
        return flush_full_buffer(tmp);
    return 0;
}

int archive_tmp_write(archive_tmp *tmp, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        size_t room;
        uint8_t *space = archive_tmp_space(tmp, &room);

        if (space == NULL)
            return -1;
        if (room > len)
            room = len;
        memcpy(space, p, room);
        p += room;
        len -= room;
        if (archive_tmp_advance(tmp, room) != 0)
            return -1;
    }
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

/*
 * The buffer is written and reused only once it is full, so while the
 * file is no larger than the buffer its bytes all start at the beginning.
 */
const uint8_t *archive_tmp_contents(const archive_tmp *tmp)
{
    if (tmp->writer != NULL || tmp->buf == NULL || tmp->size > tmp->buf_size)
        return NULL;
    return tmp->buf;
}

void archive_tmp_discard(archive_tmp *tmp)
{
    if (tmp == NULL)
        return;

    if (tmp->writer != NULL)
        archive_writer_stop(tmp->writer);
    else
        free(tmp->buf);
    if (tmp->fd >= 0)
        close(tmp->fd);
    if (tmp->path[0] != '\0')
        unlink(tmp->path);
    free(tmp);
}

static cairn_status status_from_errno(int err)
{
    return (err == ENOSPC || err == EDQUOT) ? CAIRN_ERR_NO_SPACE : CAIRN_ERR_IO;
}

/*
 * Makes the file's data, metadata and temporary name durable before the
 * link when commits sync per file. A large file gets this too before the
 * shared sync, so that sync does not write megabytes for one commit while
 * the other commits of its batch wait.
 */
static int sync_file_before_link(const archive *ar, const archive_tmp *tmp)
{
    if (!ar->sync_per_file && tmp->size < TMP_DIRECT_AFTER)
        return 0;
    return fdatasync(tmp->fd);
}

/*
 * Waits for the file's writeback and returns -1 with errno set when
 * any writeback of it failed since it was opened. Linux reports such an
 * error once to each open file, and sync_file_range(2) with these flags
 * reports it without a disk cache flush.
 */
static int check_writeback(int fd)
{
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                         SYNC_FILE_RANGE_WAIT_AFTER);
}

typedef struct solo_commit {
    int file_fd;
    int folder_fd;
} solo_commit;

/* Makes one linked file durable on its own: its bytes and inode, then its new name. */
static int sync_solo_commit(void *arg)
{
    const solo_commit *commit = arg;

    if (fdatasync(commit->file_fd) != 0 || fsync(commit->folder_fd) != 0)
        return errno;
    return 0;
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
    const char *rel = tmp->rel;
    char final_path[PATH_MAX];
    char *replaced = NULL;
    int leaf_fd = -1;
    int sync_error;
    solo_commit solo;
    bool linked = false;
    cairn_status result = CAIRN_OK;
    struct timespec now;
    cairn_instance_file file;
    uint64_t started_us;

    /* 1. The bytes reach the file. */
    if (archive_tmp_flush(tmp) != 0 || sync_file_before_link(ar, tmp) != 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot write %s: %s", tmp->path, strerror(errno));
        goto out;
    }

    /*
     * 2. The file gets its final name as a second link. The temporary name
     * stays until the index commits, so a crash in between is found and
     * undone at the next start.
     */
    leaf_fd = hash_folder_fd(ar, rel);
    if (leaf_fd < 0) {
        result = CAIRN_ERR_INTERNAL;
        log_error(log, "archive: no hash folder for %s", rel);
        goto out;
    }
    snprintf(final_path, sizeof final_path, "%s/%s", ar->root, rel);
    if (link(tmp->path, final_path) != 0) {
        result = status_from_errno(errno);
        log_error(log, "archive: cannot link %s to %s: %s", tmp->path, final_path,
                  strerror(errno));
        goto out;
    }
    linked = true;

    /*
     * 3. One file system sync, shared with the commits of other
     * associations, makes the bytes, the inode and both names durable.
     * A commit alone syncs its file and folder only. Under storage.sync =
     * "file" the file was synced before the link, and only the folder is.
     * The check of this file's own writeback errors catches a failure
     * that an earlier sync of a batch without this file reported.
     */
    solo = (solo_commit){.file_fd = tmp->fd, .folder_fd = leaf_fd};
    if (ar->sync_per_file)
        sync_error = fsync(leaf_fd) == 0 ? 0 : errno;
    else
        sync_error = archive_sync_wait(ar->sync, sync_solo_commit, &solo, NULL);
    if (sync_error == 0 && !ar->sync_per_file && check_writeback(tmp->fd) != 0)
        sync_error = errno;
    if (sync_error != 0) {
        result = status_from_errno(sync_error);
        log_error(log, "archive: cannot make %s durable: %s", final_path, strerror(sync_error));
        goto out;
    }

    /* 4. The index commits; the back end returns only when that is durable. */
    clock_gettime(CLOCK_REALTIME, &now);
    file = (cairn_instance_file){
        .struct_size = sizeof file,
        .path = rel,
        .size = tmp->size,
        .transfer_syntax_uid = transfer_syntax_uid,
        .received_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
        .calling_ae = calling_ae,
    };
    started_us = metrics_now_us();
    result = ar->ops->store_instance(ar->db, (const cairn_dataset *)attributes, &file, policy,
                                     outcome, &replaced);
    metrics_index_latency(metrics_now_us() - started_us);
    if (result == CAIRN_ERR_OUTCOME_UNKNOWN) {
        log_error(log, "archive: index outcome of %s unknown; kept %s, which `cairn check`"
                  " reports as an orphan if the index did not commit it",
                  sop_instance_uid, rel);
        linked = false;
        goto out;
    }
    if (result != CAIRN_OK) {
        log_error(log, "archive: index did not record %s: %s", sop_instance_uid,
                  cairn_strerror(result));
        goto out;
    }

    /* 5. Files no longer referenced go; the temporary name goes last, in archive_tmp_discard. */
    if (*outcome == CAIRN_STORE_KEPT || *outcome == CAIRN_STORE_REJECTED) {
        unlinkat(ar->root_fd, rel, 0);
    } else if (*outcome == CAIRN_STORE_REPLACED && replaced != NULL) {
        /* NOTE: a crash before this unlink leaves the replaced file as an orphan
         * that `cairn check` reports and `check --repair` removes. */
        remove_replaced_file(ar, replaced, log);
    }
    log_debug(log, "archive: %s stored as %s (%llu bytes)", sop_instance_uid, rel,
              (unsigned long long)tmp->size);
    if (*outcome == CAIRN_STORE_STORED || *outcome == CAIRN_STORE_REPLACED)
        archive_events_instance_stored((const cairn_dataset *)attributes, &file);
    metrics_add(METRIC_INSTANCES_RECEIVED, 1);
    metrics_add(METRIC_BYTES_RECEIVED, tmp->size);

out:
    /* The final name goes before the temporary one, so recovery never sees a final name alone. */
    if (result != CAIRN_OK && linked)
        unlinkat(ar->root_fd, rel, 0);
    free(replaced);
    archive_tmp_discard(tmp);
    return result;
}
