/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Case folding of UTF-8 text and the component groups of a person name,
 * for case-insensitive PN matching. The index stores folded copies of
 * Patient's Name next to the value as received, and folds a query value
 * the same way, so a GLOB on the folded columns ignores case and can use
 * their indexes.
 *
 * Folding maps one code point to one code point: A-Z, the Latin-1 and
 * Latin Extended-A capitals, Greek, Cyrillic and full-width Latin capitals
 * become their small letters. Other scripts (kanji, kana, hangul) have no
 * case and are kept as they are. Accents are kept. Bytes that are not
 * valid UTF-8 are copied unchanged.
 *
 * This file also defines the SQL functions of every connection. The
 * function cairn_pn_match(pattern, name, flags) matches a GLOB pattern
 * against a person name and each of its component groups, for the
 * case-sensitive and the unindexed cases. The functions cairn_fold,
 * cairn_pn_group and cairn_time_key fill the new columns of existing rows
 * in a migration.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlidx.h"

/* Flags of cairn_pn_match. */
#define PN_MATCH_CASE_SENSITIVE 0x1
#define PN_MATCH_WHOLE_ONLY 0x2

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
char *sqlidx_fold(const char *text)
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
cairn_status sqlidx_pn_groups(const char *name, char *groups[3])
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

/* True when pattern matches name, or one of its groups unless whole_only. */
static bool pn_matches(const char *pattern, const char *name, bool whole_only)
{
    char *groups[3];
    bool matched = sqlite3_strglob(pattern, name) == 0;

    if (matched || whole_only || strchr(name, '=') == NULL)
        return matched;
    if (sqlidx_pn_groups(name, groups) != CAIRN_OK)
        return false;
    for (int g = 0; g < 3; g++) {
        if (!matched && groups[g][0] != '\0')
            matched = sqlite3_strglob(pattern, groups[g]) == 0;
        free(groups[g]);
    }
    return matched;
}

/* cairn_pn_match(pattern, name, flags): 1 when the GLOB pattern matches the name. */
static void pn_match_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const char *pattern = (const char *)sqlite3_value_text(argv[0]);
    const char *name = (const char *)sqlite3_value_text(argv[1]);
    int flags = sqlite3_value_int(argv[2]);
    char *folded_pattern = NULL;
    char *folded_name = NULL;

    (void)argc;
    if (pattern == NULL || name == NULL) {
        sqlite3_result_int(context, 0);
        return;
    }
    if (flags & PN_MATCH_CASE_SENSITIVE) {
        sqlite3_result_int(context, pn_matches(pattern, name, flags & PN_MATCH_WHOLE_ONLY));
        return;
    }

    folded_pattern = sqlidx_fold(pattern);
    folded_name = sqlidx_fold(name);
    if (folded_pattern == NULL || folded_name == NULL)
        sqlite3_result_error_nomem(context);
    else
        sqlite3_result_int(context,
                           pn_matches(folded_pattern, folded_name, flags & PN_MATCH_WHOLE_ONLY));
    free(folded_pattern);
    free(folded_name);
}

/* cairn_fold(text): the case-folded text, used by the schema migration. */
static void fold_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    char *folded;

    (void)argc;
    if (text == NULL) {
        sqlite3_result_null(context);
        return;
    }
    folded = sqlidx_fold(text);
    if (folded == NULL) {
        sqlite3_result_error_nomem(context);
        return;
    }
    sqlite3_result_text(context, folded, -1, free);
}

/* cairn_pn_group(name, n): component group n (0 to 2) of name, "" without '='. */
static void pn_group_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_int(argv[1]);
    char *groups[3];

    (void)argc;
    if (name == NULL || n < 0 || n > 2) {
        sqlite3_result_text(context, "", 0, SQLITE_STATIC);
        return;
    }
    if (sqlidx_pn_groups(name, groups) != CAIRN_OK) {
        sqlite3_result_error_nomem(context);
        return;
    }
    sqlite3_result_text(context, groups[n], -1, free);
    for (int g = 0; g < 3; g++) {
        if (g != n)
            free(groups[g]);
    }
}

/* cairn_time_key(value): the normalised TM value (see datetime.c), "" when invalid. */
static void time_key_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const char *value = (const char *)sqlite3_value_text(argv[0]);
    char key[SQLIDX_TIME_KEY_SIZE];

    (void)argc;
    if (value == NULL || !sqlidx_time_key(value, false, key))
        key[0] = '\0';
    sqlite3_result_text(context, key, -1, SQLITE_TRANSIENT);
}

/* Registers the functions above on db. */
cairn_status sqlidx_register_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    int rc = sqlite3_create_function(db, "cairn_pn_match", 3, flags, NULL, pn_match_function,
                                     NULL, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "cairn_fold", 1, flags, NULL, fold_function, NULL,
                                     NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "cairn_pn_group", 2, flags, NULL, pn_group_function,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "cairn_time_key", 1, flags, NULL, time_key_function,
                                     NULL, NULL);
    return sqlidx_status_from_sqlite(rc);
}
