/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_host 3
 * SUMMARY
 *	the engine's per-MX-host work: address and TLSA lookups, probes,
 *	probe results cached per host (RFC 8461 section 4, RFC 7672)
 * DESCRIPTION
 *	route_host_run() checks the MX hosts of one route_check() on up to
 *	opts.probe_parallel short-lived worker threads that take hosts from a
 *	shared index; each worker writes only its own VERDICT_HOST, and the
 *	VERDICT's shared fields are written after the workers are joined.
 *	With ROUTE_FIRST it returns at the first host that passes; the last of
 *	it and the workers to let go frees the shared ROUTE_HOSTS. See route.h
 *	for the rules applied (DANE before MTA-STS, RFC 8461 section 2).
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
    metrics_probe(res.reason);
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

void    route_host_run(ROUTE *r, VERDICT *v, const POLICY *policy, long long deadline, int flags,
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
