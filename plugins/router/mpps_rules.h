/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of the Modality Performed Procedure Step SOP Class (PS3.4
 * F.7.2) that the SCP enforces on N-CREATE and N-SET data sets, apart
 * from the plugin so that unit tests can run them on data sets of their
 * own. Each check returns 0 when the data set is valid; otherwise it fills
 * an mpps_error with the status and Error Comment of the response and the
 * attributes it is about.
 */
#ifndef MPPS_RULES_H
#define MPPS_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#define MPPS_SOP_CLASS "1.2.840.10008.3.1.2.3.3"

/* DIMSE statuses of N-CREATE and N-SET responses (PS3.7 C.4). */
#define MPPS_STATUS_NO_SUCH_ATTRIBUTE 0x0105u
#define MPPS_STATUS_INVALID_ATTRIBUTE_VALUE 0x0106u
#define MPPS_STATUS_PROCESSING_FAILURE 0x0110u
#define MPPS_STATUS_DUPLICATE_SOP_INSTANCE 0x0111u
#define MPPS_STATUS_NO_SUCH_SOP_INSTANCE 0x0112u
#define MPPS_STATUS_INVALID_SOP_INSTANCE 0x0117u
#define MPPS_STATUS_MISSING_ATTRIBUTE 0x0120u
#define MPPS_STATUS_MISSING_ATTRIBUTE_VALUE 0x0121u

/* Error ID (0000,0903) of an N-SET on a step that is no longer IN PROGRESS (PS3.4 F.7.2.2.4). */
#define MPPS_ERROR_ID_FINAL 0xA710u
#define MPPS_ERROR_COMMENT_FINAL "Performed Procedure Step Object may no longer be updated"

#define MPPS_MAX_ATTRIBUTES 8

#define TAG_SCHEDULED_STEP_ATTRIBUTES_SEQUENCE CAIRN_TAG(0x0040, 0x0270)
#define TAG_STUDY_INSTANCE_UID CAIRN_TAG(0x0020, 0x000D)
#define TAG_SERIES_INSTANCE_UID CAIRN_TAG(0x0020, 0x000E)
#define TAG_PPS_ID CAIRN_TAG(0x0040, 0x0253)
#define TAG_PPS_START_DATE CAIRN_TAG(0x0040, 0x0244)
#define TAG_PPS_START_TIME CAIRN_TAG(0x0040, 0x0245)
#define TAG_PPS_END_DATE CAIRN_TAG(0x0040, 0x0250)
#define TAG_PPS_END_TIME CAIRN_TAG(0x0040, 0x0251)
#define TAG_PPS_STATUS CAIRN_TAG(0x0040, 0x0252)
#define TAG_PERFORMED_SERIES_SEQUENCE CAIRN_TAG(0x0040, 0x0340)
#define TAG_REFERENCED_IMAGE_SEQUENCE CAIRN_TAG(0x0008, 0x1140)
#define TAG_REFERENCED_NON_IMAGE_SEQUENCE CAIRN_TAG(0x0040, 0x0220)
#define TAG_REFERENCED_SOP_CLASS_UID CAIRN_TAG(0x0008, 0x1150)
#define TAG_REFERENCED_SOP_INSTANCE_UID CAIRN_TAG(0x0008, 0x1155)

/* The response to an invalid request; status 0 means the request is valid. */
typedef struct mpps_error {
    cairn_dimse_status status;
    uint16_t error_id;                         /* Error ID (0000,0903); 0 when none */
    char comment[65];                          /* Error Comment (0000,0902) */
    cairn_tag attributes[MPPS_MAX_ATTRIBUTES]; /* Attribute Identifier List, or for 0106 the
                                                  top-level attributes whose values are invalid */
    size_t attribute_count;
} mpps_error;

/* The values of Performed Procedure Step Status (0040,0252). */
typedef enum mpps_state {
    MPPS_STATE_INVALID = 0,
    MPPS_STATE_IN_PROGRESS,
    MPPS_STATE_COMPLETED,
    MPPS_STATE_DISCONTINUED,
} mpps_state;

/* Options of the checks. */
typedef struct mpps_rules {
    const cairn_host_api *api;
    bool check_type2; /* type 2 attributes must be present (possibly empty) */
} mpps_rules;

mpps_state mpps_state_parse(const char *value);
const char *mpps_state_name(mpps_state state);
bool mpps_valid_uid(const char *uid);

/* Checks the SOP Instance UID of an N-CREATE-RQ or N-SET-RQ (NULL when absent). */
int mpps_check_instance_uid(const char *uid, bool create, mpps_error *err);
/* Checks an N-CREATE data set (PS3.4 F.7.2.1 and table F.7.2-1). */
int mpps_check_create(const mpps_rules *rules, const cairn_dataset *ds, mpps_error *err);
/*
 * Checks an N-SET modification list against the step as kept: its state
 * must be IN PROGRESS, and changes may touch only attributes that N-SET
 * may set and that the N-CREATE created.
 */
int mpps_check_set(const mpps_rules *rules, const cairn_dataset *current,
                   const cairn_dataset *changes, mpps_error *err);
/* Checks the final state requirements of a step set to COMPLETED or DISCONTINUED. */
int mpps_check_final(const mpps_rules *rules, const cairn_dataset *merged, mpps_error *err);
/*
 * Returns a new data set: current with every attribute of changes applied
 * (sequences replaced whole), except Specific Character Set, which an
 * N-SET does not replace. NULL when out of memory.
 */
cairn_dataset *mpps_merge(const cairn_host_api *api, const cairn_dataset *current,
                          const cairn_dataset *changes);
/* Copies element into dst, replacing an element with its tag; sequences deeply. */
int mpps_copy_element(const cairn_host_api *api, cairn_dataset *dst,
                      const cairn_element *element);

#endif
