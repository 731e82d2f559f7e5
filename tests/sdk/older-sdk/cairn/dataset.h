/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data set types seen by plugins: attribute tags, value representations
 * and the opaque cairn_dataset and cairn_element handles. The functions that
 * read and write them are in the host API table (cairn/plugin.h).
 *
 * Ownership: a dataset a plugin creates with dataset_create is the
 * plugin's until it destroys it or hands it to a function documented as
 * taking ownership. A dataset or element the host passes in (a request, a
 * sequence item) is borrowed and valid only during the callback.
 */
#ifndef CAIRN_DATASET_H
#define CAIRN_DATASET_H

#include <stdint.h>

#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* An attribute tag: group in the high 16 bits, element in the low 16. */
typedef uint32_t cairn_tag;

#define CAIRN_TAG(group, element) \
    ((cairn_tag)(((uint32_t)(group) << 16) | ((uint32_t)(element) & 0xFFFFu)))
#define CAIRN_TAG_GROUP(tag) ((uint16_t)((tag) >> 16))
#define CAIRN_TAG_ELEMENT(tag) ((uint16_t)((tag) & 0xFFFFu))

/*
 * Value representations (PS3.5 6.2). Each value is the two ASCII letters
 * of the VR, first letter in the high byte, so it never changes when VRs
 * are added. Since SDK 1.0.
 */
#define CAIRN_VR_CODE(a, b) (((uint32_t)(a) << 8) | (uint32_t)(b))
typedef enum cairn_vr {
    CAIRN_VR_UNKNOWN = 0,
    CAIRN_VR_AE = CAIRN_VR_CODE('A', 'E'),
    CAIRN_VR_AS = CAIRN_VR_CODE('A', 'S'),
    CAIRN_VR_AT = CAIRN_VR_CODE('A', 'T'),
    CAIRN_VR_CS = CAIRN_VR_CODE('C', 'S'),
    CAIRN_VR_DA = CAIRN_VR_CODE('D', 'A'),
    CAIRN_VR_DS = CAIRN_VR_CODE('D', 'S'),
    CAIRN_VR_DT = CAIRN_VR_CODE('D', 'T'),
    CAIRN_VR_FL = CAIRN_VR_CODE('F', 'L'),
    CAIRN_VR_FD = CAIRN_VR_CODE('F', 'D'),
    CAIRN_VR_IS = CAIRN_VR_CODE('I', 'S'),
    CAIRN_VR_LO = CAIRN_VR_CODE('L', 'O'),
    CAIRN_VR_LT = CAIRN_VR_CODE('L', 'T'),
    CAIRN_VR_OB = CAIRN_VR_CODE('O', 'B'),
    CAIRN_VR_OD = CAIRN_VR_CODE('O', 'D'),
    CAIRN_VR_OF = CAIRN_VR_CODE('O', 'F'),
    CAIRN_VR_OL = CAIRN_VR_CODE('O', 'L'),
    CAIRN_VR_OV = CAIRN_VR_CODE('O', 'V'),
    CAIRN_VR_OW = CAIRN_VR_CODE('O', 'W'),
    CAIRN_VR_PN = CAIRN_VR_CODE('P', 'N'),
    CAIRN_VR_SH = CAIRN_VR_CODE('S', 'H'),
    CAIRN_VR_SL = CAIRN_VR_CODE('S', 'L'),
    CAIRN_VR_SQ = CAIRN_VR_CODE('S', 'Q'),
    CAIRN_VR_SS = CAIRN_VR_CODE('S', 'S'),
    CAIRN_VR_ST = CAIRN_VR_CODE('S', 'T'),
    CAIRN_VR_SV = CAIRN_VR_CODE('S', 'V'),
    CAIRN_VR_TM = CAIRN_VR_CODE('T', 'M'),
    CAIRN_VR_UC = CAIRN_VR_CODE('U', 'C'),
    CAIRN_VR_UI = CAIRN_VR_CODE('U', 'I'),
    CAIRN_VR_UL = CAIRN_VR_CODE('U', 'L'),
    CAIRN_VR_UN = CAIRN_VR_CODE('U', 'N'),
    CAIRN_VR_UR = CAIRN_VR_CODE('U', 'R'),
    CAIRN_VR_US = CAIRN_VR_CODE('U', 'S'),
    CAIRN_VR_UT = CAIRN_VR_CODE('U', 'T'),
    CAIRN_VR_UV = CAIRN_VR_CODE('U', 'V'),
    CAIRN_VR_SENTINEL_ = 0x7fffffff
} cairn_vr;

/* A data set: an ordered set of elements. Opaque. */
typedef struct cairn_dataset cairn_dataset;

/* One element of a data set. Opaque; owned by its data set. */
typedef struct cairn_element cairn_element;

/* Tags the bundled services use most; any other is CAIRN_TAG(g, e). */
#define CAIRN_TAG_SPECIFIC_CHARACTER_SET CAIRN_TAG(0x0008, 0x0005)
#define CAIRN_TAG_SOP_CLASS_UID CAIRN_TAG(0x0008, 0x0016)
#define CAIRN_TAG_SOP_INSTANCE_UID CAIRN_TAG(0x0008, 0x0018)
#define CAIRN_TAG_STUDY_DATE CAIRN_TAG(0x0008, 0x0020)
#define CAIRN_TAG_STUDY_TIME CAIRN_TAG(0x0008, 0x0030)
#define CAIRN_TAG_ACCESSION_NUMBER CAIRN_TAG(0x0008, 0x0050)
#define CAIRN_TAG_MODALITY CAIRN_TAG(0x0008, 0x0060)
#define CAIRN_TAG_REFERRING_PHYSICIAN_NAME CAIRN_TAG(0x0008, 0x0090)
#define CAIRN_TAG_STUDY_DESCRIPTION CAIRN_TAG(0x0008, 0x1030)
#define CAIRN_TAG_SERIES_DESCRIPTION CAIRN_TAG(0x0008, 0x103E)
#define CAIRN_TAG_PATIENT_NAME CAIRN_TAG(0x0010, 0x0010)
#define CAIRN_TAG_PATIENT_ID CAIRN_TAG(0x0010, 0x0020)
#define CAIRN_TAG_ISSUER_OF_PATIENT_ID CAIRN_TAG(0x0010, 0x0021)
#define CAIRN_TAG_PATIENT_BIRTH_DATE CAIRN_TAG(0x0010, 0x0030)
#define CAIRN_TAG_PATIENT_SEX CAIRN_TAG(0x0010, 0x0040)
#define CAIRN_TAG_STUDY_INSTANCE_UID CAIRN_TAG(0x0020, 0x000D)
#define CAIRN_TAG_SERIES_INSTANCE_UID CAIRN_TAG(0x0020, 0x000E)
#define CAIRN_TAG_STUDY_ID CAIRN_TAG(0x0020, 0x0010)
#define CAIRN_TAG_SERIES_NUMBER CAIRN_TAG(0x0020, 0x0011)
#define CAIRN_TAG_INSTANCE_NUMBER CAIRN_TAG(0x0020, 0x0013)
#define CAIRN_TAG_PIXEL_DATA CAIRN_TAG(0x7FE0, 0x0010)

CAIRN_EXTERN_C_END

#endif
