/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DICOM data set codec: data dictionary, value representations,
 * transfer syntaxes, an in-memory data set tree, the parser (memory buffer
 * or file descriptor, PS3.5 chapters 7 and 8, deflate per PS3.5 A.5), the
 * encoder, and the PS3.10 file format with its File Meta Information.
 *
 * Values are held in little endian byte order whatever the transfer syntax
 * they were read from. Functions returning int return 0 on success and a
 * negative DCM_E* code on failure. None of the functions keeps a global
 * mutable state, so distinct data sets may be used from distinct threads.
 */
#ifndef CAIRN_DCM_H
#define CAIRN_DCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Tags ---------------------------------------------------------------- */

typedef uint32_t dcm_tag;
#define DCM_TAG(g, e) ((dcm_tag)((((uint32_t)(g) & 0xFFFFu) << 16) | ((uint32_t)(e) & 0xFFFFu)))
#define DCM_TAG_GROUP(t) ((uint16_t)((t) >> 16))
#define DCM_TAG_ELEMENT(t) ((uint16_t)((t) & 0xFFFFu))

#define DCM_TAG_ITEM DCM_TAG(0xFFFE, 0xE000)
#define DCM_TAG_ITEM_DELIMITATION DCM_TAG(0xFFFE, 0xE00D)
#define DCM_TAG_SEQUENCE_DELIMITATION DCM_TAG(0xFFFE, 0xE0DD)
#define DCM_TAG_PIXEL_DATA DCM_TAG(0x7FE0, 0x0010)
#define DCM_TAG_TRAILING_PADDING DCM_TAG(0xFFFC, 0xFFFC)
#define DCM_TAG_SPECIFIC_CHARACTER_SET DCM_TAG(0x0008, 0x0005)

/* Value length meaning "undefined length" (PS3.5 7.1.1). */
#define DCM_UNDEFINED_LENGTH 0xFFFFFFFFu

/* Error codes ----------------------------------------------------------- */

enum {
    DCM_OK = 0,
    DCM_EINVAL = -1,     /* invalid argument */
    DCM_ENOMEM = -2,     /* out of memory */
    DCM_EIO = -3,        /* read, write or seek failed */
    DCM_EMALFORMED = -4, /* data not valid DICOM encoding */
    DCM_ETRUNCATED = -5, /* data ends inside an element */
    DCM_ENOTFOUND = -6,  /* element or value absent */
    DCM_ERANGE = -7,     /* output buffer too small, or value out of range */
    DCM_EUNSUPPORTED = -8, /* transfer syntax or feature not supported */
    DCM_EDEFERRED = -9   /* value was not loaded (see max_value_load) */
};

/* Returns a static English text for a DCM_E* code. */
const char *dcm_strerror(int code);

/* Value representations ---------------------------------------------- */

typedef enum dcm_vr {
    DCM_VR_UNKNOWN = 0,
    DCM_VR_AE, DCM_VR_AS, DCM_VR_AT, DCM_VR_CS, DCM_VR_DA, DCM_VR_DS,
    DCM_VR_DT, DCM_VR_FL, DCM_VR_FD, DCM_VR_IS, DCM_VR_LO, DCM_VR_LT,
    DCM_VR_OB, DCM_VR_OD, DCM_VR_OF, DCM_VR_OL, DCM_VR_OV, DCM_VR_OW,
    DCM_VR_PN, DCM_VR_SH, DCM_VR_SL, DCM_VR_SQ, DCM_VR_SS, DCM_VR_ST,
    DCM_VR_SV, DCM_VR_TM, DCM_VR_UC, DCM_VR_UI, DCM_VR_UL, DCM_VR_UN,
    DCM_VR_UR, DCM_VR_US, DCM_VR_UT, DCM_VR_UV,
    DCM_VR_COUNT_,
    DCM_VR_MAX_ = 0x7fffffff
} dcm_vr;

/* Two-letter name, or "??" for DCM_VR_UNKNOWN and out-of-range values. */
const char *dcm_vr_name(dcm_vr vr);
/* DCM_VR_UNKNOWN when the two characters name no VR. */
dcm_vr dcm_vr_from_chars(char a, char b);
/* True for the VRs whose explicit VR header has a 4-byte length. */
bool dcm_vr_has_long_length(dcm_vr vr);
/* True for VRs whose value is character text (AE ... UT, not binary). */
bool dcm_vr_is_string(dcm_vr vr);
/* Byte size of one binary number to swap between byte orders (1 = none). */
unsigned dcm_vr_swap_size(dcm_vr vr);

/* Data dictionary (generated from DCMTK's dicom.dic at build time) ---- */

enum {
    DCM_DICT_MULTI_VR = 1u << 0, /* the standard allows several VRs; vr is the first */
    DCM_DICT_RETIRED = 1u << 1,
    DCM_DICT_REPEATING = 1u << 2 /* entry covers a range of groups/elements */
};

typedef struct dcm_dict_entry {
    dcm_tag tag;     /* for repeating entries, the first tag of the range */
    dcm_vr vr;
    unsigned flags;  /* DCM_DICT_* */
    const char *vm;  /* "1", "1-n", "2-2n" ... */
    const char *keyword;
} dcm_dict_entry;

/* Returns the entry for a tag, including repeating groups such as
 * (60xx,3000), group lengths (gggg,0000) and private creators
 * (odd gggg,0010-00FF); NULL when unknown. */
const dcm_dict_entry *dcm_dict_find(dcm_tag tag);
const dcm_dict_entry *dcm_dict_find_keyword(const char *keyword);

/* Storage SOP classes --------------------------------------------------- */

typedef struct dcm_uid_entry {
    const char *uid;
    const char *name;
} dcm_uid_entry;

size_t dcm_storage_sop_class_count(void);
/* NULL when i is out of range. */
const dcm_uid_entry *dcm_storage_sop_class_at(size_t i);
bool dcm_is_storage_sop_class(const char *uid);
/* Name of a storage SOP class or transfer syntax UID, NULL when unknown. */
const char *dcm_uid_name(const char *uid);

/* Transfer syntaxes ----------------------------------------------------- */

typedef struct dcm_ts {
    const char *uid;
    const char *name;
    bool explicit_vr;
    bool big_endian;
    bool deflated;
    bool encapsulated;
    bool retired;
} dcm_ts;

/* NULL when the UID is not a known transfer syntax. Trailing spaces and
 * NUL padding in uid are ignored. */
const dcm_ts *dcm_ts_find(const char *uid);
size_t dcm_ts_count(void);
const dcm_ts *dcm_ts_at(size_t i);

extern const dcm_ts *const DCM_TS_IMPLICIT_LE;
extern const dcm_ts *const DCM_TS_EXPLICIT_LE;
extern const dcm_ts *const DCM_TS_EXPLICIT_BE;
extern const dcm_ts *const DCM_TS_DEFLATED_LE;

/* Data set tree --------------------------------------------------------- */

typedef struct dcm_dataset dcm_dataset;
typedef struct dcm_element dcm_element;

dcm_dataset *dcm_dataset_create(void);
/* Frees the data set, its elements and their items; NULL does nothing. */
void dcm_dataset_destroy(dcm_dataset *ds);
/* Deep copy; NULL when out of memory. Deferred values stay deferred. */
dcm_dataset *dcm_dataset_clone(const dcm_dataset *ds);

size_t dcm_dataset_count(const dcm_dataset *ds);
/* Elements in ascending tag order; NULL when i is out of range. The
 * pointer stays valid until the element is removed or replaced. */
dcm_element *dcm_dataset_at(const dcm_dataset *ds, size_t i);
dcm_element *dcm_dataset_find(const dcm_dataset *ds, dcm_tag tag);
/* DCM_ENOTFOUND when absent. */
int dcm_dataset_remove(dcm_dataset *ds, dcm_tag tag);
/* True when both data sets hold the same tags, VRs, values, items and
 * fragments (length forms are not compared). */
bool dcm_dataset_equal(const dcm_dataset *a, const dcm_dataset *b);

dcm_tag dcm_element_tag(const dcm_element *el);
dcm_vr dcm_element_vr(const dcm_element *el);
/* Value length in bytes; DCM_UNDEFINED_LENGTH for sequences and
 * encapsulated pixel data read with undefined length. For a sequence of
 * defined length, the length found in the data. */
uint32_t dcm_element_length(const dcm_element *el);
/* Value bytes in little endian order, NULL for an empty, deferred,
 * sequence or encapsulated value. */
const uint8_t *dcm_element_value(const dcm_element *el);
/* True when the value was too long to load (max_value_load). */
bool dcm_element_is_deferred(const dcm_element *el);
/* Byte offset of the value in the parsed stream (in the inflated stream
 * for the deflated transfer syntax), recorded for every element. */
uint64_t dcm_element_offset(const dcm_element *el);
/* Number of values: backslash-separated for strings, length / size for
 * binary numbers, items for sequences, 0 for an empty value. */
unsigned dcm_element_vm(const dcm_element *el);

/* Copies value `index` of a string element, split on backslash (not for
 * LT, ST, UT, UR which hold one value), with trailing spaces and NULs
 * removed and, except for LT/ST/UT, leading spaces removed. Returns
 * DCM_ENOTFOUND when the value is absent, DCM_ERANGE when buf is too
 * small, DCM_EDEFERRED when not loaded. */
int dcm_element_get_string(const dcm_element *el, unsigned index, char *buf, size_t size);
int dcm_dataset_get_string(const dcm_dataset *ds, dcm_tag tag, unsigned index, char *buf,
                           size_t size);
/* Value `index` of a US, UL, SS, SL or IS element. Negative SS/SL/IS
 * values give DCM_ERANGE. */
int dcm_element_get_uint(const dcm_element *el, unsigned index, uint32_t *out);
int dcm_dataset_get_uint(const dcm_dataset *ds, dcm_tag tag, unsigned index, uint32_t *out);

/* Setters replace an existing element with the same tag. */
/* Pads to even length with a space, or a NUL for UI. */
int dcm_dataset_set_string(dcm_dataset *ds, dcm_tag tag, dcm_vr vr, const char *value);
int dcm_dataset_set_u16(dcm_dataset *ds, dcm_tag tag, uint16_t value);
int dcm_dataset_set_u32(dcm_dataset *ds, dcm_tag tag, uint32_t value);
/* Value given in little endian order; copied. */
int dcm_dataset_set_bytes(dcm_dataset *ds, dcm_tag tag, dcm_vr vr, const void *data, size_t len);

/* Sequences. An element of VR SQ, or UN of undefined length read as an
 * implicit VR little endian sequence, has items. */
size_t dcm_element_item_count(const dcm_element *el);
dcm_dataset *dcm_element_item(const dcm_element *el, size_t i);
/* Adds (or replaces) an empty sequence of undefined length. */
dcm_element *dcm_dataset_add_sequence(dcm_dataset *ds, dcm_tag tag);
/* Appends an empty item of undefined length; NULL when out of memory. */
dcm_dataset *dcm_element_append_item(dcm_element *el);

/* Encapsulated pixel data (PS3.5 A.4). Fragment 0 is the Basic Offset
 * Table, possibly of length 0. */
size_t dcm_element_fragment_count(const dcm_element *el);
const uint8_t *dcm_element_fragment(const dcm_element *el, size_t i, uint32_t *len);
/* Adds (or replaces) an encapsulated Pixel Data element with an empty
 * Basic Offset Table; fragments are appended with the next function. */
dcm_element *dcm_dataset_add_encapsulated(dcm_dataset *ds, dcm_tag tag, dcm_vr vr);
int dcm_element_append_fragment(dcm_element *el, const void *data, uint32_t len);

/* Prints one line per element, nested items indented, like dcmdump. */
void dcm_dataset_dump(const dcm_dataset *ds, FILE *out);

/* Reading --------------------------------------------------------------- */

typedef struct dcm_read_options {
    /* Values longer than this are not loaded: the element keeps its length
     * and offset and is flagged deferred. 0 = no limit. */
    size_t max_value_load;
    /* Stop before the first top-level element with tag >= stop_at.
     * 0 = read all. */
    dcm_tag stop_at;
    /* Sequence nesting bound; 16 when 0. */
    unsigned max_depth;
} dcm_read_options;

typedef struct dcm_error {
    int code;
    char message[256];
    uint64_t offset; /* byte offset of the fault in the parsed stream */
} dcm_error;

/* Parses a data set encoded in `ts` (opt and err may be NULL). On success
 * *out receives a data set that the caller destroys. */
int dcm_parse_buffer(const void *data, size_t len, const dcm_ts *ts,
                     const dcm_read_options *opt, dcm_dataset **out, dcm_error *err);
/* Same, reading fd from `offset` to its end through a 64 KiB buffer. */
int dcm_parse_fd(int fd, uint64_t offset, const dcm_ts *ts, const dcm_read_options *opt,
                 dcm_dataset **out, dcm_error *err);

/* Reads a PS3.10 file, or a bare data set whose encoding is guessed from
 * its first element (*meta is then NULL). meta and ts may be NULL when
 * the caller does not want them. */
int dcm_file_read(const char *path, const dcm_read_options *opt, dcm_dataset **meta,
                  dcm_dataset **dataset, const dcm_ts **ts, dcm_error *err);
/* Same from fd (read from offset 0); *dataset_offset receives the byte
 * offset where the data set starts. */
int dcm_file_read_fd(int fd, const dcm_read_options *opt, dcm_dataset **meta,
                     dcm_dataset **dataset, const dcm_ts **ts, dcm_error *err,
                     uint64_t *dataset_offset);

/* Writing --------------------------------------------------------------- */

/* Consumes len bytes; returns 0, or a negative value to abort. */
typedef int (*dcm_write_fn)(void *ctx, const void *data, size_t len);

/* Encodes ds in ts. Sequences and items keep the length form they were
 * read with (new ones are undefined length); DCM_EDEFERRED when a value
 * was not loaded. */
int dcm_write_dataset(const dcm_dataset *ds, const dcm_ts *ts, dcm_write_fn fn, void *ctx);
/* Encodes into a malloc'd buffer the caller frees. */
int dcm_encode_buffer(const dcm_dataset *ds, const dcm_ts *ts, uint8_t **out, size_t *len);
/* Sets (gggg,0000) to the encoded length of the rest of the group in ts. */
int dcm_dataset_update_group_length(dcm_dataset *ds, uint16_t group, const dcm_ts *ts);

/* File Meta Information (PS3.10 7.1) ------------------------------------ */

#define DCM_IMPLEMENTATION_CLASS_UID "1.2.826.0.1.3680043.9.7433.1.1"
#ifndef CAIRN_VERSION
#define CAIRN_VERSION "0.0.0"
#endif
#define DCM_IMPLEMENTATION_VERSION_NAME "CAIRN_" CAIRN_VERSION

/* Builds group 0002 with its group length; source_ae may be NULL. */
dcm_dataset *dcm_meta_create(const char *sop_class_uid, const char *sop_instance_uid,
                             const char *ts_uid, const char *source_ae);
/* Writes the 128-byte zero preamble, "DICM" and group 0002 in explicit
 * VR little endian. */
int dcm_meta_write(const dcm_dataset *meta, dcm_write_fn fn, void *ctx);
/* Writes a PS3.10 file (replaced atomically through a temporary file in
 * the same folder). */
int dcm_file_write(const char *path, const dcm_dataset *meta, const dcm_dataset *ds,
                   const dcm_ts *ts);

/* Character sets -------------------------------------------------------- */

/* Converts a string value to UTF-8 given the full (0008,0005) value
 * (NULL or empty = default repertoire). Bytes that do not decode are
 * replaced by U+FFFD. *out is malloc'd and NUL-terminated; the caller
 * frees it. NOTE: the default repertoire and unknown terms decode bytes
 * above 0x7F as ISO-8859-1 rather than replacing them, because many
 * writers omit (0008,0005) for Latin-1 text. */
int dcm_charset_to_utf8(const char *specific_character_set, const char *in, size_t len,
                        dcm_vr vr, char **out);

#endif
