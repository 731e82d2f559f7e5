/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Result codes of the SDK (cairn_status) and DIMSE status words.
 *
 * cairn_status says whether a call worked. A DIMSE status (PS3.7 annex C)
 * is what a service answers a peer; it is a separate type so that the two
 * are never mixed up. Numbers are never reused once released.
 */
#ifndef CAIRN_STATUS_H
#define CAIRN_STATUS_H

#include <stdint.h>

#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* Since SDK 1.0. */
typedef enum cairn_status {
    CAIRN_OK = 0,
    CAIRN_ERR_INVALID_ARGUMENT = 1, /* NULL handle, bad tag, value out of range */
    CAIRN_ERR_NO_MEMORY = 2,
    CAIRN_ERR_NOT_FOUND = 3,        /* attribute, key or instance absent */
    CAIRN_ERR_EXISTS = 4,           /* duplicate name or instance */
    CAIRN_ERR_IO = 5,               /* read, write or fsync failed */
    CAIRN_ERR_NO_SPACE = 6,         /* disk or quota full */
    CAIRN_ERR_PARSE = 7,            /* data that cannot be decoded */
    CAIRN_ERR_UNSUPPORTED = 8,      /* valid request this build cannot serve */
    CAIRN_ERR_CONFIG = 9,           /* invalid configuration value */
    CAIRN_ERR_TOO_SMALL = 10,       /* caller's buffer is too small */
    CAIRN_ERR_BUSY = 11,            /* resource locked; try again */
    CAIRN_ERR_TIMEOUT = 12,
    CAIRN_ERR_ABI = 13,             /* plugin built for an incompatible SDK */
    CAIRN_ERR_DATABASE = 14,        /* index back end failed */
    CAIRN_ERR_INTERNAL = 15,        /* a bug: please report it */
    CAIRN_ERR_LIMIT = 16,           /* a configured maximum was reached */
    CAIRN_ERR_CANCELLED = 17,       /* the peer cancelled the request */
    CAIRN_ERR_REFUSED = 18,         /* a remote AE rejected or aborted the association */
    CAIRN_ERR_OUTCOME_UNKNOWN = 19, /* a change may or may not have been committed */
    CAIRN_STATUS_SENTINEL_ = 0x7fffffff
} cairn_status;

/*
 * Returns a static English description of status; never NULL. Thread-safe.
 * Codes newer than this header are described as "unknown status".
 */
static inline const char *cairn_strerror(cairn_status status)
{
    switch (status) {
    case CAIRN_OK: return "success";
    case CAIRN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case CAIRN_ERR_NO_MEMORY: return "out of memory";
    case CAIRN_ERR_NOT_FOUND: return "not found";
    case CAIRN_ERR_EXISTS: return "already exists";
    case CAIRN_ERR_IO: return "input/output error";
    case CAIRN_ERR_NO_SPACE: return "no space left on device";
    case CAIRN_ERR_PARSE: return "data cannot be parsed";
    case CAIRN_ERR_UNSUPPORTED: return "not supported";
    case CAIRN_ERR_CONFIG: return "invalid configuration";
    case CAIRN_ERR_TOO_SMALL: return "buffer too small";
    case CAIRN_ERR_BUSY: return "resource busy";
    case CAIRN_ERR_TIMEOUT: return "timed out";
    case CAIRN_ERR_ABI: return "incompatible plugin ABI";
    case CAIRN_ERR_DATABASE: return "index database error";
    case CAIRN_ERR_INTERNAL: return "internal error";
    case CAIRN_ERR_LIMIT: return "configured limit reached";
    case CAIRN_ERR_CANCELLED: return "cancelled";
    case CAIRN_ERR_REFUSED: return "refused by the remote AE";
    case CAIRN_ERR_OUTCOME_UNKNOWN: return "outcome unknown";
    case CAIRN_STATUS_SENTINEL_: break;
    }
    return "unknown status";
}

/* A DIMSE Status (0000,0900) value. Since SDK 1.0. */
typedef uint16_t cairn_dimse_status;

/* General statuses (PS3.7 C.1 to C.5). */
#define CAIRN_DIMSE_SUCCESS 0x0000u
#define CAIRN_DIMSE_PENDING 0xFF00u
#define CAIRN_DIMSE_PENDING_WARNING 0xFF01u
#define CAIRN_DIMSE_CANCEL 0xFE00u
#define CAIRN_DIMSE_SOP_CLASS_NOT_SUPPORTED 0x0122u
#define CAIRN_DIMSE_PROCESSING_FAILURE 0x0110u
#define CAIRN_DIMSE_NO_SUCH_SOP_INSTANCE 0x0112u
#define CAIRN_DIMSE_DUPLICATE_SOP_INSTANCE 0x0111u
#define CAIRN_DIMSE_UNRECOGNIZED_OPERATION 0x0211u
#define CAIRN_DIMSE_MISTYPED_ARGUMENT 0x0212u
#define CAIRN_DIMSE_RESOURCE_LIMITATION 0x0213u

/* Query/Retrieve statuses (PS3.4 C.4). */
#define CAIRN_DIMSE_QR_OUT_OF_RESOURCES 0xA700u
#define CAIRN_DIMSE_QR_CANNOT_CALCULATE_MATCHES 0xA701u
#define CAIRN_DIMSE_QR_CANNOT_PERFORM_SUBOPERATIONS 0xA702u
#define CAIRN_DIMSE_QR_MOVE_DESTINATION_UNKNOWN 0xA801u
#define CAIRN_DIMSE_QR_IDENTIFIER_MISMATCH 0xA900u
#define CAIRN_DIMSE_QR_UNABLE_TO_PROCESS 0xC000u
#define CAIRN_DIMSE_QR_SUBOPERATIONS_FAILED 0xB000u

/* Storage statuses (PS3.4 B.2.3). */
#define CAIRN_DIMSE_STORE_OUT_OF_RESOURCES 0xA700u
#define CAIRN_DIMSE_STORE_DATASET_MISMATCH 0xA900u
#define CAIRN_DIMSE_STORE_CANNOT_UNDERSTAND 0xC000u
#define CAIRN_DIMSE_STORE_COERCED 0xB000u
#define CAIRN_DIMSE_STORE_ELEMENTS_DISCARDED 0xB006u
#define CAIRN_DIMSE_STORE_DATASET_MISMATCH_WARNING 0xB007u

CAIRN_EXTERN_C_END

#endif
