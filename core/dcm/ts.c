/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transfer syntaxes of PS3.5 chapter 10 and Annex A, with the encoding
 * facts the codec needs: VR form, byte order, deflate, encapsulated pixel
 * data. Names are those of the PS3.6 UID registry.
 */
#include <string.h>

#include "dcm/dcm.h"

/* Columns: uid, name, explicit_vr, big_endian, deflated, encapsulated, retired. */
static const dcm_ts ts_table[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false, false},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false, false},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, false, true},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false, false},
    {"1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.52", "JPEG Extended (Process 3 & 5)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.53", "JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.54", "JPEG Spectral Selection, Non-Hierarchical (Process 7 & 9)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.55", "JPEG Full Progression, Non-Hierarchical (Process 10 & 12)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.56", "JPEG Full Progression, Non-Hierarchical (Process 11 & 13)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.58", "JPEG Lossless, Non-Hierarchical (Process 15)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.59", "JPEG Extended, Hierarchical (Process 16 & 18)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.60", "JPEG Extended, Hierarchical (Process 17 & 19)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.61", "JPEG Spectral Selection, Hierarchical (Process 20 & 22)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.62", "JPEG Spectral Selection, Hierarchical (Process 21 & 23)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.63", "JPEG Full Progression, Hierarchical (Process 24 & 26)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.64", "JPEG Full Progression, Hierarchical (Process 25 & 27)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.65", "JPEG Lossless, Hierarchical (Process 28)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.66", "JPEG Lossless, Hierarchical (Process 29)", true, false, false, true, true},
    {"1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.94", "JPIP Referenced", true, false, false, false, false},
    {"1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", true, false, true, false, false},
    {"1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile / Main Level", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile / High Level", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.103.1", "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.104.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.105.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.106.1", "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.110", "JPEG XL Lossless", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.112", "JPEG XL", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.204", "JPIP HTJ2K Referenced", true, false, false, false, false},
    {"1.2.840.10008.1.2.4.205", "JPIP HTJ2K Referenced Deflate", true, false, true, false, false},
    {"1.2.840.10008.1.2.5", "RLE Lossless", true, false, false, true, false},
    {"1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression", true, false, false, true, false},
};

const dcm_ts *const DCM_TS_IMPLICIT_LE = &ts_table[0];
const dcm_ts *const DCM_TS_EXPLICIT_LE = &ts_table[1];
const dcm_ts *const DCM_TS_EXPLICIT_BE = &ts_table[2];
const dcm_ts *const DCM_TS_DEFLATED_LE = &ts_table[3];

const dcm_ts *dcm_ts_find(const char *uid)
{
    size_t len;

    if (!uid)
        return NULL;
    len = strlen(uid);
    while (len > 0 && (uid[len - 1] == ' ' || uid[len - 1] == '\0'))
        len--;
    for (size_t i = 0; i < sizeof ts_table / sizeof ts_table[0]; i++) {
        if (strlen(ts_table[i].uid) == len && memcmp(ts_table[i].uid, uid, len) == 0)
            return &ts_table[i];
    }
    return NULL;
}

size_t dcm_ts_count(void)
{
    return sizeof ts_table / sizeof ts_table[0];
}

const dcm_ts *dcm_ts_at(size_t i)
{
    return i < dcm_ts_count() ? &ts_table[i] : NULL;
}
