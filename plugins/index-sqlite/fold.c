/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQL functions of every connection, for case-insensitive PN matching.
 * The index stores folded copies of Patient's Name next to the value as
 * received (idxtext.c), and folds a query value the same way, so a GLOB
 * on the folded columns ignores case and can use their indexes.
 *
 * The function cairn_pn_match(pattern, name, flags) matches a GLOB
 * pattern against a person name and each of its component groups, for the
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

/* True when pattern matches name, or one of its groups unless whole_only. */
static bool pn_matches(const char *pattern, const char *name, bool whole_only)
{
    char *groups[3];
    bool matched = sqlite3_strglob(pattern, name) == 0;

    if (matched || whole_only || strchr(name, '=') == NULL)
        return matched;
    if (idxtext_pn_groups(name, groups) != CAIRN_OK)
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

    folded_pattern = idxtext_fold(pattern);
    folded_name = idxtext_fold(name);
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
    folded = idxtext_fold(text);
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
    if (idxtext_pn_groups(name, groups) != CAIRN_OK) {
        sqlite3_result_error_nomem(context);
        return;
    }
    sqlite3_result_text(context, groups[n], -1, free);
    for (int g = 0; g < 3; g++) {
        if (g != n)
            free(groups[g]);
    }
}

/* cairn_time_key(value): the normalised TM value (see idxtext.c), "" when invalid. */
static void time_key_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const char *value = (const char *)sqlite3_value_text(argv[0]);
    char key[IDXTEXT_TIME_KEY_SIZE];

    (void)argc;
    if (value == NULL || !idxtext_time_key(value, false, key))
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
