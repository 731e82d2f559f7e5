/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Verification SCU: one C-ECHO to a configured remote AE over an
 * association of its own, for the control API's echo path. The
 * association takes one of the remote's max_associations slots.
 */
#ifndef CAIRN_SCU_ECHO_H
#define CAIRN_SCU_ECHO_H

#include <stdint.h>

#include "config/conf.h"
#include "util/log.h"

/* How an echo ended. */
typedef enum scu_echo_result {
    SCU_ECHO_ANSWERED,    /* a C-ECHO-RSP arrived; its Status may still be a failure */
    SCU_ECHO_BUSY,        /* every max_associations slot stayed in use */
    SCU_ECHO_REJECTED,    /* A-ASSOCIATE-RJ, or the Verification context was not accepted */
    SCU_ECHO_UNREACHABLE, /* no connection, connection closed, A-ABORT or protocol error */
    SCU_ECHO_TIMEOUT,     /* TCP connect, A-ASSOCIATE-AC or C-ECHO-RSP timed out */
    SCU_ECHO_LOCAL_ERROR  /* out of memory or a request that could not be encoded */
} scu_echo_result;

/* The outcome of scu_echo. */
typedef struct scu_echo_outcome {
    scu_echo_result result;
    uint16_t status;       /* Status (0000,0900) of the C-ECHO-RSP, when one arrived */
    char comment[65];      /* Error Comment (0000,0902) of the C-ECHO-RSP, or "" */
    uint64_t milliseconds; /* from the TCP connect to the C-ECHO-RSP, when one arrived */
    char reason[256];      /* why it failed, for every result but SCU_ECHO_ANSWERED */
} scu_echo_outcome;

/*
 * Sends one C-ECHO-RQ from calling_ae to remote, with the network
 * settings of conf (connect, ARTIM and DIMSE timeouts, PDU sizes), and
 * releases the association after the response. Waits up to
 * SCU_SLOT_WAIT_SECONDS for a free slot of remote->max_associations.
 * log may be NULL. Fills *out; never fails otherwise.
 */
void scu_echo(const cairn_conf *conf, const conf_remote *remote, const char *calling_ae,
              const log_ctx *log, scu_echo_outcome *out);

#endif
