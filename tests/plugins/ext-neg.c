/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plugin for the negotiation tests (tests/unit/test_assoc_negotiate.c).
 * It registers one service for a private SOP class in both roles, limited
 * to Explicit VR Little Endian, with both extended negotiation callbacks:
 *
 * - negotiate_extended returns the request bytes in reverse order, so a
 *   test can check that the callback ran with the request bytes.
 * - negotiate_common_extended has no answer on the wire. It appends one
 *   line per call to the file that the environment variable
 *   CAIRN_TEST_COMMON_EXT_NEG_FILE names (nothing when it is unset):
 *   "SOP_CLASS SERVICE_CLASS RELATED_COUNT RELATED..." separated by spaces.
 *   The test runs in the process that loads the plugin, so it sets the
 *   variable and reads the file back.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairn/cairn.h>

#define EXT_NEG_SOP_CLASS "1.2.826.0.1.3680043.9.7433.99.1"
#define EXPLICIT_VR_LITTLE_ENDIAN "1.2.840.10008.1.2.1"
#define RECORD_FILE_VARIABLE "CAIRN_TEST_COMMON_EXT_NEG_FILE"

static cairn_status reverse_request(void *service_state, const char *sop_class_uid,
                                    const uint8_t *request, size_t request_len,
                                    uint8_t *response, size_t *response_len)
{
    (void)service_state;
    (void)sop_class_uid;

    if (request_len > *response_len)
        return CAIRN_ERR_INVALID_ARGUMENT;

    for (size_t i = 0; i < request_len; i++)
        response[i] = request[request_len - 1 - i];
    *response_len = request_len;
    return CAIRN_OK;
}

static void record_common(void *service_state, const char *sop_class_uid,
                          const char *service_class_uid, const char *const *related_sop_classes,
                          size_t related_count)
{
    const char *path = getenv(RECORD_FILE_VARIABLE);
    FILE *file;

    (void)service_state;
    if (path == NULL || path[0] == '\0')
        return;

    file = fopen(path, "a");
    if (file == NULL)
        return;
    fprintf(file, "%s %s %zu", sop_class_uid, service_class_uid, related_count);
    for (size_t i = 0; i < related_count; i++)
        fprintf(file, " %s", related_sop_classes[i]);
    fputc('\n', file);
    fclose(file);
}

static cairn_status ext_neg_init(cairn_plugin *self, const cairn_host_api *api,
                                 const cairn_config *config, void **state_out)
{
    static const char *const sop_classes[] = {EXT_NEG_SOP_CLASS};
    static const char *const transfer_syntaxes[] = {EXPLICIT_VR_LITTLE_ENDIAN};
    cairn_service service = {
        .struct_size = sizeof service,
        .roles = CAIRN_ROLE_SCP | CAIRN_ROLE_SCU,
        .name = "test-ext-neg",
        .sop_classes = sop_classes,
        .sop_class_count = 1,
        .transfer_syntaxes = transfer_syntaxes,
        .transfer_syntax_count = 1,
        .negotiate_extended = reverse_request,
        .negotiate_common_extended = record_common,
    };
    cairn_status status;

    status = api->config_check_keys(config, NULL, 0);
    if (status != CAIRN_OK)
        return status;

    *state_out = NULL;
    return api->register_service(self, &service);
}

static void ext_neg_shutdown(void *state)
{
    (void)state;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER,
    "ext-neg",
    "1.0.0",
    "Test plugin with both extended negotiation callbacks",
    ext_neg_init,
    ext_neg_shutdown,
};

/* plugin.h declares no prototype; this one keeps -Wmissing-prototypes quiet. */
CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}
