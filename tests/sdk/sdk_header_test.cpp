/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Uses the SDK from C++11 the way a plugin does: the umbrella header,
 * the descriptor header macro, the exported entry, CAIRN_HOST_HAS and cairn_strerror. Exits
 * non-zero on the first check that fails.
 */
#include <cstdio>
#include <cstring>

#include <cairn/cairn.h>

static cairn_status test_init(cairn_plugin *self, const cairn_host_api *api,
                              const cairn_config *config, void **state)
{
    (void)self;
    (void)api;
    (void)config;
    (void)state;
    return CAIRN_OK;
}

static const cairn_plugin_descriptor descriptor = {
    CAIRN_PLUGIN_DESCRIPTOR_HEADER, "sdk-test", "1.0.0", "SDK header test", test_init, NULL,
};

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void);

CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor *cairn_plugin_entry(void)
{
    return &descriptor;
}

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                \
            return 1;                                                \
        }                                                            \
    } while (0)

int main(void)
{
    cairn_host_api api;

    std::memset(&api, 0, sizeof api);
    api.struct_size = (uint32_t)offsetof(cairn_host_api, dataset_create);

    CHECK(cairn_plugin_entry() == &descriptor);
    CHECK(descriptor.struct_size == sizeof(cairn_plugin_descriptor));
    CHECK(descriptor.abi_major == CAIRN_SDK_ABI_MAJOR);
    CHECK(descriptor.abi_minor == CAIRN_SDK_ABI_MINOR);
    CHECK(CAIRN_HOST_HAS(&api, register_index));
    CHECK(!CAIRN_HOST_HAS(&api, dataset_create));
    CHECK(CAIRN_TAG(0x0010, 0x0020) == 0x00100020u);
    CHECK(CAIRN_TAG_GROUP(CAIRN_TAG_PIXEL_DATA) == 0x7FE0);
    CHECK(CAIRN_VR_PN == (('P' << 8) | 'N'));
    CHECK(std::strcmp(cairn_strerror(CAIRN_ERR_ABI), "incompatible plugin ABI") == 0);
    CHECK(std::strcmp(cairn_strerror((cairn_status)999), "unknown status") == 0);
    CHECK(sizeof(cairn_status) == 4 && sizeof(cairn_vr) == 4 && sizeof(cairn_dimse_op) == 4);
    return 0;
}
