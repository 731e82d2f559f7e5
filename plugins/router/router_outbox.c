/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery thread. It queues the notifications of complete studies
 * and sends what waits in the index's outbox, each message on an
 * association of its own. Messages of one destination and group (an MPPS
 * step, a study) go in id order: while the first of a group fails, the
 * others wait, so an N-SET never overtakes its N-CREATE. A failed
 * delivery is retried after retry_initial_seconds, doubling up to
 * retry_max_seconds. With max_attempts set, a message is dropped after
 * that many failures, with an error in the log. Each failure is recorded in
 * the outbox with its error, so a restart resumes where this run stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router.h"

/* Microseconds between two tries to reach the archive while it is not open yet. */
#define ARCHIVE_WAIT_US 1000000
/* Maximum sleep with nothing due. Work that arrives wakes the thread earlier. */
#define IDLE_WAIT_US (3600 * (int64_t)1000000)
/* Most messages one delivery pass reads from the outbox. */
#define PASS_MAX_MESSAGES 1000

int64_t router_now_us(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

void router_wake(router *rt)
{
    pthread_mutex_lock(&rt->lock);
    rt->work_pending = true;
    pthread_cond_signal(&rt->wake);
    pthread_mutex_unlock(&rt->lock);
}

/* Appends "name":"base64 of ds", to text. */
static cairn_status append_dataset(router *rt, router_text *text, const char *name,
                                   const cairn_dataset *ds)
{
    uint8_t *bytes = NULL;
    size_t length = 0;
    cairn_status st = rt->api->dataset_encode(ds, &bytes, &length);

    if (st != CAIRN_OK)
        return st;
    text_appendf(text, ",\"%s\":\"", name);
    text_append_base64(text, bytes, length);
    text_append(text, "\"");
    rt->api->free(bytes);
    return CAIRN_OK;
}

cairn_status router_enqueue(router *rt, const char *kind, const char *destination,
                            const char *calling_ae, const char *group_key, const char *uid,
                            const cairn_dataset *primary, const cairn_dataset *secondary)
{
    router_text document = {0};
    cairn_outbox_message message = {.struct_size = sizeof message};
    uint64_t id = 0;
    cairn_status st;

    text_append(&document, "{\"uid\":");
    text_append_json_string(&document, uid);
    st = append_dataset(rt, &document, "dataset", primary);
    if (st == CAIRN_OK && secondary != NULL)
        st = append_dataset(rt, &document, "bscn", secondary);
    text_append(&document, "}");
    if (st == CAIRN_OK && document.failed)
        st = CAIRN_ERR_NO_MEMORY;
    if (st != CAIRN_OK) {
        free(document.data);
        return st;
    }

    message.kind = kind;
    message.destination = destination;
    message.calling_ae = calling_ae;
    message.group_key = group_key;
    message.document = document.data;
    message.last_error = "";
    message.created_at_us = router_now_us();
    message.next_attempt_at_us = message.created_at_us;
    st = rt->api->archive_outbox_add(&message, &id);
    free(document.data);
    return st;
}

/* A message copied out of the outbox for one pass. */
typedef struct pending {
    uint64_t id;
    uint32_t attempts;
    int64_t next_attempt_at_us;
    char kind[32];
    char destination[17];
    char calling_ae[17];
    char group_key[65];
    char *document;
} pending;

typedef struct pending_list {
    pending *items;
    size_t count, capacity;
    bool failed;
} pending_list;

static bool known_kind(const char *kind)
{
    return strcmp(kind, KIND_MPPS_CREATE) == 0 || strcmp(kind, KIND_MPPS_SET) == 0 ||
           strcmp(kind, KIND_STUDY_NOTIFICATION) == 0;
}

static int collect(void *arg, const cairn_outbox_message *message)
{
    pending_list *list = arg;
    pending *p;

    if (!known_kind(message->kind))
        return 0;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 32;
        pending *grown = realloc(list->items, capacity * sizeof *grown);

        if (grown == NULL) {
            list->failed = true;
            return 1;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    p = &list->items[list->count];
    memset(p, 0, sizeof *p);
    p->id = message->id;
    p->attempts = message->attempts;
    p->next_attempt_at_us = message->next_attempt_at_us;
    snprintf(p->kind, sizeof p->kind, "%s", message->kind);
    snprintf(p->destination, sizeof p->destination, "%s", message->destination);
    snprintf(p->calling_ae, sizeof p->calling_ae, "%s", message->calling_ae);
    snprintf(p->group_key, sizeof p->group_key, "%s", message->group_key);
    p->document = strdup(message->document);
    if (p->document == NULL) {
        list->failed = true;
        return 1;
    }
    list->count++;
    return list->count >= PASS_MAX_MESSAGES;
}

static void free_list(pending_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].document);
    free(list->items);
}

/* Decodes the base64 data set member name of a message document; NULL when absent. */
static cairn_dataset *document_dataset(router *rt, const char *document, const char *name)
{
    char *encoded = json_get_string(document, name);
    cairn_dataset *ds = NULL;
    uint8_t *bytes;
    size_t length = 0;

    if (encoded == NULL)
        return NULL;
    bytes = base64_decode(encoded, &length);
    free(encoded);
    if (bytes != NULL && rt->api->dataset_decode(bytes, length, &ds) != CAIRN_OK)
        ds = NULL;
    free(bytes);
    return ds;
}

/* Success and warning statuses (PS3.7 C.1 to C.3) mean the peer took the message. */
static bool accepted_status(cairn_dimse_status status)
{
    return status == 0x0000 || status == 0x0001 || (status & 0xF000) == 0xB000 ||
           status == 0x0107 || status == 0x0116;
}

/*
 * Sends one message. Returns CAIRN_OK when the peer accepted it; otherwise
 * error gets why, and *unreachable is set when no association could be opened.
 */
static cairn_status send_one(router *rt, const pending *p, char *error, size_t size,
                             bool *unreachable)
{
    const cairn_host_api *api = rt->api;
    static const char *const mpps_classes[] = {MPPS_SOP_CLASS};
    static const char *const notification_classes[] = {IAN_SOP_CLASS, BSCN_SOP_CLASS};
    bool notification = strcmp(p->kind, KIND_STUDY_NOTIFICATION) == 0;
    cairn_dataset *primary = document_dataset(rt, p->document, "dataset");
    cairn_dataset *secondary = notification ? document_dataset(rt, p->document, "bscn") : NULL;
    char *uid = json_get_string(p->document, "uid");
    cairn_outbound *ob = NULL;
    cairn_dimse_status status = 0;
    const char *sent_class = MPPS_SOP_CLASS;
    cairn_status st;

    *unreachable = false;
    if (primary == NULL || uid == NULL) {
        snprintf(error, size, "the queued message cannot be read");
        st = CAIRN_ERR_PARSE;
        goto out;
    }
    st = api->remote_open(p->calling_ae, p->destination,
                          notification ? notification_classes : mpps_classes,
                          notification ? 2 : 1, &ob);
    if (st != CAIRN_OK) {
        /*
         * remote_open returns CAIRN_ERR_REFUSED for a failed TCP connection, a
         * rejected association and an association without an accepted context,
         * so the text names all three. The host's log line before this one
         * names the cause.
         */
        if (st == CAIRN_ERR_REFUSED)
            snprintf(error, size, "cannot open an association to %s: no TCP connection, "
                     "association rejected, or no SOP class accepted (see the cairnd log)",
                     p->destination);
        else
            snprintf(error, size, "cannot open an association to %s: %s", p->destination,
                     cairn_strerror(st));
        *unreachable = true;
        goto out;
    }
    if (notification)
        st = router_deliver_notification(rt, ob, uid, primary, secondary, &status, &sent_class);
    else
        st = api->outbound_request(ob, strcmp(p->kind, KIND_MPPS_CREATE) == 0
                                           ? CAIRN_OP_N_CREATE : CAIRN_OP_N_SET,
                                   MPPS_SOP_CLASS, uid, primary, &status);
    if (st == CAIRN_ERR_UNSUPPORTED) {
        snprintf(error, size, "the remote accepted no presentation context for %s",
                 notification ? "IAN or BSCN" : "MPPS");
    } else if (st != CAIRN_OK) {
        snprintf(error, size, "the association failed: %s", cairn_strerror(st));
    } else if (!accepted_status(status)) {
        snprintf(error, size, "the remote answered status 0x%04X", status);
        st = CAIRN_ERR_REFUSED;
    } else {
        api->log(rt->self, CAIRN_LOG_INFO, "%s %s for %s delivered to %s (status 0x%04X)",
                 p->kind, uid, p->group_key, p->destination, status);
        (void)sent_class;
    }

out:
    api->outbound_close(ob);
    api->dataset_destroy(primary);
    api->dataset_destroy(secondary);
    free(uid);
    return st;
}

static int64_t backoff_us(const router *rt, uint32_t attempts)
{
    int64_t delay = rt->retry_initial_us;

    for (uint32_t i = 1; i < attempts && delay < rt->retry_max_us; i++)
        delay *= 2;
    return delay < rt->retry_max_us ? delay : rt->retry_max_us;
}

/* Records a failed delivery, or drops the message after max_attempts. */
static void record_failure(router *rt, const pending *p, const char *error, int64_t now_us,
                           int64_t *next_due)
{
    const cairn_host_api *api = rt->api;
    uint32_t attempts = p->attempts + 1;
    int64_t next = now_us + backoff_us(rt, attempts);

    if (rt->max_attempts > 0 && attempts >= rt->max_attempts) {
        api->log(rt->self, CAIRN_LOG_ERROR, "%s for %s to %s failed %u times (last: %s); it is "
                 "dropped", p->kind, p->group_key, p->destination, attempts, error);
        api->archive_outbox_delete(p->id);
        return;
    }
    api->log(rt->self, CAIRN_LOG_WARN, "%s for %s to %s failed (%s); attempt %u in %lld s",
             p->kind, p->group_key, p->destination, error, attempts + 1,
             (long long)((next - now_us) / 1000000));
    if (api->archive_outbox_update(p->id, attempts, next, error) != CAIRN_OK)
        api->log(rt->self, CAIRN_LOG_WARN, "cannot record the failed delivery of outbox message "
                 "%llu", (unsigned long long)p->id);
    if (next < *next_due)
        *next_due = next;
}

/* True when an earlier message of the list blocks p: same destination and group, not sent. */
static bool blocked(const pending_list *list, size_t index, const bool *done)
{
    const pending *p = &list->items[index];

    for (size_t i = 0; i < index; i++) {
        const pending *q = &list->items[i];

        if (!done[i] && strcmp(q->destination, p->destination) == 0 &&
            strcmp(q->group_key, p->group_key) == 0)
            return true;
    }
    return false;
}

static bool in_set(char (*set)[17], size_t count, const char *title)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(set[i], title) == 0)
            return true;
    }
    return false;
}

/* Sends what is due. Returns when the next message is due, or ARCHIVE_WAIT_US from now when the index is not open. */
static int64_t deliver_pass(router *rt)
{
    pending_list list = {0};
    char unreachable[16][17];
    size_t unreachable_count = 0;
    int64_t now_us = router_now_us(), next_due = now_us + IDLE_WAIT_US;
    size_t delivered = 0;
    bool *done;
    cairn_status st;

    /* Another node delivers, or the archive is not open yet: look again soon. */
    if (!router_outbox_leased(rt))
        return now_us + ARCHIVE_WAIT_US;
    if (next_due > now_us + router_lease_check_us(rt))
        next_due = now_us + router_lease_check_us(rt);
    st = rt->api->archive_outbox_list("", collect, &list);

    if (st == CAIRN_ERR_BUSY) {
        free_list(&list);
        return now_us + ARCHIVE_WAIT_US;
    }
    if (st != CAIRN_OK || list.failed)
        rt->api->log(rt->self, CAIRN_LOG_ERROR, "cannot read the outbox: %s",
                     list.failed ? "out of memory" : cairn_strerror(st));
    done = calloc(list.count + 1, sizeof *done);
    if (done == NULL) {
        free_list(&list);
        return now_us + ARCHIVE_WAIT_US;
    }

    for (size_t i = 0; i < list.count; i++) {
        pending *p = &list.items[i];
        char error[160] = "";
        bool unreachable_now = false;

        if (blocked(&list, i, done))
            continue;
        if (p->next_attempt_at_us > now_us || in_set(unreachable, unreachable_count,
                                                    p->destination)) {
            if (p->next_attempt_at_us < next_due)
                next_due = p->next_attempt_at_us > now_us ? p->next_attempt_at_us : next_due;
            continue;
        }
        pthread_mutex_lock(&rt->lock);
        if (rt->stopping) {
            pthread_mutex_unlock(&rt->lock);
            break;
        }
        pthread_mutex_unlock(&rt->lock);
        if (!router_outbox_leased(rt))
            break;

        if (send_one(rt, p, error, sizeof error, &unreachable_now) == CAIRN_OK) {
            rt->api->archive_outbox_delete(p->id);
            done[i] = true;
            delivered++;
            continue;
        }
        record_failure(rt, p, error, router_now_us(), &next_due);
        if (unreachable_now && unreachable_count < 16)
            snprintf(unreachable[unreachable_count++], sizeof unreachable[0], "%s",
                     p->destination);
    }
    /* A full pass that delivered something may have left messages unread: read on at once. */
    if (list.count >= PASS_MAX_MESSAGES && delivered > 0)
        next_due = now_us;
    free(done);
    free_list(&list);
    return next_due;
}

static void *run(void *arg)
{
    router *rt = arg;

    pthread_mutex_lock(&rt->lock);
    while (!rt->stopping) {
        int64_t due, studies_due, now_us;
        struct timespec until;

        rt->work_pending = false;
        pthread_mutex_unlock(&rt->lock);
        studies_due = router_check_studies(rt, router_now_us());
        due = deliver_pass(rt);
        if (studies_due < due)
            due = studies_due;
        pthread_mutex_lock(&rt->lock);

        now_us = router_now_us();
        if (rt->work_pending || rt->stopping || due <= now_us)
            continue;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)((due - now_us) / 1000000);
        until.tv_nsec += (long)((due - now_us) % 1000000) * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rt->wake, &rt->lock, &until);
    }
    pthread_mutex_unlock(&rt->lock);
    router_outbox_lease_release(rt);
    return NULL;
}

int router_thread_start(router *rt)
{
    int rc = pthread_create(&rt->thread, NULL, run, rt);

    if (rc != 0) {
        rt->api->log(rt->self, CAIRN_LOG_ERROR, "cannot start the delivery thread: %s",
                     strerror(rc));
        return -1;
    }
    rt->thread_started = true;
    return 0;
}

void router_thread_stop(router *rt)
{
    if (!rt->thread_started)
        return;
    pthread_mutex_lock(&rt->lock);
    rt->stopping = true;
    pthread_cond_broadcast(&rt->wake);
    pthread_mutex_unlock(&rt->lock);
    pthread_join(rt->thread, NULL);
    rt->thread_started = false;
}
