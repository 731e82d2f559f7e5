/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DICOM Upper Layer PDUs (PS3.8 section 9.3, user information items of
 * PS3.8 annex D and PS3.7 annex D.3.3): the structures of the seven PDU
 * types and their encoders and decoders. Multi-byte fields are big endian
 * on the wire. Decoders treat the input as hostile: every length is checked
 * against the enclosing one, and a failure names the A-ABORT reason or the
 * A-ASSOCIATE-RJ that answers it.
 *
 * Strings in the structures are NUL-terminated. AE titles are stored with
 * leading and trailing spaces removed; UIDs without trailing NUL or space
 * padding. Dynamic arrays are allocated with malloc and released by
 * ul_assoc_rq_free() and ul_assoc_ac_free().
 */
#ifndef CAIRN_UL_PDU_H
#define CAIRN_UL_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UL_AE_TITLE_MAX 16
#define UL_UID_MAX 64
#define UL_IMPL_VERSION_MAX 16
/* At most 128 presentation contexts fit the odd IDs 1..255. */
#define UL_PCTX_MAX 128
#define UL_TS_PER_PCTX_MAX 64
/* Sub-item lengths are 16-bit, so the application information of a SOP
 * Class Extended Negotiation sub-item never exceeds this. */
#define UL_EXT_NEG_INFO_MAX 65535
/* Largest A-ASSOCIATE-RQ/AC PDU body accepted, whatever max PDU we
 * announce: 128 contexts of 64 transfer syntaxes take about 570 KiB. */
#define UL_ASSOC_PDU_MAX (2u * 1024u * 1024u)
/* The only protocol version defined by PS3.8: bit 0 of the field. */
#define UL_PROTOCOL_VERSION 0x0001
#define UL_PDU_HEADER_LEN 6
#define UL_DICOM_APPLICATION_CONTEXT "1.2.840.10008.3.1.1.1"

enum ul_pdu_type {
    UL_PDU_ASSOC_RQ = 0x01,
    UL_PDU_ASSOC_AC = 0x02,
    UL_PDU_ASSOC_RJ = 0x03,
    UL_PDU_P_DATA_TF = 0x04,
    UL_PDU_RELEASE_RQ = 0x05,
    UL_PDU_RELEASE_RP = 0x06,
    UL_PDU_ABORT = 0x07
};

/* A-ABORT source (PS3.8 table 9-26). */
enum ul_abort_source {
    UL_ABORT_SOURCE_USER = 0,
    UL_ABORT_SOURCE_PROVIDER = 2
};

/* A-ABORT reason, meaningful when the source is the service-provider. */
enum ul_abort_reason {
    UL_ABORT_REASON_NOT_SPECIFIED = 0,
    UL_ABORT_REASON_UNRECOGNIZED_PDU = 1,
    UL_ABORT_REASON_UNEXPECTED_PDU = 2,
    UL_ABORT_REASON_UNRECOGNIZED_PARAMETER = 4,
    UL_ABORT_REASON_UNEXPECTED_PARAMETER = 5,
    UL_ABORT_REASON_INVALID_PARAMETER = 6
};

/* A-ASSOCIATE-RJ result, source and reason (PS3.8 table 9-21). */
enum ul_reject_result {
    UL_REJECT_PERMANENT = 1,
    UL_REJECT_TRANSIENT = 2
};

enum ul_reject_source {
    UL_REJECT_SOURCE_USER = 1,
    UL_REJECT_SOURCE_PROVIDER_ACSE = 2,
    UL_REJECT_SOURCE_PROVIDER_PRESENTATION = 3
};

enum ul_reject_reason {
    /* source 1, service-user */
    UL_REJECT_USER_NO_REASON = 1,
    UL_REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED = 2,
    UL_REJECT_USER_CALLING_AE_NOT_RECOGNIZED = 3,
    UL_REJECT_USER_CALLED_AE_NOT_RECOGNIZED = 7,
    /* source 2, service-provider (ACSE) */
    UL_REJECT_ACSE_NO_REASON = 1,
    UL_REJECT_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED = 2,
    /* source 3, service-provider (presentation) */
    UL_REJECT_PRESENTATION_TEMPORARY_CONGESTION = 1,
    UL_REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED = 2
};

/* Result of one presentation context in the A-ASSOCIATE-AC (table 9-18). */
enum ul_pctx_result {
    UL_PCTX_ACCEPTANCE = 0,
    UL_PCTX_USER_REJECTION = 1,
    UL_PCTX_NO_REASON = 2,
    UL_PCTX_ABSTRACT_SYNTAX_NOT_SUPPORTED = 3,
    UL_PCTX_TRANSFER_SYNTAXES_NOT_SUPPORTED = 4
};

/* User identity type (PS3.7 table D.3-14). */
enum ul_user_identity_type {
    UL_USER_IDENTITY_USERNAME = 1,
    UL_USER_IDENTITY_USERNAME_PASSCODE = 2,
    UL_USER_IDENTITY_KERBEROS = 3,
    UL_USER_IDENTITY_SAML = 4,
    UL_USER_IDENTITY_JWT = 5
};

typedef char ul_uid[UL_UID_MAX + 1];

/* A presentation context proposed in the A-ASSOCIATE-RQ. */
typedef struct ul_pctx_rq {
    uint8_t id; /* odd, 1..255 */
    ul_uid abstract_syntax;
    ul_uid *transfer_syntaxes;
    size_t transfer_syntax_count; /* 1..UL_TS_PER_PCTX_MAX */
} ul_pctx_rq;

/* The result for one presentation context in the A-ASSOCIATE-AC. */
typedef struct ul_pctx_ac {
    uint8_t id;
    uint8_t result;         /* enum ul_pctx_result */
    ul_uid transfer_syntax; /* meaningful only with UL_PCTX_ACCEPTANCE */
} ul_pctx_ac;

/* SCP/SCU role selection sub-item (54H), in both directions. */
typedef struct ul_role_selection {
    ul_uid sop_class_uid;
    uint8_t scu_role; /* 0 or 1 */
    uint8_t scp_role; /* 0 or 1 */
} ul_role_selection;

/* SOP class extended negotiation sub-item (56H), in both directions. */
typedef struct ul_ext_neg {
    ul_uid sop_class_uid;
    uint8_t *info; /* service-class-application-information */
    size_t info_len;
} ul_ext_neg;

/* SOP class common extended negotiation sub-item (57H, RQ only). */
typedef struct ul_common_ext_neg {
    ul_uid sop_class_uid;
    ul_uid service_class_uid;
    ul_uid *related_sop_classes;
    size_t related_sop_class_count;
} ul_common_ext_neg;

/* Asynchronous operations window sub-item (53H). */
typedef struct ul_async_window {
    bool present;
    uint16_t invoked;
    uint16_t performed;
} ul_async_window;

/* User identity negotiation sub-item of the RQ (58H). */
typedef struct ul_user_identity_rq {
    bool present;
    uint8_t type; /* enum ul_user_identity_type */
    bool positive_response_requested;
    uint8_t *primary;
    size_t primary_len;
    uint8_t *secondary; /* passcode, only with type 2 */
    size_t secondary_len;
} ul_user_identity_rq;

/* User identity negotiation sub-item of the AC (59H). */
typedef struct ul_user_identity_ac {
    bool present;
    uint8_t *server_response;
    size_t server_response_len;
} ul_user_identity_ac;

typedef struct ul_user_info_rq {
    uint32_t max_pdu_length; /* 0: no limit */
    ul_uid implementation_class_uid;
    char implementation_version_name[UL_IMPL_VERSION_MAX + 1];
    ul_async_window async_window;
    ul_role_selection *roles;
    size_t role_count;
    ul_ext_neg *ext_neg;
    size_t ext_neg_count;
    ul_common_ext_neg *common_ext_neg;
    size_t common_ext_neg_count;
    ul_user_identity_rq user_identity;
} ul_user_info_rq;

typedef struct ul_user_info_ac {
    uint32_t max_pdu_length; /* 0: no limit */
    ul_uid implementation_class_uid;
    char implementation_version_name[UL_IMPL_VERSION_MAX + 1];
    ul_async_window async_window;
    ul_role_selection *roles;
    size_t role_count;
    ul_ext_neg *ext_neg;
    size_t ext_neg_count;
    ul_user_identity_ac user_identity;
} ul_user_info_ac;

typedef struct ul_assoc_rq {
    uint16_t protocol_version;
    char called_ae[UL_AE_TITLE_MAX + 1];
    char calling_ae[UL_AE_TITLE_MAX + 1];
    ul_uid application_context;
    ul_pctx_rq *pctx;
    size_t pctx_count;
    ul_user_info_rq user_info;
} ul_assoc_rq;

typedef struct ul_assoc_ac {
    uint16_t protocol_version;
    /* Echoed from the RQ; the standard says they are not tested on receipt. */
    char called_ae[UL_AE_TITLE_MAX + 1];
    char calling_ae[UL_AE_TITLE_MAX + 1];
    ul_uid application_context;
    ul_pctx_ac *pctx;
    size_t pctx_count;
    ul_user_info_ac user_info;
} ul_assoc_ac;

typedef struct ul_assoc_rj {
    uint8_t result; /* enum ul_reject_result */
    uint8_t source; /* enum ul_reject_source */
    uint8_t reason; /* enum ul_reject_reason, read with the source */
} ul_assoc_rj;

typedef struct ul_abort_info {
    uint8_t source; /* enum ul_abort_source */
    uint8_t reason; /* enum ul_abort_reason */
} ul_abort_info;

/* One presentation data value: a fragment of a command or data set. */
typedef struct ul_pdv {
    uint8_t pctx_id;
    bool command; /* message control header bit 0 */
    bool last;    /* message control header bit 1 */
    const uint8_t *data;
    size_t len;
} ul_pdv;

/*
 * Why a received PDU is not acceptable and how to answer it: an A-ABORT
 * (source service-provider) with abort_reason, or, when reject is true, the
 * A-ASSOCIATE-RJ in rj. message says what was wrong, for the log.
 */
typedef struct ul_decode_error {
    bool reject;
    uint8_t abort_reason; /* enum ul_abort_reason */
    ul_assoc_rj rj;
    char message[160];
} ul_decode_error;

/*
 * Encoders. ul_encode_assoc_rq/ac allocate *out with malloc (the caller
 * frees it) and return 0, or -1 when a field cannot be encoded (empty or
 * too long AE title or UID, even or duplicate context ID, too many
 * contexts or transfer syntaxes, sub-item over 64 KiB, allocation failure).
 * Zero max_pdu_length and empty optional fields are left out of the PDU.
 */
int ul_encode_assoc_rq(const ul_assoc_rq *rq, uint8_t **out, size_t *len);
int ul_encode_assoc_ac(const ul_assoc_ac *ac, uint8_t **out, size_t *len);
int ul_encode_assoc_rj(const ul_assoc_rj *rj, uint8_t buf[10]);
void ul_encode_release_rq(uint8_t buf[10]);
void ul_encode_release_rp(uint8_t buf[10]);
void ul_encode_abort(uint8_t source, uint8_t reason, uint8_t buf[10]);
/* Encodes a P-DATA-TF PDU carrying count PDVs, each of at least one byte. */
int ul_encode_p_data(const ul_pdv *pdvs, size_t count, uint8_t **out, size_t *len);

/*
 * Decoders take a whole PDU, header included, and return 0, or -1 with *err
 * filled. On failure the output holds nothing that needs freeing.
 */
int ul_decode_assoc_rq(const uint8_t *pdu, size_t len, ul_assoc_rq *out,
                       ul_decode_error *err);
int ul_decode_assoc_ac(const uint8_t *pdu, size_t len, ul_assoc_ac *out,
                       ul_decode_error *err);
int ul_decode_assoc_rj(const uint8_t *pdu, size_t len, ul_assoc_rj *out,
                       ul_decode_error *err);
int ul_decode_abort(const uint8_t *pdu, size_t len, ul_abort_info *out,
                    ul_decode_error *err);
/* Checks an A-RELEASE-RQ or A-RELEASE-RP PDU. */
int ul_decode_release(const uint8_t *pdu, size_t len, ul_decode_error *err);

/*
 * Checks every PDV item of a P-DATA-TF PDU: the PDU is at most max_pdu_length
 * bytes after its header (0: no limit), item lengths add up to the PDU
 * length, each item carries at least one byte of data, and, when
 * pctx_accepted is not NULL, pctx_accepted[id] is true for each item.
 */
int ul_decode_p_data_check(const uint8_t *pdu, size_t len, uint32_t max_pdu_length,
                           const bool pctx_accepted[256], ul_decode_error *err);
/*
 * Reads the PDV item at *offset of a P-DATA-TF PDU already checked with
 * ul_decode_p_data_check(), and advances *offset. Start with offset 0.
 * Returns false when no item is left.
 */
bool ul_p_data_next(const uint8_t *pdu, size_t len, size_t *offset, ul_pdv *pdv);

/* Release the dynamic parts and zero the structure; NULL is allowed. */
void ul_assoc_rq_free(ul_assoc_rq *rq);
void ul_assoc_ac_free(ul_assoc_ac *ac);

/*
 * Builders for the dynamic arrays; each copies its arguments and returns 0,
 * or -1 on an over-long UID, a full array or allocation failure.
 */
int ul_assoc_rq_add_pctx(ul_assoc_rq *rq, uint8_t id, const char *abstract_syntax,
                         const char *const *transfer_syntaxes, size_t count);
int ul_assoc_ac_add_pctx(ul_assoc_ac *ac, uint8_t id, uint8_t result,
                         const char *transfer_syntax);
int ul_assoc_rq_add_role(ul_assoc_rq *rq, const char *sop_class_uid, bool scu, bool scp);
int ul_assoc_ac_add_role(ul_assoc_ac *ac, const char *sop_class_uid, bool scu, bool scp);

/* Returns the name of a PDU type ("A-ASSOCIATE-RQ"...), or "unknown". */
const char *ul_pdu_type_name(uint8_t type);

#endif
