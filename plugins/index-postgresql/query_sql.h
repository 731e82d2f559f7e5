/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL side of the SQL the index builds. query_sql (idxquery.h)
 * is a text with its parameters, used by the listing (list.c), the
 * commitment filter (commitment.c) and the query runner (query.c,
 * rows.c). Every value taken from a request goes into a parameter $n,
 * sent apart from the text by PQexecParams. C-FIND matching comes from
 * the builder both back ends share, written through pgidx_query_dialect.
 */
#ifndef PGIDX_QUERY_SQL_H
#define PGIDX_QUERY_SQL_H

#include "idxquery.h"
#include "pgidx.h"

/* query_dialect.c */
extern const query_dialect pgidx_query_dialect;

#endif
