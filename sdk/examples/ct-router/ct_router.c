/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct-router: a sample Cairn plugin that forwards every CT image the
 * archive stores to a remote AE, whichever AE or service stored it.
 *
 * It subscribes to the host's "instance stored" notification. The
 * notification runs on the storing association's thread and must return
 * quickly, so it only queues the instance; a worker thread of the plugin
 * sends the queue to the destination on one association per batch.
 *
 * Configuration (plugins.ct-router):
 *   destination = "TITLE";  required: an AE title of the configuration's
 *                           remotes, which receives every CT image
 *   calling_ae = "CAIRN";   our AE title on those associations
 *   max_queue = 1000;       1..100000 images waiting; beyond it, new ones
 *                           are logged and dropped
 *
 * NOTE: an image whose forward fails is logged and dropped, and the
 * queue lives in memory only. A production router would keep its queue
 * in the index (the host's archive_outbox_* entries) and retry.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cairn/cairn.h>

#define AE_TITLE_MAX 16
#define UID_MAX 64
#define MODALITY_MAX 16

/* One stored CT image waiting to be forwarded. */
typedef struct route_item {
    struct route_item *next;
    char sop_class[UID_MAX + 1];
    char sop_instance[UID_MAX + 1];
    char transfer_syntax[UID_MAX + 1];
    char *path; /* relative to the storage folder; from the host's alloc */
    uint64_t size;
} route_item;

/* The plugin's state. The settings are fixed after init; the queue is guarded by lock. */
typedef struct router {
    const cairn_host_api *api;
    cairn_plugin *self;
    const char *destination; /* configuration strings: owned by the host until shutdown */
    const char *calling_ae;
    size_t max_queue;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    route_item *head;
    route_item *tail;
    size_t queued;
    int stopping;
    pthread_t worker;
} router;

static const char *const ct_sop_classes[] = {
    "1.2.840.10008.5.1.4.1.1.2",   /* CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.1", /* Enhanced CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.2", /* Legacy Converted Enhanced CT Image Storage */
};
#define CT_SOP_CLASS_COUNT (sizeof ct_sop_classes / sizeof ct_sop_classes[0])

static router the_router;

static void free_item(const cairn_host_api *api, route_item *item)
{
    api->free(item->path);
    api->free(item);
}

/* Copies value number 0 of a text attribute; non-zero when absent, empty or too long. */
static int read_text(const cairn_host_api *api, const cairn_dataset *dataset, cairn_tag tag,
                     char *buf, size_t size)
{
    return api->dataset_get_string(dataset, tag, 0, buf, size) != CAIRN_OK || buf[0] == '\0';
}

/* Builds a queue item from a stored instance; NULL when it is no CT image or on error. */
static route_item *make_item(router *rt, const cairn_dataset *attributes,
                             const cairn_instance_file *file)
{
    const cairn_host_api *api = rt->api;
    char modality[MODALITY_MAX + 1];
    route_item *item;
    size_t path_length;

    if (read_text(api, attributes, CAIRN_TAG_MODALITY, modality, sizeof modality) ||
        strcmp(modality, "CT") != 0)
        return NULL;
    if (file->path == NULL || file->transfer_syntax_uid == NULL ||
        strlen(file->transfer_syntax_uid) > UID_MAX)
        return NULL;

    item = api->alloc(sizeof *item);
    if (item == NULL)
        return NULL;
    memset(item, 0, sizeof *item);
    path_length = strlen(file->path) + 1;
    item->path = api->alloc(path_length);
    if (item->path == NULL ||
        read_text(api, attributes, CAIRN_TAG_SOP_CLASS_UID, item->sop_class,
                  sizeof item->sop_class) ||
        read_text(api, attributes, CAIRN_TAG_SOP_INSTANCE_UID, item->sop_instance,
                  sizeof item->sop_instance)) {
        free_item(api, item);
        return NULL;
    }
    memcpy(item->path, file->path, path_length);
    snprintf(item->transfer_syntax, sizeof item->transfer_syntax, "%s",
             file->transfer_syntax_uid);
    item->size = file->size;
    return item;
}

/*
 * Queues each stored CT image (a cairn_instance_stored_fn). Runs on the
 * storing association's thread, so it only copies what the worker needs.
 */
static void on_instance_stored(void *arg, const cairn_dataset *attributes,
                               const cairn_instance_file *file)
{
    router *rt = arg;
    route_item *item = make_item(rt, attributes, file);
    int full;

    if (item == NULL)
        return;

    pthread_mutex_lock(&rt->lock);
    full = rt->queued >= rt->max_queue;
    if (!full) {
        if (rt->tail != NULL)
            rt->tail->next = item;
        else
            rt->head = item;
        rt->tail = item;
        rt->queued++;
        pthread_cond_signal(&rt->wake);
    }
    pthread_mutex_unlock(&rt->lock);

    if (full) {
        rt->api->log(rt->self, CAIRN_LOG_ERROR, "%s not forwarded to %s: %zu images already "
                     "wait (max_queue)", item->sop_instance, rt->destination, rt->max_queue);
        free_item(rt->api, item);
    }
}

/* Sends one image on an open association and logs the outcome. */
static void send_item(router *rt, cairn_outbound *outbound, const route_item *item)
{
    const cairn_host_api *api = rt->api;
    cairn_instance_file file = {
        .struct_size = sizeof file,
        .path = item->path,
        .size = item->size,
        .transfer_syntax_uid = item->transfer_syntax,
    };
    cairn_dimse_status status = 0;
    cairn_status rc;

    rc = api->outbound_store(outbound, &file, item->sop_class, item->sop_instance, NULL, 0,
                             &status);
    if (rc != CAIRN_OK)
        api->log(rt->self, CAIRN_LOG_ERROR, "%s not forwarded to %s: %s", item->sop_instance,
                 rt->destination, cairn_strerror(rc));
    else if (status != CAIRN_DIMSE_SUCCESS)
        api->log(rt->self, CAIRN_LOG_WARN, "%s forwarded to %s with status 0x%04X",
                 item->sop_instance, rt->destination, status);
    else
        api->log(rt->self, CAIRN_LOG_INFO, "%s forwarded to %s", item->sop_instance,
                 rt->destination);
}

/* Sends a batch of images on one association, then frees them. */
static void send_batch(router *rt, route_item *batch)
{
    const cairn_host_api *api = rt->api;
    cairn_outbound *outbound = NULL;
    cairn_status rc;

    rc = api->remote_open(rt->calling_ae, rt->destination, ct_sop_classes, CT_SOP_CLASS_COUNT,
                          &outbound);
    if (rc != CAIRN_OK)
        api->log(rt->self, CAIRN_LOG_ERROR, "cannot open an association to %s: %s",
                 rt->destination, cairn_strerror(rc));

    while (batch != NULL) {
        route_item *next = batch->next;

        if (outbound != NULL)
            send_item(rt, outbound, batch);
        else
            api->log(rt->self, CAIRN_LOG_ERROR, "%s not forwarded to %s", batch->sop_instance,
                     rt->destination);
        free_item(api, batch);
        batch = next;
    }
    api->outbound_close(outbound);
}

/* The worker thread: takes the whole queue at a time until shutdown. */
static void *run_worker(void *arg)
{
    router *rt = arg;

    for (;;) {
        route_item *batch;

        pthread_mutex_lock(&rt->lock);
        while (rt->head == NULL && !rt->stopping)
            pthread_cond_wait(&rt->wake, &rt->lock);
        if (rt->stopping) {
            pthread_mutex_unlock(&rt->lock);
            return NULL;
        }
        batch = rt->head;
        rt->head = NULL;
        rt->tail = NULL;
        rt->queued = 0;
        pthread_mutex_unlock(&rt->lock);

        send_batch(rt, batch);
    }
}

/* Reads and checks the plugin's configuration section. */
static cairn_status read_config(router *rt, const cairn_config *config)
{
    static const char *const keys[] = {"destination", "calling_ae", "max_queue"};
    const cairn_host_api *api = rt->api;
    int64_t max_queue;
    size_t length;

    if (api->config_check_keys(config, keys, sizeof keys / sizeof keys[0]) != CAIRN_OK ||
        api->config_get_string(config, "destination", "", &rt->destination) != CAIRN_OK ||
        api->config_get_string(config, "calling_ae", "CAIRN", &rt->calling_ae) != CAIRN_OK ||
        api->config_get_int(config, "max_queue", 1000, 1, 100000, &max_queue) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    rt->max_queue = (size_t)max_queue;

    length = strlen(rt->destination);
    if (length == 0 || length > AE_TITLE_MAX) {
        api->log(rt->self, CAIRN_LOG_ERROR,
                 "plugins.ct-router.destination: set it to the AE title (1 to %d characters) "
                 "of one of the remotes", AE_TITLE_MAX);
        return CAIRN_ERR_CONFIG;
    }
    length = strlen(rt->calling_ae);
    if (length == 0 || length > AE_TITLE_MAX) {
        api->log(rt->self, CAIRN_LOG_ERROR,
                 "plugins.ct-router.calling_ae: \"%s\" is not an AE title of 1 to %d "
                 "characters", rt->calling_ae, AE_TITLE_MAX);
        return CAIRN_ERR_CONFIG;
    }
    return CAIRN_OK;
}

/* Stops the worker and frees what is still queued. */
static void router_shutdown(void *state)
{
    router *rt = state;
    size_t dropped = 0;

    pthread_mutex_lock(&rt->lock);
    rt->stopping = 1;
    pthread_cond_signal(&rt->wake);
    pthread_mutex_unlock(&rt->lock);
    pthread_join(rt->worker, NULL);

    while (rt->head != NULL) {
        route_item *next = rt->head->next;

        free_item(rt->api, rt->head);
        rt->head = next;
        dropped++;
    }
    if (dropped > 0)
        rt->api->log(rt->self, CAIRN_LOG_WARN, "%zu CT images not forwarded at shutdown",
                     dropped);
    pthread_cond_destroy(&rt->wake);
    pthread_mutex_destroy(&rt->lock);
}

static cairn_status router_init(cairn_plugin *self, const cairn_host_api *api,
                                const cairn_config *config, void **state)
{
    router *rt = &the_router;
    cairn_status rc;

    *state = NULL;
    memset(rt, 0, sizeof *rt);
    rt->api = api;
    rt->self = self;

    /* A host built before these entries were appended hands a shorter table. */
    if (!CAIRN_HOST_HAS(api, remote_open)) {
        api->log(self, CAIRN_LOG_ERROR, "this cairnd lacks subscribe_instance_stored or "
                 "remote_open; upgrade it");
        return CAIRN_ERR_ABI;
    }
    rc = read_config(rt, config);
    if (rc != CAIRN_OK)
        return rc;

    if (pthread_mutex_init(&rt->lock, NULL) != 0)
        return CAIRN_ERR_NO_MEMORY;
    if (pthread_cond_init(&rt->wake, NULL) != 0) {
        pthread_mutex_destroy(&rt->lock);
        return CAIRN_ERR_NO_MEMORY;
    }
    if (pthread_create(&rt->worker, NULL, run_worker, rt) != 0) {
        pthread_cond_destroy(&rt->wake);
        pthread_mutex_destroy(&rt->lock);
        api->log(self, CAIRN_LOG_ERROR, "cannot start the worker thread");
        return CAIRN_ERR_NO_MEMORY;
    }

    /* The host calls shutdown only after a successful init, so a failure here stops the worker. */
    rc = api->subscribe_instance_stored(self, on_instance_stored, rt);
    if (rc != CAIRN_OK) {
        api->log(self, CAIRN_LOG_ERROR, "cannot subscribe to stored instances: %s",
                 cairn_strerror(rc));
        router_shutdown(rt);
        return rc;
    }
    *state = rt;

    api->log(self, CAIRN_LOG_INFO, "forwarding every stored CT image to %s as %s",
             rt->destination, rt->calling_ae);
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "ct-router",
    "1.0.0",
    "Forwards every stored CT image to a remote AE",
    router_init,
    router_shutdown,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
