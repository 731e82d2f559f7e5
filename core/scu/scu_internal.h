/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations shared by the files of core/scu: the archived file opened
 * for sending, the C-STORE exchange common to outgoing associations
 * (C-MOVE) and to the requesting association (C-GET), and the per-remote
 * association slots.
 */
#ifndef CAIRN_SCU_INTERNAL_H
#define CAIRN_SCU_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <cairn/cairn.h>

#include "dcm/dcm.h"
#include "dimse/dimse_host.h"
#include "ul/ul.h"
#include "util/log.h"

/* Bytes of a data set read from disk and passed to ul_write_pdv at once. */
#define SCU_CHUNK_BYTES (256u * 1024u)

/* Seconds outbound_open waits for a free slot of a remote's limit. */
#define SCU_SLOT_WAIT_SECONDS 5

/* An archived PS3.10 file opened for sending. */
typedef struct scu_source {
    int fd;
    uint64_t dataset_offset; /* first byte after the File Meta Information */
    uint64_t size;           /* bytes of the whole file */
    const dcm_ts *ts;        /* transfer syntax of the data set bytes */
    char path[PATH_MAX];
} scu_source;

/*
 * Opens storage_path/relative_path (relative_path comes from the index and
 * must not be absolute or contain ".." components) and reads its File Meta
 * Information. CAIRN_ERR_NOT_FOUND when the file is missing,
 * CAIRN_ERR_PARSE when it is not a PS3.10 file with a known transfer
 * syntax, CAIRN_ERR_INVALID_ARGUMENT for a bad path.
 */
cairn_status scu_source_open(const char *storage_path, const char *relative_path,
                             scu_source *src, const log_ctx *log);
/* Same for an absolute path. */
cairn_status scu_source_open_path(const char *path, scu_source *src, const log_ctx *log);
/* Closes the file; a source whose open failed, or already closed, is fine. */
void scu_source_close(scu_source *src);

/* The association a C-STORE-RQ goes out on, seen by scu_send_store. */
typedef struct scu_channel {
    struct ul_assoc *ul;
    const log_ctx *log;
    const char *storage_path;     /* for temporary files in <storage>/tmp/ */
    unsigned response_timeout_ms; /* wait for each PDU of the C-STORE-RSP; 0: no limit */
    cairn_message *serving;       /* C-GET: the request a C-CANCEL-RQ marks; else NULL */
} scu_channel;

/* One C-STORE sub-operation. */
typedef struct scu_store_request {
    uint8_t pctx_id;
    const dcm_ts *pctx_ts; /* accepted transfer syntax of pctx_id */
    const char *sop_class_uid;
    const char *sop_instance_uid;
    uint16_t message_id;
    const char *move_originator_ae; /* NULL: the Move Originator fields are left out */
    uint16_t move_originator_message_id;
} scu_store_request;

/*
 * Sends one C-STORE-RQ with the data set of src in request->pctx_ts,
 * decompressing or re-encoding it first when src->ts differs, and waits
 * for the C-STORE-RSP. Returns CAIRN_OK with the response's Status in
 * *status. CAIRN_ERR_UNSUPPORTED means the data set cannot be converted:
 * nothing was sent and the association is still usable. CAIRN_ERR_IO,
 * CAIRN_ERR_TIMEOUT or CAIRN_ERR_PARSE mean the association failed, so it
 * must not carry more messages. It was aborted when the failure was ours
 * or a protocol error.
 */
cairn_status scu_send_store(const scu_channel *channel, const scu_store_request *request,
                            const scu_source *src, cairn_dimse_status *status);

/*
 * Writes the data set bytes of src (from its data set offset to the end)
 * as the data set of one message on pctx_id, in chunks of SCU_CHUNK_BYTES.
 * Returns UL_OK or the ul_write_pdv failure; -1 (UL_ERROR) on a read error.
 */
int scu_stream_file(struct ul_assoc *ul, uint8_t pctx_id, const scu_source *src,
                    const log_ctx *log);

/* Writes ds encoded in ts as the data set of one message on pctx_id. */
int scu_stream_dataset(struct ul_assoc *ul, uint8_t pctx_id, const dcm_dataset *ds,
                       const dcm_ts *ts, const log_ctx *log);

/* Returns true for the four transfer syntaxes without encapsulated pixel data. */
bool scu_ts_is_uncompressed(const dcm_ts *ts);

/*
 * Picks the accepted presentation context of ul for sop_class to send a
 * data set stored in stored_ts. A context whose accepted transfer syntax
 * is stored_ts comes first. Otherwise one with an uncompressed syntax is
 * taken: explicit VR little endian, then implicit, then the others. Returns
 * the context ID with *ts set, or 0 when the class has no usable context.
 */
uint8_t scu_choose_context(const struct ul_assoc *ul, const char *sop_class,
                           const dcm_ts *stored_ts, const dcm_ts **ts);

/*
 * Adds to rq the presentation contexts for sending count instances of the
 * given SOP classes and stored transfer syntaxes. Each distinct (class,
 * syntax) pair gets a context proposing the stored syntax. Each distinct
 * class gets one proposing explicit then implicit VR little endian. Beyond
 * UL_PCTX_MAX contexts, the classes and pairs with most instances win and
 * a warning names how many were left out. Returns the number of contexts
 * added (0 when nothing could be proposed), or -1 when out of memory.
 */
int scu_propose_contexts(ul_assoc_rq *rq, const char *const *sop_classes,
                         const char *const *transfer_syntaxes, size_t count,
                         const log_ctx *log);

/* An association the core opened to a remote AE (the SDK's cairn_outbound). */
struct cairn_outbound {
    struct ul_assoc *ul;
    log_ctx log;
    char remote_title[UL_AE_TITLE_MAX + 1];
    char storage_path[PATH_MAX];
    unsigned response_timeout_ms;
    uint16_t last_message_id;
    bool failed; /* the association broke; only close remains */
};

/* Describes the source and reason of an A-ASSOCIATE-RJ in a few words. */
const char *scu_reject_reason(const ul_assoc_rj *rj);

/*
 * Takes one of the max_associations slots of remote title, waiting up to
 * SCU_SLOT_WAIT_SECONDS for one to free. Returns 0, or -1 when none freed.
 */
int scu_slot_acquire(const char *title, int max_associations);
/* Gives back a slot taken by scu_slot_acquire. */
void scu_slot_release(const char *title);

#endif
