/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data router plugin: an MPPS SCP that keeps each Modality Performed
 * Procedure Step in the index and forwards every N-CREATE and N-SET to the
 * configured order fillers, and a study notifier that sends an Instance
 * Availability Notification or a Basic Study Content Notification to the
 * RIS once a study is complete. Both deliver through the index's outbox,
 * so a message that cannot be sent waits there across restarts and goes
 * out in order once its destination answers.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#include "mpps_rules.h"

#define IAN_SOP_CLASS "1.2.840.10008.5.1.4.33"
#define BSCN_SOP_CLASS "1.2.840.10008.1.9"

/* Outbox kinds this plugin sends. */
#define KIND_MPPS_CREATE "mpps-n-create"
#define KIND_MPPS_SET "mpps-n-set"
#define KIND_STUDY_NOTIFICATION "study-notification"

/* Document id prefix of the studies waiting for completion. */
#define STUDY_ID_PREFIX "router-study:"

/* A study with instances stored since its last notification. */
typedef struct router_study {
    struct router_study *next;
    char uid[65];
    int64_t last_arrival_us; /* when its latest instance was stored */
    bool has_final_step;     /* an MPPS step of it is COMPLETED or DISCONTINUED */
    bool check_mpps;         /* the MPPS completion rule needs a new look */
    bool saved;              /* its index document exists */
    unsigned notified;       /* notifications sent for it so far in this run */
} router_study;

/* The plugin's state. */
typedef struct router {
    const cairn_host_api *api;
    cairn_plugin *self;
    mpps_rules rules;

    /* Settings. */
    const char *const *order_fillers;
    size_t order_filler_count;
    const char *forward_calling_ae; /* "" : the AE title the modality called */
    const char *const *notify_remotes;
    size_t notify_remote_count;
    const char *notify_calling_ae;
    const char *retrieve_ae_title;
    int64_t study_idle_us;
    int64_t retry_initial_us;
    int64_t retry_max_us;
    unsigned max_attempts; /* 0: retry without limit */

    pthread_mutex_t step_lock; /* one N-CREATE or N-SET changes the steps at a time */

    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t wake;
    router_study *studies;
    bool studies_loaded;       /* the studies the last run left have been read */
    bool stopping;
    bool work_pending;         /* a message was queued or a study changed since the last pass */
    pthread_t thread;
    bool thread_started;
    bool outbox_leased;        /* this node holds the outbox lease (delivery thread only) */
    int64_t lease_renewed_us;  /* when it was last taken or renewed */
} router;

/* mpps_scp.c: the N-CREATE and N-SET handlers. */
cairn_status mpps_on_n_create(void *state, cairn_assoc *assoc, const cairn_message *request,
                              cairn_reply *reply);
cairn_status mpps_on_n_set(void *state, cairn_assoc *assoc, const cairn_message *request,
                           cairn_reply *reply);

/* mpps_store.c: the step as kept in the index. */
cairn_dataset *mpps_load(router *rt, const char *uid, char *calling_ae, size_t size,
                         int64_t *created_at_us, cairn_status *st);
cairn_status mpps_save(router *rt, const char *uid, const cairn_dataset *ds,
                       const char *calling_ae, const char *called_ae, int64_t created_at_us,
                       bool create);
/* Reads the kept data set out of a step document; NULL when it has none. */
cairn_dataset *mpps_document_dataset(const cairn_host_api *api, const char *document);

/* router_outbox.c: queueing and the delivery thread. */
cairn_status router_enqueue(router *rt, const char *kind, const char *destination,
                            const char *calling_ae, const char *group_key, const char *uid,
                            const cairn_dataset *primary, const cairn_dataset *secondary);
int router_thread_start(router *rt);
void router_thread_stop(router *rt);
void router_wake(router *rt);
int64_t router_now_us(void);

/*
 * router_lease.c: of several nodes on one index, the one holding the
 * outbox lease delivers. router_outbox_leased takes or renews the lease
 * when due and returns true while this node may deliver;
 * router_lease_check_us is the longest wait between two calls.
 */
bool router_outbox_leased(router *rt);
int64_t router_lease_check_us(router *rt);
void router_outbox_lease_release(router *rt);

/* router_notify.c: study completion and the notifications. */
void router_on_instance_stored(void *arg, const cairn_dataset *attributes,
                               const cairn_instance_file *file);
void router_note_final_step(router *rt, const char *study_uid);
/* Queues notifications for the studies that are complete; returns the next deadline. */
int64_t router_check_studies(router *rt, int64_t now_us);
cairn_status router_deliver_notification(router *rt, cairn_outbound *ob, const char *uid,
                                         const cairn_dataset *ian, const cairn_dataset *bscn,
                                         cairn_dimse_status *status, const char **sent_class);

/* router_text.c: JSON, base64 and UIDs. */
typedef struct router_text {
    char *data;
    size_t length, capacity;
    bool failed; /* out of memory: data is incomplete */
} router_text;

void text_append(router_text *text, const char *s);
void text_appendf(router_text *text, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void text_append_json_string(router_text *text, const char *s);
void text_append_base64(router_text *text, const uint8_t *bytes, size_t length);
/* Decodes base64 up to the first character outside the alphabet; *length gets the bytes. */
uint8_t *base64_decode(const char *text, size_t *length);
/* Returns the value of the string member name of a flat JSON object, unescaped, or NULL. */
char *json_get_string(const char *json, const char *name);
/* Makes a new UID under 2.25 from 128 random bits (PS3.5 B.2). */
void router_new_uid(char uid[65]);

#endif
