/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy of one index into another back end on the same storage folder
 * (`cairnd --copy-index-from`), for moving an archive from SQLite to
 * PostgreSQL. See archive_copy.c.
 */
#ifndef CAIRN_ARCHIVE_COPY_H
#define CAIRN_ARCHIVE_COPY_H

#include "config/conf.h"
#include "plugin/plugin.h"

/* Disables every plugin of conf but its index plugin, for a run that needs only the index. */
void archive_copy_keep_index_only(cairn_conf *conf);

/*
 * Copies the index that source_config names into target, the index back
 * end of conf; both must use one storage folder. Prints progress and the
 * final counts on stdout. Returns 0, or 1 when anything failed (the run
 * may be repeated: it copies nothing twice).
 */
int archive_copy_index(const cairn_conf *conf, const plugin_index *target,
                       const char *source_config);

#endif
