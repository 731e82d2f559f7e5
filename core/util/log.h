/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for the core. Lines go to stderr (journald under systemd) as
 * "LEVEL [assoc N CALLING->CALLED] message". Every line about an
 * association passes its log_ctx so the id and both AE titles are on it.
 * Thread-safe: one write(2) per line.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN = 1,
    LOG_LVL_INFO = 2,
    LOG_LVL_DEBUG = 3,
    LOG_LVL_TRACE = 4
};

/* Context of an association; the titles are NUL-terminated, trimmed. */
typedef struct log_ctx {
    uint64_t assoc_id;
    char calling_ae[17];
    char called_ae[17];
} log_ctx;

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

/* Parses "error", "warn", "info", "debug" or "trace"; returns -1 otherwise. */
int log_level_parse(const char *name);

/* ctx may be NULL for lines that concern no association. */
void log_write(enum log_level level, const log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const log_ctx *ctx, const char *prefix,
                const char *fmt, va_list ap);

#define log_error(ctx, ...) log_write(LOG_LVL_ERROR, (ctx), __VA_ARGS__)
#define log_warn(ctx, ...) log_write(LOG_LVL_WARN, (ctx), __VA_ARGS__)
#define log_info(ctx, ...) log_write(LOG_LVL_INFO, (ctx), __VA_ARGS__)
#define log_debug(ctx, ...)                                                  \
    do {                                                                     \
        if (log_enabled(LOG_LVL_DEBUG))                                      \
            log_write(LOG_LVL_DEBUG, (ctx), __VA_ARGS__);                    \
    } while (0)
#define log_trace(ctx, ...)                                                  \
    do {                                                                     \
        if (log_enabled(LOG_LVL_TRACE))                                      \
            log_write(LOG_LVL_TRACE, (ctx), __VA_ARGS__);                    \
    } while (0)

#endif
