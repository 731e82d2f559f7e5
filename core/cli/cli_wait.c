/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for a job: polls GET /v1/jobs/{id} every POLL_MS milliseconds
 * until the job ends, and shows its progress from the record's `progress`
 * counts, as a bar redrawn in place on a terminal (at most once per poll,
 * so at most 10 times a second) or as plain lines elsewhere. SIGINT and
 * SIGTERM stop the wait, not the job.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

#define POLL_MS 100
#define LINE_INTERVAL_SECONDS 1.0

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signo)
{
    stop_signal = signo;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_job_state(const json_t *record)
{
    const char *state = json_string_value(json_object_get(record, "state"));

    return state != NULL ? state : "";
}

static bool job_finished(const json_t *record)
{
    const char *state = cli_job_state(record);

    return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

cli_progress_style cli_progress_style_for_stdout(void)
{
    return isatty(STDOUT_FILENO) ? CLI_PROGRESS_BAR : CLI_PROGRESS_LINES;
}

/* The counts of a record's progress; -1 where the record has null. */
typedef struct progress_counts {
    long long done, remaining, failed, warning;
    long long bytes_done, bytes_remaining;
} progress_counts;

static long long count_of(const json_t *progress, const char *key)
{
    const json_t *value = json_object_get(progress, key);

    return json_is_integer(value) ? (long long)json_integer_value(value) : -1;
}

static progress_counts read_counts(const json_t *record)
{
    const json_t *progress = json_object_get(record, "progress");
    progress_counts counts = {
        .done = count_of(progress, "instances_done"),
        .remaining = count_of(progress, "instances_remaining"),
        .failed = count_of(progress, "instances_failed"),
        .warning = count_of(progress, "instances_warning"),
        .bytes_done = count_of(progress, "bytes_done"),
        .bytes_remaining = count_of(progress, "bytes_remaining"),
    };

    return counts;
}

/* Writes a byte count in B, KiB, MiB or GiB. */
static void format_bytes(long long bytes, char *out, size_t outlen)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    size_t unit = 0;

    while (value >= 1024.0 && unit + 1 < sizeof units / sizeof units[0]) {
        value /= 1024.0;
        unit++;
    }
    if (unit == 0)
        snprintf(out, outlen, "%lld B", bytes);
    else
        snprintf(out, outlen, "%.1f %s", value, units[unit]);
}

void cli_format_progress(const json_t *record, char *out, size_t outlen)
{
    progress_counts c = read_counts(record);
    long long ended = (c.done > 0 ? c.done : 0) + (c.failed > 0 ? c.failed : 0) +
                      (c.warning > 0 ? c.warning : 0);
    const char *kind = json_string_value(json_object_get(record, "kind"));
    bool query = kind != NULL && strcmp(kind, "query") == 0;
    size_t used;
    long long total = c.remaining >= 0 ? ended + c.remaining : ended;
    const char *noun = query ? (total == 1 ? "match" : "matches")
                             : (total == 1 ? "instance" : "instances");

    out[0] = '\0';
    if (c.done < 0 && c.remaining < 0)
        return;
    if (c.remaining >= 0)
        snprintf(out, outlen, "%lld/%lld %s", ended, total, noun);
    else
        snprintf(out, outlen, "%lld %s", ended, noun);
    used = strlen(out);
    if (c.failed > 0 && used < outlen)
        used += (size_t)snprintf(out + used, outlen - used, ", %lld failed", c.failed);
    if (c.warning > 0 && used < outlen)
        used += (size_t)snprintf(out + used, outlen - used, ", %lld with warnings", c.warning);
    if (c.bytes_done >= 0 && c.bytes_remaining >= 0 && used < outlen) {
        char done_text[32], total_text[32];

        format_bytes(c.bytes_done, done_text, sizeof done_text);
        format_bytes(c.bytes_done + c.bytes_remaining, total_text, sizeof total_text);
        snprintf(out + used, outlen - used, ", %s of %s", done_text, total_text);
    }
}

/* Returns the fraction done from bytes when known, else from instances, or -1. */
static double fraction_done(const json_t *record)
{
    progress_counts c = read_counts(record);
    long long ended;

    /* The last C-MOVE response may leave out the remaining count. */
    if (strcmp(cli_job_state(record), "succeeded") == 0)
        return 1.0;
    if (c.bytes_done >= 0 && c.bytes_remaining >= 0 && c.bytes_done + c.bytes_remaining > 0)
        return (double)c.bytes_done / (double)(c.bytes_done + c.bytes_remaining);
    if (c.remaining < 0)
        return -1.0;
    ended = (c.done > 0 ? c.done : 0) + (c.failed > 0 ? c.failed : 0) +
            (c.warning > 0 ? c.warning : 0);
    if (ended + c.remaining == 0)
        return -1.0;
    return (double)ended / (double)(ended + c.remaining);
}

static int terminal_columns(void)
{
    struct winsize size;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

/* Redraws the bar line: "[#####-----]  42%  12/30 instances, ...  running". */
static void draw_bar(const json_t *record)
{
    char counts[160];
    char text[256];
    double fraction = fraction_done(record);
    int bar_width;
    int filled;

    cli_format_progress(record, counts, sizeof counts);
    if (fraction >= 0.0)
        snprintf(text, sizeof text, " %3d%%  %s  %s", (int)(fraction * 100.0), counts,
                 cli_job_state(record));
    else
        snprintf(text, sizeof text, "  %s  %s", counts, cli_job_state(record));

    bar_width = terminal_columns() - (int)strlen(text) - 3;
    if (bar_width > 40)
        bar_width = 40;
    fputc('\r', stdout);
    if (bar_width >= 10) {
        filled = fraction > 0.0 ? (int)(fraction * bar_width) : 0;
        fputc('[', stdout);
        for (int i = 0; i < bar_width; i++)
            fputc(i < filled ? '#' : '-', stdout);
        fputc(']', stdout);
    }
    fputs(text, stdout);
    fputs("\033[K", stdout);
    fflush(stdout);
}

static void print_line(const char *id, const json_t *record)
{
    char counts[160];

    cli_format_progress(record, counts, sizeof counts);
    printf("job %s: %s%s%s\n", id, cli_job_state(record), counts[0] != '\0' ? ", " : "", counts);
    fflush(stdout);
}

/* Sleeps POLL_MS unless a signal arrives. */
static void pause_poll(void)
{
    struct timespec delay = {0, POLL_MS * 1000000L};

    nanosleep(&delay, NULL);
}

int cli_job_wait(cli_api *api, const char *id, cli_progress_style style,
                 unsigned timeout_seconds, json_t **record)
{
    struct sigaction action = {0}, old_int, old_term;
    char *escaped = cli_api_escape(api, id);
    char path[256];
    char last_counts[160] = "";
    char last_state[32] = "";
    double started = now_seconds();
    double last_line = 0.0;
    bool drawn = false;
    json_t *current = NULL;
    int rc = -1;

    *record = NULL;
    if (escaped == NULL)
        return -1;
    snprintf(path, sizeof path, "/v1/jobs/%s", escaped);
    free(escaped);

    stop_signal = 0;
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);

    for (;;) {
        char counts[160];

        json_decref(current);
        current = NULL;
        if (cli_api_call(api, "GET", path, NULL, &current, NULL) != 0)
            break;

        cli_format_progress(current, counts, sizeof counts);
        if (style == CLI_PROGRESS_BAR) {
            draw_bar(current);
            drawn = true;
        } else if (style == CLI_PROGRESS_LINES &&
                   (strcmp(counts, last_counts) != 0 ||
                    strcmp(cli_job_state(current), last_state) != 0) &&
                   (now_seconds() - last_line >= LINE_INTERVAL_SECONDS || job_finished(current))) {
            print_line(id, current);
            snprintf(last_counts, sizeof last_counts, "%s", counts);
            snprintf(last_state, sizeof last_state, "%s", cli_job_state(current));
            last_line = now_seconds();
        }

        if (job_finished(current)) {
            *record = current;
            current = NULL;
            rc = 0;
            break;
        }
        if (stop_signal != 0 ||
            (timeout_seconds > 0 && now_seconds() - started >= (double)timeout_seconds)) {
            if (drawn)
                fputc('\n', stdout);
            drawn = false;
            fflush(stdout);
            if (stop_signal != 0)
                cli_error("stopped waiting; job %s goes on (cairn jobs show %s; cairn jobs "
                          "cancel %s)", id, id, id);
            else
                cli_error("timed out after %u s waiting for job %s, which goes on (cairn jobs "
                          "show %s; cairn jobs cancel %s)", timeout_seconds, id, id, id);
            break;
        }
        pause_poll();
    }

    if (drawn)
        fputc('\n', stdout);
    fflush(stdout);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    json_decref(current);
    return rc;
}
