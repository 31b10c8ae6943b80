/* SPDX-License-Identifier: ISC */
#ifndef ROUTE_H_INCLUDED
#define ROUTE_H_INCLUDED

/*
 * NAME
 *	route 3h
 * SUMMARY
 *	the engine: can mail to a domain be delivered over a valid TLS
 *	route, and if not, why not
 * SYNOPSIS
 *	#include "route.h"
 *
 *	int	route_create(const ROUTE_OPTS *opts, ROUTE **route, WHY *why)
 *	void	route_free(ROUTE **route)
 *
 *	int	route_check(ROUTE *route, const char *domain, int budget_ms,
 *			int flags, VERDICT **verdict, WHY *why)
 *
 *	int	route_answer(ROUTE *route, const char *domain, int budget_ms,
 *			int flags, ANSWER *answer, char *reply,
 *			size_t reply_size, WHY *why)
 * DESCRIPTION
 *	route_create() builds the engine: the resolver (dns.c), libcurl and
 *	OpenSSL initialization, and the policy cache (cache.c). Call it
 *	before threads start. route_check() is thread-safe.
 *
 *	route_check() answers for one recipient domain, within budget_ms:
 *	1. normalize the domain (domain.c: IDNA, lowercase, no literals);
 *	2. MX lookup: null MX (RFC 7505) ends here; no MX means the
 *	   implicit MX (RFC 5321 section 5.1);
 *	3. MTA-STS discovery (RFC 8461 section 3.1), fetch (section 3.3) and
 *	   parse (section 3.2), with the cached policy kept in force when a
 *	   later TXT lookup or fetch fails (section 5.1);
 *	4. DANE (RFC 7672): when the MX RRset is DNSSEC-secure, TLSA records
 *	   of each MX host; a host with usable TLSA records is decided by
 *	   DANE alone (RFC 8461 section 2: MTA-STS never overrides a DANE
 *	   failure); a bogus or failed TLSA lookup is temporary;
 *	5. MX hosts that the policy lists (section 4.1), and DANE hosts, are
 *	   probed in parallel (probe.c) on the probe pool: opts.probe_threads
 *	   persistent threads (default 8), started on first use and
 *	   stopped by route_free(); a host that several checks need at
 *	   the same time is checked once for all (single flight per host,
 *	   port, MX DNSSEC status and policy match); at most
 *	   opts.probe_parallel hosts of one check are in the pool at once;
 *	   when the pool's job table is full a host is not probed and the
 *	   verdict is temporary ("probe queue full");
 *	6. the verdict: ok when one host passes; testing-fail or
 *	   enforce-fail by mode when all fail for good; temporary when it
 *	   cannot be decided in time or a failure may be transient.
 *
 *	Cache (cache.h; RFC 8461 sections 3.3 and 5.1): a cached policy
 *	whose TXT id was confirmed less than txt_recheck_interval ago is
 *	used without any TXT lookup; after that, one TXT lookup with the
 *	same id extends the entry (checked = now), a new id fetches the
 *	policy again, a failed fetch keeps the cached policy until its
 *	max_age runs out (and is retried after txt_recheck_interval), and
 *	a missing TXT record never removes a cached policy. A domain with
 *	neither MTA-STS nor a DNSSEC-secure MX gets a negative entry for
 *	cache_negative_ttl seconds, during which its verdict costs no
 *	network access at all. Concurrent route_check() calls for one
 *	domain in one process share one run (single flight): the others
 *	wait for it within their own budget and get a copy of its verdict.
 *	With Redis, a policy fetch runs under the cluster-wide lock
 *	"lock:DOMAIN"; a process that finds it held waits briefly for
 *	the holder's result in Redis instead of fetching.
 *
 *	New domains (issue 11): a domain with no negative entry, no
 *	cached policy, and no check in the last day is new; with
 *	opts.new_domain_rate > 0 its network lookups start only within that
 *	many a minute (burst opts.new_domain_burst, ratelimit.h), so that
 *	senders cannot turn the filter into a scanner. Past the limit the
 *	verdict is temporary (reason not-probed, detail "too many new
 *	domains: new_domain_rate reached"), so action_temporary applies.
 *
 *	Probe results are cached per MX host (RFC 8461 section 4), keyed
 *	by host, port and DANE flag (cache.h): cache_success_ttl after a
 *	pass, cache_failure_ttl after a failure (not when this lookup's
 *	own budget cut the probe short). A fresh result skips the host's
 *	address and TLSA lookups and the probe. A DANE=0 result made for
 *	an insecure MX RRset never answers for a secure one. With Redis a
 *	probe runs under the lock "lock:p:HOST:PORT:DANE", as fetches do.
 *
 *	Stale-while-revalidate: with txt_recheck_interval > 0, a lookup
 *	that finds the recheck due answers from the cached (unexpired)
 *	policy at once and queues the TXT recheck (and a fetch if the id
 *	changed) for a small pool of refresh_threads background threads,
 *	one job in flight or queued per domain. txt_recheck_interval = 0
 *	keeps the recheck in the lookup (every lookup looks at the TXT).
 *
 *	Proactive refresh (RFC 8461 section 3.3): domains whose policy
 *	was used in the last day are fetched again refresh_ahead before
 *	their max_age ends, by a scheduler thread that scans every
 *	refresh_tick_ms; a failed refresh of a domain is retried at most
 *	once per 5 minutes. route_create() starts the threads, and
 *	route_free() stops them and waits for a refresh in flight.
 *
 *	flags: ROUTE_FIRST returns as soon as one MX host passes (what the
 *	front ends want at RCPT time); the other probes finish in the
 *	pool within the budget of the check that started them, and their
 *	results go to the probe cache only. Nothing of the check is left
 *	behind: no thread is made per check. Without it every MX host
 *	is checked (what `stsfilter check` shows), always within the budget.
 *	ROUTE_CACHED: when the MX lookup fails for a transient reason
 *	(not DNSSEC-bogus data) and the domain has a valid cached policy,
 *	the verdict (still temporary) carries that policy, as if the
 *	lookup had found it (RFC 8461 section 5.1); for the socketmap,
 *	whose MTA resolves the MX itself, so that a DNS outage does not
 *	turn a cached enforce policy into TEMP.
 *	ROUTE_TLSRPT also looks up the TLS-RPT record (RFC 8460
 *	section 3) for every verdict, not only for failures (where it is
 *	always looked up, for the sender's reply).
 *
 *	route_answer() is route_check() for the front ends, at RCPT time:
 *	it fills the caller's ANSWER (answer.h) and, with ROUTE_SOCKETMAP,
 *	writes the socketmap reply (socketmap_reply()) into reply. A warm
 *	decision is one read of the domain's kept answer: no thread, no
 *	DNS, no parsing, no allocation. The answer is kept until the first
 *	of its inputs expires: the MX RRset TTL, the policy's next TXT
 *	recheck (txt_recheck_interval) and its max_age, each host's
 *	cached probe result and TLSA TTL, and the negative entry (so a
 *	txt_recheck_interval of 0 keeps no answer for a domain with a
 *	policy). A temporary verdict is never kept. An expired answer is
 *	served for up to 5 more minutes (answer->stale set) while one
 *	background rebuild of the domain runs on the refresh threads
 *	(stale-while-revalidate; RFC 8461 section 3.3 allows it for the
 *	policy); without refresh threads it is rebuilt in the lookup.
 *	A newly fetched policy drops the domain's answer at once. Answers
 *	live in the cache's L1 (cache.h), in this process only. Flags as
 *	for route_check(); answers made with other flags are not used.
 *	ROUTE_SOCKETMAP_TLSRPT (with ROUTE_SOCKETMAP) makes the reply with
 *	the TLS-RPT attributes (socketmap_reply_ext(), SOCKETMAP_WANT_TLSRPT):
 *	a different answer, kept in place of the plain one.
 *	Returns as route_check(): STATUS_OK, or STATUS_INVAL for an
 *	invalid domain.
 *
 *	On STATUS_OK *verdict is a new VERDICT the caller frees with
 *	verdict_free(). STATUS_INVAL means the domain itself is invalid (why
 *	says why); nothing else fails: every remote problem is in the
 *	verdict.
 */

#include "answer.h"
#include "cache.h"
#include "dns.h"
#include "fetch.h"
#include "probe.h"
#include "verdict.h"
#include "why.h"

#define ROUTE_TLSRPT	(1<<0)
#define ROUTE_FIRST	(1<<1)
#define ROUTE_CACHED	(1<<2)
#define ROUTE_SOCKETMAP	(1<<3)	/* route_answer(): with the socketmap reply */
#define ROUTE_SOCKETMAP_TLSRPT (1<<4)	/* route_answer(): reply with TLS-RPT attributes */

typedef struct ROUTE ROUTE;

typedef struct ROUTE_OPTS {
    DNS_OPTS dns;
    int     dns_timeout_ms;
    int     fetch_connect_timeout_ms;
    int     fetch_timeout_ms;
    int     probe_port;
    int     probe_connect_timeout_ms;
    int     probe_read_timeout_ms;
    int     probe_parallel;		/* hosts of one domain in the pool at once */
    int     probe_threads;		/* probe pool workers; 0: 8 */
    const char *helo_name;
    const char *ca_file;
    const char *ca_path;
    int     allow_private;
    int     cache_entries;		/* L1 entries; 0: 10000 (cache.opts too) */
    /* Cache (issue 4). All zero: an in-process cache only, no recheck interval. */
    CACHE_OPTS cache;			/* backend; memory_entries 0: cache_entries */
    long    txt_recheck_interval;	/* s between TXT lookups while a policy is cached */
    long    cache_negative_ttl;		/* s a "no policy" entry lives; 0: none kept */
    long    cache_success_ttl;		/* s a passed probe result lives; 0: not kept */
    long    cache_failure_ttl;		/* s a failed probe result lives; 0: not kept */
    int     cache_lock_ms;		/* cluster lock on a fetch or probe; 0: budget */
    int     refresh_threads;		/* background refresh pool; 0: 2, <0: none */
    int     refresh_tick_ms;		/* proactive refresh scan period; 0: 60000 */
    long    refresh_ahead;		/* s before max_age ends; 0: max_age/4, <= 1 day */
    long    new_domain_rate;		/* new domains checked a minute; 0: no limit */
    long    new_domain_burst;		/* at once; 0: 1 */
} ROUTE_OPTS;

extern int route_create(const ROUTE_OPTS *, ROUTE **, WHY *);
extern void route_free(ROUTE **);
extern int route_check(ROUTE *, const char *, int, int, VERDICT **, WHY *);
extern int route_answer(ROUTE *, const char *, int, int, ANSWER *, char *, size_t, WHY *);

#endif
