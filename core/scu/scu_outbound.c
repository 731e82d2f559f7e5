/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outgoing associations to configured remote AEs (C-MOVE destinations and
 * the send jobs): the host API's outbound_open, outbound_store and
 * outbound_close, and scu_outbound_open_as for callers without an
 * association. Each
 * remote allows remotes[].max_associations of them at once; outbound_open
 * waits up to SCU_SLOT_WAIT_SECONDS for a slot, then fails with
 * CAIRN_ERR_LIMIT.
 */
#include "scu/scu_host.h"
#include "scu/scu_outbound.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "assoc/assoc.h"
#include "config/conf.h"
#include "scu/scu_internal.h"

const char *scu_reject_reason(const ul_assoc_rj *rj)
{
    switch (rj->source) {
    case UL_REJECT_SOURCE_USER:
        if (rj->reason == UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED)
            return "calling AE title not recognized";
        if (rj->reason == UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED)
            return "called AE title not recognized";
        if (rj->reason == UL_REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED)
            return "application context not supported";
        return "rejected by the service-user, no reason given";
    case UL_REJECT_SOURCE_PROVIDER_ACSE:
        return "rejected by the service-provider (ACSE)";
    case UL_REJECT_SOURCE_PROVIDER_PRESENTATION:
        if (rj->reason == UL_REJECT_PRESENTATION_TEMPORARY_CONGESTION)
            return "temporary congestion";
        if (rj->reason == UL_REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED)
            return "local limit exceeded";
        return "rejected by the service-provider (presentation)";
    default:
        return "rejected, unknown source";
    }
}

static size_t accepted_contexts(const struct ul_assoc *ul)
{
    const ul_assoc_ac *ac = ul_assoc_accept(ul);
    size_t n = 0;

    for (size_t i = 0; i < ac->pctx_count; i++) {
        if (ac->pctx[i].result == UL_PCTX_ACCEPTANCE)
            n++;
    }
    return n;
}

/*
 * Builds the A-ASSOCIATE-RQ and connects. Returns CAIRN_OK, CAIRN_ERR_REFUSED
 * (rejected, unreachable, or no context accepted), CAIRN_ERR_NO_MEMORY or
 * CAIRN_ERR_INVALID_ARGUMENT (no valid SOP class to propose). Failures are logged.
 */
static cairn_status connect_remote(cairn_outbound *ob, const cairn_conf *conf,
                                   const conf_remote *remote, const char *calling_ae,
                                   const char *const *sop_classes,
                                   const char *const *transfer_syntaxes, size_t count)
{
    ul_assoc_rq rq = {.protocol_version = UL_PROTOCOL_VERSION};
    ul_assoc_rj rj = {0};
    ul_params params;
    cairn_status result = CAIRN_ERR_REFUSED;
    int proposed, rc;

    snprintf(rq.called_ae, sizeof rq.called_ae, "%s", remote->title);
    snprintf(rq.calling_ae, sizeof rq.calling_ae, "%s", calling_ae);
    snprintf(rq.application_context, sizeof rq.application_context, "%s",
             UL_DICOM_APPLICATION_CONTEXT);
    proposed = scu_propose_contexts(&rq, sop_classes, transfer_syntaxes, count, &ob->log);
    if (proposed <= 0) {
        log_error(&ob->log, "scu: no presentation context to propose to %s (%s)",
                  remote->title, proposed < 0 ? "out of memory" : "no valid SOP class");
        result = proposed < 0 ? CAIRN_ERR_NO_MEMORY : CAIRN_ERR_INVALID_ARGUMENT;
        goto out;
    }

    assoc_ul_params(conf, &params);
    rc = ul_connect(remote->host, (uint16_t)remote->port, &params, &rq, &ob->ul, &rj);
    if (rc == UL_REJECTED) {
        log_warn(&ob->log, "scu: %s at %s port %d rejected the association: %s (result %u, "
                 "source %u, reason %u)", remote->title, remote->host, remote->port,
                 scu_reject_reason(&rj), rj.result, rj.source, rj.reason);
        goto out;
    }
    if (rc == UL_CONNECT_FAILED) {
        log_warn(&ob->log, "scu: cannot open an association to %s: connection to %s:%d "
                 "failed: %s", remote->title, remote->host, remote->port,
                 errno != 0 ? strerror(errno) : "host name not resolved");
        goto out;
    }
    if (rc != UL_OK) {
        log_warn(&ob->log, "scu: cannot open an association to %s at %s port %d: %s",
                 remote->title, remote->host, remote->port, ul_strerror(rc));
        goto out;
    }
    ul_assoc_set_log_ctx(ob->ul, &ob->log);

    if (accepted_contexts(ob->ul) == 0) {
        log_warn(&ob->log, "scu: %s accepted none of the %d presentation contexts proposed; "
                 "releasing the association", remote->title, proposed);
        ul_release(ob->ul);
        goto out;
    }
    log_info(&ob->log, "scu: association to %s at %s port %d: %zu of %d presentation "
             "contexts accepted", remote->title, remote->host, remote->port,
             accepted_contexts(ob->ul), proposed);
    result = CAIRN_OK;

out:
    if (result != CAIRN_OK) {
        ul_assoc_destroy(ob->ul);
        ob->ul = NULL;
    }
    ul_assoc_rq_free(&rq);
    return result;
}

cairn_status scu_outbound_open_as(const cairn_conf *conf, const char *storage_path,
                                  const log_ctx *log, const char *calling_ae,
                                  const char *remote_title, const char *const *sop_classes,
                                  const char *const *transfer_syntaxes, size_t count,
                                  cairn_outbound **out)
{
    const conf_remote *remote;
    cairn_outbound *ob;
    cairn_status st;

    if (out != NULL)
        *out = NULL;
    if (conf == NULL || storage_path == NULL || calling_ae == NULL || remote_title == NULL ||
        out == NULL || (count > 0 && (sop_classes == NULL || transfer_syntaxes == NULL)))
        return CAIRN_ERR_INVALID_ARGUMENT;

    remote = conf_find_remote(conf, remote_title);
    if (remote == NULL) {
        log_warn(log, "scu: remote AE \"%s\" is not configured (remotes)", remote_title);
        return CAIRN_ERR_NOT_FOUND;
    }
    if (scu_slot_acquire(remote->title, remote->max_associations) != 0) {
        log_warn(log, "scu: all %d associations to %s stayed in use for %d s",
                 remote->max_associations, remote->title, SCU_SLOT_WAIT_SECONDS);
        return CAIRN_ERR_LIMIT;
    }

    ob = calloc(1, sizeof *ob);
    if (ob == NULL) {
        scu_slot_release(remote->title);
        return CAIRN_ERR_NO_MEMORY;
    }
    if (log != NULL)
        ob->log = *log;
    snprintf(ob->remote_title, sizeof ob->remote_title, "%s", remote->title);
    snprintf(ob->storage_path, sizeof ob->storage_path, "%s", storage_path);
    ob->response_timeout_ms = (unsigned)conf->network.dimse_timeout * 1000u;

    st = connect_remote(ob, conf, remote, calling_ae, sop_classes, transfer_syntaxes, count);
    if (st != CAIRN_OK) {
        scu_slot_release(ob->remote_title);
        free(ob);
        return st;
    }
    *out = ob;
    return CAIRN_OK;
}

cairn_status scu_host_outbound_open(cairn_assoc *origin, const char *remote_title,
                                    const char *const *sop_classes,
                                    const char *const *transfer_syntaxes, size_t count,
                                    cairn_outbound **out)
{
    if (out != NULL)
        *out = NULL;
    if (origin == NULL || origin->conf == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;

    return scu_outbound_open_as(origin->conf,
                                origin->archive ? archive_storage_path(origin->archive)
                                                : origin->conf->storage_path,
                                &origin->log, origin->called_ae, remote_title, sop_classes,
                                transfer_syntaxes, count, out);
}

cairn_status scu_host_outbound_store(cairn_outbound *ob, const cairn_instance_file *file,
                                     const char *sop_class_uid, const char *sop_instance_uid,
                                     const char *move_originator_ae,
                                     uint16_t move_originator_message_id,
                                     cairn_dimse_status *status)
{
    scu_channel channel;
    scu_store_request request = {0};
    scu_source src;
    cairn_status st;

    if (ob == NULL || file == NULL || file->path == NULL || sop_class_uid == NULL ||
        sop_instance_uid == NULL || status == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    if (ob->failed)
        return CAIRN_ERR_IO;

    st = scu_source_open(ob->storage_path, file->path, &src, &ob->log);
    if (st != CAIRN_OK)
        return st;

    request.pctx_id = scu_choose_context(ob->ul, sop_class_uid, src.ts, &request.pctx_ts);
    if (request.pctx_id == 0) {
        log_warn(&ob->log, "scu: %s accepted no presentation context for %s (%s); %s not sent",
                 ob->remote_title, sop_class_uid, src.ts->name, sop_instance_uid);
        st = CAIRN_ERR_UNSUPPORTED;
        goto out;
    }
    request.sop_class_uid = sop_class_uid;
    request.sop_instance_uid = sop_instance_uid;
    request.message_id = ++ob->last_message_id;
    if (request.message_id == 0)
        request.message_id = ++ob->last_message_id;
    request.move_originator_ae = move_originator_ae;
    request.move_originator_message_id = move_originator_message_id;

    channel = (scu_channel){.ul = ob->ul, .log = &ob->log, .storage_path = ob->storage_path,
                            .response_timeout_ms = ob->response_timeout_ms};
    st = scu_send_store(&channel, &request, &src, status);
    if (st != CAIRN_OK && st != CAIRN_ERR_UNSUPPORTED)
        ob->failed = true;

out:
    scu_source_close(&src);
    return st;
}

void scu_host_outbound_close(cairn_outbound *ob)
{
    int rc;

    if (ob == NULL)
        return;
    if (!ob->failed) {
        rc = ul_release(ob->ul);
        if (rc != UL_OK)
            log_warn(&ob->log, "scu: release of the association to %s failed: %s",
                     ob->remote_title, ul_strerror(rc));
    }
    ul_assoc_destroy(ob->ul);
    scu_slot_release(ob->remote_title);
    free(ob);
}
