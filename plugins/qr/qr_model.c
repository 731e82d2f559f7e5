/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Query/Retrieve information models (PS3.4 C.6): their SOP classes,
 * their levels, the keys this plugin supports at each level, and the
 * checks a C-FIND, C-MOVE or C-GET identifier must pass against a model.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qr.h"

static const qr_model models[] = {
    {QR_MODEL_PATIENT_ROOT, "Patient Root", "1.2.840.10008.5.1.4.1.2.1.1",
     "1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.1.3", CAIRN_LEVEL_PATIENT,
     CAIRN_LEVEL_INSTANCE},
    {QR_MODEL_STUDY_ROOT, "Study Root", "1.2.840.10008.5.1.4.1.2.2.1",
     "1.2.840.10008.5.1.4.1.2.2.2", "1.2.840.10008.5.1.4.1.2.2.3", CAIRN_LEVEL_STUDY,
     CAIRN_LEVEL_INSTANCE},
    {QR_MODEL_PATIENT_STUDY_ONLY, "Patient/Study Only", "1.2.840.10008.5.1.4.1.2.3.1",
     "1.2.840.10008.5.1.4.1.2.3.2", "1.2.840.10008.5.1.4.1.2.3.3", CAIRN_LEVEL_PATIENT,
     CAIRN_LEVEL_STUDY},
};

const char *const qr_find_classes[3] = {
    "1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.3.1"};
const char *const qr_move_classes[3] = {
    "1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.2.2", "1.2.840.10008.5.1.4.1.2.3.2"};
const char *const qr_get_classes[3] = {
    "1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3", "1.2.840.10008.5.1.4.1.2.3.3"};

#define AT(level) (1u << (level))
#define ALL_LEVELS \
    (AT(CAIRN_LEVEL_PATIENT) | AT(CAIRN_LEVEL_STUDY) | AT(CAIRN_LEVEL_SERIES) | \
     AT(CAIRN_LEVEL_INSTANCE))

/*
 * The keys the index keeps, with the levels whose rows carry them. A key
 * outside this table matches universally and is left out of responses.
 */
static const qr_key keys[] = {
    {CAIRN_TAG_PATIENT_NAME, CAIRN_VR_PN, "Patient's Name", CAIRN_LEVEL_PATIENT, 0,
     AT(CAIRN_LEVEL_PATIENT) | AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_PATIENT_ID, CAIRN_VR_LO, "Patient ID", CAIRN_LEVEL_PATIENT, 1, ALL_LEVELS},
    {CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_VR_LO, "Issuer of Patient ID", CAIRN_LEVEL_PATIENT,
     0, ALL_LEVELS},
    {CAIRN_TAG_PATIENT_BIRTH_DATE, CAIRN_VR_DA, "Patient's Birth Date", CAIRN_LEVEL_PATIENT, 0,
     AT(CAIRN_LEVEL_PATIENT) | AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_PATIENT_SEX, CAIRN_VR_CS, "Patient's Sex", CAIRN_LEVEL_PATIENT, 0,
     AT(CAIRN_LEVEL_PATIENT) | AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG(0x0020, 0x1200), CAIRN_VR_IS, "Number of Patient Related Studies",
     CAIRN_LEVEL_PATIENT, 0, AT(CAIRN_LEVEL_PATIENT)},
    {CAIRN_TAG(0x0020, 0x1202), CAIRN_VR_IS, "Number of Patient Related Series",
     CAIRN_LEVEL_PATIENT, 0, AT(CAIRN_LEVEL_PATIENT)},
    {CAIRN_TAG(0x0020, 0x1204), CAIRN_VR_IS, "Number of Patient Related Instances",
     CAIRN_LEVEL_PATIENT, 0, AT(CAIRN_LEVEL_PATIENT)},

    {CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, "Study Instance UID", CAIRN_LEVEL_STUDY, 1,
     AT(CAIRN_LEVEL_STUDY) | AT(CAIRN_LEVEL_SERIES) | AT(CAIRN_LEVEL_INSTANCE)},
    {CAIRN_TAG_STUDY_DATE, CAIRN_VR_DA, "Study Date", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_STUDY_TIME, CAIRN_VR_TM, "Study Time", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_ACCESSION_NUMBER, CAIRN_VR_SH, "Accession Number", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_STUDY_ID, CAIRN_VR_SH, "Study ID", CAIRN_LEVEL_STUDY, 0, AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_REFERRING_PHYSICIAN_NAME, CAIRN_VR_PN, "Referring Physician's Name",
     CAIRN_LEVEL_STUDY, 0, AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG_STUDY_DESCRIPTION, CAIRN_VR_LO, "Study Description", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG(0x0008, 0x0061), CAIRN_VR_CS, "Modalities in Study", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG(0x0008, 0x0062), CAIRN_VR_UI, "SOP Classes in Study", CAIRN_LEVEL_STUDY, 0,
     AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG(0x0020, 0x1206), CAIRN_VR_IS, "Number of Study Related Series",
     CAIRN_LEVEL_STUDY, 0, AT(CAIRN_LEVEL_STUDY)},
    {CAIRN_TAG(0x0020, 0x1208), CAIRN_VR_IS, "Number of Study Related Instances",
     CAIRN_LEVEL_STUDY, 0, AT(CAIRN_LEVEL_STUDY)},

    {CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, "Series Instance UID", CAIRN_LEVEL_SERIES, 1,
     AT(CAIRN_LEVEL_SERIES) | AT(CAIRN_LEVEL_INSTANCE)},
    {CAIRN_TAG_MODALITY, CAIRN_VR_CS, "Modality", CAIRN_LEVEL_SERIES, 0,
     AT(CAIRN_LEVEL_SERIES)},
    {CAIRN_TAG_SERIES_NUMBER, CAIRN_VR_IS, "Series Number", CAIRN_LEVEL_SERIES, 0,
     AT(CAIRN_LEVEL_SERIES)},
    {CAIRN_TAG_SERIES_DESCRIPTION, CAIRN_VR_LO, "Series Description", CAIRN_LEVEL_SERIES, 0,
     AT(CAIRN_LEVEL_SERIES)},
    {CAIRN_TAG(0x0020, 0x1209), CAIRN_VR_IS, "Number of Series Related Instances",
     CAIRN_LEVEL_SERIES, 0, AT(CAIRN_LEVEL_SERIES)},

    {CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, "SOP Instance UID", CAIRN_LEVEL_INSTANCE, 1,
     AT(CAIRN_LEVEL_INSTANCE)},
    {CAIRN_TAG_SOP_CLASS_UID, CAIRN_VR_UI, "SOP Class UID", CAIRN_LEVEL_INSTANCE, 0,
     AT(CAIRN_LEVEL_INSTANCE)},
    {CAIRN_TAG_INSTANCE_NUMBER, CAIRN_VR_IS, "Instance Number", CAIRN_LEVEL_INSTANCE, 0,
     AT(CAIRN_LEVEL_INSTANCE)},
};

#define KEY_TOTAL (sizeof(keys) / sizeof(keys[0]))

/* The Unique Key of each level, indexed by cairn_index_level. */
static const cairn_tag unique_tags[] = {
    [CAIRN_LEVEL_PATIENT] = CAIRN_TAG_PATIENT_ID,
    [CAIRN_LEVEL_STUDY] = CAIRN_TAG_STUDY_INSTANCE_UID,
    [CAIRN_LEVEL_SERIES] = CAIRN_TAG_SERIES_INSTANCE_UID,
    [CAIRN_LEVEL_INSTANCE] = CAIRN_TAG_SOP_INSTANCE_UID,
};

cairn_tag qr_unique_tag(cairn_index_level level)
{
    return unique_tags[level];
}

#define QUERY_RETRIEVE_LEVEL CAIRN_TAG(0x0008, 0x0052)

const qr_model *qr_model_find(const char *sop_class, qr_operation *operation)
{
    if (sop_class == NULL)
        return NULL;

    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(sop_class, models[i].find_uid) == 0) {
            *operation = QR_OP_FIND;
            return &models[i];
        }
        if (strcmp(sop_class, models[i].move_uid) == 0) {
            *operation = QR_OP_MOVE;
            return &models[i];
        }
        if (strcmp(sop_class, models[i].get_uid) == 0) {
            *operation = QR_OP_GET;
            return &models[i];
        }
    }
    return NULL;
}

const char *qr_level_name(cairn_index_level level)
{
    switch (level) {
    case CAIRN_LEVEL_PATIENT: return "PATIENT";
    case CAIRN_LEVEL_STUDY: return "STUDY";
    case CAIRN_LEVEL_SERIES: return "SERIES";
    case CAIRN_LEVEL_INSTANCE: return "IMAGE";
    case CAIRN_LEVEL_SENTINEL_: break;
    }
    return "?";
}

const qr_key *qr_key_find(cairn_tag tag)
{
    for (size_t i = 0; i < KEY_TOTAL; i++) {
        if (keys[i].tag == tag)
            return &keys[i];
    }
    return NULL;
}

cairn_index_level qr_key_level(const qr_key *key, const qr_model *model)
{
    if (key->level < model->top)
        return model->top;
    return key->level;
}

/* Sets a failed check with a formatted Error Comment. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void reject(qr_check *check, cairn_dimse_status status, const char *fmt, ...)
{
    va_list args;

    check->status = status;
    va_start(args, fmt);
    vsnprintf(check->comment, sizeof check->comment, fmt, args);
    va_end(args);
}

/* Copies at most 16 printable ASCII characters of a received value, for a comment. */
static void printable(const char *value, char *out, size_t size)
{
    size_t n = 0;

    for (const char *p = value; *p != '\0' && n + 1 < size && n < 16; p++)
        out[n++] = (*p >= 0x20 && *p < 0x7F) ? *p : '?';
    out[n] = '\0';
}

void qr_read_level(const qr_state *st, const qr_model *model, const cairn_dataset *identifier,
                   qr_check *check)
{
    static const cairn_index_level all[] = {CAIRN_LEVEL_PATIENT, CAIRN_LEVEL_STUDY,
                                            CAIRN_LEVEL_SERIES, CAIRN_LEVEL_INSTANCE};
    char value[32];
    char shown[20];
    cairn_status rc;

    rc = st->api->dataset_get_string(identifier, QUERY_RETRIEVE_LEVEL, 0, value, sizeof value);
    if (rc == CAIRN_ERR_NOT_FOUND || (rc == CAIRN_OK && value[0] == '\0')) {
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH,
               "Query/Retrieve Level (0008,0052) is missing");
        return;
    }
    if (rc != CAIRN_OK) {
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH,
               "Query/Retrieve Level (0008,0052) is invalid");
        return;
    }

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(value, qr_level_name(all[i])) != 0)
            continue;
        if (all[i] < model->top || all[i] > model->bottom) {
            reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "level %s is not in the %s model",
                   value, model->name);
            return;
        }
        check->level = all[i];
        return;
    }

    printable(value, shown, sizeof shown);
    reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "Query/Retrieve Level '%s' is invalid",
           shown);
}

/* What one received key value holds. */
typedef enum value_form {
    VALUE_ABSENT,   /* not in the identifier */
    VALUE_EMPTY,    /* zero length, or only spaces */
    VALUE_SINGLE,   /* one value without wildcards */
    VALUE_LIST,     /* several values, joined by backslashes */
    VALUE_WILDCARD  /* contains * or ? */
} value_form;

static value_form classify(const qr_state *st, const cairn_dataset *identifier, cairn_tag tag)
{
    char *value = NULL;
    value_form form;
    cairn_status rc = st->api->dataset_get_utf8(identifier, tag, &value);

    if (rc == CAIRN_ERR_NOT_FOUND)
        return VALUE_ABSENT;
    if (rc != CAIRN_OK || value == NULL)
        return st->api->dataset_find(identifier, tag) != NULL ? VALUE_WILDCARD : VALUE_ABSENT;

    if (value[strspn(value, " ")] == '\0')
        form = VALUE_EMPTY;
    else if (strpbrk(value, "*?") != NULL)
        form = VALUE_WILDCARD;
    else if (strchr(value, '\\') != NULL)
        form = VALUE_LIST;
    else
        form = VALUE_SINGLE;
    st->api->free(value);
    return form;
}

/* Describes the Unique Key of level for a comment, e.g. "Study Instance UID (0020,000D)". */
static void describe(cairn_index_level level, char *out, size_t size)
{
    const qr_key *key = qr_key_find(unique_tags[level]);

    snprintf(out, size, "%s (%04X,%04X)", key->name, CAIRN_TAG_GROUP(key->tag),
             CAIRN_TAG_ELEMENT(key->tag));
}

/* Checks that the Unique Key of every level above check->level holds one value. */
static int check_levels_above(const qr_state *st, const qr_model *model,
                              const cairn_dataset *identifier, qr_check *check)
{
    char name[64];

    for (cairn_index_level level = model->top; level < check->level; level++) {
        value_form form = classify(st, identifier, unique_tags[level]);

        if (form == VALUE_SINGLE)
            continue;
        describe(level, name, sizeof name);
        if (form == VALUE_ABSENT || form == VALUE_EMPTY)
            reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s is missing", name);
        else
            reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s needs a single value", name);
        return -1;
    }
    return 0;
}

/* Rejects a supported key whose level in model lies below check->level. */
static int check_levels_below(const qr_state *st, const qr_model *model,
                              const cairn_dataset *identifier, qr_check *check)
{
    size_t count = st->api->dataset_count(identifier);

    for (size_t i = 0; i < count; i++) {
        cairn_tag tag = st->api->element_tag(st->api->dataset_at(identifier, i));
        const qr_key *key = qr_key_find(tag);

        if (key == NULL || qr_key_level(key, model) <= check->level)
            continue;
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s (%04X,%04X) is below level %s",
               key->name, CAIRN_TAG_GROUP(tag), CAIRN_TAG_ELEMENT(tag),
               qr_level_name(check->level));
        return -1;
    }
    return 0;
}

void qr_check_find(const qr_state *st, const qr_model *model, const cairn_dataset *identifier,
                   int relational, qr_check *check)
{
    if (relational)
        return;
    if (check_levels_above(st, model, identifier, check) != 0)
        return;
    check_levels_below(st, model, identifier, check);
}

void qr_check_retrieve(const qr_state *st, const qr_model *model,
                       const cairn_dataset *identifier, int relational, qr_check *check)
{
    char name[64];
    value_form form;

    /* Unique Keys select what is sent, so none of them may be a pattern. */
    for (cairn_index_level level = model->top; level <= check->level; level++) {
        if (classify(st, identifier, unique_tags[level]) != VALUE_WILDCARD)
            continue;
        describe(level, name, sizeof name);
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s has a wildcard", name);
        return;
    }

    form = classify(st, identifier, unique_tags[check->level]);
    describe(check->level, name, sizeof name);
    if (form == VALUE_ABSENT || form == VALUE_EMPTY) {
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s is missing", name);
        return;
    }
    if (form == VALUE_LIST && check->level == CAIRN_LEVEL_PATIENT) {
        reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH, "%s needs a single value", name);
        return;
    }

    /* An Issuer of Patient ID narrows a PATIENT level retrieval, so it must name one issuer. */
    if (check->level == CAIRN_LEVEL_PATIENT) {
        form = classify(st, identifier, CAIRN_TAG_ISSUER_OF_PATIENT_ID);
        if (form == VALUE_WILDCARD || form == VALUE_LIST) {
            reject(check, CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH,
                   "Issuer of Patient ID (0010,0021) needs a single value");
            return;
        }
    }

    if (!relational && check_levels_above(st, model, identifier, check) != 0)
        return;
    check_levels_below(st, model, identifier, check);
}

/* Copies element tag of from into to, as received; absent elements are skipped. */
static int copy_element(const qr_state *st, const cairn_dataset *from, cairn_dataset *to,
                        cairn_tag tag, cairn_vr fallback_vr)
{
    const cairn_element *element = st->api->dataset_find(from, tag);
    const uint8_t *value;
    uint32_t length;
    cairn_vr vr;

    if (element == NULL)
        return 0;
    value = st->api->element_value(element);
    length = st->api->element_length(element);
    if (value == NULL || length == 0xFFFFFFFFu)
        return 0;
    vr = st->api->element_vr(element);
    if (vr == CAIRN_VR_UNKNOWN || vr == CAIRN_VR_UN)
        vr = fallback_vr;
    return st->api->dataset_set_bytes(to, tag, vr, value, length) == CAIRN_OK ? 0 : -1;
}

cairn_dataset *qr_retrieve_keys(const qr_state *st, const qr_model *model,
                                const cairn_dataset *identifier, cairn_index_level level)
{
    cairn_dataset *keys_out = st->api->dataset_create();

    if (keys_out == NULL)
        return NULL;
    if (copy_element(st, identifier, keys_out, CAIRN_TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS))
        goto fail;
    for (cairn_index_level l = model->top; l <= level; l++) {
        const qr_key *key = qr_key_find(unique_tags[l]);

        if (copy_element(st, identifier, keys_out, key->tag, key->vr) != 0)
            goto fail;
    }

    /*
     * A Patient ID is unique only within its issuer. PS3.4 C.4.2.1.4.1 makes
     * no provision for sending the issuer in a retrieval, but when a
     * PATIENT level request has one, it selects that issuer's patient only.
     * Lower levels are named by globally unique UIDs and need no issuer.
     */
    if (level == CAIRN_LEVEL_PATIENT &&
        classify(st, identifier, CAIRN_TAG_ISSUER_OF_PATIENT_ID) == VALUE_SINGLE &&
        copy_element(st, identifier, keys_out, CAIRN_TAG_ISSUER_OF_PATIENT_ID, CAIRN_VR_LO) != 0)
        goto fail;
    return keys_out;

fail:
    st->api->dataset_destroy(keys_out);
    return NULL;
}

void qr_negotiated(const qr_state *st, const cairn_assoc *assoc, const char *sop_class,
                   int *relational, int *combined_datetime)
{
    const uint8_t *info = NULL;
    size_t length = 0;

    *relational = 0;
    *combined_datetime = 0;
    if (st->api->assoc_extended_negotiation(assoc, sop_class, &info, &length) != CAIRN_OK)
        return;
    *relational = length >= 1 && info[0] == 1;
    *combined_datetime = length >= 2 && info[1] == 1;
}
