/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations shared by the files of core/commit: one N-ACTION request
 * as the tracker hands it to the association code.
 */
#ifndef CAIRN_COMMIT_INTERNAL_H
#define CAIRN_COMMIT_INTERNAL_H

#include "commit/commit.h"

/* One N-ACTION: the instances of one transaction at one remote. */
typedef struct commit_batch {
    const char *remote_ae;
    const char *calling_ae;
    const char *transaction_uid;
    const commit_instance *instances;
    size_t count;
} commit_batch;

/*
 * Requests Storage Commitment of batch from remote over a new association,
 * and applies a report the remote sends on it within the configured wait.
 * Returns 0 once the N-ACTION-RSP has status Success, or -1 with the
 * reason in error.
 */
int commit_action_send(const cairn_conf *conf, archive *ar, const conf_remote *remote,
                       const commit_batch *batch, const log_ctx *log, char *error,
                       size_t error_size);

#endif
