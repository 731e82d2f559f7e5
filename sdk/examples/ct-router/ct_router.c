/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct-router: a sample Cairn plugin that archives the CT images an AE
 * receives and forwards each newly archived one to a remote AE.
 *
 * It registers a storage service for the CT storage SOP classes only. An
 * AE that lists "ct-router" before "storage" in its plugins sends CT here
 * and every other storage class to the bundled storage plugin, because
 * the host picks the first listed plugin that serves a SOP class.
 *
 * Configuration (plugins.ct-router):
 *   destination = "TITLE";  required: an AE title of the configuration's
 *                           remotes, which receives every CT
 *
 * The forward runs on the association's thread right after the C-STORE
 * response went out, so the modality never waits for the destination.
 * NOTE: a forward that fails is logged and not retried; a production
 * router would keep a queue that survives restarts.
 */
#include <stdio.h>
#include <string.h>

#include <cairn/cairn.h>

#define AE_TITLE_MAX 16
#define UID_MAX 64

/* The plugin's state, set once in init and read-only afterwards. */
typedef struct router {
    const cairn_host_api *api;
    cairn_plugin *self;
    const char *destination; /* owned by the host until shutdown */
} router;

/* One instance to forward, from the handler to the after-response call. */
typedef struct forward_job {
    const router *rt;
    char sop_class[UID_MAX + 1];
    char sop_instance[UID_MAX + 1];
    char study[UID_MAX + 1];
    char series[UID_MAX + 1];
} forward_job;

/* The archived file of the instance, copied out of the index row. */
typedef struct found_file {
    const cairn_host_api *api;
    int found;
    char *path;
    char *transfer_syntax;
    uint64_t size;
} found_file;

static const char *const ct_sop_classes[] = {
    "1.2.840.10008.5.1.4.1.1.2",   /* CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.1", /* Enhanced CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.2", /* Legacy Converted Enhanced CT Image Storage */
};

static router the_router;

/* Copies a string into memory from the host's alloc; NULL when out of memory. */
static char *copy_string(const cairn_host_api *api, const char *text)
{
    size_t length = strlen(text) + 1;
    char *copy = api->alloc(length);

    if (copy != NULL)
        memcpy(copy, text, length);
    return copy;
}

/* Keeps the file of the first matching row (a cairn_index_row_fn). */
static int keep_file(void *arg, const cairn_index_row *row)
{
    found_file *found = arg;

    if (row->file == NULL || row->file->path == NULL || row->file->transfer_syntax_uid == NULL)
        return 0;
    found->path = copy_string(found->api, row->file->path);
    found->transfer_syntax = copy_string(found->api, row->file->transfer_syntax_uid);
    found->size = row->file->size;
    found->found = found->path != NULL && found->transfer_syntax != NULL;
    return 1;
}

/* Looks the instance up in the index, which says where its file is. */
static cairn_status find_file(cairn_assoc *assoc, const forward_job *job, found_file *found)
{
    const cairn_host_api *api = job->rt->api;
    cairn_index_query query = {.struct_size = sizeof query};
    cairn_dataset *keys = api->dataset_create();
    cairn_status rc;

    if (keys == NULL)
        return CAIRN_ERR_NO_MEMORY;
    rc = api->dataset_set_string(keys, CAIRN_TAG_STUDY_INSTANCE_UID, CAIRN_VR_UI, job->study);
    if (rc == CAIRN_OK)
        rc = api->dataset_set_string(keys, CAIRN_TAG_SERIES_INSTANCE_UID, CAIRN_VR_UI,
                                     job->series);
    if (rc == CAIRN_OK)
        rc = api->dataset_set_string(keys, CAIRN_TAG_SOP_INSTANCE_UID, CAIRN_VR_UI,
                                     job->sop_instance);
    if (rc != CAIRN_OK)
        goto out;

    query.level = CAIRN_LEVEL_INSTANCE;
    query.keys = keys;
    query.flags = CAIRN_QUERY_RELATIONAL;
    query.max_matches = 1;
    rc = api->archive_query(assoc, &query, keep_file, found);
    if (rc == CAIRN_OK && !found->found)
        rc = CAIRN_ERR_NOT_FOUND;

out:
    api->dataset_destroy(keys);
    return rc;
}

/* Sends one archived instance to the destination on a new association. */
static cairn_status send_file(cairn_assoc *assoc, const forward_job *job, const found_file *found,
                              cairn_dimse_status *status)
{
    const cairn_host_api *api = job->rt->api;
    const char *classes[] = {job->sop_class};
    const char *syntaxes[] = {found->transfer_syntax};
    cairn_instance_file file = {
        .struct_size = sizeof file,
        .path = found->path,
        .size = found->size,
        .transfer_syntax_uid = found->transfer_syntax,
    };
    cairn_outbound *outbound = NULL;
    cairn_status rc;

    rc = api->outbound_open(assoc, job->rt->destination, classes, syntaxes, 1, &outbound);
    if (rc != CAIRN_OK)
        return rc;
    rc = api->outbound_store(outbound, &file, job->sop_class, job->sop_instance, NULL, 0, status);
    api->outbound_close(outbound);
    return rc;
}

/*
 * Forwards one instance (given to assoc_after_response). assoc is NULL
 * when the C-STORE response could not be sent; the job is then dropped.
 */
static void forward(void *arg, cairn_assoc *assoc)
{
    forward_job *job = arg;
    const router *rt = job->rt;
    found_file found = {.api = rt->api};
    cairn_dimse_status status = 0;
    cairn_status rc;

    if (assoc == NULL)
        goto out;

    rc = find_file(assoc, job, &found);
    if (rc != CAIRN_OK) {
        rt->api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "%s not forwarded: index lookup: %s",
                           job->sop_instance, cairn_strerror(rc));
        goto out;
    }

    rc = send_file(assoc, job, &found, &status);
    if (rc != CAIRN_OK)
        rt->api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "%s not forwarded to %s: %s",
                           job->sop_instance, rt->destination, cairn_strerror(rc));
    else if (status != CAIRN_DIMSE_SUCCESS)
        rt->api->log_assoc(rt->self, assoc, CAIRN_LOG_WARN,
                           "%s forwarded to %s with status 0x%04X", job->sop_instance,
                           rt->destination, status);
    else
        rt->api->log_assoc(rt->self, assoc, CAIRN_LOG_INFO, "%s forwarded to %s",
                           job->sop_instance, rt->destination);

out:
    rt->api->free(found.path);
    rt->api->free(found.transfer_syntax);
    rt->api->free(job);
}

/* Reads a UID of the data set into buf; non-zero when it is absent or too long. */
static int read_uid(const cairn_host_api *api, const cairn_dataset *dataset, cairn_tag tag,
                    char *buf)
{
    return api->dataset_get_string(dataset, tag, 0, buf, UID_MAX + 1) != CAIRN_OK ||
           buf[0] == '\0';
}

/* Prepares the forward of a newly archived instance. */
static void schedule_forward(const router *rt, cairn_assoc *assoc, const cairn_message *request,
                             const cairn_dataset *dataset)
{
    const cairn_host_api *api = rt->api;
    const char *sop_class = api->message_sop_class(request);
    forward_job *job = api->alloc(sizeof *job);

    if (job == NULL) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "out of memory; instance not forwarded");
        return;
    }
    memset(job, 0, sizeof *job);
    job->rt = rt;
    snprintf(job->sop_class, sizeof job->sop_class, "%s", sop_class != NULL ? sop_class : "");
    if (job->sop_class[0] == '\0' ||
        read_uid(api, dataset, CAIRN_TAG_SOP_INSTANCE_UID, job->sop_instance) ||
        read_uid(api, dataset, CAIRN_TAG_STUDY_INSTANCE_UID, job->study) ||
        read_uid(api, dataset, CAIRN_TAG_SERIES_INSTANCE_UID, job->series)) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "instance without readable UIDs; "
                       "not forwarded");
        api->free(job);
        return;
    }
    if (api->assoc_after_response(assoc, forward, job) != CAIRN_OK) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "%s not forwarded: cannot schedule",
                       job->sop_instance);
        api->free(job);
    }
}

/* C-STORE: archives the instance, then schedules its forward. */
static cairn_status on_c_store(void *state, cairn_assoc *assoc, const cairn_message *request,
                               cairn_reply *reply)
{
    const router *rt = state;
    const cairn_host_api *api = rt->api;
    const cairn_dataset *dataset = api->message_dataset(request);
    cairn_store_outcome outcome;
    cairn_status rc;

    if (dataset == NULL) {
        const char *why = api->message_error(request);

        api->reply_set_status(reply, CAIRN_DIMSE_STORE_CANNOT_UNDERSTAND);
        api->reply_set_error_comment(reply, why != NULL ? why : "no data set");
        return CAIRN_OK;
    }

    rc = api->archive_store(assoc, request, CAIRN_DUPLICATE_KEEP, &outcome);
    if (rc != CAIRN_OK) {
        api->log_assoc(rt->self, assoc, CAIRN_LOG_ERROR, "archiving failed: %s",
                       cairn_strerror(rc));
        api->reply_set_status(reply, CAIRN_DIMSE_STORE_OUT_OF_RESOURCES);
        api->reply_set_error_comment(reply, cairn_strerror(rc));
        return CAIRN_OK;
    }

    /* A duplicate that was kept has been forwarded when it first arrived. */
    if (outcome == CAIRN_STORE_STORED || outcome == CAIRN_STORE_REPLACED)
        schedule_forward(rt, assoc, request, dataset);
    api->reply_set_status(reply, CAIRN_DIMSE_SUCCESS);
    return CAIRN_OK;
}

/* Reads and checks the plugin's configuration section. */
static cairn_status read_config(router *rt, const cairn_config *config)
{
    static const char *const keys[] = {"destination"};
    const cairn_host_api *api = rt->api;
    size_t length;

    if (api->config_check_keys(config, keys, sizeof keys / sizeof keys[0]) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (api->config_get_string(config, "destination", "", &rt->destination) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;

    length = strlen(rt->destination);
    if (length == 0 || length > AE_TITLE_MAX) {
        api->log(rt->self, CAIRN_LOG_ERROR,
                 "plugins.ct-router.destination: set it to the AE title (1 to %d characters) "
                 "of one of the remotes", AE_TITLE_MAX);
        return CAIRN_ERR_CONFIG;
    }
    return CAIRN_OK;
}

static cairn_status router_init(cairn_plugin *self, const cairn_host_api *api,
                                const cairn_config *config, void **state)
{
    router *rt = &the_router;
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP,
        .name = "ct-router",
        .sop_classes = ct_sop_classes,
        .sop_class_count = sizeof ct_sop_classes / sizeof ct_sop_classes[0],
        .state = rt,
        .on_c_store = on_c_store,
    };
    cairn_status rc;

    *state = NULL;
    rt->api = api;
    rt->self = self;
    rc = read_config(rt, config);
    if (rc != CAIRN_OK)
        return rc;

    api->log(self, CAIRN_LOG_INFO, "forwarding CT images to %s", rt->destination);
    return api->register_service(self, &service);
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "ct-router",
    "1.0.0",
    "Archives CT images and forwards each to a remote AE",
    router_init,
    NULL,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
