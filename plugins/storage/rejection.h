/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IOCM rejection notes: a Key Object Selection document whose Document
 * Title is a rejection code deletes or hides the instances it references.
 */
#ifndef STORAGE_REJECTION_H
#define STORAGE_REJECTION_H

#include <stdbool.h>
#include <stddef.h>

#include <cairn/cairn.h>

/* The codes (Code Values of scheme DCM) of the two kinds of note, from the settings. */
typedef struct rejection_codes {
    const char *const *delete_codes; /* referenced instances are deleted, the note dropped */
    size_t delete_count;
    const char *const *hide_codes; /* referenced instances are hidden, the note stored */
    size_t hide_count;
} rejection_codes;

/*
 * Reads rejection_delete_codes and rejection_hide_codes, with the
 * defaults ["113039"] and ["113001", "113037", "113038"].
 */
cairn_status rejection_read_settings(const cairn_host_api *api, cairn_plugin *self,
                                     const cairn_config *config, rejection_codes *codes);

/*
 * Applies ds when it is a rejection note. *store_note is set to false when
 * the note itself must not be archived (a deletion note), true otherwise,
 * including for every data set that is no rejection note.
 */
cairn_status rejection_apply(const cairn_host_api *api, cairn_plugin *self, cairn_assoc *assoc,
                             const cairn_dataset *ds, const rejection_codes *codes,
                             bool *store_note);

#endif
