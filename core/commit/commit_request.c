/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The start of a Storage Commitment request: the pending rows a send job
 * leaves for the tracker, the retry schedule, new Transaction UIDs, and the
 * negotiation rule for reports on a new association.
 */
#include "commit/commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int64_t commit_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int commit_new_uid(char out[65])
{
    unsigned __int128 value = 0;
    uint8_t bytes[16];
    char digits[40];
    size_t n = 0;

    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return -1;
    /* A version 4 UUID as one integer, as PS3.5 B.2 derives 2.25 UIDs. */
    bytes[6] = (uint8_t)((bytes[6] & 0x0F) | 0x40);
    bytes[8] = (uint8_t)((bytes[8] & 0x3F) | 0x80);
    for (size_t i = 0; i < sizeof bytes; i++)
        value = (value << 8) | bytes[i];
    do {
        digits[n++] = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value != 0);

    memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < n; i++)
        out[5 + i] = digits[n - 1 - i];
    out[5 + n] = '\0';
    return 0;
}

int64_t commit_retry_delay(const conf_remote_commitment *settings, unsigned attempts)
{
    int64_t delay = settings->retry_delay;

    for (unsigned i = 1; i < attempts && delay < settings->retry_delay_max; i++)
        delay *= 2;
    return delay < settings->retry_delay_max ? delay : settings->retry_delay_max;
}

bool commit_report_role_allowed(const cairn_conf *conf, const char *called_ae,
                                const char *calling_ae)
{
    const conf_remote *remote;

    if (conf == NULL || called_ae == NULL || calling_ae == NULL)
        return false;
    remote = conf_find_remote(conf, calling_ae);
    if (remote == NULL || !remote->commitment.enabled)
        return false;
    /* Without calling_ae each send job's calling AE requests, so any of our AEs may get reports. */
    return remote->commitment.calling_ae == NULL ||
           strcmp(remote->commitment.calling_ae, called_ae) == 0;
}

cairn_status commit_request_sent(const cairn_conf *conf, archive *ar, const char *remote,
                                 const char *calling_ae, const commit_instance *instances,
                                 size_t count)
{
    const conf_remote *target = conf_find_remote(conf, remote);
    const cairn_index_ops *ops = archive_index_ops(ar);
    cairn_commitment *rows = NULL;
    char group_uid[65];
    int64_t now = commit_now_us();
    cairn_status st;

    if (target == NULL || !target->commitment.enabled || count == 0)
        return CAIRN_OK;
    if (ops->struct_size < offsetof(cairn_index_ops, commitment_list) + sizeof ops->commitment_list ||
        ops->commitment_put == NULL || ops->commitment_list == NULL ||
        ops->commitment_report == NULL) {
        log_error(NULL, "commitment: the index back end %s cannot keep storage commitment; "
                  "%s is not asked to commit", ops->name, remote);
        return CAIRN_ERR_UNSUPPORTED;
    }
    /* The rows of one send job share a key until the tracker gives each N-ACTION its own UID. */
    if (commit_new_uid(group_uid) != 0)
        return CAIRN_ERR_INTERNAL;
    rows = calloc(count, sizeof *rows);
    if (rows == NULL)
        return CAIRN_ERR_NO_MEMORY;

    for (size_t i = 0; i < count; i++) {
        rows[i].struct_size = sizeof rows[i];
        rows[i].state = CAIRN_COMMITMENT_PENDING;
        rows[i].remote_ae = target->title;
        rows[i].sop_instance_uid = instances[i].sop_instance_uid;
        rows[i].sop_class_uid = instances[i].sop_class_uid;
        rows[i].study_instance_uid = instances[i].study_instance_uid;
        rows[i].calling_ae = target->commitment.calling_ae != NULL
                                 ? target->commitment.calling_ae : calling_ae;
        rows[i].transaction_uid = group_uid;
        rows[i].note = "to be requested";
        rows[i].due_at_us = now;
        rows[i].updated_at_us = now;
    }
    st = ops->commitment_put(archive_index_db(ar), rows, count);
    free(rows);
    if (st != CAIRN_OK) {
        log_error(NULL, "commitment: recording %zu instance(s) to be committed by %s failed: %s",
                  count, remote, cairn_strerror(st));
        return st;
    }
    log_info(NULL, "commitment: %zu instance(s) sent to %s wait for its storage commitment",
             count, remote);
    commit_wake();
    return CAIRN_OK;
}
