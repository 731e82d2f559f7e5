/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of job requests (docs/jobs.md lists their members). Every
 * error names the member and the rejected value, so that the control API
 * can return it as is. Unknown members are rejected too, because a
 * misspelt optional member would otherwise be ignored without a word.
 */
#include "jobs/jobs_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_QUERY_RETRIEVE_LEVEL DCM_TAG(0x0008, 0x0052)
#define TAG_SPECIFIC_CHARACTER_SET DCM_TAG(0x0008, 0x0005)

static const char *const query_members[] = {"kind", "remote", "calling_ae", "model", "level",
                                            "keys", "max_results"};
static const char *const retrieve_members[] = {"kind", "remote", "calling_ae", "destination",
                                               "level", "study_uid", "series_uid",
                                               "sop_instance_uids"};
static const char *const send_members[] = {"kind", "remote", "calling_ae", "study_uid",
                                           "series_uid", "sop_instance_uids"};

static int invalid(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *jobs_kind_name(job_kind kind)
{
    switch (kind) {
    case JOB_QUERY: return "query";
    case JOB_RETRIEVE: return "retrieve";
    case JOB_SEND: return "send";
    }
    return "?";
}

const char *jobs_model_find_sop_class(job_model model)
{
    switch (model) {
    case JOB_MODEL_PATIENT: return "1.2.840.10008.5.1.4.1.2.1.1";
    case JOB_MODEL_STUDY: return "1.2.840.10008.5.1.4.1.2.2.1";
    case JOB_MODEL_PATIENT_STUDY: return "1.2.840.10008.5.1.4.1.2.3.1";
    }
    return NULL;
}

static int check_members(const jobs_json *json, const char *const *allowed, size_t n,
                         const char *kind, char *err, size_t errlen)
{
    for (size_t i = 0; i < json->count; i++) {
        size_t j = 0;

        while (j < n && strcmp(json->keys[i], allowed[j]) != 0)
            j++;
        if (j == n)
            return invalid(err, errlen, "%s: unknown member of a %s request", json->keys[i],
                           kind);
    }
    return 0;
}

/* Reads an optional string member; *out is NULL when absent or null. */
static int get_string(const jobs_json *json, const char *name, const char **out, char *err,
                      size_t errlen)
{
    const jobs_json *v = jobs_json_get(json, name);

    *out = NULL;
    if (v == NULL || v->type == JOBS_JSON_NULL)
        return 0;
    if (v->type != JOBS_JSON_STRING)
        return invalid(err, errlen, "%s: expected a string", name);
    *out = v->string;
    return 0;
}

/* Copies an AE title (1..16 characters, no control characters or backslash), trimmed. */
static int read_ae_title(const char *name, const char *value, char out[UL_AE_TITLE_MAX + 1],
                         char *err, size_t errlen)
{
    size_t start = 0, end = strlen(value);

    while (value[start] == ' ')
        start++;
    while (end > start && value[end - 1] == ' ')
        end--;
    if (end == start || end - start > UL_AE_TITLE_MAX)
        return invalid(err, errlen, "%s: invalid AE title \"%.64s\"; it must have 1 to 16 "
                       "characters", name, value);
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c < 0x20 || c > 0x7E || c == '\\')
            return invalid(err, errlen, "%s: invalid AE title \"%.64s\"; use printable ASCII "
                           "without backslash", name, value);
    }
    memcpy(out, value + start, end - start);
    out[end - start] = '\0';
    return 0;
}

static bool is_uid(const char *uid)
{
    size_t n = strlen(uid);

    if (n == 0 || n > UL_UID_MAX || uid[0] == '.' || uid[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (uid[i] != '.' && !isdigit((unsigned char)uid[i]))
            return false;
        if (uid[i] == '.' && uid[i + 1] == '.')
            return false;
    }
    return true;
}

static int read_uid(const jobs_json *json, const char *name, char out[UL_UID_MAX + 1],
                    char *err, size_t errlen)
{
    const char *value;

    if (get_string(json, name, &value, err, errlen) != 0)
        return -1;
    out[0] = '\0';
    if (value == NULL || value[0] == '\0')
        return 0;
    if (!is_uid(value))
        return invalid(err, errlen, "%s: invalid UID \"%.80s\"", name, value);
    snprintf(out, UL_UID_MAX + 1, "%s", value);
    return 0;
}

static int read_uid_list(const jobs_json *json, job_request *req, char *err, size_t errlen)
{
    const jobs_json *list = jobs_json_get(json, "sop_instance_uids");

    if (list == NULL || list->type == JOBS_JSON_NULL)
        return 0;
    if (list->type != JOBS_JSON_ARRAY)
        return invalid(err, errlen, "sop_instance_uids: expected an array of UIDs");
    if (list->count > JOBS_MAX_SOP_INSTANCE_UIDS)
        return invalid(err, errlen, "sop_instance_uids: %zu UIDs, more than the %d a request "
                       "may list", list->count, JOBS_MAX_SOP_INSTANCE_UIDS);
    if (list->count == 0)
        return 0;

    req->sop_instance_uids = calloc(list->count, sizeof *req->sop_instance_uids);
    if (req->sop_instance_uids == NULL)
        return invalid(err, errlen, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        const jobs_json *item = &list->items[i];

        if (item->type != JOBS_JSON_STRING || !is_uid(item->string))
            return invalid(err, errlen, "sop_instance_uids[%zu]: invalid UID \"%.80s\"", i,
                           item->type == JOBS_JSON_STRING ? item->string : "(not a string)");
        req->sop_instance_uids[i] = strdup(item->string);
        if (req->sop_instance_uids[i] == NULL)
            return invalid(err, errlen, "out of memory");
        req->n_sop_instance_uids++;
    }
    return 0;
}

/* Parses "0020000D" or "(0020,000D)"; -1 when it is neither. */
static int parse_tag(const char *text, dcm_tag *out)
{
    char digits[9];
    size_t n = strlen(text);
    char *end;

    if (n == 8) {
        memcpy(digits, text, 8);
    } else if (n == 11 && text[0] == '(' && text[5] == ',' && text[10] == ')') {
        memcpy(digits, text + 1, 4);
        memcpy(digits + 4, text + 6, 4);
    } else {
        return -1;
    }
    digits[8] = '\0';
    for (size_t i = 0; i < 8; i++) {
        if (!isxdigit((unsigned char)digits[i]))
            return -1;
    }
    *out = (dcm_tag)strtoul(digits, &end, 16);
    return 0;
}

/* Finds the tag and VR of a key given by keyword or tag. */
static int resolve_key(const char *name, dcm_tag *tag, dcm_vr *vr, char *err, size_t errlen)
{
    const dcm_dict_entry *entry;

    if (parse_tag(name, tag) == 0) {
        entry = dcm_dict_find(*tag);
        if (DCM_TAG_GROUP(*tag) % 2 == 1 || entry == NULL)
            return invalid(err, errlen, "keys.%s: tag %s is %s; name a standard attribute",
                           name, name, entry == NULL ? "not in the data dictionary"
                                                     : "private");
    } else {
        bool tag_like = name[0] == '(' || (strlen(name) == 8 && isxdigit((unsigned char)name[0])
                                           && isdigit((unsigned char)name[0]));

        entry = tag_like ? NULL : dcm_dict_find_keyword(name);
        if (entry == NULL)
            return invalid(err, errlen, tag_like ? "keys.%s: invalid tag \"%s\"; write it as "
                           "8 hexadecimal digits or (gggg,eeee)"
                           : "keys.%s: unknown keyword \"%s\"", name, name);
        *tag = entry->tag;
    }
    *vr = entry->vr;
    if (*tag == TAG_QUERY_RETRIEVE_LEVEL)
        return invalid(err, errlen, "keys.%s: set the Query/Retrieve Level with the member "
                       "\"level\"", name);
    if (*tag == TAG_SPECIFIC_CHARACTER_SET)
        return invalid(err, errlen, "keys.%s: values are UTF-8 text; the query sets Specific "
                       "Character Set itself", name);
    if (*vr == DCM_VR_SQ || !dcm_vr_is_string(*vr))
        return invalid(err, errlen, "keys.%s: attribute %08X has VR %s; only text attributes "
                       "can be keys", name, (unsigned)*tag, dcm_vr_name(*vr));
    return 0;
}

static int read_keys(const jobs_json *json, job_request *req, char *err, size_t errlen)
{
    const jobs_json *keys = jobs_json_get(json, "keys");

    if (keys == NULL || keys->type == JOBS_JSON_NULL)
        return 0;
    if (keys->type != JOBS_JSON_OBJECT)
        return invalid(err, errlen, "keys: expected an object of attribute names and values");
    if (keys->count == 0)
        return 0;

    req->keys = calloc(keys->count, sizeof *req->keys);
    if (req->keys == NULL)
        return invalid(err, errlen, "out of memory");
    for (size_t i = 0; i < keys->count; i++) {
        const jobs_json *value = &keys->items[i];
        job_key *key = &req->keys[req->n_keys];

        if (resolve_key(keys->keys[i], &key->tag, &key->vr, err, errlen) != 0)
            return -1;
        for (size_t j = 0; j < req->n_keys; j++) {
            if (req->keys[j].tag == key->tag)
                return invalid(err, errlen, "keys.%s: attribute %08X is given twice",
                               keys->keys[i], (unsigned)key->tag);
        }
        if (value->type != JOBS_JSON_STRING && value->type != JOBS_JSON_NULL)
            return invalid(err, errlen, "keys.%s: expected a string, or null or \"\" for a "
                           "return key", keys->keys[i]);
        key->value = strdup(value->type == JOBS_JSON_STRING ? value->string : "");
        if (key->value == NULL)
            return invalid(err, errlen, "out of memory");
        req->n_keys++;
    }
    return 0;
}

static int read_query(const jobs_json *json, job_request *req, char *err, size_t errlen)
{
    const char *model, *level;
    const jobs_json *max;

    if (get_string(json, "model", &model, err, errlen) != 0 ||
        get_string(json, "level", &level, err, errlen) != 0)
        return -1;

    if (model == NULL || strcmp(model, "study") == 0)
        req->model = JOB_MODEL_STUDY;
    else if (strcmp(model, "patient") == 0)
        req->model = JOB_MODEL_PATIENT;
    else if (strcmp(model, "patient-study") == 0)
        req->model = JOB_MODEL_PATIENT_STUDY;
    else
        return invalid(err, errlen, "model: unknown model \"%.40s\"; expected patient, study "
                       "or patient-study", model);

    if (level == NULL)
        level = req->model == JOB_MODEL_STUDY ? "STUDY" : "PATIENT";
    if (strcmp(level, "PATIENT") != 0 && strcmp(level, "STUDY") != 0 &&
        strcmp(level, "SERIES") != 0 && strcmp(level, "IMAGE") != 0)
        return invalid(err, errlen, "level: unknown level \"%.40s\"; expected PATIENT, STUDY, "
                       "SERIES or IMAGE", level);
    if (req->model == JOB_MODEL_STUDY && strcmp(level, "PATIENT") == 0)
        return invalid(err, errlen, "level: PATIENT is not a level of the study model; use "
                       "\"model\": \"patient\"");
    if (req->model == JOB_MODEL_PATIENT_STUDY && strcmp(level, "PATIENT") != 0 &&
        strcmp(level, "STUDY") != 0)
        return invalid(err, errlen, "level: %s is not a level of the patient-study model; use "
                       "PATIENT or STUDY", level);
    snprintf(req->level, sizeof req->level, "%s", level);

    max = jobs_json_get(json, "max_results");
    req->max_results = JOBS_DEFAULT_MAX_RESULTS;
    if (max != NULL && max->type != JOBS_JSON_NULL) {
        if (max->type != JOBS_JSON_NUMBER || max->number < 1 ||
            max->number > JOBS_MAX_RESULTS_LIMIT || max->number != (double)(size_t)max->number)
            return invalid(err, errlen, "max_results: expected an integer from 1 to %d",
                           JOBS_MAX_RESULTS_LIMIT);
        req->max_results = (size_t)max->number;
    }
    return read_keys(json, req, err, errlen);
}

/* Checks the UIDs a retrieve names against its level, inferring the level when absent. */
static int read_retrieve(const jobs_json *json, job_request *req, char *err, size_t errlen)
{
    const char *level;

    if (get_string(json, "level", &level, err, errlen) != 0)
        return -1;
    if (level == NULL)
        level = req->n_sop_instance_uids > 0 ? "IMAGE" : req->series_uid[0] ? "SERIES" : "STUDY";
    if (strcmp(level, "STUDY") != 0 && strcmp(level, "SERIES") != 0 &&
        strcmp(level, "IMAGE") != 0)
        return invalid(err, errlen, "level: unknown retrieve level \"%.40s\"; expected STUDY, "
                       "SERIES or IMAGE", level);
    snprintf(req->level, sizeof req->level, "%s", level);

    if (req->study_uid[0] == '\0')
        return invalid(err, errlen, "study_uid: missing; a retrieve names its study");
    if (strcmp(level, "STUDY") != 0 && req->series_uid[0] == '\0')
        return invalid(err, errlen, "series_uid: missing; a %s retrieve names its series",
                       level);
    if (strcmp(level, "IMAGE") == 0 && req->n_sop_instance_uids == 0)
        return invalid(err, errlen, "sop_instance_uids: missing; an IMAGE retrieve lists "
                       "the instances");
    if (strcmp(level, "STUDY") == 0 && req->series_uid[0] != '\0')
        return invalid(err, errlen, "series_uid: not allowed at level STUDY");
    if (strcmp(level, "IMAGE") != 0 && req->n_sop_instance_uids > 0)
        return invalid(err, errlen, "sop_instance_uids: only allowed at level IMAGE");
    return 0;
}

/* Checks that title is one of our AEs. */
static int check_local_ae(const cairn_conf *conf, const char *name, const char *title,
                          char *err, size_t errlen)
{
    if (conf == NULL || conf_find_ae(conf, title) != NULL)
        return 0;
    return invalid(err, errlen, "%s: \"%s\" is not an AE of this archive (aes)", name, title);
}

static int parse(const jobs_json *json, const cairn_conf *conf, job_request *req, char *err,
                 size_t errlen)
{
    const char *kind, *remote, *calling, *destination;

    if (json == NULL || json->type != JOBS_JSON_OBJECT)
        return invalid(err, errlen, "request: expected a JSON object");
    if (get_string(json, "kind", &kind, err, errlen) != 0)
        return -1;
    if (kind == NULL)
        return invalid(err, errlen, "kind: missing; expected query, retrieve or send");
    if (strcmp(kind, "query") == 0)
        req->kind = JOB_QUERY;
    else if (strcmp(kind, "retrieve") == 0)
        req->kind = JOB_RETRIEVE;
    else if (strcmp(kind, "send") == 0)
        req->kind = JOB_SEND;
    else
        return invalid(err, errlen, "kind: unknown kind \"%.40s\"; expected query, retrieve or "
                       "send", kind);

    if ((req->kind == JOB_QUERY &&
         check_members(json, query_members, sizeof query_members / sizeof query_members[0],
                       kind, err, errlen) != 0) ||
        (req->kind == JOB_RETRIEVE &&
         check_members(json, retrieve_members,
                       sizeof retrieve_members / sizeof retrieve_members[0], kind, err,
                       errlen) != 0) ||
        (req->kind == JOB_SEND &&
         check_members(json, send_members, sizeof send_members / sizeof send_members[0], kind,
                       err, errlen) != 0))
        return -1;

    if (get_string(json, "remote", &remote, err, errlen) != 0 ||
        get_string(json, "calling_ae", &calling, err, errlen) != 0 ||
        get_string(json, "destination", &destination, err, errlen) != 0)
        return -1;
    if (remote == NULL)
        return invalid(err, errlen, "remote: missing; name a remote AE of the configuration");
    if (read_ae_title("remote", remote, req->remote, err, errlen) != 0)
        return -1;
    if (conf != NULL && conf_find_remote(conf, req->remote) == NULL)
        return invalid(err, errlen, "remote: \"%s\" is not a configured remote AE (remotes)",
                       req->remote);
    if (calling != NULL && (read_ae_title("calling_ae", calling, req->calling_ae, err,
                                          errlen) != 0 ||
                            check_local_ae(conf, "calling_ae", req->calling_ae, err,
                                           errlen) != 0))
        return -1;

    if (req->kind == JOB_QUERY)
        return read_query(json, req, err, errlen);

    if (read_uid(json, "study_uid", req->study_uid, err, errlen) != 0 ||
        read_uid(json, "series_uid", req->series_uid, err, errlen) != 0 ||
        read_uid_list(json, req, err, errlen) != 0)
        return -1;

    if (req->kind == JOB_SEND) {
        if (req->study_uid[0] == '\0' && req->series_uid[0] == '\0' &&
            req->n_sop_instance_uids == 0)
            return invalid(err, errlen, "study_uid: missing; a send names a study, a series "
                           "or sop_instance_uids");
        return 0;
    }

    if (destination == NULL)
        return invalid(err, errlen, "destination: missing; name the AE of this archive that "
                       "receives the instances");
    if (read_ae_title("destination", destination, req->destination, err, errlen) != 0 ||
        check_local_ae(conf, "destination", req->destination, err, errlen) != 0)
        return -1;
    return read_retrieve(json, req, err, errlen);
}

int jobs_request_parse(const jobs_json *json, const cairn_conf *conf, job_request *req,
                       char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (parse(json, conf, req, err, errlen) != 0) {
        jobs_request_free(req);
        return -1;
    }
    return 0;
}

void jobs_request_free(job_request *req)
{
    for (size_t i = 0; i < req->n_keys; i++)
        free(req->keys[i].value);
    free(req->keys);
    for (size_t i = 0; i < req->n_sop_instance_uids; i++)
        free(req->sop_instance_uids[i]);
    free(req->sop_instance_uids);
    memset(req, 0, sizeof *req);
}
