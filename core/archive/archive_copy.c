/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairnd --copy-index-from OLD.conf`: copies the index of another
 * configuration (typically SQLite) into the index of this one (typically
 * PostgreSQL) on the same storage folder. Instances are stored again from
 * their archived files, since index rows keep fewer attributes than
 * store_instance reads, on several threads (archive_copy_instances.c).
 * Then come the IOCM rejections, the jobs and plugin documents, the MPPS
 * steps, the storage commitment rows and the outbox.
 *
 * Running it twice copies nothing twice: instances go in with the keep
 * policy, jobs, steps and commitment rows replace their copies, and an
 * outbox message whose kind, destination, group and document the target
 * already has is skipped. Leases are not copied: they belong to running
 * nodes. Stop every node of both indexes while it runs.
 */
#include "archive/archive_copy.h"
#include "archive/archive_copy_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* SOP Instance UIDs per reject_instances call. */
#define REJECT_BATCH 512

typedef struct copy_state {
    const cairn_index_ops *src;
    void *src_db;
    const cairn_index_ops *dst;
    void *dst_db;
    copy_counts instances;
    /* rejections, batched by code */
    char *uids[REJECT_BATCH];
    size_t n_uids;
    char code[17];
    uint64_t rejections;
    bool reject_failed;
    /* the other documents */
    uint64_t jobs, steps, commitments, messages, messages_present;
    uint64_t *outbox_hashes;
    size_t n_outbox_hashes, cap_outbox_hashes;
    bool other_failed;
} copy_state;

void archive_copy_keep_index_only(cairn_conf *conf)
{
    for (size_t i = 0; i < conf->n_plugins; i++) {
        if (strcmp(conf->plugins[i].name, conf->index_plugin) != 0)
            conf->plugins[i].enabled = false;
    }
}

/* Sends the batched rejections of one code to the target. */
static void flush_rejections(copy_state *cs)
{
    cairn_status st;

    if (cs->n_uids == 0)
        return;
    st = cs->dst->reject_instances(cs->dst_db, (const char *const *)cs->uids, cs->n_uids,
                                   cs->code, NULL);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: recording %zu rejections with code %s failed: %s",
                  cs->n_uids, cs->code, cairn_strerror(st));
        cs->reject_failed = true;
    } else {
        cs->rejections += cs->n_uids;
    }
    for (size_t i = 0; i < cs->n_uids; i++)
        free(cs->uids[i]);
    cs->n_uids = 0;
}

static int copy_rejection(void *arg, const char *sop_instance_uid, const char *code)
{
    copy_state *cs = arg;

    if (cs->n_uids == REJECT_BATCH || (cs->n_uids > 0 && strcmp(cs->code, code) != 0))
        flush_rejections(cs);
    snprintf(cs->code, sizeof cs->code, "%s", code);
    cs->uids[cs->n_uids] = strdup(sop_instance_uid);
    if (cs->uids[cs->n_uids] == NULL) {
        cs->reject_failed = true;
        return 1;
    }
    cs->n_uids++;
    return 0;
}

static int copy_job(void *arg, const char *job_id, const char *document)
{
    copy_state *cs = arg;
    cairn_status st = cs->dst->job_put(cs->dst_db, job_id, document);

    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: job or document %s: %s", job_id, cairn_strerror(st));
        cs->other_failed = true;
    } else {
        cs->jobs++;
    }
    return 0;
}

static int copy_step(void *arg, const cairn_mpps_step *step)
{
    copy_state *cs = arg;
    cairn_status st = cs->dst->mpps_put(cs->dst_db, step, 1);

    if (st == CAIRN_ERR_EXISTS)
        st = cs->dst->mpps_put(cs->dst_db, step, 0);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: MPPS step %s: %s", step->sop_instance_uid,
                  cairn_strerror(st));
        cs->other_failed = true;
    } else {
        cs->steps++;
    }
    return 0;
}

static int copy_commitment(void *arg, const cairn_commitment *row)
{
    copy_state *cs = arg;
    cairn_status st = cs->dst->commitment_put(cs->dst_db, row, 1);

    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: commitment of %s at %s: %s", row->sop_instance_uid,
                  row->remote_ae, cairn_strerror(st));
        cs->other_failed = true;
    } else {
        cs->commitments++;
    }
    return 0;
}

/* FNV-1a over the fields that identify an outbox message, each followed by a zero byte. */
static uint64_t message_hash(const cairn_outbox_message *m)
{
    const char *fields[] = {m->kind, m->destination, m->calling_ae, m->group_key, m->document};
    uint64_t hash = 14695981039346656037ull;

    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (const unsigned char *p = (const unsigned char *)(fields[f] ? fields[f] : "");; p++) {
            hash ^= *p;
            hash *= 1099511628211ull;
            if (*p == '\0')
                break;
        }
    }
    return hash;
}

static int note_target_message(void *arg, const cairn_outbox_message *message)
{
    copy_state *cs = arg;

    if (cs->n_outbox_hashes == cs->cap_outbox_hashes) {
        size_t cap = cs->cap_outbox_hashes ? 2 * cs->cap_outbox_hashes : 64;
        uint64_t *grown = realloc(cs->outbox_hashes, cap * sizeof *grown);

        if (grown == NULL) {
            cs->other_failed = true;
            return 1;
        }
        cs->outbox_hashes = grown;
        cs->cap_outbox_hashes = cap;
    }
    cs->outbox_hashes[cs->n_outbox_hashes++] = message_hash(message);
    return 0;
}

static int copy_message(void *arg, const cairn_outbox_message *message)
{
    copy_state *cs = arg;
    uint64_t hash = message_hash(message), id = 0;
    cairn_status st;

    for (size_t i = 0; i < cs->n_outbox_hashes; i++) {
        if (cs->outbox_hashes[i] == hash) {
            cs->messages_present++;
            return 0;
        }
    }
    st = cs->dst->outbox_add(cs->dst_db, message, &id);
    if (st == CAIRN_OK && message->attempts > 0)
        st = cs->dst->outbox_update(cs->dst_db, id, message->attempts,
                                    message->next_attempt_at_us, message->last_error);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: outbox message %llu: %s",
                  (unsigned long long)message->id, cairn_strerror(st));
        cs->other_failed = true;
    } else {
        cs->messages++;
    }
    return 0;
}

/* True when ops has every op the copy calls beyond the instances. */
static bool has_document_ops(const cairn_index_ops *ops)
{
    return ops->struct_size >= offsetof(cairn_index_ops, rejection_list) +
                                   sizeof ops->rejection_list &&
           ops->job_list != NULL &&
           ops->job_put != NULL && ops->reject_instances != NULL &&
           ops->rejection_list != NULL && ops->mpps_list != NULL && ops->mpps_put != NULL &&
           ops->commitment_list != NULL && ops->commitment_put != NULL &&
           ops->outbox_list != NULL && ops->outbox_add != NULL && ops->outbox_update != NULL;
}

/* Copies everything but the instances; returns false when a part failed. */
static bool copy_documents(copy_state *cs)
{
    cairn_status st;

    st = cs->src->rejection_list(cs->src_db, copy_rejection, cs);
    flush_rejections(cs);
    if (st != CAIRN_OK || cs->reject_failed) {
        log_error(NULL, "copy-index: copying the rejections failed: %s", cairn_strerror(st));
        cs->other_failed = true;
    }
    st = cs->src->job_list(cs->src_db, copy_job, cs);
    if (st == CAIRN_OK)
        st = cs->src->mpps_list(cs->src_db, NULL, copy_step, cs);
    if (st == CAIRN_OK)
        st = cs->src->commitment_list(cs->src_db, NULL, copy_commitment, cs);
    if (st == CAIRN_OK)
        st = cs->dst->outbox_list(cs->dst_db, "", note_target_message, cs);
    if (st == CAIRN_OK)
        st = cs->src->outbox_list(cs->src_db, "", copy_message, cs);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: reading the source index failed: %s", cairn_strerror(st));
        cs->other_failed = true;
    }
    return !cs->other_failed;
}

/* Loads the source configuration and its index plugin; returns the index or NULL. */
static const plugin_index *load_source(const char *path, cairn_conf **conf,
                                       plugin_registry **plugins)
{
    char err[1024];
    const plugin_index *index;

    if (conf_load(path, conf, err, sizeof err) != 0) {
        log_error(NULL, "copy-index: source configuration: %s", err);
        return NULL;
    }
    archive_copy_keep_index_only(*conf);
    if (plugin_registry_load(*conf, plugins) != 0) {
        log_error(NULL, "copy-index: %s: plugins failed to load", path);
        return NULL;
    }
    index = plugin_find_index(*plugins, (*conf)->index_plugin);
    if (index == NULL)
        log_error(NULL, "copy-index: %s: plugin '%s' registered no index back end", path,
                  (*conf)->index_plugin);
    return index;
}

int archive_copy_index(const cairn_conf *conf, const plugin_index *target,
                       const char *source_config)
{
    cairn_conf *source_conf = NULL;
    plugin_registry *source_plugins = NULL;
    const plugin_index *source;
    copy_state cs = {0};
    copy_source copied;
    char *storage = NULL, *source_storage = NULL;
    cairn_status st;
    int result = 1;

    source = load_source(source_config, &source_conf, &source_plugins);
    if (source == NULL)
        goto out;
    storage = realpath(conf->storage_path, NULL);
    source_storage = realpath(source_conf->storage_path, NULL);
    if (storage == NULL || source_storage == NULL || strcmp(storage, source_storage) != 0) {
        log_error(NULL, "copy-index: storage.path of %s (%s) and of %s (%s) must be one "
                  "existing folder, since indexes record paths relative to it", source_config,
                  source_conf->storage_path, conf->path, conf->storage_path);
        goto out;
    }
    if (!has_document_ops(&source->ops) || !has_document_ops(&target->ops)) {
        log_error(NULL, "copy-index: back end %s or %s lacks ops the copy needs",
                  source->ops.name, target->ops.name);
        goto out;
    }

    cs.src = &source->ops;
    cs.dst = &target->ops;
    if (target->ops.migrate != NULL &&
        target->ops.migrate(target->backend_state, storage) != CAIRN_OK) {
        log_error(NULL, "copy-index: migrating the target index failed");
        goto out;
    }
    st = source->ops.open(source->backend_state, storage, &cs.src_db);
    if (st == CAIRN_OK)
        st = target->ops.open(target->backend_state, storage, &cs.dst_db);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: opening the indexes failed: %s", cairn_strerror(st));
        goto out;
    }

    copied = (copy_source){.storage = storage, .ops = &source->ops, .db = cs.src_db};
    source->ops.count(cs.src_db, CAIRN_LEVEL_INSTANCE, &copied.total);
    printf("copying the index of %s (%s) into that of %s (%s): %llu instances\n", source_config,
           source->ops.name, conf->path, target->ops.name, (unsigned long long)copied.total);
    fflush(stdout);
    st = copy_instances(&copied, &target->ops, cs.dst_db, &cs.instances);
    if (st != CAIRN_OK) {
        log_error(NULL, "copy-index: listing the source instances failed: %s",
                  cairn_strerror(st));
        goto out;
    }
    if (!copy_documents(&cs))
        cs.instances.failed++;

    printf("instances: %llu read, %llu copied, %llu already present, %llu failed\n",
           (unsigned long long)cs.instances.seen, (unsigned long long)cs.instances.stored,
           (unsigned long long)cs.instances.present, (unsigned long long)cs.instances.failed);
    printf("rejections: %llu; jobs and documents: %llu; MPPS steps: %llu; commitments: %llu; "
           "outbox messages: %llu copied, %llu already present\n",
           (unsigned long long)cs.rejections, (unsigned long long)cs.jobs,
           (unsigned long long)cs.steps, (unsigned long long)cs.commitments,
           (unsigned long long)cs.messages, (unsigned long long)cs.messages_present);
    result = cs.instances.failed == 0 ? 0 : 1;

out:
    if (cs.dst_db != NULL)
        target->ops.close(cs.dst_db);
    if (cs.src_db != NULL)
        source->ops.close(cs.src_db);
    free(cs.outbox_hashes);
    free(storage);
    free(source_storage);
    plugin_registry_destroy(source_plugins);
    conf_destroy(source_conf);
    return result;
}
