/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text the index back ends derive for matching, shared by the SQLite and
 * the PostgreSQL plugins so that every back end folds and splits the same
 * way and computes the same keys.
 *
 * Case folding maps one code point to one code point: A-Z, the Latin-1
 * and Latin Extended-A capitals, Greek, Cyrillic and full-width Latin
 * capitals become their small letters. Other scripts (kanji, kana,
 * hangul) have no case and are kept, and so are accents. Bytes that are
 * not valid UTF-8 are copied unchanged.
 *
 * Date keys are YYYYMMDD (the ACR-NEMA form YYYY.MM.DD too). Time keys
 * are HHMMSS.FFFFFF from HH, HHMM, HHMMSS with 1 to 6 fraction digits, or
 * HH:MM:SS. Missing parts of a lower bound or a stored value become
 * zeros, and those of an upper bound their largest value, so the index
 * compares dates and times by meaning with string comparisons (PS3.4
 * C.2.2.2.1.3 lets the implementation choose how). Thus the range "-1030"
 * includes 10:30:59 and a stored "10" is 10:00:00.
 */
#include "idxtext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Returns the small letter of code point c, or c when it has none here. */
static uint32_t fold_code_point(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return (c & 1) == 0 ? c + 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) == 1 ? c + 1 : c;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32;
    if (c == 0x386)
        return 0x3AC;
    if (c >= 0x388 && c <= 0x38A)
        return c + 37;
    if (c == 0x38C)
        return 0x3CC;
    if (c == 0x38E || c == 0x38F)
        return c + 63;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    if (c >= 0xFF21 && c <= 0xFF3A)
        return c + 32;
    return c;
}

/*
 * Decodes the UTF-8 sequence at text into *c and returns its length, or 0
 * when the bytes are not a valid sequence.
 */
static size_t decode(const unsigned char *text, uint32_t *c)
{
    size_t length;
    uint32_t value;

    if (text[0] < 0x80) {
        *c = text[0];
        return 1;
    }
    if ((text[0] & 0xE0) == 0xC0) {
        length = 2;
        value = text[0] & 0x1F;
    } else if ((text[0] & 0xF0) == 0xE0) {
        length = 3;
        value = text[0] & 0x0F;
    } else if ((text[0] & 0xF8) == 0xF0) {
        length = 4;
        value = text[0] & 0x07;
    } else {
        return 0;
    }

    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (text[i] & 0x3F);
    }
    *c = value;
    return length;
}

/* Writes code point c (below 0x10000, as every folded letter is) and returns its length. */
static size_t encode(uint32_t c, unsigned char *out)
{
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (unsigned char)(0xC0 | (c >> 6));
        out[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    out[0] = (unsigned char)(0xE0 | (c >> 12));
    out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (c & 0x3F));
    return 3;
}

/*
 * Returns a malloc'd case-folded copy of text, or NULL when out of memory.
 * Folding never makes a sequence longer, so the copy has text's length.
 */
char *idxtext_fold(const char *text)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t length = strlen(text);
    unsigned char *out = malloc(length + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;

    for (size_t i = 0; i < length;) {
        uint32_t c = 0;
        size_t n = decode(in + i, &c);
        uint32_t folded;

        if (n == 0 || i + n > length) {
            out[o++] = in[i++];
            continue;
        }
        folded = fold_code_point(c);
        if (folded == c) {
            memcpy(out + o, in + i, n);
            o += n;
        } else {
            o += encode(folded, out + o);
        }
        i += n;
    }
    out[o] = '\0';
    return (char *)out;
}

/*
 * Splits a person name at '=' into its alphabetic, ideographic and
 * phonetic groups, each malloc'd. A name without '=' gives three empty
 * groups, because the whole value already is its only group.
 */
cairn_status idxtext_pn_groups(const char *name, char *groups[3])
{
    bool has_groups = strchr(name, '=') != NULL;
    const char *start = name;

    for (int g = 0; g < 3; g++)
        groups[g] = NULL;

    for (int g = 0; g < 3; g++) {
        const char *end = has_groups ? strchr(start, '=') : NULL;
        size_t length = 0;

        if (has_groups)
            length = end != NULL ? (size_t)(end - start) : strlen(start);
        groups[g] = strndup(start, length);
        if (groups[g] == NULL)
            goto fail;
        start = end != NULL ? end + 1 : start + length;
    }
    return CAIRN_OK;

fail:
    for (int g = 0; g < 3; g++) {
        free(groups[g]);
        groups[g] = NULL;
    }
    return CAIRN_ERR_NO_MEMORY;
}

static bool all_digits(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

/* Stores the YYYYMMDD key of a DA value; false when value is not a date. */
bool idxtext_date_key(const char *value, char key[IDXTEXT_DATE_KEY_SIZE])
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
bool idxtext_time_key(const char *value, bool upper, char key[IDXTEXT_TIME_KEY_SIZE])
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
