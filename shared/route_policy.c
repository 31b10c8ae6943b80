/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_policy 3
 * SUMMARY
 *	the engine's MTA-STS policy: discovery (RFC 8461 section 3.1),
 *	fetch (section 3.3) under the cluster lock, and the cached policy
 *	kept in force (section 5.1)
 * DESCRIPTION
 *	route_policy_get() returns the policy in force for a domain, fetched
 *	or cached, or null with *reason set when a policy was announced but
 *	could not be obtained. See route.h for the cache rules (TXT recheck
 *	interval, stale-while-revalidate).
 *
 *	A newly fetched policy that differs from the record it replaces
 *	(new id, mode, mx patterns: policy_diff()) is logged by the process
 *	that stores it, which holds the domain's cluster fetch lock
 *	(route_fetch_shared()): once per cluster. Processes that wait and
 *	read it from the shared cache log nothing.
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
#include "policy_diff.h"
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
 * route_shared_policy - the policy with this id in the shared cache,
 * fetched at or after since, or null
 */
static POLICY *route_shared_policy(ROUTE *r, VERDICT *v, const char *id, time_t since)
{
    CACHE_POLICY got;
    POLICY *policy = 0;

    if (cache_policy_get_shared(r->cache, v->domain, &got) == STATUS_OK) {
	if (strcmp(got.txt_id, id) == 0 && got.fetched >= since
	    && policy_parse(got.body, got.len, &policy, 0) == STATUS_OK)
	    v->policy_cached = 1;
	cache_policy_clear(&got);
    }
    return (policy);
}

/*
 * Cluster-wide single flight: take the lock on the domain's fetch. When
 * another node holds it, wait (within the budget and the lock's life)
 * for its policy with this id to appear in the shared cache, and use
 * it. Null: fetch here (lock taken, lock expired, or no shared cache).
 * A refetch of the id this process already has (RFC 8461 section 3.3,
 * proactive refresh) takes only a policy fetched after its own copy.
 */
static POLICY *route_fetch_shared(ROUTE *r, VERDICT *v, const char *id, long long deadline)
{
    POLICY *policy = 0;
    CACHE_POLICY mine;
    int     lock_ms = r->opts.cache_lock_ms > 0 ? r->opts.cache_lock_ms :
	r->opts.dns_timeout_ms + r->opts.fetch_timeout_ms + 1000;
    long long until = clock_mono_ms() + lock_ms;
    time_t  since = 0;
    int     waited = 0;
    int     st;

    if (cache_policy_get(r->cache, v->domain, &mine) == STATUS_OK) {
	if (strcmp(mine.txt_id, id) == 0)
	    since = mine.fetched + 1;
	cache_policy_clear(&mine);
    }
    while ((st = cache_lock(r->cache, v->domain, lock_ms)) == STATUS_RETRY) {
	if (!waited)
	    metrics_inc(METRICS_FLIGHT_CLUSTER);
	waited = 1;
	if (clock_mono_ms() + ROUTE_LOCK_POLL_MS >= until || route_left(deadline, ROUTE_LOCK_POLL_MS) < ROUTE_LOCK_POLL_MS)
	    break;
	(void) usleep(ROUTE_LOCK_POLL_MS * 1000);
	if ((policy = route_shared_policy(r, v, id, since)) != 0)
	    break;
    }

    /*
     * The holder may have stored its policy and released the lock between
     * our first look (before the lock) and taking it, even when the lock
     * was free at once: look once more before fetching again.
     */
    if (st == STATUS_OK && (policy = route_shared_policy(r, v, id, since)) != 0)
	cache_unlock(r->cache, v->domain);
    return (policy);
}

/*
 * route_policy_previous - the record a new policy replaces: the shared
 * (authoritative) copy first, else this process's cache. Null: none.
 */
static POLICY *route_policy_previous(ROUTE *r, const char *domain, char *id, size_t size)
{
    CACHE_POLICY got;
    POLICY *prev = 0;

    if (cache_policy_get_shared(r->cache, domain, &got) == STATUS_OK
	|| cache_policy_get(r->cache, domain, &got) == STATUS_OK) {
	if (policy_parse(got.body, got.len, &prev, 0) == STATUS_OK)
	    (void) str_copy(id, size, got.txt_id);
	cache_policy_clear(&got);
    }
    return (prev);
}

/*
 * route_policy_log_change - issue 14: a policy change, logged once per
 * cluster (the caller holds the fetch lock and has stored the new one).
 * A downgrade (less protection) is a warning.
 */
static void route_policy_log_change(const char *domain, const char *old_id, const POLICY *old,
				            const char *new_id, const POLICY *new)
{
    char    text[1024];
    int     flags;

    if ((flags = policy_diff(old_id, old, new_id, new, text, sizeof(text))) == 0)
	return;
    if (flags & POLICY_DIFF_DOWNGRADE)
	log_warn("%s: MTA-STS policy downgraded: %s", domain, text);
    else
	log_info("%s: MTA-STS policy changed: %s", domain, text);
}

/*
 * For the diagnosis (stsfilter check): a refused policy body, as strict
 * and lenient parsers read it (policy_lenient()).
 */
static void route_policy_note(VERDICT *v, const FETCH_RESULT *res)
{
    POLICY_LENIENT diag;

    (void) policy_lenient(res->body, res->len, &diag);
    v->policy_lenient = diag.lenient_ok;
    v->policy_lenient_mode = diag.lenient_mode;
    v->policy_line = diag.line;
    (void) text_sanitize(v->policy_line_text, sizeof(v->policy_line_text), diag.line_text);
    (void) text_sanitize(v->policy_problem, sizeof(v->policy_problem), diag.problem);
}

/*
 * Fetch and parse the policy; on failure set *reason and v->detail, and
 * *transient when the failure may be gone within minutes: the policy
 * host's address lookup failed temporarily (timeout, SERVFAIL, BOGUS),
 * or the fetch ran into this check's time budget (verdict_no_policy()).
 */
static POLICY *route_fetch(ROUTE *r, VERDICT *v, const char *id, long long deadline, int *reason,
			           int *transient)
{
    char    host[300];
    DNS_ADDR *addr = 0;
    FETCH_OPTS fopts;
    FETCH_RESULT res;
    CACHE_POLICY put;
    POLICY *policy = 0;
    POLICY *prev = 0;
    WHY     why;
    char    prev_id[sizeof(put.txt_id)];
    char    detail[VERDICT_TEXT_MAX];
    const char *dns_text;
    long long t0 = clock_mono_ms();
    long long t_fetch;
    int     locked = 0;
    int     st;

    why.text[0] = 0;
    *transient = 0;
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
	*transient = (st == STATUS_RETRY);
	dns_text = why_text(&why);
	if (strncmp(dns_text, host, strlen(host)) == 0 && strncmp(dns_text + strlen(host), ": ", 2) == 0)
	    dns_text += strlen(host) + 2;
	(void) snprintf(detail, sizeof(detail), st == STATUS_RETRY ? "%s: %s" : "%s does not resolve (%s)",
			host, dns_text);
	(void) text_sanitize(v->detail, sizeof(v->detail), detail);
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
    t_fetch = clock_mono_ms();
    st = fetch_policy(&fopts, v->domain, addr->addr, addr->count, &res);
    if (st != STATUS_OK) {
	/* The budget, not the policy host, ended the fetch: undecided. */
	*transient = (res.reason == FETCH_ERR_FETCH && deadline - t_fetch < fopts.timeout_ms
		      && clock_mono_ms() >= deadline - ROUTE_DEADLINE_SLACK_MS);
	*reason = res.reason == FETCH_ERR_WEBPKI ? REASON_STS_WEBPKI_INVALID :
	    res.reason == FETCH_ERR_INVALID ? REASON_STS_POLICY_INVALID : REASON_STS_FETCH_ERROR;
	if (*transient)
	    (void) snprintf(detail, sizeof(detail), "no answer from %s before the check's time budget ran out",
			    host);
	(void) text_sanitize(v->detail, sizeof(v->detail), *transient ? detail : res.detail);
	goto done;
    }
    if (policy_parse(res.body, res.len, &policy, &why) != STATUS_OK) {
	*reason = REASON_STS_POLICY_INVALID;
	(void) text_sanitize(v->detail, sizeof(v->detail), why_text(&why));
	route_policy_note(v, &res);
	goto done;
    }
    /* RFC 8461 §5.1: remember the policy for max_age (trust on first use). */
    (void) str_copy(put.txt_id, sizeof(put.txt_id), id);
    put.fetched = clock_now();
    put.max_age = policy->max_age;
    put.body = res.body;
    put.len = res.len;
    prev_id[0] = 0;
    prev = route_policy_previous(r, v->domain, prev_id, sizeof(prev_id));
    if (cache_policy_put(r->cache, v->domain, &put) != STATUS_OK)
	log_warn("%s: cannot cache the MTA-STS policy", v->domain);
    else
	route_policy_log_change(v->domain, prev_id, prev, id, policy);
    /* An answer made from the policy before this one is wrong now. */
    cache_answer_drop(r->cache, v->domain);

done:
    metrics_fetch(policy != 0, !locked, *reason, *transient);
    if (locked)
	cache_unlock(r->cache, v->domain);
    v->fetch_ms += (long) (clock_mono_ms() - t0);
    policy_free(&prev);
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
 * For the diagnosis (stsfilter check): the TXT records found at
 * _mta-sts, and why none is a valid MTA-STS record when that is so.
 */
static void route_txt_note(VERDICT *v, const DNS_TXT *txt, int st, const WHY *why)
{
    int     i;

    v->txt_count = txt->count;
    for (i = 0; i < txt->count && i < VERDICT_TXT_SHOWN; i++)
	(void) text_sanitize_len(v->txt_records[i], sizeof(v->txt_records[i]), txt->text[i], txt->len[i]);
    if (st != STATUS_OK && txt->count > 0)
	(void) text_sanitize(v->txt_problem, sizeof(v->txt_problem), why_text(why));
}

/*
 * route_policy_gone - issue 14: the _mta-sts TXT record is gone (no
 * record, not a failed lookup) while a cached policy is in force. RFC
 * 8461 sections 5.1 and 10.2 keep the cached policy until its max_age
 * ends, so nothing changes for delivery yet, but the domain is on its
 * way out of MTA-STS (or its DNS is broken): a postmaster wants to know
 * once, not at every recheck. Logged once a day per cluster (the Redis
 * lock "gone:DOMAIN", held for a day, never released), or, without a
 * shared cache, once a day per process (r->gone, a bounded table: a
 * hash collision can hold back another domain's line for that day).
 */
static void route_policy_gone(ROUTE *r, const char *domain, const CACHE_POLICY *cached, const POLICY *policy)
{
    char    name[CACHE_KEY_MAX];
    char    text[512];
    unsigned h = htable_hash(domain, strlen(domain)) % ROUTE_GONE_SLOTS;
    time_t  now = clock_now();
    time_t  until = cached->fetched + cached->max_age;

    (void) pthread_mutex_lock(&r->gone_lock);
    if (r->gone[h] != 0 && now - r->gone[h] < ROUTE_GONE_LOG_S) {
	(void) pthread_mutex_unlock(&r->gone_lock);
	return;
    }
    r->gone[h] = now;
    (void) pthread_mutex_unlock(&r->gone_lock);
    (void) snprintf(name, sizeof(name), "gone:%s", domain);
    if (cache_lock(r->cache, name, ROUTE_GONE_LOG_S * 1000) != STATUS_OK)
	return;					/* another node said it today */
    if (policy_diff(cached->txt_id, policy, 0, 0, text, sizeof(text)) == 0)
	return;
    log_warn("%s: MTA-STS TXT record removed: %s; the cached policy stays in force for %ld s more, until its max_age"
	     " ends (RFC 8461 section 5.1)", domain, text, (long) (until > now ? until - now : 0));
}

/*
 * MTA-STS discovery and policy. Returns the policy in force (fetched or
 * cached), or null. *reason is set when a policy was announced but
 * could not be obtained, or discovery failed temporarily.
 */
POLICY *route_policy_get(ROUTE *r, VERDICT *v, long long deadline, int *reason, int *transient,
			            int mode)
{
    char    name[300];
    DNS_TXT *txt = 0;
    TXT_RECORD rec;
    CACHE_POLICY cached;
    POLICY *policy = 0;
    WHY     why;
    int     have_cache;
    int     swr = 0;			/* answered from the cache, recheck queued or not due */
    int     txt_temp = 0;
    int     st;
    time_t  now = clock_now();

    why.text[0] = 0;
    *reason = REASON_NONE;
    *transient = 0;
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
	    || route_refresh_enqueue(r, v->domain, ROUTE_POLICY_RECHECK, 0) == 0) {
	    v->has_txt = 1;
	    (void) str_copy(v->txt_id, sizeof(v->txt_id), cached.txt_id);
	    v->policy_cached = 1;
	    swr = 1;
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
	route_txt_note(v, txt, st, &why);
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
	policy = route_fetch(r, v, v->has_txt ? v->txt_id : cached.txt_id, deadline, reason, transient);
	if (policy == 0 && have_cache) {
	    /* Retry the refresh after txt_recheck_interval, not on every message. */
	    route_policy_checked(r, v->domain, &cached, now);
	    /* RFC 8461 §5.1: a fresh cached policy stays in force. */
	    verdict_warn(v, "policy refresh failed (%s: %s); the cached policy stays in force",
			 verdict_reason_name(*reason), v->detail);
	    *reason = REASON_NONE;
	    *transient = 0;
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
	if (!txt_temp && policy)
	    route_policy_gone(r, v->domain, &cached, policy);
    } else if (txt_temp) {
	*reason = txt_temp;
	*transient = 1;
    }

found:
    if (policy && (mode == ROUTE_POLICY_RCPT || mode == ROUTE_POLICY_REBUILD))
	route_refresh_seen(r, v->domain);
    if (policy) {
	/*
	 * The answer lives no longer than the policy (RFC 8461 section 3.2:
	 * max_age from the fetch) and no longer than its next TXT recheck
	 * (section 3.3); without a recheck interval the TXT record is
	 * looked at for every lookup, so the answer is not reused.
	 */
	if (have_cache && v->policy_cached && strcmp(cached.txt_id, v->txt_id) == 0)
	    route_until(v, cached.fetched + policy->max_age);
	else
	    route_until(v, now + policy->max_age);
	if (r->opts.txt_recheck_interval <= 0)
	    route_until(v, now);
	else
	    route_until(v, (swr ? (cached.checked ? cached.checked : cached.fetched) : now)
			+ r->opts.txt_recheck_interval);
	v->has_policy = 1;
	v->policy_mode = policy->mode;
	v->policy_max_age = policy->max_age;
	/* Every pattern, in policy order (RFC 8461 §3.2 sets no limit). */
	if (verdict_set_policy_mx(v, policy->mx, policy->mx_count) < 0)
	    verdict_warn(v, "out of memory keeping the %d mx patterns", policy->mx_count);
    }
    if (have_cache)
	cache_policy_clear(&cached);
    dns_txt_free(&txt);
    return (policy);
}
