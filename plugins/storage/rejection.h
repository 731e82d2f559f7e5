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

/* The codes of the notes received by one AE: an entry of the plugin's `aes` list. */
typedef struct rejection_ae_codes {
    char title[17];
    rejection_codes codes;
} rejection_ae_codes;

/* The codes in force: the plugin-wide lists and the AEs that set their own. */
typedef struct rejection_settings {
    rejection_codes defaults;
    rejection_ae_codes *aes;
    size_t ae_count;
} rejection_settings;

/*
 * Reads rejection_delete_codes and rejection_hide_codes, with the defaults
 * ["113039"] and ["113001", "113037", "113038"], then the `aes` list of
 * groups { title = "AE"; rejection_delete_codes = [...];
 * rejection_hide_codes = [...]; }, whose lists replace the plugin-wide
 * ones for associations called with that AE title. A list an entry leaves
 * out is the plugin-wide one.
 */
cairn_status rejection_read_settings(const cairn_host_api *api, cairn_plugin *self,
                                     const cairn_config *config, rejection_settings *settings);

/* Frees what rejection_read_settings allocated. */
void rejection_free_settings(rejection_settings *settings);

/* Returns the codes for associations whose called AE title is called_ae. */
const rejection_codes *rejection_codes_for(const rejection_settings *settings,
                                           const char *called_ae);

/*
 * Applies ds when it is a rejection note. *store_note is set to false when
 * the note itself must not be archived (a deletion note), true otherwise,
 * including for every data set that is no rejection note.
 */
cairn_status rejection_apply(const cairn_host_api *api, cairn_plugin *self, cairn_assoc *assoc,
                             const cairn_dataset *ds, const rejection_codes *codes,
                             bool *store_note);

#endif
