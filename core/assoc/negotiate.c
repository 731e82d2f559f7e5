/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Association negotiation (PS3.8 7.1, PS3.7 annex D.3.3) for an incoming
 * A-ASSOCIATE-RQ: the called and calling AE titles, User Identity, each
 * presentation context against the services the called AE hosts, SCP/SCU
 * role selection, and extended negotiation passed to the services.
 */
#include "assoc/assoc.h"

#include <stdlib.h>
#include <string.h>

#include "commit/commit.h"
#include "dcm/dcm.h"
#include "metrics/metrics.h"

/* Maximum length of a service's SOP Class Extended Negotiation reply. */
#define EXT_NEG_ANSWER_MAX 1024

static int reject(ul_assoc_rj *rj, uint8_t result, uint8_t source, uint8_t reason)
{
    if (source == UL_REJECT_SOURCE_USER && reason == UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED)
        metrics_add(METRIC_ASSOC_REJECTED_CALLED_AE, 1);
    else if (source == UL_REJECT_SOURCE_USER &&
             reason == UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED)
        metrics_add(METRIC_ASSOC_REJECTED_CALLING_AE, 1);
    else if (source == UL_REJECT_SOURCE_PROVIDER_PRESENTATION &&
             reason == UL_REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED)
        metrics_add(METRIC_ASSOC_REJECTED_LOCAL_LIMIT, 1);
    else
        metrics_add(METRIC_ASSOC_REJECTED_OTHER, 1);

    rj->result = result;
    rj->source = source;
    rj->reason = reason;
    return 1;
}

static bool list_contains(char *const *list, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], value) == 0)
            return true;
    }
    return false;
}

/*
 * Returns the AE with this title on this port when it is enabled, or NULL.
 * With a runtime the run-time flag decides, which the control API and
 * reloads change, and else the `enabled` key.
 */
static const conf_ae *find_called_ae(const assoc_negotiation *neg, const cairn_conf *conf,
                                     const char *title)
{
    for (size_t i = 0; i < conf->n_aes; i++) {
        const conf_ae *ae = &conf->aes[i];
        bool enabled;

        if (ae->port != neg->local_port || strcmp(ae->title, title) != 0)
            continue;
        enabled = neg->env->runtime != NULL ? runtime_ae_enabled(neg->env->runtime, ae->title)
                                            : ae->enabled;
        return enabled ? ae : NULL;
    }
    return NULL;
}

/* Checks User Identity against the AE's policy; false rejects the association. */
static bool user_identity_allowed(const conf_ae *ae, const ul_user_identity_rq *uid,
                                  const log_ctx *log)
{
    if (ae->user_identity == CONF_USER_IDENTITY_IGNORE)
        return true;
    if (!uid->present)
        return ae->user_identity != CONF_USER_IDENTITY_REQUIRE;
    if (ae->users == NULL)
        return true;

    /* A user list can only be checked against a user name (types 1 and 2). */
    if (uid->type != UL_USER_IDENTITY_USERNAME && uid->type != UL_USER_IDENTITY_USERNAME_PASSCODE) {
        log_info(log, "user identity type %u cannot be checked against the user list", uid->type);
        return false;
    }
    for (size_t i = 0; i < ae->n_users; i++) {
        if (strlen(ae->users[i]) == uid->primary_len &&
            memcmp(ae->users[i], uid->primary, uid->primary_len) == 0)
            return true;
    }
    log_info(log, "user '%.*s' is not in the accepted users of AE %s",
             (int)(uid->primary_len > 64 ? 64 : uid->primary_len), (const char *)uid->primary,
             ae->title);
    return false;
}

static bool service_accepts_ts(const plugin_service *svc, const char *ts_uid)
{
    const cairn_service *s = &svc->service;

    if (dcm_ts_find(ts_uid) == NULL)
        return false;
    if (s->transfer_syntaxes == NULL)
        return true;
    for (size_t i = 0; i < s->transfer_syntax_count; i++) {
        if (strcmp(s->transfer_syntaxes[i], ts_uid) == 0)
            return true;
    }
    return false;
}

static bool proposed(const ul_pctx_rq *pc, const char *ts_uid)
{
    for (size_t i = 0; i < pc->transfer_syntax_count; i++) {
        if (strcmp(pc->transfer_syntaxes[i], ts_uid) == 0)
            return true;
    }
    return false;
}

/*
 * Chooses the transfer syntax: the AE's preference order first, then the
 * first proposed one that the codec and the service accept.
 */
static const char *choose_transfer_syntax(const conf_ae *ae, const ul_pctx_rq *pc,
                                          const plugin_service *svc)
{
    for (size_t i = 0; i < ae->n_transfer_syntaxes; i++) {
        const char *ts = ae->transfer_syntaxes[i];

        if (proposed(pc, ts) && service_accepts_ts(svc, ts))
            return ts;
    }
    for (size_t i = 0; i < pc->transfer_syntax_count; i++) {
        if (service_accepts_ts(svc, pc->transfer_syntaxes[i]))
            return pc->transfer_syntaxes[i];
    }
    return NULL;
}

static const ul_role_selection *find_role_item(const ul_assoc_rq *rq, const char *sop_class)
{
    for (size_t i = 0; i < rq->user_info.role_count; i++) {
        if (strcmp(rq->user_info.roles[i].sop_class_uid, sop_class) == 0)
            return &rq->user_info.roles[i];
    }
    return NULL;
}

static bool role_answered(const ul_assoc_ac *ac, const char *sop_class)
{
    for (size_t i = 0; i < ac->user_info.role_count; i++) {
        if (strcmp(ac->user_info.roles[i].sop_class_uid, sop_class) == 0)
            return true;
    }
    return false;
}

/*
 * Applies SCP/SCU role selection (PS3.7 D.3.3.4). Without an item the
 * requestor is SCU and we are SCP. A requestor takes the SCP role of
 * Storage Commitment, to send an N-EVENT-REPORT on a new association, only
 * when it is a remote we request commitment of. Returns false when no role
 * fits.
 */
static bool negotiate_roles(const cairn_conf *conf, const ul_assoc_rq *rq, ul_assoc_ac *ac,
                            const ul_pctx_rq *pc, const plugin_service *svc)
{
    const ul_role_selection *item = find_role_item(rq, pc->abstract_syntax);
    bool requestor_scu = item ? item->scu_role : true;
    bool requestor_scp = item ? item->scp_role : false;
    bool accept_scu = requestor_scu && (svc->service.roles & CAIRN_ROLE_SCP);
    bool accept_scp = requestor_scp && (svc->service.roles & CAIRN_ROLE_SCU);

    if (accept_scp && strcmp(pc->abstract_syntax, COMMIT_SOP_CLASS) == 0 &&
        !commit_report_role_allowed(conf, rq->called_ae, rq->calling_ae))
        accept_scp = false;

    if (!accept_scu && !accept_scp)
        return false;

    if (item != NULL && !role_answered(ac, pc->abstract_syntax) &&
        ul_assoc_ac_add_role(ac, pc->abstract_syntax, accept_scu, accept_scp) != 0)
        return false;
    return true;
}

static const plugin_service *find_service(const assoc_negotiation *neg, const conf_ae *ae,
                                          const char *sop_class)
{
    return plugin_find_service(neg->env->plugins, (const char *const *)ae->plugins,
                               ae->n_plugins, sop_class);
}

static int negotiate_contexts(const assoc_negotiation *neg, const conf_ae *ae,
                               const ul_assoc_rq *rq, ul_assoc_ac *ac)
{
    const cairn_conf *conf = neg->conf != NULL ? neg->conf : neg->env->conf;

    for (size_t i = 0; i < rq->pctx_count; i++) {
        const ul_pctx_rq *pc = &rq->pctx[i];
        const plugin_service *svc = find_service(neg, ae, pc->abstract_syntax);
        uint8_t result = UL_PCTX_ACCEPTANCE;
        const char *ts = NULL;

        if (svc == NULL)
            result = UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED;
        else if (!negotiate_roles(conf, rq, ac, pc, svc))
            result = UL_PCTX_USER_REJECTION;
        else if ((ts = choose_transfer_syntax(ae, pc, svc)) == NULL)
            result = UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED;

        if (ul_assoc_ac_add_pctx(ac, pc->id, result, ts) != 0)
            return -1;
    }
    return 0;
}

/* Passes SOP Class (Common) Extended Negotiation items to their services. */
static void negotiate_extended(const assoc_negotiation *neg, const conf_ae *ae,
                               const ul_assoc_rq *rq, ul_assoc_ac *ac)
{
    for (size_t i = 0; i < rq->user_info.ext_neg_count; i++) {
        const ul_ext_neg *item = &rq->user_info.ext_neg[i];
        const plugin_service *svc = find_service(neg, ae, item->sop_class_uid);
        uint8_t answer[EXT_NEG_ANSWER_MAX];
        size_t answer_len = sizeof answer;
        ul_ext_neg *out, *grown;

        if (svc == NULL || svc->service.negotiate_extended == NULL)
            continue;
        if (svc->service.negotiate_extended(svc->service.state, item->sop_class_uid, item->info,
                                            item->info_len, answer, &answer_len) != CAIRN_OK ||
            answer_len == 0 || answer_len > sizeof answer)
            continue;

        grown = realloc(ac->user_info.ext_neg,
                        (ac->user_info.ext_neg_count + 1) * sizeof *grown);
        if (grown == NULL)
            continue;
        ac->user_info.ext_neg = grown;
        out = &grown[ac->user_info.ext_neg_count];
        out->info = malloc(answer_len);
        if (out->info == NULL)
            continue;
        memcpy(out->sop_class_uid, item->sop_class_uid, sizeof out->sop_class_uid);
        memcpy(out->info, answer, answer_len);
        out->info_len = answer_len;
        ac->user_info.ext_neg_count++;
    }

    for (size_t i = 0; i < rq->user_info.common_ext_neg_count; i++) {
        const ul_common_ext_neg *item = &rq->user_info.common_ext_neg[i];
        const plugin_service *svc = find_service(neg, ae, item->sop_class_uid);
        const char *related[UL_PCTX_MAX];
        size_t n = item->related_sop_class_count < UL_PCTX_MAX ? item->related_sop_class_count
                                                               : UL_PCTX_MAX;

        if (svc == NULL || svc->service.negotiate_common_extended == NULL)
            continue;
        for (size_t j = 0; j < n; j++)
            related[j] = item->related_sop_classes[j];
        svc->service.negotiate_common_extended(svc->service.state, item->sop_class_uid,
                                               item->service_class_uid, related, n);
    }
}

int assoc_negotiate(void *arg, const ul_assoc_rq *rq, ul_assoc_ac *ac, ul_assoc_rj *rj)
{
    assoc_negotiation *neg = arg;
    const cairn_conf *conf = neg->conf != NULL ? neg->conf : neg->env->conf;
    const conf_ae *ae;

    /* 1. The application context, the called AE and the calling AE. */
    if (strcmp(rq->application_context, UL_DICOM_APPLICATION_CONTEXT) != 0) {
        log_warn(neg->log, "rejected: application context '%s' is not supported",
                 rq->application_context);
        return reject(rj, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
                      UL_REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED);
    }
    ae = find_called_ae(neg, conf, rq->called_ae);
    if (ae == NULL) {
        log_warn(neg->log, "rejected: called AE title '%s' is not served on port %u or is "
                 "disabled", rq->called_ae, neg->local_port);
        return reject(rj, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
                      UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED);
    }
    if (ae->accept_callers != NULL &&
        !list_contains(ae->accept_callers, ae->n_accept_callers, rq->calling_ae)) {
        log_warn(neg->log, "rejected: calling AE title '%s' is not accepted by AE %s",
                 rq->calling_ae, ae->title);
        return reject(rj, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER,
                      UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED);
    }
    if (!user_identity_allowed(ae, &rq->user_info.user_identity, neg->log)) {
        log_warn(neg->log, "rejected: user identity not accepted by AE %s", ae->title);
        return reject(rj, UL_REJECT_PERMANENT, UL_REJECT_SOURCE_USER, UL_REJECT_USER_NO_REASON);
    }

    /* 2. User information; the Upper Layer already filled the AC header,
     * our maximum length and implementation names. */
    /* One outstanding operation each way, as the archive processes requests in order. */
    if (rq->user_info.async_window.present) {
        ac->user_info.async_window.present = true;
        ac->user_info.async_window.invoked = 1;
        ac->user_info.async_window.performed = 1;
    }
    if (rq->user_info.user_identity.present &&
        rq->user_info.user_identity.positive_response_requested &&
        ae->user_identity != CONF_USER_IDENTITY_IGNORE)
        ac->user_info.user_identity.present = true;

    /* 3. Presentation contexts, roles and extended negotiation. */
    if (negotiate_contexts(neg, ae, rq, ac) != 0)
        return reject(rj, UL_REJECT_TRANSIENT, UL_REJECT_SOURCE_PROVIDER_PRESENTATION,
                      UL_REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED);
    negotiate_extended(neg, ae, rq, ac);

    neg->ae = ae;
    return 0;
}
