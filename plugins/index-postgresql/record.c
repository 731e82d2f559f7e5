/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads the values the index keeps from an instance's leading attributes:
 * text through the host's dataset_get_utf8, so it is UTF-8 whatever the
 * Specific Character Set, with the padding spaces removed. The server
 * refuses text that is not valid UTF-8, so any invalid byte left by a
 * broken value becomes U+001A (SUB). The UIDs are checked here even though
 * the storage plugin checks them first.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pgidx.h"

/* Longest UID the standard allows (PS3.5 9.1). */
#define UID_MAX_LENGTH 64

char *pgidx_strdup(const char *text)
{
    return strdup(text != NULL ? text : "");
}

/* True for a UID of 1 to 64 characters made of digits and dots. */
bool pgidx_uid_is_valid(const char *uid)
{
    size_t length = strlen(uid);

    if (length == 0 || length > UID_MAX_LENGTH)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (!(uid[i] == '.' || (uid[i] >= '0' && uid[i] <= '9')))
            return false;
    }
    return true;
}

/* Replaces in place each byte that does not start a valid UTF-8 sequence by 0x1A. */
void pgidx_utf8_clean(char *text)
{
    unsigned char *c = (unsigned char *)text;

    while (*c != '\0') {
        size_t length = 0;
        uint32_t value = 0;
        size_t i = 1;

        /* The lead byte gives the sequence length and the first bits of the value. */
        if (*c < 0x80) {
            length = 1;
        } else if ((*c & 0xE0) == 0xC0) {
            length = 2;
            value = *c & 0x1Fu;
        } else if ((*c & 0xF0) == 0xE0) {
            length = 3;
            value = *c & 0x0Fu;
        } else if ((*c & 0xF8) == 0xF0) {
            length = 4;
            value = *c & 0x07u;
        }

        for (; i < length && (c[i] & 0xC0) == 0x80; i++)
            value = (value << 6) | (c[i] & 0x3Fu);
        /* Overlong forms, surrogates and values above U+10FFFF are invalid too. */
        if (length == 0 || i < length || (length == 2 && value < 0x80) ||
            (length == 3 && (value < 0x800 || (value >= 0xD800 && value <= 0xDFFF))) ||
            (length == 4 && (value < 0x10000 || value > 0x10FFFF))) {
            *c++ = 0x1A;
            continue;
        }
        c += length;
    }
}

/* Removes leading and trailing spaces and trailing NULs in place. */
static void trim(char *text)
{
    size_t length = strlen(text);
    size_t start = 0;

    while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\0'))
        length--;
    while (start < length && text[start] == ' ')
        start++;
    memmove(text, text + start, length - start);
    text[length - start] = '\0';
}

/*
 * Stores the UTF-8 value of tag in *out (malloc'd, "" when absent). The
 * host's copy is freed with the host's free.
 */
static cairn_status read_text(const pgidx_backend *backend, const cairn_dataset *attributes,
                              cairn_tag tag, char **out)
{
    char *value = NULL;
    cairn_status status = backend->api->dataset_get_utf8(attributes, tag, &value);

    if (status == CAIRN_ERR_NOT_FOUND || (status == CAIRN_OK && value == NULL)) {
        *out = pgidx_strdup("");
        return *out != NULL ? CAIRN_OK : CAIRN_ERR_NO_MEMORY;
    }
    if (status != CAIRN_OK) {
        pgidx_log(backend, CAIRN_LOG_WARN, "cannot read (%04X,%04X) for the index: %s",
                   CAIRN_TAG_GROUP(tag), CAIRN_TAG_ELEMENT(tag), cairn_strerror(status));
        return status;
    }

    *out = pgidx_strdup(value);
    backend->api->free(value);
    if (*out == NULL)
        return CAIRN_ERR_NO_MEMORY;
    trim(*out);
    pgidx_utf8_clean(*out);
    return CAIRN_OK;
}

/* Stores an IS value as a number, or -1 when absent, empty or not a number. */
static cairn_status read_number(const pgidx_backend *backend, const cairn_dataset *attributes,
                                cairn_tag tag, int64_t *out)
{
    char *text = NULL;
    char *end = NULL;
    long long number;
    cairn_status status = read_text(backend, attributes, tag, &text);

    *out = -1;
    if (status != CAIRN_OK)
        return status;

    errno = 0;
    number = strtoll(text, &end, 10);
    if (text[0] != '\0' && *end == '\0' && errno == 0 && number >= 0)
        *out = number;
    free(text);
    return CAIRN_OK;
}

void pgidx_record_free(pgidx_record *record)
{
    char **texts[] = {
        &record->charset, &record->patient_name, &record->patient_id, &record->issuer,
        &record->birth_date, &record->sex, &record->study_uid, &record->study_date,
        &record->study_time, &record->accession_number, &record->study_id,
        &record->referring_physician, &record->study_description, &record->series_uid,
        &record->modality, &record->series_description, &record->sop_uid,
        &record->sop_class_uid, &record->path, &record->transfer_syntax, &record->calling_ae,
        &record->patient_name_folded, &record->patient_name_groups[0],
        &record->patient_name_groups[1], &record->patient_name_groups[2],
        &record->study_time_key, &record->referring_physician_folded,
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        free(*texts[i]);
        *texts[i] = NULL;
    }
    seqidx_set_free(&record->sequences);
}

/* Checks that the UID read for tag is present and valid. */
static cairn_status check_uid(const pgidx_backend *backend, const char *uid, const char *name)
{
    if (uid[0] == '\0') {
        pgidx_log(backend, CAIRN_LOG_ERROR, "cannot index an instance without %s", name);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    if (!pgidx_uid_is_valid(uid)) {
        pgidx_log(backend, CAIRN_LOG_ERROR,
                   "cannot index an instance: %s is not a valid UID (digits and dots,"
                   " at most 64 characters)",
                   name);
        return CAIRN_ERR_INVALID_ARGUMENT;
    }
    return CAIRN_OK;
}

/* Rewrites an ACR-NEMA date YYYY.MM.DD in place as YYYYMMDD; other values are kept. */
static void normalise_date(char *date)
{
    char key[IDXTEXT_DATE_KEY_SIZE];

    if (idxtext_date_key(date, key))
        memcpy(date, key, sizeof(key));
}

/* Fills the values the index derives for matching: folded names, keys of dates and times. */
static cairn_status derive_match_values(pgidx_record *record)
{
    char key[IDXTEXT_TIME_KEY_SIZE];
    cairn_status status;
    char *groups[3];

    normalise_date(record->study_date);
    normalise_date(record->birth_date);

    if (!idxtext_time_key(record->study_time, false, key))
        key[0] = '\0';
    record->study_time_key = pgidx_strdup(key);
    record->patient_name_folded = idxtext_fold(record->patient_name);
    record->referring_physician_folded = idxtext_fold(record->referring_physician);
    if (record->study_time_key == NULL || record->patient_name_folded == NULL ||
        record->referring_physician_folded == NULL)
        return CAIRN_ERR_NO_MEMORY;

    status = idxtext_pn_groups(record->patient_name_folded, groups);
    if (status != CAIRN_OK)
        return status;
    for (int g = 0; g < 3; g++)
        record->patient_name_groups[g] = groups[g];
    return CAIRN_OK;
}

/*
 * Fills record from attributes and file. On failure nothing in record
 * needs freeing. Returns CAIRN_ERR_INVALID_ARGUMENT when the Study, Series
 * or SOP Instance UID is missing or invalid, or when file has no path.
 */
cairn_status pgidx_record_read(const pgidx_backend *backend, const cairn_dataset *attributes,
                                const cairn_instance_file *file, pgidx_record *record)
{
    static const struct {
        cairn_tag tag;
        size_t offset;
    } texts[] = {
        {CAIRN_TAG_SPECIFIC_CHARACTER_SET, offsetof(pgidx_record, charset)},
        {CAIRN_TAG_PATIENT_NAME, offsetof(pgidx_record, patient_name)},
        {CAIRN_TAG_PATIENT_ID, offsetof(pgidx_record, patient_id)},
        {CAIRN_TAG_ISSUER_OF_PATIENT_ID, offsetof(pgidx_record, issuer)},
        {CAIRN_TAG_PATIENT_BIRTH_DATE, offsetof(pgidx_record, birth_date)},
        {CAIRN_TAG_PATIENT_SEX, offsetof(pgidx_record, sex)},
        {CAIRN_TAG_STUDY_INSTANCE_UID, offsetof(pgidx_record, study_uid)},
        {CAIRN_TAG_STUDY_DATE, offsetof(pgidx_record, study_date)},
        {CAIRN_TAG_STUDY_TIME, offsetof(pgidx_record, study_time)},
        {CAIRN_TAG_ACCESSION_NUMBER, offsetof(pgidx_record, accession_number)},
        {CAIRN_TAG_STUDY_ID, offsetof(pgidx_record, study_id)},
        {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, offsetof(pgidx_record, referring_physician)},
        {CAIRN_TAG_STUDY_DESCRIPTION, offsetof(pgidx_record, study_description)},
        {CAIRN_TAG_SERIES_INSTANCE_UID, offsetof(pgidx_record, series_uid)},
        {CAIRN_TAG_MODALITY, offsetof(pgidx_record, modality)},
        {CAIRN_TAG_SERIES_DESCRIPTION, offsetof(pgidx_record, series_description)},
        {CAIRN_TAG_SOP_INSTANCE_UID, offsetof(pgidx_record, sop_uid)},
        {CAIRN_TAG_SOP_CLASS_UID, offsetof(pgidx_record, sop_class_uid)},
    };
    cairn_status status = CAIRN_OK;

    memset(record, 0, sizeof(*record));
    if (attributes == NULL || file == NULL || file->path == NULL || file->path[0] == '\0')
        return CAIRN_ERR_INVALID_ARGUMENT;

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]) && status == CAIRN_OK; i++)
        status = read_text(backend, attributes, texts[i].tag,
                           (char **)((char *)record + texts[i].offset));
    if (status == CAIRN_OK)
        status = read_number(backend, attributes, CAIRN_TAG_SERIES_NUMBER,
                             &record->series_number);
    if (status == CAIRN_OK)
        status = read_number(backend, attributes, CAIRN_TAG_INSTANCE_NUMBER,
                             &record->instance_number);
    if (status == CAIRN_OK)
        status = derive_match_values(record);
    if (status != CAIRN_OK)
        goto out;

    status = check_uid(backend, record->study_uid, "Study Instance UID (0020,000D)");
    if (status == CAIRN_OK)
        status = check_uid(backend, record->series_uid, "Series Instance UID (0020,000E)");
    if (status == CAIRN_OK)
        status = check_uid(backend, record->sop_uid, "SOP Instance UID (0008,0018)");
    if (status != CAIRN_OK)
        goto out;

    record->path = pgidx_strdup(file->path);
    record->transfer_syntax = pgidx_strdup(file->transfer_syntax_uid);
    record->calling_ae = pgidx_strdup(file->calling_ae);
    if (record->path == NULL || record->transfer_syntax == NULL || record->calling_ae == NULL) {
        status = CAIRN_ERR_NO_MEMORY;
        goto out;
    }
    pgidx_utf8_clean(record->transfer_syntax);
    pgidx_utf8_clean(record->calling_ae);
    record->size = file->size;
    record->received_at_us = file->received_at_us;
    status = seqidx_extract(backend->api, attributes, &record->sequences);

out:
    if (status != CAIRN_OK)
        pgidx_record_free(record);
    return status;
}
