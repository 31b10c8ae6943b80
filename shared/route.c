/*
 * NAME
 *	route 3
 * SUMMARY
 *	the engine: discovery, policy, MX, DANE, probes, verdict
 * DESCRIPTION
 *	See route.h. This module orchestrates and keeps time; every rule it
 *	applies is cited where it is applied, and every protocol detail
 *	lives in the module that owns it (txt.c, policy.c, dns.c, fetch.c,
 *	probe.c).
 *
 *	Threads: route_check() runs the per-MX-host work (address lookup,
 *	TLSA lookup, probe) on up to opts.probe_parallel short-lived worker
 *	threads that take hosts from a shared index. Each worker writes
 *	only its own VERDICT_HOST; the VERDICT's shared fields are written
 *	after the workers are joined.
 *
 *	Single flight: r->flights lists the domains being checked; a
 *	route_check() that finds its domain there waits on r->flight_cond
 *	(within its own budget) for the leader's verdict and copies it.
 *	A ROUTE_FLIGHT is freed by the last of its leader and waiters.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cache_negative.h"
#include "cache_probe.h"
#include "clock.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "log.h"
#include "policy.h"
#include "probe.h"
#include "route.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "txt.h"
#include "verdict.h"

#define ROUTE_PATH_MAX		1024
#define ROUTE_MIN_TTL		300	/* warn below this (seed 002) */
#define ROUTE_WORKERS_MAX	16
#define ROUTE_LOCK_POLL_MS	50	/* poll for another node's fetch */
#define ROUTE_REFRESH_MAX	8	/* background refresh threads, at most */
#define ROUTE_REFRESH_DEFAULT	2
#define ROUTE_QUEUE_MAX		256	/* queued refresh jobs */
#define ROUTE_SEEN_BUCKETS	4096
#define ROUTE_SEEN_MAX		100000	/* domains remembered for refresh */
#define ROUTE_SEEN_LIFE		86400	/* "seen in the last day" */
#define ROUTE_RETRY_S		300	/* one failed refresh per 5 min */
#define ROUTE_SCAN_MAX		256	/* refresh jobs queued per tick */
#define ROUTE_TICK_DEFAULT_MS	60000

#define ROUTE_POLICY_RCPT	0	/* a lookup: stale-while-revalidate */
#define ROUTE_POLICY_RECHECK	1	/* background: TXT recheck, fetch on a new id */
#define ROUTE_POLICY_REFETCH	2	/* background: fetch even with the same id */

typedef struct ROUTE_JOB {
    char    domain[DOMAIN_MAX + 1];
    int     mode;			/* ROUTE_POLICY_RECHECK or _REFETCH */
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
    ROUTE_JOB queue[ROUTE_QUEUE_MAX];
    int     queue_head;
    int     queue_len;
    ROUTE_SEEN *seen[ROUTE_SEEN_BUCKETS];
    int     seen_count;
};

/*
 * Per-host work of one route_check(), shared with its worker threads. The
 * workers own their copies of the inputs and write only their own slots;
 * the last of route_hosts() and the workers to let go frees it, so that
 * with ROUTE_FIRST route_check() can return while slow probes finish.
 */
typedef struct ROUTE_HOSTS {
    ROUTE  *route;
    long long deadline;
    int     mx_secure;			/* the MX RRset is DNSSEC-secure */
    int     policy_active;		/* an MTA-STS policy in testing/enforce */
    int     host_count;
    pthread_mutex_t lock;
    pthread_cond_t cond;		/* CLOCK_MONOTONIC */
    int     refs;			/* route_hosts() + running workers */
    int     next;			/* next host index to take */
    int     finished;			/* hosts done */
    int     any_pass;
    int     done[VERDICT_HOSTS_MAX];
    int     listed[VERDICT_HOSTS_MAX];	/* RFC 8461 §4.1 match, precomputed */
    int     temp[VERDICT_HOSTS_MAX];	/* failure may be transient */
    int     candidate[VERDICT_HOSTS_MAX];	/* probed for a route */
    VERDICT_HOST host[VERDICT_HOSTS_MAX];
} ROUTE_HOSTS;

static void route_refresh_start(ROUTE *);
static void route_refresh_stop(ROUTE *);
static int route_refresh_enqueue(ROUTE *, const char *, int);
static void route_seen_note(ROUTE *, const char *);

/* Milliseconds left before the deadline, capped, never negative. */

static int route_left(long long deadline, int cap)
{
    long long left = deadline - clock_mono_ms();

    if (left <= 0)
	return (0);
    return (left < cap ? (int) left : cap);
}

int     route_create(const ROUTE_OPTS *opts, ROUTE **out, WHY *why)
{
    ROUTE  *r = 0;
    PROBE_OPTS popts;
    int     status = STATUS_FAIL;

    *out = 0;
    if ((r = calloc(1, sizeof(*r))) == 0) {
	why_set(why, "out of memory");
	goto done;
    }
    r->opts = *opts;
    /* Empty probe_helo_name: the system host name, as Postfix's myhostname. */
    if (opts->helo_name && *opts->helo_name)
	(void) str_copy(r->helo, sizeof(r->helo), opts->helo_name);
    else if (gethostname(r->helo, sizeof(r->helo) - 1) != 0 || r->helo[0] == 0)
	(void) str_copy(r->helo, sizeof(r->helo), "localhost");
    r->helo[sizeof(r->helo) - 1] = 0;
    (void) str_copy(r->ca_file, sizeof(r->ca_file), opts->ca_file ? opts->ca_file : "");
    (void) str_copy(r->ca_path, sizeof(r->ca_path), opts->ca_path ? opts->ca_path : "");
    r->opts.helo_name = r->helo;
    r->opts.ca_file = r->ca_file;
    r->opts.ca_path = r->ca_path;
    if (r->opts.probe_parallel < 1)
	r->opts.probe_parallel = 1;
    if (r->opts.probe_parallel > ROUTE_WORKERS_MAX)
	r->opts.probe_parallel = ROUTE_WORKERS_MAX;
    if ((status = dns_create(&opts->dns, &r->dns, why)) != STATUS_OK)
	goto done;
    memset(&r->opts.dns, 0, sizeof(r->opts.dns));	/* the caller's; used only above */
    if ((status = fetch_init(why)) != STATUS_OK)
	goto done;
    memset(&popts, 0, sizeof(popts));
    popts.ca_file = r->ca_file;
    popts.ca_path = r->ca_path;
    if ((status = probe_init(&popts, why)) != STATUS_OK)
	goto done;
    {
	CACHE_OPTS copts = opts->cache;
	pthread_condattr_t ca;

	if (copts.memory_entries <= 0)
	    copts.memory_entries = opts->cache_entries > 0 ? opts->cache_entries : 10000;
	if ((status = cache_open(&copts, &r->cache, why)) != STATUS_OK)
	    goto done;
	memset(&r->opts.cache, 0, sizeof(r->opts.cache));	/* the caller's strings */
	(void) pthread_mutex_init(&r->flight_lock, 0);
	(void) pthread_condattr_init(&ca);
	(void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&r->flight_cond, &ca);
	(void) pthread_mutex_init(&r->refresh_lock, 0);
	(void) pthread_cond_init(&r->refresh_cond, &ca);
	(void) pthread_condattr_destroy(&ca);
    }
    route_refresh_start(r);
    *out = r;
    r = 0;
    status = STATUS_OK;

done:
    route_free(&r);
    return (status);
}

void    route_free(ROUTE **rp)
{
    ROUTE  *r;

    if (rp == 0 || (r = *rp) == 0)
	return;
    if (r->cache) {
	route_refresh_stop(r);
	/* Host workers left running by ROUTE_FIRST still use the resolver. */
	(void) pthread_mutex_lock(&r->flight_lock);
	while (r->workers > 0)
	    (void) pthread_cond_wait(&r->flight_cond, &r->flight_lock);
	(void) pthread_mutex_unlock(&r->flight_lock);
    }
    dns_free(&r->dns);
    if (r->cache) {
	ROUTE_SEEN *e, *next;
	int     i;

	(void) pthread_mutex_destroy(&r->flight_lock);
	(void) pthread_cond_destroy(&r->flight_cond);
	(void) pthread_mutex_destroy(&r->refresh_lock);
	(void) pthread_cond_destroy(&r->refresh_cond);
	for (i = 0; i < ROUTE_SEEN_BUCKETS; i++)
	    for (e = r->seen[i]; e; e = next) {
		next = e->next;
		free(e);
	    }
    }
    cache_free(&r->cache);
    free(r);
    *rp = 0;
}

/* Map a probe reason to a verdict reason; say whether it may be transient. */

static int route_probe_reason(int probe_reason, int *temp)
{
    *temp = 0;
    switch (probe_reason) {
    case PROBE_OK:
	return (REASON_NONE);
    case PROBE_STARTTLS_NOT_SUPPORTED:
	return (REASON_STARTTLS_NOT_SUPPORTED);
    case PROBE_CERT_HOST_MISMATCH:
	return (REASON_CERT_HOST_MISMATCH);
    case PROBE_CERT_EXPIRED:
	return (REASON_CERT_EXPIRED);
    case PROBE_CERT_NOT_TRUSTED:
	return (REASON_CERT_NOT_TRUSTED);
    case PROBE_TLSA_INVALID:
	return (REASON_TLSA_INVALID);
    case PROBE_UNREACHABLE:
	*temp = 1;
	return (REASON_UNREACHABLE);
    case PROBE_TIMEOUT:
	*temp = 1;
	return (REASON_TIMEOUT);
    case PROBE_PROTOCOL:
	*temp = 1;
	return (REASON_PROTOCOL);
    default:
	return (REASON_VALIDATION_FAILURE);
    }
}

/* A TLSA RRset with at least one usable record (the rule is probe_tlsa_usable()). */

static int route_tlsa_usable(const DNS_TLSA *tlsa)
{
    int     i;

    for (i = 0; i < tlsa->count; i++)
	if (probe_tlsa_usable(&tlsa->rr[i]))
	    return (1);
    return (0);
}

/*
 * Probe results are cached per MX host (RFC 8461 section 4: the checks
 * are per host), under the host name, port and DANE flag (cache.h).
 * Returns 1 when caching is on.
 */
static int route_probe_caching(const ROUTE *r)
{
    return (r->opts.cache_success_ttl > 0 || r->opts.cache_failure_ttl > 0);
}

/*
 * Load a cached probe result of host idx with this DANE flag into its
 * slot. shared: read the backend only (another process's result). A
 * DANE=0 result answers for a DNSSEC-secure MX RRset only if it was
 * made for one (TLSA records were looked at), never as a downgrade.
 * Returns 1 on a hit.
 */
static int route_probe_load(ROUTE_HOSTS *hs, int idx, int dane, int shared)
{
    ROUTE  *r = hs->route;
    VERDICT_HOST *h = &hs->host[idx];
    VERDICT_HOST got;
    CACHE_POLICY rec;
    int     probe_reason;
    int     secure;
    int     hit = 0;

    if (cache_probe_get(r->cache, h->name, r->opts.probe_port, dane, shared, &rec) != STATUS_OK)
	return (0);
    memset(&got, 0, sizeof(got));
    if (strlen(rec.body) != rec.len || cache_probe_decode(rec.body, &got, &probe_reason, &secure) != STATUS_OK) {
	/* Backend data is untrusted: a defect is a miss, and the host is probed. */
	log_warn("cache: probe result of %s port %d dane %d malformed; ignored", h->name,
		 r->opts.probe_port, dane);
	goto done;
    }
    if (!dane && hs->mx_secure && !secure)
	goto done;
    h->dane = dane;
    h->passed = got.passed;
    h->reason = route_probe_reason(probe_reason, &hs->temp[idx]);
    (void) str_copy(h->detail, sizeof(h->detail), got.detail);
    (void) str_copy(h->address, sizeof(h->address), got.address);
    (void) str_copy(h->tls_version, sizeof(h->tls_version), got.tls_version);
    (void) str_copy(h->cert_issuer, sizeof(h->cert_issuer), got.cert_issuer);
    (void) str_copy(h->cname, sizeof(h->cname), got.cname);
    h->cert_not_after = got.cert_not_after;
    memcpy(h->cert_names, got.cert_names, sizeof(h->cert_names));
    h->cert_name_count = got.cert_name_count;
    h->probe_ms = 0;				/* not probed now */
    hs->candidate[idx] = 1;
    hit = 1;

done:
    cache_policy_clear(&rec);
    return (hit);
}

/* Store host idx's fresh probe result (probe_reason from probe.h). */

static void route_probe_store(ROUTE_HOSTS *hs, int idx, int probe_reason)
{
    ROUTE  *r = hs->route;
    VERDICT_HOST *h = &hs->host[idx];
    char    body[CACHE_PROBE_BODY_MAX + 1];
    long    ttl = h->passed ? r->opts.cache_success_ttl : r->opts.cache_failure_ttl;

    /* A probe cut short by this lookup's own budget says nothing about the host. */
    if (ttl <= 0 || (!h->passed && route_left(hs->deadline, 1) == 0))
	return;
    if (ttl > CACHE_PROBE_TTL_MAX)
	ttl = CACHE_PROBE_TTL_MAX;
    if (cache_probe_encode(h, probe_reason, hs->mx_secure, body, sizeof(body)) != STATUS_OK
	|| cache_probe_put(r->cache, h->name, r->opts.probe_port, h->dane, body, ttl) != STATUS_OK)
	log_warn("%s: cannot cache the probe result", h->name);
}

/*
 * Cluster-wide single flight for a probe (Redis): take the lock on the
 * host's probe key; when another node holds it, wait (within the budget)
 * for its result to appear in the shared cache. Returns 1 with the slot
 * filled from that result, else 0 with *locked saying whether to
 * unlock after the probe.
 */
static int route_probe_shared(ROUTE_HOSTS *hs, int idx, int *locked)
{
    ROUTE  *r = hs->route;
    VERDICT_HOST *h = &hs->host[idx];
    char    key[CACHE_KEY_MAX];
    int     lock_ms = r->opts.cache_lock_ms > 0 ? r->opts.cache_lock_ms :
	route_left(hs->deadline, 600000) + 1000;
    long long until = clock_mono_ms() + lock_ms;
    int     st;

    *locked = 0;
    if (cache_probe_key(key, sizeof(key), h->name, r->opts.probe_port, h->dane) != 0)
	return (0);
    while ((st = cache_lock(r->cache, key, lock_ms)) == STATUS_RETRY) {
	if (clock_mono_ms() + ROUTE_LOCK_POLL_MS >= until
	    || route_left(hs->deadline, ROUTE_LOCK_POLL_MS) < ROUTE_LOCK_POLL_MS)
	    return (0);				/* probe here, without the lock */
	(void) usleep(ROUTE_LOCK_POLL_MS * 1000);
	if (route_probe_load(hs, idx, h->dane, 1))
	    return (1);
    }
    *locked = (st == STATUS_OK);
    /* Taken: another node may have finished just before. */
    if (*locked && route_probe_load(hs, idx, h->dane, 1)) {
	cache_unlock(r->cache, key);
	*locked = 0;
	return (1);
    }
    return (0);
}

/* One MX host: address, TLSA, probe. Writes only h and its slots in hs. */

static void route_host(ROUTE_HOSTS *hs, int idx)
{
    ROUTE  *r = hs->route;
    VERDICT_HOST *h = &hs->host[idx];
    DNS_ADDR *addr = 0;
    DNS_TLSA *tlsa = 0;
    PROBE_OPTS popts;
    PROBE_RESULT res;
    WHY     why;
    char    key[CACHE_KEY_MAX];
    int     caching = route_probe_caching(r);
    int     locked = 0;
    int     st;
    int     i;

    why.text[0] = 0;
    if (route_left(hs->deadline, 1) == 0) {
	h->reason = REASON_NOT_PROBED;
	hs->temp[idx] = 1;
	goto done;
    }
    h->listed = hs->listed[idx];

    /*
     * A fresh cached probe result costs no network access: DANE first
     * (only a DNSSEC-secure MX RRset can make a host a DANE host), then
     * the policy's own check of a listed host.
     */
    if (caching && ((hs->mx_secure && route_probe_load(hs, idx, 1, 0))
		    || (h->listed && route_probe_load(hs, idx, 0, 0))))
	goto done;

    st = dns_addr(r->dns, h->name, route_left(hs->deadline, r->opts.dns_timeout_ms), &addr, &why);
    if (st != STATUS_OK) {
	h->reason = (addr && addr->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	hs->temp[idx] = (st == STATUS_RETRY);
	(void) text_sanitize(h->detail, sizeof(h->detail), why_text(&why));
	goto done;
    }
    if (addr->info.cname[0])
	(void) text_sanitize(h->cname, sizeof(h->cname), addr->info.cname);

    /*
     * RFC 7672 §2.2.2: TLSA records are looked up only when the MX RRset
     * and the host's address records are DNSSEC-secure.
     */
    if (hs->mx_secure && addr->info.security == DNS_SECURE) {
	st = dns_tlsa(r->dns, h->name, r->opts.probe_port,
		      route_left(hs->deadline, r->opts.dns_timeout_ms), &tlsa, &why);
	if (st == STATUS_OK && tlsa->info.security == DNS_SECURE && route_tlsa_usable(tlsa)) {
	    h->dane = 1;
	} else if (st == STATUS_RETRY) {
	    /* RFC 7672 §2.1.1: a bogus or failed TLSA lookup is never a downgrade. */
	    h->dane = 1;
	    h->reason = (tlsa && tlsa->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	    hs->temp[idx] = 1;
	    (void) text_sanitize(h->detail, sizeof(h->detail), why_text(&why));
	    goto done;
	}
    }
    /* RFC 8461 §2: a host with usable TLSA records is decided by DANE. */
    hs->candidate[idx] = h->dane || h->listed;
    if (!hs->candidate[idx]) {
	if (hs->policy_active) {
	    h->reason = REASON_MX_NOT_LISTED;
	    (void) snprintf(h->detail, sizeof(h->detail), "not listed in the MTA-STS policy");
	} else {
	    h->reason = REASON_NONE;
	}
	goto done;
    }
    if (caching && route_probe_shared(hs, idx, &locked))
	goto done;
    memset(&popts, 0, sizeof(popts));
    popts.port = r->opts.probe_port;
    popts.connect_timeout_ms = r->opts.probe_connect_timeout_ms;
    popts.read_timeout_ms = r->opts.probe_read_timeout_ms;
    popts.deadline_ms = hs->deadline;
    popts.helo_name = r->helo;
    popts.ca_file = r->ca_file[0] ? r->ca_file : 0;
    popts.ca_path = r->ca_path[0] ? r->ca_path : 0;
    popts.allow_private = r->opts.allow_private;
    memset(&res, 0, sizeof(res));
    (void) probe_mx(&popts, h->name, addr->addr, addr->count, h->dane ? tlsa : 0, &res);
    h->reason = route_probe_reason(res.reason, &hs->temp[idx]);
    h->passed = (res.reason == PROBE_OK);
    (void) text_sanitize(h->detail, sizeof(h->detail), res.detail);
    (void) text_sanitize(h->address, sizeof(h->address), res.address);
    (void) text_sanitize(h->tls_version, sizeof(h->tls_version), res.tls_version);
    (void) text_sanitize(h->cert_issuer, sizeof(h->cert_issuer), res.issuer);
    h->cert_not_after = (time_t) res.not_after;
    for (i = 0; i < res.name_count && i < 8; i++)
	(void) text_sanitize(h->cert_names[i], sizeof(h->cert_names[i]), res.names[i]);
    h->cert_name_count = i;
    h->probe_ms = res.elapsed_ms;
    if (caching)
	route_probe_store(hs, idx, res.reason);

done:
    if (locked && cache_probe_key(key, sizeof(key), h->name, r->opts.probe_port, h->dane) == 0)
	cache_unlock(r->cache, key);
    dns_addr_free(&addr);
    dns_tlsa_free(&tlsa);
}

/* Drop one reference; the last one frees. */

static void route_hosts_release(ROUTE_HOSTS *hs)
{
    int     last;

    (void) pthread_mutex_lock(&hs->lock);
    last = (--hs->refs == 0);
    (void) pthread_mutex_unlock(&hs->lock);
    if (last) {
	(void) pthread_cond_destroy(&hs->cond);
	(void) pthread_mutex_destroy(&hs->lock);
	free(hs);
    }
}

static void *route_worker(void *arg)
{
    ROUTE_HOSTS *hs = (ROUTE_HOSTS *) arg;
    ROUTE  *r = hs->route;
    int     idx;

    for (;;) {
	(void) pthread_mutex_lock(&hs->lock);
	idx = hs->next < hs->host_count ? hs->next++ : -1;
	(void) pthread_mutex_unlock(&hs->lock);
	if (idx < 0)
	    break;
	route_host(hs, idx);
	(void) pthread_mutex_lock(&hs->lock);
	hs->done[idx] = 1;
	hs->finished++;
	if (hs->host[idx].passed)
	    hs->any_pass = 1;
	(void) pthread_cond_broadcast(&hs->cond);
	(void) pthread_mutex_unlock(&hs->lock);
    }
    route_hosts_release(hs);
    (void) pthread_mutex_lock(&r->flight_lock);
    r->workers--;
    (void) pthread_cond_broadcast(&r->flight_cond);
    (void) pthread_mutex_unlock(&r->flight_lock);
    return (0);
}

/*
 * Run route_host() for every host of v on up to probe_parallel detached
 * threads and wait until all are done, or (ROUTE_FIRST) one has passed,
 * or the deadline (plus a grace for a probe's last write) has come.
 * Copies the results of the finished hosts into v; a host still running
 * stays REASON_NOT_PROBED and counts as transient. cand[] and temp[]
 * receive each host's candidate and transient flags.
 */
#define ROUTE_GRACE_MS	1500

static void route_hosts(ROUTE *r, VERDICT *v, const POLICY *policy, long long deadline, int flags,
			        int *cand, int *temp)
{
    ROUTE_HOSTS *hs;
    pthread_attr_t attr;
    pthread_condattr_t ca;
    pthread_t tid;
    struct timespec ts;
    long long until = deadline + ROUTE_GRACE_MS;
    long long now;
    int     want = r->opts.probe_parallel;
    int     started = 0;
    int     i;

    for (i = 0; i < v->host_count; i++) {
	cand[i] = 0;
	temp[i] = 1;
    }
    if ((hs = calloc(1, sizeof(*hs))) == 0) {
	log_warn("%s: out of memory for the MX host checks", v->domain);
	return;
    }
    hs->route = r;
    hs->deadline = deadline;
    hs->mx_secure = v->mx_secure;
    hs->policy_active = (policy && policy->mode != POLICY_MODE_NONE);
    hs->host_count = v->host_count;
    for (i = 0; i < v->host_count; i++) {
	hs->host[i] = v->host[i];
	/* RFC 8461 §4.1: the MX host name is matched against the policy. */
	hs->listed[i] = hs->policy_active && policy_match(policy, v->host[i].name);
    }
    (void) pthread_mutex_init(&hs->lock, 0);
    (void) pthread_condattr_init(&ca);
    (void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    (void) pthread_cond_init(&hs->cond, &ca);
    (void) pthread_condattr_destroy(&ca);
    hs->refs = 1;

    if (want > v->host_count)
	want = v->host_count;
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (i = 0; i < want; i++) {
	(void) pthread_mutex_lock(&hs->lock);
	hs->refs++;
	(void) pthread_mutex_unlock(&hs->lock);
	(void) pthread_mutex_lock(&r->flight_lock);
	r->workers++;
	(void) pthread_mutex_unlock(&r->flight_lock);
	if (pthread_create(&tid, &attr, route_worker, hs) == 0) {
	    started++;
	    continue;
	}
	(void) pthread_mutex_lock(&hs->lock);
	hs->refs--;
	(void) pthread_mutex_unlock(&hs->lock);
	(void) pthread_mutex_lock(&r->flight_lock);
	r->workers--;
	(void) pthread_mutex_unlock(&r->flight_lock);
    }
    (void) pthread_attr_destroy(&attr);
    if (started == 0) {				/* no threads: do the work here */
	(void) pthread_mutex_lock(&hs->lock);
	hs->refs++;
	(void) pthread_mutex_unlock(&hs->lock);
	(void) pthread_mutex_lock(&r->flight_lock);
	r->workers++;
	(void) pthread_mutex_unlock(&r->flight_lock);
	(void) route_worker(hs);
    }

    (void) pthread_mutex_lock(&hs->lock);
    while (hs->finished < hs->host_count && !((flags & ROUTE_FIRST) && hs->any_pass)
	   && (now = clock_mono_ms()) < until) {
	ts.tv_sec = (time_t) (until / 1000);
	ts.tv_nsec = (long) (until % 1000) * 1000000L;
	(void) pthread_cond_timedwait(&hs->cond, &hs->lock, &ts);
    }
    for (i = 0; i < v->host_count; i++) {
	if (hs->done[i]) {
	    v->host[i] = hs->host[i];
	    cand[i] = hs->candidate[i];
	    temp[i] = hs->temp[i];
	} else if (hs->any_pass) {
	    /* ROUTE_FIRST: a route exists; this host's result is not needed. */
	    v->host[i].listed = hs->listed[i];
	    v->host[i].reason = REASON_NONE;
	    (void) snprintf(v->host[i].detail, sizeof(v->host[i].detail), "not needed: another MX host passed");
	    temp[i] = 0;
	} else {
	    v->host[i].listed = hs->listed[i];
	    (void) snprintf(v->host[i].detail, sizeof(v->host[i].detail), "no result within the time budget");
	    cand[i] = 1;
	}
    }
    (void) pthread_mutex_unlock(&hs->lock);
    route_hosts_release(hs);
}

/*
 * Cluster-wide single flight: take the lock on the domain's fetch. When
 * another node holds it, wait (within the budget and the lock's life)
 * for its policy with this id to appear in the shared cache, and use
 * it. Null: fetch here (lock taken, lock expired, or no shared cache).
 */
static POLICY *route_fetch_shared(ROUTE *r, VERDICT *v, const char *id, long long deadline)
{
    CACHE_POLICY got;
    POLICY *policy = 0;
    int     lock_ms = r->opts.cache_lock_ms > 0 ? r->opts.cache_lock_ms :
	r->opts.dns_timeout_ms + r->opts.fetch_timeout_ms + 1000;
    long long until = clock_mono_ms() + lock_ms;

    while (cache_lock(r->cache, v->domain, lock_ms) == STATUS_RETRY) {
	if (clock_mono_ms() + ROUTE_LOCK_POLL_MS >= until || route_left(deadline, ROUTE_LOCK_POLL_MS) < ROUTE_LOCK_POLL_MS)
	    break;
	(void) usleep(ROUTE_LOCK_POLL_MS * 1000);
	if (cache_policy_get_shared(r->cache, v->domain, &got) == STATUS_OK) {
	    if (strcmp(got.txt_id, id) == 0 && policy_parse(got.body, got.len, &policy, 0) == STATUS_OK)
		v->policy_cached = 1;
	    cache_policy_clear(&got);
	    if (policy)
		break;
	}
    }
    return (policy);
}

/* Fetch and parse the policy; on failure set *reason and v->detail. */

static POLICY *route_fetch(ROUTE *r, VERDICT *v, const char *id, long long deadline, int *reason)
{
    char    host[300];
    DNS_ADDR *addr = 0;
    FETCH_OPTS fopts;
    FETCH_RESULT res;
    CACHE_POLICY put;
    POLICY *policy = 0;
    WHY     why;
    long long t0 = clock_mono_ms();
    int     locked = 0;
    int     st;

    why.text[0] = 0;
    memset(&res, 0, sizeof(res));
    memset(&put, 0, sizeof(put));
    if ((policy = route_fetch_shared(r, v, id, deadline)) != 0)
	goto done;
    locked = 1;
    (void) snprintf(host, sizeof(host), "mta-sts.%s", v->domain);
    st = dns_addr(r->dns, host, route_left(deadline, r->opts.dns_timeout_ms), &addr, &why);
    if (st != STATUS_OK) {
	/* RFC 8460 §4.3.2.2: the policy host is unreachable. */
	*reason = REASON_STS_FETCH_ERROR;
	(void) text_sanitize(v->detail, sizeof(v->detail), why_text(&why));
	goto done;
    }
    v->policy_host_ttl = addr->info.ttl;
    if (addr->info.ttl < ROUTE_MIN_TTL)
	/* Seed 002: a short TTL turns any DNS hiccup into sts-policy-fetch-error. */
	verdict_warn(v, "%s has a TTL of %d s; under %d s, a DNS outage soon makes the policy unfetchable",
		     host, addr->info.ttl, ROUTE_MIN_TTL);
    memset(&fopts, 0, sizeof(fopts));
    fopts.connect_timeout_ms = r->opts.fetch_connect_timeout_ms;
    fopts.timeout_ms = r->opts.fetch_timeout_ms;
    fopts.deadline_ms = deadline;
    fopts.ca_file = r->ca_file[0] ? r->ca_file : 0;
    fopts.ca_path = r->ca_path[0] ? r->ca_path : 0;
    fopts.allow_private = r->opts.allow_private;
    st = fetch_policy(&fopts, v->domain, addr->addr, addr->count, &res);
    if (st != STATUS_OK) {
	*reason = res.reason == FETCH_ERR_WEBPKI ? REASON_STS_WEBPKI_INVALID :
	    res.reason == FETCH_ERR_INVALID ? REASON_STS_POLICY_INVALID : REASON_STS_FETCH_ERROR;
	(void) text_sanitize(v->detail, sizeof(v->detail), res.detail);
	goto done;
    }
    if (policy_parse(res.body, res.len, &policy, &why) != STATUS_OK) {
	*reason = REASON_STS_POLICY_INVALID;
	(void) text_sanitize(v->detail, sizeof(v->detail), why_text(&why));
	goto done;
    }
    /* RFC 8461 §5.1: remember the policy for max_age (trust on first use). */
    (void) str_copy(put.txt_id, sizeof(put.txt_id), id);
    put.fetched = clock_now();
    put.max_age = policy->max_age;
    put.body = res.body;
    put.len = res.len;
    if (cache_policy_put(r->cache, v->domain, &put) != STATUS_OK)
	log_warn("%s: cannot cache the MTA-STS policy", v->domain);

done:
    if (locked)
	cache_unlock(r->cache, v->domain);
    v->fetch_ms += (long) (clock_mono_ms() - t0);
    fetch_result_clear(&res);
    dns_addr_free(&addr);
    return (policy);
}

/* Record that the cached policy's TXT id was confirmed (or retried) now. */

static void route_policy_checked(ROUTE *r, const char *domain, const CACHE_POLICY *cached, time_t now)
{
    CACHE_POLICY upd = *cached;

    if (r->opts.txt_recheck_interval <= 0)
	return;
    upd.checked = now;
    if (cache_policy_put(r->cache, domain, &upd) != STATUS_OK)
	log_warn("%s: cannot update the cached MTA-STS policy", domain);
}

/*
 * MTA-STS discovery and policy. Returns the policy in force (fetched or
 * cached), or null. *reason is set when a policy was announced but
 * could not be obtained, or discovery failed temporarily.
 */
static POLICY *route_policy(ROUTE *r, VERDICT *v, long long deadline, int *reason, int mode)
{
    char    name[300];
    DNS_TXT *txt = 0;
    TXT_RECORD rec;
    CACHE_POLICY cached;
    POLICY *policy = 0;
    WHY     why;
    int     have_cache;
    int     txt_temp = 0;
    int     st;
    time_t  now = clock_now();

    why.text[0] = 0;
    *reason = REASON_NONE;
    have_cache = (cache_policy_get(r->cache, v->domain, &cached) == STATUS_OK);

    /*
     * RFC 8461 §3.3 lets a sender check the TXT record less often than
     * every message: within txt_recheck_interval of the last time its id
     * was seen, a cached policy is used as it is, without any lookup.
     * After that the recheck is due; it is queued for a background
     * thread and this lookup still answers from the unexpired cached
     * policy (stale-while-revalidate). Without background threads the
     * recheck is done here.
     */
    if (mode == ROUTE_POLICY_RCPT && have_cache && r->opts.txt_recheck_interval > 0
	&& policy_parse(cached.body, cached.len, &policy, 0) == STATUS_OK) {
	if (now - (cached.checked ? cached.checked : cached.fetched) < r->opts.txt_recheck_interval
	    || route_refresh_enqueue(r, v->domain, ROUTE_POLICY_RECHECK) == 0) {
	    v->has_txt = 1;
	    (void) str_copy(v->txt_id, sizeof(v->txt_id), cached.txt_id);
	    v->policy_cached = 1;
	    goto found;
	}
	policy_free(&policy);
    }

    /* RFC 8461 §3.1: the TXT record at _mta-sts.<domain>. */
    (void) snprintf(name, sizeof(name), "_mta-sts.%s", v->domain);
    st = dns_txt(r->dns, name, route_left(deadline, r->opts.dns_timeout_ms), &txt, &why);
    if (st == STATUS_OK) {
	v->txt_ttl = txt->info.ttl;
	st = txt_select((const char *const *) txt->text, txt->len, (size_t) txt->count, &rec, &why);
	if (st == STATUS_OK) {
	    v->has_txt = 1;
	    (void) str_copy(v->txt_id, sizeof(v->txt_id), rec.id);
	} else if (st == STATUS_INVAL) {
	    /* RFC 8461 §3.1: then assume the domain has no available policy. */
	    verdict_warn(v, "%s TXT ignored: %s", name, why_text(&why));
	}
    } else if (st == STATUS_RETRY) {
	txt_temp = (txt && txt->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	(void) snprintf(v->detail, sizeof(v->detail), "%s TXT: %s", name, why_text(&why));
    }
    if (v->has_txt && v->txt_ttl < ROUTE_MIN_TTL)
	verdict_warn(v, "%s TXT has a TTL of %d s; under %d s, a DNS outage soon loses the policy",
		     name, v->txt_ttl, ROUTE_MIN_TTL);

    if (v->has_txt && have_cache && strcmp(cached.txt_id, v->txt_id) == 0 && mode != ROUTE_POLICY_REFETCH) {
	/* RFC 8461 §3.3: the id is unchanged, so the cached policy is current. */
	(void) policy_parse(cached.body, cached.len, &policy, 0);
	v->policy_cached = 1;
	route_policy_checked(r, v->domain, &cached, now);
    } else if (v->has_txt || (mode == ROUTE_POLICY_REFETCH && have_cache && txt_temp)) {
	/* A proactive refresh with the TXT lookup failing fetches under the cached id. */
	policy = route_fetch(r, v, v->has_txt ? v->txt_id : cached.txt_id, deadline, reason);
	if (policy == 0 && have_cache) {
	    /* Retry the refresh after txt_recheck_interval, not on every message. */
	    route_policy_checked(r, v->domain, &cached, now);
	    /* RFC 8461 §5.1: a fresh cached policy stays in force. */
	    verdict_warn(v, "policy refresh failed (%s: %s); the cached policy stays in force",
			 verdict_reason_name(*reason), v->detail);
	    *reason = REASON_NONE;
	    v->detail[0] = 0;
	    (void) policy_parse(cached.body, cached.len, &policy, 0);
	    v->policy_cached = 1;
	}
    } else if (have_cache) {
	/* RFC 8461 §5.1 and §10.2: neither a failed nor a missing TXT lookup removes a cached policy. */
	verdict_warn(v, "%s; the cached policy stays in force until it expires",
		     txt_temp ? "TXT lookup failed" : "no MTA-STS TXT record");
	v->detail[0] = 0;
	(void) policy_parse(cached.body, cached.len, &policy, 0);
	v->policy_cached = 1;
    } else if (txt_temp) {
	*reason = txt_temp;
    }

found:
    if (policy && mode == ROUTE_POLICY_RCPT)
	route_seen_note(r, v->domain);
    if (policy) {
	int     i;

	v->has_policy = 1;
	v->policy_mode = policy->mode;
	v->policy_max_age = policy->max_age;
	v->policy_mx_count = policy->mx_count;
	for (i = 0; i < policy->mx_count && i < 16; i++)
	    (void) text_sanitize(v->policy_mx[i], sizeof(v->policy_mx[i]), policy->mx[i]);
    }
    if (have_cache)
	cache_policy_clear(&cached);
    dns_txt_free(&txt);
    return (policy);
}

/*
 * Background refresh. A small pool of workers takes jobs (a domain and
 * a mode) from a bounded queue; a domain is queued or in flight at most
 * once. The scheduler remembers the domains whose policy was used in
 * the last day (ROUTE_SEEN, hashed, capped) and queues a proactive
 * refetch refresh_ahead before a policy's max_age ends.
 */

static unsigned route_seen_hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 16777619u;
    return (h % ROUTE_SEEN_BUCKETS);
}

/* A lookup used the domain's policy: remember it for the proactive refresh. */

static void route_seen_note(ROUTE *r, const char *domain)
{
    ROUTE_SEEN *e;
    unsigned b = route_seen_hash(domain);
    time_t  now = clock_now();

    if (!r->scheduler)
	return;
    (void) pthread_mutex_lock(&r->refresh_lock);
    for (e = r->seen[b]; e; e = e->next)
	if (strcmp(e->domain, domain) == 0)
	    break;
    if (e == 0 && r->seen_count < ROUTE_SEEN_MAX && (e = calloc(1, sizeof(*e))) != 0) {
	(void) str_copy(e->domain, sizeof(e->domain), domain);
	e->next = r->seen[b];
	r->seen[b] = e;
	r->seen_count++;
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
static int route_refresh_enqueue(ROUTE *r, const char *domain, int mode)
{
    int     i;
    int     status = 0;

    (void) pthread_mutex_lock(&r->refresh_lock);
    if (r->refresh_threads == 0 || r->refresh_stop) {
	status = -1;
	goto done;
    }
    for (i = 0; i < r->refresh_threads; i++)
	if (strcmp(r->refresh_busy[i], domain) == 0)
	    goto done;
    for (i = 0; i < r->queue_len; i++)
	if (strcmp(r->queue[(r->queue_head + i) % ROUTE_QUEUE_MAX].domain, domain) == 0)
	    goto done;
    if (r->queue_len >= ROUTE_QUEUE_MAX)
	goto done;
    i = (r->queue_head + r->queue_len) % ROUTE_QUEUE_MAX;
    (void) str_copy(r->queue[i].domain, sizeof(r->queue[i].domain), domain);
    r->queue[i].mode = mode;
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

    if ((v = verdict_create(job->domain)) == 0)
	return;
    policy = route_policy(r, v, deadline, &reason, job->mode);
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
	(void) pthread_mutex_unlock(&r->refresh_lock);
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

/* One scan: forget domains not seen for a day, queue the ones due. */

static void route_refresh_scan(ROUTE *r)
{
    char  (*due)[DOMAIN_MAX + 1] = 0;
    ROUTE_SEEN **pp, *e;
    CACHE_POLICY rec;
    time_t  now = clock_now();
    time_t  next;
    int     count = 0;
    int     i;

    if ((due = calloc(ROUTE_SCAN_MAX, sizeof(*due))) == 0)
	return;
    (void) pthread_mutex_lock(&r->refresh_lock);
    for (i = 0; i < ROUTE_SEEN_BUCKETS; i++) {
	for (pp = &r->seen[i]; (e = *pp) != 0;) {
	    if (now - e->seen >= ROUTE_SEEN_LIFE) {
		*pp = e->next;
		free(e);
		r->seen_count--;
		continue;
	    }
	    if (count < ROUTE_SCAN_MAX && now >= e->next_check && now - e->tried >= ROUTE_RETRY_S)
		(void) str_copy(due[count++], sizeof(due[0]), e->domain);
	    pp = &e->next;
	}
    }
    (void) pthread_mutex_unlock(&r->refresh_lock);

    for (i = 0; i < count; i++) {
	/* No cached policy (expired or lost) is due too: the domain was using one. */
	next = 0;
	if (cache_policy_get(r->cache, due[i], &rec) == STATUS_OK) {
	    next = route_refresh_due(r, &rec);
	    cache_policy_clear(&rec);
	}
	(void) pthread_mutex_lock(&r->refresh_lock);
	for (e = r->seen[route_seen_hash(due[i])]; e; e = e->next)
	    if (strcmp(e->domain, due[i]) == 0)
		break;
	if (e) {
	    e->next_check = next;
	    if (now >= next)
		e->tried = now;
	}
	(void) pthread_mutex_unlock(&r->refresh_lock);
	if (e && now >= next)
	    (void) route_refresh_enqueue(r, due[i], ROUTE_POLICY_REFETCH);
    }
    free(due);
}

static void *route_refresh_scheduler(void *arg)
{
    ROUTE  *r = (ROUTE *) arg;
    struct timespec ts;
    long long until;
    int     tick = r->opts.refresh_tick_ms > 0 ? r->opts.refresh_tick_ms : ROUTE_TICK_DEFAULT_MS;

    (void) pthread_mutex_lock(&r->refresh_lock);
    while (!r->refresh_stop) {
	until = clock_mono_ms() + tick;
	ts.tv_sec = (time_t) (until / 1000);
	ts.tv_nsec = (long) (until % 1000) * 1000000L;
	while (!r->refresh_stop && clock_mono_ms() < until)
	    (void) pthread_cond_timedwait(&r->refresh_cond, &r->refresh_lock, &ts);
	if (r->refresh_stop)
	    break;
	(void) pthread_mutex_unlock(&r->refresh_lock);
	route_refresh_scan(r);
	(void) pthread_mutex_lock(&r->refresh_lock);
    }
    (void) pthread_mutex_unlock(&r->refresh_lock);
    return (0);
}

/* Start the pool and the scheduler; without them lookups recheck in line. */

static void route_refresh_start(ROUTE *r)
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

static void route_refresh_stop(ROUTE *r)
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

/* RFC 8460 §3: the TLS-RPT record at _smtp._tls.<domain>. */

static void route_tlsrpt(ROUTE *r, VERDICT *v, long long deadline)
{
    char    name[300];
    DNS_TXT *txt = 0;
    int     i;

    (void) snprintf(name, sizeof(name), "_smtp._tls.%s", v->domain);
    if (dns_txt(r->dns, name, route_left(deadline, r->opts.dns_timeout_ms), &txt, 0) != STATUS_OK) {
	dns_txt_free(&txt);			/* a BOGUS answer comes with an empty result */
	return;
    }
    for (i = 0; i < txt->count; i++) {
	if (strncmp(txt->text[i], "v=TLSRPTv1", 10) == 0) {
	    (void) text_sanitize(v->tlsrpt, sizeof(v->tlsrpt), txt->text[i]);
	    break;
	}
    }
    dns_txt_free(&txt);
}

/*
 * A negative entry (cache.h, cache_negative.h): the domain has neither
 * MTA-STS nor a DNSSEC-secure MX. Returns 1 when v was filled from it.
 */
static int route_negative_load(ROUTE *r, VERDICT *v)
{
    CACHE_POLICY neg;
    int     ok;

    if (r->opts.cache_negative_ttl <= 0 || cache_negative_get(r->cache, v->domain, &neg) != STATUS_OK)
	return (0);
    /* Untrusted: a malformed line makes the whole entry a miss. */
    ok = (cache_negative_decode(neg.body, v) == STATUS_OK);
    if (!ok && neg.len)
	log_warn("cache: %s: malformed negative entry ignored", v->domain);
    cache_policy_clear(&neg);
    return (ok);
}

/* Remember that the domain has neither MTA-STS nor a secure MX. */

static void route_negative_store(ROUTE *r, const VERDICT *v)
{
    char    body[VERDICT_HOSTS_MAX * 270 + 16];

    if (cache_negative_encode(v, body, sizeof(body)) != STATUS_OK)
	return;
    if (cache_negative_put(r->cache, v->domain, body, r->opts.cache_negative_ttl) != STATUS_OK)
	log_warn("%s: cannot cache the absence of a policy", v->domain);
}

static int route_run(ROUTE *r, const char *domain, long long t0, long long deadline, int flags,
		             VERDICT **out, WHY *why)
{
    VERDICT *v = 0;
    DNS_MX *mx = 0;
    POLICY *policy = 0;
    int     cand[VERDICT_HOSTS_MAX];
    int     temp[VERDICT_HOSTS_MAX];
    WHY     dwhy;
    long long t1;
    int     negative = 0;
    int     reason = REASON_NONE;
    int     any_pass = 0, any_temp = 0, any_candidate = 0, any_dane = 0;
    int     status;
    int     st;
    int     i;

    *out = 0;
    dwhy.text[0] = 0;
    if ((v = verdict_create(domain)) == 0) {
	why_set(why, "out of memory");
	status = STATUS_RETRY;
	goto done;
    }
    status = STATUS_OK;

    /* A fresh negative entry: the verdict costs no network access. */
    if ((negative = route_negative_load(r, v)) != 0) {
	v->verdict = VERDICT_NO_POLICY;
	goto verdict;
    }

    /* MX records, RFC 5321 §5.1 (dns.c sorts them and finds null and implicit MX). */
    st = dns_mx(r->dns, domain, route_left(deadline, r->opts.dns_timeout_ms), &mx, &dwhy);
    if (st == STATUS_RETRY) {
	v->verdict = VERDICT_TEMPORARY;
	/* RFC 7672 §2.1.1: a bogus answer is a temporary failure, never a downgrade. */
	v->reason = (mx && mx->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	(void) text_sanitize(v->detail, sizeof(v->detail), why_text(&dwhy));
	goto verdict;
    }
    if (st != STATUS_OK) {
	v->verdict = VERDICT_NO_POLICY;
	verdict_warn(v, "%s has no MX record and no address: %s", domain, why_text(&dwhy));
	goto verdict;
    }
    if (mx->null_mx) {
	/* RFC 7505 §3: a domain with a null MX accepts no mail. */
	v->verdict = VERDICT_NULL_MX;
	goto verdict;
    }
    v->mx_secure = (mx->info.security == DNS_SECURE);
    v->implicit_mx = mx->implicit;
    for (i = 0; i < mx->count; i++)
	if (verdict_add_host(v, mx->host[i].name, mx->host[i].pref) == 0) {
	    verdict_warn(v, "only the first %d MX hosts are checked", VERDICT_HOSTS_MAX);
	    break;
	}

    policy = route_policy(r, v, deadline, &reason, ROUTE_POLICY_RCPT);
    v->dns_ms = (long) (clock_mono_ms() - t0) - v->fetch_ms;

    /* Most domains: no policy, no DNSSEC. Nothing to probe. */
    if (policy == 0 && !v->mx_secure) {
	v->verdict = reason != REASON_NONE ? VERDICT_TEMPORARY : VERDICT_NO_POLICY;
	v->reason = reason;
	goto verdict;
    }
    if (policy && policy->mode == POLICY_MODE_NONE && !v->mx_secure) {
	v->verdict = VERDICT_NONE;
	goto verdict;
    }

    t1 = clock_mono_ms();
    route_hosts(r, v, policy, deadline, flags, cand, temp);
    v->probe_ms = (long) (clock_mono_ms() - t1);

    for (i = 0; i < v->host_count; i++) {
	VERDICT_HOST *h = &v->host[i];

	if (h->cname[0])
	    /* RFC 2181 §10.3: an MX target must not be an alias (seed 001). */
	    verdict_warn(v, "MX %s is a CNAME for %s; senders verify the certificate against %s",
			 h->name, h->cname, h->name);
	if (h->dane)
	    any_dane = 1;
	if (!cand[i] && h->reason != REASON_DNSSEC_INVALID && h->reason != REASON_DNS_ERROR
	    && h->reason != REASON_NOT_PROBED)
	    continue;
	any_candidate = 1;
	if (h->passed)
	    any_pass = 1;
	else if (temp[i])
	    any_temp = 1;
    }
    v->dane = any_dane;

    if (any_pass) {
	v->verdict = VERDICT_OK;
    } else if (policy == 0 && !any_dane) {
	/* Secure MX but no TLSA anywhere and no policy. */
	v->verdict = reason != REASON_NONE ? VERDICT_TEMPORARY : VERDICT_NO_POLICY;
	v->reason = reason;
    } else if (policy && policy->mode == POLICY_MODE_NONE && !any_dane) {
	v->verdict = VERDICT_NONE;
    } else if (any_temp) {
	v->verdict = VERDICT_TEMPORARY;
    } else if (any_dane || (policy && policy->mode == POLICY_MODE_ENFORCE)) {
	v->verdict = VERDICT_ENFORCE_FAIL;
    } else {
	v->verdict = VERDICT_TESTING_FAIL;
    }
    if (!any_candidate && v->verdict == VERDICT_TEMPORARY && v->reason == REASON_NONE)
	v->reason = REASON_NOT_PROBED;

verdict:
    if (v) {
	/*
	 * Hosts that no policy asked to check, or that were never tried
	 * because the domain-level reason already decided, are not "not
	 * probed".
	 */
	if (v->verdict == VERDICT_NO_POLICY || v->verdict == VERDICT_NONE || v->verdict == VERDICT_NULL_MX
	    || (v->reason != REASON_NONE && v->reason != REASON_NOT_PROBED && v->probe_ms == 0))
	    for (i = 0; i < v->host_count; i++)
		if (v->host[i].reason == REASON_NOT_PROBED)
		    v->host[i].reason = REASON_NONE;
	if ((flags & ROUTE_TLSRPT) || v->verdict == VERDICT_TESTING_FAIL
	    || v->verdict == VERDICT_ENFORCE_FAIL)
	    route_tlsrpt(r, v, deadline);
	v->total_ms = (long) (clock_mono_ms() - t0);
	verdict_explain(v);
	/* Only a clean "no policy" is cached: a replay must say the same. */
	if (!negative && v->verdict == VERDICT_NO_POLICY && v->reason == REASON_NONE && !v->mx_secure
	    && !v->has_txt && !v->has_policy && v->warn_count == 0 && v->host_count > 0
	    && r->opts.cache_negative_ttl > 0)
	    route_negative_store(r, v);
	*out = v;
	v = 0;
    }

done:
    policy_free(&policy);
    dns_mx_free(&mx);
    verdict_free(&v);
    return (status);
}

/* Copy a verdict (flat: no pointers inside). */

static VERDICT *route_verdict_copy(const VERDICT *v)
{
    VERDICT *c;

    if ((c = verdict_create(v->domain)) != 0)
	memcpy(c, v, sizeof(*c));
    return (c);
}

/*
 * Single flight within the process: join the flight for domain, or
 * start it. Returns the flight; *leader says which. A waiter returns
 * with the flight done, or its deadline passed.
 */
static ROUTE_FLIGHT *route_flight_join(ROUTE *r, const char *domain, int flags, long long deadline, int *leader)
{
    ROUTE_FLIGHT *f;
    struct timespec ts;
    int     rc = 0;

    *leader = 0;
    (void) pthread_mutex_lock(&r->flight_lock);
    for (f = r->flights; f; f = f->next)
	if (strcmp(f->domain, domain) == 0 && f->verdict == 0 && !f->done && (flags & ROUTE_TLSRPT) == 0)
	    break;
    if (f == 0) {
	if ((f = calloc(1, sizeof(*f))) != 0) {
	    (void) str_copy(f->domain, sizeof(f->domain), domain);
	    f->refs = 1;
	    f->next = r->flights;
	    r->flights = f;
	    *leader = 1;
	}
	(void) pthread_mutex_unlock(&r->flight_lock);
	return (f);
    }
    f->refs++;
    ts.tv_sec = (time_t) (deadline / 1000);
    ts.tv_nsec = (long) (deadline % 1000) * 1000000L;
    while (!f->done && rc != ETIMEDOUT)
	rc = pthread_cond_timedwait(&r->flight_cond, &r->flight_lock, &ts);
    (void) pthread_mutex_unlock(&r->flight_lock);
    return (f);
}

/* Leave a flight; the leader publishes v (may be null) first. */

static void route_flight_leave(ROUTE *r, ROUTE_FLIGHT **fp, int leader, const VERDICT *v)
{
    ROUTE_FLIGHT *f = *fp, **pp;

    (void) pthread_mutex_lock(&r->flight_lock);
    if (leader) {
	f->verdict = v ? route_verdict_copy(v) : 0;
	f->done = 1;
	for (pp = &r->flights; *pp; pp = &(*pp)->next)
	    if (*pp == f) {
		*pp = f->next;
		break;
	    }
	(void) pthread_cond_broadcast(&r->flight_cond);
    }
    if (--f->refs == 0) {
	verdict_free(&f->verdict);
	free(f);
    }
    (void) pthread_mutex_unlock(&r->flight_lock);
    *fp = 0;
}

int     route_check(ROUTE *r, const char *in, int budget_ms, int flags, VERDICT **out, WHY *why)
{
    char    domain[DOMAIN_MAX + 1];
    ROUTE_FLIGHT *f = 0;
    long long t0 = clock_mono_ms();
    long long deadline = t0 + (budget_ms > 0 ? budget_ms : 1);
    int     leader = 0;
    int     status;

    *out = 0;
    if ((status = domain_normalize(in, domain, sizeof(domain), why)) != STATUS_OK)
	goto done;
    if ((f = route_flight_join(r, domain, flags, deadline, &leader)) != 0 && !leader) {
	/* RFC-neutral: another thread just did this domain's network work. */
	(void) pthread_mutex_lock(&r->flight_lock);
	if (f->done && f->verdict)
	    *out = route_verdict_copy(f->verdict);
	(void) pthread_mutex_unlock(&r->flight_lock);
	route_flight_leave(r, &f, 0, 0);
	if (*out) {
	    (*out)->total_ms = (long) (clock_mono_ms() - t0);
	    goto done;
	}
	/* The leader did not finish in our budget: go on alone. */
    }
    status = route_run(r, domain, t0, deadline, flags, out, why);
    if (f)
	route_flight_leave(r, &f, leader, *out);

done:
    return (status);
}
