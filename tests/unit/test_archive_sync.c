/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group commit barrier of instance files (archive_sync_wait), with a
 * test function in place of the file system sync. A lone caller runs the
 * sync on its own thread, or its solo function when it passes one.
 * Callers that register during a sync share the next one. Every caller of
 * a failed sync gets its error and no other caller does, and many threads
 * each get the result of a sync that started after they registered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive_sync.h"

/* Bounds the wait for a state that other threads reach. */
#define WAIT_LIMIT_MS 5000

/* The sync function's state: counts calls and fails or blocks on request. */
typedef struct fake_fs {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t calls;          /* syncs started */
    uint64_t fail_every;     /* 0: never fail; n: every n-th sync returns EIO */
    uint64_t fail_call;      /* 0: none; n: the n-th sync returns EIO */
    bool hold;               /* a started sync blocks until hold is cleared */
    bool in_sync;
    pthread_t last_thread;
    useconds_t delay_us;
} fake_fs;

static void fake_init(fake_fs *fs)
{
    *fs = (fake_fs){0};
    pthread_mutex_init(&fs->lock, NULL);
    pthread_cond_init(&fs->changed, NULL);
}

static void fake_destroy(fake_fs *fs)
{
    pthread_cond_destroy(&fs->changed);
    pthread_mutex_destroy(&fs->lock);
}

static uint64_t fake_calls(fake_fs *fs)
{
    uint64_t calls;

    pthread_mutex_lock(&fs->lock);
    calls = fs->calls;
    pthread_mutex_unlock(&fs->lock);
    return calls;
}

static int fake_sync(void *arg)
{
    fake_fs *fs = arg;
    uint64_t call;
    int result = 0;

    pthread_mutex_lock(&fs->lock);
    call = ++fs->calls;
    fs->last_thread = pthread_self();
    fs->in_sync = true;
    pthread_cond_broadcast(&fs->changed);
    while (fs->hold)
        pthread_cond_wait(&fs->changed, &fs->lock);
    if ((fs->fail_every != 0 && call % fs->fail_every == 0) || call == fs->fail_call)
        result = EIO;
    pthread_mutex_unlock(&fs->lock);

    if (fs->delay_us > 0)
        usleep(fs->delay_us);

    pthread_mutex_lock(&fs->lock);
    fs->in_sync = false;
    pthread_mutex_unlock(&fs->lock);
    return result;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits until a sync is running; returns false after WAIT_LIMIT_MS. */
static bool wait_in_sync(fake_fs *fs)
{
    for (unsigned ms = 0; ms < WAIT_LIMIT_MS; ms++) {
        bool in_sync;

        pthread_mutex_lock(&fs->lock);
        in_sync = fs->in_sync;
        pthread_mutex_unlock(&fs->lock);
        if (in_sync)
            return true;
        sleep_ms(1);
    }
    return false;
}

static bool wait_waiting(archive_sync *sync, unsigned count)
{
    for (unsigned ms = 0; ms < WAIT_LIMIT_MS; ms++) {
        if (archive_sync_waiting(sync) == count)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void release_hold(fake_fs *fs)
{
    pthread_mutex_lock(&fs->lock);
    fs->hold = false;
    pthread_cond_broadcast(&fs->changed);
    pthread_mutex_unlock(&fs->lock);
}

typedef struct waiter_run {
    archive_sync *sync;
    int result;
    uint64_t batch;
} waiter_run;

static void *run_waiter(void *arg)
{
    waiter_run *run = arg;

    run->result = archive_sync_wait(run->sync, NULL, NULL, &run->batch);
    return NULL;
}

static void lone_caller_syncs_on_own_thread(void **state)
{
    fake_fs fs;
    archive_sync *sync;
    uint64_t batch = 0;

    (void)state;
    fake_init(&fs);
    sync = archive_sync_create(fake_sync, &fs);
    assert_non_null(sync);

    for (uint64_t i = 1; i <= 3; i++) {
        assert_int_equal(archive_sync_wait(sync, NULL, NULL, &batch), 0);
        assert_int_equal(batch, i);
        assert_true(pthread_equal(fs.last_thread, pthread_self()));
    }
    assert_int_equal(fake_calls(&fs), 3);
    assert_int_equal(archive_sync_waiting(sync), 0);

    archive_sync_destroy(sync);
    fake_destroy(&fs);
}

static void lone_caller_gets_sync_error(void **state)
{
    fake_fs fs;
    archive_sync *sync;

    (void)state;
    fake_init(&fs);
    fs.fail_call = 2;
    sync = archive_sync_create(fake_sync, &fs);
    assert_non_null(sync);

    assert_int_equal(archive_sync_wait(sync, NULL, NULL, NULL), 0);
    assert_int_equal(archive_sync_wait(sync, NULL, NULL, NULL), EIO);
    assert_int_equal(archive_sync_wait(sync, NULL, NULL, NULL), 0);

    archive_sync_destroy(sync);
    fake_destroy(&fs);
}

/*
 * A leads sync 1 and blocks in it; B and C register meanwhile and must
 * share sync 2, which fails: B and C get EIO, A gets sync 1's success.
 */
static void failed_batch_fails_only_its_waiters(void **state)
{
    fake_fs fs;
    archive_sync *sync;
    pthread_t threads[3];
    waiter_run runs[3];

    (void)state;
    fake_init(&fs);
    fs.hold = true;
    fs.fail_call = 2;
    sync = archive_sync_create(fake_sync, &fs);
    assert_non_null(sync);
    for (int i = 0; i < 3; i++)
        runs[i] = (waiter_run){.sync = sync, .result = -1};

    assert_int_equal(pthread_create(&threads[0], NULL, run_waiter, &runs[0]), 0);
    assert_true(wait_in_sync(&fs));
    assert_int_equal(pthread_create(&threads[1], NULL, run_waiter, &runs[1]), 0);
    assert_int_equal(pthread_create(&threads[2], NULL, run_waiter, &runs[2]), 0);
    assert_true(wait_waiting(sync, 2));
    assert_int_equal(fake_calls(&fs), 1);

    release_hold(&fs);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);

    assert_int_equal(runs[0].result, 0);
    assert_int_equal(runs[0].batch, 1);
    assert_int_equal(runs[1].result, EIO);
    assert_int_equal(runs[1].batch, 2);
    assert_int_equal(runs[2].result, EIO);
    assert_int_equal(runs[2].batch, 2);
    assert_int_equal(fake_calls(&fs), 2);

    archive_sync_destroy(sync);
    fake_destroy(&fs);
}

#define STRESS_THREADS 16
#define STRESS_ROUNDS 200
#define STRESS_FAIL_EVERY 7

typedef struct stress_run {
    archive_sync *sync;
    fake_fs *fs;
    unsigned wrong_result;   /* result differs from what its sync returned */
    unsigned stale_batch;    /* sync started before the call registered */
    unsigned future_batch;   /* sync number beyond those started at return */
    unsigned failures;
} stress_run;

static void *run_stress(void *arg)
{
    stress_run *run = arg;

    for (int round = 0; round < STRESS_ROUNDS; round++) {
        uint64_t started_before = fake_calls(run->fs);
        uint64_t batch = 0;
        int result = archive_sync_wait(run->sync, NULL, NULL, &batch);
        int expected = batch % STRESS_FAIL_EVERY == 0 ? EIO : 0;

        if (result != expected)
            run->wrong_result++;
        if (batch <= started_before)
            run->stale_batch++;
        if (batch > fake_calls(run->fs))
            run->future_batch++;
        if (result != 0)
            run->failures++;
    }
    return NULL;
}

static void many_threads_each_get_their_batch_result(void **state)
{
    fake_fs fs;
    archive_sync *sync;
    pthread_t threads[STRESS_THREADS];
    stress_run runs[STRESS_THREADS];
    unsigned failures = 0;

    (void)state;
    fake_init(&fs);
    fs.fail_every = STRESS_FAIL_EVERY;
    fs.delay_us = 200;
    sync = archive_sync_create(fake_sync, &fs);
    assert_non_null(sync);

    for (int i = 0; i < STRESS_THREADS; i++) {
        runs[i] = (stress_run){.sync = sync, .fs = &fs};
        assert_int_equal(pthread_create(&threads[i], NULL, run_stress, &runs[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(runs[i].wrong_result, 0);
        assert_int_equal(runs[i].stale_batch, 0);
        assert_int_equal(runs[i].future_batch, 0);
        failures += runs[i].failures;
    }

    /* Batching happened (fewer syncs than waits), and some batches failed. */
    assert_true(fake_calls(&fs) < (uint64_t)STRESS_THREADS * STRESS_ROUNDS);
    assert_true(fake_calls(&fs) >= STRESS_FAIL_EVERY);
    assert_true(failures > 0);
    assert_int_equal(archive_sync_waiting(sync), 0);

    archive_sync_destroy(sync);
    fake_destroy(&fs);
}

static int count_solo(void *arg)
{
    int *calls = arg;

    (*calls)++;
    return *calls == 2 ? EIO : 0;
}

/* A lone caller runs its solo function; callers that share a sync do not. */
static void batch_of_one_runs_solo_sync(void **state)
{
    fake_fs fs;
    archive_sync *sync;
    int solo_calls = 0;
    pthread_t threads[3];
    waiter_run runs[3];

    (void)state;
    fake_init(&fs);
    sync = archive_sync_create(fake_sync, &fs);
    assert_non_null(sync);

    assert_int_equal(archive_sync_wait(sync, count_solo, &solo_calls, NULL), 0);
    assert_int_equal(archive_sync_wait(sync, count_solo, &solo_calls, NULL), EIO);
    assert_int_equal(solo_calls, 2);
    assert_int_equal(fake_calls(&fs), 0);

    /* A leads a shared sync that blocks, so B and C form a batch of two. */
    fs.hold = true;
    for (int i = 0; i < 3; i++)
        runs[i] = (waiter_run){.sync = sync, .result = -1};
    assert_int_equal(pthread_create(&threads[0], NULL, run_waiter, &runs[0]), 0);
    assert_true(wait_in_sync(&fs));
    assert_int_equal(pthread_create(&threads[1], NULL, run_waiter, &runs[1]), 0);
    assert_int_equal(pthread_create(&threads[2], NULL, run_waiter, &runs[2]), 0);
    assert_true(wait_waiting(sync, 2));
    release_hold(&fs);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(runs[i].result, 0);
    }
    assert_int_equal(fake_calls(&fs), 2);
    assert_int_equal(solo_calls, 2);

    archive_sync_destroy(sync);
    fake_destroy(&fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_caller_syncs_on_own_thread),
        cmocka_unit_test(lone_caller_gets_sync_error),
        cmocka_unit_test(failed_batch_fails_only_its_waiters),
        cmocka_unit_test(many_threads_each_get_their_batch_result),
        cmocka_unit_test(batch_of_one_runs_solo_sync),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
