/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of `cairnd --copy-index-from` shared between archive_copy.c
 * (configurations, documents, report) and archive_copy_instances.c (the
 * instances, on several threads).
 */
#ifndef CAIRN_ARCHIVE_COPY_INTERNAL_H
#define CAIRN_ARCHIVE_COPY_INTERNAL_H

#include <stdint.h>

#include "cairn/index.h"

/* Counts of the instance copy. */
typedef struct copy_counts {
    uint64_t seen;    /* rows listed in the source */
    uint64_t stored;  /* new in the target */
    uint64_t present; /* already in the target */
    uint64_t failed;  /* unreadable file, unusable row or failed store */
} copy_counts;

/* The source index of a copy, opened on the storage folder of both. */
typedef struct copy_source {
    const char *storage; /* absolute */
    const cairn_index_ops *ops;
    void *db;
    uint64_t total; /* instances, for the progress lines */
} copy_source;

/*
 * Stores every instance of source in dst (opened on the same storage
 * folder) from its file, with the keep policy, and adds to counts.
 * Prints a progress line every 1000 instances. Returns the status of the
 * source listing; failures of single instances are only counted.
 */
cairn_status copy_instances(const copy_source *source, const cairn_index_ops *dst, void *dst_db,
                            copy_counts *counts);

#endif
