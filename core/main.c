/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairnd: the Cairn archive daemon. Loads the configuration and the
 * plugins, opens the archive, listens on every enabled AE's address and
 * serves associations until SIGTERM or SIGINT. SIGHUP reloads the
 * configuration file (see runtime/runtime.h for what a reload changes).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "archive/archive.h"
#include "archive/archive_copy.h"
#include "archive/archive_detached.h"
#include "assoc/assoc.h"
#include "commit/commit.h"
#include "config/conf.h"
#include "jobs/jobs.h"
#include "net/net.h"
#include "plugin/plugin.h"
#include "runtime/runtime.h"
#include "runtime/runtime_reloader.h"
#include "util/log.h"

#define DEFAULT_CONFIG CAIRN_SYSCONF_DIR "/cairn.conf"

static net_server *running_server;
static runtime_reloader *running_reloader;

/* What the runtime's change function needs to apply a change. */
typedef struct daemon_state {
    net_server *server;
    const char *level_override;  /* --log-level, or NULL */
} daemon_state;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (running_server != NULL)
        net_server_request_shutdown(running_server);
}

static void on_reload_signal(int sig)
{
    (void)sig;
    if (running_reloader != NULL)
        runtime_reloader_request(running_reloader);
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cairnd [--config FILE] [--check-config] [--migrate] [--log-level LEVEL]\n"
            "              [--copy-index-from OLD.conf] [--version]\n"
            "\n"
            "Runs the Cairn DICOM archive in the foreground; logs go to stderr.\n"
            "\n"
            "  -c, --config FILE     configuration file (default " DEFAULT_CONFIG ")\n"
            "      --check-config    validate the configuration and its plugins, then exit\n"
            "                        with 0 when valid and 1 otherwise\n"
            "      --migrate         bring the index schema up to date, then exit\n"
            "      --copy-index-from OLD.conf\n"
            "                        copy the index of OLD.conf into this one, then exit\n"
            "  -l, --log-level LEVEL error, warn, info, debug or trace (overrides log.level)\n"
            "  -V, --version         print the version and exit\n"
            "  -h, --help            print this help and exit\n");
}

static int install_signal_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_reload_signal;
    if (sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;

    /* A peer that closes its socket must cost an EPIPE, not the process. */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Collects one listen address per AE that is enabled in the file or at run
 * time; the server merges duplicates. An AE disabled at run time keeps its
 * address, so that its callers get A-ASSOCIATE-RJ rather than a refused
 * connection.
 */
static net_listen_spec *listen_specs(const cairn_conf *conf, runtime *rt, size_t *count)
{
    net_listen_spec *specs = calloc(conf->n_aes ? conf->n_aes : 1, sizeof *specs);
    size_t n = 0;

    if (specs == NULL)
        return NULL;
    for (size_t i = 0; i < conf->n_aes; i++) {
        if (!conf->aes[i].enabled && !runtime_ae_enabled(rt, conf->aes[i].title))
            continue;
        specs[n].bind = conf->aes[i].bind;
        specs[n].port = (uint16_t)conf->aes[i].port;
        n++;
    }
    *count = n;
    return specs;
}

static void log_aes(const cairn_conf *conf, runtime *rt)
{
    for (size_t i = 0; i < conf->n_aes; i++) {
        const conf_ae *ae = &conf->aes[i];

        log_info(NULL, "AE %s %s on %s port %d (%zu plugin(s))", ae->title,
                 runtime_ae_enabled(rt, ae->title) ? "listening" : "disabled", ae->bind,
                 ae->port, ae->n_plugins);
    }
}

/*
 * Applies the configuration in force to the server after a reload or an
 * AE flag change (a runtime_change_fn): listeners, limits and log level.
 */
static void apply_runtime(void *arg, runtime *rt)
{
    daemon_state *state = arg;
    const cairn_conf *conf = runtime_conf_acquire(rt);
    net_listen_spec *specs;
    size_t n_specs = 0;

    if (state->level_override == NULL)
        log_set_level((enum log_level)conf->log_level);
    if (net_server_stopping(state->server)) {
        runtime_conf_release(rt, conf);
        return;
    }

    specs = listen_specs(conf, rt, &n_specs);
    if (specs == NULL || net_server_set_listeners(state->server, specs, n_specs) != 0)
        log_error(NULL, "%s: listen addresses not updated (see the error above); AEs on a "
                  "new address stay unreachable until a reload succeeds in opening it",
                  conf->path);
    if (net_server_set_limits(state->server, (unsigned)conf->network.max_associations,
                              (unsigned)conf->network.max_wait * 1000u) != 0)
        log_error(NULL, "%s: network limits not updated", conf->path);
    log_aes(conf, rt);

    free(specs);
    runtime_conf_release(rt, conf);
}

static int serve(runtime *rt, plugin_registry *plugins, const char *level_override)
{
    const cairn_conf *conf = runtime_conf_acquire(rt);
    daemon_state state = {.level_override = level_override};
    runtime_reloader *reloader;
    const plugin_index *index = plugin_find_index(plugins, conf->index_plugin);
    archive *ar = NULL;
    net_server *server = NULL;
    jobs *js = NULL;
    commit_tracker *commitments = NULL;
    api_server *api = NULL;
    net_listen_spec *specs = NULL;
    size_t n_specs = 0;
    assoc_env env;
    net_limits limits;
    int result = 1;

    if (index == NULL) {
        log_error(NULL, "%s: index.plugin: plugin '%s' registered no index back end", conf->path,
                  conf->index_plugin);
        goto out;
    }
    if (archive_open_node(conf->storage_path, conf->node.name, &index->ops, index->backend_state,
                          &ar) != 0)
        goto out;
    archive_set_sync_per_file(ar, strcmp(conf->storage_sync, "file") == 0);
    archive_detached_attach(ar, rt);

    env = (assoc_env){.runtime = rt, .conf = conf, .plugins = plugins, .archive = ar};
    limits = (net_limits){
        .max_associations = (unsigned)conf->network.max_associations,
        .max_wait_ms = (unsigned)conf->network.max_wait * 1000u,
        .shutdown_timeout_ms = (unsigned)conf->network.shutdown_timeout * 1000u,
    };
    specs = listen_specs(conf, rt, &n_specs);
    if (specs == NULL || n_specs == 0) {
        log_error(NULL, "%s: no enabled AE to listen for", conf->path);
        goto out;
    }
    if (net_server_create(specs, n_specs, &limits, assoc_serve, assoc_reject_busy, &env,
                          &server) != 0)
        goto out;

    state.server = server;
    runtime_set_change_fn(rt, apply_runtime, &state);
    if (runtime_reloader_start(rt, &running_reloader) != 0)
        goto out;
    if (commit_start(rt, ar, &commitments) != 0 || jobs_create(rt, ar, &js) != 0 ||
        api_server_start(rt, ar, plugins, js, &api) != 0)
        goto out;

    running_server = server;
    if (install_signal_handlers() != 0) {
        log_error(NULL, "cannot install signal handlers");
        goto out;
    }
    log_aes(conf, rt);
    log_info(NULL, "cairnd %s ready: storage %s, index %s", CAIRN_VERSION, conf->storage_path,
             index->ops.name);

    result = net_server_run(server) == 0 ? 0 : 1;
    log_info(NULL, "cairnd stopped");

out:
    /* The API goes first, since its requests use the jobs, the runtime and the archive. */
    api_server_stop(api);
    jobs_destroy(js);
    commit_stop(commitments);
    /* A reload in progress finishes before the server it reconfigures goes.
     * The pointer is cleared first so that a later SIGHUP does nothing. */
    reloader = running_reloader;
    running_reloader = NULL;
    runtime_reloader_stop(reloader);
    runtime_set_change_fn(rt, NULL, NULL);
    running_server = NULL;
    net_server_destroy(server);
    free(specs);
    archive_detached_detach();
    archive_close(ar);
    runtime_conf_release(rt, conf);
    return result;
}

/*
 * cairnd --migrate: brings the schema of the configured index back end to
 * the newest version it knows. A back end without a migrate op migrates
 * when its index opens, so it is opened and closed.
 */
static int migrate_index(const cairn_conf *conf, plugin_registry *plugins)
{
    const plugin_index *index = plugin_find_index(plugins, conf->index_plugin);
    void *db = NULL;
    cairn_status status;

    if (index == NULL) {
        log_error(NULL, "%s: index.plugin: plugin '%s' registered no index back end", conf->path,
                  conf->index_plugin);
        return 1;
    }
    if (index->ops.migrate != NULL) {
        status = index->ops.migrate(index->backend_state, conf->storage_path);
    } else {
        status = index->ops.open(index->backend_state, conf->storage_path, &db);
        if (status == CAIRN_OK)
            index->ops.close(db);
    }
    if (status != CAIRN_OK) {
        log_error(NULL, "index back end %s: migration failed: %s", index->ops.name,
                  cairn_strerror(status));
        return 1;
    }
    printf("%s: index schema of back end %s is up to date\n", conf->path, index->ops.name);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"migrate", no_argument, NULL, 'm'},
        {"copy-index-from", required_argument, NULL, 'F'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = DEFAULT_CONFIG;
    const char *level_override = NULL;
    bool check_only = false;
    bool migrate_only = false;
    const char *copy_from = NULL;
    char err[1024];
    cairn_conf *conf = NULL;
    plugin_registry *plugins = NULL;
    runtime *rt = NULL;
    int opt, result = 1;

    while ((opt = getopt_long(argc, argv, "c:l:Vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'k': check_only = true; break;
        case 'm': migrate_only = true; break;
        case 'F': copy_from = optarg; break;
        case 'l': level_override = optarg; break;
        case 'V': printf("cairnd %s (SDK %s)\n", CAIRN_VERSION, CAIRN_SDK_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairnd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    if (conf_load(config_path, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "cairnd: %s\n", err);
        return 1;
    }
    log_set_level((enum log_level)conf->log_level);
    if (level_override != NULL) {
        int level = log_level_parse(level_override);

        if (level < 0) {
            fprintf(stderr, "cairnd: invalid log level '%s'\n", level_override);
            goto out;
        }
        log_set_level((enum log_level)level);
    }

    if (copy_from != NULL)
        archive_copy_keep_index_only(conf);
    if (plugin_registry_load(conf, &plugins) != 0) {
        log_error(NULL, "%s: plugins failed to load; see the lines above", conf->path);
        goto out;
    }
    if (check_only) {
        printf("%s: configuration is valid\n", conf->path);
        result = 0;
        goto out;
    }
    if (migrate_only) {
        result = migrate_index(conf, plugins);
        goto out;
    }
    if (copy_from != NULL) {
        const plugin_index *index = plugin_find_index(plugins, conf->index_plugin);

        result = index != NULL ? archive_copy_index(conf, index, copy_from) : 1;
        goto out;
    }

    /* The runtime owns the configuration from here on. */
    if (runtime_create(conf, &rt) != 0) {
        log_error(NULL, "out of memory for the run-time state");
        goto out;
    }
    conf = NULL;
    result = serve(rt, plugins, level_override);

out:
    plugin_registry_destroy(plugins);
    runtime_destroy(rt);
    conf_destroy(conf);
    return result;
}
