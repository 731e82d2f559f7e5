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
};

#if UINTPTR_MAX == 0xffffffffffffffffu
CAIRN_STATIC_ASSERT(sizeof(cairn_host_api) == 8 + 44 * 8, "cairn_host_api layout is ABI");
#endif

CAIRN_EXTERN_C_END

#endif
