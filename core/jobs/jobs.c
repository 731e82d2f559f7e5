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
 *
 * Several nodes may share one index. A worker then takes the job's lease
 * (jobs_lease) before it runs the job and rereads the kept document, so a
 * job runs on one node at a time. A sync thread renews the leases of the
 * jobs this node runs, every third of the lease length, reads the kept
 * jobs again to learn about those of other nodes, and takes over a job
 * left running by a node whose lease expired, as a restart would.
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
    jobs_lease lease;
    pthread_cond_t sync_wake; /* the sync thread waits here between rounds */
    pthread_t sync_thread;
    bool sync_started;
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
    if (j->lease_lost) {
        /* The document belongs to the node that took the job over. */
        pthread_mutex_unlock(&js->lock);
        pthread_mutex_unlock(&js->save_lock);
        return;
    }
    document = jobs_record_format(j);
    if (document != NULL)
        j->doc_hash = jobs_document_hash(document);
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

        if (j->state != JOB_QUEUED || j->claiming || j->elsewhere)
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

/*
 * Replaces what j keeps of its record with that of fresh, a document
 * another node wrote. Called locked; fresh is freed.
 */
static void apply_document(job *j, job *fresh, uint64_t hash)
{
    if (j->state == JOB_QUEUED && fresh->state != JOB_QUEUED)
        metrics_gauge_add(METRIC_JOBS_QUEUED, -1);
    else if (j->state != JOB_QUEUED && fresh->state == JOB_QUEUED)
        metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    j->state = fresh->state;
    j->created = fresh->created;
    j->started = fresh->started;
    j->finished = fresh->finished;
    j->progress = fresh->progress;
    j->attempts = fresh->attempts;
    j->truncated = fresh->truncated;
    memcpy(j->error, fresh->error, sizeof j->error);
    memcpy(j->node, fresh->node, sizeof j->node);
    free(j->result);
    j->result = fresh->result;
    fresh->result = NULL;
    j->doc_hash = hash;
    jobs_record_free(fresh);
}

/*
 * Decides what a job left running by a stopped run becomes: a retrieve or
 * a send is queued again, a query fails. Returns true when it changed.
 */
static bool settle_interrupted(job *j, const char *reason)
{
    if (j->state != JOB_RUNNING)
        return false;
    if (j->kind == JOB_QUERY) {
        j->state = JOB_FAILED;
        j->finished = now_seconds();
        snprintf(j->error, sizeof j->error, "%s", reason);
        return true;
    }
    j->state = JOB_QUEUED;
    metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    log_info(NULL, "jobs: %s job %s was running when its node stopped; it resumes",
             jobs_kind_name(j->kind), j->id);
    return true;
}

/*
 * Takes the lease of queued job j and rereads its document. Returns true
 * when this node holds the lease; j then has the kept state, which the
 * caller checks is still queued. On false the job is skipped until the
 * next sync round.
 */
static bool claim(jobs *js, job *j)
{
    char holder[CONF_NODE_NAME_MAX + 1] = "";
    job *fresh = NULL;
    uint64_t hash = 0;
    cairn_status st;

    st = jobs_lease_take(&js->lease, j->id, holder, sizeof holder);
    if (st != CAIRN_OK) {
        if (st == CAIRN_ERR_BUSY)
            log_debug(NULL, "jobs: job %s is leased by node %s", j->id, holder);
        else
            log_warn(NULL, "jobs: taking the lease of job %s failed: %s; it is tried again "
                     "later", j->id, cairn_strerror(st));
        pthread_mutex_lock(&js->lock);
        j->elsewhere = true;
        pthread_mutex_unlock(&js->lock);
        return false;
    }

    /* Under save_lock, so that no save of this node is between its hash and the index. */
    pthread_mutex_lock(&js->save_lock);
    st = jobs_lease_read(&js->lease, j->id, &fresh, &hash);
    pthread_mutex_lock(&js->lock);
    if (st == CAIRN_OK && hash != j->doc_hash)
        apply_document(j, fresh, hash);
    else if (st == CAIRN_OK)
        jobs_record_free(fresh);
    pthread_mutex_unlock(&js->lock);
    pthread_mutex_unlock(&js->save_lock);
    return true;
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

        if (js->lease.enabled) {
            bool claimed;

            j->claiming = true;
            pthread_mutex_unlock(&js->lock);
            claimed = claim(js, j);
            pthread_mutex_lock(&js->lock);
            j->claiming = false;
            if (claimed && j->state != JOB_QUEUED) {
                /* Another node ran it, or it was cancelled meanwhile. */
                pthread_mutex_unlock(&js->lock);
                jobs_lease_give_back(&js->lease, j->id);
                pthread_mutex_lock(&js->lock);
            }
            if (!claimed || j->state != JOB_QUEUED)
                continue;
        }

        c = count_of(js, j->request.remote);
        c->running[j->kind]++;
        j->local_run = true;
        j->lease_lost = false;
        snprintf(j->node, sizeof j->node, "%s", js->lease.node);
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
        j->local_run = false;
        if (!j->lease_lost) {
            /* After a stop too, so that another node resumes the job without waiting. */
            pthread_mutex_unlock(&js->lock);
            jobs_lease_give_back(&js->lease, j->id);
            pthread_mutex_lock(&js->lock);
        }
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
    interrupted = run->runner->stopping || run->job->cancel_requested || run->job->lease_lost;
    pthread_mutex_unlock(&run->runner->lock);
    return interrupted;
}

bool jobs_run_stopping(job_run *run)
{
    bool stopping;

    pthread_mutex_lock(&run->runner->lock);
    stopping = run->runner->stopping || run->job->lease_lost;
    pthread_mutex_unlock(&run->runner->lock);
    return stopping;
}

job_outcome jobs_run_interruption(job_run *run)
{
    bool stopping;

    pthread_mutex_lock(&run->runner->lock);
    stopping = (run->runner->stopping || run->job->lease_lost) && !run->job->cancel_requested;
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
    j->doc_hash = jobs_document_hash(document);
    if (j->state == JOB_QUEUED)
        metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
    /* With leases, take_over decides, since another node may be running the job. */
    if (!js->lease.enabled)
        changed = settle_interrupted(j, "interrupted by a restart");
    j->next = js->head;
    js->head = j;
    if (changed)
        save(js, j);
    return 0;
}

/* Copies the IDs of the jobs that pick() selects, under the lock; the caller frees *ids. */
static size_t collect_ids(jobs *js, bool (*pick)(const job *), char (**ids)[37])
{
    size_t n = 0, size = 0;

    *ids = NULL;
    pthread_mutex_lock(&js->lock);
    for (job *j = js->head; j != NULL; j = j->next)
        size += pick(j) ? 1 : 0;
    if (size > 0)
        *ids = calloc(size, sizeof **ids);
    for (job *j = js->head; j != NULL && *ids != NULL && n < size; j = j->next) {
        if (pick(j))
            memcpy((*ids)[n++], j->id, sizeof j->id);
    }
    pthread_mutex_unlock(&js->lock);
    return *ids != NULL ? n : 0;
}

static bool runs_here(const job *j)
{
    return j->local_run;
}

static bool left_running(const job *j)
{
    return j->state == JOB_RUNNING && !j->local_run && !j->claiming;
}

/* Renews the leases of the jobs this node runs; a lease another node took stops its job. */
static void renew_leases(jobs *js)
{
    char (*ids)[37];
    size_t n = collect_ids(js, runs_here, &ids);

    for (size_t i = 0; i < n; i++) {
        char holder[CONF_NODE_NAME_MAX + 1] = "";
        cairn_status st = jobs_lease_take(&js->lease, ids[i], holder, sizeof holder);
        job *j;

        if (st == CAIRN_OK)
            continue;
        if (st != CAIRN_ERR_BUSY) {
            log_warn(NULL, "jobs: renewing the lease of job %s failed: %s", ids[i],
                     cairn_strerror(st));
            continue;
        }
        log_warn(NULL, "jobs: node %s took over job %s after its lease expired; this node "
                 "stops running it", holder, ids[i]);
        pthread_mutex_lock(&js->lock);
        j = find_job(js, ids[i]);
        if (j != NULL && j->local_run)
            j->lease_lost = true;
        pthread_mutex_unlock(&js->lock);
    }
    free(ids);
}

/*
 * Takes over the jobs kept as running that no node of this process runs,
 * once their lease can be taken: the node that ran them stopped (or this
 * node restarted). They become what a restart makes of them.
 */
static void take_over(jobs *js)
{
    char (*ids)[37];
    size_t n = collect_ids(js, left_running, &ids);

    for (size_t i = 0; i < n; i++) {
        job *fresh = NULL, *j;
        uint64_t hash = 0;
        bool changed = false;
        cairn_status st = jobs_lease_take(&js->lease, ids[i], NULL, 0);

        if (st != CAIRN_OK)
            continue;
        pthread_mutex_lock(&js->save_lock);
        st = jobs_lease_read(&js->lease, ids[i], &fresh, &hash);
        pthread_mutex_lock(&js->lock);
        j = find_job(js, ids[i]);
        if (j != NULL && st == CAIRN_OK && hash != j->doc_hash)
            apply_document(j, fresh, hash);
        else if (st == CAIRN_OK)
            jobs_record_free(fresh);
        if (j != NULL && left_running(j)) {
            log_info(NULL, "jobs: took over job %s, left running by node %s", j->id,
                     j->node[0] ? j->node : "(unknown)");
            changed = settle_interrupted(j, "interrupted by a restart");
        }
        pthread_mutex_unlock(&js->lock);
        pthread_mutex_unlock(&js->save_lock);
        if (changed)
            save(js, j);
        jobs_lease_give_back(&js->lease, ids[i]);
    }
    free(ids);
}

/* Adds or updates one kept job read back from the index (job_list callback). */
static int merge_one(void *arg, const char *job_id, const char *document)
{
    jobs *js = arg;
    uint64_t hash = jobs_document_hash(document);
    char err[256];
    job *j, *fresh = NULL;

    if (strchr(job_id, ':') != NULL)
        return 0;

    pthread_mutex_lock(&js->lock);
    j = find_job(js, job_id);
    if (j != NULL) {
        j->elsewhere = false;
        if (j->local_run || j->claiming || j->doc_hash == hash) {
            pthread_mutex_unlock(&js->lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&js->lock);

    if (jobs_record_load(job_id, document, &fresh, err, sizeof err) != 0)
        return 0;

    pthread_mutex_lock(&js->lock);
    j = find_job(js, job_id);
    if (j == NULL) {
        fresh->doc_hash = hash;
        if (fresh->state == JOB_QUEUED)
            metrics_gauge_add(METRIC_JOBS_QUEUED, 1);
        fresh->next = js->head;
        js->head = fresh;
    } else if (!j->local_run && !j->claiming) {
        apply_document(j, fresh, hash);
    } else {
        jobs_record_free(fresh);
    }
    pthread_mutex_unlock(&js->lock);
    return 0;
}

/* The sync thread: see the file comment. */
static void *sync_main(void *arg)
{
    jobs *js = arg;
    uint32_t interval_ms = js->lease.ttl_ms / 3;

    pthread_mutex_lock(&js->lock);
    while (!js->stopping) {
        struct timespec until;
        cairn_status st;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += interval_ms / 1000;
        until.tv_nsec += (long)(interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&js->sync_wake, &js->lock, &until);
        if (js->stopping)
            break;
        pthread_mutex_unlock(&js->lock);

        renew_leases(js);
        /* Under save_lock: a document being saved has its hash set but is not in the index yet. */
        pthread_mutex_lock(&js->save_lock);
        st = js->ops->job_list(js->db, merge_one, js);
        pthread_mutex_unlock(&js->save_lock);
        if (st != CAIRN_OK)
            log_warn(NULL, "jobs: reading the kept jobs from the index failed: %s",
                     cairn_strerror(st));
        take_over(js);

        pthread_mutex_lock(&js->lock);
        pthread_cond_broadcast(&js->wake);
    }
    pthread_mutex_unlock(&js->lock);
    return NULL;
}

int jobs_create(runtime *rt, archive *ar, jobs **out)
{
    const cairn_conf *conf;
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
    pthread_cond_init(&js->sync_wake, NULL);
    conf = runtime_conf_acquire(rt);
    jobs_lease_init(&js->lease, conf, ar);
    runtime_conf_release(rt, conf);

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
    if (js->lease.enabled)
        take_over(js);

    for (size_t i = 0; i < JOBS_THREADS; i++) {
        if (pthread_create(&js->threads[i], NULL, worker_main, js) != 0) {
            log_error(NULL, "jobs: cannot start job thread %zu", i + 1);
            goto out;
        }
        js->n_threads++;
    }
    if (js->lease.enabled) {
        if (pthread_create(&js->sync_thread, NULL, sync_main, js) != 0) {
            log_error(NULL, "jobs: cannot start the job sync thread");
            goto out;
        }
        js->sync_started = true;
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
    pthread_cond_broadcast(&js->sync_wake);
    pthread_mutex_unlock(&js->lock);
    for (size_t i = 0; i < js->n_threads; i++)
        pthread_join(js->threads[i], NULL);
    if (js->sync_started)
        pthread_join(js->sync_thread, NULL);

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
    pthread_cond_destroy(&js->sync_wake);
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
    if (state == JOB_RUNNING && !j->local_run) {
        snprintf(err, errlen, "job %s runs on node %s; cancel it through that node's API",
                 job_id, j->node[0] ? j->node : "(unknown)");
        pthread_mutex_unlock(&js->lock);
        return -1;
    }
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
