/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job runner: the list of jobs, JOBS_THREADS worker threads, the
 * per-remote limits by kind of work, and persistence through the index's
 * job_put. A worker takes the oldest queued job whose remote still has a
 * free slot of its kind (remotes[].limits), runs its manager and records
 * the outcome. Every state change is saved at once; progress at most once
 * a second.
 *
 * At start, a job a previous run left running is resumed when it is a
 * retrieve or a send (it runs again from the start; a retrieve of listed
 * instances skips those already in the archive) and fails with "interrupted
 * by a restart" when it is a query, whose partial matches are worth less
 * than a new query.
 */
#include "jobs/jobs_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "metrics/metrics.h"

/* Worker threads; the per-remote limits decide how many run against one peer. */
#define JOBS_THREADS 8

/* Jobs of one kind running against one remote. */
typedef struct remote_count {
    char remote[UL_AE_TITLE_MAX + 1];
    int running[3]; /* by job_kind */
    struct remote_count *next;
} remote_count;

struct jobs {
    runtime *rt;
    archive *ar;
    const cairn_index_ops *ops;
    void *db;
    pthread_mutex_t lock;     /* the list, the counts and every job's state */
    pthread_cond_t wake;      /* workers wait here for runnable jobs */
    pthread_mutex_t save_lock; /* keeps the saves of the documents in order */
    job *head;                /* newest first */
    remote_count *counts;
    pthread_t threads[JOBS_THREADS];
    size_t n_threads;
    bool stopping;
};

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a random (version 4) UUID. */
static int make_uuid(char out[37])
{
    uint8_t b[16];

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -1;
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

/* Saves the job's current document in the index; logs a failure. */
static void save(jobs *js, job *j)
{
    char *document;
    char id[sizeof j->id];
    cairn_status st;

    pthread_mutex_lock(&js->save_lock);
    pthread_mutex_lock(&js->lock);
    document = jobs_record_format(j);
    j->last_saved_ms = now_ms();
    memcpy(id, j->id, sizeof id);
    pthread_mutex_unlock(&js->lock);

    st = document != NULL ? js->ops->job_put(js->db, id, document) : CAIRN_ERR_NO_MEMORY;
    if (st != CAIRN_OK)
        log_error(NULL, "jobs: saving job %s in the index failed: %s; its state is kept in "
                  "memory only", id, cairn_strerror(st));
    pthread_mutex_unlock(&js->save_lock);
    free(document);
}

static job *find_job(jobs *js, const char *id)
{
    for (job *j = js->head; j != NULL; j = j->next) {
        if (strcmp(j->id, id) == 0)
            return j;
    }
    return NULL;
}

static remote_count *count_of(jobs *js, const char *remote)
{
    remote_count *c;

    for (c = js->counts; c != NULL; c = c->next) {
        if (strcmp(c->remote, remote) == 0)
            return c;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    snprintf(c->remote, sizeof c->remote, "%s", remote);
    c->next = js->counts;
    js->counts = c;
    return c;
}

static int kind_limit(const cairn_conf *conf, const char *remote, job_kind kind)
{
    const conf_remote *r = conf_find_remote(conf, remote);

    if (r == NULL)
        return 1; /* the run fails at once with the reason */
    switch (kind) {
    case JOB_QUERY: return r->limits.queries;
    case JOB_RETRIEVE: return r->limits.loads;
    case JOB_SEND: return r->limits.sends;
    }
    return 1;
}

/* Returns the oldest queued job whose remote has a free slot of its kind. Called locked. */
static job *next_runnable(jobs *js, const cairn_conf *conf)
{
    job *found = NULL;

    for (job *j = js->head; j != NULL; j = j->next) {
        remote_count *c;

        if (j->state != JOB_QUEUED)
            continue;
        c = count_of(js, j->request.remote);
        if (c != NULL && c->running[j->kind] < kind_limit(conf, j->request.remote, j->kind))
            found = j;
    }
    return found;
}

/* Picks the calling AE title: the request's, else the first enabled AE. */
static int choose_calling_ae(job_run *run)
{
    const job_request *req = &run->job->request;
    const cairn_conf *conf = run->conf;

    if (req->calling_ae[0] != '\0') {
        if (conf_find_ae(conf, req->calling_ae) == NULL) {
            jobs_run_fail(run, "calling_ae: \"%s\" is no longer an AE of this archive",
                          req->calling_ae);
            return -1;
        }
        snprintf(run->log.calling_ae, sizeof run->log.calling_ae, "%s", req->calling_ae);
        return 0;
    }
    for (size_t i = 0; i < conf->n_aes; i++) {
        if (runtime_ae_enabled(run->rt, conf->aes[i].title)) {
            snprintf(run->log.calling_ae, sizeof run->log.calling_ae, "%s", conf->aes[i].title);
            return 0;
        }
    }
    jobs_run_fail(run, "no AE of this archive is enabled to act as calling AE title");
    return -1;
}

static job_outcome run_job(jobs *js, job *j)
{
    job_run run = {.runner = js, .rt = js->rt, .job = j, .archive = js->ar};
    job_outcome outcome;

    run.conf = runtime_conf_acquire(js->rt);
    snprintf(run.log.called_ae, sizeof run.log.called_ae, "%s", j->request.remote);
    if (conf_find_remote(run.conf, j->request.remote) == NULL) {
        outcome = jobs_run_fail(&run, "remote: \"%s\" is no longer a configured remote AE",
                                j->request.remote);
        goto out;
    }
    if (choose_calling_ae(&run) != 0) {
        outcome = JOB_OUTCOME_FAILED;
        goto out;
    }

    log_info(&run.log, "jobs: %s job %s started (attempt %u)", jobs_kind_name(j->kind), j->id,
             j->attempts);
    switch (j->kind) {
    case JOB_QUERY: outcome = jobs_run_query(&run); break;
    case JOB_RETRIEVE: outcome = jobs_run_retrieve(&run); break;
    default: outcome = jobs_run_send(&run); break;
    }

out:
    runtime_conf_release(js->rt, run.conf);
    pthread_mutex_lock(&js->lock);
    switch (outcome) {
    case JOB_OUTCOME_SUCCEEDED:
        j->state = JOB_SUCCEEDED;
        break;
    case JOB_OUTCOME_FAILED:
        j->state = JOB_FAILED;
        snprintf(j->error, sizeof j->error, "%s", run.error[0] ? run.error : "failed");
        break;
    case JOB_OUTCOME_CANCELLED:
        j->state = JOB_CANCELLED;
        break;
    case JOB_OUTCOME_STOPPED:
        break;
    }
    if (outcome != JOB_OUTCOME_STOPPED)
        j->finished = now_seconds();
    pthread_mutex_unlock(&js->lock);

    if (outcome == JOB_OUTCOME_STOPPED)
        log_info(&run.log, "jobs: job %s stopped by the shutdown; it resumes at the next start",
                 j->id);
    else if (outcome == JOB_OUTCOME_FAILED)
        log_warn(&run.log, "jobs: job %s failed: %s", j->id, run.error);
    else
        log_info(&run.log, "jobs: job %s %s", j->id, jobs_state_name(j->state));
    return outcome;
}

static void *worker_main(void *arg)
{
    jobs *js = arg;

    pthread_mutex_lock(&js->lock);
    while (!js->stopping) {
        const cairn_conf *conf = runtime_conf_acquire(js->rt);
        job *j = next_runnable(js, conf);
        remote_count *c;
        job_outcome outcome;

        runtime_conf_release(js->rt, conf);
        if (j == NULL) {
            pthread_cond_wait(&js->wake, &js->lock);
            continue;
        }

        c = count_of(js, j->request.remote);
        c->running[j->kind]++;
        j->state = JOB_RUNNING;
        j->started = now_seconds();
        j->finished = 0;
        j->attempts++;
        j->error[0] = '\0';
        metrics_gauge_add(METRIC_JOBS_QUEUED, -1);
        metrics_gauge_add(METRIC_JOBS_RUNNING, 1);
        pthread_mutex_unlock(&js->lock);

        save(js, j);
        outcome = run_job(js, j);
        if (outcome != JOB_OUTCOME_STOPPED)
            save(js, j);

        pthread_mutex_lock(&js->lock);
        c->running[j->kind]--;
        metrics_gauge_add(METRIC_JOBS_RUNNING, -1);
        pthread_cond_broadcast(&js->wake);
    }
    pthread_mutex_unlock(&js->lock);
    return NULL;
}

bool jobs_run_interrupted(job_run *run)
{
    bool interrupted;

    pthread_mutex_lock(&run->runner->lock);
    interrupted = run->runner->stopping || run->job->cancel_requested;
    pthread_mutex_unlock(&run->runner->lock);
    return interrupted;
}

bool jobs_run_stopping(job_run *run)
{
    bool stopping;

    pthread_mutex_lock(&run->runner->lock);
    stopping = run->runner->stopping;
    pthread_mutex_unlock(&run->runner->lock);
    return stopping;
}

job_outcome jobs_run_interruption(job_run *run)
{
    bool stopping;

    pthread_mutex_lock(&run->runner->lock);
    stopping = run->runner->stopping && !run->job->cancel_requested;
    pthread_mutex_unlock(&run->runner->lock);
    return stopping ? JOB_OUTCOME_STOPPED : JOB_OUTCOME_CANCELLED;
}

void jobs_run_progress(job_run *run, const job_progress *progress)
{
    bool due;

    pthread_mutex_lock(&run->runner->lock);
    run->job->progress = *progress;
    due = now_ms() - run->job->last_saved_ms >= 1000;
    pthread_mutex_unlock(&run->runner->lock);
    if (due)
        save(run->runner, run->job);
}

void jobs_run_set_result(job_run *run, char *result_json, bool truncated)
{
    pthread_mutex_lock(&run->runner->lock);
    free(run->job->result);
    run->job->result = result_json;
    run->job->truncated = truncated;
    pthread_mutex_unlock(&run->runner->lock);
}

job_outcome jobs_run_fail(job_run *run, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(run->error, sizeof run->error, fmt, ap);
    va_end(ap);
    return JOB_OUTCOME_FAILED;
}

/* Adds a job loaded from the index, deciding what a job left running becomes. */
static int load_one(void *arg, const char *job_id, const char *document)
{
    jobs *js = arg;
    char err[256];
    job *j;
    bool changed = false;

    /* Plugins keep their documents in the same store under "<prefix>:" ids (archive_document_put). */
    if (strchr(job_id, ':') != NULL)
        return 0;
    if (jobs_record_load(job_id, document, &j, err, sizeof err) != 0) {
        log_warn(NULL, "jobs: job %s kept in the index cannot be read: %s; it is ignored",
                 job_id, err);
        return 0;
    }
    if (j->state == JOB_RUNNING && j->kind == JOB_QUERY) {
        j->state = JOB_FAILED;
        j->finished = now_seconds();
        snprintf(j->error, sizeof j->error, "interrupted by a restart");
        changed = true;
    } else if (j->state == JOB_RUNNING) {
        j->state = JOB_QUEUED;
        changed = true;
        log_info(NULL, "jobs: %s job %s was running at the last stop; it resumes",
                 jobs_kind_name(j->kind), j->id);
    }
    if (j->state == JOB_QUEUED)
        metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    j->next = js->head;
    js->head = j;
    if (changed)
        save(js, j);
    return 0;
}

int jobs_create(runtime *rt, archive *ar, jobs **out)
{
    jobs *js;
    cairn_status st;
    int result = -1;

    *out = NULL;
    js = calloc(1, sizeof *js);
    if (js == NULL)
        return -1;
    js->rt = rt;
    js->ar = ar;
    js->ops = archive_index_ops(ar);
    js->db = archive_index_db(ar);
    pthread_mutex_init(&js->lock, NULL);
    pthread_mutex_init(&js->save_lock, NULL);
    pthread_cond_init(&js->wake, NULL);

    if (js->ops->struct_size < sizeof(cairn_index_ops) || js->ops->job_list == NULL) {
        log_error(NULL, "jobs: the index back end %s cannot keep jobs", js->ops->name);
        goto out;
    }
    st = js->ops->job_list(js->db, load_one, js);
    if (st != CAIRN_OK) {
        log_error(NULL, "jobs: reading the kept jobs from the index failed: %s",
                  cairn_strerror(st));
        goto out;
    }

    for (size_t i = 0; i < JOBS_THREADS; i++) {
        if (pthread_create(&js->threads[i], NULL, worker_main, js) != 0) {
            log_error(NULL, "jobs: cannot start job thread %zu", i + 1);
            goto out;
        }
        js->n_threads++;
    }
    result = 0;

out:
    if (result != 0) {
        jobs_destroy(js);
        return -1;
    }
    *out = js;
    return 0;
}

void jobs_destroy(jobs *js)
{
    if (js == NULL)
        return;

    pthread_mutex_lock(&js->lock);
    js->stopping = true;
    pthread_cond_broadcast(&js->wake);
    pthread_mutex_unlock(&js->lock);
    for (size_t i = 0; i < js->n_threads; i++)
        pthread_join(js->threads[i], NULL);

    while (js->head != NULL) {
        job *j = js->head;

        js->head = j->next;
        if (j->state == JOB_QUEUED)
            metrics_gauge_add(METRIC_JOBS_QUEUED, -1);
        jobs_record_free(j);
    }
    while (js->counts != NULL) {
        remote_count *c = js->counts;

        js->counts = c->next;
        free(c);
    }
    pthread_cond_destroy(&js->wake);
    pthread_mutex_destroy(&js->save_lock);
    pthread_mutex_destroy(&js->lock);
    free(js);
}

int jobs_submit(jobs *js, const char *request_json, char **job_id, char *err, size_t errlen)
{
    const cairn_conf *conf;
    jobs_json *json = NULL;
    job *j;
    int rc;

    *job_id = NULL;
    j = calloc(1, sizeof *j);
    if (j == NULL || make_uuid(j->id) != 0) {
        snprintf(err, errlen, "out of memory or no random numbers for the job ID");
        free(j);
        return -1;
    }
    if (request_json == NULL || jobs_json_parse(request_json, &json, err, errlen) != 0) {
        if (request_json == NULL)
            snprintf(err, errlen, "request: missing");
        free(j);
        return -1;
    }

    conf = runtime_conf_acquire(js->rt);
    rc = jobs_request_parse(json, conf, &j->request, err, errlen);
    runtime_conf_release(js->rt, conf);
    if (rc != 0) {
        jobs_json_free(json);
        free(j);
        return -1;
    }
    *job_id = strdup(j->id);
    if (*job_id == NULL) {
        snprintf(err, errlen, "out of memory");
        jobs_request_free(&j->request);
        jobs_json_free(json);
        free(j);
        return -1;
    }
    j->request_json = json;
    j->kind = j->request.kind;
    j->state = JOB_QUEUED;
    j->created = now_seconds();

    pthread_mutex_lock(&js->lock);
    j->next = js->head;
    js->head = j;
    pthread_mutex_unlock(&js->lock);
    metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    save(js, j);
    log_info(NULL, "jobs: %s job %s queued for %s", jobs_kind_name(j->kind), j->id,
             j->request.remote);

    pthread_mutex_lock(&js->lock);
    pthread_cond_broadcast(&js->wake);
    pthread_mutex_unlock(&js->lock);
    return 0;
}

char *jobs_get_json(jobs *js, const char *job_id)
{
    char *text = NULL;
    job *j;

    if (job_id == NULL)
        return NULL;
    pthread_mutex_lock(&js->lock);
    j = find_job(js, job_id);
    if (j != NULL)
        text = jobs_record_format(j);
    pthread_mutex_unlock(&js->lock);
    return text;
}

char *jobs_list_json(jobs *js)
{
    jobs_buf buf = {0};

    jobs_buf_add(&buf, "[");
    pthread_mutex_lock(&js->lock);
    for (job *j = js->head; j != NULL; j = j->next) {
        char *record = jobs_record_format(j);

        if (record == NULL) {
            buf.failed = true;
            break;
        }
        if (j != js->head)
            jobs_buf_add(&buf, ",");
        jobs_buf_add(&buf, record);
        free(record);
    }
    pthread_mutex_unlock(&js->lock);
    jobs_buf_add(&buf, "]");
    return jobs_buf_take(&buf);
}

int jobs_cancel(jobs *js, const char *job_id, char *err, size_t errlen)
{
    job *j;
    job_state state;

    pthread_mutex_lock(&js->lock);
    j = job_id != NULL ? find_job(js, job_id) : NULL;
    if (j == NULL) {
        pthread_mutex_unlock(&js->lock);
        snprintf(err, errlen, "job %s not found", job_id != NULL ? job_id : "(null)");
        return -1;
    }
    state = j->state;
    if (state == JOB_QUEUED) {
        j->state = JOB_CANCELLED;
        j->finished = now_seconds();
        metrics_gauge_add(METRIC_JOBS_QUEUED, -1);
    } else if (state == JOB_RUNNING) {
        j->cancel_requested = true;
    }
    pthread_mutex_unlock(&js->lock);

    if (state != JOB_QUEUED && state != JOB_RUNNING) {
        snprintf(err, errlen, "job %s already finished (%s); only a queued or running job can "
                 "be cancelled", job_id, jobs_state_name(state));
        return -1;
    }
    if (state == JOB_QUEUED)
        save(js, j);
    log_info(NULL, "jobs: job %s cancelled%s", job_id,
             state == JOB_RUNNING ? "; it stops at its next step" : "");
    return 0;
}

int jobs_retry(jobs *js, const char *job_id, char *err, size_t errlen)
{
    job *j;
    job_state state;

    pthread_mutex_lock(&js->lock);
    j = job_id != NULL ? find_job(js, job_id) : NULL;
    if (j == NULL) {
        pthread_mutex_unlock(&js->lock);
        snprintf(err, errlen, "job %s not found", job_id != NULL ? job_id : "(null)");
        return -1;
    }
    state = j->state;
    if (state == JOB_FAILED || state == JOB_CANCELLED) {
        j->state = JOB_QUEUED;
        j->cancel_requested = false;
        j->error[0] = '\0';
        j->started = 0;
        j->finished = 0;
        memset(&j->progress, 0, sizeof j->progress);
        free(j->result);
        j->result = NULL;
        j->truncated = false;
        metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    }
    pthread_mutex_unlock(&js->lock);

    if (state != JOB_FAILED && state != JOB_CANCELLED) {
        snprintf(err, errlen, "job %s is %s; only a failed or cancelled job can be retried",
                 job_id, jobs_state_name(state));
        return -1;
    }
    save(js, j);
    log_info(NULL, "jobs: job %s queued again", job_id);

    pthread_mutex_lock(&js->lock);
    pthread_cond_broadcast(&js->wake);
    pthread_mutex_unlock(&js->lock);
    return 0;
}
