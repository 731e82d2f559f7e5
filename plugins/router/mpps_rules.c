/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of MPPS N-CREATE and N-SET data sets against PS3.4 table
 * F.7.2-1. The checks cover the required attributes (type 1 present with
 * a value, type 2 present) and the attributes an N-SET may not change.
 * They check the values of Status, dates, times, UIDs, Modality and AE
 * titles, and the final state requirements of a COMPLETED or DISCONTINUED
 * step. A missing attribute gets 0120, a type 1 attribute without a value
 * 0121, an invalid value or a forbidden change 0106.
 */
#include "mpps_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* One required attribute: its tag, name for the Error Comment and type (1 or 2). */
typedef struct attr_rule {
    cairn_tag tag;
    const char *name;
    int type;
} attr_rule;

#define TAG_MODALITY CAIRN_TAG(0x0008, 0x0060)
#define TAG_PERFORMED_STATION_AE CAIRN_TAG(0x0040, 0x0241)
#define TAG_REFERENCED_STUDY_SEQUENCE CAIRN_TAG(0x0008, 0x1110)
#define TAG_REFERENCED_PATIENT_SEQUENCE CAIRN_TAG(0x0008, 0x1120)
#define TAG_SPECIFIC_CHARACTER_SET CAIRN_TAG(0x0008, 0x0005)
#define TAG_RETRIEVE_AE_TITLE CAIRN_TAG(0x0008, 0x0054)

/* Top-level attributes of the N-CREATE (table F.7.2-1). */
static const attr_rule create_rules[] = {
    {TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE, "Scheduled Step Attributes Sequence", 1},
    {TAG_PPS_ID, "Performed Procedure Step ID", 1},
    {TAG_PERFORMED_STATION_AE, "Performed Station AE Title", 1},
    {TAG_PPS_START_DATE, "Performed Procedure Step Start Date", 1},
    {TAG_PPS_START_TIME, "Performed Procedure Step Start Time", 1},
    {TAG_PPS_STATUS, "Performed Procedure Step Status", 1},
    {TAG_MODALITY, "Modality", 1},
    {CAIRN_TAG(0x0010, 0x0010), "Patient's Name", 2},
    {CAIRN_TAG(0x0010, 0x0020), "Patient ID", 2},
    {CAIRN_TAG(0x0010, 0x0030), "Patient's Birth Date", 2},
    {CAIRN_TAG(0x0010, 0x0040), "Patient's Sex", 2},
    {TAG_REFERENCED_PATIENT_SEQUENCE, "Referenced Patient Sequence", 2},
    {CAIRN_TAG(0x0040, 0x0242), "Performed Station Name", 2},
    {CAIRN_TAG(0x0040, 0x0243), "Performed Location", 2},
    {CAIRN_TAG(0x0040, 0x0254), "Performed Procedure Step Description", 2},
    {CAIRN_TAG(0x0040, 0x0255), "Performed Procedure Type Description", 2},
    {CAIRN_TAG(0x0008, 0x1032), "Procedure Code Sequence", 2},
    {TAG_PPS_END_DATE, "Performed Procedure Step End Date", 2},
    {TAG_PPS_END_TIME, "Performed Procedure Step End Time", 2},
    {CAIRN_TAG(0x0020, 0x0010), "Study ID", 2},
    {CAIRN_TAG(0x0040, 0x0260), "Performed Protocol Code Sequence", 2},
    {TAG_PERFORMED_SERIES_SEQUENCE, "Performed Series Sequence", 2},
};

/* Attributes of an item of the Scheduled Step Attributes Sequence. */
static const attr_rule scheduled_rules[] = {
    {TAG_STUDY_INSTANCE_UID, "Study Instance UID", 1},
    {TAG_REFERENCED_STUDY_SEQUENCE, "Referenced Study Sequence", 2},
    {CAIRN_TAG(0x0008, 0x0050), "Accession Number", 2},
    {CAIRN_TAG(0x0040, 0x1001), "Requested Procedure ID", 2},
    {CAIRN_TAG(0x0032, 0x1060), "Requested Procedure Description", 2},
    {CAIRN_TAG(0x0040, 0x0009), "Scheduled Procedure Step ID", 2},
    {CAIRN_TAG(0x0040, 0x0007), "Scheduled Procedure Step Description", 2},
    {CAIRN_TAG(0x0040, 0x0008), "Scheduled Protocol Code Sequence", 2},
};

/* Attributes of an item of the Performed Series Sequence. */
static const attr_rule series_rules[] = {
    {CAIRN_TAG(0x0018, 0x1030), "Protocol Name", 1},
    {TAG_SERIES_INSTANCE_UID, "Series Instance UID", 1},
    {CAIRN_TAG(0x0008, 0x1050), "Performing Physician's Name", 2},
    {CAIRN_TAG(0x0008, 0x1070), "Operators' Name", 2},
    {CAIRN_TAG(0x0008, 0x103E), "Series Description", 2},
    {TAG_RETRIEVE_AE_TITLE, "Retrieve AE Title", 2},
    {TAG_REFERENCED_IMAGE_SEQUENCE, "Referenced Image Sequence", 2},
    {TAG_REFERENCED_NON_IMAGE_SEQUENCE, "Referenced Non-Image Composite SOP Instance Sequence", 2},
};

/* Attributes of a reference item (studies, patients, images, other instances). */
static const attr_rule reference_rules[] = {
    {TAG_REFERENCED_SOP_CLASS_UID, "Referenced SOP Class UID", 1},
    {TAG_REFERENCED_SOP_INSTANCE_UID, "Referenced SOP Instance UID", 1},
};

/* Attributes required in the final state (COMPLETED or DISCONTINUED). */
static const attr_rule final_rules[] = {
    {TAG_PPS_END_DATE, "Performed Procedure Step End Date", 1},
    {TAG_PPS_END_TIME, "Performed Procedure Step End Time", 1},
    {TAG_PERFORMED_SERIES_SEQUENCE, "Performed Series Sequence", 1},
    {CAIRN_TAG(0x0040, 0x0254), "Performed Procedure Step Description", 2},
    {CAIRN_TAG(0x0040, 0x0255), "Performed Procedure Type Description", 2},
    {CAIRN_TAG(0x0008, 0x1032), "Procedure Code Sequence", 2},
    {CAIRN_TAG(0x0040, 0x0260), "Performed Protocol Code Sequence", 2},
};

/* Top-level attributes that table F.7.2-1 marks "Not allowed" for N-SET. */
static const attr_rule not_settable[] = {
    {TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE, "Scheduled Step Attributes Sequence", 0},
    {CAIRN_TAG(0x0010, 0x0010), "Patient's Name", 0},
    {CAIRN_TAG(0x0010, 0x0020), "Patient ID", 0},
    {CAIRN_TAG(0x0010, 0x0021), "Issuer of Patient ID", 0},
    {CAIRN_TAG(0x0010, 0x0024), "Issuer of Patient ID Qualifiers Sequence", 0},
    {CAIRN_TAG(0x0010, 0x1002), "Other Patient IDs Sequence", 0},
    {CAIRN_TAG(0x0010, 0x0030), "Patient's Birth Date", 0},
    {CAIRN_TAG(0x0010, 0x0040), "Patient's Sex", 0},
    {TAG_REFERENCED_PATIENT_SEQUENCE, "Referenced Patient Sequence", 0},
    {CAIRN_TAG(0x0038, 0x0010), "Admission ID", 0},
    {CAIRN_TAG(0x0038, 0x0014), "Issuer of Admission ID Sequence", 0},
    {CAIRN_TAG(0x0038, 0x0060), "Service Episode ID", 0},
    {CAIRN_TAG(0x0038, 0x0064), "Issuer of Service Episode ID Sequence", 0},
    {CAIRN_TAG(0x0038, 0x0062), "Service Episode Description", 0},
    {TAG_PPS_ID, "Performed Procedure Step ID", 0},
    {TAG_PERFORMED_STATION_AE, "Performed Station AE Title", 0},
    {CAIRN_TAG(0x0040, 0x0242), "Performed Station Name", 0},
    {CAIRN_TAG(0x0040, 0x0243), "Performed Location", 0},
    {TAG_PPS_START_DATE, "Performed Procedure Step Start Date", 0},
    {TAG_PPS_START_TIME, "Performed Procedure Step Start Time", 0},
    {TAG_MODALITY, "Modality", 0},
    {CAIRN_TAG(0x0020, 0x0010), "Study ID", 0},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

mpps_state mpps_state_parse(const char *value)
{
    if (strcmp(value, "IN PROGRESS") == 0)
        return MPPS_STATE_IN_PROGRESS;
    if (strcmp(value, "COMPLETED") == 0)
        return MPPS_STATE_COMPLETED;
    if (strcmp(value, "DISCONTINUED") == 0)
        return MPPS_STATE_DISCONTINUED;
    return MPPS_STATE_INVALID;
}

const char *mpps_state_name(mpps_state state)
{
    switch (state) {
    case MPPS_STATE_IN_PROGRESS: return "IN PROGRESS";
    case MPPS_STATE_COMPLETED: return "COMPLETED";
    case MPPS_STATE_DISCONTINUED: return "DISCONTINUED";
    case MPPS_STATE_INVALID: break;
    }
    return "";
}

/* PS3.5 9.1: digits and dots, at most 64 characters, no empty component, no leading zero. */
bool mpps_valid_uid(const char *uid)
{
    size_t len = uid != NULL ? strlen(uid) : 0, component = 0;

    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (uid[i] == '.' || uid[i] == '\0') {
            if (component == 0 || (component > 1 && uid[i - component] == '0'))
                return false;
            component = 0;
        } else if (isdigit((unsigned char)uid[i])) {
            component++;
        } else {
            return false;
        }
    }
    return true;
}

static void set_error(mpps_error *err, cairn_dimse_status status, cairn_tag tag,
                      const char *comment)
{
    size_t n = strlen(comment);

    err->status = status;
    err->error_id = 0;
    if (n >= sizeof err->comment)
        n = sizeof err->comment - 1;
    memcpy(err->comment, comment, n);
    err->comment[n] = '\0';
    err->attribute_count = 0;
    if (tag != 0)
        err->attributes[err->attribute_count++] = tag;
}

static int fail_tag(mpps_error *err, cairn_dimse_status status, cairn_tag tag, const char *name,
                    const char *what)
{
    char comment[96];

    /* The Error Comment is an LO of at most 64 characters: long names give way to the tag. */
    if (snprintf(comment, sizeof comment, "%s (%04X,%04X) %s", name, CAIRN_TAG_GROUP(tag),
                 CAIRN_TAG_ELEMENT(tag), what) > 64)
        snprintf(comment, sizeof comment, "Attribute (%04X,%04X) %s", CAIRN_TAG_GROUP(tag),
                 CAIRN_TAG_ELEMENT(tag), what);
    set_error(err, status, tag, comment);
    return -1;
}

/* True when element has no value: no items for a sequence, else only padding. */
static bool is_empty(const cairn_host_api *api, const cairn_element *element)
{
    const uint8_t *value;
    uint32_t length = api->element_length(element);

    if (api->element_vr(element) == CAIRN_VR_SQ)
        return api->element_item_count(element) == 0;
    if (length == 0)
        return true;
    value = api->element_value(element);
    if (value == NULL || length == 0xFFFFFFFFu)
        return false;
    for (uint32_t i = 0; i < length; i++) {
        if (value[i] != ' ' && value[i] != '\0')
            return false;
    }
    return true;
}

static int check_required(const mpps_rules *rules, const cairn_dataset *ds,
                          const attr_rule *table, size_t count, mpps_error *err)
{
    const cairn_host_api *api = rules->api;

    for (size_t i = 0; i < count; i++) {
        const cairn_element *element = api->dataset_find(ds, table[i].tag);

        if (element == NULL && (table[i].type == 1 || rules->check_type2))
            return fail_tag(err, MPPS_STATUS_MISSING_ATTRIBUTE, table[i].tag, table[i].name,
                            "missing");
        if (element != NULL && table[i].type == 1 && is_empty(api, element))
            return fail_tag(err, MPPS_STATUS_MISSING_ATTRIBUTE_VALUE, table[i].tag,
                            table[i].name, "has no value");
    }
    return 0;
}

/* Reads a text value without padding. Returns 1 when present with a value, 0 when not, -1 when too long. */
static int read_text(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag, char *buf,
                     size_t size)
{
    cairn_status st = api->dataset_get_string(ds, tag, 0, buf, size);

    if (st == CAIRN_ERR_TOO_SMALL)
        return -1;
    if (st != CAIRN_OK) {
        buf[0] = '\0';
        return 0;
    }
    return buf[0] != '\0';
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* DA: YYYYMMDD with a valid month and day of month. */
static bool valid_date(const char *v)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month, day;

    if (strlen(v) != 8 || !digits(v, 8))
        return false;
    month = two(v + 4);
    day = two(v + 6);
    return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
}

/* TM: HH[MM[SS[.F{1,6}]]] (PS3.5 6.2), or the old HH:MM:SS form. */
static bool valid_time(const char *v)
{
    char compact[32];
    size_t n = 0, len = strlen(v);

    if (len >= sizeof compact)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] != ':')
            compact[n++] = v[i];
    }
    compact[n] = '\0';
    if (n < 2 || !digits(compact, 2) || two(compact) > 23)
        return false;
    if (n == 2)
        return true;
    if (n < 4 || !digits(compact + 2, 2) || two(compact + 2) > 59)
        return false;
    if (n == 4)
        return true;
    if (n < 6 || !digits(compact + 4, 2) || two(compact + 4) > 60)
        return false;
    if (n == 6)
        return true;
    return compact[6] == '.' && n >= 8 && n <= 13 && digits(compact + 7, n - 7);
}

/* CS: at most 16 of upper-case letters, digits, space and underscore. */
static bool valid_code_string(const char *v)
{
    size_t len = strlen(v);

    if (len == 0 || len > 16)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isupper((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) && v[i] != ' ' &&
            v[i] != '_')
            return false;
    }
    return true;
}

/* AE: 1 to 16 printable characters other than backslash. */
static bool valid_ae_title(const char *v)
{
    size_t len = strlen(v);

    if (len == 0 || len > 16)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isprint((unsigned char)v[i]) || v[i] == '\\')
            return false;
    }
    return true;
}

typedef bool (*value_check)(const char *value);

/*
 * Checks the value of tag in ds with check, when it has one. report is the
 * top-level attribute to name in the error (tag itself at top level).
 */
static int check_value(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag,
                       const char *name, value_check check, cairn_tag report, mpps_error *err)
{
    char value[72], second[72];
    int got = read_text(api, ds, tag, value, sizeof value);

    if (got == 0)
        return 0;
    /* Every attribute checked here has VM 1: a second value makes it invalid. */
    if (got < 0 || !check(value) ||
        api->dataset_get_string(ds, tag, 1, second, sizeof second) != CAIRN_ERR_NOT_FOUND) {
        fail_tag(err, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE, tag, name, "is invalid");
        err->attributes[0] = report;
        return -1;
    }
    return 0;
}

static bool uid_check(const char *value)
{
    return mpps_valid_uid(value);
}

/* Checks the reference items of sequence tag inside ds; report names the top-level attribute. */
static int check_references(const mpps_rules *rules, const cairn_dataset *ds, cairn_tag tag,
                            cairn_tag report, mpps_error *err)
{
    const cairn_host_api *api = rules->api;
    const cairn_element *seq = api->dataset_find(ds, tag);
    size_t count = seq != NULL ? api->element_item_count(seq) : 0;

    for (size_t i = 0; i < count; i++) {
        const cairn_dataset *item = api->element_item(seq, i);

        if (item == NULL)
            continue;
        if (check_required(rules, item, reference_rules, COUNT(reference_rules), err) != 0 ||
            check_value(api, item, TAG_REFERENCED_SOP_CLASS_UID, "Referenced SOP Class UID",
                        uid_check, report, err) != 0 ||
            check_value(api, item, TAG_REFERENCED_SOP_INSTANCE_UID,
                        "Referenced SOP Instance UID", uid_check, report, err) != 0)
            return -1;
    }
    return 0;
}

static int check_scheduled_steps(const mpps_rules *rules, const cairn_dataset *ds,
                                 mpps_error *err)
{
    const cairn_host_api *api = rules->api;
    const cairn_element *seq = api->dataset_find(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    size_t count = seq != NULL ? api->element_item_count(seq) : 0;

    for (size_t i = 0; i < count; i++) {
        const cairn_dataset *item = api->element_item(seq, i);

        if (item == NULL)
            continue;
        if (check_required(rules, item, scheduled_rules, COUNT(scheduled_rules), err) != 0 ||
            check_value(api, item, TAG_STUDY_INSTANCE_UID, "Study Instance UID", uid_check,
                        TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE, err) != 0 ||
            check_references(rules, item, TAG_REFERENCED_STUDY_SEQUENCE,
                             TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE, err) != 0)
            return -1;
    }
    return 0;
}

static int check_performed_series(const mpps_rules *rules, const cairn_dataset *ds,
                                  mpps_error *err)
{
    const cairn_host_api *api = rules->api;
    const cairn_element *seq = api->dataset_find(ds, TAG_PERFORMED_SERIES_SEQUENCE);
    size_t count = seq != NULL ? api->element_item_count(seq) : 0;

    for (size_t i = 0; i < count; i++) {
        const cairn_dataset *item = api->element_item(seq, i);

        if (item == NULL)
            continue;
        if (check_required(rules, item, series_rules, COUNT(series_rules), err) != 0 ||
            check_value(api, item, TAG_SERIES_INSTANCE_UID, "Series Instance UID", uid_check,
                        TAG_PERFORMED_SERIES_SEQUENCE, err) != 0 ||
            check_value(api, item, TAG_RETRIEVE_AE_TITLE, "Retrieve AE Title", valid_ae_title,
                        TAG_PERFORMED_SERIES_SEQUENCE, err) != 0 ||
            check_references(rules, item, TAG_REFERENCED_IMAGE_SEQUENCE,
                             TAG_PERFORMED_SERIES_SEQUENCE, err) != 0 ||
            check_references(rules, item, TAG_REFERENCED_NON_IMAGE_SEQUENCE,
                             TAG_PERFORMED_SERIES_SEQUENCE, err) != 0)
            return -1;
    }
    return 0;
}

/* Checks the end date and time values, which both operations may carry. */
static int check_end(const cairn_host_api *api, const cairn_dataset *ds, mpps_error *err)
{
    if (check_value(api, ds, TAG_PPS_END_DATE, "Performed Procedure Step End Date",
                    valid_date, TAG_PPS_END_DATE, err) != 0 ||
        check_value(api, ds, TAG_PPS_END_TIME, "Performed Procedure Step End Time",
                    valid_time, TAG_PPS_END_TIME, err) != 0)
        return -1;
    return 0;
}

int mpps_check_instance_uid(const char *uid, bool create, mpps_error *err)
{
    const char *name = create ? "Affected SOP Instance UID" : "Requested SOP Instance UID";
    cairn_tag tag = create ? CAIRN_TAG(0x0000, 0x1000) : CAIRN_TAG(0x0000, 0x1001);

    err->status = 0;
    if (uid == NULL || uid[0] == '\0')
        return fail_tag(err, MPPS_STATUS_MISSING_ATTRIBUTE, tag, name, "missing");
    if (!mpps_valid_uid(uid)) {
        fail_tag(err, MPPS_STATUS_INVALID_SOP_INSTANCE, 0, name, "is not a valid UID");
        err->attribute_count = 0;
        return -1;
    }
    return 0;
}

int mpps_check_create(const mpps_rules *rules, const cairn_dataset *ds, mpps_error *err)
{
    const cairn_host_api *api = rules->api;
    char status[32];

    err->status = 0;
    if (ds == NULL) {
        set_error(err, MPPS_STATUS_MISSING_ATTRIBUTE, TAG_PPS_STATUS,
                  "the N-CREATE-RQ has no data set");
        return -1;
    }
    if (check_required(rules, ds, create_rules, COUNT(create_rules), err) != 0)
        return -1;

    if (read_text(api, ds, TAG_PPS_STATUS, status, sizeof status) < 0 ||
        mpps_state_parse(status) != MPPS_STATE_IN_PROGRESS)
        return fail_tag(err, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE, TAG_PPS_STATUS,
                        "Performed Procedure Step Status", "is not IN PROGRESS");
    if (check_value(api, ds, TAG_PPS_START_DATE, "Performed Procedure Step Start Date",
                    valid_date, TAG_PPS_START_DATE, err) != 0 ||
        check_value(api, ds, TAG_PPS_START_TIME, "Performed Procedure Step Start Time",
                    valid_time, TAG_PPS_START_TIME, err) != 0 ||
        check_end(api, ds, err) != 0 ||
        check_value(api, ds, TAG_MODALITY, "Modality", valid_code_string, TAG_MODALITY,
                    err) != 0 ||
        check_value(api, ds, TAG_PERFORMED_STATION_AE, "Performed Station AE Title",
                    valid_ae_title, TAG_PERFORMED_STATION_AE, err) != 0)
        return -1;

    if (check_scheduled_steps(rules, ds, err) != 0 ||
        check_references(rules, ds, TAG_REFERENCED_PATIENT_SEQUENCE,
                         TAG_REFERENCED_PATIENT_SEQUENCE, err) != 0 ||
        check_performed_series(rules, ds, err) != 0)
        return -1;
    return 0;
}

/* Compares two elements by VR and value, sequences item by item. */
static bool same_element(const cairn_host_api *api, const cairn_element *a,
                         const cairn_element *b)
{
    size_t items;

    if (api->element_vr(a) != api->element_vr(b))
        return false;
    if (api->element_vr(a) != CAIRN_VR_SQ) {
        uint32_t length = api->element_length(a);
        const uint8_t *va = api->element_value(a), *vb = api->element_value(b);

        if (length != api->element_length(b))
            return false;
        return length == 0 || (va != NULL && vb != NULL && memcmp(va, vb, length) == 0);
    }

    items = api->element_item_count(a);
    if (items != api->element_item_count(b))
        return false;
    for (size_t i = 0; i < items; i++) {
        const cairn_dataset *ia = api->element_item(a, i), *ib = api->element_item(b, i);
        size_t n = ia ? api->dataset_count(ia) : 0;

        if (ia == NULL || ib == NULL || n != api->dataset_count(ib))
            return false;
        for (size_t j = 0; j < n; j++) {
            const cairn_element *ea = api->dataset_at(ia, j), *eb = api->dataset_at(ib, j);

            if (api->element_tag(ea) != api->element_tag(eb) || !same_element(api, ea, eb))
                return false;
        }
    }
    return true;
}

static const attr_rule *find_rule(const attr_rule *table, size_t count, cairn_tag tag)
{
    for (size_t i = 0; i < count; i++) {
        if (table[i].tag == tag)
            return &table[i];
    }
    return NULL;
}

int mpps_check_set(const mpps_rules *rules, const cairn_dataset *current,
                   const cairn_dataset *changes, mpps_error *err)
{
    const cairn_host_api *api = rules->api;
    char status[32];
    size_t count;

    err->status = 0;
    if (read_text(api, current, TAG_PPS_STATUS, status, sizeof status) <= 0 ||
        mpps_state_parse(status) != MPPS_STATE_IN_PROGRESS) {
        set_error(err, MPPS_STATUS_PROCESSING_FAILURE, 0, MPPS_ERROR_COMMENT_FINAL);
        err->error_id = MPPS_ERROR_ID_FINAL;
        return -1;
    }
    if (changes == NULL) {
        set_error(err, MPPS_STATUS_MISSING_ATTRIBUTE, 0, "the N-SET-RQ has no data set");
        return -1;
    }

    count = api->dataset_count(changes);
    for (size_t i = 0; i < count; i++) {
        const cairn_element *element = api->dataset_at(changes, i);
        cairn_tag tag = api->element_tag(element);
        const cairn_element *kept;
        const attr_rule *rule;

        if (tag == TAG_SPECIFIC_CHARACTER_SET || CAIRN_TAG_GROUP(tag) == 0x0000 ||
            CAIRN_TAG_ELEMENT(tag) == 0x0000)
            continue;
        kept = api->dataset_find(current, tag);
        rule = find_rule(not_settable, COUNT(not_settable), tag);
        /* An attribute N-SET may not set is accepted when its value stays the same. */
        if (rule != NULL && (kept == NULL || !same_element(api, kept, element)))
            return fail_tag(err, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE, tag, rule->name,
                            "may not be changed by N-SET");
        if (kept == NULL)
            return fail_tag(err, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE, tag, "Attribute",
                            "was not created by N-CREATE");
    }

    if (read_text(api, changes, TAG_PPS_STATUS, status, sizeof status) != 0 &&
        mpps_state_parse(status) == MPPS_STATE_INVALID)
        return fail_tag(err, MPPS_STATUS_INVALID_ATTRIBUTE_VALUE, TAG_PPS_STATUS,
                        "Performed Procedure Step Status", "is invalid");
    if (api->dataset_find(changes, TAG_PPS_STATUS) != NULL &&
        is_empty(api, api->dataset_find(changes, TAG_PPS_STATUS)))
        return fail_tag(err, MPPS_STATUS_MISSING_ATTRIBUTE_VALUE, TAG_PPS_STATUS,
                        "Performed Procedure Step Status", "has no value");
    if (check_end(api, changes, err) != 0 || check_performed_series(rules, changes, err) != 0)
        return -1;
    return 0;
}

int mpps_check_final(const mpps_rules *rules, const cairn_dataset *merged, mpps_error *err)
{
    mpps_rules final = *rules;

    err->status = 0;
    /* The final state requires its type 2 attributes, whatever check_type2 is set to. */
    final.check_type2 = true;
    return check_required(&final, merged, final_rules, COUNT(final_rules), err);
}

int mpps_copy_element(const cairn_host_api *api, cairn_dataset *dst,
                      const cairn_element *element)
{
    cairn_tag tag = api->element_tag(element);
    cairn_vr vr = api->element_vr(element);
    size_t items;

    if (vr != CAIRN_VR_SQ) {
        uint32_t length = api->element_length(element);
        const uint8_t *value = api->element_value(element);

        if (length == 0xFFFFFFFFu || (length > 0 && value == NULL))
            return -1;
        return api->dataset_set_bytes(dst, tag, vr, length > 0 ? (const void *)value : "",
                                      length) == CAIRN_OK ? 0 : -1;
    }

    api->dataset_remove(dst, tag);
    items = api->element_item_count(element);
    if (items == 0)
        return api->dataset_set_empty_sequence(dst, tag) == CAIRN_OK ? 0 : -1;
    for (size_t i = 0; i < items; i++) {
        const cairn_dataset *item = api->element_item(element, i);
        cairn_dataset *copy = api->dataset_append_item(dst, tag);
        size_t n = item != NULL ? api->dataset_count(item) : 0;

        if (copy == NULL)
            return -1;
        for (size_t j = 0; j < n; j++) {
            if (mpps_copy_element(api, copy, api->dataset_at(item, j)) != 0)
                return -1;
        }
    }
    return 0;
}

cairn_dataset *mpps_merge(const cairn_host_api *api, const cairn_dataset *current,
                          const cairn_dataset *changes)
{
    cairn_dataset *merged = api->dataset_create();
    size_t count;

    if (merged == NULL)
        return NULL;
    count = api->dataset_count(current);
    for (size_t i = 0; i < count; i++) {
        if (mpps_copy_element(api, merged, api->dataset_at(current, i)) != 0)
            goto fail;
    }
    count = changes != NULL ? api->dataset_count(changes) : 0;
    for (size_t i = 0; i < count; i++) {
        const cairn_element *element = api->dataset_at(changes, i);

        if (api->element_tag(element) == TAG_SPECIFIC_CHARACTER_SET)
            continue;
        if (mpps_copy_element(api, merged, element) != 0)
            goto fail;
    }
    return merged;

fail:
    api->dataset_destroy(merged);
    return NULL;
}
