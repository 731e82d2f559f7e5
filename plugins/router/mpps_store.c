/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Modality Performed Procedure Step as the index keeps it (the index's
 * mpps table): searchable columns (status, study, modality, start) and a
 * JSON document with a summary for the control API and the whole data
 * set, encoded in explicit VR little endian and base64, from which the
 * next N-SET starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

#define TAG_MODALITY CAIRN_TAG(0x0008, 0x0060)

/* Copies the text value of tag into buf ("" when absent or too long). */
static void text_of(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag,
                    char *buf, size_t size)
{
    if (api->dataset_get_string(ds, tag, 0, buf, size) != CAIRN_OK)
        buf[0] = '\0';
}

/* Appends "name":"value" with value converted to UTF-8, then a comma. */
static void append_utf8_member(const cairn_host_api *api, router_text *text,
                               const cairn_dataset *ds, cairn_tag tag, const char *name)
{
    char *value = NULL;

    if (api->dataset_get_utf8(ds, tag, &value) != CAIRN_OK)
        value = NULL;
    text_appendf(text, "\"%s\":", name);
    text_append_json_string(text, value != NULL ? value : "");
    text_append(text, ",");
    if (value != NULL)
        api->free(value);
}

/* Joins a DA and a TM value into YYYYMMDDHHMMSS, dropping separators and fractions. */
static void join_datetime(const char *date, const char *time, char out[15])
{
    size_t n = 0;

    for (const char *p = date; *p != '\0' && n < 8; p++) {
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    }
    for (const char *p = time; *p != '\0' && *p != '.' && n < 14; p++) {
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    }
    out[n] = '\0';
}

static void append_series(const cairn_host_api *api, router_text *text, const cairn_dataset *ds)
{
    const cairn_element *seq = api->dataset_find(ds, TAG_PERFORMED_SERIES_SEQUENCE);
    size_t count = seq != NULL ? api->element_item_count(seq) : 0;

    text_append(text, "\"series\":[");
    for (size_t i = 0; i < count; i++) {
        const cairn_dataset *item = api->element_item(seq, i);
        const cairn_element *images, *others;
        char uid[65];
        size_t instances = 0;

        if (item == NULL)
            continue;
        text_of(api, item, TAG_SERIES_INSTANCE_UID, uid, sizeof uid);
        images = api->dataset_find(item, TAG_REFERENCED_IMAGE_SEQUENCE);
        others = api->dataset_find(item, TAG_REFERENCED_NON_IMAGE_SEQUENCE);
        instances += images != NULL ? api->element_item_count(images) : 0;
        instances += others != NULL ? api->element_item_count(others) : 0;
        text_append(text, i > 0 ? ",{" : "{");
        text_append(text, "\"uid\":");
        text_append_json_string(text, uid);
        text_append(text, ",");
        append_utf8_member(api, text, item, CAIRN_TAG(0x0008, 0x103E), "description");
        text_appendf(text, "\"instances\":%zu}", instances);
    }
    text_append(text, "],");
}

static char *format_document(const cairn_host_api *api, const cairn_dataset *ds,
                             const char *called_ae, const uint8_t *bytes, size_t length)
{
    router_text text = {0};
    char date[32], time[32], end[15];

    text_append(&text, "{\"called_ae\":");
    text_append_json_string(&text, called_ae);
    text_append(&text, ",");
    append_utf8_member(api, &text, ds, TAG_PPS_ID, "pps_id");
    append_utf8_member(api, &text, ds, CAIRN_TAG(0x0010, 0x0010), "patient_name");
    append_utf8_member(api, &text, ds, CAIRN_TAG(0x0010, 0x0020), "patient_id");
    append_utf8_member(api, &text, ds, CAIRN_TAG(0x0040, 0x0254), "description");
    append_utf8_member(api, &text, ds, CAIRN_TAG(0x0040, 0x0241), "station_ae");
    text_of(api, ds, TAG_PPS_END_DATE, date, sizeof date);
    text_of(api, ds, TAG_PPS_END_TIME, time, sizeof time);
    join_datetime(date, time, end);
    text_append(&text, "\"end_datetime\":");
    text_append_json_string(&text, end);
    text_append(&text, ",");
    append_series(api, &text, ds);
    text_append(&text, "\"dataset\":\"");
    text_append_base64(&text, bytes, length);
    text_append(&text, "\"}");
    if (text.failed) {
        free(text.data);
        return NULL;
    }
    return text.data;
}

cairn_status mpps_save(router *rt, const char *uid, const cairn_dataset *ds,
                       const char *calling_ae, const char *called_ae, int64_t created_at_us,
                       bool create)
{
    const cairn_host_api *api = rt->api;
    const cairn_element *scheduled;
    char status[32], study[65] = "", modality[17], date[32], time[32], start[15];
    uint8_t *bytes = NULL;
    size_t length = 0;
    char *document;
    cairn_status st;

    st = api->dataset_encode(ds, &bytes, &length);
    if (st != CAIRN_OK)
        return st;
    document = format_document(api, ds, called_ae, bytes, length);
    api->free(bytes);
    if (document == NULL)
        return CAIRN_ERR_NO_MEMORY;

    text_of(api, ds, TAG_PPS_STATUS, status, sizeof status);
    text_of(api, ds, TAG_MODALITY, modality, sizeof modality);
    text_of(api, ds, TAG_PPS_START_DATE, date, sizeof date);
    text_of(api, ds, TAG_PPS_START_TIME, time, sizeof time);
    join_datetime(date, time, start);
    scheduled = api->dataset_find(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);
    if (scheduled != NULL && api->element_item_count(scheduled) > 0)
        text_of(api, api->element_item(scheduled, 0), TAG_STUDY_INSTANCE_UID, study,
                sizeof study);

    {
        cairn_mpps_step step = {
            .struct_size = sizeof step,
            .sop_instance_uid = uid,
            .status = status,
            .study_instance_uid = study,
            .modality = modality,
            .start_datetime = start,
            .calling_ae = calling_ae,
            .created_at_us = created_at_us,
            .updated_at_us = router_now_us(),
            .document = document,
        };

        st = api->archive_mpps_put(&step, create);
    }
    free(document);
    return st;
}

cairn_dataset *mpps_document_dataset(const cairn_host_api *api, const char *document)
{
    char *encoded = json_get_string(document, "dataset");
    cairn_dataset *ds = NULL;
    uint8_t *bytes;
    size_t length = 0;

    if (encoded == NULL)
        return NULL;
    bytes = base64_decode(encoded, &length);
    free(encoded);
    if (bytes == NULL)
        return NULL;
    if (api->dataset_decode(bytes, length, &ds) != CAIRN_OK)
        ds = NULL;
    free(bytes);
    return ds;
}

/* What mpps_load's callback copies out of the kept step. */
typedef struct loaded_step {
    const cairn_host_api *api;
    cairn_dataset *dataset;
    char *calling_ae;
    size_t calling_ae_size;
    int64_t created_at_us;
} loaded_step;

static int take_step(void *arg, const cairn_mpps_step *step)
{
    loaded_step *loaded = arg;

    loaded->dataset = mpps_document_dataset(loaded->api, step->document);
    snprintf(loaded->calling_ae, loaded->calling_ae_size, "%s",
             step->calling_ae != NULL ? step->calling_ae : "");
    loaded->created_at_us = step->created_at_us;
    return 1;
}

cairn_dataset *mpps_load(router *rt, const char *uid, char *calling_ae, size_t size,
                         int64_t *created_at_us, cairn_status *st)
{
    loaded_step loaded = {.api = rt->api, .calling_ae = calling_ae, .calling_ae_size = size};

    *st = rt->api->archive_mpps_get(uid, take_step, &loaded);
    if (*st == CAIRN_OK && loaded.dataset == NULL)
        *st = CAIRN_ERR_PARSE;
    *created_at_us = loaded.created_at_us;
    return loaded.dataset;
}
