/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The life of one accepted connection. After A-ASSOCIATE negotiation it
 * serves one DIMSE request at a time, since the Asynchronous Operations
 * Window is 1/1, and dispatches each to the service of the context's
 * abstract syntax. It ends when the peer releases or aborts, when the
 * association stays idle too long, or when the daemon stops.
 */
#include "assoc/assoc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dimse/dimse.h"
#include "metrics/metrics.h"

void assoc_ul_params(const cairn_conf *conf, ul_params *params)
{
    memset(params, 0, sizeof *params);
    params->max_pdu_receive = (uint32_t)conf->network.max_pdu_receive;
    params->max_pdu_send = (uint32_t)conf->network.max_pdu_send;
    params->artim_timeout_ms = (unsigned)conf->network.artim_timeout * 1000u;
    params->dimse_timeout_ms = (unsigned)conf->network.dimse_timeout * 1000u;
    params->idle_timeout_ms = (unsigned)conf->network.idle_timeout * 1000u;
    params->connect_timeout_ms = (unsigned)conf->network.connect_timeout * 1000u;
    params->implementation_class_uid = DCM_IMPLEMENTATION_CLASS_UID;
    params->implementation_version_name = DCM_IMPLEMENTATION_VERSION_NAME;
}

const char *assoc_pctx_transfer_syntax(const cairn_assoc *assoc, uint8_t pctx_id)
{
    const ul_assoc_ac *ac = ul_assoc_accept(assoc->ul);

    for (size_t i = 0; i < ac->pctx_count; i++) {
        if (ac->pctx[i].id == pctx_id && ac->pctx[i].result == UL_PCTX_ACCEPTANCE) {
            const dcm_ts *ts = dcm_ts_find(ac->pctx[i].transfer_syntax);

            return ts ? ts->uid : NULL;
        }
    }
    return NULL;
}

const char *assoc_pctx_abstract_syntax(const cairn_assoc *assoc, uint8_t pctx_id)
{
    const ul_assoc_rq *rq = ul_assoc_request(assoc->ul);

    for (size_t i = 0; i < rq->pctx_count; i++) {
        if (rq->pctx[i].id == pctx_id)
            return rq->pctx[i].abstract_syntax;
    }
    return NULL;
}

static const char *pctx_result_name(uint8_t result)
{
    switch (result) {
    case UL_PCTX_ACCEPTANCE: return "accepted";
    case UL_PCTX_USER_REJECTION: return "user rejection";
    case UL_PCTX_NO_REASON: return "no reason";
    case UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED: return "abstract syntax not supported";
    case UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED: return "transfer syntaxes not supported";
    default: return "unknown";
    }
}

static void log_negotiation(const cairn_assoc *assoc)
{
    const ul_assoc_rq *rq = ul_assoc_request(assoc->ul);
    const ul_assoc_ac *ac = ul_assoc_accept(assoc->ul);
    size_t accepted = 0;

    for (size_t i = 0; i < ac->pctx_count; i++) {
        if (ac->pctx[i].result == UL_PCTX_ACCEPTANCE)
            accepted++;
    }
    log_info(&assoc->log, "association accepted from %s: %zu of %zu presentation contexts, "
             "peer implementation %s %s, peer max PDU %u",
             assoc->peer_address, accepted, ac->pctx_count,
             rq->user_info.implementation_class_uid, rq->user_info.implementation_version_name,
             rq->user_info.max_pdu_length);

    if (!log_enabled(LOG_LVL_DEBUG))
        return;
    for (size_t i = 0; i < ac->pctx_count && i < rq->pctx_count; i++) {
        const char *abstract = rq->pctx[i].abstract_syntax;
        const char *name = dcm_uid_name(abstract);

        log_debug(&assoc->log, "context %u %s (%s): %s%s%s", ac->pctx[i].id, abstract,
                  name ? name : "unknown", pctx_result_name(ac->pctx[i].result),
                  ac->pctx[i].result == UL_PCTX_ACCEPTANCE ? ", " : "",
                  ac->pctx[i].result == UL_PCTX_ACCEPTANCE ? ac->pctx[i].transfer_syntax : "");
    }
}

static cairn_dimse_handler handler_for(const cairn_service *s, uint16_t command_field)
{
    switch (command_field) {
    case DIMSE_C_STORE_RQ: return s->on_c_store;
    case DIMSE_C_FIND_RQ: return s->on_c_find;
    case DIMSE_C_GET_RQ: return s->on_c_get;
    case DIMSE_C_MOVE_RQ: return s->on_c_move;
    case DIMSE_C_ECHO_RQ: return s->on_c_echo;
    case DIMSE_N_EVENT_REPORT_RQ: return s->on_n_event_report;
    case DIMSE_N_GET_RQ: return s->on_n_get;
    case DIMSE_N_SET_RQ: return s->on_n_set;
    case DIMSE_N_ACTION_RQ: return s->on_n_action;
    case DIMSE_N_CREATE_RQ: return s->on_n_create;
    case DIMSE_N_DELETE_RQ: return s->on_n_delete;
    default: return NULL;
    }
}

/* Runs the work scheduled with assoc_after_response, or lets it release its argument. */
static void run_after_response(cairn_assoc *assoc, bool response_sent)
{
    void (*fn)(void *arg, cairn_assoc *assoc) = assoc->after_response;
    void *arg = assoc->after_response_arg;

    assoc->after_response = NULL;
    assoc->after_response_arg = NULL;
    if (fn != NULL)
        fn(arg, response_sent ? assoc : NULL);
}

/* Runs the handler for msg and sends its response. Returns -1 when the association failed. */
static int dispatch(const assoc_env *env, cairn_assoc *assoc, cairn_message *msg,
                    cairn_dimse_status local_status)
{
    cairn_reply reply = {.request = msg};
    const char *abstract = assoc_pctx_abstract_syntax(assoc, msg->pctx_id);
    const plugin_service *svc = NULL;
    cairn_dimse_handler handler = NULL;
    int rc;

    /* C-CANCEL has no response; with one operation at a time there is nothing to cancel. */
    if (msg->command_field == DIMSE_C_CANCEL_RQ)
        return 0;

    if (abstract != NULL)
        svc = plugin_find_service(env->plugins, (const char *const *)assoc->ae->plugins,
                                  assoc->ae->n_plugins, abstract);
    if (svc != NULL)
        handler = handler_for(&svc->service, msg->command_field);

    if (local_status != 0) {
        reply.status = local_status;
        dimse_host_reply_set_error_comment(&reply, msg->error);
    } else if (handler == NULL) {
        reply.status = CAIRN_DIMSE_UNRECOGNIZED_OPERATION;
        dimse_host_reply_set_error_comment(&reply, "operation not supported for this SOP class");
        log_warn(&assoc->log, "%s on context %u (%s) has no handler",
                 dimse_command_name(msg->command_field), msg->pctx_id, abstract ? abstract : "?");
    } else {
        cairn_status st;

        /* C-GET sub-operations (assoc_store) mark the request when a C-CANCEL-RQ arrives. */
        assoc->serving = msg;
        st = handler(svc->service.state, assoc, msg, &reply);
        assoc->serving = NULL;

        if (st != CAIRN_OK && reply.status == CAIRN_DIMSE_SUCCESS) {
            reply.status = CAIRN_DIMSE_PROCESSING_FAILURE;
            dimse_host_reply_set_error_comment(&reply, cairn_strerror(st));
        }
    }

    /* A cancelled C-FIND, C-MOVE or C-GET still gets its final response (FE00 from the service). */
    rc = msg->failed ? -1 : dimse_send_response(assoc, msg, &reply);
    dcm_dataset_destroy(reply.dataset);
    run_after_response(assoc, rc == 0);
    return rc;
}

static void fill_log_ctx(cairn_assoc *assoc, const char *calling, const char *called)
{
    snprintf(assoc->calling_ae, sizeof assoc->calling_ae, "%s", calling);
    snprintf(assoc->called_ae, sizeof assoc->called_ae, "%s", called);
    memcpy(assoc->log.calling_ae, assoc->calling_ae, sizeof assoc->log.calling_ae);
    memcpy(assoc->log.called_ae, assoc->called_ae, sizeof assoc->log.called_ae);
}

/* Logs why the association ends and sends the release response or A-ABORT where due. */
static void end_association(cairn_assoc *assoc, int dimse_rc)
{
    switch (dimse_rc) {
    case DIMSE_RELEASE_REQUESTED:
        ul_release_respond(assoc->ul);
        log_info(&assoc->log, "association released");
        metrics_add(METRIC_ASSOC_RELEASED, 1);
        break;
    case DIMSE_PEER_ABORTED:
        log_info(&assoc->log, "association aborted by the peer");
        metrics_add(METRIC_ASSOC_ABORTED_BY_PEER, 1);
        break;
    case DIMSE_CLOSED:
        log_info(&assoc->log, "connection closed by the peer");
        metrics_add(METRIC_ASSOC_ABORTED_BY_PEER, 1);
        break;
    case DIMSE_IDLE_TIMEOUT:
        log_info(&assoc->log, "idle for %d s; aborting the association",
                 assoc->conf->network.idle_timeout);
        ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
        metrics_add(METRIC_ASSOC_ABORTED_LOCALLY, 1);
        break;
    default:
        /* Protocol errors and timeouts inside a message. */
        metrics_add(METRIC_ASSOC_ABORTED_LOCALLY, 1);
        break;
    }
}

/* Marks the connection busy as soon as a message starts, so a shutdown lets it finish. */
static void mark_busy(void *arg)
{
    net_conn_set_busy(arg, true);
}

static void serve_messages(const assoc_env *env, cairn_assoc *assoc, net_conn *conn)
{
    dimse_limits limits = {
        .dimse_timeout_ms = (unsigned)assoc->conf->network.dimse_timeout * 1000u,
        .idle_timeout_ms = (unsigned)assoc->conf->network.idle_timeout * 1000u,
        .max_sequence_depth = (unsigned)assoc->conf->max_sequence_depth,
        .on_message_start = mark_busy,
        .on_message_start_arg = conn,
    };

    for (;;) {
        cairn_message msg = {0};
        cairn_dimse_status local_status = 0;
        int rc;

        net_conn_set_busy(conn, false);
        if (net_server_stopping(net_conn_server(conn))) {
            log_info(&assoc->log, "daemon is stopping; aborting the association");
            ul_abort(assoc->ul, UL_ABORT_SOURCE_PROVIDER, UL_ABORT_REASON_NOT_SPECIFIED);
            metrics_add(METRIC_ASSOC_ABORTED_LOCALLY, 1);
            return;
        }

        rc = dimse_receive(assoc, &limits, &msg, &local_status);

        if (rc != DIMSE_OK) {
            /* A message cut short leaves nothing behind, its temporary file included. */
            dimse_message_clear(&msg);
            end_association(assoc, rc);
            return;
        }

        rc = dispatch(env, assoc, &msg, local_status);
        dimse_message_clear(&msg);
        if (rc != 0) {
            log_warn(&assoc->log, "cannot send a response; association ended");
            metrics_add(METRIC_ASSOC_ABORTED_LOCALLY, 1);
            return;
        }
        /* Work run after the response granted a release or lost the association. */
        if (assoc->ended)
            return;
    }
}

/* Takes the configuration in force for one association. */
static const cairn_conf *acquire_conf(const assoc_env *env)
{
    return env->runtime != NULL ? runtime_conf_acquire(env->runtime) : env->conf;
}

static void release_conf(const assoc_env *env, const cairn_conf *conf)
{
    if (env->runtime != NULL)
        runtime_conf_release(env->runtime, conf);
}

/* Serves one association under conf, which stays in force until it ends. */
static void serve_association(const assoc_env *env, const cairn_conf *conf, net_conn *conn)
{
    cairn_assoc assoc = {0};
    ul_params params;
    assoc_negotiation neg = {0};
    int rc;

    assoc.id = net_conn_id(conn);
    assoc.archive = env->archive;
    assoc.conf = conf;
    assoc.log.assoc_id = assoc.id;
    snprintf(assoc.peer_address, sizeof assoc.peer_address, "%s", net_conn_peer(conn));
    log_debug(&assoc.log, "connection from %s port %u to port %u", assoc.peer_address,
              net_conn_peer_port(conn), net_conn_local_port(conn));

    assoc_ul_params(conf, &params);
    neg.env = env;
    neg.conf = conf;
    neg.local_port = net_conn_local_port(conn);
    neg.log = &assoc.log;

    /* The Upper Layer closes its own descriptor; shutdown(2) by the server
     * still reaches the shared socket to wake an idle association. */
    rc = ul_accept(dup(net_conn_fd(conn)), &params, assoc_negotiate, &neg, &assoc.ul);
    if (assoc.ul != NULL) {
        const ul_assoc_rq *rq = ul_assoc_request(assoc.ul);

        if (rq != NULL)
            fill_log_ctx(&assoc, rq->calling_ae, rq->called_ae);
    }
    if (rc != UL_OK) {
        log_info(&assoc.log, "association from %s not established: %s", assoc.peer_address,
                 ul_strerror(rc));
        ul_assoc_destroy(assoc.ul);
        return;
    }

    assoc.ae = neg.ae;
    ul_assoc_set_log_ctx(assoc.ul, &assoc.log);
    log_negotiation(&assoc);
    metrics_add(METRIC_ASSOC_ACCEPTED, 1);
    metrics_gauge_add(METRIC_ASSOC_OPEN, 1);

    serve_messages(env, &assoc, conn);
    metrics_gauge_add(METRIC_ASSOC_OPEN, -1);
    ul_assoc_destroy(assoc.ul);
}

void assoc_serve(void *arg, net_conn *conn)
{
    const assoc_env *env = arg;
    const cairn_conf *conf = acquire_conf(env);

    serve_association(env, conf, conn);
    release_conf(env, conf);
}

static int reject_local_limit(void *arg, const ul_assoc_rq *rq, ul_assoc_ac *ac, ul_assoc_rj *rj)
{
    (void)arg;
    (void)rq;
    (void)ac;
    rj->result = UL_REJECT_TRANSIENT;
    rj->source = UL_REJECT_SOURCE_PROVIDER_PRESENTATION;
    rj->reason = UL_REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED;
    return 1;
}

void assoc_reject_busy(void *arg, net_conn *conn)
{
    const assoc_env *env = arg;
    const cairn_conf *conf = acquire_conf(env);
    log_ctx log = {.assoc_id = net_conn_id(conn)};
    ul_params params;
    ul_assoc *ul = NULL;

    assoc_ul_params(conf, &params);
    ul_accept(dup(net_conn_fd(conn)), &params, reject_local_limit, NULL, &ul);
    metrics_add(METRIC_ASSOC_REJECTED_LOCAL_LIMIT, 1);
    log_warn(&log, "association from %s rejected: all %d workers stayed busy for %d s "
             "(transient, local limit exceeded)", net_conn_peer(conn),
             conf->network.max_associations, conf->network.max_wait);
    ul_assoc_destroy(ul);
    release_conf(env, conf);
}
