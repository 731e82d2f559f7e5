/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin contract: the descriptor a plugin exports and the host API
 * table the host hands it.
 *
 * A plugin is a shared object that exports one symbol, cairn_plugin_entry,
 * returning a pointer to a const descriptor. The host checks the
 * descriptor's size and ABI version, then calls init with the host API
 * table and the plugin's own configuration section. In init the plugin
 * registers its services (register_service) or index back end
 * (register_index). shutdown runs once, after every association has ended.
 *
 * The host API table only grows at its end. A plugin built against an
 * older SDK sees a smaller struct_size; a plugin that wants an entry newer
 * than the version it requires checks CAIRN_HOST_HAS(api, entry) first.
 *
 * Minimal plugin:
 *
 *     static cairn_status my_init(cairn_plugin *self, const cairn_host_api *api,
 *                                 const cairn_config *config, void **state);
 *     static const cairn_plugin_descriptor descriptor = {
 *         CAIRN_PLUGIN_DESCRIPTOR_HEADER,
 *         "my-plugin", "1.0.0", "What it does", my_init, NULL,
 *     };
 *     CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
 *     {
 *         return &descriptor;
 *     }
 */
#ifndef CAIRN_PLUGIN_H
#define CAIRN_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/dataset.h"
#include "cairn/index.h"
#include "cairn/service.h"
#include "cairn/status.h"
#include "cairn/version.h"

CAIRN_EXTERN_C_BEGIN

/* The host's record of one loaded plugin. Opaque; owned by the host. */
typedef struct cairn_plugin cairn_plugin;

/* The plugin's configuration section. Opaque; owned by the host. */
typedef struct cairn_config cairn_config;

/* An association the host opened to a remote AE. Opaque; owned by the host. */
typedef struct cairn_outbound cairn_outbound;

/* Log levels, most severe first. */
typedef enum cairn_log_level {
    CAIRN_LOG_ERROR = 0,
    CAIRN_LOG_WARN = 1,
    CAIRN_LOG_INFO = 2,
    CAIRN_LOG_DEBUG = 3,
    CAIRN_LOG_TRACE = 4,
    CAIRN_LOG_SENTINEL_ = 0x7fffffff
} cairn_log_level;

typedef struct cairn_host_api cairn_host_api;

/*
 * Called after an instance was archived (see subscribe_instance_stored).
 * attributes are its leading attributes, everything before Pixel Data, in
 * the received character set; file describes its stored file. Both are
 * borrowed for the call. Since SDK 1.0.
 */
typedef void (*cairn_instance_stored_fn)(void *arg, const cairn_dataset *attributes,
                                         const cairn_instance_file *file);

/*
 * Initialises the plugin. Called once, on the main thread, before any
 * association. config is the plugin's section of the configuration (empty
 * when absent), borrowed until shutdown. *state is passed back to shutdown.
 * On failure the plugin logs why and returns a status other than CAIRN_OK;
 * the host then refuses to start and shutdown is not called.
 */
typedef cairn_status (*cairn_plugin_init_fn)(cairn_plugin *self, const cairn_host_api *api,
                                             const cairn_config *config, void **state);

/* Releases what init acquired. Called once, on the main thread. */
typedef void (*cairn_plugin_shutdown_fn)(void *state);

/* The description a plugin exports. Since SDK 1.0. */
typedef struct cairn_plugin_descriptor {
    uint32_t struct_size; /* sizeof(cairn_plugin_descriptor) as built */
    uint16_t abi_major;   /* CAIRN_SDK_ABI_MAJOR as built */
    uint16_t abi_minor;   /* CAIRN_SDK_ABI_MINOR as built */
    const char *name;     /* unique among loaded plugins: [a-z0-9-]+ */
    const char *version;  /* the plugin's own release */
    const char *description;
    cairn_plugin_init_fn init;
    cairn_plugin_shutdown_fn shutdown; /* may be NULL */
} cairn_plugin_descriptor;

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_plugin_descriptor) == 48, "descriptor layout is ABI");
#endif

/* The first three fields of every descriptor built against this SDK. */
#define CAIRN_PLUGIN_DESCRIPTOR_HEADER \
    sizeof(cairn_plugin_descriptor), CAIRN_SDK_ABI_MAJOR, CAIRN_SDK_ABI_MINOR

#define CAIRN_PLUGIN_ENTRY_SYMBOL "cairn_plugin_entry"

#if defined(__cplusplus)
#define CAIRN_PLUGIN_EXPORT extern "C" CAIRN_EXPORT
#else
#define CAIRN_PLUGIN_EXPORT CAIRN_EXPORT
#endif

/* The entry point every plugin defines. */
typedef const cairn_plugin_descriptor *(*cairn_plugin_entry_fn)(void);

/*
 * Returns the plugin's descriptor: a pointer to static, constant storage
 * that stays valid while the plugin is loaded. Called once, on the main
 * thread, before init. Declared here so every plugin's definition is
 * checked against this signature.
 */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

/* True when the host table api has the entry named member. */
#define CAIRN_HOST_HAS(api, member)                                            \
    ((api)->struct_size >= offsetof(cairn_host_api, member) + sizeof((api)->member))

/*
 * Functions the host offers plugins. Unless an entry says otherwise, every
 * function is thread-safe, returns CAIRN_ERR_INVALID_ARGUMENT on a NULL
 * handle, and borrows its arguments for the call only. Strings the host
 * returns as const char * are owned by the host and live as long as the
 * handle they came from. Since SDK 1.0.
 */
struct cairn_host_api {
    uint32_t struct_size; /* sizeof(cairn_host_api) as the host was built */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* --- Since SDK 1.0: memory. Memory that crosses the boundary uses these. */

    /* Allocates size bytes; NULL when out of memory. */
    void *(*alloc)(size_t size);
    /* Frees memory from alloc or from any host call documented as allocating. */
    void (*free)(void *ptr);

    /* --- Since SDK 1.0: logging. The host adds the plugin's name. */

    /* Logs one line at level. */
    void (*log)(cairn_plugin *self, cairn_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* Logs one line about an association; adds its id and AE titles. */
    void (*log_assoc)(cairn_plugin *self, const cairn_assoc *assoc, cairn_log_level level,
                      const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 4, 5)))
#endif
        ;

    /* --- Since SDK 1.0: the plugin's configuration section. */

    /*
     * Each getter stores the value of key, or def when the key is absent.
     * A value of the wrong type or out of range is logged with the file,
     * line and key, and returns CAIRN_ERR_CONFIG. Strings are owned by the
     * host and live until shutdown.
     */
    cairn_status (*config_get_string)(const cairn_config *config, const char *key,
                                      const char *def, const char **value);
    cairn_status (*config_get_int)(const cairn_config *config, const char *key, int64_t def,
                                   int64_t min, int64_t max, int64_t *value);
    cairn_status (*config_get_bool)(const cairn_config *config, const char *key, int def,
                                    int *value);
    /*
     * Resolves a path setting: relative values are taken from the config
     * file's folder. *value is allocated; free it with free. *value is NULL
     * when the key is absent and def is NULL.
     */
    cairn_status (*config_get_path)(const cairn_config *config, const char *key,
                                    const char *def, char **value);
    /* Fails with CAIRN_ERR_CONFIG, logging file, line and key, on a key outside allowed. */
    cairn_status (*config_check_keys)(const cairn_config *config, const char *const *allowed,
                                      size_t allowed_count);

    /* --- Since SDK 1.0: registration, only during init. */

    /* Registers a service; the host copies *service. */
    cairn_status (*register_service)(cairn_plugin *self, const cairn_service *service);
    /* Registers an index back end; the host copies *ops and keeps backend_state. */
    cairn_status (*register_index)(cairn_plugin *self, const cairn_index_ops *ops,
                                   void *backend_state);

    /* --- Since SDK 1.0: data sets. */

    /* Creates an empty data set owned by the caller; destroy it with dataset_destroy. */
    cairn_dataset *(*dataset_create)(void);
    /* Destroys a data set the caller owns. NULL does nothing. */
    void (*dataset_destroy)(cairn_dataset *dataset);
    /* Returns the number of top-level elements. */
    size_t (*dataset_count)(const cairn_dataset *dataset);
    /* Returns element index (0-based, in tag order), or NULL past the end. */
    const cairn_element *(*dataset_at)(const cairn_dataset *dataset, size_t index);
    /* Returns the element with tag, or NULL. */
    const cairn_element *(*dataset_find)(const cairn_dataset *dataset, cairn_tag tag);
    cairn_tag (*element_tag)(const cairn_element *element);
    cairn_vr (*element_vr)(const cairn_element *element);
    /* Returns the value length in bytes (0xFFFFFFFF for undefined length). */
    uint32_t (*element_length)(const cairn_element *element);
    /*
     * Returns the value bytes, little endian whatever the transfer syntax,
     * or NULL for sequences and for values too large to have been loaded.
     */
    const uint8_t *(*element_value)(const cairn_element *element);
    /* Returns the number of items of a sequence element (0 otherwise). */
    size_t (*element_item_count)(const cairn_element *element);
    /* Returns item index of a sequence element, or NULL. Borrowed. */
    const cairn_dataset *(*element_item)(const cairn_element *element, size_t index);
    /*
     * Copies value number index (0-based) of a text attribute into buf,
     * without padding, as stored (no character set conversion).
     * CAIRN_ERR_NOT_FOUND when absent, CAIRN_ERR_TOO_SMALL when buf is short.
     */
    cairn_status (*dataset_get_string)(const cairn_dataset *dataset, cairn_tag tag,
                                       unsigned index, char *buf, size_t size);
    /*
     * Returns the whole value of a text attribute converted to UTF-8 by the
     * data set's Specific Character Set. *value is allocated; free it with free.
     */
    cairn_status (*dataset_get_utf8)(const cairn_dataset *dataset, cairn_tag tag, char **value);
    /* Reads value number index of a US, UL, SS, SL or IS attribute. */
    cairn_status (*dataset_get_uint)(const cairn_dataset *dataset, cairn_tag tag,
                                     unsigned index, uint32_t *value);
    /* Sets a text attribute (replacing it); value is copied and padded. */
    cairn_status (*dataset_set_string)(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                       const char *value);
    /* Sets a US or UL attribute (replacing it). */
    cairn_status (*dataset_set_uint)(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                     uint32_t value);
    /* Sets an attribute from raw little-endian bytes, copied. */
    cairn_status (*dataset_set_bytes)(cairn_dataset *dataset, cairn_tag tag, cairn_vr vr,
                                      const void *value, size_t length);
    /* Removes an attribute; CAIRN_ERR_NOT_FOUND when absent. */
    cairn_status (*dataset_remove)(cairn_dataset *dataset, cairn_tag tag);
    /*
     * Appends an empty item to sequence tag, creating the sequence when
     * absent. The item is owned by dataset; NULL when out of memory.
     */
    cairn_dataset *(*dataset_append_item)(cairn_dataset *dataset, cairn_tag tag);

    /* --- Since SDK 1.0: associations. Only on the association's thread. */

    uint64_t (*assoc_id)(const cairn_assoc *assoc);
    const char *(*assoc_calling_ae)(const cairn_assoc *assoc);
    const char *(*assoc_called_ae)(const cairn_assoc *assoc);
    /* Peer address as text, e.g. "127.0.0.1" or "::1". */
    const char *(*assoc_peer_address)(const cairn_assoc *assoc);

    /* --- Since SDK 1.0: requests and replies, during a handler only. */

    /* Returns the command set of the request. Borrowed. */
    const cairn_dataset *(*message_command)(const cairn_message *message);
    /*
     * Returns the request's data set, or NULL when it has none or it could
     * not be parsed (see message_error). For C-STORE this holds only the
     * leading attributes, everything before Pixel Data.
     */
    const cairn_dataset *(*message_dataset)(const cairn_message *message);
    /* Returns why the data set could not be parsed, or NULL when it was. */
    const char *(*message_error)(const cairn_message *message);
    /* Returns the transfer syntax UID the data set arrived in. */
    const char *(*message_transfer_syntax)(const cairn_message *message);
    /* Returns the SOP Class UID of the command (Affected or Requested). */
    const char *(*message_sop_class)(const cairn_message *message);
    /* Returns the SOP Instance UID of the command (Affected or Requested), or NULL. */
    const char *(*message_sop_instance)(const cairn_message *message);

    /* Sets the response Status. The default is 0x0000. */
    void (*reply_set_status)(cairn_reply *reply, cairn_dimse_status status);
    /* Sets the Error Comment (0000,0902); copied, cut to 64 characters. */
    void (*reply_set_error_comment)(cairn_reply *reply, const char *comment);
    /* Attaches a response data set; the reply takes ownership of dataset. */
    cairn_status (*reply_set_dataset)(cairn_reply *reply, cairn_dataset *dataset);

    /* --- Since SDK 1.0: the archive. */

    /*
     * Archives the instance received by a C-STORE request: makes the file
     * durable, moves it into the storage tree and records it in the index,
     * applying policy to a SOP Instance UID already archived. Returns when
     * the instance is durable or has been dropped; *outcome says which.
     * CAIRN_ERR_NO_SPACE and CAIRN_ERR_IO mean nothing was stored.
     */
    cairn_status (*archive_store)(cairn_assoc *assoc, const cairn_message *request,
                                  cairn_duplicate_policy policy, cairn_store_outcome *outcome);

    /* --- Since SDK 1.0: query and retrieve. */

    /* Runs query on the archive's index; fn gets each row on this thread. */
    cairn_status (*archive_query)(cairn_assoc *assoc, const cairn_index_query *query,
                                  cairn_index_row_fn fn, void *arg);
    /*
     * Sends a response with status at once, before the handler returns: a
     * C-FIND match, or C-MOVE and C-GET progress. The call takes ownership
     * of identifier, which may be NULL. Command fields set with
     * reply_set_command_uint go with it. CAIRN_ERR_IO: the association failed.
     */
    cairn_status (*reply_send_pending)(cairn_reply *reply, cairn_dimse_status status,
                                       cairn_dataset *identifier);
    /* Sets a US field of the response command set, e.g. (0000,1020). */
    cairn_status (*reply_set_command_uint)(cairn_reply *reply, cairn_tag tag, uint32_t value);
    /* Returns non-zero once the peer sent C-CANCEL-RQ for message. Never blocks. */
    int (*message_cancelled)(const cairn_message *message);
    /*
     * Returns the SOP Class Extended Negotiation reply the association
     * accepted for sop_class (the service's own answer), or
     * CAIRN_ERR_NOT_FOUND. *info is owned by the association.
     */
    cairn_status (*assoc_extended_negotiation)(const cairn_assoc *assoc, const char *sop_class,
                                               const uint8_t **info, size_t *length);
    /*
     * Opens an association from origin's called AE title to the remote AE
     * remote_title of the configuration's remotes. For each pair
     * (sop_classes[i], transfer_syntaxes[i]) it proposes the stored
     * transfer syntax and, apart, the uncompressed ones.
     * CAIRN_ERR_NOT_FOUND: remote_title is not configured;
     * CAIRN_ERR_REFUSED: the remote rejected the association or could not
     * be reached; CAIRN_ERR_LIMIT: the outgoing association limit for
     * that remote is reached. On success close *out with outbound_close.
     */
    cairn_status (*outbound_open)(cairn_assoc *origin, const char *remote_title,
                                  const char *const *sop_classes,
                                  const char *const *transfer_syntaxes, size_t count,
                                  cairn_outbound **out);
    /*
     * Sends one archived instance by C-STORE and returns the remote's
     * status in *status. When the remote accepted none of the instance's
     * stored transfer syntax, the host transcodes it to one it accepted,
     * or fails with CAIRN_ERR_UNSUPPORTED when it cannot. The Move
     * Originator fields are sent when move_originator_ae is not NULL.
     */
    cairn_status (*outbound_store)(cairn_outbound *outbound, const cairn_instance_file *file,
                                   const char *sop_class_uid, const char *sop_instance_uid,
                                   const char *move_originator_ae,
                                   uint16_t move_originator_message_id,
                                   cairn_dimse_status *status);
    /* Releases the association and frees outbound. NULL does nothing. */
    void (*outbound_close)(cairn_outbound *outbound);
    /*
     * Sends one archived instance by C-STORE on assoc itself, for C-GET,
     * with the same transcoding rule as outbound_store. The requestor
     * must have taken the SCP role for the SOP class.
     */
    cairn_status (*assoc_store)(cairn_assoc *assoc, const cairn_instance_file *file,
                                const char *sop_class_uid, const char *sop_instance_uid,
                                cairn_dimse_status *status);

    /* --- Since SDK 1.0: query and retrieve, continued. */

    /*
     * Sets tag to a sequence without items, replacing any element with
     * that tag: how a C-FIND response returns a requested sequence key
     * that has no value.
     */
    cairn_status (*dataset_set_empty_sequence)(cairn_dataset *dataset, cairn_tag tag);
    /*
     * Removes a field set with reply_set_command_uint, so that the
     * responses sent after this call leave it out, e.g. Number of
     * Remaining Sub-operations (0000,1020) in a final C-MOVE response.
     * CAIRN_ERR_NOT_FOUND when the field is not set.
     */
    cairn_status (*reply_remove_command_field)(cairn_reply *reply, cairn_tag tag);
    /*
     * Returns non-zero when remote_title is a title of the configuration's
     * remotes, the AEs outbound_open can reach; 0 otherwise or on NULL.
     */
    int (*remote_exists)(const cairn_assoc *assoc, const char *remote_title);

    /* --- Since SDK 1.0: IOCM rejection notes. Only on the association's thread. */

    /*
     * Deletes one archived instance: its index row (the counts of its
     * series, study and patient follow), then its file.
     * CAIRN_ERR_NOT_FOUND when the archive does not hold it.
     */
    cairn_status (*archive_delete_instance)(cairn_assoc *assoc, const char *sop_instance_uid);
    /*
     * Rejects instances with a rejection code, through the index's
     * reject_instances: held ones are hidden from queries and counts at
     * once, the others as they arrive. *marked (when not NULL) receives
     * the number of held instances newly hidden.
     */
    cairn_status (*archive_reject_instances)(cairn_assoc *assoc,
                                             const char *const *sop_instance_uids,
                                             size_t count, const char *code, size_t *marked);

    /* --- Since SDK 1.0: the plugin's configuration section, continued. */

    /*
     * Reads an array or list of strings. An absent key gives *values NULL
     * and *count 0, an empty array a non-NULL *values and *count 0. The
     * array and its strings are owned by the host and live until shutdown.
     * A value of another type is logged with the file, line and key, and
     * returns CAIRN_ERR_CONFIG.
     */
    cairn_status (*config_get_string_list)(const cairn_config *config, const char *key,
                                           const char *const **values, size_t *count);

    /*
     * --- Since SDK 1.0: documents, deferred work and N-EVENT-REPORT, for
     * services that answer at once and report later (Storage Commitment).
     * The archive entries work outside associations too. Before the archive
     * opens and after it closes they return CAIRN_ERR_BUSY.
     */

    /*
     * Stores document (UTF-8 text, e.g. JSON) under id in the index, next
     * to the jobs, replacing any document with that id. Returns once the
     * change is durable. Use an id prefix of the plugin's own, such as
     * "commitment:", so that ids never collide with job IDs.
     */
    cairn_status (*archive_document_put)(const char *id, const char *document);
    /* Removes the document id; CAIRN_ERR_NOT_FOUND when absent. */
    cairn_status (*archive_document_delete)(const char *id);
    /* Calls fn for each document whose id starts with prefix, oldest first. */
    cairn_status (*archive_document_list)(const char *prefix, cairn_job_fn fn, void *arg);
    /* Runs query on the archive's index like archive_query, without an association. */
    cairn_status (*archive_index_query)(const cairn_index_query *query, cairn_index_row_fn fn,
                                        void *arg);
    /*
     * Checks that the file of an archived instance can be opened and read
     * as a PS3.10 file. CAIRN_ERR_NOT_FOUND: the file is missing;
     * CAIRN_ERR_PARSE: it is no readable PS3.10 file; CAIRN_ERR_IO otherwise.
     */
    cairn_status (*archive_file_check)(const cairn_instance_file *file);
    /*
     * Schedules fn(arg, assoc) to run once on the association's thread,
     * right after the response to the request being served has been sent,
     * before the next request is read. One call per request; a second call
     * replaces the first. fn is not called when the response cannot be
     * sent; it then gets assoc NULL, so that it can release arg. During a
     * handler only.
     */
    cairn_status (*assoc_after_response)(cairn_assoc *assoc,
                                         void (*fn)(void *arg, cairn_assoc *assoc), void *arg);
    /*
     * Sends an N-EVENT-REPORT-RQ on assoc (on its accepted presentation
     * context for sop_class) with event_info as the Event Information, and
     * waits for the N-EVENT-REPORT-RSP, whose Status goes to *status.
     * Only on the association's thread, outside handlers or in a function
     * given to assoc_after_response. CAIRN_ERR_UNSUPPORTED: no accepted
     * context for sop_class; CAIRN_ERR_CANCELLED: the peer requested a
     * release first, which was granted, so the association has ended;
     * CAIRN_ERR_IO or CAIRN_ERR_TIMEOUT: the association failed.
     */
    cairn_status (*assoc_event_report)(cairn_assoc *assoc, const char *sop_class,
                                       const char *sop_instance, uint16_t event_type_id,
                                       const cairn_dataset *event_info,
                                       cairn_dimse_status *status);
    /*
     * Opens an association from calling_ae to the configured remote
     * remote_title that proposes sop_class with explicit and implicit VR
     * little endian and an SCP/SCU Role Selection item in which the
     * archive takes the SCP role only, sends one N-EVENT-REPORT-RQ as
     * assoc_event_report does, and releases the association.
     * CAIRN_ERR_NOT_FOUND: no such remote; CAIRN_ERR_REFUSED: rejected,
     * unreachable, or the context or role was not accepted; CAIRN_ERR_LIMIT:
     * every association slot of the remote stayed busy.
     */
    cairn_status (*remote_event_report)(const char *calling_ae, const char *remote_title,
                                        const char *sop_class, const char *sop_instance,
                                        uint16_t event_type_id,
                                        const cairn_dataset *event_info,
                                        cairn_dimse_status *status);

    /*
     * --- Since SDK 1.0: the data router. Entries for services that keep
     * state in the index (MPPS), send their own DIMSE messages to remote
     * AEs and follow what the archive stores. The archive entries return
     * CAIRN_ERR_BUSY before the archive opens and after it closes, and
     * CAIRN_ERR_UNSUPPORTED when the index back end lacks the op.
     */

    /*
     * Sets the Attribute Identifier List (0000,1005) of the response, the
     * attributes a failure status such as 0106 or 0120 is about (PS3.7
     * C.4). At most 32 tags, copied; count 0 removes the list.
     */
    cairn_status (*reply_set_attribute_list)(cairn_reply *reply, const cairn_tag *tags,
                                             size_t count);
    /*
     * Encodes dataset in explicit VR little endian without File Meta
     * Information. *bytes is allocated; free it with free.
     */
    cairn_status (*dataset_encode)(const cairn_dataset *dataset, uint8_t **bytes,
                                   size_t *length);
    /* Parses bytes made by dataset_encode into a new data set the caller owns. */
    cairn_status (*dataset_decode)(const uint8_t *bytes, size_t length,
                                   cairn_dataset **dataset);
    /*
     * Makes the host call fn after each instance that archive_store
     * recorded in the index as new or as a replacement, once the index
     * change is durable. fn runs on the storing association's thread, so
     * it must return quickly. Only during init.
     */
    cairn_status (*subscribe_instance_stored)(cairn_plugin *self, cairn_instance_stored_fn fn,
                                              void *arg);

    /* The index's mpps_put, mpps_get and mpps_list (see cairn_index_ops). */
    cairn_status (*archive_mpps_put)(const cairn_mpps_step *step, int create);
    cairn_status (*archive_mpps_get)(const char *sop_instance_uid, cairn_mpps_fn fn, void *arg);
    cairn_status (*archive_mpps_list)(const cairn_mpps_filter *filter, cairn_mpps_fn fn,
                                      void *arg);
    /* The index's outbox_add, outbox_update, outbox_delete and outbox_list. */
    cairn_status (*archive_outbox_add)(const cairn_outbox_message *message, uint64_t *id);
    cairn_status (*archive_outbox_update)(uint64_t id, uint32_t attempts,
                                          int64_t next_attempt_at_us, const char *last_error);
    cairn_status (*archive_outbox_delete)(uint64_t id);
    cairn_status (*archive_outbox_list)(const char *kind_prefix, cairn_outbox_fn fn, void *arg);

    /*
     * Opens an association from calling_ae to the configured remote
     * remote_title proposing each of the count SOP classes, as SCU, with
     * explicit and implicit VR little endian. Works outside associations.
     * Returns as outbound_open; the association is refused when the
     * remote accepts none of the classes. Close *out with outbound_close.
     */
    cairn_status (*remote_open)(const char *calling_ae, const char *remote_title,
                                const char *const *sop_classes, size_t count,
                                cairn_outbound **out);
    /* Returns non-zero when the remote accepted a presentation context for sop_class. */
    int (*outbound_accepts)(const cairn_outbound *outbound, const char *sop_class);
    /*
     * Sends one request with dataset as its data set and waits for the
     * response, whose Status goes to *status (a data set in the response
     * is read and dropped). op is CAIRN_OP_N_CREATE, CAIRN_OP_N_SET or
     * CAIRN_OP_C_STORE. sop_instance is the Affected SOP Instance UID
     * (Requested for N-SET); NULL leaves it out of an N-CREATE.
     * CAIRN_ERR_UNSUPPORTED: no accepted context for sop_class, nothing
     * sent. CAIRN_ERR_IO, CAIRN_ERR_TIMEOUT, CAIRN_ERR_PARSE: the
     * association failed and only outbound_close remains.
     */
    cairn_status (*outbound_request)(cairn_outbound *outbound, cairn_dimse_op op,
                                     const char *sop_class, const char *sop_instance,
                                     const cairn_dataset *dataset, cairn_dimse_status *status);

    /* --- Since SDK 1.0: lists of groups, and reports to the Storage Commitment SCU. */

    /*
     * Reads a list of groups, ( { ... }, ... ), such as per-AE settings:
     * *groups receives one handle per group, usable with every config_*
     * entry, config_check_keys and config_get_groups included. An absent
     * key gives *groups NULL and *count 0. The handles are owned by the
     * host and live until shutdown. A value of another type is logged with
     * the file, line and key, and returns CAIRN_ERR_CONFIG.
     */
    cairn_status (*config_get_groups)(const cairn_config *config, const char *key,
                                      const cairn_config *const **groups, size_t *count);
    /*
     * Applies a Storage Commitment N-EVENT-REPORT-RQ that a remote sent to
     * the archive as Storage Commitment SCU, the answer to an N-ACTION the
     * archive sent to a backup archive. The host records the commitment of
     * each referenced instance in the index and sets the Status of reply
     * (0000 when applied; 0110 for an unknown Transaction UID, 0113 for
     * an unknown Event Type ID, 0115 for invalid Event Information, each
     * with an Error Comment). During a handler only.
     */
    cairn_status (*commitment_report_received)(cairn_assoc *assoc, const cairn_message *request,
                                               cairn_reply *reply);

    /*
     * --- Since SDK 1.0: leases, for work kept in the index that several
     * cairnd nodes on one database could each do, such as draining the
     * outbox. Take the lease of a key of the plugin's own (e.g.
     * "router:outbox") before each pass over the work, skip the pass on
     * CAIRN_ERR_BUSY (another node holds it), and renew it at least every
     * third of archive_lease_ms() while the work goes on, so that of the
     * nodes exactly one does the work and another takes over within one
     * lease length after that node stops.
     */

    /*
     * Takes or renews the lease of key for this node (node.name) for
     * ttl_ms milliseconds, 0 meaning node.lease_seconds. CAIRN_ERR_BUSY
     * while another node holds the lease, and before the archive opens;
     * CAIRN_ERR_UNSUPPORTED when the index back end has no leases, so this
     * node is the only one and may go ahead.
     */
    cairn_status (*archive_lease_acquire)(const char *key, uint32_t ttl_ms);
    /* Gives up the lease of key when this node holds it; CAIRN_ERR_NOT_FOUND otherwise. */
    cairn_status (*archive_lease_release)(const char *key);
    /* Returns node.lease_seconds in milliseconds. */
    uint32_t (*archive_lease_ms)(void);

    /* --- Since SDK 1.0: checks of settings at load. */

    /*
     * Logs an error about a setting as "FILE:LINE: PATH.KEY: message".
     * The line is that of key when config has that key, and the group's
     * otherwise. A NULL key reports about the whole group. Returns
     * CAIRN_ERR_CONFIG, so init can return it directly.
     */
    cairn_status (*config_error)(const cairn_config *config, const char *key, const char *fmt,
                                 ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* Returns non-zero when config has key and its value is a string; logs nothing. */
    int (*config_is_string)(const cairn_config *config, const char *key);
    /*
     * Returns non-zero when title is the title of one of the remotes in the
     * configuration the plugin was loaded with, 0 otherwise or on NULL.
     * Unlike remote_exists it needs no association, so init can check the
     * remotes its settings name. A reload may remove a remote later.
     */
    int (*config_remote_exists)(const cairn_config *config, const char *title);
};

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_host_api) == 8 + 89 * 8, "cairn_host_api layout is ABI");
#endif

CAIRN_EXTERN_C_END

#endif
