/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Study completion and its notification to the RIS. A study is complete
 * when no instance of it has been stored for study_idle_seconds. It is
 * complete earlier when none of its MPPS steps is IN PROGRESS, at least
 * one is COMPLETED, and every instance the COMPLETED steps list in their
 * Performed Series Sequence is archived. The notification names every archived
 * instance of the study; instances stored after it start a new round and
 * an updated notification. The studies waiting for completion are kept as
 * index documents ("router-study:" + Study Instance UID), so a restart
 * still notifies them. Their idle time then starts again from zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

#define TAG_SPECIFIC_CHARACTER_SET CAIRN_TAG(0x0008, 0x0005)
#define TAG_SOP_CLASS_UID CAIRN_TAG(0x0008, 0x0016)
#define TAG_SOP_INSTANCE_UID CAIRN_TAG(0x0008, 0x0018)
#define TAG_ACCESSION_NUMBER CAIRN_TAG(0x0008, 0x0050)
#define TAG_RETRIEVE_AE_TITLE CAIRN_TAG(0x0008, 0x0054)
#define TAG_INSTANCE_AVAILABILITY CAIRN_TAG(0x0008, 0x0056)
#define TAG_REFERENCED_PPS_SEQUENCE CAIRN_TAG(0x0008, 0x1111)
#define TAG_REFERENCED_SERIES_SEQUENCE CAIRN_TAG(0x0008, 0x1115)
#define TAG_REFERENCED_SOP_SEQUENCE CAIRN_TAG(0x0008, 0x1199)
#define TAG_PATIENT_NAME CAIRN_TAG(0x0010, 0x0010)
#define TAG_PATIENT_ID CAIRN_TAG(0x0010, 0x0020)
#define TAG_STUDY_ID CAIRN_TAG(0x0020, 0x0010)
#define TAG_PERFORMED_WORKITEM_CODE_SEQUENCE CAIRN_TAG(0x0040, 0x4019)

/* Most instances one notification names; more are left out with a warning. */
#define MAX_NOTIFIED_INSTANCES 100000

/* --- Tracking, on the storing threads and the delivery thread. --- */

static router_study *find_study(router *rt, const char *uid)
{
    for (router_study *s = rt->studies; s != NULL; s = s->next) {
        if (strcmp(s->uid, uid) == 0)
            return s;
    }
    return NULL;
}

/* Returns the study uid, adding it when absent and then setting *added. Call with rt->lock held. */
static router_study *track(router *rt, const char *uid, bool *added)
{
    router_study *s = find_study(rt, uid);

    *added = false;
    if (s != NULL)
        return s;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    snprintf(s->uid, sizeof s->uid, "%s", uid);
    s->next = rt->studies;
    rt->studies = s;
    *added = true;
    return s;
}

/* Writes the document of a study waiting for its notification. Returns true once written. */
static bool save_study_document(router *rt, const char *uid)
{
    char id[96], document[64];
    cairn_status st;

    snprintf(id, sizeof id, "%s%s", STUDY_ID_PREFIX, uid);
    snprintf(document, sizeof document, "{\"since_us\":%lld}", (long long)router_now_us());
    st = rt->api->archive_document_put(id, document);
    if (st != CAIRN_OK)
        rt->api->log(rt->self, CAIRN_LOG_WARN, "study %s: cannot record that it waits for its "
                     "notification: %s; the delivery thread tries again", uid,
                     cairn_strerror(st));
    return st == CAIRN_OK;
}

/* Marks study uid saved, when it is still tracked. */
static void mark_saved(router *rt, const char *uid)
{
    router_study *s;

    pthread_mutex_lock(&rt->lock);
    s = find_study(rt, uid);
    if (s != NULL)
        s->saved = true;
    pthread_mutex_unlock(&rt->lock);
}

void router_on_instance_stored(void *arg, const cairn_dataset *attributes,
                               const cairn_instance_file *file)
{
    router *rt = arg;
    char uid[65];
    router_study *s;
    bool added = false, wake = false;

    (void)file;
    if (rt->api->dataset_get_string(attributes, TAG_STUDY_INSTANCE_UID, 0, uid, sizeof uid) !=
            CAIRN_OK || !mpps_valid_uid(uid))
        return;

    pthread_mutex_lock(&rt->lock);
    s = track(rt, uid, &added);
    if (s != NULL) {
        wake = added || s->last_arrival_us == 0 || (s->has_final_step && !s->check_mpps);
        s->last_arrival_us = router_now_us();
        if (s->has_final_step)
            s->check_mpps = true;
        if (wake) {
            rt->work_pending = true;
            pthread_cond_signal(&rt->wake);
        }
    }
    pthread_mutex_unlock(&rt->lock);

    /*
     * The first instance of a round records the study before its C-STORE
     * response, so that a crash right after the response still leaves the
     * notification due. Later instances of the round cost no write.
     */
    if (added && save_study_document(rt, uid))
        mark_saved(rt, uid);
}

void router_note_final_step(router *rt, const char *study_uid)
{
    router_study *s;
    bool added = false;

    if (rt->notify_remote_count == 0)
        return;
    pthread_mutex_lock(&rt->lock);
    s = track(rt, study_uid, &added);
    if (s != NULL) {
        s->has_final_step = true;
        s->check_mpps = true;
        rt->work_pending = true;
        pthread_cond_signal(&rt->wake);
    }
    pthread_mutex_unlock(&rt->lock);
}

static int load_study(void *arg, const char *id, const char *document)
{
    router *rt = arg;
    const char *uid = id + strlen(STUDY_ID_PREFIX);
    router_study *s;
    bool added = false;

    (void)document;
    if (!mpps_valid_uid(uid))
        return 0;
    pthread_mutex_lock(&rt->lock);
    s = track(rt, uid, &added);
    if (s != NULL) {
        s->last_arrival_us = router_now_us();
        s->has_final_step = true;
        s->check_mpps = true;
        s->saved = true;
    }
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

/* Removes a notified study from tracking and its document from the index. */
static void untrack(router *rt, const char *uid, int64_t tracked_arrival_us)
{
    router_study **link;
    char id[96];
    bool removed = false;

    pthread_mutex_lock(&rt->lock);
    for (link = &rt->studies; *link != NULL; link = &(*link)->next) {
        router_study *s = *link;

        if (strcmp(s->uid, uid) != 0)
            continue;
        /* An instance stored while the notification was built starts the next round. */
        if (s->last_arrival_us == tracked_arrival_us) {
            *link = s->next;
            free(s);
            removed = true;
        }
        break;
    }
    pthread_mutex_unlock(&rt->lock);
    if (removed) {
        snprintf(id, sizeof id, "%s%s", STUDY_ID_PREFIX, uid);
        rt->api->archive_document_delete(id);
    }
}

/* --- What the index contains about one study. --- */

typedef struct study_instance {
    char series_uid[65];
    char sop_uid[65];
    char sop_class[65];
} study_instance;

typedef struct study_content {
    const cairn_host_api *api;
    study_instance *instances;
    size_t count, capacity;
    bool truncated;
    bool failed;
} study_content;

static int add_instance(void *arg, const cairn_index_row *row)
{
    study_content *c = arg;
    study_instance *i;

    if (c->count == MAX_NOTIFIED_INSTANCES) {
        c->truncated = true;
        return 1;
    }
    if (c->count == c->capacity) {
        size_t capacity = c->capacity ? c->capacity * 2 : 64;
        study_instance *grown = realloc(c->instances, capacity * sizeof *grown);

        if (grown == NULL) {
            c->failed = true;
            return 1;
        }
        c->instances = grown;
        c->capacity = capacity;
    }
    i = &c->instances[c->count];
    if (c->api->dataset_get_string(row->attributes, TAG_SERIES_INSTANCE_UID, 0, i->series_uid,
                                   sizeof i->series_uid) != CAIRN_OK ||
        c->api->dataset_get_string(row->attributes, TAG_SOP_INSTANCE_UID, 0, i->sop_uid,
                                   sizeof i->sop_uid) != CAIRN_OK ||
        c->api->dataset_get_string(row->attributes, TAG_SOP_CLASS_UID, 0, i->sop_class,
                                   sizeof i->sop_class) != CAIRN_OK)
        return 0;
    c->count++;
    return 0;
}

static cairn_status query_instances(router *rt, const char *study_uid, study_content *content)
{
    const cairn_host_api *api = rt->api;
    cairn_dataset *keys = api->dataset_create();
    cairn_index_query query = {.struct_size = sizeof query, .level = CAIRN_LEVEL_INSTANCE,
                               .flags = CAIRN_QUERY_RELATIONAL};
    cairn_status st;

    if (keys == NULL)
        return CAIRN_ERR_NO_MEMORY;
    api->dataset_set_string(keys, TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, study_uid);
    api->dataset_set_string(keys, TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI, "");
    api->dataset_set_string(keys, TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, "");
    api->dataset_set_string(keys, TAG_SOP_CLASS_UID, CAIRN_VR_UI, "");
    query.keys = keys;
    content->api = api;
    st = api->archive_index_query(&query, add_instance, content);
    api->dataset_destroy(keys);
    if (st == CAIRN_OK && content->failed)
        st = CAIRN_ERR_NO_MEMORY;
    return st;
}

static bool holds_instance(const study_content *c, const char *sop_uid)
{
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->instances[i].sop_uid, sop_uid) == 0)
            return true;
    }
    return false;
}

/* The MPPS steps of one study, as the completion rule counts them. */
typedef struct study_steps {
    router *rt;
    const study_content *content;
    size_t in_progress, completed, total;
    size_t missing;       /* instances a final step lists that the archive lacks */
    char (*uids)[65];     /* SOP Instance UIDs of the steps, for the notification */
    size_t uid_count, uid_capacity;
} study_steps;

static void count_missing(study_steps *steps, const cairn_dataset *ds)
{
    const cairn_host_api *api = steps->rt->api;
    const cairn_element *seq = api->dataset_find(ds, TAG_PERFORMED_SERIES_SEQUENCE);
    size_t series = seq != NULL ? api->element_item_count(seq) : 0;

    for (size_t i = 0; i < series; i++) {
        const cairn_dataset *item = api->element_item(seq, i);
        const cairn_tag lists[] = {TAG_REFERENCED_IMAGE_SEQUENCE,
                                   TAG_REFERENCED_NON_IMAGE_SEQUENCE};

        for (size_t l = 0; item != NULL && l < 2; l++) {
            const cairn_element *refs = api->dataset_find(item, lists[l]);
            size_t n = refs != NULL ? api->element_item_count(refs) : 0;

            for (size_t r = 0; r < n; r++) {
                char uid[65];

                if (api->dataset_get_string(api->element_item(refs, r),
                                            TAG_REFERENCED_SOP_INSTANCE_UID, 0, uid,
                                            sizeof uid) == CAIRN_OK &&
                    !holds_instance(steps->content, uid))
                    steps->missing++;
            }
        }
    }
}

static int add_step(void *arg, const cairn_mpps_step *step)
{
    study_steps *steps = arg;
    mpps_state state = mpps_state_parse(step->status);

    steps->total++;
    if (steps->uid_count == steps->uid_capacity) {
        size_t capacity = steps->uid_capacity ? steps->uid_capacity * 2 : 8;
        char (*grown)[65] = realloc(steps->uids, capacity * sizeof *grown);

        if (grown != NULL) {
            steps->uids = grown;
            steps->uid_capacity = capacity;
        }
    }
    if (steps->uid_count < steps->uid_capacity)
        snprintf(steps->uids[steps->uid_count++], 65, "%s", step->sop_instance_uid);

    if (state == MPPS_STATE_IN_PROGRESS) {
        steps->in_progress++;
    } else if (state == MPPS_STATE_COMPLETED && steps->content != NULL) {
        cairn_dataset *ds = mpps_document_dataset(steps->rt->api, step->document);

        steps->completed++;
        if (ds != NULL)
            count_missing(steps, ds);
        else
            steps->missing++;
        steps->rt->api->dataset_destroy(ds);
    }
    return 0;
}

static cairn_status list_steps(router *rt, const char *study_uid, const study_content *content,
                               study_steps *steps)
{
    cairn_mpps_filter filter = {.struct_size = sizeof filter, .study_instance_uid = study_uid};

    memset(steps, 0, sizeof *steps);
    steps->rt = rt;
    steps->content = content;
    return rt->api->archive_mpps_list(&filter, add_step, steps);
}

/* --- The notification data sets. --- */

typedef struct study_summary {
    char *patient_name;
    char *patient_id;
    char *study_id;
    char *accession_number;
} study_summary;

static char *copy_utf8(const cairn_host_api *api, const cairn_dataset *ds, cairn_tag tag)
{
    char *value = NULL, *copy;

    if (api->dataset_get_utf8(ds, tag, &value) != CAIRN_OK || value == NULL)
        return NULL;
    copy = strdup(value);
    api->free(value);
    return copy;
}

static int take_summary(void *arg, const cairn_index_row *row)
{
    void **pair = arg;
    const cairn_host_api *api = pair[0];
    study_summary *summary = pair[1];

    summary->patient_name = copy_utf8(api, row->attributes, TAG_PATIENT_NAME);
    summary->patient_id = copy_utf8(api, row->attributes, TAG_PATIENT_ID);
    summary->study_id = copy_utf8(api, row->attributes, TAG_STUDY_ID);
    summary->accession_number = copy_utf8(api, row->attributes, TAG_ACCESSION_NUMBER);
    return 1;
}

static void query_summary(router *rt, const char *study_uid, study_summary *summary)
{
    const cairn_host_api *api = rt->api;
    cairn_dataset *keys = api->dataset_create();
    cairn_index_query query = {.struct_size = sizeof query, .level = CAIRN_LEVEL_STUDY};
    void *pair[2] = {(void *)api, summary};

    if (keys == NULL)
        return;
    api->dataset_set_string(keys, TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, study_uid);
    api->dataset_set_string(keys, TAG_PATIENT_NAME, CAIRN_VR_PN, "");
    api->dataset_set_string(keys, TAG_PATIENT_ID, CAIRN_VR_LO, "");
    api->dataset_set_string(keys, TAG_STUDY_ID, CAIRN_VR_SH, "");
    api->dataset_set_string(keys, TAG_ACCESSION_NUMBER, CAIRN_VR_SH, "");
    query.keys = keys;
    api->archive_index_query(&query, take_summary, pair);
    api->dataset_destroy(keys);
}

static void free_summary(study_summary *summary)
{
    free(summary->patient_name);
    free(summary->patient_id);
    free(summary->study_id);
    free(summary->accession_number);
}

static bool is_ascii(const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80)
            return false;
    }
    return true;
}

/* Builds the IAN data set (PS3.4 R.3.2.1.1). */
static cairn_dataset *build_ian(router *rt, const char *study_uid, const study_content *c,
                                const study_steps *steps)
{
    const cairn_host_api *api = rt->api;
    cairn_dataset *ian = api->dataset_create();
    cairn_dataset *series = NULL;
    int rc = 0;

    if (ian == NULL)
        return NULL;
    if (steps->uid_count == 0)
        rc |= api->dataset_set_empty_sequence(ian, TAG_REFERENCED_PPS_SEQUENCE) != CAIRN_OK;
    for (size_t i = 0; i < steps->uid_count; i++) {
        cairn_dataset *item = api->dataset_append_item(ian, TAG_REFERENCED_PPS_SEQUENCE);

        if (item == NULL) {
            rc = 1;
            break;
        }
        rc |= api->dataset_set_string(item, TAG_REFERENCED_SOP_CLASS_UID, CAIRN_VR_UI,
                                      MPPS_SOP_CLASS) != CAIRN_OK;
        rc |= api->dataset_set_string(item, TAG_REFERENCED_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                      steps->uids[i]) != CAIRN_OK;
        rc |= api->dataset_set_empty_sequence(item, TAG_PERFORMED_WORKITEM_CODE_SEQUENCE) !=
              CAIRN_OK;
    }
    rc |= api->dataset_set_string(ian, TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, study_uid) !=
          CAIRN_OK;

    /* Index rows come ordered by series, so one series' instances are adjacent. */
    for (size_t i = 0; i < c->count && rc == 0; i++) {
        const study_instance *inst = &c->instances[i];
        cairn_dataset *ref;

        if (i == 0 || strcmp(inst->series_uid, c->instances[i - 1].series_uid) != 0) {
            series = api->dataset_append_item(ian, TAG_REFERENCED_SERIES_SEQUENCE);
            if (series == NULL)
                break;
            rc |= api->dataset_set_string(series, TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI,
                                          inst->series_uid) != CAIRN_OK;
        }
        ref = api->dataset_append_item(series, TAG_REFERENCED_SOP_SEQUENCE);
        if (ref == NULL) {
            rc = 1;
            break;
        }
        rc |= api->dataset_set_string(ref, TAG_RETRIEVE_AE_TITLE, CAIRN_VR_AE,
                                      rt->retrieve_ae_title) != CAIRN_OK;
        rc |= api->dataset_set_string(ref, TAG_INSTANCE_AVAILABILITY, CAIRN_VR_CS, "ONLINE") !=
              CAIRN_OK;
        rc |= api->dataset_set_string(ref, TAG_REFERENCED_SOP_CLASS_UID, CAIRN_VR_UI,
                                      inst->sop_class) != CAIRN_OK;
        rc |= api->dataset_set_string(ref, TAG_REFERENCED_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                      inst->sop_uid) != CAIRN_OK;
    }
    if (rc != 0) {
        api->dataset_destroy(ian);
        return NULL;
    }
    return ian;
}

/*
 * Builds the Basic Study Descriptor of a Basic Study Content Notification
 * (retired; PS3.3-2004 and PS3.4-2004 annex D): patient and study
 * identification and, per series, the Retrieve AE Title and the instances.
 */
static cairn_dataset *build_bscn(router *rt, const char *uid, const char *study_uid,
                                 const study_content *c, const study_summary *summary)
{
    const cairn_host_api *api = rt->api;
    cairn_dataset *bscn = api->dataset_create();
    cairn_dataset *series = NULL;
    bool utf8 = !is_ascii(summary->patient_name) || !is_ascii(summary->patient_id) ||
                !is_ascii(summary->study_id) || !is_ascii(summary->accession_number);
    int rc = 0;

    if (bscn == NULL)
        return NULL;
    if (utf8)
        rc |= api->dataset_set_string(bscn, TAG_SPECIFIC_CHARACTER_SET, CAIRN_VR_CS,
                                      "ISO_IR 192") != CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_SOP_CLASS_UID, CAIRN_VR_UI, BSCN_SOP_CLASS) !=
          CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_SOP_INSTANCE_UID, CAIRN_VR_UI, uid) != CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_ACCESSION_NUMBER, CAIRN_VR_SH,
                                  summary->accession_number ? summary->accession_number : "") !=
          CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_PATIENT_NAME, CAIRN_VR_PN,
                                  summary->patient_name ? summary->patient_name : "") != CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_PATIENT_ID, CAIRN_VR_LO,
                                  summary->patient_id ? summary->patient_id : "") != CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, study_uid) !=
          CAIRN_OK;
    rc |= api->dataset_set_string(bscn, TAG_STUDY_ID, CAIRN_VR_SH,
                                  summary->study_id ? summary->study_id : "") != CAIRN_OK;

    for (size_t i = 0; i < c->count && rc == 0; i++) {
        const study_instance *inst = &c->instances[i];
        cairn_dataset *ref;

        if (i == 0 || strcmp(inst->series_uid, c->instances[i - 1].series_uid) != 0) {
            series = api->dataset_append_item(bscn, TAG_REFERENCED_SERIES_SEQUENCE);
            if (series == NULL)
                break;
            rc |= api->dataset_set_string(series, TAG_RETRIEVE_AE_TITLE, CAIRN_VR_AE,
                                          rt->retrieve_ae_title) != CAIRN_OK;
            rc |= api->dataset_set_string(series, TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI,
                                          inst->series_uid) != CAIRN_OK;
        }
        ref = api->dataset_append_item(series, TAG_REFERENCED_IMAGE_SEQUENCE);
        if (ref == NULL) {
            rc = 1;
            break;
        }
        rc |= api->dataset_set_string(ref, TAG_REFERENCED_SOP_CLASS_UID, CAIRN_VR_UI,
                                      inst->sop_class) != CAIRN_OK;
        rc |= api->dataset_set_string(ref, TAG_REFERENCED_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                      inst->sop_uid) != CAIRN_OK;
    }
    if (rc != 0) {
        api->dataset_destroy(bscn);
        return NULL;
    }
    return bscn;
}

cairn_status router_deliver_notification(router *rt, cairn_outbound *ob, const char *uid,
                                         const cairn_dataset *ian, const cairn_dataset *bscn,
                                         cairn_dimse_status *status, const char **sent_class)
{
    const cairn_host_api *api = rt->api;

    /* IAN is preferred when the RIS accepts both. */
    if (api->outbound_accepts(ob, IAN_SOP_CLASS)) {
        *sent_class = IAN_SOP_CLASS;
        return api->outbound_request(ob, CAIRN_OP_N_CREATE, IAN_SOP_CLASS, uid, ian, status);
    }
    if (bscn != NULL && api->outbound_accepts(ob, BSCN_SOP_CLASS)) {
        *sent_class = BSCN_SOP_CLASS;
        return api->outbound_request(ob, CAIRN_OP_C_STORE, BSCN_SOP_CLASS, uid, bscn, status);
    }
    return CAIRN_ERR_UNSUPPORTED;
}

/* --- The completion check, on the delivery thread. --- */

/* Queues the notification of a complete study for every RIS. Returns 0 when done. */
static int notify_study(router *rt, const char *study_uid, const study_content *content,
                        const study_steps *steps)
{
    const cairn_host_api *api = rt->api;
    study_summary summary = {0};
    cairn_dataset *ian = NULL, *bscn = NULL;
    char uid[65];
    int rc = -1;

    router_new_uid(uid);
    query_summary(rt, study_uid, &summary);
    ian = build_ian(rt, study_uid, content, steps);
    bscn = build_bscn(rt, uid, study_uid, content, &summary);
    if (ian == NULL || bscn == NULL) {
        api->log(rt->self, CAIRN_LOG_ERROR, "study %s: cannot build its notification (out of "
                 "memory)", study_uid);
        goto out;
    }
    for (size_t i = 0; i < rt->notify_remote_count; i++) {
        cairn_status st = router_enqueue(rt, KIND_STUDY_NOTIFICATION, rt->notify_remotes[i],
                                         rt->notify_calling_ae, study_uid, uid, ian, bscn);

        if (st != CAIRN_OK) {
            api->log(rt->self, CAIRN_LOG_ERROR, "study %s: cannot queue its notification for "
                     "%s: %s", study_uid, rt->notify_remotes[i], cairn_strerror(st));
            goto out;
        }
    }
    api->log(rt->self, CAIRN_LOG_INFO, "study %s is complete: notification %s of %zu instances "
             "queued%s", study_uid, uid, content->count,
             content->truncated ? " (the list was cut at its maximum)" : "");
    rc = 0;

out:
    api->dataset_destroy(ian);
    api->dataset_destroy(bscn);
    free_summary(&summary);
    return rc;
}

/* A study the check looks at, copied out under the lock. */
typedef struct candidate {
    char uid[65];
    int64_t last_arrival_us;
    bool idle;
    bool check_mpps;
} candidate;

/* Checks one candidate and notifies it when complete. Returns true when notified or dropped. */
static bool check_one(router *rt, const candidate *cand)
{
    study_content content = {0};
    study_steps steps;
    bool complete = cand->idle, finished = false;
    cairn_status st = query_instances(rt, cand->uid, &content);

    if (st != CAIRN_OK) {
        rt->api->log(rt->self, CAIRN_LOG_WARN, "study %s: cannot list its instances: %s",
                     cand->uid, cairn_strerror(st));
        goto out;
    }
    st = list_steps(rt, cand->uid, &content, &steps);
    if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED) {
        rt->api->log(rt->self, CAIRN_LOG_WARN, "study %s: cannot list its MPPS steps: %s",
                     cand->uid, cairn_strerror(st));
        goto out_steps;
    }
    if (!complete && cand->check_mpps)
        complete = steps.total > 0 && steps.in_progress == 0 && steps.completed > 0 &&
                   steps.missing == 0;
    if (!complete)
        goto out_steps;
    if (content.count == 0) {
        /*
         * Nothing archived: nothing to notify, and an idle study stops being
         * tracked. NOTE: a study known only from a final MPPS step has no
         * idle time, so it stays tracked until an instance of it arrives.
         */
        finished = cand->idle;
        goto out_steps;
    }
    finished = notify_study(rt, cand->uid, &content, &steps) == 0;
    if (finished)
        router_wake(rt);

out_steps:
    free(steps.uids);
out:
    free(content.instances);
    return finished;
}

/*
 * Writes the documents of the studies tracked since the last pass that
 * have none yet: those a final MPPS step added, and those whose first
 * write failed.
 */
static void save_new_studies(router *rt)
{
    char (*uids)[65] = NULL;
    size_t count = 0, capacity = 0;

    pthread_mutex_lock(&rt->lock);
    for (router_study *s = rt->studies; s != NULL; s = s->next) {
        if (s->saved)
            continue;
        if (count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 16;
            char (*grown)[65] = realloc(uids, grown_capacity * sizeof *grown);

            if (grown == NULL)
                break;
            uids = grown;
            capacity = grown_capacity;
        }
        snprintf(uids[count++], 65, "%s", s->uid);
        s->saved = true;
    }
    pthread_mutex_unlock(&rt->lock);

    for (size_t i = 0; i < count; i++) {
        if (!save_study_document(rt, uids[i])) {
            pthread_mutex_lock(&rt->lock);
            for (router_study *s = rt->studies; s != NULL; s = s->next) {
                if (strcmp(s->uid, uids[i]) == 0)
                    s->saved = false;
            }
            pthread_mutex_unlock(&rt->lock);
        }
    }
    free(uids);
}

int64_t router_check_studies(router *rt, int64_t now_us)
{
    candidate *cands = NULL;
    size_t count = 0, capacity = 0;
    int64_t next_due = INT64_MAX;

    if (rt->notify_remote_count == 0)
        return INT64_MAX;
    if (!rt->studies_loaded) {
        cairn_status st = rt->api->archive_document_list(STUDY_ID_PREFIX, load_study, rt);

        if (st == CAIRN_ERR_BUSY)
            return now_us + 1000000;
        if (st != CAIRN_OK)
            rt->api->log(rt->self, CAIRN_LOG_ERROR, "cannot read the studies waiting for their "
                         "notification: %s", cairn_strerror(st));
        rt->studies_loaded = true;
    }

    save_new_studies(rt);
    pthread_mutex_lock(&rt->lock);
    for (router_study *s = rt->studies; s != NULL; s = s->next) {
        bool idle = s->last_arrival_us > 0 && now_us - s->last_arrival_us >= rt->study_idle_us;

        if (!idle && !s->check_mpps) {
            if (s->last_arrival_us > 0 && s->last_arrival_us + rt->study_idle_us < next_due)
                next_due = s->last_arrival_us + rt->study_idle_us;
            continue;
        }
        if (count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 16;
            candidate *grown = realloc(cands, grown_capacity * sizeof *grown);

            if (grown == NULL)
                break;
            cands = grown;
            capacity = grown_capacity;
        }
        snprintf(cands[count].uid, sizeof cands[count].uid, "%s", s->uid);
        cands[count].last_arrival_us = s->last_arrival_us;
        cands[count].idle = idle;
        cands[count].check_mpps = s->check_mpps;
        s->check_mpps = false;
        count++;
    }
    pthread_mutex_unlock(&rt->lock);

    for (size_t i = 0; i < count; i++) {
        if (check_one(rt, &cands[i]))
            untrack(rt, cands[i].uid, cands[i].last_arrival_us);
        else if (cands[i].last_arrival_us > 0) {
            int64_t due = cands[i].last_arrival_us + rt->study_idle_us;

            /* A study whose notification could not be queued is tried again later. */
            if (due < now_us + rt->retry_initial_us)
                due = now_us + rt->retry_initial_us;
            if (due < next_due)
                next_due = due;
        }
    }
    free(cands);
    return next_due;
}
