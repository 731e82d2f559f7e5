/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive: instance files under storage.path plus the index back end.
 *
 * A received instance is written to a temporary file under
 * <storage>/tmp/<node>/ while its PDVs arrive; the temporary file's name
 * encodes the final path. archive_commit then makes it durable in this
 * order: fdatasync of the file, a hard link at its final place, fsync of
 * that folder, index commit, and removal of the temporary name. Under
 * storage.sync = "batch", the link comes first and one sync then makes
 * the file's bytes, its inode and both names durable: a syncfs shared by
 * the commits of concurrent associations (see archive_sync.c), or the
 * fdatasync and fsync for a commit that is alone. There, files of 8 MiB
 * or more still get their fdatasync before the link. Only after that may
 * a C-STORE be answered with success. After a crash, archive_open finishes
 * or undoes each commit left in the node's folder: a final file the index
 * references stays, any other is removed.
 *
 * NOTE: under "batch", a crash between the link and the end of its sync
 * can leave the final name on disk without the temporary one, because the
 * file system may write the two folders in any order. Recovery cannot see
 * such a file. It was never acknowledged, and `cairn check` reports it as
 * an orphan.
 *
 * Final paths are <storage>/<h0h1>/<sha256 of the SOP Instance UID>.<random>.dcm,
 * where h0h1 is the first byte of the hash in hex: derived from a hash,
 * never from received text. The 256 folders are created at the first start.
 */
#ifndef CAIRN_ARCHIVE_H
#define CAIRN_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#include "dcm/dcm.h"
#include "util/log.h"

typedef struct archive archive;
typedef struct archive_tmp archive_tmp;

/*
 * Opens the archive at storage_path (created when missing) with an index
 * back end, and recovers the commits a previous run left unfinished.
 * archive_open_node does so as node (node.name), whose temporary files go
 * to <storage>/tmp/<node>/ and are the only ones it recovers, so several
 * nodes may share storage_path; it fails when another running process
 * uses the same node name. archive_open uses the node name "local".
 */
int archive_open(const char *storage_path, const cairn_index_ops *ops, void *backend_state,
                 archive **out);
int archive_open_node(const char *storage_path, const char *node, const cairn_index_ops *ops,
                      void *backend_state, archive **out);
void archive_close(archive *ar);

/*
 * Selects how commits make files durable (storage.sync). With true, the
 * default, each commit gets a fdatasync of its file before the link and a
 * fsync of its folder after it. With false, concurrent commits share one
 * syncfs after their links. Call it before the first commit.
 */
void archive_set_sync_per_file(archive *ar, bool per_file);

const char *archive_storage_path(const archive *ar);
const cairn_index_ops *archive_index_ops(const archive *ar);
void *archive_index_db(const archive *ar);

/* Creates a temporary file for one incoming instance with this SOP Instance UID. */
archive_tmp *archive_tmp_create(archive *ar, const char *sop_instance_uid, const log_ctx *log);
/*
 * Appends bytes; returns 0, or -1 with errno set (ENOSPC for a full disk).
 * Large files are written in the background, so a failed write may be
 * reported by a later call or by archive_tmp_flush.
 */
int archive_tmp_write(archive_tmp *tmp, const void *data, size_t len);
/*
 * Receiving straight into the file's buffer: archive_tmp_space returns
 * where the next bytes go and sets *room (at least 1) to how many fit, or
 * returns NULL with errno set. archive_tmp_advance then appends the len
 * bytes written there (len <= *room) and returns as archive_tmp_write.
 */
uint8_t *archive_tmp_space(archive_tmp *tmp, size_t *room);
int archive_tmp_advance(archive_tmp *tmp, size_t len);
/* Flushes buffered bytes; returns 0 or -1 with errno. */
int archive_tmp_flush(archive_tmp *tmp);
int archive_tmp_fd(const archive_tmp *tmp);
uint64_t archive_tmp_size(const archive_tmp *tmp);
/*
 * Returns the whole file's bytes (archive_tmp_size of them) when they are
 * all still in tmp's buffer, as for a small instance, else NULL. The
 * bytes stay valid until the next write to tmp or archive_tmp_discard.
 */
const uint8_t *archive_tmp_contents(const archive_tmp *tmp);
/* Deletes the temporary file (if still there) and frees tmp. NULL is fine. */
void archive_tmp_discard(archive_tmp *tmp);

/*
 * Makes tmp durable and indexes it (see the file comment). attributes are
 * the leading attributes of the data set. On return tmp is consumed
 * whatever the result. CAIRN_ERR_NO_SPACE or CAIRN_ERR_IO: nothing stored.
 * CAIRN_ERR_OUTCOME_UNKNOWN: the index may or may not have the instance,
 * so its file stays under its final name.
 */
cairn_status archive_commit(archive *ar, archive_tmp *tmp, const dcm_dataset *attributes,
                            const char *sop_instance_uid, const char *transfer_syntax_uid,
                            const char *calling_ae, cairn_duplicate_policy policy,
                            cairn_store_outcome *outcome, const log_ctx *log);

#endif
