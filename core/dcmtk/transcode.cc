/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCMTK side of dcmtk/transcode.h. The JPEG, JPEG-LS and RLE decoders are
 * registered once, on the first call, and stay registered for the life of
 * the process. A data set is then loaded, given the target representation
 * with chooseRepresentation, and saved as a new PS3.10 file.
 */
#include "dcmtk/transcode.h"

#include <cstdio>
#include <mutex>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"

namespace {

std::once_flag codecs_registered;

void register_decoders()
{
    std::call_once(codecs_registered, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

int fail(char *err, size_t errlen, const char *what, const char *detail)
{
    if (err != nullptr && errlen > 0)
        std::snprintf(err, errlen, "%s: %s", what, detail);
    return -1;
}

} // namespace

extern "C" bool dcmtk_can_decompress(const char *ts_uid)
{
    if (ts_uid == nullptr)
        return false;

    register_decoders();
    DcmXfer source(ts_uid);
    if (source.getXfer() == EXS_Unknown)
        return false;
    if (!source.isEncapsulated())
        return true;
    return DcmCodecList::canChangeCoding(source.getXfer(), EXS_LittleEndianExplicit) != OFFalse;
}

extern "C" int dcmtk_transcode_file(const char *src_path, const char *dst_path,
                                    const char *target_ts_uid, char *err, size_t errlen)
{
    if (src_path == nullptr || dst_path == nullptr || target_ts_uid == nullptr)
        return fail(err, errlen, "invalid argument", "a path or the transfer syntax is NULL");

    register_decoders();

    DcmXfer target(target_ts_uid);
    if (target.getXfer() == EXS_Unknown)
        return fail(err, errlen, "unknown target transfer syntax", target_ts_uid);
    if (target.isEncapsulated())
        return fail(err, errlen, "target transfer syntax is compressed, which is not supported",
                    target_ts_uid);

    DcmFileFormat file;
    OFCondition cond = file.loadFile(src_path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                     ERM_autoDetect);
    if (cond.bad())
        return fail(err, errlen, "cannot read the stored file", cond.text());

    DcmDataset *dataset = file.getDataset();
    const E_TransferSyntax source = dataset->getOriginalXfer();

    /* Decompresses the pixel data; fails when no registered decoder takes it. */
    cond = dataset->chooseRepresentation(target.getXfer(), nullptr);
    if (cond.bad() || !dataset->canWriteXfer(target.getXfer(), source)) {
        DcmXfer from(source);
        char detail[256];

        std::snprintf(detail, sizeof detail, "%s to %s: %s", from.getXferName(),
                      target.getXferName(), cond.bad() ? cond.text() : "no decoder");
        return fail(err, errlen, "cannot decompress", detail);
    }

    cond = file.saveFile(dst_path, target.getXfer(), EET_ExplicitLength, EGL_recalcGL,
                         EPD_noChange, 0, 0, EWM_updateMeta);
    if (cond.bad())
        return fail(err, errlen, "cannot write the decompressed file", cond.text());
    return 0;
}
