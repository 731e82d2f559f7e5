/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version of the Cairn plugin SDK.
 *
 * The ABI major changes only when a released struct or function changes
 * shape; the minor grows when entries are appended to the host API table or
 * to a descriptor. The host loads a plugin built against the same major and
 * an equal or older minor.
 */
#ifndef CAIRN_VERSION_H
#define CAIRN_VERSION_H

#define CAIRN_SDK_ABI_MAJOR 1
#define CAIRN_SDK_ABI_MINOR 0

/* Human-readable SDK release, for logs. */
#define CAIRN_SDK_VERSION "1.0.0"

#if defined(__cplusplus)
#define CAIRN_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define CAIRN_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#if defined(_WIN32)
#define CAIRN_EXPORT __declspec(dllexport)
#else
#define CAIRN_EXPORT __attribute__((visibility("default")))
#endif

#if defined(__cplusplus)
#define CAIRN_EXTERN_C_BEGIN extern "C" {
#define CAIRN_EXTERN_C_END }
#else
#define CAIRN_EXTERN_C_BEGIN
#define CAIRN_EXTERN_C_END
#endif

#endif
