/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host API entries of the data router that reach the archive without an
 * association: the index's MPPS steps and outbox, and remote_open, an
 * association of the archive's own to a configured remote.
 */
#include "archive/archive_router.h"

#include <stddef.h>
#include <stdio.h>

#include "archive/archive_detached.h"
#include "scu/scu_outbound.h"

/* Calls the index op op of the attached archive with ARGS, or returns BUSY or UNSUPPORTED. */
#define CALL_INDEX(op, ...)                                                    \
    do {                                                                       \
        archive *ar_ = archive_detached_acquire(NULL);                         \
        const cairn_index_ops *ops_;                                           \
        cairn_status st_;                                                      \
                                                                               \
        if (ar_ == NULL)                                                       \
            return CAIRN_ERR_BUSY;                                             \
        ops_ = archive_index_ops(ar_);                                         \
        if (ops_->struct_size < offsetof(cairn_index_ops, op) + sizeof ops_->op || \
            ops_->op == NULL)                                                  \
            st_ = CAIRN_ERR_UNSUPPORTED;                                       \
        else                                                                   \
            st_ = ops_->op(archive_index_db(ar_), __VA_ARGS__);                \
        archive_detached_release();                                            \
        return st_;                                                            \
    } while (0)

cairn_status archive_host_mpps_put(const cairn_mpps_step *step, int create)
{
    if (step == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    CALL_INDEX(mpps_put, step, create);
}

cairn_status archive_host_mpps_get(const char *sop_instance_uid, cairn_mpps_fn fn, void *arg)
{
    if (sop_instance_uid == NULL || fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    CALL_INDEX(mpps_get, sop_instance_uid, fn, arg);
}

cairn_status archive_host_mpps_list(const cairn_mpps_filter *filter, cairn_mpps_fn fn, void *arg)
{
    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    CALL_INDEX(mpps_list, filter, fn, arg);
}

cairn_status archive_host_outbox_add(const cairn_outbox_message *message, uint64_t *id)
{
    if (message == NULL || id == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    CALL_INDEX(outbox_add, message, id);
}

cairn_status archive_host_outbox_update(uint64_t id, uint32_t attempts,
                                        int64_t next_attempt_at_us, const char *last_error)
{
    CALL_INDEX(outbox_update, id, attempts, next_attempt_at_us, last_error);
}

cairn_status archive_host_outbox_delete(uint64_t id)
{
    CALL_INDEX(outbox_delete, id);
}

cairn_status archive_host_outbox_list(const char *kind_prefix, cairn_outbox_fn fn, void *arg)
{
    if (fn == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    CALL_INDEX(outbox_list, kind_prefix, fn, arg);
}

cairn_status archive_host_remote_open(const char *calling_ae, const char *remote_title,
                                      const char *const *sop_classes, size_t count,
                                      cairn_outbound **out)
{
    static const char explicit_le[] = "1.2.840.10008.1.2.1";
    const char *syntaxes[16];
    const cairn_conf *conf;
    log_ctx log = {0};
    runtime *rt = NULL;
    archive *ar;
    cairn_status st;

    if (out != NULL)
        *out = NULL;
    if (calling_ae == NULL || remote_title == NULL || sop_classes == NULL || count == 0 ||
        count > sizeof syntaxes / sizeof syntaxes[0] || out == NULL)
        return CAIRN_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++)
        syntaxes[i] = explicit_le;

    ar = archive_detached_acquire(&rt);
    if (ar == NULL)
        return CAIRN_ERR_BUSY;
    snprintf(log.calling_ae, sizeof log.calling_ae, "%s", calling_ae);
    snprintf(log.called_ae, sizeof log.called_ae, "%s", remote_title);
    conf = runtime_conf_acquire(rt);
    /* Each class gets a context with explicit VR little endian and one with explicit and implicit. */
    st = scu_outbound_open_as(conf, archive_storage_path(ar), &log, calling_ae, remote_title,
                              sop_classes, syntaxes, count, out);
    runtime_conf_release(rt, conf);
    archive_detached_release();
    return st;
}
