/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listing commands (patients, studies, series, instances): one index
 * listing of a level, each row turned into the level's columns and written
 * as a table or as JSON. The column tables below fix the JSON keys. Scripts
 * depend on them, so change them only by adding keys.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "dcm/dcm.h"

/* Where a column's value comes from. */
typedef enum value_source {
    FROM_TAG,              /* the row's attribute `tag` */
    FROM_SOP_CLASS_NAME,   /* name of the SOP Class UID, empty when unknown */
    FROM_SOP_CLASS_LABEL,  /* that name, or the UID when unknown */
    FROM_FILE_PATH,        /* path relative to the storage folder */
    FROM_FILE_SIZE,        /* bytes */
    FROM_FILE_TS_UID,      /* transfer syntax UID as stored */
    FROM_FILE_TS_NAME,     /* its name, empty when unknown */
    FROM_FILE_TS_LABEL,    /* its name, or the UID when unknown */
    FROM_FILE_RECEIVED,    /* ISO 8601 UTC time, whole seconds */
    FROM_FILE_RECEIVED_US, /* microseconds since the Unix epoch */
    FROM_FILE_CALLING_AE
} value_source;

typedef struct level_column {
    cli_column column;
    value_source source;
    dcm_tag tag;
} level_column;

#define TEXT(key, header, tag) {{key, header, CLI_VALUE_TEXT}, FROM_TAG, tag}
#define INTEGER(key, header, tag) {{key, header, CLI_VALUE_INTEGER}, FROM_TAG, tag}
#define LIST(key, header, tag) {{key, header, CLI_VALUE_LIST}, FROM_TAG, tag}
#define DERIVED(key, header, kind, source) {{key, header, kind}, source, 0}

static const level_column patient_columns[] = {
    TEXT("patient_id", "Patient ID", DCM_TAG(0x0010, 0x0020)),
    TEXT("issuer", "Issuer", DCM_TAG(0x0010, 0x0021)),
    TEXT("name", "Name", DCM_TAG(0x0010, 0x0010)),
    TEXT("birth_date", "Birth Date", DCM_TAG(0x0010, 0x0030)),
    TEXT("sex", "Sex", DCM_TAG(0x0010, 0x0040)),
    INTEGER("study_count", "Studies", DCM_TAG(0x0020, 0x1200)),
    INTEGER("series_count", "Series", DCM_TAG(0x0020, 0x1202)),
    INTEGER("instance_count", "Instances", DCM_TAG(0x0020, 0x1204)),
};

static const level_column study_columns[] = {
    TEXT("patient_id", "Patient ID", DCM_TAG(0x0010, 0x0020)),
    TEXT("issuer", NULL, DCM_TAG(0x0010, 0x0021)),
    TEXT("patient_name", NULL, DCM_TAG(0x0010, 0x0010)),
    TEXT("patient_birth_date", NULL, DCM_TAG(0x0010, 0x0030)),
    TEXT("patient_sex", NULL, DCM_TAG(0x0010, 0x0040)),
    TEXT("study_instance_uid", "Study Instance UID", DCM_TAG(0x0020, 0x000D)),
    TEXT("study_date", "Date", DCM_TAG(0x0008, 0x0020)),
    TEXT("study_time", NULL, DCM_TAG(0x0008, 0x0030)),
    TEXT("accession_number", "Accession", DCM_TAG(0x0008, 0x0050)),
    TEXT("study_id", NULL, DCM_TAG(0x0020, 0x0010)),
    TEXT("referring_physician", NULL, DCM_TAG(0x0008, 0x0090)),
    TEXT("description", "Description", DCM_TAG(0x0008, 0x1030)),
    LIST("modalities", "Modalities", DCM_TAG(0x0008, 0x0061)),
    LIST("sop_classes", NULL, DCM_TAG(0x0008, 0x0062)),
    INTEGER("series_count", "Series", DCM_TAG(0x0020, 0x1206)),
    INTEGER("instance_count", "Instances", DCM_TAG(0x0020, 0x1208)),
};

static const level_column series_columns[] = {
    TEXT("patient_id", NULL, DCM_TAG(0x0010, 0x0020)),
    TEXT("issuer", NULL, DCM_TAG(0x0010, 0x0021)),
    TEXT("study_instance_uid", NULL, DCM_TAG(0x0020, 0x000D)),
    TEXT("series_instance_uid", "Series Instance UID", DCM_TAG(0x0020, 0x000E)),
    TEXT("modality", "Modality", DCM_TAG(0x0008, 0x0060)),
    INTEGER("series_number", "Number", DCM_TAG(0x0020, 0x0011)),
    TEXT("description", "Description", DCM_TAG(0x0008, 0x103E)),
    INTEGER("instance_count", "Instances", DCM_TAG(0x0020, 0x1209)),
};

static const level_column instance_columns[] = {
    TEXT("patient_id", NULL, DCM_TAG(0x0010, 0x0020)),
    TEXT("issuer", NULL, DCM_TAG(0x0010, 0x0021)),
    TEXT("study_instance_uid", NULL, DCM_TAG(0x0020, 0x000D)),
    TEXT("series_instance_uid", NULL, DCM_TAG(0x0020, 0x000E)),
    TEXT("sop_instance_uid", "SOP Instance UID", DCM_TAG(0x0008, 0x0018)),
    TEXT("sop_class_uid", NULL, DCM_TAG(0x0008, 0x0016)),
    DERIVED("sop_class_name", NULL, CLI_VALUE_TEXT, FROM_SOP_CLASS_NAME),
    DERIVED(NULL, "SOP Class", CLI_VALUE_TEXT, FROM_SOP_CLASS_LABEL),
    INTEGER("instance_number", "Number", DCM_TAG(0x0020, 0x0013)),
    DERIVED("transfer_syntax_uid", NULL, CLI_VALUE_TEXT, FROM_FILE_TS_UID),
    DERIVED("transfer_syntax_name", NULL, CLI_VALUE_TEXT, FROM_FILE_TS_NAME),
    DERIVED(NULL, "Transfer Syntax", CLI_VALUE_TEXT, FROM_FILE_TS_LABEL),
    DERIVED("size", "Size", CLI_VALUE_INTEGER, FROM_FILE_SIZE),
    DERIVED("received_at", "Received (UTC)", CLI_VALUE_TEXT, FROM_FILE_RECEIVED),
    DERIVED("received_at_us", NULL, CLI_VALUE_INTEGER, FROM_FILE_RECEIVED_US),
    DERIVED("calling_ae", "Calling AE", CLI_VALUE_TEXT, FROM_FILE_CALLING_AE),
    DERIVED("path", "Path", CLI_VALUE_TEXT, FROM_FILE_PATH),
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

typedef struct list_context {
    const level_column *spec;
    size_t n_columns;
    cli_column *columns;
    char **values; /* n_columns strings of the current row */
    cli_table *table;
    cli_json json;
    bool use_json;
    bool failed;
} list_context;

/* Returns a copy of the attribute's whole value without padding, "" when absent. */
static char *attribute_text(const dcm_dataset *row, dcm_tag tag)
{
    const dcm_element *element = dcm_dataset_find(row, tag);
    const uint8_t *value;
    size_t start = 0;
    size_t end;

    if (element == NULL || (value = dcm_element_value(element)) == NULL)
        return strdup("");

    end = dcm_element_length(element);
    while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\0'))
        end--;
    while (start < end && value[start] == ' ')
        start++;
    return strndup((const char *)value + start, end - start);
}

static char *text_or_empty(const char *text)
{
    return strdup(text != NULL ? text : "");
}

static char *format_integer(int64_t number)
{
    char text[24];

    snprintf(text, sizeof(text), "%" PRId64, number);
    return strdup(text);
}

static char *format_utc_time(int64_t microseconds)
{
    char text[32];
    time_t seconds = (time_t)(microseconds / 1000000);
    struct tm tm;

    if (microseconds < 0 || gmtime_r(&seconds, &tm) == NULL)
        return strdup("");
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(text);
}

/* Returns the name of a UID known to the dictionary, or fallback. */
static char *uid_name(const char *uid, const char *fallback)
{
    const char *name = uid != NULL && *uid != '\0' ? dcm_uid_name(uid) : NULL;

    return text_or_empty(name != NULL ? name : fallback);
}

static char *column_value(const level_column *column, const cairn_index_row *row)
{
    const dcm_dataset *attributes = (const dcm_dataset *)row->attributes;
    const cairn_instance_file *file = row->file;
    char *sop_class;
    char *result;

    if (column->source == FROM_TAG)
        return attribute_text(attributes, column->tag);

    if (column->source == FROM_SOP_CLASS_NAME || column->source == FROM_SOP_CLASS_LABEL) {
        sop_class = attribute_text(attributes, DCM_TAG(0x0008, 0x0016));
        if (sop_class == NULL)
            return NULL;
        result = uid_name(sop_class, column->source == FROM_SOP_CLASS_LABEL ? sop_class : "");
        free(sop_class);
        return result;
    }

    /* Instance file columns: a back end that sets no file gets empty values. */
    if (file == NULL)
        return strdup("");
    switch (column->source) {
    case FROM_FILE_PATH: return text_or_empty(file->path);
    case FROM_FILE_SIZE: return format_integer((int64_t)file->size);
    case FROM_FILE_TS_UID: return text_or_empty(file->transfer_syntax_uid);
    case FROM_FILE_TS_NAME: return uid_name(file->transfer_syntax_uid, "");
    case FROM_FILE_TS_LABEL: return uid_name(file->transfer_syntax_uid, file->transfer_syntax_uid);
    case FROM_FILE_RECEIVED: return format_utc_time(file->received_at_us);
    case FROM_FILE_RECEIVED_US: return format_integer(file->received_at_us);
    case FROM_FILE_CALLING_AE: return text_or_empty(file->calling_ae);
    default: break;
    }
    return strdup("");
}

static int on_row(void *arg, const cairn_index_row *row)
{
    list_context *context = arg;
    int result = 0;

    for (size_t i = 0; i < context->n_columns; i++) {
        context->values[i] = column_value(&context->spec[i], row);
        if (context->values[i] == NULL) {
            cli_error("out of memory while listing");
            result = 1;
            goto out;
        }
    }

    if (context->use_json) {
        cli_json_add(&context->json, (const char *const *)context->values);
    } else if (cli_table_add(context->table, (const char *const *)context->values) != 0) {
        cli_error("out of memory while listing");
        result = 1;
    }

out:
    for (size_t i = 0; i < context->n_columns; i++) {
        free(context->values[i]);
        context->values[i] = NULL;
    }
    if (result != 0)
        context->failed = true;
    return result;
}

/* Builds the index filter: a data set of the keys given, in UTF-8. */
static dcm_dataset *build_filter(const cli_list_filter *filter)
{
    dcm_dataset *dataset = dcm_dataset_create();
    int rc;

    if (dataset == NULL)
        return NULL;

    rc = dcm_dataset_set_string(dataset, DCM_TAG_SPECIFIC_CHARACTER_SET, DCM_VR_CS,
                                "ISO_IR 192");
    if (rc == 0 && filter->patient_id != NULL)
        rc = dcm_dataset_set_string(dataset, DCM_TAG(0x0010, 0x0020), DCM_VR_LO,
                                    filter->patient_id);
    if (rc == 0 && filter->issuer != NULL)
        rc = dcm_dataset_set_string(dataset, DCM_TAG(0x0010, 0x0021), DCM_VR_LO, filter->issuer);
    if (rc == 0 && filter->study_uid != NULL)
        rc = dcm_dataset_set_string(dataset, DCM_TAG(0x0020, 0x000D), DCM_VR_UI,
                                    filter->study_uid);
    if (rc == 0 && filter->series_uid != NULL)
        rc = dcm_dataset_set_string(dataset, DCM_TAG(0x0020, 0x000E), DCM_VR_UI,
                                    filter->series_uid);
    if (rc != 0) {
        dcm_dataset_destroy(dataset);
        return NULL;
    }
    return dataset;
}

static void select_columns(cairn_index_level level, list_context *context)
{
    switch (level) {
    case CAIRN_LEVEL_PATIENT:
        context->spec = patient_columns;
        context->n_columns = COUNT_OF(patient_columns);
        return;
    case CAIRN_LEVEL_STUDY:
        context->spec = study_columns;
        context->n_columns = COUNT_OF(study_columns);
        return;
    case CAIRN_LEVEL_SERIES:
        context->spec = series_columns;
        context->n_columns = COUNT_OF(series_columns);
        return;
    default:
        context->spec = instance_columns;
        context->n_columns = COUNT_OF(instance_columns);
        return;
    }
}

int cli_list(cli_archive *archive, cairn_index_level level, const cli_list_filter *filter,
             bool json)
{
    list_context context = {.use_json = json};
    dcm_dataset *filter_dataset = NULL;
    cairn_status status;
    int result = CLI_EXIT_FAILURE;

    select_columns(level, &context);
    context.columns = calloc(context.n_columns, sizeof(*context.columns));
    context.values = calloc(context.n_columns, sizeof(*context.values));
    filter_dataset = build_filter(filter);
    if (context.columns == NULL || context.values == NULL || filter_dataset == NULL) {
        cli_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < context.n_columns; i++)
        context.columns[i] = context.spec[i].column;

    if (json) {
        cli_json_begin(&context.json, context.columns, context.n_columns, stdout);
    } else {
        context.table = cli_table_create(context.columns, context.n_columns, stdout);
        if (context.table == NULL) {
            cli_error("out of memory");
            goto out;
        }
    }

    status = archive->ops->list(archive->db, level, (const cairn_dataset *)filter_dataset, on_row,
                                &context);
    if (status != CAIRN_OK) {
        cli_error("listing the index failed: %s (back end '%s')", cairn_strerror(status),
                  archive->ops->name);
        goto out;
    }
    if (context.failed)
        goto out;

    if (json)
        cli_json_end(&context.json);
    else
        cli_table_finish(context.table);
    result = CLI_EXIT_OK;

out:
    cli_table_destroy(context.table);
    dcm_dataset_destroy(filter_dataset);
    free(context.values);
    free(context.columns);
    return result;
}
