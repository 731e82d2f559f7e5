/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IOCM rejection notes. The Concept Name Code Sequence (0040,A043) of a
 * Key Object Selection document gives the code, and the Current Requested
 * Procedure Evidence Sequence (0040,A375) lists the referenced instances
 * by series (0008,1115) and SOP instance (0008,1199, 0008,1155).
 *
 * A deletion code removes the referenced instances the archive holds and
 * drops the note. A hiding code marks them rejected and keeps the note.
 * Either way the index records every referenced UID, so that an instance
 * arriving after its note is hidden as it arrives.
 */
#include "rejection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_OBJECT_SELECTION "1.2.840.10008.5.1.4.1.1.88.59"

#define TAG_CODE_VALUE CAIRN_TAG(0x0008, 0x0100)
#define TAG_CODING_SCHEME CAIRN_TAG(0x0008, 0x0102)
#define TAG_REFERENCED_SERIES CAIRN_TAG(0x0008, 0x1115)
#define TAG_REFERENCED_SOP CAIRN_TAG(0x0008, 0x1199)
#define TAG_REFERENCED_SOP_INSTANCE CAIRN_TAG(0x0008, 0x1155)
#define TAG_CONCEPT_NAME_CODE CAIRN_TAG(0x0040, 0xA043)
#define TAG_EVIDENCE CAIRN_TAG(0x0040, 0xA375)

/* Maximum number of referenced instances read from one note. */
#define MAX_REFERENCES 100000

/* Buffer size of one UID (64 characters and the terminator). */
#define UID_SIZE 65

/* The referenced SOP Instance UIDs of one note. */
typedef struct reference_list {
    char (*uids)[UID_SIZE];
    const char **pointers;
    size_t count, capacity;
} reference_list;

typedef enum rejection_action {
    REJECTION_NONE,
    REJECTION_DELETE,
    REJECTION_HIDE,
} rejection_action;

static bool code_listed(const char *code, const char *const *codes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(code, codes[i]) == 0)
            return true;
    }
    return false;
}

/* Returns item index of sequence tag in ds, or NULL. */
static const cairn_dataset *item_of(const cairn_host_api *api, const cairn_dataset *ds,
                                    cairn_tag tag, size_t index)
{
    const cairn_element *element = api->dataset_find(ds, tag);

    if (element == NULL || index >= api->element_item_count(element))
        return NULL;
    return api->element_item(element, index);
}

static size_t item_count(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag)
{
    const cairn_element *element = api->dataset_find(ds, tag);

    return element != NULL ? api->element_item_count(element) : 0;
}

/* Reads the note's code into code; REJECTION_NONE when ds is no rejection note. */
static rejection_action note_action(const cairn_host_api *api, const cairn_dataset *ds,
                                    const rejection_codes *codes, char *code, size_t size)
{
    const cairn_dataset *concept;
    char sop_class[UID_SIZE];
    char scheme[17];

    if (api->dataset_get_string(ds, CAIRN_TAG_SOP_CLASS_UID, 0, sop_class, sizeof sop_class) !=
            CAIRN_OK ||
        strcmp(sop_class, KEY_OBJECT_SELECTION) != 0)
        return REJECTION_NONE;

    concept = item_of(api, ds, TAG_CONCEPT_NAME_CODE, 0);
    if (concept == NULL ||
        api->dataset_get_string(concept, TAG_CODE_VALUE, 0, code, size) != CAIRN_OK ||
        api->dataset_get_string(concept, TAG_CODING_SCHEME, 0, scheme, sizeof scheme) !=
            CAIRN_OK ||
        strcmp(scheme, "DCM") != 0)
        return REJECTION_NONE;

    if (code_listed(code, codes->delete_codes, codes->delete_count))
        return REJECTION_DELETE;
    if (code_listed(code, codes->hide_codes, codes->hide_count))
        return REJECTION_HIDE;
    return REJECTION_NONE;
}

static cairn_status add_reference(reference_list *list, const char *uid)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 64 : list->capacity * 2;
        char(*uids)[UID_SIZE] = realloc(list->uids, capacity * sizeof *uids);

        if (uids == NULL)
            return CAIRN_ERR_NO_MEMORY;
        list->uids = uids;
        list->capacity = capacity;
    }
    snprintf(list->uids[list->count++], UID_SIZE, "%s", uid);
    return CAIRN_OK;
}

/* Collects the Referenced SOP Instance UIDs of the evidence sequence. */
static cairn_status collect_references(const cairn_host_api *api, const cairn_dataset *ds,
                                       reference_list *list)
{
    size_t studies = item_count(api, ds, TAG_EVIDENCE);
    char uid[UID_SIZE];

    for (size_t s = 0; s < studies; s++) {
        const cairn_dataset *study = item_of(api, ds, TAG_EVIDENCE, s);
        size_t series_count = item_count(api, study, TAG_REFERENCED_SERIES);

        for (size_t r = 0; r < series_count; r++) {
            const cairn_dataset *series = item_of(api, study, TAG_REFERENCED_SERIES, r);
            size_t sop_count = item_count(api, series, TAG_REFERENCED_SOP);

            for (size_t i = 0; i < sop_count; i++) {
                const cairn_dataset *sop = item_of(api, series, TAG_REFERENCED_SOP, i);

                /* A value longer than a UID cannot name an archived instance. */
                if (api->dataset_get_string(sop, TAG_REFERENCED_SOP_INSTANCE, 0, uid,
                                            sizeof uid) != CAIRN_OK ||
                    uid[0] == '\0')
                    continue;
                if (list->count >= MAX_REFERENCES)
                    return CAIRN_ERR_LIMIT;
                if (add_reference(list, uid) != CAIRN_OK)
                    return CAIRN_ERR_NO_MEMORY;
            }
        }
    }

    list->pointers = malloc((list->count + 1) * sizeof *list->pointers);
    if (list->pointers == NULL)
        return CAIRN_ERR_NO_MEMORY;
    for (size_t i = 0; i < list->count; i++)
        list->pointers[i] = list->uids[i];
    return CAIRN_OK;
}

/* Deletes the referenced instances the archive holds; *deleted counts them. */
static cairn_status delete_references(const cairn_host_api *api, cairn_plugin *self,
                                      cairn_assoc *assoc, const reference_list *list,
                                      size_t *deleted)
{
    *deleted = 0;
    for (size_t i = 0; i < list->count; i++) {
        cairn_status status = api->archive_delete_instance(assoc, list->pointers[i]);

        if (status == CAIRN_OK) {
            (*deleted)++;
        } else if (status != CAIRN_ERR_NOT_FOUND) {
            api->log_assoc(self, assoc, CAIRN_LOG_ERROR, "rejection note: deleting %s failed: %s",
                           list->pointers[i], cairn_strerror(status));
            return status;
        }
    }
    return CAIRN_OK;
}

cairn_status rejection_apply(const cairn_host_api *api, cairn_plugin *self, cairn_assoc *assoc,
                             const cairn_dataset *ds, const rejection_codes *codes,
                             bool *store_note)
{
    reference_list list = {0};
    char code[17];
    size_t deleted = 0, hidden = 0;
    rejection_action action = note_action(api, ds, codes, code, sizeof code);
    cairn_status status;

    *store_note = true;
    if (action == REJECTION_NONE)
        return CAIRN_OK;

    status = collect_references(api, ds, &list);
    if (status != CAIRN_OK) {
        api->log_assoc(self, assoc, CAIRN_LOG_ERROR,
                       "rejection note with code %s: reading its references failed: %s", code,
                       cairn_strerror(status));
        goto out;
    }

    if (action == REJECTION_DELETE) {
        status = delete_references(api, self, assoc, &list, &deleted);
        if (status != CAIRN_OK)
            goto out;
        *store_note = false;
    }

    /* Recorded for a deletion too, so that a late arrival is hidden instead of kept. */
    status = api->archive_reject_instances(assoc, list.pointers, list.count, code, &hidden);
    if (status != CAIRN_OK)
        goto out;

    api->log_assoc(self, assoc, CAIRN_LOG_INFO,
                   "rejection note with code %s: %zu reference(s), %zu deleted, %zu hidden%s",
                   code, list.count, deleted, hidden,
                   *store_note ? "" : "; the note itself is not archived");

out:
    free(list.uids);
    free(list.pointers);
    return status;
}
