/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage Commitment SCU (PS3.4 J), the data router's backup role: after a
 * send job delivered instances to a remote whose `commitment` group is
 * set, the archive requests by N-ACTION that the remote commit to keeping them
 * and records the answer per instance in the index (the commitment ops of
 * index.h). A tracker thread sends the N-ACTIONs, asks again for what is
 * still pending when no report came in time, and marks instances failed
 * after the configured number of requests. Reports arrive on the N-ACTION
 * association or on a new association that the remote opens to our AE,
 * which the commitment plugin hands to commit_apply_report.
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef CAIRN_COMMIT_H
#define CAIRN_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cairn/cairn.h>

#include "archive/archive.h"
#include "config/conf.h"
#include "dcm/dcm.h"
#include "runtime/runtime.h"
#include "util/log.h"

#define COMMIT_SOP_CLASS "1.2.840.10008.1.20.1"
#define COMMIT_SOP_INSTANCE "1.2.840.10008.1.20.1.1"

/* Event Type IDs of the N-EVENT-REPORT (PS3.4 J.3.3). */
#define COMMIT_EVENT_ALL_COMMITTED 1u
#define COMMIT_EVENT_SOME_FAILED 2u

/* Maximum references in one N-ACTION; a larger transaction is split. */
#define COMMIT_MAX_REFERENCES 10000u

/* One instance a send job delivered. */
typedef struct commit_instance {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *study_instance_uid;
} commit_instance;

typedef struct commit_tracker commit_tracker;

/* Starts the tracker thread, which resumes the pending requests kept in the index. */
int commit_start(runtime *rt, archive *ar, commit_tracker **out);

/* Stops the tracker; pending requests stay in the index. NULL is fine. */
void commit_stop(commit_tracker *tracker);

/*
 * Records the instances a send job delivered to remote as pending and due
 * at once, sharing a new UID that groups them until the tracker sends
 * them under a Transaction UID of their own, and wakes the tracker. Does
 * nothing (CAIRN_OK) when remote has no enabled `commitment` group.
 * calling_ae is the send job's calling AE, used unless the group names one.
 */
cairn_status commit_request_sent(const cairn_conf *conf, archive *ar, const char *remote,
                                 const char *calling_ae, const commit_instance *instances,
                                 size_t count);

/*
 * Decides whether an association requestor may take the SCP role of the
 * Storage Commitment SOP Class: only a remote with an enabled
 * `commitment` group, calling the AE that requests commitment of it.
 */
bool commit_report_role_allowed(const cairn_conf *conf, const char *called_ae,
                                const char *calling_ae);

/*
 * Applies a Storage Commitment N-EVENT-REPORT that reporter sent to the
 * archive: marks the instances of its Referenced SOP Sequence committed
 * and those of its Failed SOP Sequence failed with their Failure Reason.
 * Sets *rsp_status to the Status of the N-EVENT-REPORT-RSP and, when it is
 * a failure, comment (at least 65 bytes) to the Error Comment.
 */
void commit_apply_report(archive *ar, const log_ctx *log, const char *reporter,
                         uint16_t event_type_id, const dcm_dataset *event_info,
                         uint16_t *rsp_status, char *comment, size_t comment_size);

/* Returns the seconds to wait after the attempts-th failed N-ACTION (attempts >= 1). */
int64_t commit_retry_delay(const conf_remote_commitment *settings, unsigned attempts);

/* Writes a new UID under the 2.25 root (PS3.5 B.2) to out; -1 without random numbers. */
int commit_new_uid(char out[65]);

/* Returns microseconds since the Unix epoch. */
int64_t commit_now_us(void);

/* Wakes the tracker so that it looks for due requests at once. */
void commit_wake(void);

#endif
