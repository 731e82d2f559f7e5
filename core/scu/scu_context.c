/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Presentation contexts for sending archived instances: which ones to
 * propose in an A-ASSOCIATE-RQ, and which accepted one carries a given
 * instance.
 */
#include "scu/scu_internal.h"

#include <stdlib.h>
#include <string.h>

/* Distinct (class, syntax) pairs or classes counted; more are not proposed. */
#define MAX_DISTINCT 4096

typedef struct usage {
    const char *sop_class;
    const dcm_ts *ts;   /* NULL for a class entry */
    size_t instances;
    size_t first_seen;  /* keeps the input order among equal counts */
    bool proposed;
} usage;

typedef struct usage_table {
    usage *entries;
    size_t count;
} usage_table;

static void count_use(usage_table *t, const char *sop_class, const dcm_ts *ts)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].ts == ts && strcmp(t->entries[i].sop_class, sop_class) == 0) {
            t->entries[i].instances++;
            return;
        }
    }
    if (t->count == MAX_DISTINCT)
        return;
    t->entries[t->count] = (usage){.sop_class = sop_class, .ts = ts, .instances = 1,
                                   .first_seen = t->count};
    t->count++;
}

static int by_instances(const void *a, const void *b)
{
    const usage *x = a, *y = b;

    if (x->instances != y->instances)
        return x->instances > y->instances ? -1 : 1;
    return x->first_seen < y->first_seen ? -1 : x->first_seen > y->first_seen;
}

static bool class_proposed(const usage_table *classes, const char *sop_class)
{
    for (size_t i = 0; i < classes->count; i++) {
        if (classes->entries[i].proposed && strcmp(classes->entries[i].sop_class, sop_class) == 0)
            return true;
    }
    return false;
}

/* Proposes the classes first, so every class proposed can at least be converted. */
static int add_contexts(ul_assoc_rq *rq, usage_table *classes, usage_table *pairs,
                        size_t *left_out)
{
    static const char *const uncompressed[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
    unsigned id = 1;

    for (size_t i = 0; i < classes->count; i++) {
        usage *u = &classes->entries[i];

        if (id > 255) {
            (*left_out)++;
            continue;
        }
        if (ul_assoc_rq_add_pctx(rq, (uint8_t)id, u->sop_class, uncompressed, 2) != 0)
            return -1;
        u->proposed = true;
        id += 2;
    }
    for (size_t i = 0; i < pairs->count; i++) {
        usage *u = &pairs->entries[i];

        if (id > 255 || !class_proposed(classes, u->sop_class)) {
            (*left_out)++;
            continue;
        }
        if (ul_assoc_rq_add_pctx(rq, (uint8_t)id, u->sop_class, &u->ts->uid, 1) != 0)
            return -1;
        id += 2;
    }
    return (int)((id - 1) / 2);
}

int scu_propose_contexts(ul_assoc_rq *rq, const char *const *sop_classes,
                         const char *const *transfer_syntaxes, size_t count,
                         const log_ctx *log)
{
    usage_table classes = {0}, pairs = {0};
    size_t left_out = 0;
    int added = -1;

    classes.entries = calloc(MAX_DISTINCT, sizeof *classes.entries);
    pairs.entries = calloc(MAX_DISTINCT, sizeof *pairs.entries);
    if (classes.entries == NULL || pairs.entries == NULL)
        goto out;

    for (size_t i = 0; i < count; i++) {
        const char *sop_class = sop_classes[i];
        const dcm_ts *ts = transfer_syntaxes[i] ? dcm_ts_find(transfer_syntaxes[i]) : NULL;

        if (sop_class == NULL || sop_class[0] == '\0' || strlen(sop_class) > UL_UID_MAX)
            continue;
        count_use(&classes, sop_class, NULL);
        if (ts != NULL)
            count_use(&pairs, sop_class, ts);
    }
    qsort(classes.entries, classes.count, sizeof *classes.entries, by_instances);
    qsort(pairs.entries, pairs.count, sizeof *pairs.entries, by_instances);

    added = add_contexts(rq, &classes, &pairs, &left_out);
    if (added > 0 && left_out > 0)
        log_warn(log, "scu: %zu presentation contexts left out of the A-ASSOCIATE-RQ (at most "
                 "%d); instances that needed them fail", left_out, UL_PCTX_MAX);

out:
    free(classes.entries);
    free(pairs.entries);
    return added;
}

/* Ranks an accepted syntax for an instance stored in stored_ts; 0 means unusable. */
static int rank(const dcm_ts *accepted, const dcm_ts *stored_ts)
{
    if (accepted == NULL)
        return 0;
    if (accepted == stored_ts)
        return 4;
    if (accepted == DCM_TS_EXPLICIT_LE)
        return 3;
    if (accepted == DCM_TS_IMPLICIT_LE)
        return 2;
    return scu_ts_is_uncompressed(accepted) ? 1 : 0;
}

uint8_t scu_choose_context(const struct ul_assoc *ul, const char *sop_class,
                           const dcm_ts *stored_ts, const dcm_ts **ts)
{
    const ul_assoc_rq *rq = ul_assoc_request(ul);
    const ul_assoc_ac *ac = ul_assoc_accept(ul);
    uint8_t best_id = 0;
    int best_rank = 0;

    for (size_t i = 0; i < ac->pctx_count; i++) {
        const ul_pctx_ac *answer = &ac->pctx[i];
        const dcm_ts *accepted;
        int r;

        if (answer->result != UL_PCTX_ACCEPTANCE)
            continue;
        for (size_t j = 0; j < rq->pctx_count; j++) {
            if (rq->pctx[j].id != answer->id || strcmp(rq->pctx[j].abstract_syntax, sop_class))
                continue;
            accepted = dcm_ts_find(answer->transfer_syntax);
            r = rank(accepted, stored_ts);
            if (r > best_rank) {
                best_rank = r;
                best_id = answer->id;
                *ts = accepted;
            }
        }
    }
    return best_id;
}
