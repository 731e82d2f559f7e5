/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Case folding, person name component groups and normalised date and time
 * keys, shared by the index back ends (idxtext.c).
 */
#ifndef CAIRN_IDXTEXT_H
#define CAIRN_IDXTEXT_H

#include <stdbool.h>

#include "cairn/status.h"

#define IDXTEXT_DATE_KEY_SIZE 9  /* YYYYMMDD */
#define IDXTEXT_TIME_KEY_SIZE 14 /* HHMMSS.FFFFFF */

/* Returns a case-folded copy of UTF-8 text (malloc'd), or NULL when out of memory. */
char *idxtext_fold(const char *text);

/*
 * Splits a person name at '=' into its alphabetic, ideographic and
 * phonetic groups, each malloc'd. A name without '=' gives three empty
 * groups.
 */
cairn_status idxtext_pn_groups(const char *name, char *groups[3]);

/* Stores the YYYYMMDD key of a DA value; false when value is not a date. */
bool idxtext_date_key(const char *value, char key[IDXTEXT_DATE_KEY_SIZE]);

/*
 * Stores the HHMMSS.FFFFFF key of a TM value, filling missing parts with
 * zeros, or with their largest value when upper is set. Returns false
 * when value is not a time.
 */
bool idxtext_time_key(const char *value, bool upper, char key[IDXTEXT_TIME_KEY_SIZE]);

#endif
