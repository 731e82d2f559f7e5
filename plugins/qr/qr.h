/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations shared by the files of the Query/Retrieve SCP plugin: its
 * settings, the three information models, the keys it supports, and the
 * checks an identifier must pass before it reaches the index.
 */
#ifndef CAIRN_QR_H
#define CAIRN_QR_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/cairn.h>

/* Settings and host handles, shared read-only by every association. */
typedef struct qr_state {
    const cairn_host_api *api;
    cairn_plugin *self;
    uint64_t max_matches;          /* matches (C-FIND) or instances (retrieval) */
    int pn_case_sensitive;         /* person names match case-sensitively */
    int64_t pending_interval_ms;   /* least time between retrieval pending responses */
} qr_state;

/* The Query/Retrieve information models (PS3.4 C.6). */
typedef enum qr_model_id {
    QR_MODEL_PATIENT_ROOT,
    QR_MODEL_STUDY_ROOT,
    QR_MODEL_PATIENT_STUDY_ONLY
} qr_model_id;

/* One information model: its SOP classes and the levels it defines. */
typedef struct qr_model {
    qr_model_id id;
    const char *name;
    const char *find_uid;
    const char *move_uid;
    const char *get_uid;
    cairn_index_level top;    /* highest level of the model */
    cairn_index_level bottom; /* lowest level of the model */
} qr_model;

/* The DIMSE operation a SOP class of a model serves. */
typedef enum qr_operation {
    QR_OP_FIND,
    QR_OP_MOVE,
    QR_OP_GET
} qr_operation;

/* Returns the model and operation of sop_class, or NULL for a foreign UID. */
const qr_model *qr_model_find(const char *sop_class, qr_operation *operation);

/* The SOP Class UIDs of one operation in all models, for registration. */
extern const char *const qr_find_classes[3];
extern const char *const qr_move_classes[3];
extern const char *const qr_get_classes[3];

/* Returns the DICOM name of level ("PATIENT", "STUDY", "SERIES", "IMAGE"). */
const char *qr_level_name(cairn_index_level level);

/*
 * Outcome of checking a request identifier: status 0 when it passed, else
 * the DIMSE status to answer with and an Error Comment.
 */
typedef struct qr_check {
    cairn_dimse_status status;
    char comment[128];
    cairn_index_level level;
} qr_check;

/*
 * Reads Query/Retrieve Level (0008,0052) of identifier and checks it is
 * one of model's levels. Fills check->level, or sets an A900 status.
 */
void qr_read_level(const qr_state *st, const qr_model *model, const cairn_dataset *identifier,
                   qr_check *check);

/*
 * Checks a C-FIND identifier against model at check->level. Unless
 * relational queries were negotiated, the Unique Key of every level above
 * must hold one value and no key of a level below may be present.
 */
void qr_check_find(const qr_state *st, const qr_model *model, const cairn_dataset *identifier,
                   int relational, qr_check *check);

/*
 * Checks a C-MOVE or C-GET identifier against model at check->level: the
 * level's Unique Key must be present, Unique Keys never hold wildcards,
 * and unless relational retrieval was negotiated every level above needs
 * its Unique Key with one value. At PATIENT level an Issuer of Patient ID,
 * when present, must hold one value too.
 */
void qr_check_retrieve(const qr_state *st, const qr_model *model,
                       const cairn_dataset *identifier, int relational, qr_check *check);

/*
 * Copies the Unique Keys of identifier down to level, its Specific
 * Character Set and, at PATIENT level, its Issuer of Patient ID into a new
 * data set for an instance-level query. NULL when out of memory.
 */
cairn_dataset *qr_retrieve_keys(const qr_state *st, const qr_model *model,
                                const cairn_dataset *identifier, cairn_index_level level);

/*
 * One key this plugin supports for existence and matching: a tag, its VR,
 * the levels whose responses carry it (bit 1 << level), and for Unique
 * Keys the level they identify.
 */
typedef struct qr_key {
    cairn_tag tag;
    cairn_vr vr;
    const char *name;
    cairn_index_level level;  /* level in Patient Root */
    int unique;
    unsigned returned_levels;
} qr_key;

/* Returns the supported key with tag, or NULL. */
const qr_key *qr_key_find(cairn_tag tag);

/* Returns the level of key in model: patient keys are study keys in Study Root. */
cairn_index_level qr_key_level(const qr_key *key, const qr_model *model);

/*
 * Reads whether the association accepted the first byte of extended
 * negotiation (relational queries or retrieval) and, for C-FIND, the
 * second (combined date-time matching).
 */
void qr_negotiated(const qr_state *st, const cairn_assoc *assoc, const char *sop_class,
                   int *relational, int *combined_datetime);

/* Handlers of C-FIND, C-MOVE and C-GET; service_state is the qr_state. */
cairn_status qr_on_c_find(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                          cairn_reply *reply);
cairn_status qr_on_c_move(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                          cairn_reply *reply);
cairn_status qr_on_c_get(void *service_state, cairn_assoc *assoc, const cairn_message *request,
                         cairn_reply *reply);

/*
 * Builds the C-FIND response identifier for one matching row: the keys of
 * request that this plugin supports at level, with the row's values, and
 * the Unique Keys of the levels above. Sets *unsupported when request
 * holds a standard key that had to be left out. NULL when out of memory.
 */
cairn_dataset *qr_find_response(const qr_state *st, const cairn_assoc *assoc,
                                const qr_model *model, const cairn_dataset *request,
                                const cairn_index_row *row, cairn_index_level level,
                                int *unsupported);

/*
 * Copies the value of tag in attributes into out as vr, or a zero-length
 * value when attributes has none. Sets *non_ascii when the value has a
 * byte above 0x7F. Returns non-zero when out of memory.
 */
int qr_copy_value(const qr_state *st, const cairn_dataset *attributes, cairn_dataset *out,
                  cairn_tag tag, cairn_vr vr, int *non_ascii);

/*
 * qr_sequence.c: copies the requested key from stored into out; a
 * sequence key keeps the stored items, each with only the attributes the
 * key's item requests (all of them when it requests none). Returns
 * non-zero when out of memory.
 */
int qr_copy_sequence_key(const qr_state *st, const cairn_element *requested,
                         const cairn_dataset *stored, cairn_dataset *out, int *non_ascii);

/* Returns the Unique Key tag of level. */
cairn_tag qr_unique_tag(cairn_index_level level);

#endif
