/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage SOP classes the storage service accepts, generated at build
 * time from DCMTK's list of UIDs.
 */
#ifndef CAIRN_STORAGE_CLASSES_H
#define CAIRN_STORAGE_CLASSES_H

#include <stddef.h>

extern const char *const storage_sop_classes[];
extern const size_t storage_sop_class_count;

#endif
