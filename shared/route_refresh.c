/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_refresh 3
 * SUMMARY
 *	the engine's background policy refresh (RFC 8461 section 3.3):
 *	stale-while-revalidate jobs and proactive refetch before max_age
 * DESCRIPTION
 *	A small pool of workers takes jobs (a domain and a mode) from a
 *	bounded queue; a domain is queued or in flight at most once for a
 *	policy job and once for an answer rebuild (route_answer.c). The
 *	scheduler remembers the domains whose policy was used in the last day
 *	(route_refresh_seen(), hashed, capped) and queues a proactive refetch
 *	refresh_ahead before a policy's max_age ends. route_refresh_start()
 *	starts the threads; route_refresh_stop() stops them and waits for a
 *	refresh in flight.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cache_probe.h"
#include "clock.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "probe.h"
#include "ratelimit.h"
#include "route.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "tlsrpt.h"
#include "txt.h"
#include "verdict.h"
#include "route_impl.h"

/*
 * Background refresh. A small pool of workers takes jobs (a domain and
 * a mode) from a bounded queue; a domain is queued or in flight at most
 * once. The scheduler remembers the domains whose policy was used in
 * the last day (r->seen, capped) and queues a proactive refetch
 * refresh_ahead before a policy's max_age ends.
 */

/* A lookup used the domain's policy: remember it for the proactive refresh. */

void    route_refresh_seen(ROUTE *r, const char *domain)
{
    ROUTE_SEEN *e;
    time_t  now = clock_now();

    if (!r->scheduler)
	return;
    (void) pthread_mutex_lock(&r->refresh_lock);
    e = htable_find(r->seen, domain);
    if (e == 0 && htable_used(r->seen) < ROUTE_SEEN_MAX && (e = calloc(1, sizeof(*e))) != 0) {
	(void) str_copy(e->domain, sizeof(e->domain), domain);
	if (htable_enter(r->seen, e->domain, e) != STATUS_OK) {
	    free(e);
	    e = 0;
	}
    }
    if (e)
	e->seen = now;
    (void) pthread_mutex_unlock(&r->refresh_lock);
}

/*
 * Queue a refresh of domain. 0: queued, or already queued or running,
 * or dropped because the queue is full (a later lookup queues it
 * again); -1: there are no refresh threads.
 */
int     route_refresh_enqueue(ROUTE *r, const char *domain, int mode, int flags)
{
    int     rebuild = (mode == ROUTE_POLICY_REBUILD);
    int     i;
    int     status = 0;

    (void) pthread_mutex_lock(&r->refresh_lock);
    if (r->refresh_threads == 0 || r->refresh_stop) {
	status = -1;
	goto done;
    }
    for (i = 0; i < r->refresh_threads; i++)
	if (strcmp(r->refresh_busy[i], domain) == 0 && (r->refresh_busy_mode[i] == ROUTE_POLICY_REBUILD) == rebuild)
	    goto done;
    for (i = 0; i < r->queue_len; i++)
	if (strcmp(r->queue[(r->queue_head + i) % ROUTE_QUEUE_MAX].domain, domain) == 0
	    && (r->queue[(r->queue_head + i) % ROUTE_QUEUE_MAX].mode == ROUTE_POLICY_REBUILD) == rebuild)
	    goto done;
    if (r->queue_len >= ROUTE_QUEUE_MAX)
	goto done;
    i = (r->queue_head + r->queue_len) % ROUTE_QUEUE_MAX;
    (void) str_copy(r->queue[i].domain, sizeof(r->queue[i].domain), domain);
    r->queue[i].mode = mode;
    r->queue[i].flags = flags;
    r->queue_len++;
    (void) pthread_cond_broadcast(&r->refresh_cond);

done:
    (void) pthread_mutex_unlock(&r->refresh_lock);
    return (status);
}

/* Run one job: the policy stage alone, with its own time budget. */

static void route_refresh_run(ROUTE *r, const ROUTE_JOB *job)
{
    VERDICT *v = 0;
    POLICY *policy = 0;
    CACHE_POLICY rec;
    time_t  start = clock_now();
    long long deadline = clock_mono_ms() + r->opts.dns_timeout_ms * 2 + r->opts.fetch_timeout_ms + 1000;
    int     reason = REASON_NONE;
    int     transient = 0;

    if ((v = verdict_create(job->domain)) == 0)
	return;
    policy = route_policy_get(r, v, deadline, &reason, &transient, job->mode);
    if (job->mode == ROUTE_POLICY_REFETCH) {
	if (cache_policy_get(r->cache, job->domain, &rec) == STATUS_OK && rec.fetched >= start) {
	    log_info("%s: MTA-STS policy refreshed before its max_age ends", job->domain);
	} else {
	    /* The policy stage turns a failed refresh into a warning (RFC 8461 §5.1). */
	    log_info("%s: proactive MTA-STS policy refresh failed (%s); next try in %d s", job->domain,
		     reason != REASON_NONE ? verdict_reason_name(reason) :
		     v->warn_count > 0 ? v->warn[v->warn_count - 1] : "no new policy", ROUTE_RETRY_S);
	}
	cache_policy_clear(&rec);
    }
    policy_free(&policy);
    verdict_free(&v);
}

static void *route_refresh_worker(void *arg)
{
    ROUTE_WORKER_ARG *wa = (ROUTE_WORKER_ARG *) arg;
    ROUTE  *r = wa->route;
    ROUTE_JOB job;

    (void) pthread_mutex_lock(&r->refresh_lock);
    for (;;) {
	while (!r->refresh_stop && r->queue_len == 0)
	    (void) pthread_cond_wait(&r->refresh_cond, &r->refresh_lock);
	if (r->refresh_stop)
	    break;
	job = r->queue[r->queue_head];
	r->queue_head = (r->queue_head + 1) % ROUTE_QUEUE_MAX;
	r->queue_len--;
	(void) str_copy(r->refresh_busy[wa->slot], sizeof(r->refresh_busy[0]), job.domain);
	r->refresh_busy_mode[wa->slot] = job.mode;
	(void) pthread_mutex_unlock(&r->refresh_lock);
	metrics_inc(job.mode == ROUTE_POLICY_REBUILD ? METRICS_REFRESH_REBUILD :
		    job.mode == ROUTE_POLICY_REFETCH ? METRICS_REFRESH_REFETCH : METRICS_REFRESH_RECHECK);
	if (job.mode == ROUTE_POLICY_REBUILD)
	    route_answer_rebuild(r, job.domain, job.flags);
	else
	    route_refresh_run(r, &job);
	(void) pthread_mutex_lock(&r->refresh_lock);
	r->refresh_busy[wa->slot][0] = 0;
    }
    (void) pthread_mutex_unlock(&r->refresh_lock);
    return (0);
}

/* When a cached policy should be fetched again (RFC 8461 §3.3). */

static time_t route_refresh_due(const ROUTE *r, const CACHE_POLICY *rec)
{
    long    ahead = r->opts.refresh_ahead > 0 ? r->opts.refresh_ahead : rec->max_age / 4;

    if (ahead > ROUTE_SEEN_LIFE)
	ahead = ROUTE_SEEN_LIFE;
    return (rec->fetched + rec->max_age - ahead);
}

typedef struct ROUTE_SCAN {
    time_t  now;
    char    (*due)[DOMAIN_MAX + 1];
    int     count;
} ROUTE_SCAN;

/* One seen domain (refresh_lock held): forget it after a day, or note it due. */

static int route_refresh_scan_one(const char *key, void *value, void *ctx)
{
    ROUTE_SCAN *scan = ctx;
    ROUTE_SEEN *e = value;

    (void) key;
    if (scan->now - e->seen >= ROUTE_SEEN_LIFE) {
	free(e);
	return (1);
    }
    if (scan->count < ROUTE_SCAN_MAX && scan->now >= e->next_check && scan->now - e->tried >= ROUTE_RETRY_S)
	(void) str_copy(scan->due[scan->count++], sizeof(scan->due[0]), e->domain);
    return (0);
}

/* One scan: forget domains not seen for a day, queue the ones due. */

static void route_refresh_scan(ROUTE *r)
{
    char  (*due)[DOMAIN_MAX + 1] = 0;
    ROUTE_SEEN *e;
    ROUTE_SCAN scan;
    CACHE_POLICY rec;
    time_t  now = clock_now();
    time_t  next;
    int     count;
    int     i;

    if ((due = calloc(ROUTE_SCAN_MAX, sizeof(*due))) == 0)
	return;
    scan.now = now;
    scan.due = due;
    scan.count = 0;
    (void) pthread_mutex_lock(&r->refresh_lock);
    htable_walk(r->seen, route_refresh_scan_one, &scan);
    (void) pthread_mutex_unlock(&r->refresh_lock);
    count = scan.count;

    for (i = 0; i < count; i++) {
	/* No cached policy (expired or lost) is due too: the domain was using one. */
	next = 0;
	if (cache_policy_get(r->cache, due[i], &rec) == STATUS_OK) {
	    next = route_refresh_due(r, &rec);
	    cache_policy_clear(&rec);
	}
	(void) pthread_mutex_lock(&r->refresh_lock);
	if ((e = htable_find(r->seen, due[i])) != 0) {
	    e->next_check = next;
	    if (now >= next)
		e->tried = now;
	}
	(void) pthread_mutex_unlock(&r->refresh_lock);
	if (e && now >= next)
	    (void) route_refresh_enqueue(r, due[i], ROUTE_POLICY_REFETCH, 0);
    }
    free(due);
}

/*
 * The scheduler: every second the purge notices (cache_purge_poll(), so
 * that `stsfilter cache purge` reaches this process's L1), every tick a
 * scan for proactive refreshes.
 */
static void *route_refresh_scheduler(void *arg)
{
    ROUTE  *r = (ROUTE *) arg;
    struct timespec ts;
    long long until;
    long long scan_at;
    int     tick = r->opts.refresh_tick_ms > 0 ? r->opts.refresh_tick_ms : ROUTE_TICK_DEFAULT_MS;

    (void) pthread_mutex_lock(&r->refresh_lock);
    scan_at = clock_mono_ms() + tick;
    while (!r->refresh_stop) {
	(void) pthread_mutex_unlock(&r->refresh_lock);
	(void) cache_purge_poll(r->cache);
	(void) pthread_mutex_lock(&r->refresh_lock);
	until = clock_mono_ms() + ROUTE_PURGE_POLL_MS;
	if (until > scan_at)
	    until = scan_at;
	ts.tv_sec = (time_t) (until / 1000);
	ts.tv_nsec = (long) (until % 1000) * 1000000L;
	while (!r->refresh_stop && clock_mono_ms() < until)
	    (void) pthread_cond_timedwait(&r->refresh_cond, &r->refresh_lock, &ts);
	if (r->refresh_stop || clock_mono_ms() < scan_at)
	    continue;
	scan_at = clock_mono_ms() + tick;
	(void) pthread_mutex_unlock(&r->refresh_lock);
	route_refresh_scan(r);
	(void) pthread_mutex_lock(&r->refresh_lock);
    }
    (void) pthread_mutex_unlock(&r->refresh_lock);
    return (0);
}

/* Start the pool and the scheduler; without them lookups recheck in line. */

void    route_refresh_start(ROUTE *r)
{
    int     want = r->opts.refresh_threads == 0 ? ROUTE_REFRESH_DEFAULT : r->opts.refresh_threads;
    int     i;

    if (want > ROUTE_REFRESH_MAX)
	want = ROUTE_REFRESH_MAX;
    (void) pthread_mutex_lock(&r->refresh_lock);
    for (i = 0; i < want; i++) {
	r->refresh_arg[i].route = r;
	r->refresh_arg[i].slot = i;
	if (pthread_create(&r->refresh_tid[i], 0, route_refresh_worker, &r->refresh_arg[i]) != 0)
	    break;
	r->refresh_threads++;
    }
    if (r->refresh_threads > 0 && pthread_create(&r->scheduler_tid, 0, route_refresh_scheduler, r) == 0)
	r->scheduler = 1;
    (void) pthread_mutex_unlock(&r->refresh_lock);
    if (want > 0 && r->refresh_threads < want)
	log_warn("only %d of %d policy refresh threads started", r->refresh_threads, want);
}

/* Stop the threads; a refresh in flight finishes within its own budget. */

void    route_refresh_stop(ROUTE *r)
{
    int     i;

    (void) pthread_mutex_lock(&r->refresh_lock);
    r->refresh_stop = 1;
    (void) pthread_cond_broadcast(&r->refresh_cond);
    (void) pthread_mutex_unlock(&r->refresh_lock);
    if (r->scheduler)
	(void) pthread_join(r->scheduler_tid, 0);
    for (i = 0; i < r->refresh_threads; i++)
	(void) pthread_join(r->refresh_tid[i], 0);
}
