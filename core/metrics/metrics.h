/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Daemon-wide counters and gauges, exported by the control API in the
 * Prometheus text format. Updates are lock-free atomics, cheap enough for
 * every association and every instance.
 */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic counters. */
enum metric_counter {
    METRIC_ASSOC_ACCEPTED,
    METRIC_ASSOC_REJECTED_CALLED_AE,   /* called AE title not recognised or disabled */
    METRIC_ASSOC_REJECTED_CALLING_AE,
    METRIC_ASSOC_REJECTED_LOCAL_LIMIT,
    METRIC_ASSOC_REJECTED_OTHER,
    METRIC_ASSOC_RELEASED,
    METRIC_ASSOC_ABORTED_BY_PEER,
    METRIC_ASSOC_ABORTED_LOCALLY,      /* protocol error, timeout, shutdown */
    METRIC_INSTANCES_RECEIVED,
    METRIC_BYTES_RECEIVED,
    METRIC_INSTANCES_SENT,
    METRIC_BYTES_SENT,
    METRIC_COUNTER_COUNT_
};

/* Values that go up and down. */
enum metric_gauge {
    METRIC_ASSOC_OPEN,
    METRIC_ASSOC_WAITING,              /* delayed, waiting for a worker */
    METRIC_JOBS_QUEUED,
    METRIC_JOBS_RUNNING,
    METRIC_GAUGE_COUNT_
};

void metrics_add(enum metric_counter counter, uint64_t amount);
void metrics_gauge_add(enum metric_gauge gauge, int64_t delta);

/* Counts one DIMSE response sent, by its Command Field and Status. */
void metrics_dimse(uint16_t command_field, uint16_t status);

/* Records how long one index call took, in microseconds. */
void metrics_index_latency(uint64_t microseconds);

/* Returns the CLOCK_MONOTONIC time in microseconds, to time calls with. */
uint64_t metrics_now_us(void);

/* Returns the current value of one counter or gauge. */
uint64_t metrics_counter_value(enum metric_counter counter);
int64_t metrics_gauge_value(enum metric_gauge gauge);

/* Formats every metric in the Prometheus text format; *out is malloc'd. */
int metrics_format(char **out, size_t *len);

#endif
