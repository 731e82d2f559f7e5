/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choices that steer SQLite's query plan. The index runs no ANALYZE, and
 * Debian's libsqlite3 is built without STAT4, so SQLite has no estimate of
 * how many rows a range selects. Left alone, it starts a study query that
 * has both a Patient's Name and a Study Date range from the study_date
 * index and reads every study in the range. A name wildcard over six years
 * of 100,000 studies took 93 ms that way (tests/unit/test_index_query.c,
 * CAIRN_QUERY_BENCH_STUDIES=100000).
 *
 * A Patient's Name that gives its first characters selects few patients
 * whatever the dates, so query_match.c then bounds each name column to
 * the names with that prefix, a range an index can seek, and writes a
 * wide Study Date range as "+st.study_date": the unary plus keeps SQLite
 * off the study_date index, so it starts from the patient name indexes.
 * A range of at most NARROW_DAYS days keeps the index, because it selects
 * few studies on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "query_sql.h"

/* Date ranges up to this many days still start from the study_date index. */
#define NARROW_DAYS 31

cairn_status query_plan_prefix_range(const char *value, char **low, char **high)
{
    size_t length = strcspn(value, "*?");

    *low = NULL;
    *high = NULL;
    if (length == 0)
        return CAIRN_OK;

    *low = strndup(value, length);
    *high = strndup(value, length);
    if (*low == NULL || *high == NULL) {
        free(*low);
        free(*high);
        *low = *high = NULL;
        return CAIRN_ERR_NO_MEMORY;
    }

    /*
     * The minimum text above every text with the prefix: drop trailing 0xFF
     * bytes, then add one to the last byte. SQLite compares TEXT of the
     * BINARY collation as bytes, so this holds for any UTF-8 and for the
     * invalid bytes that folding copies unchanged.
     */
    while (length > 0 && (unsigned char)(*high)[length - 1] == 0xFF)
        length--;
    if (length == 0) {
        free(*high);
        *high = NULL;
        return CAIRN_OK;
    }
    (*high)[length - 1] = (char)((unsigned char)(*high)[length - 1] + 1);
    (*high)[length] = '\0';
    return CAIRN_OK;
}

/* The number written by count decimal digits at text. */
static long digits_value(const char *text, size_t count)
{
    long value = 0;

    for (size_t i = 0; i < count; i++)
        value = value * 10 + (text[i] - '0');
    return value;
}

/* Days since 1970-01-01 of a YYYYMMDD key, in the proleptic Gregorian calendar. */
static long days_from_key(const char key[IDXTEXT_DATE_KEY_SIZE])
{
    long year = digits_value(key, 4);
    long month = digits_value(key + 4, 2);
    long day = digits_value(key + 6, 2);
    long era;
    long year_of_era;
    long day_of_year;

    /* Count years from March, so the leap day is the last day of a year. */
    year -= month <= 2;
    era = year / 400;
    year_of_era = year - era * 400;
    day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    return era * 146097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
           day_of_year - 719468;
}

/* True when value is a date range with an open bound or more than NARROW_DAYS days. */
static bool wide_date_range(const char *value)
{
    const char *dash = strchr(value, '-');
    char low_text[16];
    char high_text[16];
    char low[IDXTEXT_DATE_KEY_SIZE];
    char high[IDXTEXT_DATE_KEY_SIZE];
    size_t low_length;

    if (dash == NULL)
        return false;
    low_length = (size_t)(dash - value);
    if (low_length >= sizeof(low_text) || strlen(dash + 1) >= sizeof(high_text))
        return false;
    memcpy(low_text, value, low_length);
    low_text[low_length] = '\0';
    strcpy(high_text, dash + 1);

    /* The key was trimmed as a whole, so spaces may remain around the dash. */
    for (char *c = low_text + strlen(low_text); c > low_text && c[-1] == ' ';)
        *--c = '\0';
    memmove(high_text, high_text + strspn(high_text, " "), strlen(high_text) + 1);

    if (low_text[0] == '\0' || high_text[0] == '\0')
        return true;
    if (!idxtext_date_key(low_text, low) || !idxtext_date_key(high_text, high))
        return false;
    return days_from_key(high) - days_from_key(low) > NARROW_DAYS;
}

bool query_plan_name_first(const char *patient_name, const char *study_date)
{
    if (patient_name == NULL || study_date == NULL || strcmp(patient_name, "\"\"") == 0)
        return false;

    /* A name without a literal first character cannot seek a name index. */
    if (patient_name[0] == '*' || patient_name[0] == '?')
        return false;
    return wide_date_range(study_date);
}
