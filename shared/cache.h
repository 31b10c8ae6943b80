#ifndef CACHE_H_INCLUDED
#define CACHE_H_INCLUDED

/*
 * NAME
 *	cache 3h
 * SUMMARY
 *	policy cache (RFC 8461 section 5.1, trust on first use)
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	int	cache_create(int max_entries, CACHE **cache, WHY *why)
 *	void	cache_free(CACHE **cache)
 *
 *	int	cache_policy_get(CACHE *cache, const char *domain,
 *			CACHE_POLICY *out)
 *	int	cache_policy_put(CACHE *cache, const char *domain,
 *			const CACHE_POLICY *in)
 *	int	cache_policy_delete(CACHE *cache, const char *domain)
 *	void	cache_policy_clear(CACHE_POLICY *policy)
 * DESCRIPTION
 *	The engine's interface to cached MTA-STS policies. This version is
 *	the in-process backend only (a bounded, thread-safe hash table);
 *	the persistent backends (LMDB, Redis) plug in behind the same
 *	calls.
 *
 *	A cached policy is the raw policy body as fetched (parsed again on
 *	use, so every backend stores plain bytes), the TXT id it was
 *	fetched under, and when it was fetched. It is fresh while
 *	clock_now() < fetched + max_age (RFC 8461 section 3.2: max_age is
 *	the policy's lifetime in the cache; section 5.1: a fresh cached
 *	policy stays in force when a later TXT lookup or fetch fails).
 *
 *	cache_policy_get() copies a fresh entry into out (out->body is
 *	allocated; release it with cache_policy_clear()) and returns
 *	STATUS_OK, or STATUS_NOTFOUND when there is no fresh entry
 *	(expired entries are dropped). cache_policy_put() stores a copy,
 *	replacing any entry for the domain, and evicts the oldest entry
 *	when the table is full. Domains are normalized by the caller.
 */

#include <stddef.h>
#include <time.h>

#include "why.h"

typedef struct CACHE CACHE;

typedef struct CACHE_POLICY {
    char    txt_id[33];			/* RFC 8461 section 3.1 id */
    time_t  fetched;			/* clock_now() at the fetch */
    long    max_age;			/* seconds (RFC 8461 section 3.2) */
    char   *body;			/* policy text as fetched */
    size_t  len;
} CACHE_POLICY;

extern int cache_create(int, CACHE **, WHY *);
extern void cache_free(CACHE **);
extern int cache_policy_get(CACHE *, const char *, CACHE_POLICY *);
extern int cache_policy_put(CACHE *, const char *, const CACHE_POLICY *);
extern int cache_policy_delete(CACHE *, const char *);
extern void cache_policy_clear(CACHE_POLICY *);

#endif
