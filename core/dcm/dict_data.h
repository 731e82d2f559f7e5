/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tables of the generated data dictionary (dcm_dict_data.c, written by
 * dictgen at build time) and the range type of its repeating entries.
 */
#ifndef CAIRN_DCM_DICT_DATA_H
#define CAIRN_DCM_DICT_DATA_H

#include "dcm/dcm.h"

/* A repeating entry matches groups g_lo..g_hi taken every g_step, and
 * elements e_lo..e_hi taken every e_step. */
typedef struct dcm_dict_range {
    uint16_t g_lo, g_hi, g_step;
    uint16_t e_lo, e_hi, e_step;
    const dcm_dict_entry *entry;
} dcm_dict_range;

extern const dcm_dict_entry dcm_dict_entries[];        /* sorted by tag */
extern const size_t dcm_dict_entry_count;
extern const dcm_dict_entry dcm_dict_repeating_entries[];
extern const dcm_dict_range dcm_dict_ranges[];
extern const size_t dcm_dict_range_count;
extern const dcm_dict_entry *const dcm_dict_by_keyword[]; /* sorted by keyword */
extern const size_t dcm_dict_by_keyword_count;

#endif
