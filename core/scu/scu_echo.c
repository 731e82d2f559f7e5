/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Verification SCU behind POST /v1/remotes/{title}/echo. It proposes
 * one presentation context, Verification with explicit then implicit VR
 * little endian, sends a C-ECHO-RQ with Message ID 1, reads the
 * C-ECHO-RSP (a command set only) and releases. A response that breaks
 * PS3.7 aborts the association.
 */
#include "scu/scu_echo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assoc/assoc.h"
#include "dimse/dimse.h"
#include "scu/scu_internal.h"

#define VERIFICATION_SOP_CLASS "1.2.840.10008.1.1"
#define ECHO_PCTX_ID 1
#define ECHO_MESSAGE_ID 1

static uint64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_failure(scu_echo_outcome *out, scu_echo_result result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_failure(scu_echo_outcome *out, scu_echo_result result, const char *fmt, ...)
{
    va_list ap;

    out->result = result;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Maps a failed ul_connect to the outcome, naming the step that failed. */
static void describe_connect_failure(const cairn_conf *conf, const conf_remote *remote, int rc,
                                     const ul_assoc_rj *rj, scu_echo_outcome *out)
{
    switch (rc) {
    case UL_REJECTED:
        set_failure(out, SCU_ECHO_REJECTED, "association rejected: %s (result %u, source %u, "
                    "reason %u)", scu_reject_reason(rj), rj->result, rj->source, rj->reason);
        return;
    case UL_TIMEOUT:
        set_failure(out, SCU_ECHO_TIMEOUT, "timed out: no TCP connection to %s port %d within "
                    "network.connect_timeout (%d s), or no A-ASSOCIATE-AC within "
                    "network.artim_timeout (%d s)", remote->host, remote->port,
                    conf->network.connect_timeout, conf->network.artim_timeout);
        return;
    case UL_CONNECT_FAILED:
        set_failure(out, SCU_ECHO_UNREACHABLE, "cannot connect to %s port %d: %s",
                    remote->host, remote->port,
                    errno != 0 ? strerror(errno) : "host name not resolved");
        return;
    case UL_CLOSED:
        set_failure(out, SCU_ECHO_UNREACHABLE, "the connection to %s port %d closed before "
                    "the A-ASSOCIATE-AC", remote->host, remote->port);
        return;
    case UL_ABORTED:
        set_failure(out, SCU_ECHO_UNREACHABLE, "the remote aborted the association (A-ABORT) "
                    "before accepting it");
        return;
    case UL_PROTOCOL_ERROR:
        set_failure(out, SCU_ECHO_UNREACHABLE, "the remote broke the Upper Layer protocol "
                    "while the association was negotiated; A-ABORT sent");
        return;
    default:
        set_failure(out, SCU_ECHO_LOCAL_ERROR, "opening the association failed: %s",
                    ul_strerror(rc));
        return;
    }
}

/* Opens the association; returns NULL with out filled when it cannot be used. */
static ul_assoc *open_association(const cairn_conf *conf, const conf_remote *remote,
                                  const char *calling_ae, const log_ctx *log,
                                  scu_echo_outcome *out)
{
    static const char *const syntaxes[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
    ul_assoc_rq rq = {.protocol_version = UL_PROTOCOL_VERSION};
    ul_assoc_rj rj = {0};
    ul_assoc *ul = NULL;
    ul_params params;
    int rc;

    snprintf(rq.called_ae, sizeof rq.called_ae, "%s", remote->title);
    snprintf(rq.calling_ae, sizeof rq.calling_ae, "%s", calling_ae);
    snprintf(rq.application_context, sizeof rq.application_context, "%s",
             UL_DICOM_APPLICATION_CONTEXT);
    if (ul_assoc_rq_add_pctx(&rq, ECHO_PCTX_ID, VERIFICATION_SOP_CLASS, syntaxes, 2) != 0) {
        set_failure(out, SCU_ECHO_LOCAL_ERROR, "out of memory");
        goto out;
    }

    assoc_ul_params(conf, &params);
    rc = ul_connect(remote->host, (uint16_t)remote->port, &params, &rq, &ul, &rj);
    if (rc != UL_OK) {
        describe_connect_failure(conf, remote, rc, &rj, out);
        goto out;
    }
    if (log != NULL)
        ul_assoc_set_log_ctx(ul, log);

    if (!ul_assoc_pctx_accepted(ul, ECHO_PCTX_ID)) {
        set_failure(out, SCU_ECHO_REJECTED, "the remote accepted the association but not the "
                    "Verification SOP Class (%s) with explicit or implicit VR little endian",
                    VERIFICATION_SOP_CLASS);
        ul_release(ul);
        ul_assoc_destroy(ul);
        ul = NULL;
    }

out:
    ul_assoc_rq_free(&rq);
    return ul;
}

/* Sends the C-ECHO-RQ. Returns 0, or -1 with out filled. */
static int send_request(ul_assoc *ul, scu_echo_outcome *out)
{
    dcm_dataset *command = dcm_dataset_create();
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;

    if (command == NULL ||
        dcm_dataset_set_string(command, DIMSE_TAG_AFFECTED_SOP_CLASS_UID, DCM_VR_UI,
                               VERIFICATION_SOP_CLASS) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_COMMAND_FIELD, DIMSE_C_ECHO_RQ) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_MESSAGE_ID, ECHO_MESSAGE_ID) != DCM_OK ||
        dcm_dataset_set_u16(command, DIMSE_TAG_DATASET_TYPE, DIMSE_NO_DATASET) != DCM_OK ||
        dimse_encode_command(command, &bytes, &len) != DCM_OK) {
        dcm_dataset_destroy(command);
        set_failure(out, SCU_ECHO_LOCAL_ERROR, "cannot build the C-ECHO-RQ: out of memory");
        return -1;
    }
    dcm_dataset_destroy(command);

    rc = ul_write_pdv(ul, ECHO_PCTX_ID, true, bytes, len, true);
    free(bytes);
    if (rc == UL_OK)
        return 0;
    set_failure(out, rc == UL_TIMEOUT ? SCU_ECHO_TIMEOUT : SCU_ECHO_UNREACHABLE,
                "sending the C-ECHO-RQ failed: %s", ul_strerror(rc));
    return -1;
}

/* Aborts the association after a response that breaks PS3.7. Returns -1. */
static int protocol_failure(ul_assoc *ul, scu_echo_outcome *out, const char *problem)
{
    ul_abort(ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
    set_failure(out, SCU_ECHO_UNREACHABLE, "%s; the association was aborted", problem);
    return -1;
}

/* Reads the PDVs of one command set into *command. Returns 0, 1 when the association ended, or -1. */
static int read_command(ul_assoc *ul, unsigned timeout_ms, dcm_dataset **command,
                        scu_echo_outcome *out)
{
    uint8_t *buf = malloc(DIMSE_MAX_COMMAND_BYTES);
    size_t len = 0;
    ul_pdv pdv;
    int result = -1;
    int rc;

    *command = NULL;
    if (buf == NULL) {
        set_failure(out, SCU_ECHO_LOCAL_ERROR, "out of memory");
        return -1;
    }
    for (;;) {
        rc = ul_read_pdv(ul, &pdv, timeout_ms);
        if (rc == UL_TIMEOUT) {
            ul_abort(ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
            set_failure(out, SCU_ECHO_TIMEOUT, "timed out: no C-ECHO-RSP within "
                        "network.dimse_timeout (%u s); the association was aborted",
                        timeout_ms / 1000u);
            goto out;
        }
        if (rc == UL_RELEASE_REQUESTED) {
            result = protocol_failure(ul, out, "the remote requested a release before its "
                                      "C-ECHO-RSP");
            goto out;
        }
        if (rc != UL_OK) {
            set_failure(out, SCU_ECHO_UNREACHABLE, "the association failed while waiting for "
                        "the C-ECHO-RSP: %s", ul_strerror(rc));
            result = 1;
            goto out;
        }
        if (!pdv.command || pdv.pctx_id != ECHO_PCTX_ID ||
            pdv.len > DIMSE_MAX_COMMAND_BYTES - len) {
            result = protocol_failure(ul, out, "the remote sent a data set, a PDV on another "
                                      "presentation context or a command set over 64 KiB in "
                                      "place of a C-ECHO-RSP");
            goto out;
        }
        memcpy(buf + len, pdv.data, pdv.len);
        len += pdv.len;
        if (pdv.last)
            break;
    }

    if (dcm_parse_buffer(buf, len, DCM_TS_IMPLICIT_LE, NULL, command, NULL) != DCM_OK) {
        result = protocol_failure(ul, out, "the C-ECHO-RSP command set cannot be parsed");
        goto out;
    }
    result = 0;

out:
    free(buf);
    return result;
}

/*
 * Reads the C-ECHO-RSP into out. Returns 0 when the association is still
 * open, 1 when it ended, or -1 after aborting it.
 */
static int read_response(ul_assoc *ul, unsigned timeout_ms, scu_echo_outcome *out)
{
    dcm_dataset *command = NULL;
    uint32_t field = 0, responded = 0, status = 0;
    int rc = read_command(ul, timeout_ms, &command, out);

    if (rc != 0)
        return rc;

    dcm_dataset_get_uint(command, DIMSE_TAG_COMMAND_FIELD, 0, &field);
    dcm_dataset_get_uint(command, DIMSE_TAG_MESSAGE_ID_RESPONDED, 0, &responded);
    if (field != (DIMSE_C_ECHO_RQ | DIMSE_RESPONSE_BIT)) {
        char description[96];

        snprintf(description, sizeof description, "the remote sent %s (0x%04X) in place of a "
                 "C-ECHO-RSP", dimse_command_name((uint16_t)field), field);
        rc = protocol_failure(ul, out, description);
    } else if (responded != ECHO_MESSAGE_ID) {
        rc = protocol_failure(ul, out, "the C-ECHO-RSP answers another Message ID");
    } else if (dcm_dataset_get_uint(command, DIMSE_TAG_STATUS, 0, &status) != DCM_OK) {
        rc = protocol_failure(ul, out, "the C-ECHO-RSP has no Status");
    } else {
        out->result = SCU_ECHO_ANSWERED;
        out->status = (uint16_t)status;
        dcm_dataset_get_string(command, DIMSE_TAG_ERROR_COMMENT, 0, out->comment,
                               sizeof out->comment);
    }
    dcm_dataset_destroy(command);
    return rc;
}

void scu_echo(const cairn_conf *conf, const conf_remote *remote, const char *calling_ae,
              const log_ctx *log, scu_echo_outcome *out)
{
    unsigned timeout_ms = (unsigned)conf->network.dimse_timeout * 1000u;
    ul_assoc *ul;
    uint64_t started;
    int rc;

    memset(out, 0, sizeof *out);
    if (scu_slot_acquire(remote->title, remote->max_associations) != 0) {
        set_failure(out, SCU_ECHO_BUSY, "all %d associations to %s (max_associations) stayed "
                    "in use for %d s", remote->max_associations, remote->title,
                    SCU_SLOT_WAIT_SECONDS);
        log_warn(log, "scu: C-ECHO to %s not sent: %s", remote->title, out->reason);
        return;
    }

    started = monotonic_ms();
    ul = open_association(conf, remote, calling_ae, log, out);
    if (ul == NULL)
        goto out;
    if (send_request(ul, out) != 0) {
        ul_abort(ul, UL_ABORT_SOURCE_USER, UL_ABORT_REASON_NOT_SPECIFIED);
        goto out;
    }
    rc = read_response(ul, timeout_ms, out);
    out->milliseconds = monotonic_ms() - started;
    if (rc == 0) {
        rc = ul_release(ul);
        if (rc != UL_OK)
            log_warn(log, "scu: release of the association to %s after the C-ECHO failed: %s",
                     remote->title, ul_strerror(rc));
    }

out:
    ul_assoc_destroy(ul);
    scu_slot_release(remote->title);
    if (out->result == SCU_ECHO_ANSWERED)
        log_info(log, "scu: C-ECHO from %s to %s at %s port %d: status 0x%04X in %llu ms",
                 calling_ae, remote->title, remote->host, remote->port, out->status,
                 (unsigned long long)out->milliseconds);
    else
        log_warn(log, "scu: C-ECHO from %s to %s at %s port %d failed: %s", calling_ae,
                 remote->title, remote->host, remote->port, out->reason);
}
