/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_pool 3
 * SUMMARY
 *	the engine's probe pool: a fixed number of persistent worker
 *	threads that check MX hosts, one job per host in the process
 *	(single flight)
 * SYNOPSIS
 *	#include "route_impl.h"
 *
 *	int	route_pool_init(ROUTE *r)
 *	void	route_pool_stop(ROUTE *r)
 *
 *	ROUTE_PROBE *route_pool_join(ROUTE *r, const char *name,
 *			int mx_secure, int listed, int policy_active,
 *			long long deadline, const char **why)
 *	void	route_pool_release(ROUTE *r, ROUTE_PROBE **job)
 *	int	route_pool_wait(ROUTE *r, long long until)
 * DESCRIPTION
 *	route_pool_init() makes the lock, the conditions and the job table
 *	(route_create()): STATUS_OK, or STATUS_RETRY when out of memory;
 *	the workers, opts.probe_threads of them (default 8, at most 64),
 *	start on the first route_pool_join(). route_pool_stop()
 *	(route_free()) stops and joins them; a job running finishes within
 *	its own deadline, and a job still queued is completed as
 *	REASON_NOT_PROBED (temporary), so that no waiter hangs. Then it
 *	destroys the lock, the conditions and the table.
 *
 *	A job (ROUTE_PROBE) is one route_host() call, keyed by everything
 *	route_host() depends on besides the deadline: MX host name, port,
 *	the MX RRset's DNSSEC status, the host's policy match and whether
 *	a policy is active. route_pool_join() returns the job of that key
 *	that is queued or running, or queues a new one with the caller's
 *	deadline; null with *why set when the job table (at most
 *	ROUTE_PROBE_JOBS_MAX jobs queued or running; the queue holds only
 *	those) is full, memory is short or the pool is stopping. It never
 *	blocks on a probe. A job leaves the table when it is done, so a
 *	later request makes a new job; its result stays in the probe cache
 *	(route_host.c) for as long as the cache keeps it.
 *
 *	route_pool_join(), route_pool_release() and route_pool_wait() are
 *	called with r->pool_lock held. route_pool_wait() waits until a job
 *	is done or the monotonic time until (milliseconds); when no worker
 *	could be started it runs one queued job in the caller instead.
 *
 *	Memory: a job is refcounted: one reference for each waiter that
 *	joined it and one for the pool until the job is done. The last
 *	route_pool_release() frees it, so nothing a request made is left
 *	once it has returned, except the job itself while it runs.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "log.h"
#include "route.h"
#include "str.h"
#include "verdict.h"
#include "route_impl.h"

/* A job's key in the table: everything route_host() depends on but the deadline. */

#define ROUTE_POOL_KEY_MAX	(sizeof(((ROUTE_PROBE *) 0)->name) + 32)

static void route_pool_key(char *key, size_t size, const char *name, int port, int mx_secure, int listed,
			           int policy_active)
{
    (void) snprintf(key, size, "%s %d %d%d%d", name, port, mx_secure != 0, listed != 0, policy_active != 0);
}

/* Drop one reference (pool_lock held); the last one frees. */

void    route_pool_release(ROUTE *r, ROUTE_PROBE **jobp)
{
    ROUTE_PROBE *job = *jobp;

    (void) r;
    if (job == 0)
	return;
    *jobp = 0;
    if (--job->refs == 0)
	free(job);
}

/* A job is done (pool_lock held): out of the table, waiters woken. */

static void route_pool_finish(ROUTE *r, ROUTE_PROBE *job)
{
    char    key[ROUTE_POOL_KEY_MAX];

    route_pool_key(key, sizeof(key), job->name, job->port, job->mx_secure, job->listed, job->policy_active);
    if (htable_delete(r->pool_table, key, 0) == STATUS_OK)
	r->pool_jobs--;
    job->state = ROUTE_PROBE_DONE;
    (void) pthread_cond_broadcast(&r->pool_done);
    route_pool_release(r, &job);		/* the pool's reference */
}

/* Take the oldest queued job (pool_lock held), or null. */

static ROUTE_PROBE *route_pool_take(ROUTE *r)
{
    ROUTE_PROBE *job = r->pool_head;

    if (job == 0)
	return (0);
    if ((r->pool_head = job->qnext) == 0)
	r->pool_tail = 0;
    job->qnext = 0;
    job->state = ROUTE_PROBE_RUNNING;
    return (job);
}

/* Run one job outside the lock (pool_lock held on entry and on return). */

static void route_pool_run(ROUTE *r, ROUTE_PROBE *job)
{
    (void) pthread_mutex_unlock(&r->pool_lock);
    route_host(r, job);
    (void) pthread_mutex_lock(&r->pool_lock);
    route_pool_finish(r, job);
}

static void *route_pool_worker(void *arg)
{
    ROUTE  *r = (ROUTE *) arg;
    ROUTE_PROBE *job;

    (void) pthread_mutex_lock(&r->pool_lock);
    for (;;) {
	while (!r->pool_stop && r->pool_head == 0)
	    (void) pthread_cond_wait(&r->pool_work, &r->pool_lock);
	if (r->pool_stop)
	    break;
	job = route_pool_take(r);
	route_pool_run(r, job);
    }
    (void) pthread_mutex_unlock(&r->pool_lock);
    return (0);
}

/* Start the workers (pool_lock held); without any, callers run jobs. */

static void route_pool_start(ROUTE *r)
{
    int     want = r->opts.probe_threads > 0 ? r->opts.probe_threads : ROUTE_PROBE_THREADS_DEFAULT;

    r->pool_started = 1;
    if (want > ROUTE_PROBE_THREADS_MAX)
	want = ROUTE_PROBE_THREADS_MAX;
    while (r->pool_threads < want
	   && pthread_create(&r->pool_tid[r->pool_threads], 0, route_pool_worker, r) == 0)
	r->pool_threads++;
    if (r->pool_threads < want)
	log_warn("only %d of %d probe threads started", r->pool_threads, want);
}

int     route_pool_init(ROUTE *r)
{
    pthread_condattr_t ca;

    if (htable_create(ROUTE_PROBE_BUCKETS, &r->pool_table) != STATUS_OK)
	return (STATUS_RETRY);
    (void) pthread_mutex_init(&r->pool_lock, 0);
    (void) pthread_cond_init(&r->pool_work, 0);
    (void) pthread_condattr_init(&ca);
    (void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    (void) pthread_cond_init(&r->pool_done, &ca);
    (void) pthread_condattr_destroy(&ca);
    r->pool_init = 1;
    return (STATUS_OK);
}

void    route_pool_stop(ROUTE *r)
{
    ROUTE_PROBE *job;
    int     i;

    if (!r->pool_init)
	return;
    (void) pthread_mutex_lock(&r->pool_lock);
    r->pool_stop = 1;
    (void) pthread_cond_broadcast(&r->pool_work);
    (void) pthread_mutex_unlock(&r->pool_lock);
    for (i = 0; i < r->pool_threads; i++)
	(void) pthread_join(r->pool_tid[i], 0);
    (void) pthread_mutex_lock(&r->pool_lock);
    while ((job = route_pool_take(r)) != 0) {
	job->host.reason = REASON_NOT_PROBED;
	job->temp = 1;
	(void) str_copy(job->host.detail, sizeof(job->host.detail), "probe pool stopped");
	route_pool_finish(r, job);
    }
    r->pool_threads = 0;
    (void) pthread_mutex_unlock(&r->pool_lock);
    (void) pthread_cond_destroy(&r->pool_done);
    (void) pthread_cond_destroy(&r->pool_work);
    (void) pthread_mutex_destroy(&r->pool_lock);
    htable_free(&r->pool_table, 0);		/* empty: every job is done */
    r->pool_init = 0;
}

ROUTE_PROBE *route_pool_join(ROUTE *r, const char *name, int mx_secure, int listed,
			             int policy_active, long long deadline, const char **why)
{
    char    key[ROUTE_POOL_KEY_MAX];
    ROUTE_PROBE *job;

    /* A DNS name has at most 253 octets: job->name holds any, and the key is exact. */
    if (strlen(name) >= sizeof(job->name)) {
	*why = "MX host name too long";
	return (0);
    }
    route_pool_key(key, sizeof(key), name, r->opts.probe_port, mx_secure, listed, policy_active);
    if ((job = htable_find(r->pool_table, key)) != 0) {
	job->refs++;
	return (job);
    }
    if (r->pool_stop) {
	*why = "probe pool stopped";
	return (0);
    }
    if (!r->pool_started)
	route_pool_start(r);
    if (r->pool_jobs >= ROUTE_PROBE_JOBS_MAX) {
	*why = "probe queue full";
	return (0);
    }
    if ((job = calloc(1, sizeof(*job))) == 0) {
	*why = "probe queue full: out of memory";
	return (0);
    }
    (void) str_copy(job->name, sizeof(job->name), name);
    job->port = r->opts.probe_port;
    job->mx_secure = mx_secure;
    job->listed = listed;
    job->policy_active = policy_active;
    job->deadline = deadline;
    job->state = ROUTE_PROBE_QUEUED;
    job->refs = 2;				/* the caller and the pool */
    (void) str_copy(job->host.name, sizeof(job->host.name), name);
    job->host.reason = REASON_NOT_PROBED;
    job->temp = 1;
    if (htable_enter(r->pool_table, key, job) != STATUS_OK) {
	free(job);
	*why = "probe queue full: out of memory";
	return (0);
    }
    r->pool_jobs++;
    if (r->pool_tail)
	r->pool_tail->qnext = job;
    else
	r->pool_head = job;
    r->pool_tail = job;
    (void) pthread_cond_signal(&r->pool_work);
    return (job);
}

int     route_pool_wait(ROUTE *r, long long until)
{
    struct timespec ts;
    ROUTE_PROBE *job;

    if (r->pool_threads == 0 && (job = route_pool_take(r)) != 0) {
	route_pool_run(r, job);
	return (1);
    }
    ts.tv_sec = (time_t) (until / 1000);
    ts.tv_nsec = (long) (until % 1000) * 1000000L;
    return (pthread_cond_timedwait(&r->pool_done, &r->pool_lock, &ts) == 0);
}
