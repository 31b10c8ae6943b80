/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_host 3
 * SUMMARY
 *	the engine's per-MX-host work: address and TLSA lookups, probes,
 *	probe results cached per host (RFC 8461 section 4, RFC 7672)
 * DESCRIPTION
 *	route_host_run() checks the MX hosts of one route_check() as jobs
 *	of the probe pool (route_pool.c): one job per host key in the
 *	process, joined by every request that needs that host while it is
 *	queued or running; at most opts.probe_parallel of one request's
 *	hosts are in the pool at once. It waits for its jobs until all are
 *	done, or (ROUTE_FIRST) one has passed, or its deadline plus a
 *	grace; then it copies the finished results into the VERDICT and
 *	drops its references. Nothing of the request is left behind: a job
 *	still running belongs to the pool and ends within the deadline of
 *	the request that made it (a request that joined a job which that
 *	deadline cut short makes it again if it has ROUTE_REJOIN_MS left).
 *	A host that finds the pool's job table full is not probed
 *	(REASON_NOT_PROBED, temporary, "probe queue full"), so
 *	action_temporary applies and no mail is lost.
 *
 *	route_host() is one job: address, TLSA, cached or fresh probe. It
 *	runs on a pool worker and writes only the job's result. It sets
 *	h->valid_until (verdict.h) to the earliest expiry of what the
 *	result depends on: the TLSA RRset's TTL when TLSA was looked up,
 *	the probe cache record's expiry for a cached result, now plus the
 *	cache TTL for a fresh result that was stored, now for a fresh or
 *	failed result that was not (never reused); 0 for a host not
 *	checked at all. See route.h for the rules applied (DANE before
 *	MTA-STS, RFC 8461 section 2).
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

/* Lower *until to t (0: no limit yet). */

static void route_host_until(time_t *until, time_t t)
{
    if (*until == 0 || t < *until)
	*until = t;
}

/*
 * Load a cached probe result of the job's host with this DANE flag into
 * its result. shared: read the backend only (another process's result).
 * A DANE=0 result answers for a DNSSEC-secure MX RRset only if it was
 * made for one (TLSA records were looked at), never as a downgrade.
 * Returns 1 on a hit; the result then lives until the record expires.
 */
static int route_probe_load(ROUTE *r, ROUTE_PROBE *job, int dane, int shared)
{
    VERDICT_HOST *h = &job->host;
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
    if (!dane && job->mx_secure && !secure)
	goto done;
    h->dane = dane;
    h->passed = got.passed;
    h->reason = route_probe_reason(probe_reason, &job->temp);
    (void) str_copy(h->detail, sizeof(h->detail), got.detail);
    (void) str_copy(h->address, sizeof(h->address), got.address);
    (void) str_copy(h->tls_version, sizeof(h->tls_version), got.tls_version);
    (void) str_copy(h->cert_issuer, sizeof(h->cert_issuer), got.cert_issuer);
    (void) str_copy(h->cname, sizeof(h->cname), got.cname);
    h->cert_not_after = got.cert_not_after;
    memcpy(h->cert_names, got.cert_names, sizeof(h->cert_names));
    h->cert_name_count = got.cert_name_count;
    h->probe_ms = 0;				/* not probed now */
    route_host_until(&h->valid_until, rec.expires);
    job->candidate = 1;
    hit = 1;

done:
    cache_policy_clear(&rec);
    return (hit);
}

/*
 * Store the job's fresh probe result (probe_reason from probe.h).
 * Returns the TTL it was stored with, 0 when it was not.
 */
static long route_probe_store(ROUTE *r, ROUTE_PROBE *job, int probe_reason)
{
    VERDICT_HOST *h = &job->host;
    char    body[CACHE_PROBE_BODY_MAX + 1];
    long    ttl = h->passed ? r->opts.cache_success_ttl : r->opts.cache_failure_ttl;

    /* A probe cut short by this lookup's own budget says nothing about the host. */
    if (ttl <= 0 || (!h->passed && route_left(job->deadline, 1) == 0))
	return (0);
    if (ttl > CACHE_PROBE_TTL_MAX)
	ttl = CACHE_PROBE_TTL_MAX;
    if (cache_probe_encode(h, probe_reason, job->mx_secure, body, sizeof(body)) != STATUS_OK
	|| cache_probe_put(r->cache, h->name, r->opts.probe_port, h->dane, body, ttl) != STATUS_OK) {
	log_warn("%s: cannot cache the probe result", h->name);
	return (0);
    }
    return (ttl);
}

/*
 * Cluster-wide single flight for a probe (Redis): take the lock on the
 * host's probe key; when another node holds it, wait (within the budget)
 * for its result to appear in the shared cache. Returns 1 with the
 * result filled from that result, else 0 with *locked saying whether to
 * unlock after the probe.
 */
static int route_probe_shared(ROUTE *r, ROUTE_PROBE *job, int *locked)
{
    VERDICT_HOST *h = &job->host;
    char    key[CACHE_KEY_MAX];
    int     lock_ms = r->opts.cache_lock_ms > 0 ? r->opts.cache_lock_ms :
	route_left(job->deadline, 600000) + 1000;
    long long until = clock_mono_ms() + lock_ms;
    int     st;

    *locked = 0;
    if (cache_probe_key(key, sizeof(key), h->name, r->opts.probe_port, h->dane) != 0)
	return (0);
    while ((st = cache_lock(r->cache, key, lock_ms)) == STATUS_RETRY) {
	if (clock_mono_ms() + ROUTE_LOCK_POLL_MS >= until
	    || route_left(job->deadline, ROUTE_LOCK_POLL_MS) < ROUTE_LOCK_POLL_MS)
	    return (0);				/* probe here, without the lock */
	(void) usleep(ROUTE_LOCK_POLL_MS * 1000);
	if (route_probe_load(r, job, h->dane, 1))
	    return (1);
    }
    *locked = (st == STATUS_OK);
    /* Taken: another node may have finished just before. */
    if (*locked && route_probe_load(r, job, h->dane, 1)) {
	cache_unlock(r->cache, key);
	*locked = 0;
	return (1);
    }
    return (0);
}

/*
 * One MX host: address, TLSA, probe; a job of the probe pool. Writes
 * only the job's result (job->host, temp, candidate).
 */
void    route_host(ROUTE *r, ROUTE_PROBE *job)
{
    VERDICT_HOST *h = &job->host;
    DNS_ADDR *addr = 0;
    DNS_TLSA *tlsa = 0;
    PROBE_OPTS popts;
    PROBE_RESULT res;
    WHY     why;
    char    key[CACHE_KEY_MAX];
    int     caching = route_probe_caching(r);
    int     locked = 0;
    long    ttl;
    int     st;
    int     i;

    why.text[0] = 0;
    h->valid_until = 0;
    job->temp = 0;
    job->candidate = 0;
    if (route_left(job->deadline, 1) == 0) {
	h->reason = REASON_NOT_PROBED;
	job->temp = 1;
	h->valid_until = clock_now();		/* never reused */
	goto done;
    }
    h->listed = job->listed;

    /*
     * A fresh cached probe result costs no network access: DANE first
     * (only a DNSSEC-secure MX RRset can make a host a DANE host), then
     * the policy's own check of a listed host.
     */
    if (caching && ((job->mx_secure && route_probe_load(r, job, 1, 0))
		    || (h->listed && route_probe_load(r, job, 0, 0))))
	goto done;

    st = dns_addr(r->dns, h->name, route_left(job->deadline, r->opts.dns_timeout_ms), &addr, &why);
    if (st != STATUS_OK) {
	h->reason = (addr && addr->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	job->temp = (st == STATUS_RETRY);
	(void) text_sanitize(h->detail, sizeof(h->detail), why_text(&why));
	h->valid_until = clock_now();		/* never reused */
	goto done;
    }
    if (addr->info.cname[0])
	(void) text_sanitize(h->cname, sizeof(h->cname), addr->info.cname);

    /*
     * RFC 7672 §2.2.2: TLSA records are looked up only when the MX RRset
     * and the host's address records are DNSSEC-secure.
     */
    if (job->mx_secure && addr->info.security == DNS_SECURE) {
	st = dns_tlsa(r->dns, h->name, r->opts.probe_port,
		      route_left(job->deadline, r->opts.dns_timeout_ms), &tlsa, &why);
	if (tlsa)
	    route_host_until(&h->valid_until, clock_now() + tlsa->info.ttl);
	if (st == STATUS_OK && tlsa->info.security == DNS_SECURE && route_tlsa_usable(tlsa)) {
	    h->dane = 1;
	} else if (st == STATUS_RETRY) {
	    /* RFC 7672 §2.1.1: a bogus or failed TLSA lookup is never a downgrade. */
	    h->dane = 1;
	    h->reason = (tlsa && tlsa->info.security == DNS_BOGUS) ? REASON_DNSSEC_INVALID : REASON_DNS_ERROR;
	    job->temp = 1;
	    (void) text_sanitize(h->detail, sizeof(h->detail), why_text(&why));
	    h->valid_until = clock_now();	/* never reused */
	    goto done;
	}
    }
    /* RFC 8461 §2: a host with usable TLSA records is decided by DANE. */
    job->candidate = h->dane || h->listed;
    if (!job->candidate) {
	if (job->policy_active) {
	    h->reason = REASON_MX_NOT_LISTED;
	    (void) snprintf(h->detail, sizeof(h->detail), "not listed in the MTA-STS policy");
	} else {
	    h->reason = REASON_NONE;
	}
	goto done;
    }
    if (caching && route_probe_shared(r, job, &locked))
	goto done;
    memset(&popts, 0, sizeof(popts));
    popts.port = r->opts.probe_port;
    popts.connect_timeout_ms = r->opts.probe_connect_timeout_ms;
    popts.read_timeout_ms = r->opts.probe_read_timeout_ms;
    popts.deadline_ms = job->deadline;
    popts.helo_name = r->helo;
    popts.ca_file = r->ca_file[0] ? r->ca_file : 0;
    popts.ca_path = r->ca_path[0] ? r->ca_path : 0;
    popts.allow_private = r->opts.allow_private;
    memset(&res, 0, sizeof(res));
    (void) probe_mx(&popts, h->name, addr->addr, addr->count, h->dane ? tlsa : 0, &res);
    metrics_probe(res.reason);
    h->reason = route_probe_reason(res.reason, &job->temp);
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
    /* A fresh result lives as long as the cache keeps it; unstored, not at all. */
    ttl = caching ? route_probe_store(r, job, res.reason) : 0;
    route_host_until(&h->valid_until, clock_now() + ttl);

done:
    /* As route_probe_store(): a failure at the deadline says nothing about the host. */
    job->cut = !h->passed && route_left(job->deadline, 1) == 0;
    if (locked && cache_probe_key(key, sizeof(key), h->name, r->opts.probe_port, h->dane) == 0)
	cache_unlock(r->cache, key);
    dns_addr_free(&addr);
    dns_tlsa_free(&tlsa);
}

/*
 * Join or make the pool's job for host i of v (pool_lock held). Returns
 * 1 with *job set, else 0 with the host marked not probed (temporary):
 * never block, never lose mail.
 */
static int route_host_join(ROUTE *r, VERDICT *v, int i, int listed, int policy_active,
			           long long deadline, ROUTE_PROBE **job, int *cand)
{
    const char *why = "";

    if ((*job = route_pool_join(r, v->host[i].name, v->mx_secure, listed, policy_active, deadline, &why)) != 0)
	return (1);
    v->host[i].listed = listed;
    v->host[i].reason = REASON_NOT_PROBED;
    (void) str_copy(v->host[i].detail, sizeof(v->host[i].detail), why);
    v->host[i].valid_until = clock_now();	/* never reused */
    cand[i] = 1;
    return (0);
}

/*
 * Check every host of v as jobs of the probe pool, at most
 * probe_parallel of them in the pool at once, and wait until all are
 * done, or (ROUTE_FIRST) one has passed, or the deadline (plus a grace
 * for a probe's last write) has come. Copies the results of the
 * finished hosts into v; a host not finished stays REASON_NOT_PROBED
 * and counts as transient. A joined job that its maker's deadline cut
 * short is made again with this request's deadline when that leaves
 * at least ROUTE_REJOIN_MS. cand[] and temp[] receive each host's
 * candidate and transient flags.
 */
#define ROUTE_GRACE_MS	1500

void    route_host_run(ROUTE *r, VERDICT *v, const POLICY *policy, long long deadline, int flags,
			        int *cand, int *temp)
{
    ROUTE_PROBE *job[VERDICT_HOSTS_MAX];
    int     listed[VERDICT_HOSTS_MAX];
    int     done[VERDICT_HOSTS_MAX];
    long long until = deadline + ROUTE_GRACE_MS;
    int     policy_active = (policy && policy->mode != POLICY_MODE_NONE);
    int     next = 0;
    int     running = 0;
    int     finished = 0;
    int     any_pass = 0;
    int     pref;
    int     i;

    for (i = 0; i < v->host_count; i++) {
	cand[i] = 0;
	temp[i] = 1;
	job[i] = 0;
	done[i] = 0;
	/* RFC 8461 §4.1: the MX host name is matched against the policy. */
	listed[i] = policy_active && policy_match(policy, v->host[i].name);
    }
    (void) pthread_mutex_lock(&r->pool_lock);
    for (;;) {
	/* Hand hosts to the pool, at most probe_parallel of them at once. */
	while (next < v->host_count && running < r->opts.probe_parallel) {
	    i = next++;
	    if (route_host_join(r, v, i, listed[i], policy_active, deadline, &job[i], cand)) {
		running++;
	    } else {
		done[i] = 1;
		finished++;
	    }
	}
	for (i = 0; i < next; i++) {
	    if (done[i] || job[i]->state != ROUTE_PROBE_DONE)
		continue;
	    if (job[i]->cut && job[i]->deadline < deadline && route_left(deadline, ROUTE_REJOIN_MS) >= ROUTE_REJOIN_MS) {
		/* Cut by the budget of the request that made it; this one has time left. */
		route_pool_release(r, &job[i]);
		if (!route_host_join(r, v, i, listed[i], policy_active, deadline, &job[i], cand)) {
		    done[i] = 1;
		    finished++;
		    running--;
		}
		continue;
	    }
	    pref = v->host[i].pref;		/* the host's, in this domain */
	    v->host[i] = job[i]->host;
	    v->host[i].pref = pref;
	    cand[i] = job[i]->candidate;
	    temp[i] = job[i]->temp;
	    if (v->host[i].passed)
		any_pass = 1;
	    done[i] = 1;
	    finished++;
	    running--;
	}
	if (finished == v->host_count || ((flags & ROUTE_FIRST) && any_pass))
	    break;
	if (next < v->host_count && running < r->opts.probe_parallel)
	    continue;				/* room for the next host */
	if (clock_mono_ms() >= until)
	    break;
	(void) route_pool_wait(r, until);
    }
    for (i = 0; i < v->host_count; i++) {
	if (done[i]) {
	    /* Copied above. */
	} else if (any_pass) {
	    /* ROUTE_FIRST: a route exists; this host's result is not needed. */
	    v->host[i].listed = listed[i];
	    v->host[i].reason = REASON_NONE;
	    (void) snprintf(v->host[i].detail, sizeof(v->host[i].detail), "not needed: another MX host passed");
	    temp[i] = 0;
	} else {
	    v->host[i].listed = listed[i];
	    (void) snprintf(v->host[i].detail, sizeof(v->host[i].detail), "no result within the time budget");
	    v->host[i].valid_until = clock_now();	/* never reused */
	    cand[i] = 1;
	}
	route_pool_release(r, &job[i]);
    }
    (void) pthread_mutex_unlock(&r->pool_lock);
}
