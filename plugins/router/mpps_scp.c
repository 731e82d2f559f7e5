/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MPPS SCP's N-CREATE and N-SET handlers (PS3.4 F.7.2). Each request
 * is checked by mpps_rules.c, applied to the step kept in the index, and
 * queued for every configured order filler. The modality's response comes
 * from this validation, never from an order filler. A lock makes each
 * request's read, check and write of the kept step one step, so two
 * associations cannot both create a UID or both update the same step.
 */
#include <stdio.h>
#include <string.h>

#include "router.h"

/* Fills reply from err; for 0106 the response data set carries the invalid attributes. */
static void answer_error(router *rt, cairn_reply *reply, const mpps_error *err,
                         const cairn_dataset *request_ds)
{
    const cairn_host_api *api = rt->api;

    api->reply_set_status(reply, err->status);
    api->reply_set_error_comment(reply, err->comment);
    if (err->error_id != 0)
        api->reply_set_command_uint(reply, CAIRN_TAG(0x0000, 0x0903), err->error_id);
    if (err->attribute_count == 0)
        return;
    if (err->status != MPPS_STATUS_INVALID_ATTRIBUTE_VALUE) {
        api->reply_set_attribute_list(reply, err->attributes, err->attribute_count);
        return;
    }
    if (request_ds != NULL) {
        cairn_dataset *invalid = api->dataset_create();

        for (size_t i = 0; invalid != NULL && i < err->attribute_count; i++) {
            const cairn_element *element = api->dataset_find(request_ds, err->attributes[i]);

            if (element != NULL)
                mpps_copy_element(api, invalid, element);
        }
        if (invalid != NULL && api->reply_set_dataset(reply, invalid) != CAIRN_OK)
            api->dataset_destroy(invalid);
    }
}

static void answer_failure(router *rt, cairn_reply *reply, cairn_dimse_status status,
                           const char *comment)
{
    rt->api->reply_set_status(reply, status);
    rt->api->reply_set_error_comment(reply, comment);
}

/* Sets status 0110 when the request's data set was sent but cannot be parsed, and returns true. */
static bool unparsable(router *rt, cairn_assoc *assoc, const cairn_message *request,
                       cairn_reply *reply)
{
    const char *error = rt->api->message_error(request);

    if (rt->api->message_dataset(request) != NULL || error == NULL)
        return false;
    rt->api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN, "MPPS request rejected: its data set "
                       "cannot be parsed: %s", error);
    answer_failure(rt, reply, MPPS_STATUS_PROCESSING_FAILURE, "the data set cannot be parsed");
    return true;
}

/* Queues the request's data set for every order filler. */
static void forward(router *rt, cairn_assoc *assoc, const char *kind, const char *uid,
                    const cairn_dataset *ds)
{
    const cairn_host_api *api = rt->api;
    const char *calling = rt->forward_calling_ae[0] != '\0' ? rt->forward_calling_ae
                                                             : api->assoc_called_ae(assoc);

    for (size_t i = 0; i < rt->order_filler_count; i++) {
        cairn_status st = router_enqueue(rt, kind, rt->order_fillers[i], calling, uid, uid, ds,
                                         NULL);

        if (st != CAIRN_OK)
            api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "MPPS %s: cannot queue the %s for "
                           "order filler %s: %s; it will not be forwarded", uid, kind,
                           rt->order_fillers[i], cairn_strerror(st));
    }
    if (rt->order_filler_count > 0)
        router_wake(rt);
}

cairn_status mpps_on_n_create(void *state, cairn_assoc *assoc, const cairn_message *request,
                              cairn_reply *reply)
{
    router *rt = state;
    const cairn_host_api *api = rt->api;
    const char *uid = api->message_sop_instance(request);
    const cairn_dataset *ds = api->message_dataset(request);
    mpps_error err = {0};
    cairn_status st;

    if (unparsable(rt, assoc, request, reply))
        return CAIRN_OK;
    if (mpps_check_instance_uid(uid, true, &err) != 0 ||
        mpps_check_create(&rt->rules, ds, &err) != 0) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN, "MPPS N-CREATE %s rejected with 0x%04X: "
                       "%s", uid != NULL ? uid : "(no UID)", err.status, err.comment);
        answer_error(rt, reply, &err, ds);
        return CAIRN_OK;
    }

    pthread_mutex_lock(&rt->step_lock);
    st = mpps_save(rt, uid, ds, api->assoc_calling_ae(assoc), api->assoc_called_ae(assoc),
                   router_now_us(), true);
    if (st == CAIRN_OK)
        forward(rt, assoc, KIND_MPPS_CREATE, uid, ds);
    pthread_mutex_unlock(&rt->step_lock);

    if (st == CAIRN_ERR_EXISTS) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN, "MPPS N-CREATE %s: the step exists "
                       "already", uid);
        answer_failure(rt, reply, MPPS_STATUS_DUPLICATE_SOP_INSTANCE,
                       "Performed Procedure Step exists already");
        return CAIRN_OK;
    }
    if (st != CAIRN_OK) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "MPPS N-CREATE %s: cannot store the "
                       "step: %s", uid, cairn_strerror(st));
        answer_failure(rt, reply, MPPS_STATUS_PROCESSING_FAILURE, "cannot store the step");
        return CAIRN_OK;
    }
    api->log_assoc(rt->self, assoc, CAIRN_LOG_INFO, "MPPS %s created, IN PROGRESS", uid);
    return CAIRN_OK;
}

/* Reads the first Study Instance UID of the Scheduled Step Attributes Sequence. */
static void study_of(const cairn_host_api *api, const cairn_dataset *ds, char study[65])
{
    const cairn_element *seq = api->dataset_find(ds, TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE);

    study[0] = '\0';
    if (seq != NULL && api->element_item_count(seq) > 0 &&
        api->dataset_get_string(api->element_item(seq, 0), TAG_STUDY_INSTANCE_UID, 0, study,
                                65) != CAIRN_OK)
        study[0] = '\0';
}

cairn_status mpps_on_n_set(void *state, cairn_assoc *assoc, const cairn_message *request,
                           cairn_reply *reply)
{
    router *rt = state;
    const cairn_host_api *api = rt->api;
    const char *uid = api->message_sop_instance(request);
    const cairn_dataset *changes = api->message_dataset(request);
    cairn_dataset *current = NULL, *merged = NULL;
    char calling_ae[17], status[32], study[65] = "";
    mpps_state next = MPPS_STATE_IN_PROGRESS;
    mpps_error err = {0};
    int64_t created_at_us = 0;
    cairn_status st;

    if (unparsable(rt, assoc, request, reply))
        return CAIRN_OK;
    if (mpps_check_instance_uid(uid, false, &err) != 0) {
        answer_error(rt, reply, &err, NULL);
        return CAIRN_OK;
    }

    pthread_mutex_lock(&rt->step_lock);
    current = mpps_load(rt, uid, calling_ae, sizeof calling_ae, &created_at_us, &st);
    if (st == CAIRN_ERR_NOT_FOUND) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN, "MPPS N-SET %s: no such step", uid);
        answer_failure(rt, reply, MPPS_STATUS_NO_SUCH_SOP_INSTANCE,
                       "no Performed Procedure Step with this SOP Instance UID");
        goto out;
    }
    if (st != CAIRN_OK) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "MPPS N-SET %s: cannot read the step: "
                       "%s", uid, cairn_strerror(st));
        answer_failure(rt, reply, MPPS_STATUS_PROCESSING_FAILURE, "cannot read the step");
        goto out;
    }
    if (mpps_check_set(&rt->rules, current, changes, &err) != 0)
        goto rejected;

    merged = mpps_merge(api, current, changes);
    if (merged == NULL) {
        answer_failure(rt, reply, MPPS_STATUS_PROCESSING_FAILURE, "out of memory");
        goto out;
    }
    if (api->dataset_get_string(merged, TAG_PPS_STATUS, 0, status, sizeof status) == CAIRN_OK)
        next = mpps_state_parse(status);
    if (next != MPPS_STATE_IN_PROGRESS && mpps_check_final(&rt->rules, merged, &err) != 0)
        goto rejected;

    st = mpps_save(rt, uid, merged, calling_ae, api->assoc_called_ae(assoc), created_at_us,
                   false);
    if (st != CAIRN_OK) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "MPPS N-SET %s: cannot store the step: "
                       "%s", uid, cairn_strerror(st));
        answer_failure(rt, reply, MPPS_STATUS_PROCESSING_FAILURE, "cannot store the step");
        goto out;
    }
    forward(rt, assoc, KIND_MPPS_SET, uid, changes);
    api->log_assoc(rt->self, assoc, CAIRN_LOG_INFO, "MPPS %s set, %s", uid,
                   mpps_state_name(next));
    if (next != MPPS_STATE_IN_PROGRESS) {
        study_of(api, merged, study);
        if (study[0] != '\0')
            router_note_final_step(rt, study);
    }
    goto out;

rejected:
    api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN, "MPPS N-SET %s rejected with 0x%04X: %s", uid,
                   err.status, err.comment);
    answer_error(rt, reply, &err, changes);

out:
    pthread_mutex_unlock(&rt->step_lock);
    api->dataset_destroy(current);
    api->dataset_destroy(merged);
    return CAIRN_OK;
}
