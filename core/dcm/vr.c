/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value representations (PS3.5 6.2): names, header form in explicit VR
 * encoding (PS3.5 7.1.2) and the size of the numbers swapped between
 * little and big endian.
 */
#include "dcm/dcm.h"

static const char vr_names[DCM_VR_COUNT_][3] = {
    "??", "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
    "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
    "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV",
};

const char *dcm_vr_name(dcm_vr vr)
{
    if ((int)vr <= DCM_VR_UNKNOWN || (int)vr >= DCM_VR_COUNT_)
        return vr_names[0];
    return vr_names[vr];
}

dcm_vr dcm_vr_from_chars(char a, char b)
{
    for (int i = 1; i < DCM_VR_COUNT_; i++) {
        if (vr_names[i][0] == a && vr_names[i][1] == b)
            return (dcm_vr)i;
    }
    return DCM_VR_UNKNOWN;
}

bool dcm_vr_has_long_length(dcm_vr vr)
{
    switch (vr) {
    case DCM_VR_OB: case DCM_VR_OD: case DCM_VR_OF: case DCM_VR_OL:
    case DCM_VR_OV: case DCM_VR_OW: case DCM_VR_SQ: case DCM_VR_SV:
    case DCM_VR_UC: case DCM_VR_UN: case DCM_VR_UR: case DCM_VR_UT:
    case DCM_VR_UV:
        return true;
    default:
        return false;
    }
}

bool dcm_vr_is_string(dcm_vr vr)
{
    switch (vr) {
    case DCM_VR_AE: case DCM_VR_AS: case DCM_VR_CS: case DCM_VR_DA:
    case DCM_VR_DS: case DCM_VR_DT: case DCM_VR_IS: case DCM_VR_LO:
    case DCM_VR_LT: case DCM_VR_PN: case DCM_VR_SH: case DCM_VR_ST:
    case DCM_VR_TM: case DCM_VR_UC: case DCM_VR_UI: case DCM_VR_UR:
    case DCM_VR_UT:
        return true;
    default:
        return false;
    }
}

unsigned dcm_vr_swap_size(dcm_vr vr)
{
    switch (vr) {
    case DCM_VR_AT: case DCM_VR_OW: case DCM_VR_SS: case DCM_VR_US:
        return 2;
    case DCM_VR_FL: case DCM_VR_OF: case DCM_VR_OL: case DCM_VR_SL:
    case DCM_VR_UL:
        return 4;
    case DCM_VR_FD: case DCM_VR_OD: case DCM_VR_OV: case DCM_VR_SV:
    case DCM_VR_UV:
        return 8;
    default:
        return 1;
    }
}

const char *dcm_strerror(int code)
{
    switch (code) {
    case DCM_OK: return "success";
    case DCM_EINVAL: return "invalid argument";
    case DCM_ENOMEM: return "out of memory";
    case DCM_EIO: return "input/output error";
    case DCM_EMALFORMED: return "malformed DICOM data";
    case DCM_ETRUNCATED: return "DICOM data truncated";
    case DCM_ENOTFOUND: return "not found";
    case DCM_ERANGE: return "value out of range or buffer too small";
    case DCM_EUNSUPPORTED: return "not supported";
    case DCM_EDEFERRED: return "value not loaded";
    default: return "unknown error";
    }
}
