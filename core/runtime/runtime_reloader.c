/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread that reloads the configuration on request (SIGHUP). A signal
 * handler may only do async-signal-safe work, so it writes to an eventfd
 * and this thread does the reload and logs its outcome.
 */
#include "runtime/runtime_reloader.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

struct runtime_reloader {
    runtime *rt;
    int event_fd;
    atomic_bool stopping;
    pthread_t thread;
};

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "atomic_bool must be lock-free");

static void reload_once(runtime *rt)
{
    char err[1024];
    const cairn_conf *conf;

    if (runtime_reload(rt, err, sizeof err) != 0) {
        log_error(NULL, "reload rejected: %s; the previous configuration stays in force", err);
        return;
    }
    conf = runtime_conf_acquire(rt);
    log_info(NULL, "configuration reloaded from %s", conf->path);
    runtime_conf_release(rt, conf);
}

static void *reloader_main(void *arg)
{
    runtime_reloader *r = arg;
    struct pollfd pfd = {.fd = r->event_fd, .events = POLLIN};

    while (!atomic_load(&r->stopping)) {
        uint64_t count;

        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error(NULL, "reload thread: poll failed: %s; reloads stop working",
                      strerror(errno));
            break;
        }
        if (read(r->event_fd, &count, sizeof count) != (ssize_t)sizeof count)
            continue;
        if (atomic_load(&r->stopping))
            break;

        /* Requests that arrived during a reload are served by one more reload. */
        reload_once(r->rt);
    }
    return NULL;
}

int runtime_reloader_start(runtime *rt, runtime_reloader **out)
{
    runtime_reloader *r;
    sigset_t all, old;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->rt = rt;
    atomic_init(&r->stopping, false);
    r->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->event_fd < 0) {
        log_error(NULL, "creating the reload eventfd failed: %s", strerror(errno));
        free(r);
        return -1;
    }

    /* Signals go to the daemon's main thread, not to this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, reloader_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error(NULL, "starting the reload thread failed: %s", strerror(rc));
        close(r->event_fd);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void runtime_reloader_request(runtime_reloader *r)
{
    int saved_errno = errno;
    uint64_t increment = 1;
    ssize_t written = write(r->event_fd, &increment, sizeof increment);

    (void)written;
    errno = saved_errno;
}

void runtime_reloader_stop(runtime_reloader *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stopping, true);
    runtime_reloader_request(r);
    pthread_join(r->thread, NULL);
    close(r->event_fd);
    free(r);
}
