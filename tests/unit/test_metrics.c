/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/metrics: counters and gauges add up, DIMSE responses
 * are counted by command and status, index call times land in cumulative
 * histogram buckets, and the Prometheus text has HELP and TYPE lines. The
 * metrics are process-wide, so each test compares values before and after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

/* Returns the value of the sample line that starts with "name " in text, or -1. */
static double sample_value(const char *text, const char *name)
{
    size_t len = strlen(name);

    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, name, len) == 0 && line[len] == ' ')
            return strtod(line + len + 1, NULL);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -1;
}

static char *format_metrics(void)
{
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(metrics_format(&text, &len), 0);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_counter_adds(void **state)
{
    uint64_t before = metrics_counter_value(METRIC_BYTES_RECEIVED);
    char *text;

    (void)state;
    metrics_add(METRIC_BYTES_RECEIVED, 1000);
    metrics_add(METRIC_BYTES_RECEIVED, 24);
    assert_int_equal(metrics_counter_value(METRIC_BYTES_RECEIVED), before + 1024);

    text = format_metrics();
    assert_true(sample_value(text, "cairn_received_bytes_total") == (double)(before + 1024));
    free(text);
}

static void test_gauge_goes_up_and_down(void **state)
{
    int64_t before = metrics_gauge_value(METRIC_ASSOC_OPEN);

    (void)state;
    metrics_gauge_add(METRIC_ASSOC_OPEN, 3);
    metrics_gauge_add(METRIC_ASSOC_OPEN, -1);
    assert_int_equal(metrics_gauge_value(METRIC_ASSOC_OPEN), before + 2);
    metrics_gauge_add(METRIC_ASSOC_OPEN, -2);
    assert_int_equal(metrics_gauge_value(METRIC_ASSOC_OPEN), before);
}

static void test_out_of_range_ignored(void **state)
{
    (void)state;
    metrics_add(METRIC_COUNTER_COUNT_, 5);
    metrics_gauge_add(METRIC_GAUGE_COUNT_, 5);
    assert_int_equal(metrics_counter_value(METRIC_COUNTER_COUNT_), 0);
    assert_int_equal(metrics_gauge_value(METRIC_GAUGE_COUNT_), 0);
}

static void test_dimse_by_command_status(void **state)
{
    char *text;

    (void)state;
    /* The request or the response field counts the same response. */
    metrics_dimse(0x0001, 0x0000);
    metrics_dimse(0x8001, 0x0000);
    metrics_dimse(0x8001, 0xA700);
    metrics_dimse(0x8030, 0x0000);
    metrics_dimse(0x8123, 0x0000);

    text = format_metrics();
    assert_true(sample_value(text, "cairn_dimse_responses_total{command=\"C-STORE-RSP\","
                                   "status=\"0x0000\"}") == 2);
    assert_true(sample_value(text, "cairn_dimse_responses_total{command=\"C-STORE-RSP\","
                                   "status=\"0xA700\"}") == 1);
    assert_true(sample_value(text, "cairn_dimse_responses_total{command=\"C-ECHO-RSP\","
                                   "status=\"0x0000\"}") == 1);
    assert_true(sample_value(text, "cairn_dimse_responses_total{command=\"0x8123\","
                                   "status=\"0x0000\"}") == 1);
    free(text);
}

static void test_latency_buckets_cumulate(void **state)
{
    char *text;
    double count_before;
    double small_before;
    double inf_before;

    (void)state;
    text = format_metrics();
    count_before = sample_value(text, "cairn_index_call_duration_seconds_count");
    small_before = sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"0.0001\"}");
    inf_before = sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"+Inf\"}");
    free(text);

    metrics_index_latency(50);        /* 50 us: first bucket */
    metrics_index_latency(100);       /* on the bound: first bucket */
    metrics_index_latency(3000);      /* 3 ms: the 0.005 bucket */
    metrics_index_latency(60000000);  /* 60 s: +Inf only */

    text = format_metrics();
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_count") ==
                count_before + 4);
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"0.0001\"}") ==
                small_before + 2);
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"0.005\"}") >=
                small_before + 3);
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"10\"}") <
                sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_bucket{le=\"+Inf\"}") ==
                inf_before + 4);
    assert_true(sample_value(text, "cairn_index_call_duration_seconds_sum") >= 60.003);
    free(text);
}

static void test_help_and_type_lines(void **state)
{
    char *text = format_metrics();

    (void)state;
    assert_non_null(strstr(text, "# HELP cairn_associations_accepted_total "));
    assert_non_null(strstr(text, "# TYPE cairn_associations_accepted_total counter\n"));
    assert_non_null(strstr(text, "# TYPE cairn_associations_open gauge\n"));
    assert_non_null(strstr(text, "# TYPE cairn_index_call_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "cairn_associations_rejected_total{reason=\"called_ae\"} "));
    assert_non_null(strstr(text, "cairn_associations_aborted_total{side=\"peer\"} "));

    /* One HELP line per metric family, even with several labelled samples. */
    assert_non_null(strstr(text, "# HELP cairn_associations_rejected_total"));
    assert_null(strstr(strstr(text, "# HELP cairn_associations_rejected_total") + 1,
                       "# HELP cairn_associations_rejected_total"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_adds),
        cmocka_unit_test(test_gauge_goes_up_and_down),
        cmocka_unit_test(test_out_of_range_ignored),
        cmocka_unit_test(test_dimse_by_command_status),
        cmocka_unit_test(test_latency_buckets_cumulate),
        cmocka_unit_test(test_help_and_type_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
