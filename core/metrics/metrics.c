/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's metrics as process-wide atomics, and their export in the
 * Prometheus text exposition format 0.0.4. Updates take no lock: counters
 * and gauges are relaxed atomic adds, DIMSE responses go to a small
 * lock-free hash table keyed by (command, status), and index call times go
 * to fixed histogram buckets. A scrape reads each value once, so values of
 * different metrics may be a few updates apart.
 */
#include "metrics/metrics.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dimse/dimse.h"

/* Distinct (command, status) pairs kept; further pairs count as "other". */
#define DIMSE_SLOTS 256u

/* Upper bounds of the index latency buckets, in microseconds. */
static const uint64_t latency_bounds_us[] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};
#define LATENCY_BUCKETS (sizeof latency_bounds_us / sizeof latency_bounds_us[0])

typedef struct dimse_slot {
    _Atomic uint32_t key; /* (response command field << 16) | status; 0 while free */
    _Atomic uint64_t count;
} dimse_slot;

static _Atomic uint64_t counters[METRIC_COUNTER_COUNT_];
static _Atomic int64_t gauges[METRIC_GAUGE_COUNT_];
static dimse_slot dimse_slots[DIMSE_SLOTS];
static _Atomic uint64_t dimse_overflow;
static _Atomic uint64_t latency_buckets[LATENCY_BUCKETS + 1]; /* the last one is +Inf */
static _Atomic uint64_t latency_sum_us;
static _Atomic uint64_t latency_count;

void metrics_add(enum metric_counter counter, uint64_t amount)
{
    if ((unsigned)counter < METRIC_COUNTER_COUNT_)
        atomic_fetch_add_explicit(&counters[counter], amount, memory_order_relaxed);
}

void metrics_gauge_add(enum metric_gauge gauge, int64_t delta)
{
    if ((unsigned)gauge < METRIC_GAUGE_COUNT_)
        atomic_fetch_add_explicit(&gauges[gauge], delta, memory_order_relaxed);
}

uint64_t metrics_counter_value(enum metric_counter counter)
{
    if ((unsigned)counter >= METRIC_COUNTER_COUNT_)
        return 0;
    return atomic_load_explicit(&counters[counter], memory_order_relaxed);
}

int64_t metrics_gauge_value(enum metric_gauge gauge)
{
    if ((unsigned)gauge >= METRIC_GAUGE_COUNT_)
        return 0;
    return atomic_load_explicit(&gauges[gauge], memory_order_relaxed);
}

void metrics_dimse(uint16_t command_field, uint16_t status)
{
    /* The response bit makes every key non-zero, so 0 can mark a free slot. */
    uint32_t key = ((uint32_t)(command_field | DIMSE_RESPONSE_BIT) << 16) | status;
    uint32_t start = (key * 2654435761u) % DIMSE_SLOTS;

    for (uint32_t i = 0; i < DIMSE_SLOTS; i++) {
        dimse_slot *slot = &dimse_slots[(start + i) % DIMSE_SLOTS];
        uint32_t seen = atomic_load_explicit(&slot->key, memory_order_acquire);

        if (seen == 0) {
            uint32_t expected = 0;

            if (atomic_compare_exchange_strong(&slot->key, &expected, key))
                seen = key;
            else
                seen = expected;
        }
        if (seen == key) {
            atomic_fetch_add_explicit(&slot->count, 1, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&dimse_overflow, 1, memory_order_relaxed);
}

void metrics_index_latency(uint64_t microseconds)
{
    size_t bucket = 0;

    while (bucket < LATENCY_BUCKETS && microseconds > latency_bounds_us[bucket])
        bucket++;
    atomic_fetch_add_explicit(&latency_buckets[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us, microseconds, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
}

uint64_t metrics_now_us(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* One exported sample of a counter or gauge. */
typedef struct sample {
    const char *name;
    const char *help;
    const char *type;    /* "counter" or "gauge" */
    const char *labels;  /* "{...}" or "" */
    int index;           /* into counters[] or gauges[] */
} sample;

static const sample samples[] = {
    {"cairn_associations_accepted_total", "Associations accepted.", "counter", "",
     METRIC_ASSOC_ACCEPTED},
    {"cairn_associations_rejected_total", "Associations rejected with A-ASSOCIATE-RJ, by reason.",
     "counter", "{reason=\"called_ae\"}", METRIC_ASSOC_REJECTED_CALLED_AE},
    {"cairn_associations_rejected_total", NULL, "counter", "{reason=\"calling_ae\"}",
     METRIC_ASSOC_REJECTED_CALLING_AE},
    {"cairn_associations_rejected_total", NULL, "counter", "{reason=\"local_limit\"}",
     METRIC_ASSOC_REJECTED_LOCAL_LIMIT},
    {"cairn_associations_rejected_total", NULL, "counter", "{reason=\"other\"}",
     METRIC_ASSOC_REJECTED_OTHER},
    {"cairn_associations_released_total", "Associations ended by A-RELEASE.", "counter", "",
     METRIC_ASSOC_RELEASED},
    {"cairn_associations_aborted_total",
     "Associations ended without A-RELEASE, by the side that ended them.", "counter",
     "{side=\"peer\"}", METRIC_ASSOC_ABORTED_BY_PEER},
    {"cairn_associations_aborted_total", NULL, "counter", "{side=\"local\"}",
     METRIC_ASSOC_ABORTED_LOCALLY},
    {"cairn_instances_received_total", "Instances received by C-STORE and committed.", "counter",
     "", METRIC_INSTANCES_RECEIVED},
    {"cairn_received_bytes_total", "Bytes of the instance files stored from C-STORE.", "counter",
     "", METRIC_BYTES_RECEIVED},
    {"cairn_instances_sent_total", "Instances sent by C-STORE and answered by the peer.",
     "counter", "", METRIC_INSTANCES_SENT},
    {"cairn_sent_bytes_total", "Bytes of the archived files sent by C-STORE.", "counter", "",
     METRIC_BYTES_SENT},
};

static const sample gauge_samples[] = {
    {"cairn_associations_open", "Associations being served now.", "gauge", "", METRIC_ASSOC_OPEN},
    {"cairn_associations_waiting", "Connections waiting for a free worker.", "gauge", "",
     METRIC_ASSOC_WAITING},
    {"cairn_jobs_queued", "Jobs waiting to run.", "gauge", "", METRIC_JOBS_QUEUED},
    {"cairn_jobs_running", "Jobs running now.", "gauge", "", METRIC_JOBS_RUNNING},
};

static void format_samples(FILE *out, const sample *list, size_t n, bool gauge)
{
    for (size_t i = 0; i < n; i++) {
        const sample *s = &list[i];

        if (s->help != NULL)
            fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name, s->type);
        if (gauge)
            fprintf(out, "%s%s %" PRId64 "\n", s->name, s->labels,
                    metrics_gauge_value((enum metric_gauge)s->index));
        else
            fprintf(out, "%s%s %" PRIu64 "\n", s->name, s->labels,
                    metrics_counter_value((enum metric_counter)s->index));
    }
}

static void format_dimse(FILE *out)
{
    uint64_t overflow = atomic_load_explicit(&dimse_overflow, memory_order_relaxed);

    fputs("# HELP cairn_dimse_responses_total DIMSE responses sent, by command and status.\n"
          "# TYPE cairn_dimse_responses_total counter\n", out);
    for (size_t i = 0; i < DIMSE_SLOTS; i++) {
        uint32_t key = atomic_load_explicit(&dimse_slots[i].key, memory_order_acquire);
        uint16_t command = (uint16_t)(key >> 16);
        const char *name;

        if (key == 0)
            continue;
        name = dimse_command_name(command);
        if (name[0] == 'u') /* "unknown command": label it by number instead */
            fprintf(out, "cairn_dimse_responses_total{command=\"0x%04X\",", command);
        else
            fprintf(out, "cairn_dimse_responses_total{command=\"%s\",", name);
        fprintf(out, "status=\"0x%04X\"} %" PRIu64 "\n", key & 0xFFFFu,
                atomic_load_explicit(&dimse_slots[i].count, memory_order_relaxed));
    }
    if (overflow > 0)
        fprintf(out, "cairn_dimse_responses_total{command=\"other\",status=\"other\"} %" PRIu64
                "\n", overflow);
}

static void format_latency(FILE *out)
{
    uint64_t cumulative = 0;

    fputs("# HELP cairn_index_call_duration_seconds Time of index store_instance and query "
          "calls.\n"
          "# TYPE cairn_index_call_duration_seconds histogram\n", out);
    for (size_t i = 0; i <= LATENCY_BUCKETS; i++) {
        cumulative += atomic_load_explicit(&latency_buckets[i], memory_order_relaxed);
        if (i < LATENCY_BUCKETS)
            fprintf(out, "cairn_index_call_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                    (double)latency_bounds_us[i] / 1e6, cumulative);
        else
            fprintf(out, "cairn_index_call_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                    cumulative);
    }
    fprintf(out, "cairn_index_call_duration_seconds_sum %.6f\n",
            (double)atomic_load_explicit(&latency_sum_us, memory_order_relaxed) / 1e6);
    /* NOTE: read separately from the buckets, so a scrape racing an update
     * may see a count one off from the +Inf bucket. */
    fprintf(out, "cairn_index_call_duration_seconds_count %" PRIu64 "\n",
            atomic_load_explicit(&latency_count, memory_order_relaxed));
}

int metrics_format(char **out, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);

    if (stream == NULL)
        return -1;

    format_samples(stream, samples, sizeof samples / sizeof samples[0], false);
    format_samples(stream, gauge_samples, sizeof gauge_samples / sizeof gauge_samples[0], true);
    format_dimse(stream);
    format_latency(stream);

    if (ferror(stream)) {
        fclose(stream);
        free(text);
        return -1;
    }
    if (fclose(stream) != 0) {
        free(text);
        return -1;
    }
    *out = text;
    *len = size;
    return 0;
}
