/* SPDX-License-Identifier: ISC */
#ifndef ROUTE_IMPL_H_INCLUDED
#define ROUTE_IMPL_H_INCLUDED

/*
 * NAME
 *	route_impl 3h
 * SUMMARY
 *	the engine's private parts, shared by route.c (check, single
 *	flight, negative entries, verdict), route_host.c (per-MX-host
 *	work), route_pool.c (the probe pool: single-flight host jobs),
 *	route_policy.c (TXT, fetch, cluster lock, RFC 8461 section 5.1)
 *	and route_refresh.c (background refresh)
 * SYNOPSIS
 *	#include "route_impl.h"
 *
 *	void	route_host_run(ROUTE *r, VERDICT *v, const POLICY *policy,
 *			long long deadline, int flags, int *cand, int *temp)
 *	void	route_host(ROUTE *r, ROUTE_PROBE *job)
 *
 *	int	route_pool_init(ROUTE *r)
 *	void	route_pool_stop(ROUTE *r)
 *	ROUTE_PROBE *route_pool_join(ROUTE *r, const char *name,
 *			int mx_secure, int listed, int policy_active,
 *			long long deadline, const char **why)
 *	void	route_pool_release(ROUTE *r, ROUTE_PROBE **job)
 *	int	route_pool_wait(ROUTE *r, long long until)
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
 *	policy_free(), or null. A ROUTE_PROBE is refcounted (see
 *	route_pool.c): route_pool_join() gives the caller a reference
 *	that it drops with route_pool_release(); the last one frees.
 */

#include <pthread.h>
#include <time.h>

#include "cache.h"
#include "clock.h"
#include "domain.h"
#include "htable.h"
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
#define ROUTE_SEEN_BUCKETS	4096	/* to start with: an htable grows */
#define ROUTE_SEEN_MAX		100000	/* domains remembered for refresh */
#define ROUTE_SEEN_LIFE		86400	/* "seen in the last day" */
#define ROUTE_RETRY_S		300	/* one failed refresh per 5 min */
#define ROUTE_SCAN_MAX		256	/* refresh jobs queued per tick */
#define ROUTE_TICK_DEFAULT_MS	60000
#define ROUTE_PURGE_POLL_MS	1000	/* cache_purge_poll() */
#define ROUTE_KNOWN_MAX		100000	/* domains the new-domain limit remembers */
#define ROUTE_PROBE_THREADS_DEFAULT 8	/* probe pool workers (probe_threads) */
#define ROUTE_PROBE_THREADS_MAX	64
#define ROUTE_PROBE_JOBS_MAX	1024	/* host jobs queued or running, per ROUTE */
#define ROUTE_PROBE_BUCKETS	256	/* job table, to start with */
#define ROUTE_REJOIN_MS		1000	/* left to retry a job cut by its maker's deadline */

#define ROUTE_POLICY_RCPT	0	/* a lookup: stale-while-revalidate */
#define ROUTE_POLICY_RECHECK	1	/* background: TXT recheck, fetch on a new id */
#define ROUTE_POLICY_REFETCH	2	/* background: fetch even with the same id */
#define ROUTE_POLICY_REBUILD	3	/* background answer rebuild: recheck now, a use */

#define ROUTE_REBUILD		(1<<8)	/* route_check() from route_answer_rebuild() */
#define ROUTE_STALE_S		300	/* an expired answer is served this long, rebuilding */
#define ROUTE_REBUILD_RETRY_S	30	/* after a rebuild that kept nothing */
#define ROUTE_ANSWER_MAX_S	86400	/* no answer lives longer */
#define ROUTE_GONE_SLOTS	1024	/* "TXT record gone" lines remembered */
#define ROUTE_GONE_LOG_S	86400	/* at most one such line a day per domain */

typedef struct ROUTE_JOB {
    char    domain[DOMAIN_MAX + 1];
    int     mode;			/* ROUTE_POLICY_RECHECK, _REFETCH or _REBUILD */
    int     flags;			/* _REBUILD: the answer's ROUTE_* flags */
} ROUTE_JOB;

typedef struct ROUTE_SEEN {
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

/*
 * One MX host's check in the probe pool (route_pool.c), shared by every
 * route_host_run() that needs the same host at the same time. The key is
 * everything route_host() depends on besides the deadline.
 */
#define ROUTE_PROBE_QUEUED	0
#define ROUTE_PROBE_RUNNING	1
#define ROUTE_PROBE_DONE	2

typedef struct ROUTE_PROBE {
    struct ROUTE_PROBE *qnext;		/* queue, oldest first */
    /* The key. */
    char    name[256];			/* MX host name */
    int     port;			/* opts.probe_port */
    int     mx_secure;			/* the MX RRset is DNSSEC-secure */
    int     listed;			/* RFC 8461 §4.1 match */
    int     policy_active;		/* an MTA-STS policy in testing/enforce */
    /* Not the key. */
    long long deadline;			/* of the request that created it */
    int     state;			/* ROUTE_PROBE_*, under pool_lock */
    int     refs;			/* waiters + the pool, under pool_lock */
    /* The result: the worker writes it, others read it once DONE. */
    VERDICT_HOST host;
    int     temp;			/* failure may be transient */
    int     candidate;			/* probed for a route */
    int     cut;			/* failed at its deadline: says nothing */
} ROUTE_PROBE;

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
    HTABLE *seen;			/* domain -> ROUTE_SEEN, at most ROUTE_SEEN_MAX */
    RATELIMIT *newdom;			/* new_domain_rate; null: no limit */
    pthread_mutex_t gone_lock;
    time_t  gone[ROUTE_GONE_SLOTS];	/* "TXT record gone" logged, by domain hash */
    /*
     * Probe pool (route_pool.c): persistent workers, started on first
     * use, stopped by route_free(). pool_lock guards everything below
     * and each job's state and refs.
     */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_work;		/* workers: a job was queued, or stop */
    pthread_cond_t pool_done;		/* CLOCK_MONOTONIC; waiters: a job is done */
    int     pool_init;			/* lock and conditions made */
    int     pool_started;		/* workers started (or tried) */
    int     pool_stop;
    int     pool_threads;		/* workers running */
    pthread_t pool_tid[ROUTE_PROBE_THREADS_MAX];
    HTABLE *pool_table;			/* route_pool_key() -> queued or running job */
    int     pool_jobs;			/* in pool_table, <= ROUTE_PROBE_JOBS_MAX */
    ROUTE_PROBE *pool_head;		/* queue */
    ROUTE_PROBE *pool_tail;
};

extern void route_host_run(ROUTE *, VERDICT *, const POLICY *, long long, int, int *, int *);
extern void route_host(ROUTE *, ROUTE_PROBE *);
extern int route_pool_init(ROUTE *);
extern void route_pool_stop(ROUTE *);
extern ROUTE_PROBE *route_pool_join(ROUTE *, const char *, int, int, int, long long, const char **);
extern void route_pool_release(ROUTE *, ROUTE_PROBE **);
extern int route_pool_wait(ROUTE *, long long);
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
