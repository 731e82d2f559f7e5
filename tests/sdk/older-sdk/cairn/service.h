/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service registration: how a plugin tells the host which SOP classes it
 * serves, in which roles, with which transfer syntaxes, and which handler
 * answers each DIMSE operation.
 *
 * The host uses the registered services during association negotiation
 * (PS3.8): a presentation context whose abstract syntax no service hosted
 * by the called AE serves is rejected with reason 3 (abstract syntax not
 * supported), one whose transfer syntaxes are all outside the service's
 * list with reason 4 (transfer syntaxes not supported).
 */
#ifndef CAIRN_SERVICE_H
#define CAIRN_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/dataset.h"
#include "cairn/status.h"
#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* An accepted association. Opaque; owned by the host. */
typedef struct cairn_assoc cairn_assoc;

/* A received DIMSE request: command set plus optional data set. Opaque. */
typedef struct cairn_message cairn_message;

/* The response a handler builds. Opaque; owned by the host. */
typedef struct cairn_reply cairn_reply;

/* DIMSE operations, numbered as their request Command Field (PS3.7 E.1). */
typedef enum cairn_dimse_op {
    CAIRN_OP_C_STORE = 0x0001,
    CAIRN_OP_C_GET = 0x0010,
    CAIRN_OP_C_FIND = 0x0020,
    CAIRN_OP_C_MOVE = 0x0021,
    CAIRN_OP_C_ECHO = 0x0030,
    CAIRN_OP_N_EVENT_REPORT = 0x0100,
    CAIRN_OP_N_GET = 0x0110,
    CAIRN_OP_N_SET = 0x0120,
    CAIRN_OP_N_ACTION = 0x0130,
    CAIRN_OP_N_CREATE = 0x0140,
    CAIRN_OP_N_DELETE = 0x0150,
    CAIRN_OP_SENTINEL_ = 0x7fffffff
} cairn_dimse_op;

/* Roles a service takes for its SOP classes (PS3.8 D.3.3.4). */
#define CAIRN_ROLE_SCP 0x1u
#define CAIRN_ROLE_SCU 0x2u

/*
 * Handles one request. Runs on the association's worker thread; handlers of
 * different associations run concurrently, so shared state needs locks.
 *
 * request and its data sets are borrowed for the call. The handler sets the
 * status (and optionally an Error Comment and a data set) on reply; the host
 * sends the response after the handler returns. A handler that returns a
 * cairn_status other than CAIRN_OK without setting a status makes the host
 * answer 0x0110 (processing failure) with the status text as Error Comment.
 */
typedef cairn_status (*cairn_dimse_handler)(void *service_state, cairn_assoc *assoc,
                                            const cairn_message *request,
                                            cairn_reply *reply);

/*
 * Answers SOP Class Extended Negotiation (PS3.7 D.3.3.5) for one SOP class
 * this service serves. request holds the bytes the peer sent; the handler
 * writes its answer to response (at most *response_len bytes) and sets
 * *response_len, or sets it to 0 to send no answer item. Thread-safe: may be
 * called from several association threads at once.
 */
typedef cairn_status (*cairn_extended_negotiation_fn)(void *service_state,
                                                      const char *sop_class_uid,
                                                      const uint8_t *request,
                                                      size_t request_len,
                                                      uint8_t *response,
                                                      size_t *response_len);

/*
 * Reports SOP Class Common Extended Negotiation (PS3.7 D.3.3.6) for one
 * SOP class. The item has no answer, so the service only learns of it.
 */
typedef void (*cairn_common_extended_negotiation_fn)(void *service_state,
                                                     const char *sop_class_uid,
                                                     const char *service_class_uid,
                                                     const char *const *related_sop_classes,
                                                     size_t related_count);

/*
 * A service a plugin registers with the host's register_service. The host
 * copies every field and every string, so the struct and its arrays may be
 * temporary. Set struct_size to sizeof(cairn_service). Since SDK 1.0.
 */
typedef struct cairn_service {
    /* sizeof(cairn_service) as the plugin was built. */
    uint32_t struct_size;

    /* Roles the service takes: CAIRN_ROLE_SCP, CAIRN_ROLE_SCU or both. */
    uint32_t roles;

    /* Short name for logs, e.g. "storage". */
    const char *name;

    /* Abstract syntaxes (SOP Class UIDs) served. */
    const char *const *sop_classes;
    size_t sop_class_count;

    /*
     * Transfer syntaxes accepted, in no particular order: the AE's
     * preference list decides which one is chosen. NULL accepts every
     * transfer syntax the core can decode.
     */
    const char *const *transfer_syntaxes;
    size_t transfer_syntax_count;

    /* Passed back as service_state to every callback below. */
    void *state;

    /* One handler per DIMSE operation; NULL where the service has none. */
    cairn_dimse_handler on_c_store;
    cairn_dimse_handler on_c_find;
    cairn_dimse_handler on_c_get;
    cairn_dimse_handler on_c_move;
    cairn_dimse_handler on_c_echo;
    cairn_dimse_handler on_n_event_report;
    cairn_dimse_handler on_n_get;
    cairn_dimse_handler on_n_set;
    cairn_dimse_handler on_n_action;
    cairn_dimse_handler on_n_create;
    cairn_dimse_handler on_n_delete;

    /* Optional extended negotiation callbacks; NULL answers nothing. */
    cairn_extended_negotiation_fn negotiate_extended;
    cairn_common_extended_negotiation_fn negotiate_common_extended;
} cairn_service;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_service) == 160, "cairn_service layout is ABI");
#endif

/* What happened to an instance given to the host's archive_store. */
typedef enum cairn_store_outcome {
    CAIRN_STORE_STORED = 0,   /* new instance archived */
    CAIRN_STORE_REPLACED = 1, /* replaced an archived instance of the same UID */
    CAIRN_STORE_KEPT = 2,     /* duplicate; the archived instance was kept */
    CAIRN_STORE_REJECTED = 3, /* duplicate; rejected by policy */
    CAIRN_STORE_OUTCOME_SENTINEL_ = 0x7fffffff
} cairn_store_outcome;

/* What archive_store does with a SOP Instance UID already archived. */
typedef enum cairn_duplicate_policy {
    CAIRN_DUPLICATE_KEEP = 0,    /* keep the archived instance, drop the new one */
    CAIRN_DUPLICATE_REPLACE = 1, /* archive the new one, remove the old one */
    CAIRN_DUPLICATE_REJECT = 2,  /* drop the new one and report REJECTED */
    CAIRN_DUPLICATE_SENTINEL_ = 0x7fffffff
} cairn_duplicate_policy;

CAIRN_EXTERN_C_END

#endif
