/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API's log entries: a plugin's line goes to the core's log with
 * the plugin's name in front, and, for log_assoc, the association's id and
 * AE titles.
 */
#include "plugin/plugin_internal.h"

#include <stdarg.h>

#include "dimse/dimse_host.h"
#include "util/log.h"

/* Maps an SDK level onto the core's; values past TRACE log as TRACE. */
static enum log_level core_level(cairn_log_level level)
{
    switch (level) {
    case CAIRN_LOG_ERROR: return LOG_LVL_ERROR;
    case CAIRN_LOG_WARN: return LOG_LVL_WARN;
    case CAIRN_LOG_INFO: return LOG_LVL_INFO;
    case CAIRN_LOG_DEBUG: return LOG_LVL_DEBUG;
    case CAIRN_LOG_TRACE: return LOG_LVL_TRACE;
    case CAIRN_LOG_SENTINEL_: break;
    }
    return (int)level < 0 ? LOG_LVL_ERROR : LOG_LVL_TRACE;
}

static const char *prefix_of(const cairn_plugin *self)
{
    return self != NULL && self->name != NULL ? self->name : "plugin";
}

void plugin_host_log(cairn_plugin *self, cairn_log_level level, const char *fmt, ...)
{
    va_list ap;

    if (fmt == NULL)
        return;

    va_start(ap, fmt);
    log_vwrite(core_level(level), NULL, prefix_of(self), fmt, ap);
    va_end(ap);
}

void plugin_host_log_assoc(cairn_plugin *self, const cairn_assoc *assoc, cairn_log_level level,
                           const char *fmt, ...)
{
    const log_ctx *ctx = assoc != NULL ? dimse_host_assoc_log_ctx(assoc) : NULL;
    va_list ap;

    if (fmt == NULL)
        return;

    va_start(ap, fmt);
    log_vwrite(core_level(level), ctx, prefix_of(self), fmt, ap);
    va_end(ap);
}
