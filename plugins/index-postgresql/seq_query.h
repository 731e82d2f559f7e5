/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequence matching in PostgreSQL queries (seq_query.c). The sequence
 * keys are read by the SQLite back end's seqidx.c, which both plugins
 * build. pgidx.h declares the writing at store time (seq_store.c).
 */
#ifndef PGIDX_SEQ_QUERY_H
#define PGIDX_SEQ_QUERY_H

#include "query_sql.h"

/* The sequence keys of one query (seqidx.h). */
typedef struct pgidx_seq_keys {
    seqidx_key *keys;
    size_t count;
} pgidx_seq_keys;

cairn_status pgidx_seq_read(const pgidx_backend *backend, const cairn_index_query *query,
                            pgidx_seq_keys *keys);
void pgidx_seq_free(pgidx_seq_keys *keys);

/* Appends an EXISTS condition for each matching sequence key of level. */
cairn_status pgidx_seq_conditions(const pgidx_backend *backend, query_sql *sql,
                                  const pgidx_seq_keys *keys, cairn_index_level level,
                                  uint32_t flags);

/* Returns the deepest level of a sequence key with matching keys, or 0. */
cairn_index_level pgidx_seq_deepest(const pgidx_seq_keys *keys);

/*
 * Appends ", (SELECT ...) AS seq_GGGGEEEE" for each sequence key of level
 * or above: the matching stored items, which pgidx_seq_add_column puts in
 * the row.
 */
cairn_status pgidx_seq_columns(const pgidx_backend *backend, query_sql *sql,
                               const pgidx_seq_keys *keys, cairn_index_level level,
                               uint32_t flags);

#endif
