/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route 3
 * SUMMARY
 *	the engine: discovery, policy, MX, DANE, probes, verdict
 * DESCRIPTION
 *	See route.h. This module orchestrates and keeps time; every rule it
 *	applies is cited where it is applied, and every protocol detail
 *	lives in the module that owns it (txt.c, policy.c, dns.c, fetch.c,
 *	probe.c). The engine is split along its concerns, with struct
 *	ROUTE in the private header route_impl.h:
 *	route.c		create and free, route_check() with single flight,
 *			negative entries, the new-domain limit, TLS-RPT and
 *			the verdict;
 *	route_host.c	per-MX-host work (addresses, TLSA, probes, probe
 *			results cached per host);
 *	route_policy.c	MTA-STS discovery, fetch under the cluster lock and
 *			the cached policy (RFC 8461 sections 3 and 5.1);
 *	route_refresh.c	background refresh (stale-while-revalidate and
 *			proactive refetch).
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
#include "metrics.h"
#include "policy.h"
#include "probe.h"
#include "ratelimit.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "tlsrpt.h"
#include "txt.h"
#include "verdict.h"
#include "route_impl.h"

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
	(void) pthread_mutex_init(&r->gone_lock, 0);
	(void) pthread_cond_init(&r->refresh_cond, &ca);
	(void) pthread_condattr_destroy(&ca);
    }
    if (htable_create(ROUTE_SEEN_BUCKETS, &r->seen) != STATUS_OK
	|| (status = route_pool_init(r)) != STATUS_OK) {	/* workers start on first use */
	why_set(why, "out of memory");
	status = STATUS_FAIL;
	goto done;
    }
    if (opts->new_domain_rate > 0
	&& ratelimit_create(opts->new_domain_rate, opts->new_domain_burst > 0 ? opts->new_domain_burst : 1,
			    ROUTE_KNOWN_MAX, ROUTE_SEEN_LIFE, &r->newdom) != STATUS_OK) {
	why_set(why, "cannot set up the new-domain rate limit");
	status = STATUS_FAIL;
	goto done;
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
	/* Probes left running by ROUTE_FIRST still use the resolver. */
	route_pool_stop(r);
    }
    dns_free(&r->dns);
    ratelimit_free(&r->newdom);
    htable_free(&r->seen, free);
    if (r->cache) {
	(void) pthread_mutex_destroy(&r->flight_lock);
	(void) pthread_cond_destroy(&r->flight_cond);
	(void) pthread_mutex_destroy(&r->refresh_lock);
	(void) pthread_mutex_destroy(&r->gone_lock);
	(void) pthread_cond_destroy(&r->refresh_cond);
    }
    cache_free(&r->cache);
    free(r);
    *rp = 0;
}

/*
 * RFC 8460 §3: the TLS-RPT record at _smtp._tls.<domain>, selected and
 * parsed by tlsrpt.c. v->tlsrpt keeps the one valid record (sanitized;
 * a valid record is printable ASCII, so it is unchanged); an invalid
 * one or several are ignored with a warning, as senders ignore them.
 */
static void route_tlsrpt(ROUTE *r, VERDICT *v, long long deadline)
{
    char    name[300];
    DNS_TXT *txt = 0;
    TLSRPT_RECORD rec;
    WHY     why;
    int     kept;
    int     i;

    why.text[0] = 0;
    (void) snprintf(name, sizeof(name), "_smtp._tls.%s", v->domain);
    if (dns_txt(r->dns, name, route_left(deadline, r->opts.dns_timeout_ms), &txt, 0) != STATUS_OK) {
	dns_txt_free(&txt);			/* a BOGUS answer comes with an empty result */
	return;
    }
    switch (tlsrpt_select((const char *const *) txt->text, txt->len, (size_t) txt->count, &rec, &why)) {
    case STATUS_OK:
	for (i = 0; i < txt->count; i++)
	    if (txt->len[i] >= 11 && strncmp(txt->text[i], "v=TLSRPTv1;", 11) == 0)
		break;
	if (i < txt->count && txt->len[i] < sizeof(v->tlsrpt)) {
	    (void) text_sanitize(v->tlsrpt, sizeof(v->tlsrpt), txt->text[i]);
	    break;
	}
	/* Too long to keep whole: the parsed URIs that fit, never a cut one. */
	(void) str_copy(v->tlsrpt, sizeof(v->tlsrpt), "v=TLSRPTv1; rua=");
	for (i = 0, kept = 0; i < rec.rua_count; i++)
	    if (strlen(v->tlsrpt) + 1 + strlen(rec.rua[i].uri) < sizeof(v->tlsrpt))
		(void) str_appendf(v->tlsrpt, sizeof(v->tlsrpt), "%s%s",
				   kept++ ? "," : "", rec.rua[i].uri);
	break;
    case STATUS_INVAL:
	verdict_warn(v, "%s TXT ignored: %s", name, why_text(&why));
	break;
    default:
	break;
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
    if (ok)
	route_until(v, neg.expires);
    if (!ok && neg.len)
	log_warn("cache: %s: malformed negative entry ignored", v->domain);
    cache_policy_clear(&neg);
    return (ok);
}

/* Remember that the domain has neither MTA-STS nor a secure MX. */

static void route_negative_store(ROUTE *r, VERDICT *v)
{
    char    body[VERDICT_HOSTS_MAX * 270 + 16];

    if (cache_negative_encode(v, body, sizeof(body)) != STATUS_OK)
	return;
    if (cache_negative_put(r->cache, v->domain, body, r->opts.cache_negative_ttl) != STATUS_OK)
	log_warn("%s: cannot cache the absence of a policy", v->domain);
    else
	route_until(v, clock_now() + r->opts.cache_negative_ttl);
}

/*
 * A domain checked in the last day, or with a cached policy, is not new;
 * any other takes a token of the new-domain limit (ratelimit.h).
 */
static int route_admit(ROUTE *r, const char *domain)
{
    CACHE_POLICY cached;

    if (r->newdom == 0 || ratelimit_known(r->newdom, domain))
	return (1);
    if (cache_policy_get(r->cache, domain, &cached) == STATUS_OK) {
	cache_policy_clear(&cached);
	ratelimit_know(r->newdom, domain);
	return (1);
    }
    return (ratelimit_admit(r->newdom, domain));
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
    int     limited = 0;			/* new_domain_rate reached */
    int     reason = REASON_NONE;
    int     transient = 0;
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
    v->answer_until = clock_now() + ROUTE_ANSWER_MAX_S;

    /* A fresh negative entry: the verdict costs no network access. */
    if ((negative = route_negative_load(r, v)) != 0) {
	v->verdict = VERDICT_NO_POLICY;
	goto verdict;
    }

    /* Issue 11: the lookups of a domain never seen before start within new_domain_rate. */
    if (!route_admit(r, domain)) {
	v->verdict = VERDICT_TEMPORARY;
	v->reason = REASON_NOT_PROBED;
	(void) snprintf(v->detail, sizeof(v->detail), "too many new domains: new_domain_rate reached");
	limited = 1;
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
    /* The answer lives no longer than the MX RRset (RFC 1035 section 3.2.1 TTL). */
    route_until(v, clock_now() + mx->info.ttl);
    for (i = 0; i < mx->count; i++)
	if (verdict_add_host(v, mx->host[i].name, mx->host[i].pref) == 0) {
	    verdict_warn(v, "only the first %d MX hosts are checked", VERDICT_HOSTS_MAX);
	    break;
	}

    policy = route_policy_get(r, v, deadline, &reason, &transient,
			      (flags & ROUTE_REBUILD) ? ROUTE_POLICY_REBUILD : ROUTE_POLICY_RCPT);
    v->dns_ms = (long) (clock_mono_ms() - t0) - v->fetch_ms;

    /*
     * Most domains: no policy, no DNSSEC. Nothing to probe. A policy that
     * was announced but cannot be used is decided in verdict_no_policy()
     * (RFC 8461 §3.3).
     */
    if (policy == 0 && !v->mx_secure) {
	verdict_no_policy(v, reason, transient);
	goto verdict;
    }
    if (policy && policy->mode == POLICY_MODE_NONE && !v->mx_secure) {
	v->verdict = VERDICT_NONE;
	goto verdict;
    }

    /* The hosts' cached probe results in one round trip (Redis MGET), not one per host. */
    if (r->opts.cache_success_ttl > 0 || r->opts.cache_failure_ttl > 0) {
	const char *names[VERDICT_HOSTS_MAX];

	for (i = 0; i < v->host_count; i++)
	    names[i] = v->host[i].name;
	cache_probe_prefetch(r->cache, names, v->host_count, r->opts.probe_port, v->mx_secure);
    }
    t1 = clock_mono_ms();
    route_host_run(r, v, policy, deadline, flags, cand, temp);
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
    for (i = 0; i < v->host_count; i++)
	if (v->host[i].valid_until > 0)
	    route_until(v, v->host[i].valid_until);

    if (any_pass) {
	v->verdict = VERDICT_OK;
    } else if (policy == 0 && !any_dane) {
	/* Secure MX but no TLSA anywhere and no policy: RFC 8461 §3.3 as above. */
	verdict_no_policy(v, reason, transient);
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
	if (limited)
	    (void) snprintf(v->explanation, sizeof(v->explanation), "%s was not checked (%s)", domain, v->detail);
	/* Only a clean "no policy" is cached: a replay must say the same. */
	if (!negative && v->verdict == VERDICT_NO_POLICY && v->reason == REASON_NONE && !v->mx_secure
	    && !v->has_txt && !v->has_policy && v->warn_count == 0 && v->host_count > 0
	    && r->opts.cache_negative_ttl > 0)
	    route_negative_store(r, v);
	else if (!negative && !v->has_policy && !v->mx_secure)
	    /* Not kept as a negative entry: look again within cache_failure_ttl. */
	    route_until(v, clock_now() + (r->opts.cache_failure_ttl > 0 ? r->opts.cache_failure_ttl : 0));
	/* Undecided for now: never reused (route_answer.c). */
	if (v->verdict == VERDICT_TEMPORARY || limited)
	    v->answer_until = 0;
	*out = v;
	v = 0;
    }

done:
    policy_free(&policy);
    dns_mx_free(&mx);
    verdict_free(&v);
    return (status);
}

/* Copy a verdict (deep: the mx patterns are allocated). */

static VERDICT *route_verdict_copy(const VERDICT *v)
{
    return (verdict_copy(v));
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

/*
 * ROUTE_CACHED: the MX lookup failed for a transient reason (a timeout
 * or SERVFAIL, not bogus data) and a valid cached policy exists. RFC
 * 8461 section 5.1: the cached policy stays in force until its max_age
 * ends; the MX hosts, and the DNS for them, are the MTA's business (the
 * socketmap gives Postfix a policy, Postfix resolves the MX itself). The
 * verdict stays temporary (no route was checked), with the policy in it.
 */
static void route_cached_policy(ROUTE *r, VERDICT *v)
{
    CACHE_POLICY cached;
    POLICY *policy = 0;

    if (v->verdict != VERDICT_TEMPORARY || v->reason != REASON_DNS_ERROR || v->has_policy
	|| v->host_count > 0 || cache_policy_get(r->cache, v->domain, &cached) != STATUS_OK)
	return;
    if (policy_parse(cached.body, cached.len, &policy, 0) == STATUS_OK
	&& verdict_set_policy_mx(v, policy->mx, policy->mx_count) == 0) {
	v->has_txt = 1;
	(void) str_copy(v->txt_id, sizeof(v->txt_id), cached.txt_id);
	v->has_policy = 1;
	v->policy_cached = 1;
	v->policy_mode = policy->mode;
	v->policy_max_age = policy->max_age;
	verdict_warn(v, "MX lookup failed (%s); the cached MTA-STS policy answers", v->detail);
    }
    policy_free(&policy);
    cache_policy_clear(&cached);
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
	metrics_inc(METRICS_FLIGHT_PROCESS);
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
    if (status == STATUS_OK && *out && (flags & ROUTE_CACHED))
	route_cached_policy(r, *out);
    return (status);
}
