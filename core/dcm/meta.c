/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing PS3.10 files: building the File Meta Information (PS3.10 7.1),
 * writing the preamble, "DICM" and group 0002, then the data set. Files
 * are written to a temporary name in the target folder and renamed, so a
 * reader never sees a partial file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcm/dcm.h"
#include "util/log.h"

#define PREAMBLE_SIZE 128

dcm_dataset *dcm_meta_create(const char *sop_class_uid, const char *sop_instance_uid,
                             const char *ts_uid, const char *source_ae)
{
    static const uint8_t version[2] = {0x00, 0x01};
    dcm_dataset *meta;
    int rc;

    if (!sop_class_uid || !sop_instance_uid || !ts_uid)
        return NULL;
    meta = dcm_dataset_create();
    if (!meta)
        return NULL;

    rc = dcm_dataset_set_bytes(meta, DCM_TAG(0x0002, 0x0001), DCM_VR_OB, version, 2);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0002), DCM_VR_UI, sop_class_uid);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0003), DCM_VR_UI, sop_instance_uid);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0010), DCM_VR_UI, ts_uid);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0012), DCM_VR_UI,
                                    DCM_IMPLEMENTATION_CLASS_UID);
    if (rc == DCM_OK)
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0013), DCM_VR_SH,
                                    DCM_IMPLEMENTATION_VERSION_NAME);
    if (rc == DCM_OK && source_ae && source_ae[0])
        rc = dcm_dataset_set_string(meta, DCM_TAG(0x0002, 0x0016), DCM_VR_AE, source_ae);
    if (rc == DCM_OK)
        rc = dcm_dataset_update_group_length(meta, 0x0002, DCM_TS_EXPLICIT_LE);
    if (rc != DCM_OK) {
        dcm_dataset_destroy(meta);
        return NULL;
    }
    return meta;
}

int dcm_meta_write(const dcm_dataset *meta, dcm_write_fn fn, void *ctx)
{
    uint8_t preamble[PREAMBLE_SIZE + 4] = {0};

    if (!meta || !fn)
        return DCM_EINVAL;
    for (size_t i = 0; i < dcm_dataset_count(meta); i++) {
        if (DCM_TAG_GROUP(dcm_element_tag(dcm_dataset_at(meta, i))) != 0x0002)
            return DCM_EINVAL;
    }
    memcpy(preamble + PREAMBLE_SIZE, "DICM", 4);
    if (fn(ctx, preamble, sizeof preamble) != 0)
        return DCM_EIO;
    return dcm_write_dataset(meta, DCM_TS_EXPLICIT_LE, fn, ctx);
}

static int file_append(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

int dcm_file_write(const char *path, const dcm_dataset *meta, const dcm_dataset *ds,
                   const dcm_ts *ts)
{
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1;
    int rc;

    if (!path || !meta || !ds || !ts)
        return DCM_EINVAL;
    if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
        return DCM_ENOMEM;
    fd = mkstemp(tmp);
    if (fd < 0) {
        log_error(NULL, "cannot create a temporary file next to %s: %s", path, strerror(errno));
        rc = DCM_EIO;
        goto out;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        rc = DCM_ENOMEM;
        goto out;
    }
    fd = -1;

    rc = dcm_meta_write(meta, file_append, f);
    if (rc == DCM_OK)
        rc = dcm_write_dataset(ds, ts, file_append, f);
    if (rc == DCM_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = DCM_EIO;
    if (fclose(f) != 0 && rc == DCM_OK)
        rc = DCM_EIO;
    f = NULL;
    if (rc == DCM_OK && rename(tmp, path) != 0) {
        log_error(NULL, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = DCM_EIO;
    }
    if (rc != DCM_OK)
        unlink(tmp);

out:
    if (f)
        fclose(f);
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
