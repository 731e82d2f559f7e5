/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration in force and the run-time enabled flag of each AE.
 * Every loaded configuration lives in a reference-counted snapshot: the
 * runtime holds one reference on the current snapshot and each
 * association holds one on the snapshot it started with. A reload makes a
 * new snapshot current and drops the runtime's reference on the old one,
 * which is freed when its last association releases it.
 *
 * The first snapshot is kept until runtime_destroy() whatever happens,
 * because the plugins were loaded from it and may keep pointers into
 * their settings.
 */
#include "runtime/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_internal.h"
#include "util/log.h"

typedef struct snapshot {
    struct snapshot *next;
    cairn_conf *conf;
    unsigned refs;
} snapshot;

/* The run-time enabled flag of one AE of the current configuration. */
typedef struct ae_flag {
    char title[17];
    bool config_enabled;  /* the AE's `enabled` key in the current file */
    bool enabled;
} ae_flag;

struct runtime {
    pthread_mutex_t lock;       /* guards everything below */
    snapshot *snapshots;        /* every live snapshot, current first */
    snapshot *current;
    snapshot *first;            /* the plugins' configuration, kept to the end */
    ae_flag *flags;             /* one per AE of current->conf, in file order */
    size_t n_flags;

    pthread_mutex_t change_lock; /* serializes reloads and change_fn calls */
    runtime_change_fn change_fn;
    void *change_arg;
};

static snapshot *snapshot_new(cairn_conf *conf)
{
    snapshot *s = calloc(1, sizeof *s);

    if (s == NULL)
        return NULL;
    s->conf = conf;
    s->refs = 1;
    return s;
}

/* Drops one reference; frees the snapshot when none is left. The caller
 * holds rt->lock. */
static void snapshot_unref(runtime *rt, snapshot *s)
{
    if (--s->refs > 0)
        return;

    for (snapshot **p = &rt->snapshots; *p != NULL; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    conf_destroy(s->conf);
    free(s);
}

/*
 * Builds the flags for conf. An AE of the previous flags keeps its run-time
 * flag unless its `enabled` key changed, and then takes the new key.
 */
static ae_flag *build_flags(const cairn_conf *conf, const ae_flag *old, size_t n_old)
{
    ae_flag *flags = calloc(conf->n_aes ? conf->n_aes : 1, sizeof *flags);

    if (flags == NULL)
        return NULL;

    for (size_t i = 0; i < conf->n_aes; i++) {
        const conf_ae *ae = &conf->aes[i];

        snprintf(flags[i].title, sizeof flags[i].title, "%s", ae->title);
        flags[i].config_enabled = ae->enabled;
        flags[i].enabled = ae->enabled;
        for (size_t j = 0; j < n_old; j++) {
            if (strcmp(old[j].title, ae->title) == 0 && old[j].config_enabled == ae->enabled) {
                flags[i].enabled = old[j].enabled;
                break;
            }
        }
    }
    return flags;
}

int runtime_create(cairn_conf *conf, runtime **out)
{
    runtime *rt;

    *out = NULL;
    rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return -1;

    rt->current = snapshot_new(conf);
    rt->flags = build_flags(conf, NULL, 0);
    if (rt->current == NULL || rt->flags == NULL) {
        free(rt->current);
        free(rt->flags);
        free(rt);
        return -1;
    }

    /* One reference for being current, one that pins the plugins' configuration. */
    rt->current->refs = 2;
    rt->first = rt->current;
    rt->snapshots = rt->current;
    rt->n_flags = conf->n_aes;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->change_lock, NULL);
    *out = rt;
    return 0;
}

void runtime_destroy(runtime *rt)
{
    snapshot *s;

    if (rt == NULL)
        return;

    /* Every association has ended by now, so only the runtime's own
     * references should be left; more point to a missing release. */
    while ((s = rt->snapshots) != NULL) {
        unsigned own = (s == rt->current) + (s == rt->first);

        if (s->refs > own)
            log_warn(NULL, "configuration %s still had %u reference(s) from associations "
                     "when the runtime was destroyed", s->conf->path, s->refs - own);
        rt->snapshots = s->next;
        conf_destroy(s->conf);
        free(s);
    }
    free(rt->flags);
    pthread_mutex_destroy(&rt->change_lock);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

const cairn_conf *runtime_conf_acquire(runtime *rt)
{
    const cairn_conf *conf;

    pthread_mutex_lock(&rt->lock);
    rt->current->refs++;
    conf = rt->current->conf;
    pthread_mutex_unlock(&rt->lock);
    return conf;
}

void runtime_conf_release(runtime *rt, const cairn_conf *conf)
{
    if (conf == NULL)
        return;

    pthread_mutex_lock(&rt->lock);
    for (snapshot *s = rt->snapshots; s != NULL; s = s->next) {
        if (s->conf == conf) {
            snapshot_unref(rt, s);
            pthread_mutex_unlock(&rt->lock);
            return;
        }
    }
    pthread_mutex_unlock(&rt->lock);
    log_error(NULL, "runtime_conf_release: configuration %p is not held", (const void *)conf);
}

static ae_flag *find_flag(runtime *rt, const char *title)
{
    for (size_t i = 0; i < rt->n_flags; i++) {
        if (strcmp(rt->flags[i].title, title) == 0)
            return &rt->flags[i];
    }
    return NULL;
}

bool runtime_ae_enabled(runtime *rt, const char *title)
{
    const ae_flag *flag;
    bool enabled;

    pthread_mutex_lock(&rt->lock);
    flag = find_flag(rt, title);
    enabled = flag != NULL && flag->enabled;
    pthread_mutex_unlock(&rt->lock);
    return enabled;
}

static void notify_change(runtime *rt)
{
    if (rt->change_fn != NULL)
        rt->change_fn(rt->change_arg, rt);
}

int runtime_ae_set_enabled(runtime *rt, const char *title, bool enabled)
{
    ae_flag *flag;
    bool changed = false;

    pthread_mutex_lock(&rt->change_lock);
    pthread_mutex_lock(&rt->lock);
    flag = find_flag(rt, title);
    if (flag != NULL) {
        changed = flag->enabled != enabled;
        flag->enabled = enabled;
    }
    pthread_mutex_unlock(&rt->lock);

    if (flag != NULL) {
        log_info(NULL, "AE %s %s at run time", title, enabled ? "enabled" : "disabled");
        if (changed)
            notify_change(rt);
    }
    pthread_mutex_unlock(&rt->change_lock);
    return flag != NULL ? 0 : -1;
}

void runtime_set_change_fn(runtime *rt, runtime_change_fn fn, void *arg)
{
    pthread_mutex_lock(&rt->change_lock);
    rt->change_fn = fn;
    rt->change_arg = arg;
    pthread_mutex_unlock(&rt->change_lock);
}

/* Makes conf current, taking ownership of it. Returns -1 when memory runs out. */
static int swap_in(runtime *rt, cairn_conf *conf)
{
    snapshot *s = snapshot_new(conf);
    ae_flag *flags;

    if (s == NULL)
        return -1;

    pthread_mutex_lock(&rt->lock);
    flags = build_flags(conf, rt->flags, rt->n_flags);
    if (flags == NULL) {
        pthread_mutex_unlock(&rt->lock);
        free(s);
        return -1;
    }
    free(rt->flags);
    rt->flags = flags;
    rt->n_flags = conf->n_aes;

    s->next = rt->snapshots;
    rt->snapshots = s;
    snapshot_unref(rt, rt->current);
    rt->current = s;
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

int runtime_reload(runtime *rt, char *err, size_t errlen)
{
    const cairn_conf *running;
    cairn_conf *next = NULL;
    int result = -1;

    pthread_mutex_lock(&rt->change_lock);
    running = runtime_conf_acquire(rt);

    if (conf_load(running->path, &next, err, errlen) != 0)
        goto out;
    if (runtime_check_restart_settings(rt->first->conf, next, err, errlen) != 0 ||
        runtime_check_ae_plugins(rt->first->conf, next, err, errlen) != 0)
        goto out;
    if (swap_in(rt, next) != 0) {
        snprintf(err, errlen, "%s: out of memory while applying the configuration", next->path);
        goto out;
    }

    next = NULL;
    result = 0;
    notify_change(rt);

out:
    conf_destroy(next);
    runtime_conf_release(rt, running);
    pthread_mutex_unlock(&rt->change_lock);
    return result;
}
