/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive listing: GET /v1/patients, /v1/studies, /v1/series and
 * /v1/instances, one page of the index back end's `list` at a time. Rows
 * come in the back end's stable order, so offset and limit page through
 * them. The JSON keys are those of `cairn <level> --json`, so scripts can
 * move between the two.
 */
#include "api/api_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/dcm.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000
#define MAX_OFFSET 1000000000ull
#define UID_MAX 64
#define LO_MAX 64

/* Where a key's value comes from. */
typedef enum value_kind {
    TEXT,           /* the attribute, spaces trimmed */
    INTEGER,        /* the attribute (IS or a count) as a JSON number */
    LIST,           /* the attribute's values as a JSON array */
    SOP_CLASS_NAME, /* dictionary name of the SOP Class UID, or "" */
    FILE_PATH,      /* relative to the storage folder */
    FILE_SIZE,      /* bytes */
    FILE_TS_UID,
    FILE_TS_NAME,
    FILE_RECEIVED,  /* ISO 8601 UTC, whole seconds */
    FILE_RECEIVED_US,
    FILE_CALLING_AE,
} value_kind;

typedef struct column {
    const char *key;
    value_kind kind;
    dcm_tag tag;
} column;

#define PATIENT_ID {"patient_id", TEXT, DCM_TAG(0x0010, 0x0020)}
#define ISSUER {"issuer", TEXT, DCM_TAG(0x0010, 0x0021)}
#define STUDY_UID {"study_instance_uid", TEXT, DCM_TAG(0x0020, 0x000D)}
#define SERIES_UID {"series_instance_uid", TEXT, DCM_TAG(0x0020, 0x000E)}

static const column patient_columns[] = {
    PATIENT_ID, ISSUER,
    {"name", TEXT, DCM_TAG(0x0010, 0x0010)},
    {"birth_date", TEXT, DCM_TAG(0x0010, 0x0030)},
    {"sex", TEXT, DCM_TAG(0x0010, 0x0040)},
    {"study_count", INTEGER, DCM_TAG(0x0020, 0x1200)},
    {"series_count", INTEGER, DCM_TAG(0x0020, 0x1202)},
    {"instance_count", INTEGER, DCM_TAG(0x0020, 0x1204)},
};

static const column study_columns[] = {
    PATIENT_ID, ISSUER,
    {"patient_name", TEXT, DCM_TAG(0x0010, 0x0010)},
    {"patient_birth_date", TEXT, DCM_TAG(0x0010, 0x0030)},
    {"patient_sex", TEXT, DCM_TAG(0x0010, 0x0040)},
    STUDY_UID,
    {"study_date", TEXT, DCM_TAG(0x0008, 0x0020)},
    {"study_time", TEXT, DCM_TAG(0x0008, 0x0030)},
    {"accession_number", TEXT, DCM_TAG(0x0008, 0x0050)},
    {"study_id", TEXT, DCM_TAG(0x0020, 0x0010)},
    {"referring_physician", TEXT, DCM_TAG(0x0008, 0x0090)},
    {"description", TEXT, DCM_TAG(0x0008, 0x1030)},
    {"modalities", LIST, DCM_TAG(0x0008, 0x0061)},
    {"sop_classes", LIST, DCM_TAG(0x0008, 0x0062)},
    {"series_count", INTEGER, DCM_TAG(0x0020, 0x1206)},
    {"instance_count", INTEGER, DCM_TAG(0x0020, 0x1208)},
};

static const column series_columns[] = {
    PATIENT_ID, ISSUER, STUDY_UID, SERIES_UID,
    {"modality", TEXT, DCM_TAG(0x0008, 0x0060)},
    {"series_number", INTEGER, DCM_TAG(0x0020, 0x0011)},
    {"description", TEXT, DCM_TAG(0x0008, 0x103E)},
    {"instance_count", INTEGER, DCM_TAG(0x0020, 0x1209)},
};

static const column instance_columns[] = {
    PATIENT_ID, ISSUER, STUDY_UID, SERIES_UID,
    {"sop_instance_uid", TEXT, DCM_TAG(0x0008, 0x0018)},
    {"sop_class_uid", TEXT, DCM_TAG(0x0008, 0x0016)},
    {"sop_class_name", SOP_CLASS_NAME, 0},
    {"instance_number", INTEGER, DCM_TAG(0x0020, 0x0013)},
    {"transfer_syntax_uid", FILE_TS_UID, 0},
    {"transfer_syntax_name", FILE_TS_NAME, 0},
    {"size", FILE_SIZE, 0},
    {"received_at", FILE_RECEIVED, 0},
    {"received_at_us", FILE_RECEIVED_US, 0},
    {"calling_ae", FILE_CALLING_AE, 0},
    {"path", FILE_PATH, 0},
};

/* One level's path: its columns and the filters that apply to it. */
typedef struct level_spec {
    const column *columns;
    size_t n_columns;
    size_t n_params; /* leading entries of all_params */
} level_spec;

static const char *const all_params[] = {
    "offset", "limit", "patient_id", "issuer", "study_uid", "series_uid",
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static const level_spec *spec_for(cairn_index_level level)
{
    static const level_spec specs[] = {
        {patient_columns, COUNT_OF(patient_columns), 4},
        {study_columns, COUNT_OF(study_columns), 5},
        {series_columns, COUNT_OF(series_columns), 6},
        {instance_columns, COUNT_OF(instance_columns), 6},
    };

    return &specs[level - CAIRN_LEVEL_PATIENT];
}

typedef struct page {
    const level_spec *spec;
    uint64_t offset;
    uint64_t limit;
    uint64_t seen;
    bool more;
    bool failed;
    json_t *items;
} page;

/* Returns the value without leading and trailing padding, and its length in *len. */
static const char *trimmed(const uint8_t *value, size_t length, size_t *len)
{
    size_t start = 0;

    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
        length--;
    while (start < length && value[start] == ' ')
        start++;
    *len = length - start;
    return (const char *)value + start;
}

static json_t *attribute_value(const dcm_dataset *row, const column *col)
{
    const dcm_element *element = dcm_dataset_find(row, col->tag);
    const uint8_t *value = element != NULL ? dcm_element_value(element) : NULL;
    size_t len = 0;
    const char *text = value != NULL ? trimmed(value, dcm_element_length(element), &len) : "";
    json_t *list;

    if (col->kind == TEXT)
        return api_json_text(text, len);

    if (col->kind == INTEGER) {
        char digits[24];
        char *end;
        long long number;

        if (len == 0 || len >= sizeof digits)
            return json_null();
        memcpy(digits, text, len);
        digits[len] = '\0';
        number = strtoll(digits, &end, 10);
        return *end == '\0' ? json_integer(number) : json_null();
    }

    /* LIST: values split at the backslash. */
    list = json_array();
    while (list != NULL && len > 0) {
        const char *sep = memchr(text, '\\', len);
        size_t part = sep != NULL ? (size_t)(sep - text) : len;
        size_t part_len;
        const char *item = trimmed((const uint8_t *)text, part, &part_len);

        json_array_append_new(list, api_json_text(item, part_len));
        len -= sep != NULL ? part + 1 : part;
        text += sep != NULL ? part + 1 : part;
    }
    return list;
}

static json_t *text_json(const char *text)
{
    return api_json_text(text != NULL ? text : "", text != NULL ? strlen(text) : 0);
}

static json_t *received_json(int64_t microseconds)
{
    time_t seconds = (time_t)(microseconds / 1000000);
    char text[32];
    struct tm tm;

    if (microseconds < 0 || gmtime_r(&seconds, &tm) == NULL)
        return json_string("");
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(text);
}

static json_t *column_value(const column *col, const cairn_index_row *row)
{
    const dcm_dataset *attributes = (const dcm_dataset *)row->attributes;
    const cairn_instance_file *file = row->file;
    const char *name;
    char uid[UID_MAX + 1];

    if (col->kind == TEXT || col->kind == INTEGER || col->kind == LIST)
        return attribute_value(attributes, col);
    if (col->kind == SOP_CLASS_NAME) {
        if (dcm_dataset_get_string(attributes, DCM_TAG(0x0008, 0x0016), 0, uid, sizeof uid) != 0)
            return json_string("");
        name = dcm_uid_name(uid);
        return text_json(name);
    }

    /* A back end that sets no file gets empty file values. */
    if (file == NULL)
        return json_string("");
    switch (col->kind) {
    case FILE_PATH: return text_json(file->path);
    case FILE_SIZE: return json_integer((json_int_t)file->size);
    case FILE_TS_UID: return text_json(file->transfer_syntax_uid);
    case FILE_TS_NAME:
        name = file->transfer_syntax_uid != NULL ? dcm_uid_name(file->transfer_syntax_uid) : NULL;
        return text_json(name);
    case FILE_RECEIVED: return received_json(file->received_at_us);
    case FILE_RECEIVED_US: return json_integer(file->received_at_us);
    case FILE_CALLING_AE: return text_json(file->calling_ae);
    default: return json_null();
    }
}

static int on_row(void *arg, const cairn_index_row *row)
{
    page *p = arg;
    json_t *item;

    if (p->seen++ < p->offset)
        return 0;
    if (json_array_size(p->items) == p->limit) {
        p->more = true;
        return 1;
    }

    item = json_object();
    for (size_t i = 0; item != NULL && i < p->spec->n_columns; i++) {
        const column *col = &p->spec->columns[i];

        if (json_object_set_new(item, col->key, column_value(col, row)) != 0) {
            json_decref(item);
            item = NULL;
        }
    }
    if (item == NULL || json_array_append_new(p->items, item) != 0) {
        p->failed = true;
        return 1;
    }
    return 0;
}

/* Parses a whole decimal number in [min, max]; false when the text is anything else. */
static bool parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;

    if (text[0] == '\0' || strlen(text) > 19)
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        value = value * 10 + (uint64_t)(*p - '0');
    }
    if (value < min || value > max)
        return false;
    *out = value;
    return true;
}

static bool valid_uid(const char *uid)
{
    size_t len = strlen(uid);

    if (len == 0 || len > UID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((uid[i] < '0' || uid[i] > '9') && uid[i] != '.')
            return false;
    }
    return true;
}

/* A Patient ID or Issuer: one LO value. */
static bool valid_lo(const char *text)
{
    size_t len = strlen(text);

    if (len == 0 || len > LO_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] < 0x20 || text[i] == '\\')
            return false;
    }
    return true;
}

/* Reads offset and limit; false after a 400 naming the bad value. */
static bool read_paging(const api_request *req, api_response *res, page *p)
{
    const char *offset = api_query_param(req, "offset");
    const char *limit = api_query_param(req, "limit");

    p->offset = 0;
    p->limit = DEFAULT_LIMIT;
    if (offset != NULL && !parse_count(offset, 0, MAX_OFFSET, &p->offset)) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "invalid offset \"%.64s\": use a whole "
                        "number from 0 to %llu", offset, MAX_OFFSET);
        return false;
    }
    if (limit != NULL && !parse_count(limit, 1, MAX_LIMIT, &p->limit)) {
        api_reply_error(res, MHD_HTTP_BAD_REQUEST, "invalid limit \"%.64s\": use a whole "
                        "number from 1 to %d", limit, MAX_LIMIT);
        return false;
    }
    return true;
}

/* Builds the index filter from the query; NULL after a 400 or 500 in res. */
static dcm_dataset *build_filter(const api_request *req, api_response *res)
{
    static const struct {
        const char *param;
        dcm_tag tag;
        dcm_vr vr;
        bool (*valid)(const char *);
        const char *expected;
    } filters[] = {
        {"patient_id", DCM_TAG(0x0010, 0x0020), DCM_VR_LO, valid_lo,
         "1 to 64 characters without a backslash or control character"},
        {"issuer", DCM_TAG(0x0010, 0x0021), DCM_VR_LO, valid_lo,
         "1 to 64 characters without a backslash or control character"},
        {"study_uid", DCM_TAG(0x0020, 0x000D), DCM_VR_UI, valid_uid,
         "a UID of 1 to 64 digits and dots"},
        {"series_uid", DCM_TAG(0x0020, 0x000E), DCM_VR_UI, valid_uid,
         "a UID of 1 to 64 digits and dots"},
    };
    dcm_dataset *filter = dcm_dataset_create();

    if (filter == NULL ||
        dcm_dataset_set_string(filter, DCM_TAG_SPECIFIC_CHARACTER_SET, DCM_VR_CS,
                               "ISO_IR 192") != 0)
        goto fail;
    for (size_t i = 0; i < COUNT_OF(filters); i++) {
        const char *value = api_query_param(req, filters[i].param);

        if (value == NULL)
            continue;
        if (!filters[i].valid(value)) {
            api_reply_error(res, MHD_HTTP_BAD_REQUEST, "invalid %s \"%.80s\": expected %s",
                            filters[i].param, value, filters[i].expected);
            dcm_dataset_destroy(filter);
            return NULL;
        }
        if (dcm_dataset_set_string(filter, filters[i].tag, filters[i].vr, value) != 0)
            goto fail;
    }
    return filter;

fail:
    dcm_dataset_destroy(filter);
    api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return NULL;
}

void api_list_level(const api_request *req, api_response *res, cairn_index_level level)
{
    const cairn_index_ops *ops = archive_index_ops(req->server->archive);
    page p = {.spec = spec_for(level)};
    dcm_dataset *filter = NULL;
    cairn_status status;

    if (api_check_params(req, res, all_params, p.spec->n_params) != 0 ||
        !read_paging(req, res, &p))
        return;
    filter = build_filter(req, res);
    if (filter == NULL)
        return;
    p.items = json_array();
    if (p.items == NULL) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }

    status = ops->list(archive_index_db(req->server->archive), level,
                       (const cairn_dataset *)filter, on_row, &p);
    if (p.failed) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory while listing");
        goto out;
    }
    if (status != CAIRN_OK) {
        api_reply_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "the index listing failed: %s",
                        cairn_strerror(status));
        goto out;
    }

    api_reply_json(res, MHD_HTTP_OK,
                   json_pack("{s:I, s:I, s:I, s:b, s:O}", "offset", (json_int_t)p.offset,
                             "limit", (json_int_t)p.limit,
                             "count", (json_int_t)json_array_size(p.items),
                             "more", p.more, "items", p.items));

out:
    json_decref(p.items);
    dcm_dataset_destroy(filter);
}
