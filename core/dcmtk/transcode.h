/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bridge to DCMTK, which is C++: decompression of an archived instance
 * into an uncompressed transfer syntax, for peers that accept none of its
 * stored one. DCMTK 3.6.7 decodes JPEG (baseline, extended, lossless),
 * JPEG-LS and RLE. It has no JPEG 2000 or HTJ2K decoder, so those instances
 * cannot be decompressed here.
 */
#ifndef CAIRN_DCMTK_TRANSCODE_H
#define CAIRN_DCMTK_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns true when DCMTK has a decoder for the transfer syntax UID. */
bool dcmtk_can_decompress(const char *ts_uid);

/*
 * Reads the PS3.10 file src_path, converts its data set to the transfer
 * syntax target_ts_uid (an uncompressed one) and writes a new PS3.10 file
 * at dst_path, whose File Meta Information names the new transfer syntax.
 * The whole decompressed pixel data is held in memory meanwhile. Returns 0,
 * or -1 with a message in err (always NUL-terminated when errlen > 0);
 * dst_path may then exist and the caller removes it. Safe to call from
 * several threads at once.
 */
int dcmtk_transcode_file(const char *src_path, const char *dst_path, const char *target_ts_uid,
                         char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
