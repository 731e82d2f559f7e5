/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive index interface. An index back end (SQLite, PostgreSQL) is a
 * plugin that registers one cairn_index_ops table with the host's
 * register_index; the core's archive and the cairn tool then talk to it only
 * through this table, so a new back end needs no change to the core or to
 * the service plugins.
 *
 * The index holds four levels (patient, study, series, instance). A patient
 * is identified by Patient ID plus Issuer of Patient ID. Text values are
 * kept normalised to UTF-8 for matching.
 *
 * Threading: every function of an opened index may be called from several
 * threads at once. store_instance returns only once its row is durable.
 */
#ifndef CAIRN_INDEX_H
#define CAIRN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/dataset.h"
#include "cairn/service.h"
#include "cairn/status.h"
#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* Levels of the information model. Since SDK 1.0. */
typedef enum cairn_index_level {
    CAIRN_LEVEL_PATIENT = 1,
    CAIRN_LEVEL_STUDY = 2,
    CAIRN_LEVEL_SERIES = 3,
    CAIRN_LEVEL_INSTANCE = 4,
    CAIRN_LEVEL_SENTINEL_ = 0x7fffffff
} cairn_index_level;

/*
 * Where and how one instance is kept. Strings are borrowed for the call
 * that passes the struct. Since SDK 1.0.
 */
typedef struct cairn_instance_file {
    uint32_t struct_size;            /* sizeof(cairn_instance_file) */
    uint32_t reserved;               /* zero */
    const char *path;                /* relative to storage.path */
    uint64_t size;                   /* bytes of the PS3.10 file */
    const char *transfer_syntax_uid; /* as received and stored */
    int64_t received_at_us;          /* microseconds since the Unix epoch, UTC */
    const char *calling_ae;          /* calling AE title of the C-STORE */
} cairn_instance_file;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_instance_file) == 48, "cairn_instance_file layout is ABI");
#endif

/*
 * One row of a listing. attributes holds the level's attributes as data
 * elements with UTF-8 text (as if Specific Character Set were ISO_IR 192),
 * including the unique keys of every level above and, where they apply, the
 * related counts (0020,1200) to (0020,1209), Modalities in Study and SOP
 * Classes in Study. file is set at instance level only. Both are borrowed
 * for the callback. Since SDK 1.0.
 */
typedef struct cairn_index_row {
    uint32_t struct_size;
    cairn_index_level level;
    const cairn_dataset *attributes;
    const cairn_instance_file *file;
} cairn_index_row;

/* Called once per row; returning non-zero stops the listing early. */
typedef int (*cairn_index_row_fn)(void *arg, const cairn_index_row *row);

/*
 * An index back end. The host copies the table. Set struct_size to
 * sizeof(cairn_index_ops). Entries are only ever appended. Since SDK 1.0.
 */
typedef struct cairn_index_ops {
    uint32_t struct_size;
    uint32_t reserved; /* zero */

    /* Back end name for logs, e.g. "sqlite". */
    const char *name;

    /*
     * Opens the index, creating or migrating its schema. backend_state is
     * the pointer given to register_index. storage_path is the archive's
     * storage folder (absolute), where a file-based back end may keep its
     * database. On success *db is the index handle for every other call.
     */
    cairn_status (*open)(void *backend_state, const char *storage_path, void **db);

    /* Closes an index opened by open. NULL does nothing. */
    void (*close)(void *db);

    /*
     * Records one instance. attributes are the leading attributes of the
     * data set (everything before Pixel Data) in their received character
     * set; file says where it is kept. With a SOP Instance UID already in
     * the index, policy decides, and *outcome says what was done. When the
     * outcome is CAIRN_STORE_REPLACED and replaced_path is not NULL,
     * *replaced_path receives the relative path of the file that is no
     * longer referenced, allocated with the host's alloc (the caller frees
     * it with the host's free). Returns only when the change is durable.
     */
    cairn_status (*store_instance)(void *db, const cairn_dataset *attributes,
                                   const cairn_instance_file *file,
                                   cairn_duplicate_policy policy,
                                   cairn_store_outcome *outcome, char **replaced_path);

    /*
     * Removes one instance and updates the counts of its series, study and
     * patient, dropping levels left empty. CAIRN_ERR_NOT_FOUND if absent.
     */
    cairn_status (*remove_instance)(void *db, const char *sop_instance_uid);

    /*
     * Lists the rows of one level that match filter. filter may be NULL
     * (every row) or a data set of keys: each non-empty value must equal
     * the row's value exactly. Rows come in a stable order (patient ID,
     * study date, series number, instance number, then UID).
     */
    cairn_status (*list)(void *db, cairn_index_level level, const cairn_dataset *filter,
                         cairn_index_row_fn fn, void *arg);

    /* Counts the rows of one level. */
    cairn_status (*count)(void *db, cairn_index_level level, uint64_t *count);
} cairn_index_ops;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_index_ops) == 64, "cairn_index_ops layout is ABI");
#endif

CAIRN_EXTERN_C_END

#endif
