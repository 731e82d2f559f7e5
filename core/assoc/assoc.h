/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accepted associations: negotiation against the configured AEs and the
 * services their plugins registered, and the loop that serves DIMSE
 * requests on one association until it is released or aborted.
 */
#ifndef CAIRN_ASSOC_H
#define CAIRN_ASSOC_H

#include <stdint.h>

#include "archive/archive.h"
#include "config/conf.h"
#include "dimse/dimse_host.h"
#include "net/net.h"
#include "plugin/plugin.h"
#include "runtime/runtime.h"
#include "ul/ul.h"

/*
 * What every association of the daemon shares. Read-only once serving
 * starts. With a runtime, each association takes the configuration in
 * force when it starts and keeps it to its end, and the AEs' run-time
 * enabled flags decide which called AE titles are recognised. conf is
 * used only when runtime is NULL (tests that negotiate without a daemon).
 */
typedef struct assoc_env {
    runtime *runtime;
    const cairn_conf *conf;
    const plugin_registry *plugins;
    archive *archive;
} assoc_env;

/* Result of negotiation besides the A-ASSOCIATE-AC itself. */
typedef struct assoc_negotiation {
    const assoc_env *env;
    const cairn_conf *conf; /* the association's configuration; NULL: env->conf */
    uint16_t local_port;
    const log_ctx *log;
    const conf_ae *ae; /* the called AE, set when the association is accepted */
} assoc_negotiation;

/*
 * Decides on an A-ASSOCIATE-RQ (a ul_negotiate_fn; arg is an assoc_negotiation).
 * Returns 0 with ac filled to accept, 1 with rj filled to reject.
 */
int assoc_negotiate(void *arg, const ul_assoc_rq *rq, ul_assoc_ac *ac, ul_assoc_rj *rj);

/* Serves one connection (a net_conn_fn; arg is an assoc_env). */
void assoc_serve(void *arg, net_conn *conn);

/*
 * Rejects a connection that waited too long for a worker with A-ASSOCIATE-RJ
 * transient, local limit exceeded (a net_reject_fn; arg is an assoc_env).
 */
void assoc_reject_busy(void *arg, net_conn *conn);

/* Returns the accepted transfer syntax UID of context id, or NULL. */
const char *assoc_pctx_transfer_syntax(const cairn_assoc *assoc, uint8_t pctx_id);

/* Returns the abstract syntax UID proposed for context id, or NULL. */
const char *assoc_pctx_abstract_syntax(const cairn_assoc *assoc, uint8_t pctx_id);

/* Fills the Upper Layer settings from the configuration. */
void assoc_ul_params(const cairn_conf *conf, ul_params *params);

#endif
