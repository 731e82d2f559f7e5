/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's own temporary folder, <storage>/tmp/<node>/, when several
 * cairnd processes share one storage folder. Each node writes incoming
 * instances there and, at start, recovers only that folder, so a starting
 * node never removes a file another node is about to commit. A lock file
 * in the folder keeps two running processes from using one node name.
 */
#ifndef CAIRN_ARCHIVE_NODE_H
#define CAIRN_ARCHIVE_NODE_H

#include <stdbool.h>
#include <stddef.h>

/* Node name of archive_open, whose callers (tools, tests) run one process. */
#define ARCHIVE_DEFAULT_NODE "local"

/* Returns true when name is 1..64 letters, digits, '.', '_' or '-', not starting with '.' or '-'. */
bool archive_node_name_valid(const char *name);

/*
 * Creates tmp/<node> under the storage root (durably) and takes an
 * exclusive lock on its .lock file, kept until *lock_fd is closed.
 * Writes "tmp/<node>" to folder. Returns 0, or -1 after logging why
 * (another process holds the lock: the name is in use).
 */
int archive_node_claim(int root_fd, const char *root, const char *node, char *folder,
                       size_t folder_size, int *lock_fd);

#endif
