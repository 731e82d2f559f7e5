/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalised forms of DA and TM values, so that the index compares dates
 * and times by meaning with plain string comparisons (PS3.4 C.2.2.2.1.3
 * lets the implementation choose how). A date key is YYYYMMDD, accepting
 * the ACR-NEMA form YYYY.MM.DD too. A time key is HHMMSS.FFFFFF, accepting
 * HH, HHMM, HHMMSS with 1 to 6 fraction digits, and the ACR-NEMA form
 * HH:MM:SS. Missing parts of a lower bound or a stored value become zeros,
 * and missing parts of an upper bound become their largest value. Thus
 * the range "-1030" includes 10:30:59 and a stored "10" is 10:00:00.
 */
#include <string.h>

#include "sqlidx.h"

static bool all_digits(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

/* Stores the YYYYMMDD key of a DA value; false when value is not a date. */
bool sqlidx_date_key(const char *value, char key[SQLIDX_DATE_KEY_SIZE])
{
    size_t length = strlen(value);

    if (length == 8 && all_digits(value, 8)) {
        memcpy(key, value, 8);
    } else if (length == 10 && value[4] == '.' && value[7] == '.' && all_digits(value, 4) &&
               all_digits(value + 5, 2) && all_digits(value + 8, 2)) {
        memcpy(key, value, 4);
        memcpy(key + 4, value + 5, 2);
        memcpy(key + 6, value + 8, 2);
    } else {
        return false;
    }
    key[8] = '\0';
    return true;
}

/*
 * Stores the HHMMSS.FFFFFF key of a TM value, filling missing parts with
 * zeros, or with their largest value when upper is set. Returns false
 * when value is not a time.
 */
bool sqlidx_time_key(const char *value, bool upper, char key[SQLIDX_TIME_KEY_SIZE])
{
    static const char lowest[] = "000000.000000";
    static const char highest[] = "235959.999999";
    char digits[16];
    size_t length = 0;
    const char *dot = strchr(value, '.');
    size_t whole = dot != NULL ? (size_t)(dot - value) : strlen(value);
    size_t fraction = dot != NULL ? strlen(dot + 1) : 0;

    /* The whole seconds part, with the ACR-NEMA colons removed. */
    if (whole > 8)
        return false;
    for (size_t i = 0; i < whole; i++) {
        if (value[i] == ':' && (i == 2 || i == 5))
            continue;
        digits[length++] = value[i];
    }
    if ((length != 2 && length != 4 && length != 6) || !all_digits(digits, length))
        return false;
    if (dot != NULL && (length != 6 || fraction < 1 || fraction > 6 ||
                        !all_digits(dot + 1, fraction)))
        return false;

    memcpy(key, upper ? highest : lowest, sizeof(lowest));
    memcpy(key, digits, length);
    if (fraction > 0)
        memcpy(key + 7, dot + 1, fraction);

    /* Hours 00-23, minutes 00-59, seconds 00-60 (leap second). */
    if (memcmp(key, "24", 2) >= 0 || key[2] > '5' || memcmp(key + 4, "60", 2) > 0)
        return false;
    return true;
}
