/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outgoing C-STORE path (outbound_open, outbound_store, outbound_close)
 * against a real DCMTK storescp started by each test. Instances from
 * pydicom's test files are copied into a storage folder and sent. The
 * files storescp wrote are checked for their transfer syntax (read by
 * dcmdump and core/dcm) and, after decompression, for the same pixel data
 * as the uncompressed original. storescp runs with +xa
 * (accepts every transfer syntax), with its default (uncompressed only) or
 * with +xi (implicit VR little endian only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/conf.h"
#include "dcm/dcm.h"
#include "dimse/dimse_host.h"
#include "scu/scu_host.h"

#define PYDICOM_FILES "/usr/lib/python3/dist-packages/pydicom/data/test_files"
#define CT_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define MR_STORAGE "1.2.840.10008.5.1.4.1.1.4"
#define SC_STORAGE "1.2.840.10008.5.1.4.1.1.7"
#define TS_IMPLICIT "1.2.840.10008.1.2"
#define TS_EXPLICIT "1.2.840.10008.1.2.1"
#define TS_BIG_ENDIAN "1.2.840.10008.1.2.2"
#define TS_JPEG_BASELINE "1.2.840.10008.1.2.4.50"
#define TS_JPEG_LS_LOSSLESS "1.2.840.10008.1.2.4.80"
#define TS_J2K_LOSSLESS "1.2.840.10008.1.2.4.90"
#define TS_RLE "1.2.840.10008.1.2.5"

/* One archived test instance. */
typedef struct instance {
    const char *file;    /* name under PYDICOM_FILES */
    const char *sop_class;
    const char *stored_ts;
} instance;

typedef struct fixture {
    char base[256];
    char storage[300];
    char received[300];
    char storescp_log[300];
    pid_t storescp;
    int port;
    conf_remote remotes[3];
    cairn_conf conf;
    cairn_assoc origin;
} fixture;

static const instance CT_EXPLICIT = {"CT_small.dcm", CT_STORAGE, TS_EXPLICIT};
static const instance MR_EXPLICIT = {"MR_small.dcm", MR_STORAGE, TS_EXPLICIT};
static const instance MR_BIG_ENDIAN = {"MR_small_bigendian.dcm", MR_STORAGE, TS_BIG_ENDIAN};
static const instance MR_RLE = {"MR_small_RLE.dcm", MR_STORAGE, TS_RLE};
static const instance MR_JPEG_LS = {"MR_small_jpeg_ls_lossless.dcm", MR_STORAGE,
                                    TS_JPEG_LS_LOSSLESS};
static const instance MR_J2K = {"MR_small_jp2klossless.dcm", MR_STORAGE, TS_J2K_LOSSLESS};
static const instance SC_JPEG = {"SC_rgb_jpeg_dcmtk.dcm", SC_STORAGE, TS_JPEG_BASELINE};

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;

    assert_true(in >= 0);
    assert_true(out >= 0);
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
}

static int free_port(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static bool port_listens(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;

    close(fd);
    return ok;
}

/* Starts storescp with one transfer syntax option (NULL: its default) and waits for it. */
static void start_storescp(fixture *fx, const char *ts_option)
{
    char port[16];

    snprintf(port, sizeof port, "%d", fx->port);
    fx->storescp = fork();
    assert_true(fx->storescp >= 0);
    if (fx->storescp == 0) {
        int log = open(fx->storescp_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        if (ts_option != NULL)
            execlp("storescp", "storescp", "-d", "-aet", "STORESCP", "-od", fx->received,
                   ts_option, port, (char *)NULL);
        else
            execlp("storescp", "storescp", "-d", "-aet", "STORESCP", "-od", fx->received, port,
                   (char *)NULL);
        _exit(127);
    }

    /* 10 s at most for storescp to listen. */
    for (int i = 0; i < 200 && !port_listens(fx->port); i++)
        usleep(50000);
    assert_true(port_listens(fx->port));
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char path[400];

    assert_non_null(fx);
    snprintf(fx->base, sizeof fx->base, "/tmp/cairn-scu-XXXXXX");
    assert_non_null(mkdtemp(fx->base));
    snprintf(fx->storage, sizeof fx->storage, "%s/storage", fx->base);
    snprintf(fx->received, sizeof fx->received, "%s/received", fx->base);
    snprintf(fx->storescp_log, sizeof fx->storescp_log, "%s/storescp.log", fx->base);
    assert_int_equal(mkdir(fx->storage, 0755), 0);
    assert_int_equal(mkdir(fx->received, 0755), 0);
    snprintf(path, sizeof path, "%s/tmp", fx->storage);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/in", fx->storage);
    assert_int_equal(mkdir(path, 0755), 0);

    fx->port = free_port();
    fx->remotes[0] = (conf_remote){.title = "STORESCP", .host = "127.0.0.1", .port = fx->port,
                                   .max_associations = 1};
    /* Nothing listens on port 1 of the loopback address. */
    fx->remotes[1] = (conf_remote){.title = "NOBODY", .host = "127.0.0.1", .port = 1,
                                   .max_associations = 4};
    fx->conf.storage_path = fx->storage;
    fx->conf.remotes = fx->remotes;
    fx->conf.n_remotes = 2;
    fx->conf.network.artim_timeout = 10;
    fx->conf.network.dimse_timeout = 10;
    fx->conf.network.idle_timeout = 10;
    fx->conf.network.connect_timeout = 5;
    fx->conf.network.max_pdu_receive = 16384;
    fx->origin.conf = &fx->conf;
    fx->origin.log.assoc_id = 1;
    snprintf(fx->origin.called_ae, sizeof fx->origin.called_ae, "CAIRN");
    fx->storescp = -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[PATH_MAX + 16];

    if (fx->storescp > 0) {
        kill(fx->storescp, SIGTERM);
        waitpid(fx->storescp, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->base);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fx->base);
    free(fx);
    return 0;
}

/* Copies the instance into <storage>/in/ and fills file and its SOP Instance UID. */
static void archive_instance(const fixture *fx, const instance *in, cairn_instance_file *file,
                             char *rel, size_t rel_size, char *uid, size_t uid_size)
{
    char from[PATH_MAX], to[PATH_MAX];
    dcm_dataset *meta = NULL, *ds = NULL;

    snprintf(from, sizeof from, "%s/%s", PYDICOM_FILES, in->file);
    snprintf(rel, rel_size, "in/%s", in->file);
    snprintf(to, sizeof to, "%s/%s", fx->storage, rel);
    copy_file(from, to);

    assert_int_equal(dcm_file_read(to, NULL, &meta, &ds, NULL, NULL), DCM_OK);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0003), 0, uid, uid_size),
                     DCM_OK);
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(ds);

    *file = (cairn_instance_file){.struct_size = sizeof *file, .path = rel,
                                  .transfer_syntax_uid = in->stored_ts};
}

/* Returns the one file storescp wrote since the last call (malloc'd), and checks it is alone. */
static char *take_received_file(const fixture *fx)
{
    DIR *dir = opendir(fx->received);
    struct dirent *e;
    char *found = NULL;
    int count = 0;

    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        count++;
        free(found);
        assert_true(asprintf(&found, "%s/%s", fx->received, e->d_name) > 0);
    }
    closedir(dir);
    assert_int_equal(count, 1);
    return found;
}

/* Pixel Data of a file as core/dcm reads it (little endian order); malloc'd. */
static uint8_t *read_pixel_data(const char *path, uint32_t *len)
{
    dcm_dataset *ds = NULL;
    const dcm_element *el;
    uint8_t *copy;

    assert_int_equal(dcm_file_read(path, NULL, NULL, &ds, NULL, NULL), DCM_OK);
    el = dcm_dataset_find(ds, DCM_TAG(0x7FE0, 0x0010));
    assert_non_null(el);
    assert_non_null(dcm_element_value(el));
    *len = dcm_element_length(el);
    copy = malloc(*len);
    assert_non_null(copy);
    memcpy(copy, dcm_element_value(el), *len);
    dcm_dataset_destroy(ds);
    return copy;
}

/* Checks what storescp wrote: readable by dcmdump, in expected_ts, then removes it. */
static void check_received(const fixture *fx, const char *expected_ts, const char *same_pixels_as)
{
    char *path = take_received_file(fx);
    char cmd[PATH_MAX + 64];
    char uid[65] = "";
    dcm_dataset *meta = NULL, *ds = NULL;

    snprintf(cmd, sizeof cmd, "dcmdump -q +E '%s' > /dev/null", path);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(dcm_file_read(path, NULL, &meta, &ds, NULL, NULL), DCM_OK);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0010), 0, uid, sizeof uid),
                     DCM_OK);
    assert_string_equal(uid, expected_ts);
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(ds);

    if (same_pixels_as != NULL) {
        char original[PATH_MAX];
        uint32_t got_len = 0, want_len = 0;
        uint8_t *got = read_pixel_data(path, &got_len);
        uint8_t *want;

        snprintf(original, sizeof original, "%s/%s", PYDICOM_FILES, same_pixels_as);
        want = read_pixel_data(original, &want_len);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        free(got);
        free(want);
    }
    assert_int_equal(unlink(path), 0);
    free(path);
}

/* Opens an association proposing the n instances, as a C-MOVE would. */
static cairn_outbound *open_for(fixture *fx, const instance *const *list, size_t n)
{
    const char *classes[16], *syntaxes[16];
    cairn_outbound *ob = NULL;

    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        classes[i] = list[i]->sop_class;
        syntaxes[i] = list[i]->stored_ts;
    }
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, n, &ob),
                     CAIRN_OK);
    assert_non_null(ob);
    return ob;
}

/* Sends one instance and returns the host status; *status is the peer's. */
static cairn_status send_instance(fixture *fx, cairn_outbound *ob, const instance *in,
                                  cairn_dimse_status *status)
{
    cairn_instance_file file;
    char rel[256], uid[65];

    archive_instance(fx, in, &file, rel, sizeof rel, uid, sizeof uid);
    *status = 0xFFFF;
    return scu_host_outbound_store(ob, &file, in->sop_class, uid, "MOVESCU", 7, status);
}

static void expect_stored(fixture *fx, cairn_outbound *ob, const instance *in,
                          const char *expected_ts, const char *same_pixels_as)
{
    cairn_dimse_status status;

    assert_int_equal(send_instance(fx, ob, in, &status), CAIRN_OK);
    assert_int_equal(status, CAIRN_DIMSE_SUCCESS);
    check_received(fx, expected_ts, same_pixels_as);
}

static bool log_contains(const fixture *fx, const char *needle)
{
    char cmd[PATH_MAX + 128];

    snprintf(cmd, sizeof cmd, "grep -q -- '%s' '%s'", needle, fx->storescp_log);
    return system(cmd) == 0;
}

static void test_unknown_remote_not_found(void **state)
{
    fixture *fx = *state;
    const char *classes[] = {CT_STORAGE}, *syntaxes[] = {TS_EXPLICIT};
    cairn_outbound *ob = (cairn_outbound *)1;

    assert_int_equal(scu_host_outbound_open(&fx->origin, "ELSEWHERE", classes, syntaxes, 1, &ob),
                     CAIRN_ERR_NOT_FOUND);
    assert_null(ob);
}

static void test_unreachable_remote_refused(void **state)
{
    fixture *fx = *state;
    const char *classes[] = {CT_STORAGE}, *syntaxes[] = {TS_EXPLICIT};
    cairn_outbound *ob = (cairn_outbound *)1;

    assert_int_equal(scu_host_outbound_open(&fx->origin, "NOBODY", classes, syntaxes, 1, &ob),
                     CAIRN_ERR_REFUSED);
    assert_null(ob);
}

static void test_peer_accepting_all_gets_stored_syntax(void **state)
{
    fixture *fx = *state;
    const instance *list[] = {&CT_EXPLICIT, &MR_RLE, &MR_JPEG_LS, &SC_JPEG, &MR_J2K,
                              &MR_BIG_ENDIAN};
    cairn_outbound *ob;

    start_storescp(fx, "+xa");
    ob = open_for(fx, list, 6);

    expect_stored(fx, ob, &CT_EXPLICIT, TS_EXPLICIT, NULL);
    expect_stored(fx, ob, &MR_RLE, TS_RLE, NULL);
    expect_stored(fx, ob, &MR_JPEG_LS, TS_JPEG_LS_LOSSLESS, NULL);
    expect_stored(fx, ob, &SC_JPEG, TS_JPEG_BASELINE, NULL);
    expect_stored(fx, ob, &MR_J2K, TS_J2K_LOSSLESS, NULL);
    expect_stored(fx, ob, &MR_BIG_ENDIAN, TS_BIG_ENDIAN, "MR_small.dcm");
    scu_host_outbound_close(ob);

    /* storescp -d prints the command set of each C-STORE-RQ it receives. */
    assert_true(log_contains(fx, "Move Originator AE Title *: MOVESCU"));
    assert_true(log_contains(fx, "Move Originator ID *: 7"));
    assert_true(log_contains(fx, "Message ID *: 6"));
    assert_true(log_contains(fx, "Priority *: medium"));
}

static void test_uncompressed_peer_gets_decompressed(void **state)
{
    fixture *fx = *state;
    const instance *list[] = {&MR_RLE, &MR_JPEG_LS, &SC_JPEG, &MR_J2K, &CT_EXPLICIT};
    cairn_outbound *ob;
    cairn_dimse_status status;

    start_storescp(fx, NULL);
    ob = open_for(fx, list, 5);

    expect_stored(fx, ob, &MR_RLE, TS_EXPLICIT, "MR_small.dcm");
    expect_stored(fx, ob, &MR_JPEG_LS, TS_EXPLICIT, "MR_small.dcm");
    expect_stored(fx, ob, &SC_JPEG, TS_EXPLICIT, NULL);

    /* DCMTK 3.6.7 has no JPEG 2000 decoder: that sub-operation fails alone. */
    assert_int_equal(send_instance(fx, ob, &MR_J2K, &status), CAIRN_ERR_UNSUPPORTED);
    expect_stored(fx, ob, &CT_EXPLICIT, TS_EXPLICIT, NULL);
    scu_host_outbound_close(ob);

    /* The decompressed copies in <storage>/tmp/ are gone. */
    {
        char tmp[PATH_MAX];
        DIR *dir;
        struct dirent *e;
        int left = 0;

        snprintf(tmp, sizeof tmp, "%s/tmp", fx->storage);
        dir = opendir(tmp);
        assert_non_null(dir);
        while ((e = readdir(dir)) != NULL)
            left += e->d_name[0] != '.';
        closedir(dir);
        assert_int_equal(left, 0);
    }
}

static void test_implicit_peer_gets_implicit(void **state)
{
    fixture *fx = *state;
    const instance *list[] = {&CT_EXPLICIT, &MR_BIG_ENDIAN, &MR_RLE, &SC_JPEG, &MR_EXPLICIT};
    cairn_outbound *ob;

    start_storescp(fx, "+xi");
    ob = open_for(fx, list, 5);

    expect_stored(fx, ob, &CT_EXPLICIT, TS_IMPLICIT, NULL);
    expect_stored(fx, ob, &MR_BIG_ENDIAN, TS_IMPLICIT, "MR_small.dcm");
    expect_stored(fx, ob, &MR_RLE, TS_IMPLICIT, "MR_small.dcm");
    expect_stored(fx, ob, &SC_JPEG, TS_IMPLICIT, NULL);
    expect_stored(fx, ob, &MR_EXPLICIT, TS_IMPLICIT, "MR_small.dcm");
    scu_host_outbound_close(ob);
}

static void test_class_not_proposed_fails_alone(void **state)
{
    fixture *fx = *state;
    const instance *list[] = {&MR_EXPLICIT};
    cairn_outbound *ob;
    cairn_dimse_status status;

    start_storescp(fx, NULL);
    ob = open_for(fx, list, 1);

    /* CT was not in the proposal, so no context carries it. */
    assert_int_equal(send_instance(fx, ob, &CT_EXPLICIT, &status), CAIRN_ERR_UNSUPPORTED);
    expect_stored(fx, ob, &MR_EXPLICIT, TS_EXPLICIT, "MR_small.dcm");
    scu_host_outbound_close(ob);
}

/* 1024 x 1024 16-bit pixels: 2 MiB, eight chunks of the sender. */
#define BIG_SIDE 1024
#define BIG_UID "1.2.826.0.1.3680043.9.7433.99.1"

/*
 * Writes a 2 MiB MR instance in explicit VR little endian at
 * <storage>/in/big.dcm, and an RLE copy made by dcmcrle at in/big_rle.dcm.
 */
static void write_big_instances(const fixture *fx)
{
    size_t n = (size_t)BIG_SIDE * BIG_SIDE;
    uint16_t *pixels = malloc(n * sizeof *pixels);
    dcm_dataset *ds = dcm_dataset_create();
    dcm_dataset *meta = dcm_meta_create(MR_STORAGE, BIG_UID, TS_EXPLICIT, "CAIRN");
    char path[400], cmd[900];

    assert_non_null(pixels);
    assert_non_null(ds);
    assert_non_null(meta);
    /* Runs of equal values mixed with noise, so RLE has work to do both ways. */
    for (size_t i = 0; i < n; i++)
        pixels[i] = (uint16_t)((i / 64) % 7 == 0 ? 1000 : (i * 2654435761u) >> 20);

    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0016), DCM_VR_UI, MR_STORAGE), 0);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0018), DCM_VR_UI, BIG_UID), 0);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0008, 0x0060), DCM_VR_CS, "MR"), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0002), 1), 0);
    assert_int_equal(dcm_dataset_set_string(ds, DCM_TAG(0x0028, 0x0004), DCM_VR_CS,
                                            "MONOCHROME2"), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0010), BIG_SIDE), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0011), BIG_SIDE), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0100), 16), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0101), 16), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0102), 15), 0);
    assert_int_equal(dcm_dataset_set_u16(ds, DCM_TAG(0x0028, 0x0103), 0), 0);
    assert_int_equal(dcm_dataset_set_bytes(ds, DCM_TAG(0x7FE0, 0x0010), DCM_VR_OW, pixels,
                                           n * sizeof *pixels), 0);

    snprintf(path, sizeof path, "%s/in/big.dcm", fx->storage);
    assert_int_equal(dcm_file_write(path, meta, ds, DCM_TS_EXPLICIT_LE), DCM_OK);
    snprintf(cmd, sizeof cmd, "dcmcrle '%s' '%s/in/big_rle.dcm'", path, fx->storage);
    assert_int_equal(system(cmd), 0);

    free(pixels);
    dcm_dataset_destroy(ds);
    dcm_dataset_destroy(meta);
}

static void send_big(fixture *fx, cairn_outbound *ob, const char *rel, const char *stored_ts,
                     const char *expected_ts)
{
    cairn_instance_file file = {.struct_size = sizeof file, .path = rel,
                                .transfer_syntax_uid = stored_ts};
    cairn_dimse_status status = 0xFFFF;
    char original[400];
    char *received;
    uint32_t got_len = 0, want_len = 0;
    uint8_t *got, *want;
    char uid[65] = "";
    dcm_dataset *meta = NULL, *ds = NULL;

    assert_int_equal(scu_host_outbound_store(ob, &file, MR_STORAGE, BIG_UID, NULL, 0, &status),
                     CAIRN_OK);
    assert_int_equal(status, CAIRN_DIMSE_SUCCESS);

    received = take_received_file(fx);
    assert_int_equal(dcm_file_read(received, NULL, &meta, &ds, NULL, NULL), DCM_OK);
    assert_int_equal(dcm_dataset_get_string(meta, DCM_TAG(0x0002, 0x0010), 0, uid, sizeof uid),
                     DCM_OK);
    assert_string_equal(uid, expected_ts);
    dcm_dataset_destroy(meta);
    dcm_dataset_destroy(ds);

    snprintf(original, sizeof original, "%s/in/big.dcm", fx->storage);
    got = read_pixel_data(received, &got_len);
    want = read_pixel_data(original, &want_len);
    assert_int_equal(want_len, 2u * BIG_SIDE * BIG_SIDE);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
    assert_int_equal(unlink(received), 0);
    free(received);
}

static void test_large_instance_streamed(void **state)
{
    fixture *fx = *state;
    const char *classes[] = {MR_STORAGE, MR_STORAGE};
    const char *syntaxes[] = {TS_EXPLICIT, TS_RLE};
    cairn_outbound *ob = NULL;

    write_big_instances(fx);

    /* Stored bytes as they are, in 256 KiB chunks. */
    start_storescp(fx, NULL);
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, 2, &ob),
                     CAIRN_OK);
    send_big(fx, ob, "in/big.dcm", TS_EXPLICIT, TS_EXPLICIT);
    send_big(fx, ob, "in/big_rle.dcm", TS_RLE, TS_EXPLICIT);
    scu_host_outbound_close(ob);
    kill(fx->storescp, SIGTERM);
    waitpid(fx->storescp, NULL, 0);

    /* Re-encoded by core/dcm, and decompressed by DCMTK, to implicit VR. */
    start_storescp(fx, "+xi");
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, 2, &ob),
                     CAIRN_OK);
    send_big(fx, ob, "in/big.dcm", TS_EXPLICIT, TS_IMPLICIT);
    send_big(fx, ob, "in/big_rle.dcm", TS_RLE, TS_IMPLICIT);
    scu_host_outbound_close(ob);
}

static void test_remote_limit_reached(void **state)
{
    fixture *fx = *state;
    const char *classes[] = {CT_STORAGE}, *syntaxes[] = {TS_EXPLICIT};
    cairn_outbound *first = NULL, *second = (cairn_outbound *)1;
    time_t started;

    start_storescp(fx, NULL);
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, 1,
                                            &first), CAIRN_OK);

    /* max_associations is 1: the second open waits about 5 s, then fails. */
    started = time(NULL);
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, 1,
                                            &second), CAIRN_ERR_LIMIT);
    assert_null(second);
    assert_true(time(NULL) - started >= 4);

    scu_host_outbound_close(first);
    assert_int_equal(scu_host_outbound_open(&fx->origin, "STORESCP", classes, syntaxes, 1,
                                            &second), CAIRN_OK);
    scu_host_outbound_close(second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_remote_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_remote_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_accepting_all_gets_stored_syntax, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_uncompressed_peer_gets_decompressed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_implicit_peer_gets_implicit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_not_proposed_fails_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_instance_streamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_limit_reached, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
