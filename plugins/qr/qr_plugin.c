/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query/Retrieve SCP (PS3.4 annex C): C-FIND, C-MOVE and C-GET for the
 * Patient Root, Study Root and Patient/Study Only information models.
 * This file reads the settings, answers SOP Class Extended Negotiation and
 * registers one service per DIMSE operation.
 *
 * Settings (plugins.qr):
 *   max_matches = 10000         C-FIND matches or retrieved instances per request
 *   pn_case_sensitive = false   whether person names match case-sensitively
 *   pending_interval_ms = 0     least time between C-MOVE and C-GET pending
 *                               responses; 0 sends one after every sub-operation
 */
#include <string.h>

#include "qr.h"

static qr_state plugin_state;

/* Longest SOP Class Extended Negotiation answer: C-FIND defines five bytes. */
#define EXTENDED_NEGOTIATION_MAX 5

/*
 * Answers SOP Class Extended Negotiation (PS3.4 C.5.1 to C.5.3) with as
 * many bytes as the peer sent, at most five. C-FIND accepts relational
 * queries (byte 1) and combined date-time matching (byte 2) and declines
 * fuzzy semantic person name matching, timezone adjustment and enhanced
 * multi-frame conversion. C-MOVE and C-GET accept relational retrieval
 * (byte 1) only.
 */
static cairn_status negotiate_extended(void *service_state, const char *sop_class_uid,
                                       const uint8_t *request, size_t request_len,
                                       uint8_t *response, size_t *response_len)
{
    qr_operation operation;
    size_t length = request_len;

    (void)service_state;
    if (qr_model_find(sop_class_uid, &operation) == NULL) {
        *response_len = 0;
        return CAIRN_OK;
    }

    if (length > EXTENDED_NEGOTIATION_MAX)
        length = EXTENDED_NEGOTIATION_MAX;
    if (length > *response_len)
        length = *response_len;

    memset(response, 0, length);
    if (length >= 1)
        response[0] = request[0] == 1;
    if (length >= 2 && operation == QR_OP_FIND)
        response[1] = request[1] == 1;
    *response_len = length;
    return CAIRN_OK;
}

static cairn_status read_settings(qr_state *st, const cairn_config *config)
{
    static const char *const allowed[] = {"max_matches", "pn_case_sensitive",
                                          "pending_interval_ms"};
    int64_t max_matches;

    if (st->api->config_check_keys(config, allowed, sizeof allowed / sizeof allowed[0]) !=
        CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (st->api->config_get_int(config, "max_matches", 10000, 1, 100000000, &max_matches) !=
        CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (st->api->config_get_bool(config, "pn_case_sensitive", 0, &st->pn_case_sensitive) !=
        CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    if (st->api->config_get_int(config, "pending_interval_ms", 0, 0, 600000,
                                &st->pending_interval_ms) != CAIRN_OK)
        return CAIRN_ERR_CONFIG;
    st->max_matches = (uint64_t)max_matches;
    return CAIRN_OK;
}

/* Registers a service for the three models' SOP classes of one operation. */
static cairn_status register_operation(qr_state *st, const char *name,
                                       const char *const *sop_classes, cairn_dimse_handler find,
                                       cairn_dimse_handler move, cairn_dimse_handler get)
{
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP,
        .name = name,
        .sop_classes = sop_classes,
        .sop_class_count = 3,
        .state = st,
        .on_c_find = find,
        .on_c_move = move,
        .on_c_get = get,
        .negotiate_extended = negotiate_extended,
    };

    return st->api->register_service(st->self, &service);
}

static cairn_status qr_init(cairn_plugin *self, const cairn_host_api *api,
                            const cairn_config *config, void **state)
{
    qr_state *st = &plugin_state;
    cairn_status rc;

    st->api = api;
    st->self = self;
    *state = st;

    if (!CAIRN_HOST_HAS(api, remote_exists)) {
        api->log(self, CAIRN_LOG_ERROR, "the host lacks the query and retrieve entries of "
                 "SDK 1.0; install a cairnd as recent as this plugin");
        return CAIRN_ERR_ABI;
    }
    rc = read_settings(st, config);
    if (rc != CAIRN_OK)
        return rc;

    rc = register_operation(st, "qr-find", qr_find_classes, qr_on_c_find, NULL, NULL);
    if (rc == CAIRN_OK)
        rc = register_operation(st, "qr-move", qr_move_classes, NULL, qr_on_c_move, NULL);
    if (rc == CAIRN_OK)
        rc = register_operation(st, "qr-get", qr_get_classes, NULL, NULL, qr_on_c_get);
    return rc;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "qr",
    "1.0.0",
    "Query/Retrieve SCP: C-FIND, C-MOVE and C-GET on the archive",
    qr_init,
    NULL,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
