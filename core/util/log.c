/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Line-oriented logging to stderr. A line is formatted into one buffer and
 * written with a single write(2), so lines from concurrent associations
 * never interleave.
 */
#include "util/log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_LVL_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&current_level);
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&current_level);
}

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    }
    if (strcasecmp(name, "warning") == 0)
        return LOG_LVL_WARN;
    return -1;
}

void log_vwrite(enum log_level level, const log_ctx *ctx, const char *prefix,
                const char *fmt, va_list ap)
{
    char line[2048];
    size_t used = 0;
    int n;

    if (!log_enabled(level))
        return;

    /* Under systemd the journal adds its own time stamp; elsewhere ours helps. */
    if (getenv("JOURNAL_STREAM") == NULL) {
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        used = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        n = snprintf(line + used, sizeof line - used, ".%03ldZ ", now.tv_nsec / 1000000);
        used += n > 0 ? (size_t)n : 0;
    }

    n = snprintf(line + used, sizeof line - used, "%-5s ", level_names[level]);
    used += n > 0 ? (size_t)n : 0;

    if (ctx != NULL && used < sizeof line) {
        n = snprintf(line + used, sizeof line - used, "[assoc %llu %s->%s] ",
                     (unsigned long long)ctx->assoc_id,
                     ctx->calling_ae[0] ? ctx->calling_ae : "?",
                     ctx->called_ae[0] ? ctx->called_ae : "?");
        used += n > 0 ? (size_t)n : 0;
    }
    if (prefix != NULL && used < sizeof line) {
        n = snprintf(line + used, sizeof line - used, "%s: ", prefix);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < sizeof line) {
        n = vsnprintf(line + used, sizeof line - used, fmt, ap);
        used += n > 0 ? (size_t)n : 0;
    }

    /* A line cut at the buffer end keeps its newline. */
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';

    ssize_t ignored = write(STDERR_FILENO, line, used);
    (void)ignored;
}

void log_write(enum log_level level, const log_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(level, ctx, NULL, fmt, ap);
    va_end(ap);
}
