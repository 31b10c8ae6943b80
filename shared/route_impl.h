/* SPDX-License-Identifier: ISC */
#ifndef ROUTE_IMPL_H_INCLUDED
#define ROUTE_IMPL_H_INCLUDED

/*
 * NAME
 *	route_impl 3h
 * SUMMARY
 *	the engine's private parts, shared by route.c (check, single
 *	flight, negative entries, verdict), route_host.c (per-MX-host
 *	work), route_policy.c (TXT, fetch, cluster lock, RFC 8461
 *	section 5.1) and route_refresh.c (background refresh)
 * SYNOPSIS
 *	#include "route_impl.h"
 *
 *	void	route_host_run(ROUTE *r, VERDICT *v, const POLICY *policy,
 *			long long deadline, int flags, int *cand, int *temp)
 *
 *	POLICY	*route_policy_get(ROUTE *r, VERDICT *v, long long deadline,
 *			int *reason, int *transient, int mode)
 *
 *	void	route_refresh_start(ROUTE *r)
 *	void	route_refresh_stop(ROUTE *r)
 *	int	route_refresh_enqueue(ROUTE *r, const char *domain, int mode,
 *			int flags)
 *
 *	void	route_answer_rebuild(ROUTE *r, const char *domain, int flags)
 *
 *	void	route_until(VERDICT *v, time_t t)
 *	void	route_refresh_seen(ROUTE *r, const char *domain)
 *
 *	int	route_left(long long deadline, int cap)
 * DESCRIPTION
 *	route_until() lowers v->answer_until to t: the verdict may be
 *	reused until then at most (route_answer.c); t <= clock_now() means
 *	not at all.
 *
 *	Not an API: only the route*.c files include this. struct ROUTE
 *	is defined here; see each file for its functions. route_left()
 *	gives the milliseconds left before a deadline, capped, never
 *	negative.
 *
 *	Memory: route_policy_get() returns a policy the caller frees with
 *	policy_free(), or null.
 */

#include <pthread.h>
#include <time.h>

#include "cache.h"
#include "clock.h"
#include "domain.h"
#include "policy.h"
#include "ratelimit.h"
#include "route.h"
#include "verdict.h"


#define ROUTE_PATH_MAX		1024
#define ROUTE_MIN_TTL		300	/* warn below this (seed 002) */
#define ROUTE_WORKERS_MAX	16
#define ROUTE_LOCK_POLL_MS	50	/* poll for another node's fetch */
#define ROUTE_DEADLINE_SLACK_MS	50	/* a fetch ending this close to the deadline ran into it */
#define ROUTE_REFRESH_MAX	8	/* background refresh threads, at most */
#define ROUTE_REFRESH_DEFAULT	2
#define ROUTE_QUEUE_MAX		256	/* queued refresh jobs */
#define ROUTE_SEEN_BUCKETS	4096
#define ROUTE_SEEN_MAX		100000	/* domains remembered for refresh */
#define ROUTE_SEEN_LIFE		86400	/* "seen in the last day" */
#define ROUTE_RETRY_S		300	/* one failed refresh per 5 min */
#define ROUTE_SCAN_MAX		256	/* refresh jobs queued per tick */
#define ROUTE_TICK_DEFAULT_MS	60000
#define ROUTE_KNOWN_MAX		100000	/* domains the new-domain limit remembers */

#define ROUTE_POLICY_RCPT	0	/* a lookup: stale-while-revalidate */
#define ROUTE_POLICY_RECHECK	1	/* background: TXT recheck, fetch on a new id */
#define ROUTE_POLICY_REFETCH	2	/* background: fetch even with the same id */
#define ROUTE_POLICY_REBUILD	3	/* background answer rebuild: recheck now, a use */

#define ROUTE_REBUILD		(1<<8)	/* route_check() from route_answer_rebuild() */
#define ROUTE_STALE_S		300	/* an expired answer is served this long, rebuilding */
#define ROUTE_ANSWER_MAX_S	86400	/* no answer lives longer */

typedef struct ROUTE_JOB {
    char    domain[DOMAIN_MAX + 1];
    int     mode;			/* ROUTE_POLICY_RECHECK, _REFETCH or _REBUILD */
    int     flags;			/* _REBUILD: the answer's ROUTE_* flags */
} ROUTE_JOB;

typedef struct ROUTE_SEEN {
    struct ROUTE_SEEN *next;
    char    domain[DOMAIN_MAX + 1];
    time_t  seen;			/* last lookup that used its policy */
    time_t  tried;			/* last proactive refresh queued */
    time_t  next_check;			/* not due before */
} ROUTE_SEEN;

typedef struct ROUTE_WORKER_ARG {
    struct ROUTE *route;
    int     slot;
} ROUTE_WORKER_ARG;

typedef struct ROUTE_FLIGHT {
    struct ROUTE_FLIGHT *next;
    char    domain[DOMAIN_MAX + 1];
    int     done;
    int     refs;			/* leader + waiters */
    VERDICT *verdict;			/* leader's result, a copy */
} ROUTE_FLIGHT;

struct ROUTE {
    ROUTE_OPTS opts;
    char    helo[256];
    char    ca_file[ROUTE_PATH_MAX];
    char    ca_path[ROUTE_PATH_MAX];
    DNS    *dns;
    CACHE  *cache;
    pthread_mutex_t flight_lock;
    pthread_cond_t flight_cond;		/* CLOCK_MONOTONIC */
    ROUTE_FLIGHT *flights;
    int     workers;			/* host workers still running */
    /* Background refresh: refresh_lock guards everything below. */
    pthread_mutex_t refresh_lock;
    pthread_cond_t refresh_cond;	/* CLOCK_MONOTONIC */
    int     refresh_stop;
    int     refresh_threads;		/* workers started */
    int     scheduler;			/* scheduler started */
    pthread_t refresh_tid[ROUTE_REFRESH_MAX];
    pthread_t scheduler_tid;
    ROUTE_WORKER_ARG refresh_arg[ROUTE_REFRESH_MAX];
    char    refresh_busy[ROUTE_REFRESH_MAX][DOMAIN_MAX + 1];
    int     refresh_busy_mode[ROUTE_REFRESH_MAX];
    ROUTE_JOB queue[ROUTE_QUEUE_MAX];
    int     queue_head;
    int     queue_len;
    ROUTE_SEEN *seen[ROUTE_SEEN_BUCKETS];
    int     seen_count;
    RATELIMIT *newdom;			/* new_domain_rate; null: no limit */
};

extern void route_host_run(ROUTE *, VERDICT *, const POLICY *, long long, int, int *, int *);
extern POLICY *route_policy_get(ROUTE *, VERDICT *, long long, int *, int *, int);
extern void route_refresh_start(ROUTE *);
extern void route_refresh_stop(ROUTE *);
extern int route_refresh_enqueue(ROUTE *, const char *, int, int);
extern void route_answer_rebuild(ROUTE *, const char *, int);
extern void route_refresh_seen(ROUTE *, const char *);

/* An input of v expires at t: the answer lives no longer (route_answer.c). */

static inline void route_until(VERDICT *v, time_t t)
{
    if (t < v->answer_until)
	v->answer_until = t;
}

/* Milliseconds left before the deadline, capped, never negative. */

static inline int route_left(long long deadline, int cap)
{
    long long left = deadline - clock_mono_ms();

    if (left <= 0)
	return (0);
    return (left < cap ? (int) left : cap);
}

#endif
