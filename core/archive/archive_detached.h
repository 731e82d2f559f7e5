/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive and the configuration in force as host API entries reach
 * them outside associations: the documents stored next to the jobs, index
 * queries, file checks and N-EVENT-REPORTs on new associations. The
 * daemon attaches them once the archive is open and detaches them before
 * it closes; in between, entries wait for calls in progress.
 */
#ifndef CAIRN_ARCHIVE_DETACHED_H
#define CAIRN_ARCHIVE_DETACHED_H

#include <cairn/cairn.h>

#include "archive/archive.h"
#include "runtime/runtime.h"

/* Makes ar and rt reachable by the entries below. */
void archive_detached_attach(archive *ar, runtime *rt);
/* Waits for the calls in progress, then makes the entries return CAIRN_ERR_BUSY. */
void archive_detached_detach(void);

/*
 * Returns the attached archive with its lock held for reading, and the
 * runtime in *rt (when not NULL); NULL, lock not held, when detached.
 * Every non-NULL return must be paired with archive_detached_release.
 */
archive *archive_detached_acquire(runtime **rt);
void archive_detached_release(void);

cairn_status archive_host_document_put(const char *id, const char *document);
cairn_status archive_host_document_delete(const char *id);
cairn_status archive_host_document_list(const char *prefix, cairn_job_fn fn, void *arg);
cairn_status archive_host_index_query(const cairn_index_query *query, cairn_index_row_fn fn,
                                      void *arg);
cairn_status archive_host_file_check(const cairn_instance_file *file);
cairn_status archive_host_remote_event_report(const char *calling_ae, const char *remote_title,
                                              const char *sop_class, const char *sop_instance,
                                              uint16_t event_type_id,
                                              const cairn_dataset *event_info,
                                              cairn_dimse_status *status);

#endif
