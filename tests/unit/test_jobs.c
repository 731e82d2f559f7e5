/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of core/jobs: validation of job requests (each error names the
 * member and the bad value), the JSON reader, and persistence through the
 * index-sqlite plugin loaded from the build: the job table itself, jobs
 * kept across a restart of the runner, and what a restart does with jobs
 * left running. The remote of these tests listens nowhere, so every job
 * that runs fails to connect; the interop test drives real peers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "config/conf.h"
#include "jobs/jobs.h"
#include "jobs/jobs_internal.h"
#include "plugin/plugin.h"
#include "runtime/runtime.h"

typedef struct fixture {
    char dir[64];
    plugin_registry *registry;
    runtime *rt;
    archive *ar;
} fixture;

/* Parses text as a request against conf; returns the rc and leaves the error in err. */
static int parse_request(const char *text, const cairn_conf *conf, job_request *req, char *err,
                         size_t errlen)
{
    jobs_json *json = NULL;
    int rc;

    if (jobs_json_parse(text, &json, err, errlen) != 0)
        return -1;
    rc = jobs_request_parse(json, conf, req, err, errlen);
    jobs_json_free(json);
    return rc;
}

static void expect_error(const char *text, const cairn_conf *conf, const char *expected)
{
    job_request req;
    char err[512] = "";

    if (parse_request(text, conf, &req, err, sizeof err) == 0)
        fail_msg("request accepted: %s", text);
    if (strstr(err, expected) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" (request %s)", err, expected, text);
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static cairn_conf *load_conf(const char *dir)
{
    char path[128], text[2048], err[512] = "";
    cairn_conf *conf = NULL;

    snprintf(path, sizeof path, "%s/cairn.conf", dir);
    snprintf(text, sizeof text,
             "storage = { path = \"storage\"; };\n"
             "plugin_directory = \"%s\";\n"
             "network = { connect_timeout = 2; };\n"
             "plugins = { index-sqlite = { }; };\n"
             "aes = ( { title = \"CAIRN\"; port = 11112; plugins = [ \"index-sqlite\" ]; },\n"
             "        { title = \"CAIRN2\"; port = 11113; plugins = [ \"index-sqlite\" ]; } );\n"
             "remotes = ( { title = \"PACS\"; host = \"127.0.0.1\"; port = 1;\n"
             "              limits = { queries = 1; }; } );\n",
             CAIRN_PLUGIN_BUILD_DIR);
    write_file(path, text);
    if (conf_load(path, &conf, err, sizeof err) != 0)
        fail_msg("cannot load %s: %s", path, err);
    return conf;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void open_fixture(fixture *fx)
{
    cairn_conf *conf = load_conf(fx->dir);
    const plugin_index *index;

    assert_int_equal(plugin_registry_load(conf, &fx->registry), 0);
    index = plugin_find_index(fx->registry, "index-sqlite");
    assert_non_null(index);
    assert_int_equal(archive_open(conf->storage_path, &index->ops, index->backend_state,
                                  &fx->ar), 0);
    assert_int_equal(runtime_create(conf, &fx->rt), 0);
}

static void close_fixture(fixture *fx)
{
    archive_close(fx->ar);
    runtime_destroy(fx->rt);
    plugin_registry_destroy(fx->registry);
    fx->ar = NULL;
    fx->rt = NULL;
    fx->registry = NULL;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);

    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-jobs-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    open_fixture(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    close_fixture(fx);
    nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* --- Requests --------------------------------------------------------- */

static void request_bad_kind(void **state)
{
    (void)state;
    expect_error("{\"kind\":\"fetch\",\"remote\":\"PACS\"}", NULL, "kind: unknown kind \"fetch\"");
    expect_error("{\"remote\":\"PACS\"}", NULL, "kind: missing");
    expect_error("{\"kind\":7,\"remote\":\"PACS\"}", NULL, "kind: expected a string");
    expect_error("[1,2]", NULL, "expected a JSON object");
}

static void request_missing_remote(void **state)
{
    fixture *fx = *state;
    const cairn_conf *conf = runtime_conf_acquire(fx->rt);

    expect_error("{\"kind\":\"query\"}", NULL, "remote: missing");
    expect_error("{\"kind\":\"query\",\"remote\":\"\"}", NULL, "remote: invalid AE title \"\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"ELSEWHERE\"}", conf,
                 "remote: \"ELSEWHERE\" is not a configured remote AE");
    expect_error("{\"kind\":\"query\",\"remote\":\"A_TITLE_LONGER_THAN_16\"}", NULL,
                 "remote: invalid AE title \"A_TITLE_LONGER_THAN_16\"");
    runtime_conf_release(fx->rt, conf);
}

static void request_bad_keys(void **state)
{
    (void)state;
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"PatientNam\":\"X\"}}", NULL,
                 "keys.PatientNam: unknown keyword \"PatientNam\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"0020000G\":\"\"}}", NULL,
                 "keys.0020000G: invalid tag \"0020000G\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"(0020,00ZD)\":\"\"}}", NULL,
                 "invalid tag \"(0020,00ZD)\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"00091001\":\"\"}}", NULL,
                 "keys.00091001: tag 00091001 is");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"PatientName\":3}}", NULL,
                 "keys.PatientName: expected a string");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"QueryRetrieveLevel\":\"\"}}",
                 NULL, "keys.QueryRetrieveLevel: set the Query/Retrieve Level");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"keys\":{\"PatientName\":\"\","
                 "\"00100010\":\"\"}}", NULL, "given twice");
}

static void request_bad_query_fields(void **state)
{
    (void)state;
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"model\":\"worklist\"}", NULL,
                 "model: unknown model \"worklist\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"level\":\"FRAME\"}", NULL,
                 "level: unknown level \"FRAME\"");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"level\":\"PATIENT\"}", NULL,
                 "level: PATIENT is not a level of the study model");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"model\":\"patient-study\","
                 "\"level\":\"SERIES\"}", NULL, "level: SERIES is not a level");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"max_results\":0}", NULL,
                 "max_results: expected an integer");
    expect_error("{\"kind\":\"query\",\"remote\":\"PACS\",\"destination\":\"CAIRN\"}", NULL,
                 "destination: unknown member of a query request");
}

static void request_bad_retrieve_and_send(void **state)
{
    fixture *fx = *state;
    const cairn_conf *conf = runtime_conf_acquire(fx->rt);

    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"study_uid\":\"1.2.3\"}", NULL,
                 "destination: missing");
    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"destination\":\"OTHER\","
                 "\"study_uid\":\"1.2.3\"}", conf, "destination: \"OTHER\" is not an AE");
    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"destination\":\"CAIRN\"}", conf,
                 "study_uid: missing");
    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"destination\":\"CAIRN\","
                 "\"study_uid\":\"1.2.x\"}", conf, "study_uid: invalid UID \"1.2.x\"");
    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"destination\":\"CAIRN\","
                 "\"level\":\"SERIES\",\"study_uid\":\"1.2.3\"}", conf, "series_uid: missing");
    expect_error("{\"kind\":\"retrieve\",\"remote\":\"PACS\",\"destination\":\"CAIRN\","
                 "\"study_uid\":\"1.2\",\"series_uid\":\"1.3\",\"sop_instance_uids\":[\"1..4\"]}",
                 conf, "sop_instance_uids[0]: invalid UID \"1..4\"");
    expect_error("{\"kind\":\"send\",\"remote\":\"PACS\"}", conf, "study_uid: missing");
    expect_error("{\"kind\":\"send\",\"remote\":\"PACS\",\"study_uid\":\"1.2\","
                 "\"calling_ae\":\"NOBODY\"}", conf, "calling_ae: \"NOBODY\" is not an AE");
    runtime_conf_release(fx->rt, conf);
}

static void request_valid_query(void **state)
{
    job_request req;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse_request("{\"kind\":\"query\",\"remote\":\"PACS\",\"model\":\"patient\","
                                   "\"level\":\"PATIENT\",\"keys\":{\"PatientName\":\"SMITH*\","
                                   "\"0020000D\":\"\",\"(0010,0020)\":null}}",
                                   NULL, &req, err, sizeof err), 0);
    assert_int_equal(req.kind, JOB_QUERY);
    assert_int_equal(req.model, JOB_MODEL_PATIENT);
    assert_string_equal(req.level, "PATIENT");
    assert_string_equal(req.remote, "PACS");
    assert_int_equal(req.n_keys, 3);
    assert_int_equal(req.keys[0].tag, DCM_TAG(0x0010, 0x0010));
    assert_int_equal(req.keys[0].vr, DCM_VR_PN);
    assert_string_equal(req.keys[0].value, "SMITH*");
    assert_int_equal(req.keys[1].tag, DCM_TAG(0x0020, 0x000D));
    assert_string_equal(req.keys[1].value, "");
    assert_int_equal(req.keys[2].tag, DCM_TAG(0x0010, 0x0020));
    assert_int_equal(req.max_results, JOBS_DEFAULT_MAX_RESULTS);
    jobs_request_free(&req);
}

static void request_retrieve_level_inferred(void **state)
{
    job_request req;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse_request("{\"kind\":\"retrieve\",\"remote\":\"PACS\","
                                   "\"destination\":\"CAIRN\",\"study_uid\":\"1.2\","
                                   "\"series_uid\":\"1.2.3\",\"sop_instance_uids\":[\"1.2.3.4\","
                                   "\"1.2.3.5\"]}", NULL, &req, err, sizeof err), 0);
    assert_string_equal(req.level, "IMAGE");
    assert_int_equal(req.n_sop_instance_uids, 2);
    assert_string_equal(req.sop_instance_uids[1], "1.2.3.5");
    jobs_request_free(&req);
}

/* --- JSON ------------------------------------------------------------- */

static void json_rejects_invalid_text(void **state)
{
    static const char *const bad[] = {
        "", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "\"\\x\"", "\"\\u0000\"", "\"\xC3\x28\"",
        "01", "1.", "tru", "{} x", "\"\\ud800\"", "\"a\nb\"",
    };
    jobs_json *json = NULL;
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (jobs_json_parse(bad[i], &json, err, sizeof err) == 0)
            fail_msg("accepted invalid JSON %s", bad[i]);
        assert_null(json);
    }
}

static void json_rejects_deep_nesting(void **state)
{
    char text[2 * (JOBS_JSON_MAX_DEPTH + 2) + 1];
    jobs_json *json = NULL;
    char err[128] = "";

    (void)state;
    memset(text, '[', JOBS_JSON_MAX_DEPTH + 2);
    memset(text + JOBS_JSON_MAX_DEPTH + 2, ']', JOBS_JSON_MAX_DEPTH + 2);
    text[sizeof text - 1] = '\0';
    assert_int_equal(jobs_json_parse(text, &json, err, sizeof err), -1);
    assert_non_null(strstr(err, "nested too deeply"));
}

static void json_round_trip(void **state)
{
    const char *text = "{\"a\":[1,-2.5,true,false,null],\"b\":\"\\u00e9\\ud83d\\ude00\\\"\\n\"}";
    jobs_json *json = NULL;
    jobs_buf buf = {0};
    char err[128] = "";
    char *out;

    (void)state;
    assert_int_equal(jobs_json_parse(text, &json, err, sizeof err), 0);
    assert_string_equal(jobs_json_get(json, "b")->string, "\xC3\xA9\xF0\x9F\x98\x80\"\n");
    jobs_buf_add_json(&buf, json);
    out = jobs_buf_take(&buf);
    assert_string_equal(out, "{\"a\":[1,-2.5,true,false,null],\"b\":\"\xC3\xA9\xF0\x9F\x98\x80"
                             "\\\"\\u000a\"}");
    free(out);
    jobs_json_free(json);
}

/* --- Persistence ------------------------------------------------------ */

typedef struct kept {
    size_t count;
    char ids[4][65];
    char documents[4][256];
} kept;

static int keep_job(void *arg, const char *job_id, const char *document)
{
    kept *k = arg;

    if (k->count < 4) {
        snprintf(k->ids[k->count], sizeof k->ids[0], "%s", job_id);
        snprintf(k->documents[k->count], sizeof k->documents[0], "%s", document);
    }
    k->count++;
    return 0;
}

static void index_job_table(void **state)
{
    fixture *fx = *state;
    const cairn_index_ops *ops = archive_index_ops(fx->ar);
    void *db = archive_index_db(fx->ar);
    kept k = {0};

    assert_int_equal(ops->job_put(db, "job-1", "{\"n\":1}"), CAIRN_OK);
    assert_int_equal(ops->job_put(db, "job-2", "{\"n\":2}"), CAIRN_OK);
    assert_int_equal(ops->job_put(db, "job-1", "{\"n\":3}"), CAIRN_OK);
    assert_int_equal(ops->job_list(db, keep_job, &k), CAIRN_OK);
    assert_int_equal(k.count, 2);
    assert_string_equal(k.ids[0], "job-1");
    assert_string_equal(k.documents[0], "{\"n\":3}");
    assert_string_equal(k.ids[1], "job-2");

    assert_int_equal(ops->job_delete(db, "job-1"), CAIRN_OK);
    assert_int_equal(ops->job_delete(db, "job-1"), CAIRN_ERR_NOT_FOUND);
    assert_int_equal(ops->job_put(db, "", "{}"), CAIRN_ERR_INVALID_ARGUMENT);
    k.count = 0;
    assert_int_equal(ops->job_list(db, keep_job, &k), CAIRN_OK);
    assert_int_equal(k.count, 1);
    assert_string_equal(k.ids[0], "job-2");
}

/* Waits up to 20 s for the job to reach state; returns its record (freed by the caller). */
static char *wait_for_state(jobs *js, const char *id, const char *state)
{
    char expected[64];

    snprintf(expected, sizeof expected, "\"state\":\"%s\"", state);
    for (int i = 0; i < 200; i++) {
        char *record = jobs_get_json(js, id);

        assert_non_null(record);
        if (strstr(record, expected) != NULL)
            return record;
        free(record);
        usleep(100 * 1000);
    }
    fail_msg("job %s never became %s", id, state);
    return NULL;
}

static void jobs_kept_across_restart(void **state)
{
    fixture *fx = *state;
    jobs *js = NULL;
    char *id = NULL, *record, *list;
    char err[256] = "";

    assert_int_equal(jobs_create(fx->rt, fx->ar, &js), 0);
    assert_int_equal(jobs_submit(js, "{\"kind\":\"nope\"}", &id, err, sizeof err), -1);
    assert_null(id);
    assert_non_null(strstr(err, "kind: unknown kind \"nope\""));

    assert_int_equal(jobs_submit(js, "{\"kind\":\"query\",\"remote\":\"PACS\","
                                     "\"keys\":{\"PatientName\":\"SMITH*\"}}",
                                 &id, err, sizeof err), 0);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4');
    record = wait_for_state(js, id, "failed");
    assert_non_null(strstr(record, "\"kind\":\"query\""));
    assert_non_null(strstr(record, "\"error\":\"cannot open an association to PACS"));
    assert_non_null(strstr(record, "\"request\":{\"kind\":\"query\",\"remote\":\"PACS\","
                                    "\"keys\":{\"PatientName\":\"SMITH*\"}}"));
    free(record);
    assert_int_equal(jobs_cancel(js, id, err, sizeof err), -1);
    assert_non_null(strstr(err, "already finished (failed)"));
    assert_int_equal(jobs_cancel(js, "no-such-job", err, sizeof err), -1);
    assert_non_null(strstr(err, "job no-such-job not found"));
    jobs_destroy(js);

    /* The restart reads the job back from the index. */
    close_fixture(fx);
    open_fixture(fx);
    assert_int_equal(jobs_create(fx->rt, fx->ar, &js), 0);
    record = jobs_get_json(js, id);
    assert_non_null(record);
    assert_non_null(strstr(record, "\"state\":\"failed\""));
    assert_non_null(strstr(record, "cannot open an association to PACS"));
    free(record);
    list = jobs_list_json(js);
    assert_non_null(list);
    assert_non_null(strstr(list, id));
    free(list);

    assert_int_equal(jobs_retry(js, id, err, sizeof err), 0);
    record = wait_for_state(js, id, "failed");
    assert_non_null(strstr(record, "\"attempts\":2"));
    free(record);
    jobs_destroy(js);
    free(id);
}

static void restart_fails_running_query(void **state)
{
    fixture *fx = *state;
    const cairn_index_ops *ops = archive_index_ops(fx->ar);
    void *db = archive_index_db(fx->ar);
    jobs *js = NULL;
    char *record;

    assert_int_equal(ops->job_put(db, "q1", "{\"id\":\"q1\",\"kind\":\"query\",\"state\":"
                                            "\"running\",\"request\":{\"kind\":\"query\","
                                            "\"remote\":\"PACS\"},\"created\":"
                                            "\"2024-01-02T03:04:05Z\"}"),
                     CAIRN_OK);
    assert_int_equal(ops->job_put(db, "bad", "not json"), CAIRN_OK);
    assert_int_equal(jobs_create(fx->rt, fx->ar, &js), 0);
    record = jobs_get_json(js, "q1");
    assert_non_null(record);
    assert_non_null(strstr(record, "\"state\":\"failed\""));
    assert_non_null(strstr(record, "\"error\":\"interrupted by a restart\""));
    assert_non_null(strstr(record, "\"created\":\"2024-01-02T03:04:05Z\""));
    free(record);
    assert_null(jobs_get_json(js, "bad"));
    jobs_destroy(js);
}

static void restart_resumes_running_send(void **state)
{
    fixture *fx = *state;
    const cairn_index_ops *ops = archive_index_ops(fx->ar);
    void *db = archive_index_db(fx->ar);
    jobs *js = NULL;
    char *record;

    assert_int_equal(ops->job_put(db, "s1", "{\"id\":\"s1\",\"kind\":\"send\",\"state\":"
                                            "\"running\",\"request\":{\"kind\":\"send\","
                                            "\"remote\":\"PACS\",\"study_uid\":\"1.2.3\"},"
                                            "\"attempts\":1}"),
                     CAIRN_OK);
    assert_int_equal(jobs_create(fx->rt, fx->ar, &js), 0);

    /* It runs again and fails: the archive has no such study. */
    record = wait_for_state(js, "s1", "failed");
    assert_non_null(strstr(record, "\"attempts\":2"));
    assert_non_null(strstr(record, "no instance of the archive matches the request"));
    free(record);
    jobs_destroy(js);
}

static void cancel_queued_job(void **state)
{
    fixture *fx = *state;
    jobs *js = NULL;
    char *ids[3] = {NULL, NULL, NULL};
    char err[256] = "";
    int cancelled = 0;

    /* queries = 1 for PACS: the later two wait while the first one runs. */
    assert_int_equal(jobs_create(fx->rt, fx->ar, &js), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(jobs_submit(js, "{\"kind\":\"query\",\"remote\":\"PACS\"}", &ids[i],
                                     err, sizeof err), 0);
    for (int i = 2; i >= 0; i--) {
        if (jobs_cancel(js, ids[i], err, sizeof err) == 0)
            cancelled++;
    }
    assert_true(cancelled >= 1);
    for (int i = 0; i < 3; i++) {
        char *record = jobs_get_json(js, ids[i]);

        assert_non_null(record);
        free(record);
        free(ids[i]);
    }
    jobs_destroy(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(request_bad_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(request_missing_remote, setup, teardown),
        cmocka_unit_test_setup_teardown(request_bad_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(request_bad_query_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(request_bad_retrieve_and_send, setup, teardown),
        cmocka_unit_test_setup_teardown(request_valid_query, setup, teardown),
        cmocka_unit_test_setup_teardown(request_retrieve_level_inferred, setup, teardown),
        cmocka_unit_test(json_rejects_invalid_text),
        cmocka_unit_test(json_rejects_deep_nesting),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test_setup_teardown(index_job_table, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_kept_across_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_fails_running_query, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_resumes_running_send, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_queued_job, setup, teardown),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
