/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser entry on an open byte reader, used by the file reader to parse
 * the File Meta Information and then the data set from one descriptor.
 */
#ifndef CAIRN_DCM_PARSE_INTERNAL_H
#define CAIRN_DCM_PARSE_INTERNAL_H

#include "dcm/dcm.h"
#include "dcm/reader.h"

/* Parses from the reader's position; on return (success or stop_at) the
 * reader stands before the first element not parsed. meta_group_only
 * stops before the first top-level element outside group 0002. Fills err
 * (when not NULL and still empty) on failure. */
int dcm_parse_reader(dcm_reader *rd, const dcm_ts *ts, const dcm_read_options *opt,
                     bool meta_group_only, dcm_dataset **out, dcm_error *err);

#endif
