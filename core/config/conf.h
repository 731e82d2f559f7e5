/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's configuration: conf_load() reads one libconfig file, checks
 * every key the core owns and returns plain C structs. Plugin settings stay
 * in libconfig and are read through conf_section, which the host wraps in
 * the SDK's opaque config handle. Every error message has the form
 * "FILE:LINE: PATH.KEY: message", for example
 * "cairn.conf:12: network.max_associations: value 0 is out of range 1..4096".
 *
 * Threading: conf_load() and conf_destroy() run on one thread. A loaded
 * cairn_conf is read-only, so any thread may read it and call the lookup and
 * conf_section_* functions until conf_destroy().
 */
#ifndef CAIRN_CONF_H
#define CAIRN_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* Settings of one plugin: a libconfig group, or nothing. Opaque. */
typedef struct conf_section conf_section;

struct config_setting_t;

/* Handling of the User Identity item of an A-ASSOCIATE-RQ, per AE. */
enum conf_user_identity {
    CONF_USER_IDENTITY_IGNORE = 0,  /* never look at it */
    CONF_USER_IDENTITY_ACCEPT = 1,  /* check it when present */
    CONF_USER_IDENTITY_REQUIRE = 2  /* reject associations without one */
};

/* Limits and timeouts shared by every AE (the `network` group). */
typedef struct conf_network {
    int max_associations;  /* simultaneous inbound associations, all AEs */
    int max_wait;          /* seconds a delayed association waits for a worker */
    int max_pdu_receive;   /* bytes, our Maximum Length Received */
    int max_pdu_send;      /* bytes, cap on sent PDUs; 0 = the peer's maximum */
    int artim_timeout;     /* seconds */
    int dimse_timeout;     /* seconds to wait for the next PDU of a message */
    int idle_timeout;      /* seconds to wait for a new message */
    int connect_timeout;   /* seconds, outgoing TCP connections */
    int shutdown_timeout;  /* seconds in-flight messages get at SIGTERM */
    char **transfer_syntaxes;  /* UIDs, most preferred first */
    size_t n_transfer_syntaxes;
} conf_network;

/* One member of the `plugins` group. */
typedef struct conf_plugin {
    char *name;              /* the group's name, e.g. "index-sqlite" */
    bool enabled;            /* false: configured but not loaded */
    char *file;              /* absolute path from `file`, or NULL for
                                <plugin_directory>/<name>.so */
    conf_section *settings;  /* the whole group, `enabled` and `file` too */
    int line;                /* line of the group in its file */
} conf_plugin;

/* One application entity we accept associations for (an `aes` entry). */
typedef struct conf_ae {
    char *title;                /* 1..16 characters, leading and trailing
                                   spaces removed */
    int port;                   /* 1..65535 */
    char *bind;                 /* IPv4 or IPv6 literal, or "localhost" */
    bool enabled;
    char **plugins;             /* names, each one a member of `plugins` */
    size_t n_plugins;
    char **accept_callers;      /* calling AE titles, trimmed; NULL when
                                   any calling AE title is accepted */
    size_t n_accept_callers;
    char **transfer_syntaxes;   /* UIDs, most preferred first; a copy of
                                   network.transfer_syntaxes when the AE has
                                   no list of its own */
    size_t n_transfer_syntaxes;
    enum conf_user_identity user_identity;
    char **users;               /* accepted user names; NULL = any user */
    size_t n_users;
    int line;                   /* line of the AE's group in its file */
} conf_ae;

/*
 * Simultaneous outgoing associations of the jobs to one remote, by kind of
 * work (the `limits` group of a `remotes` entry). max_associations still
 * caps them all together.
 */
typedef struct conf_remote_limits {
    int loads;   /* C-MOVE retrieves, 1..64, default 2 */
    int sends;   /* C-STORE sends, 1..64, default 2 */
    int queries; /* C-FIND queries, 1..64, default 4 */
} conf_remote_limits;

/*
 * Storage Commitment the archive requests of a remote after sending to it
 * (the `commitment` group of a `remotes` entry): the backup archive role.
 */
typedef struct conf_remote_commitment {
    bool enabled;           /* true when the group is present and not disabled */
    char *calling_ae;       /* our AE that requests and receives reports; NULL: the send job's */
    int report_timeout;     /* seconds to wait for the N-EVENT-REPORT before a new request */
    int max_attempts;       /* N-ACTION requests per instance before it is marked failed */
    int retry_delay;        /* seconds after the first failed N-ACTION; doubles each time */
    int retry_delay_max;    /* seconds, the cap of retry_delay's doubling */
    int same_association_wait_ms; /* wait for a report on the N-ACTION association */
} conf_remote_commitment;

/* A peer we open associations to (a `remotes` entry). */
typedef struct conf_remote {
    char *title;  /* trimmed */
    char *host;   /* name or address, non-empty */
    int port;     /* 1..65535 */
    int max_associations; /* simultaneous outgoing associations, 1..64, default 4 */
    conf_remote_limits limits;
    conf_remote_commitment commitment;
    int line;
} conf_remote;

/* The HTTP control API (the `api` group). */
typedef struct conf_api {
    bool enabled;            /* default true */
    char *bind;              /* IPv4 or IPv6 literal, or "localhost"; default 127.0.0.1 */
    int port;                /* 1..65535, default 8104 */
    char *token;             /* bearer token every request must carry, or NULL */
    char *tls_certificate;   /* absolute path of a PEM file, or NULL for plain HTTP */
    char *tls_key;           /* absolute path of a PEM file; set exactly when the certificate is */
    int line;                /* line of the group, 0 when the file has none */
} conf_api;

/* Longest node name, and the default lease length in seconds (the `node` group). */
#define CONF_NODE_NAME_MAX 64
#define CONF_NODE_LEASE_DEFAULT 30

/* This daemon among several sharing one index and one storage folder (the `node` group). */
typedef struct conf_node {
    char *name;        /* node.name, or the host name plus a hash of the file's path */
    int lease_seconds; /* how long a lease lasts without renewal, 2..3600 */
} conf_node;

/* A loaded configuration. Every string and array is owned by it. */
typedef struct cairn_conf {
    char *path;               /* the path given to conf_load() */
    char *dir;                /* absolute folder of that file */
    int log_level;            /* an enum log_level value (util/log.h) */
    char *storage_path;       /* absolute */
    char *storage_sync;       /* "file" (the default) or "batch" */
    char *index_plugin;       /* an enabled member of `plugins` */
    conf_network network;
    int max_sequence_depth;   /* dataset nesting limit, 1..64 */
    char *plugin_directory;   /* absolute */
    conf_plugin *plugins;     /* in file order */
    size_t n_plugins;
    conf_ae *aes;             /* in file order, at least one */
    size_t n_aes;
    conf_remote *remotes;     /* in file order, maybe none */
    size_t n_remotes;
    conf_api api;
    conf_node node;
    struct conf_internal *internal;  /* the parsed libconfig tree */
} cairn_conf;

/*
 * Loads and checks the file at path. On success stores a new configuration
 * in *out (free it with conf_destroy()) and returns 0. On failure stores
 * NULL in *out, writes one line "FILE:LINE: KEY: message" to err (truncated
 * to errlen, always NUL-terminated when errlen > 0) and returns -1.
 * @include paths in the file are relative to the file's folder.
 */
int conf_load(const char *path, cairn_conf **out, char *err, size_t errlen);

/* Frees conf and everything it owns. NULL is allowed. */
void conf_destroy(cairn_conf *conf);

/* Returns the remote with this exact title, or NULL. */
const conf_remote *conf_find_remote(const cairn_conf *conf, const char *title);

/* Returns the plugin entry with this exact name, or NULL. */
const conf_plugin *conf_find_plugin(const cairn_conf *conf, const char *name);

/* Returns the AE with this exact (trimmed) title, or NULL. */
const conf_ae *conf_find_ae(const cairn_conf *conf, const char *title);

/*
 * Returns path made absolute against the configuration file's folder, with
 * "." and ".." components and repeated slashes removed (lexically, without
 * touching the file system). An absolute path is only normalized. The
 * caller frees the result with free(). Returns NULL when path is NULL or
 * empty, or when memory runs out.
 */
char *conf_resolve_path(const cairn_conf *conf, const char *path);

/*
 * Plugin settings. All getters look up a direct member `key` of the
 * section. An absent key (or a section without a setting) yields the
 * default and returns 0. A key of the wrong type, or an integer out of
 * [min, max], returns -1 with "FILE:LINE: PATH.KEY: message" in err; the
 * line is the key's. Strings returned point into the configuration and
 * stay valid until conf_destroy() (or conf_section_destroy() for a section
 * made with conf_section_create()).
 */
int conf_section_get_string(const conf_section *section, const char *key,
                            const char *def, const char **out, char *err,
                            size_t errlen);
int conf_section_get_int(const conf_section *section, const char *key,
                         long long def, long long min, long long max,
                         long long *out, char *err, size_t errlen);
int conf_section_get_bool(const conf_section *section, const char *key,
                          bool def, bool *out, char *err, size_t errlen);

/*
 * Reads an array or list of strings. An absent key yields *out = NULL and
 * *n = 0, an empty array a non-NULL *out and *n = 0. The returned array is
 * owned by the section; it stays valid, like the strings, for the
 * section's lifetime.
 */
int conf_section_get_string_list(const conf_section *section, const char *key,
                                 const char ***out, size_t *n, char *err,
                                 size_t errlen);

/*
 * Reads a list of groups, ( { ... }, ... ): *out receives one section per
 * group (its path is PATH.KEY[i]), owned by section, so asking again for
 * the same key returns the same array. An absent key yields *out = NULL
 * and *n = 0. When extra is not NULL, *extra points at a slot kept with the
 * array for the caller's own use (NULL at first), which the section
 * frees with free().
 */
int conf_section_get_groups(const conf_section *section, const char *key,
                            conf_section *const **out, size_t *n, void ***extra, char *err,
                            size_t errlen);

/*
 * Fails with "unknown key" on the first member whose name is not in
 * allowed[0..n_allowed). The reserved `enabled` and `file` are always
 * allowed. Returns 0 when every key is known.
 */
int conf_section_check_keys(const conf_section *section,
                            const char *const *allowed, size_t n_allowed,
                            char *err, size_t errlen);

/*
 * Writes "FILE:LINE: PATH.KEY: message" to err, with the line of key when
 * the section has that key and the section's line otherwise. key may be
 * NULL for a message about the whole section. Always returns -1, so a
 * plugin can write `return conf_section_format_error(...)`.
 */
int conf_section_format_error(const conf_section *section, const char *key,
                              char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Returns true when the section has key and its value is a string. */
bool conf_section_is_string(const conf_section *section, const char *key);

/* Returns the dotted path of the section, e.g. "plugins.storage". */
const char *conf_section_path(const conf_section *section);

/*
 * Creates a section over setting (a libconfig group, or NULL for a plugin
 * with no settings). file names the configuration file in messages when
 * setting is NULL; path is the dotted path, e.g. "plugins.storage". The
 * section keeps setting but copies file and path. Returns NULL when memory
 * runs out. conf_load() makes one per plugin; the host may make more.
 */
conf_section *conf_section_create(const struct config_setting_t *setting,
                                  const char *file, const char *path);

/* Frees a section made by conf_section_create(). NULL is allowed. */
void conf_section_destroy(conf_section *section);

#endif
