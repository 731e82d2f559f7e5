/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conversion of string values to UTF-8 per Specific Character Set
 * (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 6.1. Single-byte and multi-byte
 * sets without code extensions go through iconv in one call. With ISO 2022
 * code extensions, the value is split at escape sequences and delimiters
 * (which restore the initial designation), and each run is decoded by the
 * set designated to G0 (bytes below 0x80) or G1 (bytes from 0x80). Bytes
 * that do not decode become U+FFFD.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/dcm.h"
#include "util/log.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/* A coded character set as designated by an escape sequence. */
typedef enum charset_id {
    CS_NONE = 0,
    CS_ASCII,
    CS_LATIN1, CS_LATIN2, CS_LATIN3, CS_LATIN4, CS_CYRILLIC, CS_ARABIC,
    CS_GREEK, CS_HEBREW, CS_LATIN5, CS_THAI,
    CS_JIS_ROMAN,    /* JIS X 0201 G0 */
    CS_JIS_KATAKANA, /* JIS X 0201 G1 */
    CS_JIS_X0208,    /* 94x94, G0 */
    CS_JIS_X0212,    /* 94x94, G0 */
    CS_KS_X1001,     /* 94x94, G1 */
    CS_GB2312        /* 94x94, G1 */
} charset_id;

typedef struct charset_info {
    charset_id id;
    const char *iconv_name;
    const char *escape;   /* escape sequence after ESC */
    bool g1;              /* designated to G1 */
    bool two_byte;
} charset_info;

static const charset_info charsets[] = {
    {CS_ASCII, "ISO-8859-1", "(B", false, false},
    {CS_LATIN1, "ISO-8859-1", "-A", true, false},
    {CS_LATIN2, "ISO-8859-2", "-B", true, false},
    {CS_LATIN3, "ISO-8859-3", "-C", true, false},
    {CS_LATIN4, "ISO-8859-4", "-D", true, false},
    {CS_CYRILLIC, "ISO-8859-5", "-L", true, false},
    {CS_ARABIC, "ISO-8859-6", "-G", true, false},
    {CS_GREEK, "ISO-8859-7", "-F", true, false},
    {CS_HEBREW, "ISO-8859-8", "-H", true, false},
    {CS_LATIN5, "ISO-8859-9", "-M", true, false},
    {CS_THAI, "TIS-620", "-T", true, false},
    {CS_JIS_ROMAN, "SHIFT_JIS", "(J", false, false},
    {CS_JIS_KATAKANA, "SHIFT_JIS", ")I", true, false},
    {CS_JIS_X0208, "ISO-2022-JP-2", "$B", false, true},
    {CS_JIS_X0212, "ISO-2022-JP-2", "$(D", false, true},
    {CS_KS_X1001, "EUC-KR", "$)C", true, true},
    {CS_GB2312, "GB2312", "$)A", true, true},
};

/* Defined Terms of (0008,0005): the iconv codec used without code
 * extensions, and the G0/G1 sets they designate with them. */
typedef struct term_info {
    const char *term;
    const char *iconv_name;
    charset_id g0, g1;
} term_info;

static const term_info terms[] = {
    {"ISO_IR 6", "ISO-8859-1", CS_ASCII, CS_NONE},
    {"ISO_IR 100", "ISO-8859-1", CS_ASCII, CS_LATIN1},
    {"ISO_IR 101", "ISO-8859-2", CS_ASCII, CS_LATIN2},
    {"ISO_IR 109", "ISO-8859-3", CS_ASCII, CS_LATIN3},
    {"ISO_IR 110", "ISO-8859-4", CS_ASCII, CS_LATIN4},
    {"ISO_IR 144", "ISO-8859-5", CS_ASCII, CS_CYRILLIC},
    {"ISO_IR 127", "ISO-8859-6", CS_ASCII, CS_ARABIC},
    {"ISO_IR 126", "ISO-8859-7", CS_ASCII, CS_GREEK},
    {"ISO_IR 138", "ISO-8859-8", CS_ASCII, CS_HEBREW},
    {"ISO_IR 148", "ISO-8859-9", CS_ASCII, CS_LATIN5},
    {"ISO_IR 203", "ISO-8859-15", CS_ASCII, CS_NONE},
    {"ISO_IR 13", "SHIFT_JIS", CS_JIS_ROMAN, CS_JIS_KATAKANA},
    {"ISO_IR 166", "TIS-620", CS_ASCII, CS_THAI},
    {"ISO_IR 192", "UTF-8", CS_ASCII, CS_NONE},
    {"GB18030", "GB18030", CS_ASCII, CS_NONE},
    {"GBK", "GBK", CS_ASCII, CS_NONE},
    {"ISO 2022 IR 6", "ISO-8859-1", CS_ASCII, CS_NONE},
    {"ISO 2022 IR 100", "ISO-8859-1", CS_ASCII, CS_LATIN1},
    {"ISO 2022 IR 101", "ISO-8859-2", CS_ASCII, CS_LATIN2},
    {"ISO 2022 IR 109", "ISO-8859-3", CS_ASCII, CS_LATIN3},
    {"ISO 2022 IR 110", "ISO-8859-4", CS_ASCII, CS_LATIN4},
    {"ISO 2022 IR 144", "ISO-8859-5", CS_ASCII, CS_CYRILLIC},
    {"ISO 2022 IR 127", "ISO-8859-6", CS_ASCII, CS_ARABIC},
    {"ISO 2022 IR 126", "ISO-8859-7", CS_ASCII, CS_GREEK},
    {"ISO 2022 IR 138", "ISO-8859-8", CS_ASCII, CS_HEBREW},
    {"ISO 2022 IR 148", "ISO-8859-9", CS_ASCII, CS_LATIN5},
    {"ISO 2022 IR 13", "SHIFT_JIS", CS_JIS_ROMAN, CS_JIS_KATAKANA},
    {"ISO 2022 IR 166", "TIS-620", CS_ASCII, CS_THAI},
    {"ISO 2022 IR 87", "ISO-2022-JP-2", CS_ASCII, CS_NONE},
    {"ISO 2022 IR 159", "ISO-2022-JP-2", CS_ASCII, CS_NONE},
    {"ISO 2022 IR 149", "EUC-KR", CS_ASCII, CS_KS_X1001},
    {"ISO 2022 IR 58", "GB2312", CS_ASCII, CS_GB2312},
};

typedef struct utf8_buffer {
    char *data;
    size_t len, cap;
    bool failed;
} utf8_buffer;

static void append(utf8_buffer *b, const char *data, size_t len)
{
    if (b->failed)
        return;
    if (b->cap - b->len < len + 1) {
        size_t cap = b->cap ? b->cap : 64;
        char *grown;

        while (cap - b->len < len + 1)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

/* Decodes bytes with iconv, replacing each byte (or pair, for two-byte
 * sets) that does not decode. prefix is fed first (an escape sequence for
 * the ISO-2022-JP codecs). */
static void decode(utf8_buffer *b, const char *codec, const char *prefix, const char *in,
                   size_t len, unsigned unit)
{
    iconv_t cd = iconv_open("UTF-8", codec);
    char out[256];
    char *src, *dst;
    size_t src_left, dst_left;
    char *joined = NULL;

    if (cd == (iconv_t)-1) {
        for (size_t i = 0; i < len; i++)
            append(b, REPLACEMENT, 3);
        return;
    }
    if (prefix) {
        size_t plen = strlen(prefix);

        joined = malloc(plen + len);
        if (!joined) {
            b->failed = true;
            iconv_close(cd);
            return;
        }
        memcpy(joined, prefix, plen);
        memcpy(joined + plen, in, len);
        src = joined;
        src_left = plen + len;
    } else {
        src = (char *)in;
        src_left = len;
    }

    while (src_left > 0) {
        size_t rc, skip;

        dst = out;
        dst_left = sizeof out;
        rc = iconv(cd, &src, &src_left, &dst, &dst_left);
        append(b, out, sizeof out - dst_left);
        if (rc != (size_t)-1 || errno == E2BIG)
            continue;

        /* EINVAL: the input ends inside a character. EILSEQ: replace the
         * unit and go on from the next one. */
        append(b, REPLACEMENT, 3);
        if (errno == EINVAL)
            break;
        skip = src_left < unit ? src_left : unit;
        src += skip;
        src_left -= skip;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (prefix && src_left > 0) {
            /* The reset dropped the designation: feed it again. */
            char *p = (char *)prefix;
            size_t p_left = strlen(prefix);

            dst = out;
            dst_left = sizeof out;
            iconv(cd, &p, &p_left, &dst, &dst_left);
        }
    }
    dst = out;
    dst_left = sizeof out;
    iconv(cd, NULL, NULL, &dst, &dst_left);
    append(b, out, sizeof out - dst_left);

    free(joined);
    iconv_close(cd);
}

static const charset_info *find_charset(charset_id id)
{
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
        if (charsets[i].id == id)
            return &charsets[i];
    }
    return NULL;
}

/* Matches an escape sequence at in[0] == ESC; returns its length or 0. */
static size_t match_escape(const char *in, size_t len, const charset_info **found)
{
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
        size_t elen = strlen(charsets[i].escape);

        if (len >= elen + 1 && memcmp(in + 1, charsets[i].escape, elen) == 0) {
            *found = &charsets[i];
            return elen + 1;
        }
    }
    return 0;
}

static bool is_delimiter(unsigned char c, dcm_vr vr)
{
    if (c == '\r' || c == '\n' || c == '\f' || c == '\t')
        return true;
    if (vr == DCM_VR_PN && (c == '^' || c == '='))
        return true;
    return vr != DCM_VR_LT && vr != DCM_VR_ST && vr != DCM_VR_UT && c == '\\';
}

/* Decodes bytes with ISO 2022 code extensions (PS3.5 6.1.2.5). */
static void decode_iso2022(utf8_buffer *b, const char *in, size_t len, charset_id initial_g0,
                           charset_id initial_g1, dcm_vr vr)
{
    const charset_info *g0 = find_charset(initial_g0);
    const charset_info *g1 = find_charset(initial_g1);
    size_t i = 0;

    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        size_t start = i;

        if (c == 0x1B) {
            const charset_info *set = NULL;
            size_t elen = match_escape(in + i, len - i, &set);

            if (elen == 0) {
                append(b, REPLACEMENT, 3);
                i++;
                continue;
            }
            if (set->g1)
                g1 = set;
            else
                g0 = set;
            i += elen;
            continue;
        }

        if (c < 0x80) {
            /* A run of G0 bytes up to an escape, a G1 byte or a delimiter. */
            if (!g0->two_byte && is_delimiter(c, vr)) {
                append(b, in + i, 1);
                i++;
                g0 = find_charset(initial_g0);
                g1 = find_charset(initial_g1);
                continue;
            }
            while (i < len && (unsigned char)in[i] < 0x80 && in[i] != 0x1B &&
                   (g0->two_byte || !is_delimiter((unsigned char)in[i], vr)))
                i++;
            if (g0->two_byte) {
                char prefix[8];

                snprintf(prefix, sizeof prefix, "\x1B%s", g0->escape);
                decode(b, g0->iconv_name, prefix, in + start, i - start, 2);
            } else {
                decode(b, g0->iconv_name, NULL, in + start, i - start, 1);
            }
            continue;
        }

        while (i < len && (unsigned char)in[i] >= 0x80)
            i++;
        if (g1)
            decode(b, g1->iconv_name, NULL, in + start, i - start, g1->two_byte ? 2 : 1);
        else
            decode(b, "ISO-8859-1", NULL, in + start, i - start, 1);
    }
}

/*
 * Returns whether every byte is printable ASCII or a text control (TAB, LF, FF,
 * CR). Such bytes mean the same in every character set whose G0 is ASCII,
 * so they need no conversion.
 */
static bool plain_ascii(const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c >= 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r'))
            return false;
    }
    return true;
}

static const term_info *find_term(const char *term, size_t len)
{
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        if (strlen(terms[i].term) == len && memcmp(terms[i].term, term, len) == 0)
            return &terms[i];
    }
    return NULL;
}

int dcm_charset_to_utf8(const char *specific_character_set, const char *in, size_t len,
                        dcm_vr vr, char **out)
{
    const char *scs = specific_character_set ? specific_character_set : "";
    const term_info *first = &terms[0];
    utf8_buffer b = {0};
    bool code_extensions = false;
    unsigned term_count = 0;

    if (!out || (!in && len > 0))
        return DCM_EINVAL;
    *out = NULL;

    /* Scan the terms: the first gives the initial sets; several terms or
     * an "ISO 2022" term mean code extensions are in use. */
    for (const char *p = scs;;) {
        const char *end = strchr(p, '\\');
        size_t tlen = end ? (size_t)(end - p) : strlen(p);
        const term_info *t;

        while (tlen > 0 && p[0] == ' ') {
            p++;
            tlen--;
        }
        while (tlen > 0 && (p[tlen - 1] == ' ' || p[tlen - 1] == '\0'))
            tlen--;
        t = tlen > 0 ? find_term(p, tlen) : NULL;
        if (tlen > 0 && !t)
            log_warn(NULL, "unknown Specific Character Set term '%.*s'; decoding as "
                           "ISO-8859-1", (int)(tlen > 64 ? 64 : tlen), p);
        if (term_count == 0 && t)
            first = t;
        if (tlen > 0 && strncmp(p, "ISO 2022", 8) == 0)
            code_extensions = true;
        term_count++;
        if (!end)
            break;
        p = end + 1;
    }
    if (term_count > 1)
        code_extensions = true;

    /* Most values are plain ASCII, and iconv_open(3) costs more than the copy. */
    if (first->g0 == CS_ASCII && plain_ascii(in, len))
        append(&b, len > 0 ? in : "", len);
    else if (code_extensions)
        decode_iso2022(&b, in, len, first->g0, first->g1, vr);
    else
        decode(&b, first->iconv_name, NULL, in, len, 1);

    append(&b, "", 0);
    if (b.failed) {
        free(b.data);
        return DCM_ENOMEM;
    }
    *out = b.data;
    return DCM_OK;
}
