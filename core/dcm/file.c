/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading PS3.10 files: the 128-byte preamble, "DICM", the File Meta
 * Information (group 0002, explicit VR little endian), then the data set in
 * the transfer syntax the meta names. Files without preamble or meta are
 * accepted too; their encoding is guessed from the first element.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dcm/dcm.h"
#include "dcm/parse_internal.h"
#include "dcm/reader.h"
#include "util/log.h"

#define PREAMBLE_SIZE 128

static int set_error(dcm_error *err, int code, uint64_t offset, const char *message)
{
    if (err && err->code == 0) {
        err->code = code;
        err->offset = offset;
        snprintf(err->message, sizeof err->message, "%s", message);
    }
    return code;
}

static bool is_vr(const uint8_t *b)
{
    return dcm_vr_from_chars((char)b[0], (char)b[1]) != DCM_VR_UNKNOWN;
}

/* Guesses the encoding of a bare data set from its first 6 bytes: a group
 * number that only makes sense byte-swapped means big endian, and two VR
 * letters after the tag mean explicit VR. */
static const dcm_ts *guess_ts(const uint8_t *b)
{
    uint16_t group_le = (uint16_t)(b[0] | b[1] << 8);
    uint16_t group_be = (uint16_t)(b[0] << 8 | b[1]);

    if (group_le > 0x00FF && group_be <= 0x00FF && is_vr(b + 4))
        return DCM_TS_EXPLICIT_BE;
    return is_vr(b + 4) ? DCM_TS_EXPLICIT_LE : DCM_TS_IMPLICIT_LE;
}

/* Reads group 0002 from the reader, which stands at its first element, and
 * returns the transfer syntax it names (NULL when absent or unknown). */
static int read_meta(dcm_reader *rd, dcm_dataset **meta, const dcm_ts **ts, dcm_error *err)
{
    char uid[65];
    int rc;

    rc = dcm_parse_reader(rd, DCM_TS_EXPLICIT_LE, NULL, true, meta, err);
    if (rc != DCM_OK)
        return rc;

    *ts = NULL;
    if (dcm_dataset_get_string(*meta, DCM_TAG(0x0002, 0x0010), 0, uid, sizeof uid) == DCM_OK) {
        *ts = dcm_ts_find(uid);
        if (!*ts) {
            char message[160];

            snprintf(message, sizeof message,
                     "transfer syntax %s in the File Meta Information is not supported", uid);
            return set_error(err, DCM_EUNSUPPORTED, rd->pos, message);
        }
    }
    return DCM_OK;
}

int dcm_file_read_fd(int fd, const dcm_read_options *opt, dcm_dataset **meta,
                     dcm_dataset **dataset, const dcm_ts **ts, dcm_error *err,
                     uint64_t *dataset_offset)
{
    dcm_reader rd;
    const uint8_t *b;
    dcm_dataset *meta_ds = NULL, *ds = NULL;
    const dcm_ts *found_ts = NULL;
    uint64_t start = 0;
    int rc;

    if (err) {
        err->code = 0;
        err->message[0] = '\0';
        err->offset = 0;
    }
    if (fd < 0 || !dataset)
        return set_error(err, DCM_EINVAL, 0, "invalid argument: fd and dataset are required");
    *dataset = NULL;
    if (meta)
        *meta = NULL;

    rc = dcm_reader_open_fd(&rd, fd, 0, false);
    if (rc != DCM_OK) {
        set_error(err, rc, 0, "cannot set up the reader (out of memory)");
        goto out;
    }

    /* Preamble and "DICM", or meta without preamble, or a bare data set. */
    if (dcm_reader_peek(&rd, PREAMBLE_SIZE + 4, &b) == DCM_OK &&
        memcmp(b + PREAMBLE_SIZE, "DICM", 4) == 0) {
        dcm_reader_skip(&rd, PREAMBLE_SIZE + 4);
        rc = read_meta(&rd, &meta_ds, &found_ts, err);
    } else if (dcm_reader_peek(&rd, 6, &b) == DCM_OK && b[0] == 0x02 && b[1] == 0x00 &&
               is_vr(b + 4)) {
        rc = read_meta(&rd, &meta_ds, &found_ts, err);
    } else if ((rc = dcm_reader_peek(&rd, 6, &b)) != DCM_OK) {
        rc = set_error(err, rc, 0,
                       rc == DCM_ETRUNCATED ? "file too short to hold a DICOM data set"
                                            : "cannot read the start of the file");
    }
    if (rc != DCM_OK)
        goto out;

    start = rd.pos;
    if (found_ts && found_ts->explicit_vr && !found_ts->deflated &&
        dcm_reader_peek(&rd, 6, &b) == DCM_OK && !is_vr(b + 4)) {
        /* Some writers label an implicit VR data set as explicit. */
        log_warn(NULL, "data set at offset %llu is labelled %s but has no VR in its first "
                       "element; reading it as implicit VR little endian",
                 (unsigned long long)start, found_ts->name);
        found_ts = DCM_TS_IMPLICIT_LE;
    }
    if (!found_ts) {
        if (dcm_reader_peek(&rd, 6, &b) == DCM_OK) {
            found_ts = guess_ts(b);
        } else if (dcm_reader_at_end(&rd)) {
            found_ts = DCM_TS_EXPLICIT_LE; /* meta only, empty data set */
        } else {
            rc = set_error(err, DCM_ETRUNCATED, start, "data ends inside the first element");
            goto out;
        }
    }
    dcm_reader_close(&rd);

    rc = dcm_parse_fd(fd, start, found_ts, opt, &ds, err);
    if (rc != DCM_OK)
        goto out;

    *dataset = ds;
    ds = NULL;
    if (meta) {
        *meta = meta_ds;
        meta_ds = NULL;
    }
    if (ts)
        *ts = found_ts;
    if (dataset_offset)
        *dataset_offset = start;

out:
    dcm_reader_close(&rd);
    dcm_dataset_destroy(meta_ds);
    dcm_dataset_destroy(ds);
    return rc;
}

int dcm_file_read(const char *path, const dcm_read_options *opt, dcm_dataset **meta,
                  dcm_dataset **dataset, const dcm_ts **ts, dcm_error *err)
{
    int fd, rc;

    if (!path)
        return set_error(err, DCM_EINVAL, 0, "invalid argument: path is required");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err) {
            err->code = DCM_EIO;
            err->offset = 0;
            snprintf(err->message, sizeof err->message, "cannot open %s: %s", path,
                     strerror(errno));
        }
        return DCM_EIO;
    }
    rc = dcm_file_read_fd(fd, opt, meta, dataset, ts, err, NULL);
    close(fd);
    return rc;
}
